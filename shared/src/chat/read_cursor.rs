//! Moving a member's read cursor (backwards too: mark unread); only their own sessions
//! hear of it. Reading up to a message also reads the channel's notifications up to it
//! (moving back does not make them unread again).

use sqlx::PgPool;

use super::access::channel_access;
use super::{ChatError, Written, events, notifications};
use crate::api::wire::ReadCursor;
use crate::db;
use crate::domain::ids::{ChannelId, MessageId, UserId};
use crate::events::EventPayload;

/// `user`, a member, has read channel `channel_id` up to top-level message `message_id`.
pub async fn mark_read(
    pool: &PgPool,
    user: UserId,
    channel_id: ChannelId,
    message_id: MessageId,
) -> Result<Written<ReadCursor>, ChatError> {
    let access = channel_access(pool, channel_id, user).await?;
    if !access.is_member {
        return Err(ChatError::NotChannelMember);
    }
    match db::messages::get(pool, message_id).await? {
        Some(message) if message.channel_id == channel_id && message.parent_id.is_none() => {}
        Some(message) if message.channel_id == channel_id => return Err(ChatError::ReadCursorOnReply),
        _ => return Err(ChatError::MessageNotInChannel),
    }
    let cursor = ReadCursor { channel_id, message_id };
    let mut tx = pool.begin().await?;
    db::channels::set_read_cursor(&mut *tx, channel_id, user, message_id).await?;
    events::for_user(&mut tx, user, EventPayload::ReadUpdated(cursor.clone())).await?;
    notifications::read_up_to(&mut tx, user, channel_id, message_id).await?;
    tx.commit().await?;
    Ok(Written::with_events(cursor))
}
