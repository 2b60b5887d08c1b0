//! The per-user cap on open event streams (`max_streams_per_user`): each stream through
//! the gateway holds a slot for as long as its response body lives, so the count drops
//! when the stream ends either way (the client goes away or the upstream ends it). A user
//! at the cap gets 429 `too_many_streams` instead of another stream. Kept in process:
//! several gateway instances each enforce their own cap. The credentials behind the open
//! streams are re-checked together every `sse_auth_recheck_secs` (`revalidate`, one
//! statement per period however many streams are open), and a revoked or expired one's
//! streams end, so revocation reaches streams within 5 s even if its event is lost. On shutdown a held stream ends at
//! once with a `retry:` hint, so the gateway exits without waiting for the services behind
//! it to end their streams.

use ajet_shared::api::ErrorCode;
use std::collections::HashMap;
use std::future::Future as _;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use ajet_shared::api::ApiError;
use ajet_shared::db;
use ajet_shared::domain::ids::UserId;
use axum::http::StatusCode;
use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};

use crate::state::GatewayState;
use tokio::sync::OwnedSemaphorePermit;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

/// Open streams per user, and per credential (so a revoked one's streams can be ended).
pub struct StreamSlots {
    max: u32,
    open: Mutex<HashMap<UserId, u32>>,
    credentials: Mutex<HashMap<[u8; 32], (u32, CancellationToken)>>,
}

/// One open stream of a user; dropping it frees the slot.
pub struct StreamSlot {
    slots: Arc<StreamSlots>,
    user: UserId,
    token_hash: [u8; 32],
    /// Cancelled when the stream's credential is found revoked or expired.
    revoked: CancellationToken,
    /// The stream's place under `gateway_max_streams`, freed with the slot.
    _permit: Option<OwnedSemaphorePermit>,
}

impl StreamSlot {
    /// The slot, also holding `permit` (one of the gateway's open-stream permits) until
    /// the stream ends.
    #[must_use]
    pub fn holding(mut self, permit: OwnedSemaphorePermit) -> Self {
        self._permit = Some(permit);
        self
    }
}

impl StreamSlots {
    pub fn new(max: u32) -> Self {
        Self { max: max.max(1), open: Mutex::new(HashMap::new()), credentials: Mutex::new(HashMap::new()) }
    }

    /// The credentials (token hashes) behind the open streams.
    pub fn open_credentials(&self) -> Vec<[u8; 32]> {
        self.credentials.lock().unwrap_or_else(std::sync::PoisonError::into_inner).keys().copied().collect()
    }

    /// Ends every open stream of credential `token_hash`.
    pub fn end_credential(&self, token_hash: &[u8; 32]) {
        let credentials = self.credentials.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, revoked)) = credentials.get(token_hash) {
            revoked.cancel();
        }
    }

    /// A slot for another stream of `user` with the credential `token_hash`, or the 429
    /// when they hold `max` already.
    pub fn acquire(self: &Arc<Self>, user: UserId, token_hash: [u8; 32]) -> Result<StreamSlot, ApiError> {
        // Each operation leaves the map consistent, so a poisoned lock holds good data.
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = open.entry(user).or_insert(0);
        if *count >= self.max {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::TooManyStreams,
                format!("you have {} event streams open, the most allowed; close one first", self.max),
            )
            .with_retry_after(1));
        }
        *count += 1;
        drop(open);
        let mut credentials = self.credentials.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (streams, revoked) = credentials.entry(token_hash).or_insert_with(|| (0, CancellationToken::new()));
        *streams += 1;
        let revoked = revoked.clone();
        Ok(StreamSlot { slots: Arc::clone(self), user, token_hash, revoked, _permit: None })
    }

    #[cfg(test)]
    fn open(&self, user: UserId) -> u32 {
        self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&user).copied().unwrap_or(0)
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.slots.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.user) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.user);
            }
        }
        drop(open);
        let mut credentials = self.slots.credentials.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((streams, _)) = credentials.get_mut(&self.token_hash) {
            *streams = streams.saturating_sub(1);
            if *streams == 0 {
                credentials.remove(&self.token_hash);
            }
        }
    }
}

