//! The in-process hub: one JetStream ordered consumer per process reads every persisted
//! event and fans it out to the connections registered for its subject, each through
//! one bounded queue. Each event is parsed once and shared (`Arc<HubEvent>`) by every
//! connection it reaches, and so is its SSE frame, built the first time one is asked for. A connection whose queue is full is dropped from the hub entirely
//! (its stream ends and the client resumes with `Last-Event-ID`), so persisted events are
//! never lost silently and a slow client cannot hold up the others.
//!
//! *Invariant:* the hub hands out each stream sequence at most once, in increasing order;
//! if the stream was recreated or lost its tail, every connection is closed so clients
//! resume (and get `resync`) instead of silently missing events.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt as _;
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::domain::ids::{ChannelId, CommunityId, MessageId, UserId};
use crate::events::bus::{Delivered, EventBus};
use crate::events::subject;
use crate::events::{MessageRevision, StreamPosition};
use crate::stream::ephemeral::{PresenceDiff, Typing};

/// A persisted event ready to be handed to clients.
#[derive(Debug)]
pub struct HubEvent {
    /// The stream's epoch when it was read (with `seq`, the client's resume position).
    pub epoch: u64,
    pub seq: u64,
    /// The subject it travelled on (what a connection must be allowed to see).
    pub subject: String,
    pub event_type: String,
    /// The community it is about, if any (the envelope's `community_id`).
    pub community_id: Option<CommunityId>,
    /// The channel it is about, if any (the envelope's `channel_id`).
    pub channel_id: Option<ChannelId>,
    /// Who caused it (the envelope's `actor_id`).
    pub actor_id: Option<UserId>,
    /// For `member.*` events: whose membership changed.
    pub member: Option<UserId>,
    /// What it says about messages' text (the relay keeps superseded text out of the
    /// stream; the hub's memory of recent events does the same): one message's for a
    /// message event, every purged one's for `messages.purged`.
    pub revisions: Vec<MessageRevision>,
    /// The JSON envelope.
    pub data: Arc<str>,
    /// The SSE frame, built once for every connection.
    frame: OnceLock<Bytes>,
}

impl HubEvent {
    /// Parses a delivered envelope; `None` if it is not one.
    #[must_use]
    pub fn from_delivered(delivered: &Delivered, epoch: u64) -> Option<Self> {
        let data = std::str::from_utf8(&delivered.payload).ok()?;
        Self::parse(epoch, delivered.seq, delivered.subject.clone(), data)
    }

    /// Parses the envelope `data` read at `seq`; `None` if it is not one.
    #[must_use]
    pub fn parse(epoch: u64, seq: u64, subject: String, data: &str) -> Option<Self> {
        #[derive(Deserialize)]
        struct Head {
            #[serde(rename = "type")]
            event_type: String,
            #[serde(default)]
            community_id: Option<CommunityId>,
            #[serde(default)]
            channel_id: Option<ChannelId>,
            #[serde(default)]
            actor_id: Option<UserId>,
            #[serde(default)]
            data: serde_json::Value,
        }
        let head: Head = serde_json::from_str(data).ok()?;
        let member = if head.event_type.starts_with("member.") {
            head.data.pointer("/user/id").and_then(|id| UserId::deserialize(id).ok())
        } else {
            None
        };
        let message = || head.data.get("id").and_then(|id| MessageId::deserialize(id).ok());
        let revisions: Vec<MessageRevision> = match head.event_type.as_str() {
            "message.created" | "message.updated" => message().map(MessageRevision::Current).into_iter().collect(),
            "message.deleted" => message().map(MessageRevision::Deleted).into_iter().collect(),
            "messages.purged" => head
                .data
                .get("ids")
                .and_then(|ids| Vec::<MessageId>::deserialize(ids).ok())
                .unwrap_or_default()
                .into_iter()
                .map(MessageRevision::Deleted)
                .collect(),
            _ => Vec::new(),
        };
        Some(Self {
            epoch,
            seq,
            subject,
            event_type: head.event_type,
            community_id: head.community_id,
            channel_id: head.channel_id,
            actor_id: head.actor_id,
            member,
            revisions,
            data: data.into(),
            frame: OnceLock::new(),
        })
    }

    /// The resume position a client is given for this event.
    #[must_use]
    pub fn position(&self) -> StreamPosition {
        StreamPosition { epoch: self.epoch, seq: self.seq }
    }

