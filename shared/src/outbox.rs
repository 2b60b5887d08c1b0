//! The transactional outbox's publishing half. A write commits its row and its event
//! together (`db::outbox::enqueue`); then `OutboxRelay::notify` wakes the relay, which
//! publishes everything unpublished in commit order with the event id as `Nats-Msg-Id` and
//! marks it. The same loop runs on a timer, so events left behind by a crash or a NATS
//! outage go out as soon as NATS is back; JetStream's duplicate window drops republishes.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use sqlx::PgPool;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::db::outbox;
use crate::events::bus::{BusError, EventBus, Outgoing};

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

/// Publishes committed events; cheap to clone, one running loop per process.
#[derive(Clone)]
pub struct OutboxRelay<B> {
    pool: PgPool,
    bus: Arc<B>,
    wake: Arc<Notify>,
}

impl<B: EventBus + 'static> OutboxRelay<B> {
    pub fn new(pool: PgPool, bus: Arc<B>) -> Self {
        Self { pool, bus, wake: Arc::new(Notify::new()) }
    }

    /// Asks the loop to publish now (after a commit).
    pub fn notify(&self) {
        self.wake.notify_one();
    }

    /// Publishes until nothing is left (or another process holds the relay lock).
    /// Returns how many events were published.
    pub async fn drain(&self) -> Result<usize, RelayError> {
        let mut total = 0;
        loop {
            let mut tx = self.pool.begin().await?;
            if !outbox::try_lock_relay(&mut tx).await? {
                return Ok(total);
            }
            let pending = outbox::oldest_unpublished(&mut tx, BATCH).await?;
            if pending.is_empty() {
                return Ok(total);
            }
            let batch: Vec<Outgoing> = pending
                .iter()
                .map(|row| Outgoing {
                    subject: row.subject.clone(),
                    event_id: row.event_id,
                    payload: Bytes::from(serde_json::to_vec(&row.payload.0).unwrap_or_default()),
                })
                .collect();
            tokio::time::timeout(PUBLISH_TIMEOUT, self.bus.publish_all(&batch))
                .await
                .map_err(|_| RelayError::Timeout)??;
            let ids: Vec<i64> = pending.iter().map(|row| row.id).collect();
            outbox::mark_published(&mut tx, &ids).await?;
            outbox::prune_published(&mut tx).await?;
            tx.commit().await?;
            total += ids.len();
        }
    }

    /// Runs until `shutdown`, draining when woken and on every sweep; a final drain flushes
    /// what the last requests committed.
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            if let Err(err) = self.drain().await {
                tracing::warn!(error = %err, "outbox relay could not publish; will retry");
                // The stream may be gone (a NATS store wiped while we ran): recreate it.
                if let Err(err) = self.bus.ensure_stream().await {
                    tracing::debug!(error = %err, "stream not ensured");
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(SWEEP_EVERY) => {}
            }
        }
        if let Err(err) = self.drain().await {
            tracing::warn!(error = %err, "outbox relay could not flush at shutdown; the next start publishes the rest");
        }
    }
}
