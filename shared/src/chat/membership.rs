//! Who is in a channel: joining a public channel, leaving, adding someone to a private
//! channel, and an admin removing someone. Each change is broadcast on the channel's
//! subject; an added, removed or leaving member also learns on their own subject, so their
//! open streams widen or narrow at once.

use sqlx::PgPool;

use super::access::{channel_access, community_role, require_admin};
use super::{ChatError, Written, events, notifications, rules};
use crate::api::wire::{Channel, ChannelKind, Member, Role};
use crate::db;
use crate::domain::ids::{ChannelId, UserId};
use crate::events::EventPayload;

/// `user` joins public channel `channel_id` of one of their communities. Joining again
/// changes nothing.
pub async fn join_channel(pool: &PgPool, user: UserId, channel_id: ChannelId) -> Result<Written<Channel>, ChatError> {
    let access = channel_access(pool, channel_id, user).await?;
    if access.is_member {
        return Ok(Written::without_events(access.channel));
    }
    if access.channel.kind != ChannelKind::Public {
        return Err(ChatError::InviteOnly);
    }
    rules::channel_open(&access.channel)?;
    let user = db::users::get(pool, user).await?.ok_or(ChatError::AccountGone)?;
    let actor = user.id;
    let mut tx = pool.begin().await?;
    if !db::channels::add_member(&mut tx, channel_id, actor).await? {
        return Ok(Written::without_events(access.channel));
    }
    let member = Member { user, channel_id: Some(channel_id) };
    events::in_channel(&mut tx, &access.channel, Some(actor), EventPayload::MemberJoined(member)).await?;
    tx.commit().await?;
    Ok(Written::with_events(access.channel))
}

/// `user` leaves channel `channel_id` (DMs cannot be left). Leaving a channel one is not
/// in changes nothing.
pub async fn leave_channel(pool: &PgPool, user: UserId, channel_id: ChannelId) -> Result<Written<()>, ChatError> {
    let access = channel_access(pool, channel_id, user).await?;
    if matches!(access.channel.kind, ChannelKind::Dm | ChannelKind::GroupDm) {
        return Err(ChatError::DmMembershipFixed);
    }
    let user = db::users::get(pool, user).await?.ok_or(ChatError::AccountGone)?;
    let actor = user.id;
    let mut tx = pool.begin().await?;
    if !db::channels::remove_member(&mut tx, channel_id, actor).await? {
        return Ok(Written::without_events(()));
    }
    let member = Member { user, channel_id: Some(channel_id) };
    // The user's other streams narrow at once, whatever the channel's kind.
    events::for_user(&mut tx, actor, EventPayload::MemberLeft(member.clone())).await?;
    events::in_channel(&mut tx, &access.channel, Some(actor), EventPayload::MemberLeft(member)).await?;
    tx.commit().await?;
    Ok(Written::with_events(()))
}

/// A member added, and whether they were new to the channel.
#[derive(Debug)]
pub struct Added {
    pub member: Member,
    pub added: bool,
}

/// `actor`, a member of private channel `channel_id`, adds `target`, a member of its
/// community (public channels are joined, DM membership is fixed).
pub async fn add_member(
    pool: &PgPool,
    actor: UserId,
    channel_id: ChannelId,
    target: UserId,
) -> Result<Written<Added>, ChatError> {
    let access = channel_access(pool, channel_id, actor).await?;
    if access.channel.kind != ChannelKind::Private {
        return Err(ChatError::NotPrivate);
    }
    rules::may_write(&access)?;
    let community =
        access.channel.community_id.ok_or(ChatError::Inconsistent("a private channel without community"))?;
    if db::communities::role_of(pool, community, target).await?.is_none() {
        return Err(ChatError::TargetNotCommunityMember);
    }
    let user = db::users::get(pool, target).await?.ok_or(ChatError::UnknownUser)?;
    let member = Member { user, channel_id: Some(channel_id) };
    let mut tx = pool.begin().await?;
    if !db::channels::add_member(&mut tx, channel_id, target).await? {
        return Ok(Written::without_events(Added { member, added: false }));
    }
    // The added member's open streams learn at once (their own subject), subscribe to
    // the channel and refetch; the channel's members see it on the channel's subject.
    events::for_user(&mut tx, target, EventPayload::MemberJoined(member.clone())).await?;
    events::in_channel(&mut tx, &access.channel, Some(actor), EventPayload::MemberJoined(member.clone())).await?;
    notifications::invite(&mut tx, target, &access.channel, actor).await?;
    tx.commit().await?;
    Ok(Written::with_events(Added { member, added: true }))
}

/// `actor`, an admin of the channel's community, removes `target` from channel
/// `channel_id` (an admin cannot remove the owner; leaving oneself is `leave_channel`).
pub async fn remove_member(
    pool: &PgPool,
    actor: UserId,
    channel_id: ChannelId,
    target: UserId,
) -> Result<Written<()>, ChatError> {
    let access = channel_access(pool, channel_id, actor).await?;
    let community = access.channel.community_id.ok_or(ChatError::DmMembershipFixed)?;
    let role = community_role(pool, community, actor).await?;
    require_admin(role)?;
    if db::communities::role_of(pool, community, target).await? == Some(Role::Owner) && role != Role::Owner {
        return Err(ChatError::OwnerProtected);
    }
    let user = db::users::get(pool, target).await?.ok_or(ChatError::TargetNotChannelMember)?;
    let mut tx = pool.begin().await?;
    if !db::channels::remove_member(&mut tx, channel_id, target).await? {
        return Err(ChatError::TargetNotChannelMember);
    }
    let member = Member { user, channel_id: Some(channel_id) };
    // The removed member's streams narrow at once (their own subject); the channel's
    // subject tells them too while they still receive it, should one of the two be lost.
    events::for_user(&mut tx, target, EventPayload::MemberRemoved(member.clone())).await?;
    events::in_channel(&mut tx, &access.channel, Some(actor), EventPayload::MemberRemoved(member)).await?;
    tx.commit().await?;
    Ok(Written::with_events(()))
}
