//! The quick switcher's directory (Ctrl/Cmd+K): who the viewer is and every channel and
//! conversation they may jump to, read once per opening of the switcher rather than on
//! every keystroke. The overlay names each opening (`qo`, set as it opens) and sends it
//! with each query. One directory is kept per credential (keyed by a hash of its token,
//! never the token itself), for its latest opening only and for a short while: a new
//! opening replaces it, expired entries are dropped as others are kept, and the
//! concurrent keystrokes of one opening share a single read. A directory with a list that
//! could not be read serves its query but is not kept. A query without an opening reads
//! the directory afresh.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use ajet_shared::api::wire::{ChannelListItem, Community, Me};
use ajet_shared::auth::hash_token;
use ajet_shared::client::{ApiClient, ClientError};
use tokio::sync::OnceCell;

/// How long one opening's directory is used (a switcher left open longer reads again).
const TTL: Duration = Duration::from_secs(120);

/// What the switcher matches against.
pub struct Directory {
    pub me: Me,
    /// Each community's channels, then (no community) the DMs.
    pub lists: Vec<(Option<Community>, Vec<ChannelListItem>)>,
}

impl Directory {
    /// Reads it with the viewer's token: `me`, each community's channels and the DMs. A
    /// list that cannot be read adds nothing, and makes the directory incomplete (`false`).
    async fn read(api: &ApiClient) -> Result<(Self, bool), ClientError> {
        let me = api.me().await?;
        let mut lists = Vec::new();
        let mut complete = true;
        for community in &me.communities {
            let channels = match api.list_channels(community.id).await {
                Ok(page) => page.data,
                Err(err) => {
                    tracing::debug!(community = %community.id, error = %err, "switcher: channels not read");
                    complete = false;
                    Vec::new()
                }
            };
            lists.push((Some(community.clone()), channels));
        }
        let dms = match api.list_dms().await {
            Ok(page) => page.data,
            Err(err) => {
                tracing::debug!(error = %err, "switcher: conversations not read");
                complete = false;
                Vec::new()
            }
        };
        lists.push((None, dms));
        Ok((Self { me, lists }, complete))
    }
}

/// Why a read is not kept: it failed, or it is incomplete (served once, then dropped).
enum NotKept<T, E> {
    Failed(E),
    Incomplete(Arc<T>),
}

/// One credential's latest opening: its number, when it was made, and its (shared) read.
struct Entry<T> {
    opening: u64,
    at: Instant,
    cell: Arc<OnceCell<Arc<T>>>,
}

/// Per credential (token hash), the latest opening's value, read once by whichever query
/// comes first while the others of that opening wait for it.
struct Kept<T>(Mutex<HashMap<[u8; 32], Entry<T>>>);

impl<T> Default for Kept<T> {
    fn default() -> Self {
        Self(Mutex::new(HashMap::new()))
    }
}

