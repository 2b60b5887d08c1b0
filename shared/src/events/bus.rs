//! The event bus: the `EventBus` contract and its NATS JetStream implementation (stream setup,
//! deduplicated publish, the process-wide live feed, replay from a sequence with per-subject
//! filters, and core subscriptions for ephemeral events).

use std::future::Future;
use std::time::Duration;

use async_nats::jetstream::ErrorCode;
use async_nats::jetstream::{self, consumer, message::PublishMessage, stream};
use bytes::Bytes;
use futures::StreamExt as _;
use futures::stream::BoxStream;

use crate::domain::ids::EventId;
use crate::events::subject;

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("could not connect to NATS at {url}: {message}")]
    Connect { url: String, message: String },
    #[error("JetStream stream setup failed: {0}")]
    Stream(String),
    #[error("publish failed: {0}")]
    Publish(String),
    #[error("consumer failed: {0}")]
    Consumer(String),
    #[error("subscribe failed: {0}")]
    Subscribe(String),
    #[error("removing stream message {seq} failed: {message}")]
    Remove { seq: u64, message: String },
}

/// One event ready to be published.
#[derive(Clone, Debug)]
pub struct Outgoing {
    pub subject: String,
    /// Sent as `Nats-Msg-Id`, so a republish inside the duplicate window is dropped.
    pub event_id: EventId,
    /// The serialized envelope.
    pub payload: Bytes,
}

/// The stream's answer to one publish.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Published {
    pub seq: u64,
    /// The stream already held this event id.
    pub duplicate: bool,
}

/// A persisted event as read back from the stream.
#[derive(Clone, Debug)]
pub struct Delivered {
    pub seq: u64,
    pub subject: String,
    pub payload: Bytes,
}

/// The stream's identity and extent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamState {
    /// The stream's creation time in microseconds: changes when the stream is recreated.
    pub epoch: u64,
    pub first_seq: u64,
    pub last_seq: u64,
}

/// What a replay from a sequence found.
pub enum Replay {
    /// The stream no longer holds that point (trimmed, or recreated): the client must resync.
    Gone,
    /// Everything after the point that matches the filters, ending when caught up.
    Events(BoxStream<'static, Result<Delivered, BusError>>),
}

/// What the services need from the event bus.
pub trait EventBus: Send + Sync {
    /// Publishes in order, pipelined, and waits for every acknowledgement.
    fn publish_all(&self, batch: &[Outgoing]) -> impl Future<Output = Result<Vec<Published>, BusError>> + Send;

    /// Creates the stream if it is missing (idempotent) and returns its state.
    fn ensure_stream(&self) -> impl Future<Output = Result<StreamState, BusError>> + Send;

    /// The stream's identity and extent now.
    fn stream_state(&self) -> impl Future<Output = Result<StreamState, BusError>> + Send;

    /// Persisted events matching `filters`, in stream order: after `after_seq` if given
    /// (to resume a feed without a gap), else from now on.
    fn live(
        &self,
        filters: Vec<String>,
        after_seq: Option<u64>,
    ) -> impl Future<Output = Result<BoxStream<'static, Result<Delivered, BusError>>, BusError>> + Send;

    /// Removes the persisted event `event_id` at `seq` from the stream, so no replay yields
    /// it again. Nothing happens if that sequence is already gone or holds another event (a
    /// sequence of an earlier incarnation of the stream), so a retry is always safe.
    fn remove(&self, seq: u64, event_id: EventId) -> impl Future<Output = Result<(), BusError>> + Send;

    /// Persisted events after `after_seq` matching `filters`, up to the end at the time of the call.
    fn replay(
        &self,
        epoch: u64,
        after_seq: u64,
        filters: Vec<String>,
    ) -> impl Future<Output = Result<Replay, BusError>> + Send;
}

/// How long a replay waits for its next event before asking the server whether any is
/// still pending (superseded events may be deleted before they are delivered).
const REPLAY_QUIET: Duration = Duration::from_secs(1);

/// NATS with JetStream.
#[derive(Clone, Debug)]
pub struct NatsBus {
    client: async_nats::Client,
    jetstream: jetstream::Context,
    stream_name: String,
    /// Copies of the stream JetStream keeps (`stream_replicas`).
    replicas: usize,
}

impl NatsBus {
    /// Connects (retrying in the background if NATS is not up yet, so a service can start
    /// and report itself unready instead of failing). `url` may name several servers of a
    /// cluster, separated by commas; the client moves to another when one goes away.
    pub async fn connect(url: &str, stream_name: &str) -> Result<Self, BusError> {
        let servers: Vec<&str> = url.split(',').map(str::trim).collect();
        let client = async_nats::ConnectOptions::new()
            .retry_on_initial_connect()
            .connection_timeout(Duration::from_secs(2))
            .connect(servers)
            .await
            .map_err(|e| BusError::Connect { url: url.to_owned(), message: e.to_string() })?;
        let jetstream = jetstream::ContextBuilder::new().timeout(Duration::from_secs(3)).build(client.clone());
        Ok(Self { client, jetstream, stream_name: stream_name.to_owned(), replicas: 1 })
    }