    /// `id: <epoch>.<seq>`, `event: <type>`, `data: <envelope>`: built on the first call and
    /// shared (a cheap `Bytes` clone) by every connection after that.
    pub fn sse_frame(&self) -> Bytes {
        self.frame
            .get_or_init(|| {
                let mut frame = format!("id: {}\nevent: {}\n", self.position(), self.event_type);
                for line in self.data.lines() {
                    frame.push_str("data: ");
                    frame.push_str(line);
                    frame.push('\n');
                }
                frame.push('\n');
                Bytes::from(frame)
            })
            .clone()
    }
}

type ConnectionId = u64;

/// What a connection's queue carries.
#[derive(Debug)]
pub enum Queued {
    /// A persisted event of one of its subjects.
    Event(Arc<HubEvent>),
    /// Someone started or stopped typing in a channel it follows (ephemeral).
    Typing(Arc<Typing>),
    /// Presence changes among the members of its communities (ephemeral).
    Presence(Arc<PresenceDiff>),
}

#[cfg(test)]
impl Queued {
    /// The persisted event's sequence (tests).
    pub(crate) fn seq(&self) -> u64 {
        match self {
            Self::Event(event) => event.seq,
            other => panic!("expected a persisted event, got {other:?}"),
        }
    }
}

struct Connection {
    sender: mpsc::Sender<Queued>,
    /// Its persisted subjects and the typing subjects of the channels it follows.
    subjects: Vec<String>,
    user: UserId,
}

/// How many of the latest events the hub keeps for connections that open or resume just
/// behind the live edge (they catch up from memory instead of a JetStream replay).
const RECENT: usize = 1024;

#[derive(Default)]
struct Routes {
    by_subject: HashMap<String, HashSet<ConnectionId>>,
    connections: HashMap<ConnectionId, Connection>,
    /// Each user's connections in this process.
    by_user: HashMap<UserId, HashSet<ConnectionId>>,
    /// The latest events handed out by sequence, oldest first, every one after `floor`;
    /// `None` where a later revision of the same message superseded the event's text.
    recent: VecDeque<(u64, Option<Arc<HubEvent>>)>,
    /// `recent` holds every event after this sequence.
    floor: u64,
    /// The sequence of each message's latest text-carrying event in `recent`.
    texts: HashMap<MessageId, u64>,
}

impl Routes {
    /// Keeps `event` in memory, forgetting the oldest one if full and the text it
    /// supersedes, as the relay does in the stream.
    fn remember(&mut self, event: &Arc<HubEvent>) {
        if self.recent.len() == RECENT
            && let Some((seq, oldest)) = self.recent.pop_front()
        {
            self.floor = seq;
            for revision in oldest.iter().flat_map(|e| &e.revisions) {
                if let MessageRevision::Current(message) = revision
                    && self.texts.get(message) == Some(&seq)
                {
                    self.texts.remove(message);
                }
            }
        }
        for revision in &event.revisions {
            let earlier = match *revision {
                MessageRevision::Current(message) => self.texts.insert(message, event.seq),
                MessageRevision::Deleted(message) => self.texts.remove(&message),
            };
            if let Some(earlier) = earlier
                && let Ok(at) = self.recent.binary_search_by_key(&earlier, |(seq, _)| *seq)
            {
                self.recent[at].1 = None;
            }
        }
        self.recent.push_back((event.seq, Some(Arc::clone(event))));
    }

    fn remove(&mut self, id: ConnectionId) {
        let Some(connection) = self.connections.remove(&id) else { return };
        if let Some(open) = self.by_user.get_mut(&connection.user) {
            open.remove(&id);
            if open.is_empty() {
                self.by_user.remove(&connection.user);
            }
        }
        for subject in &connection.subjects {
            if let Some(ids) = self.by_subject.get_mut(subject) {
                ids.remove(&id);
                if ids.is_empty() {
                    self.by_subject.remove(subject);
                }
            }
        }
        metrics::gauge!("sse_connections").decrement(1.0);
    }
}

/// The fan-out table and the process's position in the stream; cheap to clone.
#[derive(Clone, Default)]
pub struct Hub {
    routes: Arc<Mutex<Routes>>,
    next_id: Arc<AtomicU64>,
    /// The highest sequence handed out (the feed resumes after it).
    last_seq: Arc<AtomicU64>,
    /// The stream's epoch when the feed was last opened (0 before the first time).
    epoch: Arc<AtomicU64>,
    /// True while the feed is open.
    live: Arc<AtomicBool>,
}

