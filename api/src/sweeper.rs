//! The attachment sweeper: after a message is deleted (its transaction committed), or
//! every `attachment_sweep_secs`, deletes from object storage the files nobody may read any
//! more (those of deleted messages, and uploads no message took within
//! `attachment_unattached_secs`), then their rows, through `chat::attachments::sweep`.
//! Never inside the deleting transaction: a store that is down delays the cleanup, never a
//! delete.

use std::sync::Arc;
use std::time::Duration;

use ajet_shared::chat::attachments::sweep;
use ajet_shared::db::PgPool;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::storage::Storage;

/// Attachments deleted per transaction.
const BATCH: i64 = 100;

/// The handle handlers wake the sweeper with once a delete has committed.
#[derive(Clone, Debug, Default)]
pub struct Sweeper {
    wake: Arc<Notify>,
}

impl Sweeper {
    /// Starts the sweeper; it ends when `shutdown` is cancelled.
    pub fn start(
        pool: PgPool,
        storage: Storage,
        every: Duration,
        unattached_secs: u64,
        shutdown: CancellationToken,
    ) -> (Self, impl Future<Output = ()>) {
        let sweeper = Self::default();
        let wake = Arc::clone(&sweeper.wake);
        (sweeper, run(pool, storage, every, unattached_secs, wake, shutdown))
    }

    /// Asks for a sweep now (a message with files was deleted).
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

async fn run(
    pool: PgPool,
    storage: Storage,
    every: Duration,
    unattached_secs: u64,
    wake: Arc<Notify>,
    shutdown: CancellationToken,
) {
    loop {
        loop {
            let storage = &storage;
            match sweep(&pool, unattached_secs, BATCH, |keys| async move { storage.delete(&keys).await }).await {
                Ok(swept) if usize::try_from(BATCH).is_ok_and(|batch| swept == batch) => continue,
                Ok(swept) => {
                    if swept > 0 {
                        tracing::debug!(swept, "attachments deleted");
                    }
                    break;
                }
                Err(err) => {
                    tracing::warn!(error = %err, "attachment sweep failed; retrying later");
                    break;
                }
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = wake.notified() => {}
            () = tokio::time::sleep(every) => {}
        }
    }
}
