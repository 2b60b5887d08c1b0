//! Who may see and write what: the permission checks every channel route starts with.

use ajet_shared::api::ErrorCode;
use ajet_shared::api::wire::{Channel, ChannelKind, Message, Role};
use ajet_shared::db::{self, PgPool};
use ajet_shared::domain::ids::{ChannelId, CommunityId, MessageId, UserId};

use crate::error::ApiError;

/// The caller's standing in a channel they may see.
#[derive(Debug)]
pub struct ChannelAccess {
    pub channel: Channel,
    pub is_member: bool,
}

/// `user`'s role in `community`: 404 if it does not exist, 403 if the user is not in it.
pub async fn community_role(pool: &PgPool, community: CommunityId, user: UserId) -> Result<Role, ApiError> {
    if let Some(role) = db::communities::role_of(pool, community, user).await? {
        return Ok(role);
    }
    if db::communities::exists(pool, community).await? {
        Err(ApiError::forbidden(ErrorCode::NotACommunityMember, "you are not a member of this community"))
    } else {
        Err(ApiError::not_found(ErrorCode::CommunityNotFound, "there is no such community"))
    }
}

/// Loads `channel` if `user` may see it: a public channel is visible to its community's
/// members; a private channel or DM only to its own members, and to everyone else it does
/// not exist (404), so its existence does not leak.
pub async fn channel_access(pool: &PgPool, channel_id: ChannelId, user: UserId) -> Result<ChannelAccess, ApiError> {
    let not_found =
        || ApiError::not_found(ErrorCode::ChannelNotFound, "there is no such channel, or you cannot see it");
    let channel = db::channels::get(pool, channel_id).await?.ok_or_else(not_found)?;
    let is_member = db::channels::is_member(pool, channel_id, user).await?;
    match (channel.kind, channel.community_id) {
        (ChannelKind::Public, Some(community)) if !is_member => {
            community_role(pool, community, user).await?;
        }
        _ if !is_member => return Err(not_found()),
        _ => {}
    }
    Ok(ChannelAccess { channel, is_member })
}

/// Refuses anyone below admin.
pub fn require_admin(role: Role) -> Result<(), ApiError> {
    match role {
        Role::Owner | Role::Admin => Ok(()),
        Role::Member => {
            Err(ApiError::forbidden(ErrorCode::AdminOnly, "only the community's admins and owner may do this"))
        }
    }
}

/// The message `id` and the caller's access to its channel (404 for both a missing
/// message and one in a channel the caller cannot see).
pub async fn message_access(pool: &PgPool, id: MessageId, user: UserId) -> Result<(Message, ChannelAccess), ApiError> {
    let not_found =
        || ApiError::not_found(ErrorCode::MessageNotFound, "there is no such message, or you cannot see it");
    let message = db::messages::get(pool, id).await?.ok_or_else(not_found)?;
    let access = channel_access(pool, message.channel_id, user).await.map_err(|err| {
        if err.status == http::StatusCode::INTERNAL_SERVER_ERROR || err.status == http::StatusCode::SERVICE_UNAVAILABLE
        {
            err
        } else {
            not_found()
        }
    })?;
    Ok((message, access))
}

/// Refuses writes by non-members and writes into archived channels.
pub fn require_member(access: &ChannelAccess) -> Result<(), ApiError> {
    if !access.is_member {
        return Err(ApiError::forbidden(ErrorCode::NotAChannelMember, "join the channel first"));
    }
    if access.channel.archived_at.is_some() {
        return Err(ApiError::conflict(
            ErrorCode::ChannelArchived,
            "this channel is archived; nothing can change in it",
        ));
    }
    Ok(())
}
