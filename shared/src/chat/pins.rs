//! Pinning a message and unpinning it: any member of an open channel may; both
//! idempotent, and only a change is broadcast.

use sqlx::PgPool;

use super::access::message_access;
use super::{ChatError, Written, events, rules};
use crate::api::wire::PinChange;
use crate::db;
use crate::domain::ids::{MessageId, UserId};
use crate::events::EventPayload;

/// `user` pins message `id` (a live message).
pub async fn pin_message(pool: &PgPool, user: UserId, id: MessageId) -> Result<Written<()>, ChatError> {
    set_pin(pool, user, id, true).await
}

/// `user` unpins message `id`.
pub async fn unpin_message(pool: &PgPool, user: UserId, id: MessageId) -> Result<Written<()>, ChatError> {
    set_pin(pool, user, id, false).await
}

async fn set_pin(pool: &PgPool, user: UserId, id: MessageId, pin: bool) -> Result<Written<()>, ChatError> {
    let (message, access) = message_access(pool, id, user).await?;
    rules::may_write(&access)?;
    if message.deleted_at.is_some() {
        return Err(ChatError::MessageDeleted);
    }
    let mut tx = pool.begin().await?;
    if !db::messages::set_pin(&mut tx, id, pin.then_some(user)).await? {
        return Ok(Written::without_events(()));
    }
    let change = PinChange { message_id: id, channel_id: message.channel_id, by: user };
    let payload = if pin { EventPayload::PinAdded(change) } else { EventPayload::PinRemoved(change) };
    events::in_channel(&mut tx, &access.channel, Some(user), payload).await?;
    tx.commit().await?;
    Ok(Written::with_events(()))
}
