//! The `message_stream_events` table: for each message, the stream sequence of its latest
//! published event that carries its text, so the outbox relay can delete that event from
//! the stream once a later edit or delete supersedes it.

use sqlx::PgConnection;

use crate::domain::ids::{EventId, MessageId};

/// A published event's place in the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamEvent {
    pub seq: u64,
    pub event_id: EventId,
}

/// The recorded events of `messages`, in no particular order.
pub async fn of(tx: &mut PgConnection, messages: &[MessageId]) -> Result<Vec<(MessageId, StreamEvent)>, sqlx::Error> {
    let rows: Vec<(MessageId, i64, EventId)> =
        sqlx::query_as("SELECT message_id, stream_seq, event_id FROM message_stream_events WHERE message_id = ANY($1)")
            .bind(messages)
            .fetch_all(tx)
            .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(message, seq, event_id)| Some((message, StreamEvent { seq: u64::try_from(seq).ok()?, event_id })))
        .collect())
}

/// Records each `(message, event)` as the message's latest text-carrying event, in one
/// statement (a relay batch of new messages is one round trip, not one per message); each
/// message at most once; nothing for a message that no longer exists (its channel was
/// deleted meanwhile). Each message is looked up by its key (a `LIMIT 1` lateral: a join
/// over the `unnest` was planned as a scan of `messages`).
pub async fn record_many(tx: &mut PgConnection, events: &[(MessageId, StreamEvent)]) -> Result<(), sqlx::Error> {
    if events.is_empty() {
        return Ok(());
    }
    let messages: Vec<uuid::Uuid> = events.iter().map(|(message, _)| message.as_uuid()).collect();
    let seqs = events
        .iter()
        .map(|(_, event)| i64::try_from(event.seq))
        .collect::<Result<Vec<i64>, _>>()
        .map_err(|err| sqlx::Error::Encode(Box::new(err)))?;
    let ids: Vec<uuid::Uuid> = events.iter().map(|(_, event)| event.event_id.as_uuid()).collect();
    sqlx::query(
        "INSERT INTO message_stream_events (message_id, stream_seq, event_id)
         SELECT m.id, e.stream_seq, e.event_id
         FROM unnest($1::uuid[], $2::int8[], $3::uuid[]) AS e(message_id, stream_seq, event_id)
         CROSS JOIN LATERAL (SELECT id FROM messages WHERE id = e.message_id LIMIT 1) m
         ON CONFLICT (message_id) DO UPDATE SET stream_seq = EXCLUDED.stream_seq, event_id = EXCLUDED.event_id",
    )
    .bind(messages)
    .bind(seqs)
    .bind(ids)
    .execute(tx)
    .await?;
    Ok(())
}

/// Forgets the events of `messages` (deleted: their stream holds only the tombstones), in
/// one statement.
pub async fn forget_many(tx: &mut PgConnection, messages: &[MessageId]) -> Result<(), sqlx::Error> {
    if messages.is_empty() {
        return Ok(());
    }
    let ids: Vec<uuid::Uuid> = messages.iter().map(|message| message.as_uuid()).collect();
    sqlx::query("DELETE FROM message_stream_events WHERE message_id = ANY($1)").bind(ids).execute(tx).await?;
    Ok(())
}