    /// Keeps `replicas` copies of the stream (`stream_replicas`: 3 on a 3-node cluster).
    #[must_use]
    pub fn with_replicas(mut self, replicas: usize) -> Self {
        self.replicas = replicas.max(1);
        self
    }

    #[must_use]
    pub fn client(&self) -> &async_nats::Client {
        &self.client
    }

    /// True when the server answers a JetStream request for our stream.
    pub async fn is_ready(&self) -> bool {
        self.jetstream.get_stream(&self.stream_name).await.is_ok()
    }

    /// A core (non-persisted) subscription, for typing and presence.
    pub async fn subscribe(&self, subject: String) -> Result<async_nats::Subscriber, BusError> {
        self.client.subscribe(subject).await.map_err(|e| BusError::Subscribe(e.to_string()))
    }

    async fn stream(&self) -> Result<stream::Stream, BusError> {
        self.jetstream.get_stream(&self.stream_name).await.map_err(|e| BusError::Stream(e.to_string()))
    }
}

fn state_of(info: &stream::Info) -> StreamState {
    let micros = info.created.unix_timestamp_nanos() / 1000;
    StreamState {
        epoch: u64::try_from(micros).unwrap_or_default(),
        first_seq: info.state.first_sequence,
        last_seq: info.state.last_sequence,
    }
}

fn delivered(message: &jetstream::Message) -> Result<Delivered, BusError> {
    let info = message.info().map_err(|e| BusError::Consumer(e.to_string()))?;
    Ok(Delivered { seq: info.stream_sequence, subject: message.subject.to_string(), payload: message.payload.clone() })
}

impl EventBus for NatsBus {
    /// Creates the stream if missing. File storage, a 2-minute duplicate window (the outbox
    /// relay's republish window), a week of history for replay, and `replicas` copies (on a
    /// cluster, each on another node). An existing stream with another replica count is
    /// updated to ours (JetStream moves the copies itself).
    async fn ensure_stream(&self) -> Result<StreamState, BusError> {
        let config = stream::Config {
            name: self.stream_name.clone(),
            subjects: subject::PERSISTED.iter().map(|s| (*s).to_owned()).collect(),
            storage: stream::StorageType::File,
            duplicate_window: Duration::from_secs(120),
            max_age: Duration::from_secs(7 * 24 * 3600),
            num_replicas: self.replicas,
            ..Default::default()
        };
        let mut stream =
            self.jetstream.get_or_create_stream(config.clone()).await.map_err(|e| BusError::Stream(e.to_string()))?;
        let info = stream.info().await.map_err(|e| BusError::Stream(e.to_string()))?;
        if info.config.num_replicas != self.replicas {
            tracing::info!(
                stream = %self.stream_name,
                from = info.config.num_replicas,
                to = self.replicas,
                "changing the stream's replica count"
            );
            let info = self.jetstream.update_stream(config).await.map_err(|e| BusError::Stream(e.to_string()))?;
            return Ok(state_of(&info));
        }
        Ok(state_of(info))
    }

    async fn publish_all(&self, batch: &[Outgoing]) -> Result<Vec<Published>, BusError> {
        let mut pending = Vec::with_capacity(batch.len());
        for outgoing in batch {
            let message =
                PublishMessage::build().payload(outgoing.payload.clone()).message_id(outgoing.event_id.to_string());
            let ack = self
                .jetstream
                .send_publish(outgoing.subject.clone(), message)
                .await
                .map_err(|e| BusError::Publish(e.to_string()))?;
            pending.push(ack);
        }
        let mut published = Vec::with_capacity(pending.len());
        for ack in pending {
            let ack = ack.await.map_err(|e| BusError::Publish(e.to_string()))?;
            published.push(Published { seq: ack.sequence, duplicate: ack.duplicate });
        }
        Ok(published)
    }

    async fn stream_state(&self) -> Result<StreamState, BusError> {
        let mut stream = self.stream().await?;
        let info = stream.info().await.map_err(|e| BusError::Stream(e.to_string()))?;
        Ok(state_of(info))
    }

