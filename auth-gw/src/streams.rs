//! The per-user cap on open event streams (`max_streams_per_user`): each stream through
//! the gateway holds a slot for as long as its response body lives, so the count drops
//! when the stream ends either way (the client goes away or the upstream ends it). A user
//! at the cap gets 429 `too_many_streams` instead of another stream. Kept in process:
//! several gateway instances each enforce their own cap. On shutdown a held stream ends at
//! once with a `retry:` hint, so the gateway exits without waiting for the services behind
//! it to end their streams.

use ajet_shared::api::ErrorCode;
use std::collections::HashMap;
use std::future::Future as _;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use ajet_shared::api::ApiError;
use ajet_shared::domain::ids::UserId;
use axum::http::StatusCode;
use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

/// Open streams per user.
pub struct StreamSlots {
    max: u32,
    open: Mutex<HashMap<UserId, u32>>,
}

/// One open stream of a user; dropping it frees the slot.
pub struct StreamSlot {
    slots: Arc<StreamSlots>,
    user: UserId,
}

impl StreamSlots {
    pub fn new(max: u32) -> Self {
        Self { max: max.max(1), open: Mutex::new(HashMap::new()) }
    }

    /// A slot for another stream of `user`, or the 429 when they hold `max` already.
    pub fn acquire(self: &Arc<Self>, user: UserId) -> Result<StreamSlot, ApiError> {
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
        Ok(StreamSlot { slots: Arc::clone(self), user })
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
    /// The shutdown hint went out: the body is over.
    ended: bool,
}

impl<B> HeldBody<B> {
    pub fn new(inner: B, slot: StreamSlot, shutdown: CancellationToken) -> Self {
        Self { inner, _slot: slot, shutdown: Box::pin(shutdown.cancelled_owned()), ended: false }
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
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.ended || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        if self.ended { SizeHint::with_exact(0) } else { self.inner.size_hint() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_holds_at_most_max_slots_and_a_dropped_slot_is_free_again() {
        let slots = Arc::new(StreamSlots::new(2));
        let alice = UserId::generate();
        let first = slots.acquire(alice).expect("first");
        let _second = slots.acquire(alice).expect("second");
        let refused = slots.acquire(alice).err().expect("third is refused");
        assert_eq!((refused.status, refused.code), (StatusCode::TOO_MANY_REQUESTS, ErrorCode::TooManyStreams));
        assert!(slots.acquire(UserId::generate()).is_ok(), "another user has slots of their own");
        drop(first);
        assert_eq!(slots.open(alice), 1);
        assert!(slots.acquire(alice).is_ok());
    }
}