/// Sent as a proxied stream ends for the gateway's shutdown: reconnect after a second.
const RESTARTING: &[u8] = b": gateway restarting\nretry: 1000\n\n";

/// A response body that holds a stream slot until it is dropped, and ends (after a
/// `retry:` hint) when the gateway shuts down.
pub struct HeldBody<B> {
    inner: B,
    _slot: StreamSlot,
    shutdown: Pin<Box<WaitForCancellationFutureOwned>>,
    revoked: Pin<Box<WaitForCancellationFutureOwned>>,
    /// The shutdown hint went out: the body is over.
    ended: bool,
}

impl<B> HeldBody<B> {
    pub fn new(inner: B, slot: StreamSlot, shutdown: CancellationToken) -> Self {
        let revoked = Box::pin(slot.revoked.clone().cancelled_owned());
        Self { inner, _slot: slot, shutdown: Box::pin(shutdown.cancelled_owned()), revoked, ended: false }
    }
}

impl<B: Body<Data = Bytes> + Unpin> Body for HeldBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        if self.ended {
            return Poll::Ready(None);
        }
        if self.shutdown.as_mut().poll(cx).is_ready() {
            self.ended = true;
            return Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(RESTARTING)))));
        }
        // A revoked credential's stream just ends; its reconnect learns why.
        if self.revoked.as_mut().poll(cx).is_ready() {
            self.ended = true;
            return Poll::Ready(None);
        }
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.ended || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        if self.ended { SizeHint::with_exact(0) } else { self.inner.size_hint() }
    }
}

/// Re-checks the credentials behind the open streams every `every` until `shutdown`,
/// ending the streams of those no longer valid (and forgetting them in the token cache).
pub async fn revalidate(state: GatewayState, every: Duration, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
        let open = state.streams.open_credentials();
        if open.is_empty() {
            continue;
        }
        match db::auth::still_valid(&state.pool, &open, state.config.session_lifetime()).await {
            Ok(valid) => {
                for token_hash in open.iter().filter(|hash| !valid.contains(hash)) {
                    state.auth_cache.remove(token_hash);
                    state.streams.end_credential(token_hash);
                }
            }
            // The next round decides; the api's own checks still apply meanwhile.
            Err(err) => tracing::warn!(error = %err, "cannot re-check the credentials of open streams"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_holds_at_most_max_slots_and_a_dropped_slot_is_free_again() {
        let slots = Arc::new(StreamSlots::new(2));
        let alice = UserId::generate();
        let first = slots.acquire(alice, [1; 32]).expect("first");
        let _second = slots.acquire(alice, [1; 32]).expect("second");
        let refused = slots.acquire(alice, [1; 32]).err().expect("third is refused");
        assert_eq!((refused.status, refused.code), (StatusCode::TOO_MANY_REQUESTS, ErrorCode::TooManyStreams));
        assert!(slots.acquire(UserId::generate(), [2; 32]).is_ok(), "another user has slots of their own");
        drop(first);
        assert_eq!(slots.open(alice), 1);
        assert!(slots.acquire(alice, [1; 32]).is_ok());
    }

    #[test]
    fn the_streams_of_one_credential_end_together_and_a_credential_is_forgotten_with_its_last_stream() {
        let slots = Arc::new(StreamSlots::new(5));
        let alice = UserId::generate();
        let first = slots.acquire(alice, [1; 32]).expect("first");
        let second = slots.acquire(alice, [1; 32]).expect("second");
        let other = slots.acquire(alice, [2; 32]).expect("another credential");
        let mut open = slots.open_credentials();
        open.sort_unstable();
        assert_eq!(open, vec![[1; 32], [2; 32]]);
        slots.end_credential(&[1; 32]);
        assert!(first.revoked.is_cancelled() && second.revoked.is_cancelled());
        assert!(!other.revoked.is_cancelled(), "another credential's streams go on");
        drop((first, second));
        assert_eq!(slots.open_credentials(), vec![[2; 32]]);
    }
}