/// A connection's registration; dropping it unregisters the connection.
pub struct Registration {
    hub: Hub,
    id: ConnectionId,
    pub events: mpsc::Receiver<Queued>,
    /// True if the queue starts with every event after the asked-for sequence (from the
    /// hub's memory), so no replay is needed for them.
    pub caught_up: bool,
}

impl Registration {
    /// Replaces the subjects this connection receives (access changed). Events of dropped
    /// subjects stop at once; added subjects deliver from now on.
    pub fn resubscribe(&self, subjects: Vec<String>) {
        let mut routes = self.hub.routes.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(connection) = routes.connections.get_mut(&self.id) else { return };
        if connection.subjects == subjects {
            return;
        }
        let old = std::mem::replace(&mut connection.subjects, subjects.clone());
        for subject in old.iter().filter(|s| !subjects.contains(s)) {
            if let Some(ids) = routes.by_subject.get_mut(subject) {
                ids.remove(&self.id);
                if ids.is_empty() {
                    routes.by_subject.remove(subject);
                }
            }
        }
        for subject in subjects {
            routes.by_subject.entry(subject).or_default().insert(self.id);
        }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.hub.routes.lock().unwrap_or_else(PoisonError::into_inner).remove(self.id);
    }
}

/// The user already has as many streams open in this process as they may.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("this user already has {0} streams open here")]
pub struct TooManyStreams(pub usize);

impl Hub {
    /// Registers a connection of `user` for `subjects`; live events start queueing at
    /// once, after the ones of its subjects since sequence `since` if the hub still holds
    /// them all (then `Registration::caught_up`). Refused if the user already has
    /// `max_per_user` connections in this process.
    pub fn register(
        &self,
        user: UserId,
        subjects: Vec<String>,
        queue_len: usize,
        max_per_user: usize,
        since: Option<StreamPosition>,
    ) -> Result<Registration, TooManyStreams> {
        let mut routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let open = routes.by_user.entry(user).or_default();
        if open.len() >= max_per_user {
            return Err(TooManyStreams(max_per_user));
        }
        open.insert(id);
        let (sender, events) = mpsc::channel(queue_len);
        // Under the lock, so nothing is missed or doubled between these and live events.
        let epoch = self.epoch.load(Ordering::Acquire);
        let missed: Option<Vec<Arc<HubEvent>>> =
            since.filter(|since| since.epoch == epoch && since.seq >= routes.floor).map(|since| {
                routes
                    .recent
                    .iter()
                    .filter_map(|(_, event)| event.as_ref())
                    .filter(|e| e.seq > since.seq && subjects.contains(&e.subject))
                    .cloned()
                    .collect()
            });
        // Leave room for live events; a longer catch-up is a replay's job. The queue is
        // empty and holds `queue_len`, so these fit.
        let missed = missed.filter(|missed| missed.len() <= queue_len / 2);
        let caught_up = missed.is_some();
        for event in missed.into_iter().flatten() {
            let _fits = sender.try_send(Queued::Event(event));
        }
        for subject in &subjects {
            routes.by_subject.entry(subject.clone()).or_default().insert(id);
        }
        routes.connections.insert(id, Connection { sender, subjects, user });
        metrics::gauge!("sse_connections").increment(1.0);
        Ok(Registration { hub: self.clone(), id, events, caught_up })
    }

    /// A hub whose feed opened at `seq` of the stream's `epoch` (for tests without a feed).
    #[cfg(test)]
    pub(crate) fn at(epoch: u64, seq: u64) -> Self {
        let hub = Self::default();
        hub.epoch.store(epoch, Ordering::Release);
        hub.last_seq.store(seq, Ordering::Release);
        hub.hold_after(seq);
        hub
    }

    /// The process's position in the stream: the last sequence its feed handed out.
    /// `None` until the feed was first opened (a stream registered before then could miss
    /// events, so session managers refuse streams until it is).
    #[must_use]
    pub fn position(&self) -> Option<StreamPosition> {
        let epoch = self.epoch.load(Ordering::Acquire);
        (epoch != 0).then(|| StreamPosition { epoch, seq: self.last_seq.load(Ordering::Acquire) })
    }

    /// True while the process's feed is open.
    pub fn is_live(&self) -> bool {
        self.live.load(Ordering::Acquire)
    }

