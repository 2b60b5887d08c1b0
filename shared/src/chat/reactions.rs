//! Reacting to a message and taking the reaction back (a member who is not muted, in an
//! open channel, not frozen unless an admin); both idempotent, and only a change is
//! broadcast.

use sqlx::PgPool;

use super::access::message_access;
use super::{ChatError, Written, events, rules};
use crate::api::wire::ReactionChange;
use crate::db;
use crate::domain::Emoji;
use crate::domain::ids::{MessageId, UserId};
use crate::events::EventPayload;

/// `user` reacts to message `id` with `emoji` (a member, in an open channel, on a live
/// message).
pub async fn add_reaction(pool: &PgPool, user: UserId, id: MessageId, emoji: &Emoji) -> Result<Written<()>, ChatError> {
    react(pool, user, id, emoji, true).await
}

/// `user` takes back their `emoji` reaction to message `id`.
pub async fn remove_reaction(
    pool: &PgPool,
    user: UserId,
    id: MessageId,
    emoji: &Emoji,
) -> Result<Written<()>, ChatError> {
    react(pool, user, id, emoji, false).await
}

async fn react(pool: &PgPool, user: UserId, id: MessageId, emoji: &Emoji, add: bool) -> Result<Written<()>, ChatError> {
    let (message, access) = message_access(pool, id, user).await?;
    rules::may_write(&access)?;
    if message.deleted_at.is_some() {
        return Err(ChatError::MessageDeleted);
    }
    let mut tx = pool.begin().await?;
    let standing = rules::standing(&mut tx, &access.channel, user).await?;
    rules::may_react(&access, &standing)?;
    let changed = if add {
        db::messages::add_reaction(&mut tx, id, user, emoji).await?
    } else {
        db::messages::remove_reaction(&mut tx, id, user, emoji).await?
    };
    if !changed {
        return Ok(Written::without_events(()));
    }
    let change = ReactionChange {
        message_id: id,
        channel_id: message.channel_id,
        user_id: user,
        emoji: emoji.as_str().to_owned(),
    };
    let payload = if add { EventPayload::ReactionAdded(change) } else { EventPayload::ReactionRemoved(change) };
    events::in_channel(&mut tx, &access.channel, Some(user), payload).await?;
    tx.commit().await?;
    Ok(Written::with_events(()))
}
