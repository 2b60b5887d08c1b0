//! What every tab of this web-sm process shares about one event: a fragment rendered once
//! per event and audience, and a re-read done once per event (issue 18 §7).
//!
//! Every tab of a channel gets each of its events and turns it into Datastar patches. What
//! is the same for many viewers is made once here and handed to each of them:
//!
//! - **Re-reads** (`read`): what an event cannot say by itself (a message's reaction counts
//!   and thread summary after a reaction, a pin or a reply's deletion; the pins list) is read
//!   from the api once per (what, event position), with the token of the first tab that
//!   asks — the stream core has already checked that every tab the event reached may see
//!   it. Tabs asking meanwhile wait for that read; a failed read (that viewer lost access
//!   in between) is not kept, so the next tab reads with its own token. The one field of a
//!   read that is the reader's own, `reacted_by_me`, is never used from a shared read: each
//!   tab knows which reactions are its viewer's (`routes::stream`'s `mine`) and, where it
//!   does not, reads the message with its own token (`read_own`), once for all that
//!   viewer's tabs — a read kept here per viewer, which then also serves the other tabs as
//!   the event's shared read (they never use its `reacted_by_me`).
//! - **Renders** (`render`): a message item, the thread panel's root copy and the pins bar,
//!   keyed by what they were made from (the event's payload or a re-read, by event
//!   position) and by everything that differs between viewers — whether the message is the
//!   viewer's own (edit and delete) and which of its reactions are theirs ("you
//!   reacted"); and the small fragments keyed by all they show — a root's thread summary,
//!   a sidebar entry (counts as shown, current or not, starred, muted, the DM partner).
//!   Tabs whose viewers see the same HTML share one render (the `Arc<str>`); no viewer's
//!   state can reach another's page, since it is part of the key. Constant strings
//!   cheaper to render than this cache's lock — a deleted message's tombstone, the thread
//!   panel's reply count — are rendered by each tab and never enter it (a purge's
//!   thousand tombstones would otherwise push every message render out).
//!
//! Both are small and short-lived: at most `CAPACITY` entries each, the oldest out first,
//! and none older than `TTL` is used. A late tab (a reconnect replaying old events) may
//! get an entry read when the event was new; the later events it replays bring later
//! reads, so it ends where the others are. `web_sm_renders_total` (by `fragment`: the
//! cached renders, plus a tab's own render of a message read with its own token),
//! `web_sm_shared_reads_total` and `web_sm_own_reads_total` (`read_own`'s reads with a
//! viewer's token) count the work actually done (tests read them).

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use ajet_shared::api::wire::Message;
use ajet_shared::domain::ids::{ChannelId, MessageId, UserId};
use ajet_shared::events::StreamPosition;
use time::OffsetDateTime;
use tokio::sync::OnceCell;

/// Entries kept of each kind: a few seconds of a busy process's events.
const CAPACITY: usize = 512;

/// Entries older than this are made again.
const TTL: Duration = Duration::from_secs(60);

/// What a tab re-reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Job {
    /// A message, shared by every tab (its `reacted_by_me` is not used).
    Message(MessageId),
    /// A message as this tab's viewer sees it ("you reacted" included): for a tab that
    /// does not know which of its reactions are the viewer's. Read through `read_own`,
    /// never `read`.
    OwnMessage(MessageId),
    /// A channel's pins.
    Pins(ChannelId),
}

/// What a shared read brought.
#[derive(Clone)]
pub enum Read {
    /// A message, and whose token read it (its `reacted_by_me` is that user's).
    Message(Arc<Message>, UserId),
    Pins(Arc<Vec<Message>>),
}

/// What a fragment was made from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Version {
    /// The payload of the event at this position.
    Event(StreamPosition),
    /// The shared re-read asked for by the event at this position.
    Read(StreamPosition),
}

/// A fragment and everything its HTML depends on.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RenderKey {
    /// A message's list item: `own` shows edit and delete, `mine` (sorted) are the
    /// reactions marked as the viewer's.
    Item { id: MessageId, version: Version, own: bool, mine: Vec<String> },
    /// The thread panel's copy of a root (the same for everyone).
    ThreadRoot { id: MessageId, version: Version },
    /// A channel's pins bar (the same for everyone).
    Pins { channel: ChannelId, version: Version },
    /// A root's thread summary under it in the list, by what it says.
    ThreadSummary { root: MessageId, reply_count: i32, last_reply_at: Option<OffsetDateTime> },
    /// A sidebar entry, by everything it shows: viewers whose entry for a channel says the
    /// same (its label and link, whether it is the page's channel, the DM partner whose
    /// presence it shows, the counts as shown, starred and muted) share it.
    Entry(EntryKey),
}

/// Everything a sidebar entry's HTML depends on (`views::channel_entry`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EntryKey {
    pub channel: ChannelId,
    pub label: String,
    pub href: String,
    pub current: bool,
    pub partner: Option<UserId>,
    pub unread: i64,
    pub mentions: i64,
    pub starred: bool,
    pub muted: bool,
}

