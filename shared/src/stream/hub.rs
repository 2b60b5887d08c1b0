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

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt as _;
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::domain::ids::{ChannelId, CommunityId, UserId};
use crate::events::StreamPosition;
use crate::events::bus::{Delivered, EventBus};
use crate::events::subject;

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
        Some(Self {
            epoch,
            seq,
            subject,
            event_type: head.event_type,
            community_id: head.community_id,
            channel_id: head.channel_id,
            actor_id: head.actor_id,
            member,
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

struct Connection {
    sender: mpsc::Sender<Arc<HubEvent>>,
    subjects: Vec<String>,
}

#[derive(Default)]
struct Routes {
    by_subject: HashMap<String, HashSet<ConnectionId>>,
    connections: HashMap<ConnectionId, Connection>,
}

impl Routes {
    fn remove(&mut self, id: ConnectionId) {
        let Some(connection) = self.connections.remove(&id) else { return };
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
    pub events: mpsc::Receiver<Arc<HubEvent>>,
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

impl Hub {
    /// Registers a connection for `subjects`; live events start queueing at once.
    pub fn register(&self, subjects: Vec<String>, queue_len: usize) -> Registration {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (sender, events) = mpsc::channel(queue_len);
        let mut routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        for subject in &subjects {
            routes.by_subject.entry(subject.clone()).or_default().insert(id);
        }
        routes.connections.insert(id, Connection { sender, subjects });
        metrics::gauge!("sse_connections").increment(1.0);
        Registration { hub: self.clone(), id, events }
    }

    /// True while the process's feed is open.
    pub fn is_live(&self) -> bool {
        self.live.load(Ordering::Acquire)
    }

    /// Hands `event` to every connection registered for `subject`. A connection whose
    /// queue is full is removed (its stream then ends, for a replay).
    pub(crate) fn dispatch(&self, subject: &str, event: &Arc<HubEvent>) {
        let mut routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(ids) = routes.by_subject.get(subject) else { return };
        let mut dropped = Vec::new();
        for id in ids {
            let Some(connection) = routes.connections.get(id) else { continue };
            match connection.sender.try_send(Arc::clone(event)) {
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
                        self.last_seq.store(state.last_seq, Ordering::Release);
                    } else if known_epoch != state.epoch || state.last_seq < last {
                        tracing::warn!(
                            "the event stream was recreated or lost its tail; closing every stream for a resync"
                        );
                        self.close_all();
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

    fn event(seq: u64) -> Arc<HubEvent> {
        Arc::new(HubEvent::parse(7, seq, "a".into(), r#"{"type":"message.created","data":{}}"#).expect("an envelope"))
    }

    #[tokio::test]
    async fn a_full_queue_ends_the_whole_connection_not_just_one_subject() {
        let hub = Hub::default();
        let mut slow = hub.register(vec!["a".into(), "b".into()], 1);
        let mut other = hub.register(vec!["a".into()], 8);
        hub.dispatch("a", &event(1));
        hub.dispatch("a", &event(2));
        hub.dispatch("b", &event(3));
        assert_eq!(slow.events.recv().await.expect("first event").seq, 1);
        assert!(slow.events.recv().await.is_none(), "the overflowing connection is closed, not left half-subscribed");
        assert_eq!(other.events.recv().await.expect("delivered").seq, 1);
        assert_eq!(other.events.recv().await.expect("delivered").seq, 2);
    }

    #[tokio::test]
    async fn resubscribing_moves_a_connection_between_subjects() {
        let hub = Hub::default();
        let mut registration = hub.register(vec!["a".into(), "b".into()], 8);
        registration.resubscribe(vec!["b".into(), "c".into()]);
        hub.dispatch("a", &event(1));
        hub.dispatch("b", &event(2));
        hub.dispatch("c", &event(3));
        assert_eq!(registration.events.recv().await.expect("b").seq, 2);
        assert_eq!(registration.events.recv().await.expect("c").seq, 3);
        assert!(!hub.routes.lock().expect("lock").by_subject.contains_key("a"), "nobody is left on a");
    }

    #[tokio::test]
    async fn dropping_a_registration_unsubscribes_it() {
        let hub = Hub::default();
        let registration = hub.register(vec!["a".into()], 4);
        drop(registration);
        let routes = hub.routes.lock().expect("lock");
        assert!(routes.by_subject.is_empty() && routes.connections.is_empty());
    }
}
