//! The search indexer: moves the messages a write queued in `search_pending` into
//! `message_search`, where search's text indexes are (`db::search::index_pending`,
//! migration 0020), so that no send maintains a text index under its channel's lock.
//! Search is exact meanwhile (it reads what is still queued straight from `messages`);
//! the indexer only keeps that queue short. Every api instance runs one; they share the
//! queue without waiting on each other (`SKIP LOCKED`), and what one left behind when it
//! died is taken by the next run of any.

use std::time::Duration;

use ajet_shared::db::PgPool;
use ajet_shared::db::search::index_pending;
use tokio_util::sync::CancellationToken;

/// Messages indexed per transaction: about 35 ms of Postgres time (0.18 ms each, measured
/// in BENCHMARKS.md), which is also the longest an edit of a message in the batch waits
/// for it (the edit re-queues the message behind the batch's hold on its queue row).
const BATCH: i64 = 200;
/// How soon the indexer looks again after a run that found work (the queue is a tenth of
/// a second of traffic at most while writes keep coming)…
const BUSY: Duration = Duration::from_millis(100);
/// …and after one that found nothing.
const IDLE: Duration = Duration::from_secs(1);

/// Runs until `shutdown` (between batches: a backlog is left for the next start, or for
/// another instance).
pub async fn run(pool: PgPool, shutdown: CancellationToken) {
    let full = usize::try_from(BATCH).unwrap_or(usize::MAX);
    loop {
        let mut indexed = 0;
        while !shutdown.is_cancelled() {
            match index_pending(&pool, BATCH).await {
                Ok(taken) => {
                    metrics::counter!("search_indexed_total").increment(u64::try_from(taken).unwrap_or(u64::MAX));
                    indexed += taken;
                    if taken < full {
                        break;
                    }
                }
                Err(err) => {
                    metrics::counter!("search_index_errors_total").increment(1);
                    tracing::warn!(error = %err, "search indexing failed; retrying later");
                    break;
                }
            }
        }
        let next = if indexed > 0 { BUSY } else { IDLE };
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(next) => {}
        }
    }
}