impl RenderKey {
    fn fragment(&self) -> &'static str {
        match self {
            Self::Item { .. } => "message",
            Self::ThreadRoot { .. } => "thread_root",
            Self::Pins { .. } => "pins",
            Self::ThreadSummary { .. } => "thread_summary",
            Self::Entry(_) => "entry",
        }
    }
}

/// A map of at most `CAPACITY` entries, the oldest out first.
struct Bounded<K, V> {
    entries: Mutex<Entries<K, V>>,
}

/// The entries with when each was made, and their keys oldest first.
type Entries<K, V> = (HashMap<K, (Instant, V)>, VecDeque<K>);

/// What was read, as of which event, and for whom (none: every tab).
type ReadKey = (Job, StreamPosition, Option<UserId>);

/// A shared read: who asks first reads, the others wait for it.
type SharedRead = Arc<OnceCell<Read>>;

impl<K: Clone + Eq + Hash, V: Clone> Bounded<K, V> {
    fn new() -> Self {
        Self { entries: Mutex::new((HashMap::new(), VecDeque::new())) }
    }

    /// The value at `key`, made by `make` if there is none or it is too old.
    fn get_or_insert_with(&self, key: K, make: impl FnOnce() -> V) -> V {
        let mut guard = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let (map, order) = &mut *guard;
        if let Some((at, value)) = map.get(&key)
            && at.elapsed() < TTL
        {
            return value.clone();
        }
        let value = make();
        if map.insert(key.clone(), (Instant::now(), value.clone())).is_none() {
            order.push_back(key);
        }
        while map.len() > CAPACITY {
            let Some(oldest) = order.pop_front() else { break };
            map.remove(&oldest);
        }
        value
    }
}

/// The process's shared reads and renders (cheap to clone: one per process, in
/// `WebState`).
#[derive(Clone)]
pub struct Fanout {
    /// Keyed by what, as of which event, and for whom (none: for every tab; a viewer: that
    /// viewer's own read, shared by their tabs only).
    reads: Arc<Bounded<ReadKey, SharedRead>>,
    renders: Arc<Bounded<RenderKey, Arc<OnceLock<Arc<str>>>>>,
}

impl Default for Fanout {
    fn default() -> Self {
        Self { reads: Arc::new(Bounded::new()), renders: Arc::new(Bounded::new()) }
    }
}

impl Fanout {
    /// The result of `job` as of the event at `at`: read once (by `read`, the asking
    /// tab's read) for every tab that asks; a failure is not kept. (A `Job::OwnMessage`
    /// goes through `read_own` instead.)
    ///
    /// # Errors
    /// The api's answer to the read, when it was this caller's read that failed.
    pub async fn read<F, Fut, E>(&self, job: Job, at: StreamPosition, read: F) -> Result<Read, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Read, E>>,
    {
        let cell = self.reads.get_or_insert_with((job, at, None), || Arc::new(OnceCell::new()));
        cell.get_or_try_init(|| {
            metrics::counter!("web_sm_shared_reads_total").increment(1);
            read()
        })
        .await
        .cloned()
    }

    /// Message `id` as `viewer` sees it ("you reacted" included) as of the event at `at`,
    /// for a tab that does not know which of its reactions are the viewer's: the shared
    /// read of that event when the viewer's own token made it (another tab of theirs asked
    /// first), else a read with the viewer's token (`read`) — which then serves as the
    /// event's shared read for the tabs that ask after it (they never use its
    /// `reacted_by_me`). A shared read by another viewer is never taken for this.
    ///
    /// # Errors
    /// The api's answer to the read.
    pub async fn read_own<F, Fut, E>(
        &self,
        id: MessageId,
        at: StreamPosition,
        viewer: UserId,
        read: F,
    ) -> Result<Read, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Message, E>>,
    {
        let shared = self.reads.get_or_insert_with((Job::Message(id), at, None), || Arc::new(OnceCell::new()));
        let own = self.reads.get_or_insert_with((Job::Message(id), at, Some(viewer)), || Arc::new(OnceCell::new()));
        // The viewer's tabs asking at once wait for one read.
        own.get_or_try_init(|| async {
            if let Some(Read::Message(found, reader)) = shared.get()
                && *reader == viewer
            {
                return Ok(Read::Message(Arc::clone(found), viewer));
            }
            metrics::counter!("web_sm_own_reads_total").increment(1);
            let found = Arc::new(read().await?);
            // Serves the other tabs as the event's shared read, if none was made.
            let _ = shared.set(Read::Message(Arc::clone(&found), viewer));
            Ok(Read::Message(found, viewer))
        })
        .await
        .cloned()
    }

    /// The HTML for `key`, rendered once (by `render`) for every tab that asks.
    pub fn render(&self, key: RenderKey, render: impl FnOnce() -> String) -> Arc<str> {
        let fragment = key.fragment();
        let cell = self.renders.get_or_insert_with(key, || Arc::new(OnceLock::new()));
        Arc::clone(cell.get_or_init(|| {
            metrics::counter!("web_sm_renders_total", "fragment" => fragment).increment(1);
            Arc::from(render())
        }))
    }
}

