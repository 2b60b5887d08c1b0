//! Who may see what: the visibility and role checks every channel operation starts with,
//! reads and writes alike. A private channel's or DM's existence does not leak: to anyone
//! outside it, it does not exist.

use sqlx::PgPool;

use super::ChatError;
use crate::api::wire::{Channel, ChannelKind, Message, Role};
use crate::db;
use crate::domain::ids::{ChannelId, CommunityId, MessageId, UserId};

/// The caller's standing in a channel they may see.
#[derive(Debug)]
pub struct ChannelAccess {
    pub channel: Channel,
    pub is_member: bool,
}

/// `user`'s role in `community`: `CommunityNotFound` if it does not exist,
/// `NotCommunityMember` if the user is not in it.
pub async fn community_role(pool: &PgPool, community: CommunityId, user: UserId) -> Result<Role, ChatError> {
    if let Some(role) = db::communities::role_of(pool, community, user).await? {
        return Ok(role);
    }
    if db::communities::exists(pool, community).await? {
        Err(ChatError::NotCommunityMember)
    } else {
        Err(ChatError::CommunityNotFound)
    }
}

/// Refuses anyone below admin.
pub fn require_admin(role: Role) -> Result<(), ChatError> {
    match role {
        Role::Owner | Role::Admin => Ok(()),
        Role::Member => Err(ChatError::AdminOnly),
    }
}

/// Loads `channel` if `user` may see it: a public channel is visible to its community's
/// members; a private channel or DM only to its own members (`ChannelNotFound` to
/// everyone else).
pub async fn channel_access(pool: &PgPool, channel_id: ChannelId, user: UserId) -> Result<ChannelAccess, ChatError> {
    let (channel, is_member) =
        db::channels::get_with_membership(pool, channel_id, user).await?.ok_or(ChatError::ChannelNotFound)?;
    match (channel.kind, channel.community_id) {
        (ChannelKind::Public, Some(community)) if !is_member => {
            community_role(pool, community, user).await?;
        }
        _ if !is_member => return Err(ChatError::ChannelNotFound),
        _ => {}
    }
    Ok(ChannelAccess { channel, is_member })
}

/// The message `id` and the caller's access to its channel (`MessageNotFound` for both a
/// missing message and one in a channel the caller cannot see).
pub async fn message_access(pool: &PgPool, id: MessageId, user: UserId) -> Result<(Message, ChannelAccess), ChatError> {
    let message = db::messages::get(pool, id).await?.ok_or(ChatError::MessageNotFound)?;
    let access = channel_access(pool, message.channel_id, user).await.map_err(|err| match err {
        ChatError::Database(_) => err,
        _ => ChatError::MessageNotFound,
    })?;
    Ok((message, access))
}