    async fn live(
        &self,
        filters: Vec<String>,
        after_seq: Option<u64>,
    ) -> Result<BoxStream<'static, Result<Delivered, BusError>>, BusError> {
        let stream = self.stream().await?;
        let consumer = stream
            .create_consumer(consumer::push::OrderedConfig {
                deliver_subject: self.client.new_inbox(),
                filter_subjects: filters,
                deliver_policy: match after_seq {
                    Some(seq) => consumer::DeliverPolicy::ByStartSequence { start_sequence: seq + 1 },
                    None => consumer::DeliverPolicy::New,
                },
                ..Default::default()
            })
            .await
            .map_err(|e| BusError::Consumer(e.to_string()))?;
        let messages = consumer.messages().await.map_err(|e| BusError::Consumer(e.to_string()))?;
        Ok(messages
            .map(|item| match item {
                Ok(message) => delivered(&message),
                Err(e) => Err(BusError::Consumer(e.to_string())),
            })
            .boxed())
    }

    async fn remove(&self, seq: u64, event_id: EventId) -> Result<(), BusError> {
        let failed = |message: String| BusError::Remove { seq, message };
        let stream = self.stream().await?;
        let held = match stream.get_raw_message(seq).await {
            Ok(held) => held,
            Err(err) if err.kind() == stream::RawMessageErrorKind::NoMessageFound => return Ok(()),
            Err(err) => return Err(failed(err.to_string())),
        };
        let held_id = held.headers.get(async_nats::header::NATS_MESSAGE_ID).map(|id| id.as_str().to_owned());
        if held_id.as_deref() != Some(event_id.to_string().as_str()) {
            tracing::debug!(seq, %event_id, "the sequence holds another event; not removing it");
            return Ok(());
        }
        match stream.delete_message(seq).await {
            Ok(_) => Ok(()),
            // Deleted meanwhile (a concurrent retry, or max age): the outcome we wanted.
            Err(err)
                if matches!(err.kind(), stream::DeleteMessageErrorKind::JetStream(ref js)
                    if js.error_code() == ErrorCode::NO_MESSAGE_FOUND
                        || js.error_code() == ErrorCode::STREAM_MESSAGE_DELETE_FAILED) =>
            {
                Ok(())
            }
            Err(err) => Err(failed(err.to_string())),
        }
    }

    async fn replay(&self, epoch: u64, after_seq: u64, filters: Vec<String>) -> Result<Replay, BusError> {
        let stream = self.stream().await?;
        let state = state_of(stream.cached_info());
        // A position of another stream incarnation, beyond the end, or already trimmed away
        // cannot be resumed exactly.
        if state.epoch != epoch || after_seq > state.last_seq || after_seq + 1 < state.first_seq {
            return Ok(Replay::Gone);
        }
        if after_seq == state.last_seq {
            return Ok(Replay::Events(futures::stream::empty().boxed()));
        }
        let consumer: consumer::PullConsumer = stream
            .create_consumer(consumer::pull::Config {
                deliver_policy: consumer::DeliverPolicy::ByStartSequence { start_sequence: after_seq + 1 },
                ack_policy: consumer::AckPolicy::None,
                filter_subjects: filters,
                inactive_threshold: Duration::from_secs(30),
                ..Default::default()
            })
            .await
            .map_err(|e| BusError::Consumer(e.to_string()))?;
        let pending = consumer.cached_info().num_pending;
        let name = consumer.cached_info().name.clone();
        if pending == 0 {
            drop(stream.delete_consumer(&name).await);
            return Ok(Replay::Events(futures::stream::empty().boxed()));
        }
        let messages = consumer.messages().await.map_err(|e| BusError::Consumer(e.to_string()))?;
        // The replay ends with the message after which the consumer has nothing pending, not
        // after a count taken at the start: the outbox relay deletes superseded events from
        // the stream, so fewer may arrive than were pending then. If the last pending ones are
        // deleted before they are delivered, no message says so: a quiet consumer is asked
        // how much it still has.
        let events = futures::stream::unfold(
            (Box::pin(messages), consumer, false),
            |(mut messages, mut consumer, done)| async move {
                if done {
                    return None;
                }
                let next = loop {
                    match tokio::time::timeout(REPLAY_QUIET, messages.next()).await {
                        Ok(Some(next)) => break next.map_err(|e| BusError::Consumer(e.to_string())),
                        Ok(None) => return None,
                        Err(_) => match consumer.info().await {
                            Ok(info) if info.num_pending == 0 => return None,
                            Ok(_) => {}
                            Err(err) => break Err(BusError::Consumer(err.to_string())),
                        },
                    }
                };
                let next = next.and_then(|message| {
                    let info = message.info().map_err(|e| BusError::Consumer(e.to_string()))?;
                    Ok((delivered(&message)?, info.pending))
                });
                let done = next.as_ref().map_or(true, |(_, pending)| *pending == 0);
                Some((next.map(|(delivered, _)| delivered), (messages, consumer, done)))
            },
        )
        .chain(
            futures::stream::once(async move {
                // The consumer would expire by itself; deleting it frees the server at once.
                drop(stream.delete_consumer(&name).await);
                None
            })
            .filter_map(futures::future::ready),
        )
        .boxed();
        Ok(Replay::Events(events))
    }
}