    /// Hands `event` to every connection registered for `subject`. A connection whose
    /// queue is full is removed (its stream then ends, for a replay).
    pub(crate) fn dispatch(&self, subject: &str, event: &Arc<HubEvent>) {
        let mut routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        routes.remember(event);
        let Some(ids) = routes.by_subject.get(subject) else { return };
        let mut dropped = Vec::new();
        for id in ids {
            let Some(connection) = routes.connections.get(id) else { continue };
            match connection.sender.try_send(Queued::Event(Arc::clone(event))) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => {
                    metrics::counter!("sse_overflow_total").increment(1);
                    dropped.push(*id);
                }
                Err(mpsc::error::TrySendError::Closed(_)) => dropped.push(*id),
            }
        }
        for id in dropped {
            routes.remove(id);
        }
    }

    /// Hands a typing change to the connections following `subject`; a full queue drops
    /// it (typing is ephemeral), not the connection.
    pub(crate) fn dispatch_typing(&self, subject: &str, typing: &Arc<Typing>) {
        let routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(ids) = routes.by_subject.get(subject) else { return };
        for connection in ids.iter().filter_map(|id| routes.connections.get(id)) {
            if connection.user != typing.user_id {
                let _dropped_if_full = connection.sender.try_send(Queued::Typing(Arc::clone(typing)));
            }
        }
    }

    /// Hands each connection the presence changes among the members of its communities
    /// (never about its own user); a full queue drops them, not the connection.
    pub(crate) fn dispatch_presence(&self, changes: &HashMap<CommunityId, PresenceDiff>) {
        let routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        for connection in routes.connections.values() {
            let mut diff = PresenceDiff::default();
            let communities = connection.subjects.iter().filter_map(|s| subject::community_of(s));
            for change in communities.filter_map(|community| changes.get(&community)) {
                diff.online.extend(change.online.iter().filter(|u| **u != connection.user));
                diff.offline.extend(change.offline.iter().filter(|u| **u != connection.user));
            }
            if diff.online.is_empty() && diff.offline.is_empty() {
                continue;
            }
            for list in [&mut diff.online, &mut diff.offline] {
                list.sort_unstable();
                list.dedup();
            }
            let _dropped_if_full = connection.sender.try_send(Queued::Presence(Arc::new(diff)));
        }
    }

    /// The typing subject of `channel` if one of `user`'s connections here follows it
    /// (the user may see the channel): where their typing signal goes.
    #[must_use]
    pub fn typing_subject(&self, user: UserId, channel: ChannelId) -> Option<String> {
        let routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        let ids = routes.by_user.get(&user)?;
        ids.iter()
            .filter_map(|id| routes.connections.get(id))
            .flat_map(|connection| &connection.subjects)
            .find(|s| subject::typing_channel(s) == Some(channel))
            .cloned()
    }

    /// Forgets the events it holds: from now on it holds every one after `seq`.
    fn hold_after(&self, seq: u64) {
        let mut routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        routes.recent.clear();
        routes.texts.clear();
        routes.floor = seq;
    }

    /// Ends every connection (they resume and learn what changed).
    fn close_all(&self) {
        let mut routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        let ids: Vec<ConnectionId> = routes.connections.keys().copied().collect();
        for id in ids {
            routes.remove(id);
        }
    }

    /// Reads the process's feed until `shutdown`. It starts at the stream's end, resumes
    /// after the last sequence handed out when it has to reopen, and closes every
    /// connection if the stream was recreated or lost its tail meanwhile.
    pub async fn run<B: EventBus>(self, bus: Arc<B>, shutdown: CancellationToken) {
        let filters: Vec<String> = subject::PERSISTED.iter().map(|s| (*s).to_owned()).collect();
        loop {
            match bus.ensure_stream().await {
                Ok(state) => {
                    let known_epoch = self.epoch.swap(state.epoch, Ordering::AcqRel);
                    let last = self.last_seq.load(Ordering::Acquire);
                    if known_epoch == 0 {
                        self.hold_after(state.last_seq);
                        self.last_seq.store(state.last_seq, Ordering::Release);
                    } else if known_epoch != state.epoch || state.last_seq < last {
                        tracing::warn!(
                            "the event stream was recreated or lost its tail; closing every stream for a resync"
                        );
                        self.close_all();
                        self.hold_after(state.last_seq);
                        self.last_seq.store(state.last_seq, Ordering::Release);
                    }
                    let after = self.last_seq.load(Ordering::Acquire);
                    match bus.live(filters.clone(), Some(after)).await {
                        Ok(mut feed) => {
                            self.live.store(true, Ordering::Release);
                            loop {
                                tokio::select! {
                                    () = shutdown.cancelled() => return,
                                    item = feed.next() => match item {
                                        Some(Ok(delivered)) => self.accept(&delivered),
                                        Some(Err(err)) => {
                                            tracing::warn!(error = %err, "event feed failed; reopening it");
                                            break;
                                        }
                                        None => break,
                                    }
                                }
                            }
                            self.live.store(false, Ordering::Release);
                        }
                        Err(err) => tracing::warn!(error = %err, "cannot open the event feed; retrying"),
                    }
                }
                Err(err) => tracing::warn!(error = %err, "event stream unavailable; retrying"),
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(Duration::from_millis(250)) => {}
            }
        }
    }

    fn accept(&self, delivered: &Delivered) {
        // A consumer recreated by the client library may deliver from further back.
        if self.last_seq.fetch_max(delivered.seq, Ordering::AcqRel) >= delivered.seq {
            return;
        }
        match HubEvent::from_delivered(delivered, self.epoch.load(Ordering::Acquire)) {
            Some(event) => self.dispatch(&delivered.subject, &Arc::new(event)),
            None => {
                tracing::warn!(seq = delivered.seq, subject = %delivered.subject, "skipping an event that is not an envelope");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn register(hub: &Hub, subjects: &[&str], queue_len: usize) -> Registration {
        let subjects = subjects.iter().map(|s| (*s).to_owned()).collect();
        hub.register(UserId::generate(), subjects, queue_len, 10, None).expect("room for it")
    }

    fn event(seq: u64) -> Arc<HubEvent> {
        Arc::new(HubEvent::parse(7, seq, "a".into(), r#"{"type":"message.created","data":{}}"#).expect("an envelope"))
    }

    #[tokio::test]
    async fn a_full_queue_ends_the_whole_connection_not_just_one_subject() {
        let hub = Hub::default();
        let mut slow = register(&hub, &["a", "b"], 1);
        let mut other = register(&hub, &["a"], 8);
        hub.dispatch("a", &event(1));
        hub.dispatch("a", &event(2));
        hub.dispatch("b", &event(3));
        assert_eq!(slow.events.recv().await.expect("first event").seq(), 1);
        assert!(slow.events.recv().await.is_none(), "the overflowing connection is closed, not left half-subscribed");
        assert_eq!(other.events.recv().await.expect("delivered").seq(), 1);
        assert_eq!(other.events.recv().await.expect("delivered").seq(), 2);
    }

    #[tokio::test]
    async fn resubscribing_moves_a_connection_between_subjects() {
        let hub = Hub::default();
        let mut registration = register(&hub, &["a", "b"], 8);
        registration.resubscribe(vec!["b".into(), "c".into()]);
        hub.dispatch("a", &event(1));
        hub.dispatch("b", &event(2));
        hub.dispatch("c", &event(3));
        assert_eq!(registration.events.recv().await.expect("b").seq(), 2);
        assert_eq!(registration.events.recv().await.expect("c").seq(), 3);
        assert!(!hub.routes.lock().expect("lock").by_subject.contains_key("a"), "nobody is left on a");
    }

    #[tokio::test]
    async fn dropping_a_registration_unsubscribes_it() {
        let hub = Hub::default();
        let registration = register(&hub, &["a"], 4);
        drop(registration);
        let routes = hub.routes.lock().expect("lock");
        assert!(routes.by_subject.is_empty() && routes.connections.is_empty() && routes.by_user.is_empty());
    }

    #[test]
    fn a_user_holds_at_most_the_allowed_streams_and_a_closed_one_frees_its_place() {
        let hub = Hub::default();
        let (alice, bob) = (UserId::generate(), UserId::generate());
        let first = hub.register(alice, vec!["a".into()], 4, 2, None).expect("first");
        let _second = hub.register(alice, vec!["a".into()], 4, 2, None).expect("second");
        assert_eq!(hub.register(alice, vec!["a".into()], 4, 2, None).err(), Some(TooManyStreams(2)));
        assert!(hub.register(bob, vec!["a".into()], 4, 2, None).is_ok(), "the cap is per user");
        drop(first);
        assert!(hub.register(alice, vec!["a".into()], 4, 2, None).is_ok(), "a closed stream frees its place");
    }
}

#[cfg(test)]
mod catch_up_tests {
    use super::*;

    fn event(seq: u64, subject: &str) -> Arc<HubEvent> {
        Arc::new(
            HubEvent::parse(0, seq, subject.into(), r#"{"type":"message.created","data":{}}"#).expect("an envelope"),
        )
    }

    fn at(seq: u64) -> Option<StreamPosition> {
        Some(StreamPosition { epoch: 0, seq })
    }

    #[tokio::test]
    async fn a_connection_just_behind_the_live_edge_catches_up_from_memory_then_goes_live() {
        let hub = Hub::default();
        for seq in 1..=4 {
            hub.dispatch(if seq == 2 { "b" } else { "a" }, &event(seq, if seq == 2 { "b" } else { "a" }));
        }
        let mut registration = hub.register(UserId::generate(), vec!["a".into()], 8, 10, at(1)).expect("room for it");
        assert!(registration.caught_up);
        hub.dispatch("a", &event(5, "a"));
        let mut seqs = Vec::new();
        while let Ok(event) = registration.events.try_recv() {
            seqs.push(event.seq());
        }
        assert_eq!(seqs, [3, 4, 5], "its subjects' events after the position, then live, none twice");
    }

    #[tokio::test]
    async fn a_position_older_than_the_memory_or_a_long_catch_up_is_left_to_a_replay() {
        let hub = Hub::default();
        hub.hold_after(10);
        for seq in 11..=(10 + RECENT as u64 + 1) {
            hub.dispatch("a", &event(seq, "a"));
        }
        let user = UserId::generate();
        let old = hub.register(user, vec!["a".into()], 8, 10, at(10)).expect("room");
        assert!(!old.caught_up, "the oldest event was forgotten");
        let mut long = hub.register(user, vec!["a".into()], 8, 10, at(RECENT as u64)).expect("room");
        assert!(!long.caught_up, "more than half a queue is a replay's job");
        assert!(long.events.try_recv().is_err(), "and nothing of it is left queued");
        let near = hub.register(user, vec!["a".into()], 8, 10, at(RECENT as u64 + 8)).expect("room");
        assert!(near.caught_up);
    }

    #[tokio::test]
    async fn a_catch_up_from_memory_holds_no_superseded_text_only_current_versions_and_tombstones() {
        let hub = Hub::default();
        let (edited, deleted) = (MessageId::generate(), MessageId::generate());
        let revision = |seq: u64, kind: &str, id: MessageId| {
            let data = format!(r#"{{"type":"message.{kind}","data":{{"id":"{id}","body_md":"v{seq}"}}}}"#);
            Arc::new(HubEvent::parse(0, seq, "a".into(), &data).expect("an envelope"))
        };
        for event in [
            revision(1, "created", edited),
            revision(2, "created", deleted),
            revision(3, "updated", edited),
            revision(4, "deleted", deleted),
            revision(5, "updated", edited),
        ] {
            hub.dispatch("a", &event);
        }
        let mut registration = hub.register(UserId::generate(), vec!["a".into()], 16, 10, at(0)).expect("room");
        assert!(registration.caught_up);
        let mut seqs = Vec::new();
        while let Ok(event) = registration.events.try_recv() {
            seqs.push(event.seq());
        }
        assert_eq!(seqs, [4, 5], "the tombstone and the latest version only");
    }

    #[tokio::test]
    async fn a_purge_in_memory_removes_the_text_of_every_message_it_names() {
        let hub = Hub::default();
        let (kept, first, second) = (MessageId::generate(), MessageId::generate(), MessageId::generate());
        let created = |seq: u64, id: MessageId| {
            let data = format!(r#"{{"type":"message.created","data":{{"id":"{id}","body_md":"v{seq}"}}}}"#);
            Arc::new(HubEvent::parse(0, seq, "a".into(), &data).expect("an envelope"))
        };
        let purge = format!(
            r#"{{"type":"messages.purged","data":{{"channel_id":"{}","ids":["{first}","{second}"]}}}}"#,
            ChannelId::generate()
        );
        for event in [
            created(1, kept),
            created(2, first),
            created(3, second),
            Arc::new(HubEvent::parse(0, 4, "a".into(), &purge).expect("an envelope")),
        ] {
            hub.dispatch("a", &event);
        }
        let mut registration = hub.register(UserId::generate(), vec!["a".into()], 16, 10, at(0)).expect("room");
        assert!(registration.caught_up);
        let mut seqs = Vec::new();
        while let Ok(event) = registration.events.try_recv() {
            seqs.push(event.seq());
        }
        assert_eq!(seqs, [1, 4], "the kept message and the purge's tombstones only");
    }
}
