//! The in-process hub: one JetStream ordered consumer per process reads every persisted
//! event and fans it out to the SSE connections registered for its subject, each through a
//! bounded queue. A connection whose queue is full is dropped from the hub (its stream
//! ends and the client resumes with `Last-Event-ID`), so persisted events are never lost
//! silently and a slow client cannot hold up the others.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ajet_shared::events::bus::{Delivered, EventBus};
use ajet_shared::events::subject;
use futures::StreamExt as _;
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// A persisted event ready to be written to SSE clients.
#[derive(Debug)]
pub struct HubEvent {
    pub seq: u64,
    pub event_type: String,
    /// The JSON envelope.
    pub data: String,
}

impl HubEvent {
    pub(crate) fn from_delivered(delivered: &Delivered) -> Option<Self> {
        #[derive(Deserialize)]
        struct TypeOnly {
            #[serde(rename = "type")]
            event_type: String,
        }
        let data = std::str::from_utf8(&delivered.payload).ok()?.to_owned();
        let TypeOnly { event_type } = serde_json::from_str(&data).ok()?;
        Some(Self { seq: delivered.seq, event_type, data })
    }
}

type ConnectionId = u64;

#[derive(Default)]
struct Routes {
    /// subject → the connections that may see it.
    by_subject: HashMap<String, HashMap<ConnectionId, mpsc::Sender<Arc<HubEvent>>>>,
}

/// The fan-out table; cheap to clone.
#[derive(Clone, Default)]
pub struct Hub {
    routes: Arc<Mutex<Routes>>,
    next_id: Arc<AtomicU64>,
    /// The highest sequence the feed has delivered (for gapless feed restarts).
    last_seq: Arc<AtomicU64>,
    /// Whether the feed is open. The first feed delivers only what is published after it
    /// opens, so the process reports itself unready until then (readiness `event_feed`).
    live: Arc<AtomicBool>,
}

/// A connection's registration; dropping it unregisters the connection.
pub struct Registration {
    hub: Hub,
    id: ConnectionId,
    subjects: Vec<String>,
    pub events: mpsc::Receiver<Arc<HubEvent>>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.hub.unregister(self.id, &self.subjects);
    }
}

impl Hub {
    /// Registers a connection for `subjects`; live events start queueing at once.
    pub fn register(&self, subjects: Vec<String>, queue_len: usize) -> Registration {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (sender, events) = mpsc::channel(queue_len);
        let mut routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        for subject in &subjects {
            routes.by_subject.entry(subject.clone()).or_default().insert(id, sender.clone());
        }
        metrics::gauge!("sse_connections").increment(1.0);
        Registration { hub: self.clone(), id, subjects, events }
    }

    fn unregister(&self, id: ConnectionId, subjects: &[String]) {
        let mut routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        for subject in subjects {
            if let Some(connections) = routes.by_subject.get_mut(subject) {
                connections.remove(&id);
                if connections.is_empty() {
                    routes.by_subject.remove(subject);
                }
            }
        }
        metrics::gauge!("sse_connections").decrement(1.0);
    }

    /// Hands `event` to every connection registered for `subject`. A connection whose
    /// queue is full loses its registration (its stream then ends for a replay).
    fn dispatch(&self, subject: &str, event: &Arc<HubEvent>) {
        let mut routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(connections) = routes.by_subject.get_mut(subject) else { return };
        connections.retain(|_, sender| match sender.try_send(Arc::clone(event)) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                metrics::counter!("sse_overflow_total").increment(1);
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        });
    }

    /// Reads the process's feed until `shutdown`, restarting it after the last delivered
    /// sequence if it fails, so connections see no gap.
    pub async fn run<B: EventBus>(self, bus: Arc<B>, shutdown: CancellationToken) {
        let filters: Vec<String> = subject::PERSISTED.iter().map(|s| (*s).to_owned()).collect();
        loop {
            let after = match self.last_seq.load(Ordering::Acquire) {
                0 => None,
                seq => Some(seq),
            };
            match bus.live(filters.clone(), after).await {
                Ok(mut feed) => {
                    self.live.store(true, Ordering::Release);
                    loop {
                        tokio::select! {
                            () = shutdown.cancelled() => return,
                            item = feed.next() => match item {
                                Some(Ok(delivered)) => self.accept(&delivered),
                                Some(Err(err)) => {
                                    tracing::warn!(error = %err, "event feed failed; restarting it");
                                    break;
                                }
                                None => break,
                            }
                        }
                    }
                }
                Err(err) => tracing::warn!(error = %err, "cannot open the event feed; retrying"),
            }
            self.live.store(false, Ordering::Release);
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(Duration::from_millis(250)) => {}
            }
        }
    }

    /// True while the process's feed is open.
    pub fn is_live(&self) -> bool {
        self.live.load(Ordering::Acquire)
    }

    fn accept(&self, delivered: &Delivered) {
        self.last_seq.fetch_max(delivered.seq, Ordering::AcqRel);
        match HubEvent::from_delivered(delivered) {
            Some(event) => self.dispatch(&delivered.subject, &Arc::new(event)),
            None => {
                tracing::warn!(seq = delivered.seq, subject = %delivered.subject, "skipping an event that is not an envelope")
            }
        }
    }
}
