//! The transactional outbox's publishing half. A write commits its row and its event
//! together (`db::outbox::enqueue`); then `OutboxRelay::notify` wakes the relay, which
//! publishes everything unpublished in commit order with the event id as `Nats-Msg-Id` and
//! marks it. The same loop runs on a timer, so events left behind by a crash or a NATS
//! outage go out as soon as NATS is back; JetStream's duplicate window drops republishes.
//! An event that edits or deletes a message also removes the message's earlier text from
//! the stream (`OutboxRelay::supersede`), so a replay yields only its latest state.
//!
//! Several api instances each run a relay. One publishes at a time (a transaction-scoped
//! advisory lock keeps the stream in commit order); the others find the lock taken and try
//! again `BUSY_RETRY` later, so a write committed through one instance while another's relay
//! holds the lock waits milliseconds, not a sweep. A relay that dies (even `kill -9`) loses
//! its connection, Postgres ends its transaction and frees the lock, and the next relay to
//! try takes over; anything it had published but not marked goes out again and JetStream's
//! duplicate window drops it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::Deserialize as _;
use sqlx::{PgConnection, PgPool};
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use crate::db::message_stream_events::{self, StreamEvent};
use crate::db::outbox;
use crate::domain::ids::MessageId;
use crate::events::bus::{BusError, EventBus, Outgoing, Published};
use crate::events::{Event, EventPayload, MessageRevision};

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Bus(#[from] BusError),
    #[error("publishing timed out")]
    Timeout,
}

/// Events published per transaction.
const BATCH: i64 = 256;
/// How often the relay looks for leftovers without being woken.
const SWEEP_EVERY: Duration = Duration::from_secs(1);
/// A publish batch that takes longer than this is abandoned and retried.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(5);
/// How soon a relay that found another instance's relay publishing tries again.
const BUSY_RETRY: Duration = Duration::from_millis(50);

/// What an outbox row's event says about messages' text (a purge: about each of them). A
/// payload this build cannot read (written by a newer one) is published as is and revises
/// nothing.
fn revisions_of(row: &outbox::Pending) -> Vec<MessageRevision> {
    match Event::deserialize(&row.payload.0) {
        Ok(event) => event.payload.message_revisions(),
        Err(err) => {
            tracing::warn!(error = %err, event_id = %row.event_id, "an outbox payload that is not an event");
            Vec::new()
        }
    }
}

/// A message an incoming webhook posted (written by the gateway, which runs no unfurl
/// worker), handed on by the relay once published.
#[derive(Clone, Debug)]
pub struct WebhookPost {
    pub id: MessageId,
    pub body_md: String,
}

/// The `message.created` of a webhook's post in `row`, if that is what it holds.
fn webhook_post(row: &outbox::Pending) -> Option<WebhookPost> {
    let event = Event::deserialize(&row.payload.0).ok()?;
    match event.payload {
        EventPayload::MessageCreated(message) if message.author.bot.is_some() => {
            Some(WebhookPost { id: message.id, body_md: message.body_md })
        }
        _ => None,
    }
}

/// Publishes committed events; cheap to clone, one running loop per process.
#[derive(Clone)]
pub struct OutboxRelay<B> {
    pool: PgPool,
    bus: Arc<B>,
    wake: Arc<Notify>,
    /// Where published webhook posts go (the api's unfurl worker), once set; shared by
    /// every clone.
    webhook_posts: Arc<OnceLock<mpsc::Sender<WebhookPost>>>,
    /// When this relay last pruned: at most once per `SWEEP_EVERY`, not per batch.
    pruned: Arc<Mutex<Option<Instant>>>,
}

