//! Access re-checks batched per credential per process: every open stream of one token
//! shares one periodic check (and one immediate check when an access event asks for it),
//! so N streams of a user cost what one does. A check's task lives while any stream
//! holds its feed. The periodic checks of credentials opened together are spread over
//! half a period (`first_wait`).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::api::wire::User;
use crate::domain::ids::ChannelId;
use crate::stream::session::Visible;

/// How long one check may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// The wait before a credential's first periodic check: a random point of the period's
/// second half (its stream has just read its access), so thousands of streams opened
/// together spread their checks instead of sending them all at once, every period.
fn first_wait(every: Duration) -> Duration {
    use rand::Rng as _;
    every.mul_f64(rand::rng().random_range(0.5..=1.0))
}

/// How soon a check that found nothing is retried.
const UNCONFIRMED_RETRY: Duration = Duration::from_secs(1);

/// What a check of a credential's access found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Access {
    /// What the user may see now.
    Allowed(Visible),
    /// The token is refused (revoked, expired, its user gone): its streams end.
    Refused,
    /// The check failed or was slow: the next one decides.
    Unknown,
}

/// A check's result and when the check started: a result is only as new as its start,
/// so a stream that narrowed itself after that moment must not apply it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    pub access: Access,
    pub started: Instant,
}

/// Where the core learns what a credential may see now.
pub trait AccessCheck: Send + Sync + 'static {
    fn check(&self) -> impl Future<Output = Access> + Send;
}

#[cfg(feature = "client")]
impl AccessCheck for crate::client::ApiClient {
    /// `GET /api/me` with the connection's token.
    async fn check(&self) -> Access {
        match self.me().await {
            Ok(me) => Access::Allowed(Visible::of(&me)),
            Err(err) if err.status() == Some(http::StatusCode::UNAUTHORIZED) => Access::Refused,
            Err(_) => Access::Unknown,
        }
    }
}

/// One credential's shared check.
struct Shared {
    /// Whose credential it is.
    user: User,
    results: watch::Sender<Option<Checked>>,
    wake: Notify,
    /// The channel the credential's client says it shows (`POST /tui/focus`), if any.
    focus: Mutex<Option<ChannelId>>,
}

/// The process's batched access checks, keyed by credential; cheap to clone.
#[derive(Clone)]
pub struct AccessChecks {
    checks: Arc<Mutex<HashMap<String, Arc<Shared>>>>,
    every: Duration,
    shutdown: CancellationToken,
}

/// A stream's view of its credential's check: each result as it comes, and a way to ask
/// for one at once.
pub struct AccessFeed {
    shared: Arc<Shared>,
    pub results: watch::Receiver<Option<Checked>>,
}

impl AccessFeed {
    /// Asks for a check now (an access event arrived); every stream of the credential
    /// gets its result.
    pub fn check_now(&self) {
        self.shared.wake.notify_one();
    }

    /// The channel the credential's client shows, if it said.
    #[must_use]
    pub fn focus(&self) -> Option<ChannelId> {
        *self.shared.focus.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl AccessChecks {
    /// Checks every `every` until `shutdown`.
    #[must_use]
    pub fn new(every: Duration, shutdown: CancellationToken) -> Self {
        Self { checks: Arc::default(), every, shutdown }
    }

    /// The shared check of credential `key` (of `user`), started with `access` if no
    /// stream holds it.
    pub fn feed<A: AccessCheck>(&self, key: &str, user: User, access: A) -> AccessFeed {
        let mut checks = self.checks.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(shared) = checks.get(key) {
            return AccessFeed { shared: Arc::clone(shared), results: shared.results.subscribe() };
        }
        let (results, receiver) = watch::channel(None);
        let shared = Arc::new(Shared { user, results, wake: Notify::new(), focus: Mutex::new(None) });
        checks.insert(key.to_owned(), Arc::clone(&shared));
        tokio::spawn(self.clone().run(key.to_owned(), Arc::clone(&shared), access));
        AccessFeed { shared, results: receiver }
    }

    /// The user of credential `key` if a stream of it is open here and its last check did
    /// not refuse it.
    #[must_use]
    pub fn user_of(&self, key: &str) -> Option<User> {
        let checks = self.checks.lock().unwrap_or_else(PoisonError::into_inner);
        let shared = checks.get(key)?;
        let refused = matches!(&*shared.results.borrow(), Some(Checked { access: Access::Refused, .. }));
        (!refused && shared.results.receiver_count() > 0).then(|| shared.user.clone())
    }

    /// Notes the channel credential `key`'s client shows; false if no stream of it is open.
    pub fn set_focus(&self, key: &str, channel: Option<ChannelId>) -> bool {
        let checks = self.checks.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(shared) = checks.get(key) else { return false };
        *shared.focus.lock().unwrap_or_else(PoisonError::into_inner) = channel;
        true
    }

    /// The credential's loop: waits for the period or a wake-up, checks, publishes; ends
    /// (and forgets the credential) once no stream holds its feed.
    async fn run<A: AccessCheck>(self, key: String, shared: Arc<Shared>, access: A) {
        let mut wait = first_wait(self.every);
        loop {
            tokio::select! {
                () = self.shutdown.cancelled() => break,
                () = tokio::time::sleep(wait) => {}
                () = shared.wake.notified() => {}
            }
            {
                let mut checks = self.checks.lock().unwrap_or_else(PoisonError::into_inner);
                if shared.results.receiver_count() == 0 {
                    checks.remove(&key);
                    return;
                }
            }
            metrics::counter!("sse_access_checks_total").increment(1);
            let started = Instant::now();
            let found =
                tokio::time::timeout(CHECK_TIMEOUT.min(self.every), access.check()).await.unwrap_or(Access::Unknown);
            // Short while unconfirmed: the streams end if access stays unknown for 5 s.
            wait = if found == Access::Unknown { UNCONFIRMED_RETRY.min(self.every) } else { self.every };
            shared.results.send_replace(Some(Checked { access: found, started }));
        }
        self.checks.lock().unwrap_or_else(PoisonError::into_inner).remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_checks_fall_in_the_second_half_of_the_period_and_are_spread_over_it() {
        let every = Duration::from_secs(1200);
        let waits: Vec<Duration> = (0..200).map(|_| first_wait(every)).collect();
        assert!(waits.iter().all(|wait| *wait >= every / 2 && *wait <= every), "{waits:?}");
        let earliest = waits.iter().min().copied().unwrap_or_default();
        let latest = waits.iter().max().copied().unwrap_or_default();
        assert!(latest - earliest > every / 4, "200 first checks spread over more than a quarter period: {waits:?}");
    }
}