/// Counts a render that is not shared (a tab's own read), so the counter holds all of
/// them.
pub fn count_unshared_render() {
    metrics::counter!("web_sm_renders_total", "fragment" => "message").increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seq: u64) -> StreamPosition {
        StreamPosition { epoch: 1, seq }
    }

    #[test]
    fn a_key_is_rendered_once_and_a_different_audience_gets_its_own_render() {
        let fanout = Fanout::default();
        let id = MessageId(uuid::Uuid::nil());
        let key = |own: bool, mine: &[&str]| RenderKey::Item {
            id,
            version: Version::Event(at(7)),
            own,
            mine: mine.iter().map(|s| (*s).to_owned()).collect(),
        };
        let mut renders = 0;
        let first = fanout.render(key(false, &[]), || {
            renders += 1;
            "others".to_owned()
        });
        let again = fanout.render(key(false, &[]), || unreachable!("rendered once"));
        assert!(Arc::ptr_eq(&first, &again), "the same HTML is handed out");
        let own = fanout.render(key(true, &[]), || {
            renders += 1;
            "author".to_owned()
        });
        let reacted = fanout.render(key(false, &["🎉"]), || {
            renders += 1;
            "reacted".to_owned()
        });
        assert_eq!((&*first, &*own, &*reacted, renders), ("others", "author", "reacted", 3));
    }

    #[tokio::test]
    async fn a_read_is_done_once_per_event_and_a_failed_one_is_tried_again() {
        let fanout = Fanout::default();
        let channel = ChannelId(uuid::Uuid::nil());
        let failed = fanout.read(Job::Pins(channel), at(1), || async { Err("refused") }).await;
        assert!(failed.is_err());
        let read =
            fanout.read(Job::Pins(channel), at(1), || async { Ok::<_, &str>(Read::Pins(Arc::new(Vec::new()))) }).await;
        assert!(matches!(read, Ok(Read::Pins(pins)) if pins.is_empty()), "the next tab reads");
        let shared = fanout.read(Job::Pins(channel), at(1), || async { Err::<Read, _>("read once") }).await;
        assert!(shared.is_ok());
        let next = fanout.read(Job::Pins(channel), at(2), || async { Err("later") }).await;
        assert!(next.is_err(), "another event is another read");
    }

    fn message(id: MessageId) -> Message {
        serde_json::from_value(serde_json::json!({
            "id": id, "channel_id": ChannelId(uuid::Uuid::nil()), "channel_seq": 1,
            "author": { "user_id": null, "username": null, "display_name": "alice", "avatar_url": null },
            "body_md": "hi", "parent_id": null, "client_msg_id": null, "created_at": "2026-01-01T00:00:00Z",
            "edited_at": null, "deleted_at": null, "reply_count": 0, "last_reply_at": null,
            "pinned_at": null, "pinned_by": null, "reactions": [],
        }))
        .expect("a message")
    }

    #[tokio::test]
    async fn an_own_read_serves_the_viewers_tabs_and_the_shared_read_but_another_viewer_reads_their_own() {
        let fanout = Fanout::default();
        let id = MessageId(uuid::Uuid::now_v7());
        let (bob, carol) = (UserId(uuid::Uuid::now_v7()), UserId(uuid::Uuid::now_v7()));
        let reads = std::sync::atomic::AtomicUsize::new(0);
        let read = || async {
            reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok::<_, &str>(message(id))
        };
        assert!(fanout.read_own(id, at(1), bob, read).await.is_ok());
        assert!(fanout.read_own(id, at(1), bob, read).await.is_ok(), "bob's other tab");
        let shared = fanout.read(Job::Message(id), at(1), || async { Err::<Read, _>("not read again") }).await;
        assert!(matches!(shared, Ok(Read::Message(_, reader)) if reader == bob), "bob's read is the shared one");
        assert!(fanout.read_own(id, at(1), carol, read).await.is_ok(), "carol never takes bob's");
        assert_eq!(reads.load(std::sync::atomic::Ordering::SeqCst), 2);
        // A shared read by carol's token serves carol's own.
        let later = fanout
            .read(Job::Message(id), at(2), || async { Ok::<_, &str>(Read::Message(Arc::new(message(id)), carol)) })
            .await;
        assert!(later.is_ok());
        assert!(fanout.read_own(id, at(2), carol, read).await.is_ok());
        assert!(fanout.read_own(id, at(2), bob, read).await.is_ok());
        assert_eq!(reads.load(std::sync::atomic::Ordering::SeqCst), 3, "only bob read at 2");
    }

    #[test]
    fn the_oldest_entries_go_first_beyond_the_capacity() {
        let bounded = Bounded::new();
        for n in 0..=CAPACITY {
            bounded.get_or_insert_with(n, || n);
        }
        assert_eq!(bounded.get_or_insert_with(CAPACITY, || 0), CAPACITY, "the newest is kept");
        assert_eq!(bounded.get_or_insert_with(0, || 42), 42, "the oldest was dropped");
    }
}
