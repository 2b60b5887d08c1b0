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

/// Records `event` as the message's latest text-carrying event; nothing if the message no
/// longer exists (its channel was deleted meanwhile).
pub async fn record(tx: &mut PgConnection, message: MessageId, event: StreamEvent) -> Result<(), sqlx::Error> {
    let seq = i64::try_from(event.seq).map_err(|err| sqlx::Error::Encode(Box::new(err)))?;
    sqlx::query(
        "INSERT INTO message_stream_events (message_id, stream_seq, event_id)
         SELECT id, $2, $3 FROM messages WHERE id = $1
         ON CONFLICT (message_id) DO UPDATE SET stream_seq = EXCLUDED.stream_seq, event_id = EXCLUDED.event_id",
    )
    .bind(message)
    .bind(seq)
    .bind(event.event_id)
    .execute(tx)
    .await?;
    Ok(())
}

/// Forgets the message's event (it was deleted: its stream holds only the tombstone).
pub async fn forget(tx: &mut PgConnection, message: MessageId) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM message_stream_events WHERE message_id = $1").bind(message).execute(tx).await?;
    Ok(())
}