impl<B: EventBus + 'static> OutboxRelay<B> {
    pub fn new(pool: PgPool, bus: Arc<B>) -> Self {
        Self {
            pool,
            bus,
            wake: Arc::new(Notify::new()),
            webhook_posts: Arc::new(OnceLock::new()),
            pruned: Arc::new(Mutex::new(None)),
        }
    }

    /// Hands every webhook post this relay publishes from now on to `posts` (never
    /// waiting: a full queue skips it). Set once; a second call changes nothing.
    pub fn hand_webhook_posts_to(&self, posts: mpsc::Sender<WebhookPost>) {
        if self.webhook_posts.set(posts).is_err() {
            tracing::warn!("the relay already hands webhook posts on");
        }
    }

    /// Asks the loop to publish now (after a commit).
    pub fn notify(&self) {
        self.wake.notify_one();
    }

    /// Publishes until nothing is left (or another process holds the relay lock).
    /// Returns how many events were published.
    pub async fn drain(&self) -> Result<usize, RelayError> {
        self.drain_or_busy().await.map(|(total, _)| total)
    }

    /// `drain`, also saying whether it stopped because another relay held the lock.
    async fn drain_or_busy(&self) -> Result<(usize, bool), RelayError> {
        let mut total = 0;
        loop {
            let mut tx = self.pool.begin().await?;
            if !outbox::try_lock_relay(&mut tx).await? {
                return Ok((total, true));
            }
            let pending = outbox::oldest_unpublished(&mut tx, BATCH).await?;
            if pending.is_empty() {
                return Ok((total, false));
            }
            let batch: Vec<Outgoing> = pending
                .iter()
                .map(|row| Outgoing {
                    subject: row.subject.clone(),
                    event_id: row.event_id,
                    payload: Bytes::from(serde_json::to_vec(&row.payload.0).unwrap_or_default()),
                })
                .collect();
            let published = tokio::time::timeout(PUBLISH_TIMEOUT, self.bus.publish_all(&batch))
                .await
                .map_err(|_| RelayError::Timeout)??;
            self.supersede(&mut tx, &pending, &published).await?;
            let ids: Vec<i64> = pending.iter().map(|row| row.id).collect();
            outbox::mark_published(&mut tx, &ids).await?;
            if self.prune_due() {
                outbox::prune_published(&mut tx).await?;
            }
            tx.commit().await?;
            total += ids.len();
            if let Some(posts) = self.webhook_posts.get() {
                for post in pending.iter().filter_map(webhook_post) {
                    if posts.try_send(post).is_err() {
                        tracing::debug!("webhook post queue full: no preview");
                    }
                }
            }
            // A short batch was everything there was when it was read. A commit since then
            // woke the loop (`notify` keeps a wake-up for the next wait), so no transaction
            // is spent finding nothing.
            if ids.len() < usize::try_from(BATCH).unwrap_or(usize::MAX) {
                return Ok((total, false));
            }
        }
    }

    /// True (and noted) when this relay has not pruned for `SWEEP_EVERY`: a prune per
    /// batch would be a statement per wake-up under load, for rows that only age out after
    /// minutes.
    fn prune_due(&self) -> bool {
        let mut pruned = self.pruned.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        if pruned.is_some_and(|at| now.duration_since(at) < SWEEP_EVERY) {
            return false;
        }
        *pruned = Some(now);
        true
    }

    /// Keeps old message text out of the stream: for every published event that revises a
    /// message (created, edited, deleted, purged with others), removes the message's earlier text-carrying event
    /// from the stream (recorded by an earlier pass, or earlier in this batch) and records
    /// the new one, in the batch's transaction. Runs after the publish and before the batch
    /// is marked, so a failure anywhere redoes the whole pass: the republish is answered as
    /// a duplicate with the original sequences, and removing what is gone is no error.
    async fn supersede(
        &self,
        tx: &mut PgConnection,
        pending: &[outbox::Pending],
        published: &[Published],
    ) -> Result<(), RelayError> {
        let revisions: Vec<(MessageRevision, StreamEvent)> = pending
            .iter()
            .zip(published)
            .flat_map(|(row, published)| {
                let event = StreamEvent { seq: published.seq, event_id: row.event_id };
                revisions_of(row).into_iter().map(move |revision| (revision, event))
            })
            .collect();
        if revisions.is_empty() {
            return Ok(());
        }
        let mut messages: Vec<MessageId> = revisions.iter().map(|(revision, _)| revision.message_id()).collect();
        messages.sort_unstable();
        messages.dedup();
        let mut latest: HashMap<MessageId, Option<StreamEvent>> =
            message_stream_events::of(tx, &messages).await?.into_iter().map(|(id, event)| (id, Some(event))).collect();
        let mut superseded = Vec::new();
        for (revision, event) in revisions {
            let slot = latest.entry(revision.message_id()).or_default();
            if let Some(earlier) = slot.take()
                && earlier.event_id != event.event_id
            {
                superseded.push(earlier);
            }
            *slot = matches!(revision, MessageRevision::Current(_)).then_some(event);
        }
        let removals = async {
            for earlier in &superseded {
                self.bus.remove(earlier.seq, earlier.event_id).await?;
            }
            Ok::<_, BusError>(())
        };
        tokio::time::timeout(PUBLISH_TIMEOUT, removals).await.map_err(|_| RelayError::Timeout)??;
        let mut recorded = Vec::new();
        let mut forgotten = Vec::new();
        for (message, event) in latest {
            match event {
                Some(event) => recorded.push((message, event)),
                None => forgotten.push(message),
            }
        }
        // One statement each for the whole batch, not one per message.
        message_stream_events::record_many(tx, &recorded).await?;
        message_stream_events::forget_many(tx, &forgotten).await?;
        Ok(())
    }

    /// Runs until `shutdown`, draining when woken and on every sweep (sooner while another
    /// instance's relay holds the lock); a final drain flushes what the last requests
    /// committed.
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            let next = match self.drain_or_busy().await {
                Ok((_, true)) => BUSY_RETRY,
                Ok((_, false)) => SWEEP_EVERY,
                Err(err) => {
                    tracing::warn!(error = %err, "outbox relay could not publish; will retry");
                    // The stream may be gone (a NATS store wiped while we ran): recreate it.
                    if let Err(err) = self.bus.ensure_stream().await {
                        tracing::debug!(error = %err, "stream not ensured");
                    }
                    SWEEP_EVERY
                }
            };
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(next) => {}
            }
        }
        if let Err(err) = self.drain().await {
            tracing::warn!(error = %err, "outbox relay could not flush at shutdown; the next start publishes the rest");
        }
    }
}
