//! The reconnecting reader of the terminal event stream (`/tui/events` through the
//! gateway), for `tail` and the TUI alike: pull-based (`next`), it resumes with
//! `Last-Event-ID` after any break, backs off while the server is away, and hands on each
//! persisted event once — deduplicated by event id, and a `message.created` also by message
//! id — so a replay overlapping what was already delivered shows nothing twice. Ephemeral
//! events (typing, presence) pass as they come. A `resync` (the server no longer holds our
//! position) is handed on for the caller to refetch. Ends with an error when the credential
//! stops working (signed out, revoked: exit code 3).

use std::collections::HashSet;
use std::time::Duration;

use ajet_shared::client::{ApiClient, ClientError, SseEvent};
use ajet_shared::domain::ids::{EventId, MessageId};
use ajet_shared::events::{Event, EventPayload};
use futures::StreamExt as _;
use futures::stream::BoxStream;

use crate::failure::{Exit, Failure, api_exit};

/// What the reader hands on, in order.
#[derive(Clone, Debug)]
pub enum Delivery {
    /// Connected (again); `resumed` when after an event id.
    Connected { resumed: bool },
    /// A persisted event not delivered before.
    Event(Box<Event>),
    /// An event that is not persisted (`typing.*`, `presence.changed`): its name and JSON.
    Ephemeral { name: String, data: String },
    /// The server lost our position: what happened meanwhile must be refetched.
    Resync,
    /// The connection broke; the next call reconnects after `retry_in`.
    Disconnected { reason: String, retry_in: Duration },
}

const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// How long opening the stream (or checking the credential) may take before it counts as
/// a failed attempt: a server that accepts connections but never answers is retried.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

/// The reader: where to resume and what was delivered already.
pub struct Reader {
    client: ApiClient,
    stream: Option<BoxStream<'static, Result<SseEvent, ClientError>>>,
    /// Whether the open connection delivered anything (an empty one may mean revoked).
    received: bool,
    /// The wait before the next connection attempt, if the last one failed or ended.
    retry_in: Option<Duration>,
    backoff: Duration,
    last_event_id: Option<String>,
    seen_events: HashSet<EventId>,
    seen_messages: HashSet<MessageId>,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader").field("last_event_id", &self.last_event_id).finish_non_exhaustive()
    }
}

impl Reader {
    /// A reader starting from now.
    #[must_use]
    pub fn new(client: ApiClient) -> Self {
        Self {
            client,
            stream: None,
            received: false,
            retry_in: None,
            backoff: FIRST_BACKOFF,
            last_event_id: None,
            seen_events: HashSet::new(),
            seen_messages: HashSet::new(),
        }
    }

    /// Records `message` as delivered (e.g. fetched from history after a `Resync`); false if
    /// it was already.
    pub fn mark_seen(&mut self, message: MessageId) -> bool {
        self.seen_messages.insert(message)
    }

    /// The next delivery; an error only when retrying cannot help.
    pub async fn next(&mut self) -> Result<Delivery, Failure> {
        loop {
            let Some(stream) = self.stream.as_mut() else {
                if let Some(wait) = self.retry_in.take() {
                    tokio::time::sleep(wait).await;
                }
                return self.connect().await;
            };
            let Some(item) = stream.next().await else {
                return self.broke("the server ended the stream".into()).await;
            };
            let event = match item {
                Ok(event) => event,
                Err(err) => return self.broke(err.to_string()).await,
            };
            self.received = true;
            self.backoff = FIRST_BACKOFF;
            if event.event == "resync" {
                self.last_event_id = None;
                return Ok(Delivery::Resync);
            }
            if event.id.is_empty() {
                return Ok(Delivery::Ephemeral { name: event.event, data: event.data });
            }
            self.last_event_id = Some(event.id);
            // A kind this build cannot read is skipped, not fatal: the stream evolves additively.
            let Ok(parsed) = serde_json::from_str::<Event>(&event.data) else { continue };
            if !self.seen_events.insert(parsed.id) {
                continue;
            }
            if let EventPayload::MessageCreated(message) = &parsed.payload
                && !self.seen_messages.insert(message.id)
            {
                continue;
            }
            return Ok(Delivery::Event(Box::new(parsed)));
        }
    }

    /// Opens the stream (resuming if we can): `Connected`, or `Disconnected` to retry.
    async fn connect(&mut self) -> Result<Delivery, Failure> {
        let opened = tokio::time::timeout(CONNECT_TIMEOUT, self.client.tui_events(self.last_event_id.as_deref()));
        let Ok(opened) = opened.await else {
            return Ok(self.retry("the server did not answer in time".into()));
        };
        match opened {
            Ok(stream) => {
                self.stream = Some(stream);
                self.received = false;
                Ok(Delivery::Connected { resumed: self.last_event_id.is_some() })
            }
            Err(err) if api_exit(&err) == Exit::Forbidden => Err(err.into()),
            Err(err) => Ok(self.retry(err.to_string())),
        }
    }

    /// The open connection ended: `Disconnected`, unless the credential no longer works.
    async fn broke(&mut self, reason: String) -> Result<Delivery, Failure> {
        self.stream = None;
        if !self.received {
            // An empty answer (204: the credential was revoked) or an instant end: make sure
            // the credential still works before retrying.
            if let Ok(Err(err)) = tokio::time::timeout(CONNECT_TIMEOUT, self.client.me()).await
                && api_exit(&err) == Exit::Forbidden
            {
                return Err(err.into());
            }
        }
        Ok(self.retry(reason))
    }

    fn retry(&mut self, reason: String) -> Delivery {
        let retry_in = self.backoff;
        self.retry_in = Some(retry_in);
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
        Delivery::Disconnected { reason, retry_in }
    }
}
