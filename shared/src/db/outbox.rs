//! The `outbox` table: events committed with the write that caused them, published after.

use sqlx::{PgConnection, types::Json};

use crate::domain::ids::EventId;
use crate::events::Event;

/// Records `event` for publication on `subject`, inside the caller's transaction.
pub async fn enqueue(tx: &mut PgConnection, subject: &str, event: &Event) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO outbox (event_id, subject, payload) VALUES ($1, $2, $3)")
        .bind(event.id)
        .bind(subject)
        .bind(Json(event))
        .execute(tx)
        .await?;
    Ok(())
}

/// Records each `(subject, event)` for publication, in one statement (a notification to
/// every member of a large channel is one insert, not a loop).
pub async fn enqueue_many(tx: &mut PgConnection, events: &[(String, Event)]) -> Result<(), sqlx::Error> {
    if events.is_empty() {
        return Ok(());
    }
    let ids: Vec<uuid::Uuid> = events.iter().map(|(_, event)| event.id.as_uuid()).collect();
    let subjects: Vec<&str> = events.iter().map(|(subject, _)| subject.as_str()).collect();
    let payloads: Vec<Json<&Event>> = events.iter().map(|(_, event)| Json(event)).collect();
    sqlx::query(
        "INSERT INTO outbox (event_id, subject, payload)
         SELECT e.event_id, e.subject, e.payload
         FROM unnest($1::uuid[], $2::text[], $3::jsonb[]) WITH ORDINALITY AS e(event_id, subject, payload, n)
         ORDER BY n",
    )
    .bind(ids)
    .bind(subjects)
    .bind(payloads)
    .execute(tx)
    .await?;
    Ok(())
}

/// An event waiting to be published.
#[derive(Debug, sqlx::FromRow)]
pub struct Pending {
    pub id: i64,
    pub event_id: EventId,
    pub subject: String,
    pub payload: Json<serde_json::Value>,
}

/// The oldest unpublished events, in commit order.
pub async fn oldest_unpublished(tx: &mut PgConnection, limit: i64) -> Result<Vec<Pending>, sqlx::Error> {
    sqlx::query_as("SELECT id, event_id, subject, payload FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT $1")
        .bind(limit)
        .fetch_all(tx)
        .await
}

pub async fn mark_published(tx: &mut PgConnection, ids: &[i64]) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE outbox SET published_at = now() WHERE id = ANY($1)").bind(ids).execute(tx).await?;
    Ok(())
}

/// Takes the relay lock for this transaction: one publisher at a time keeps the stream in
/// commit order even with several api instances. False if another holds it.
pub async fn try_lock_relay(tx: &mut PgConnection) -> Result<bool, sqlx::Error> {
    // An arbitrary constant naming the outbox relay's advisory lock.
    const RELAY_LOCK: i64 = 0x616a_6574_6f75_7462;
    sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)").bind(RELAY_LOCK).fetch_one(tx).await
}

/// Deletes a batch of rows published longer ago than JetStream's duplicate window (after
/// that a republish would no longer be recognised anyway), so the table stays small. The
/// oldest first, read through `outbox_published_at_idx`: a range read, never a scan.
pub async fn prune_published(tx: &mut PgConnection) -> Result<u64, sqlx::Error> {
    let deleted = sqlx::query(
        "DELETE FROM outbox WHERE id IN (
             SELECT id FROM outbox WHERE published_at < now() - interval '10 minutes'
             ORDER BY published_at LIMIT 1000)",
    )
    .execute(tx)
    .await?;
    Ok(deleted.rows_affected())
}