impl<T> Kept<T> {
    /// The value of `opening` for the credential hashed `key`: the kept one when it is
    /// that opening's and fresh, else `read`'s (kept when it is complete).
    async fn get<E, F>(&self, key: [u8; 32], opening: u64, now: Instant, read: F) -> Result<Arc<T>, E>
    where
        F: Future<Output = Result<(T, bool), E>>,
    {
        let cell = {
            let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            match map.get(&key) {
                Some(entry) if entry.opening == opening && now.saturating_duration_since(entry.at) < TTL => {
                    Arc::clone(&entry.cell)
                }
                _ => {
                    map.retain(|_, entry| now.saturating_duration_since(entry.at) < TTL);
                    let cell = Arc::new(OnceCell::new());
                    map.insert(key, Entry { opening, at: now, cell: Arc::clone(&cell) });
                    cell
                }
            }
        };
        let kept = cell
            .get_or_try_init(|| async {
                match read.await {
                    Ok((value, true)) => Ok(Arc::new(value)),
                    Ok((value, false)) => Err(NotKept::Incomplete(Arc::new(value))),
                    Err(err) => Err(NotKept::Failed(err)),
                }
            })
            .await;
        match kept {
            Ok(value) => Ok(Arc::clone(value)),
            Err(NotKept::Incomplete(value)) => Ok(value),
            Err(NotKept::Failed(err)) => Err(err),
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

/// The process's openings of the switcher; cheap to clone.
#[derive(Clone, Default)]
pub struct Openings(Arc<Kept<Directory>>);

impl Openings {
    /// The directory of the opening `opening` of credential `token`'s switcher: read once
    /// per opening (each query, without one).
    ///
    /// # Errors
    /// The api's answer when `me` cannot be read.
    pub async fn directory(
        &self,
        api: &ApiClient,
        token: &str,
        opening: Option<u64>,
    ) -> Result<Arc<Directory>, ClientError> {
        let Some(opening) = opening else { return Directory::read(api).await.map(|(read, _)| Arc::new(read)) };
        self.0.get(hash_token(token), opening, Instant::now(), Directory::read(api)).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// A read that counts itself, yields once (so concurrent callers overlap) and answers
    /// `value`, complete or not.
    async fn counted(reads: &AtomicUsize, value: u32, complete: bool) -> Result<(u32, bool), &'static str> {
        reads.fetch_add(1, Ordering::SeqCst);
        tokio::task::yield_now().await;
        Ok((value, complete))
    }

    #[tokio::test]
    async fn concurrent_keystrokes_of_one_opening_share_one_read() {
        let kept = Kept::<u32>::default();
        let reads = AtomicUsize::new(0);
        let now = Instant::now();
        let (a, b, c) = tokio::join!(
            kept.get([1; 32], 7, now, counted(&reads, 1, true)),
            kept.get([1; 32], 7, now, counted(&reads, 2, true)),
            kept.get([1; 32], 7, now, counted(&reads, 3, true)),
        );
        assert_eq!(reads.load(Ordering::SeqCst), 1);
        assert_eq!((*a.expect("read"), *b.expect("read"), *c.expect("read")), (1, 1, 1));
    }

    #[tokio::test]
    async fn a_new_opening_replaces_the_credentials_directory() {
        let kept = Kept::<u32>::default();
        let reads = AtomicUsize::new(0);
        let now = Instant::now();
        for opening in 0..50 {
            let value = kept.get([1; 32], opening, now, counted(&reads, 10, true)).await.expect("read");
            assert_eq!(*value, 10);
        }
        assert_eq!(reads.load(Ordering::SeqCst), 50);
        assert_eq!(kept.len(), 1);
        kept.get([2; 32], 0, now, counted(&reads, 20, true)).await.expect("read");
        assert_eq!(kept.len(), 2);
    }

    #[tokio::test]
    async fn expired_directories_are_dropped_when_another_is_kept() {
        let kept = Kept::<u32>::default();
        let reads = AtomicUsize::new(0);
        let now = Instant::now();
        kept.get([1; 32], 1, now, counted(&reads, 1, true)).await.expect("read");
        kept.get([2; 32], 1, now + TTL, counted(&reads, 2, true)).await.expect("read");
        assert_eq!(kept.len(), 1);
        let again = kept.get([1; 32], 1, now + TTL, counted(&reads, 3, true)).await.expect("read");
        assert_eq!(*again, 3);
    }

    #[tokio::test]
    async fn an_incomplete_or_failed_read_is_served_but_not_kept() {
        let kept = Kept::<u32>::default();
        let reads = AtomicUsize::new(0);
        let now = Instant::now();
        let partial = kept.get([1; 32], 1, now, counted(&reads, 1, false)).await.expect("read");
        assert_eq!(*partial, 1);
        let failed: Result<_, &str> = kept.get([1; 32], 1, now, async { Err("down") }).await;
        assert_eq!(failed.err(), Some("down"));
        let whole = kept.get([1; 32], 1, now, counted(&reads, 2, true)).await.expect("read");
        assert_eq!(*whole, 2);
        let kept_one = kept.get([1; 32], 1, now, counted(&reads, 3, true)).await.expect("read");
        assert_eq!(*kept_one, 2);
        assert_eq!(reads.load(Ordering::SeqCst), 2);
    }
}
