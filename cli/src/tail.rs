//! The reconnecting reader of the terminal event stream (`/tui/events` through the
//! gateway): it resumes with `Last-Event-ID` after any break, backs off while the server is
//! away, and hands on each message event once, deduplicated by message (a `message.created`)
//! or event id, so a replay overlapping what was already shown prints nothing twice. A
//! `resync` (the server no longer holds our position) is answered by fetching each known
//! channel's history after the last message seen. Ends when the credential stops working.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use ajet_shared::api::wire::HistoryQuery;
use ajet_shared::client::{ApiClient, ClientError};
use ajet_shared::domain::ids::{ChannelId, EventId, MessageId};
use ajet_shared::events::{Event, EventMessage, EventPayload};
use futures::StreamExt as _;

use crate::failure::{Exit, Failure, api_exit};

/// A message event the caller has not seen yet.
#[derive(Clone, Debug)]
pub enum Seen {
    Created(EventMessage),
    Updated(EventMessage),
    Deleted { id: MessageId, channel_id: ChannelId },
}

/// What the reader tells its caller besides messages.
#[derive(Clone, Debug)]
pub enum Notice {
    /// Connected (again), resuming after the id if any.
    Connected { resumed: bool },
    /// The connection broke; retrying after the delay.
    Disconnected { reason: String, retry_in: Duration },
}

/// The stream's reader state: where to resume and what was handed on already.
#[derive(Debug)]
pub struct Tail {
    client: ApiClient,
    channels: Option<HashSet<ChannelId>>,
    last_event_id: Option<String>,
    seen_messages: HashSet<MessageId>,
    seen_events: HashSet<EventId>,
    /// The newest message per channel, for catching up after a `resync`.
    latest: HashMap<ChannelId, MessageId>,
}

const MAX_BACKOFF: Duration = Duration::from_secs(10);

impl Tail {
    /// A reader of `channels` (all of the user's when `None`).
    #[must_use]
    pub fn new(client: ApiClient, channels: Option<HashSet<ChannelId>>) -> Self {
        Self {
            client,
            channels,
            last_event_id: None,
            seen_messages: HashSet::new(),
            seen_events: HashSet::new(),
            latest: HashMap::new(),
        }
    }

    /// Reads until the credential is refused (that error) or the stream cannot be had;
    /// `emit` gets each unseen message event and `notice` the connection changes.
    pub async fn run(
        &mut self,
        mut emit: impl FnMut(Seen) -> Result<(), Failure>,
        mut notice: impl FnMut(Notice),
    ) -> Result<(), Failure> {
        let mut backoff = Duration::from_millis(500);
        loop {
            let reason = match self.client.tui_events(self.last_event_id.as_deref()).await {
                Ok(mut events) => {
                    notice(Notice::Connected { resumed: self.last_event_id.is_some() });
                    let mut received = false;
                    let mut reason = "the server ended the stream".to_owned();
                    while let Some(event) = events.next().await {
                        match event {
                            Ok(event) => {
                                received = true;
                                if event.event == "resync" {
                                    self.catch_up(&mut emit).await?;
                                    continue;
                                }
                                if !event.id.is_empty() {
                                    self.last_event_id = Some(event.id.clone());
                                }
                                self.handle(&event.data, &mut emit)?;
                            }
                            Err(err) => {
                                reason = err.to_string();
                                break;
                            }
                        }
                    }
                    if received {
                        backoff = Duration::from_millis(500);
                    } else {
                        // An empty answer (204: the credential was revoked) or an instant
                        // end: make sure the credential still works before retrying.
                        self.client.me().await?;
                    }
                    reason
                }
                Err(err) if refused(&err) => return Err(err.into()),
                Err(err) => err.to_string(),
            };
            notice(Notice::Disconnected { reason, retry_in: backoff });
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    fn wanted(&self, channel: ChannelId) -> bool {
        self.channels.as_ref().is_none_or(|channels| channels.contains(&channel))
    }

    /// One event's JSON: handed on if it is an unseen message event of a wanted channel.
    fn handle(&mut self, data: &str, emit: &mut impl FnMut(Seen) -> Result<(), Failure>) -> Result<(), Failure> {
        // Typing, presence and kinds this build does not know are not messages.
        let Ok(event) = serde_json::from_str::<Event>(data) else { return Ok(()) };
        let seen = match event.payload {
            EventPayload::MessageCreated(message) => {
                if !self.wanted(message.channel_id) || !self.seen_messages.insert(message.id) {
                    return Ok(());
                }
                self.latest.insert(message.channel_id, message.id);
                Seen::Created(message)
            }
            EventPayload::MessageUpdated(message) => {
                if !self.wanted(message.channel_id) || !self.seen_events.insert(event.id) {
                    return Ok(());
                }
                Seen::Updated(message)
            }
            EventPayload::MessageDeleted(deleted) => {
                if !self.wanted(deleted.channel_id) || !self.seen_events.insert(event.id) {
                    return Ok(());
                }
                Seen::Deleted { id: deleted.id, channel_id: deleted.channel_id }
            }
            _ => return Ok(()),
        };
        emit(seen)
    }

    /// After a `resync`: every channel's messages after the newest one seen, once.
    async fn catch_up(&mut self, emit: &mut impl FnMut(Seen) -> Result<(), Failure>) -> Result<(), Failure> {
        self.last_event_id = None;
        let latest: Vec<(ChannelId, MessageId)> = self.latest.iter().map(|(c, m)| (*c, *m)).collect();
        for (channel, after) in latest {
            let query = HistoryQuery { after: Some(after), limit: Some(100), ..HistoryQuery::default() };
            let page = match self.client.history(channel, &query).await {
                Ok(page) => page,
                Err(err) if refused(&err) => continue,
                Err(err) => return Err(err.into()),
            };
            for message in page.data {
                if self.seen_messages.insert(message.id) {
                    self.latest.insert(channel, message.id);
                    emit(Seen::Created(EventMessage::from(message)))?;
                }
            }
        }
        Ok(())
    }
}

/// A refusal retrying cannot fix (signed out, forbidden).
fn refused(err: &ClientError) -> bool {
    api_exit(err) == Exit::Forbidden
}
