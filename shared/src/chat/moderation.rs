//! Moderating a community: bans, kicks, timed mutes and role changes (admins, under the
//! owner protections), a channel's slow mode and freeze, purges, and reading the audit log. Each
//! action writes, in one transaction, its rows, the access events the stream core follows
//! (a removal on the target's own subject and on the community's, and on each channel's it
//! left), a `system` notification to its target, and an `audit_log` row with the request's
//! trace id. The rules these set are applied to every writer in `rules`.

use serde_json::json;
use sqlx::{PgConnection, PgPool};

use super::access::{channel_access, community_role, require_admin};
use super::{Actor, ChatError, Written, events, notifications};
use crate::api::wire::{
    AuditRecord, Ban, Channel, CommunityMember, Member, MessagesPurged, Mute, MutedMember, Role, User,
};
use crate::db;
use crate::db::audit::{AuditEntry, AuditQuery};
use crate::db::moderation::Sanction;
use crate::domain::ids::{ChannelId, CommunityId, UserId};
use crate::events::{Event, EventPayload, subject};

/// An action on a member: whom, why, and for how long (seconds; `None`: until lifted).
#[derive(Clone, Copy, Debug)]
pub struct Target<'a> {
    pub user: UserId,
    pub reason: Option<&'a str>,
    pub secs: Option<u32>,
}

/// Records `action` by `actor` on `target` (a user) in `community`'s log.
async fn audit(
    tx: &mut PgConnection,
    actor: Actor<'_>,
    community: CommunityId,
    action: &str,
    target: Option<(&str, uuid::Uuid)>,
    details: serde_json::Value,
) -> Result<(), sqlx::Error> {
    let entry = AuditEntry {
        community_id: Some(community),
        actor_id: Some(actor.user),
        action,
        target,
        details,
        ip: actor.ip,
        trace_id: actor.trace_id,
    };
    db::audit::record(tx, &entry).await
}

/// The owner protections, checked inside the action's transaction with the target's
/// membership row locked: nobody acts on themselves or on the owner, and only the owner on
/// an admin. Returns the target's role (`None` if not a member).
async fn protect(
    tx: &mut PgConnection,
    community: CommunityId,
    actor: UserId,
    target: UserId,
) -> Result<Option<Role>, ChatError> {
    if actor == target {
        return Err(ChatError::CannotModerateSelf);
    }
    let target_role = db::communities::role_for_update(tx, community, target).await?;
    let actor_role = db::communities::role_of(&mut *tx, community, actor).await?;
    match (actor_role, target_role) {
        (None | Some(Role::Member), _) => Err(ChatError::AdminOnly),
        (_, Some(Role::Owner)) => Err(ChatError::OwnerProtected),
        (Some(Role::Admin), Some(Role::Admin)) => Err(ChatError::AdminProtected),
        _ => Ok(target_role),
    }
}

/// The admin check before any work: `CommunityNotFound`, `NotCommunityMember`, `AdminOnly`.
async fn require_moderator(pool: &PgPool, community: CommunityId, actor: UserId) -> Result<(), ChatError> {
    require_admin(community_role(pool, community, actor).await?)
}

/// Takes `user` out of `community` and every channel of it, and tells every stream that
/// should narrow: each channel's subject (its members' lists), then the user's own subject
/// and the community's, both with the community-wide removal the stream core drops the
/// whole community on.
async fn remove_from_community(
    tx: &mut PgConnection,
    community: CommunityId,
    user: &User,
    actor: UserId,
) -> Result<(), ChatError> {
    let channels = db::channels::remove_from_community(tx, community, user.id).await?;
    db::communities::remove_member(tx, community, user.id).await?;
    for channel in &channels {
        let member = Member { user: user.clone(), channel_id: Some(channel.id) };
        events::in_channel(tx, channel, Some(actor), EventPayload::MemberRemoved(member)).await?;
    }
    let member = Member { user: user.clone(), channel_id: None };
    let own = Event::new(EventPayload::MemberRemoved(member.clone()), Some(community), None, Some(actor));
    db::outbox::enqueue(tx, &subject::notifications(user.id), &own).await?;
    events::in_community(tx, community, actor, EventPayload::MemberRemoved(member)).await?;
    Ok(())
}

/// The user a moderation names (`UnknownUser` if none).
async fn target_user(pool: &PgPool, user: UserId) -> Result<User, ChatError> {
    db::users::get(pool, user).await?.ok_or(ChatError::UnknownUser)
}

/// `actor`, an admin, bans `target` from `community` (member or not yet): out at once of
/// the community and its channels, and unable to come back by invite until the ban ends
/// or is lifted. Banning again replaces the reason and the end.
pub async fn ban(
    pool: &PgPool,
    actor: Actor<'_>,
    community: CommunityId,
    target: Target<'_>,
) -> Result<Written<Ban>, ChatError> {
    require_moderator(pool, community, actor.user).await?;
    let user = target_user(pool, target.user).await?;
    let mut tx = pool.begin().await?;
    let role = protect(&mut tx, community, actor.user, user.id).await?;
    let sanction = Sanction { community, user: user.id, by: actor.user, reason: target.reason, secs: target.secs };
    let ban = db::moderation::ban(&mut tx, &sanction).await?;
    if role.is_some() {
        remove_from_community(&mut tx, community, &user, actor.user).await?;
    }
    let details = json!({"action": "ban", "reason": target.reason, "expires_at": ban.expires_at.map(rfc3339)});
    notifications::system(&mut tx, user.id, community, actor.user, details.clone()).await?;
    audit(&mut tx, actor, community, "member.ban", Some(("user", user.id.as_uuid())), details).await?;
    tx.commit().await?;
    Ok(Written::with_events(ban))
}

/// `actor`, an admin, lifts `user`'s ban (`BanNotFound` if none is in force).
pub async fn unban(
    pool: &PgPool,
    actor: Actor<'_>,
    community: CommunityId,
    user: UserId,
) -> Result<Written<()>, ChatError> {
    require_moderator(pool, community, actor.user).await?;
    let mut tx = pool.begin().await?;
    if !db::moderation::unban(&mut tx, community, user).await? {
        return Err(ChatError::BanNotFound);
    }
    let details = json!({"action": "unban"});
    notifications::system(&mut tx, user, community, actor.user, details.clone()).await?;
    audit(&mut tx, actor, community, "member.unban", Some(("user", user.as_uuid())), details).await?;
    tx.commit().await?;
    Ok(Written::with_events(()))
}

/// The bans in force in `community`, for its admins.
pub async fn list_bans(pool: &PgPool, user: UserId, community: CommunityId) -> Result<Vec<Ban>, ChatError> {
    require_moderator(pool, community, user).await?;
    Ok(db::moderation::bans(pool, community).await?)
}

/// `actor`, an admin, removes member `target` from `community` and all its channels; an
/// invite brings them back.
pub async fn kick(
    pool: &PgPool,
    actor: Actor<'_>,
    community: CommunityId,
    target: Target<'_>,
) -> Result<Written<()>, ChatError> {
    require_moderator(pool, community, actor.user).await?;
    let user = target_user(pool, target.user).await?;
    let mut tx = pool.begin().await?;
    if protect(&mut tx, community, actor.user, user.id).await?.is_none() {
        return Err(ChatError::TargetNotCommunityMember);
    }
    remove_from_community(&mut tx, community, &user, actor.user).await?;
    let details = json!({"action": "kick", "reason": target.reason});
    notifications::system(&mut tx, user.id, community, actor.user, details.clone()).await?;
    audit(&mut tx, actor, community, "member.kick", Some(("user", user.id.as_uuid())), details).await?;
    tx.commit().await?;
    Ok(Written::with_events(()))
}

/// `actor`, an admin, mutes `target` in `community`: they read, but cannot post or react
/// until the mute ends (`rules`). Muting again replaces the end.
pub async fn mute(
    pool: &PgPool,
    actor: Actor<'_>,
    community: CommunityId,
    target: Target<'_>,
) -> Result<Written<Mute>, ChatError> {
    require_moderator(pool, community, actor.user).await?;
    let user = target_user(pool, target.user).await?;
    let mut tx = pool.begin().await?;
    if protect(&mut tx, community, actor.user, user.id).await?.is_none() {
        return Err(ChatError::TargetNotCommunityMember);
    }
    let sanction = Sanction { community, user: user.id, by: actor.user, reason: target.reason, secs: target.secs };
    let mute = db::moderation::mute(&mut tx, &sanction).await?;
    let details = json!({"action": "mute", "reason": target.reason, "muted_until": mute.muted_until.map(rfc3339)});
    notifications::system(&mut tx, user.id, community, actor.user, details.clone()).await?;
    audit(&mut tx, actor, community, "member.mute", Some(("user", user.id.as_uuid())), details).await?;
    tx.commit().await?;
    Ok(Written::with_events(mute))
}

/// The mutes in force in `community`, for its admins (as the mutes are made).
pub async fn list_mutes(pool: &PgPool, user: UserId, community: CommunityId) -> Result<Vec<MutedMember>, ChatError> {
    require_moderator(pool, community, user).await?;
    Ok(db::moderation::mutes(pool, community).await?)
}

/// `actor`, an admin, lifts `user`'s mute (`MuteNotFound` if none is in force).
pub async fn unmute(
    pool: &PgPool,
    actor: Actor<'_>,
    community: CommunityId,
    user: UserId,
) -> Result<Written<()>, ChatError> {
    require_moderator(pool, community, actor.user).await?;
    let mut tx = pool.begin().await?;
    if !db::moderation::unmute(&mut tx, community, user).await? {
        return Err(ChatError::MuteNotFound);
    }
    let details = json!({"action": "unmute"});
    notifications::system(&mut tx, user, community, actor.user, details.clone()).await?;
    audit(&mut tx, actor, community, "member.unmute", Some(("user", user.as_uuid())), details).await?;
    tx.commit().await?;
    Ok(Written::with_events(()))
}

/// `actor`, an admin, makes member `target` an admin or a plain member (ownership is not
/// given this way; only the owner changes an admin's role). Returns the member as listed.
pub async fn set_role(
    pool: &PgPool,
    actor: Actor<'_>,
    community: CommunityId,
    target: UserId,
    role: Role,
    reason: Option<&str>,
) -> Result<Written<CommunityMember>, ChatError> {
    if role == Role::Owner {
        return Err(ChatError::InvalidRole);
    }
    require_moderator(pool, community, actor.user).await?;
    let user = target_user(pool, target).await?;
    let mut tx = pool.begin().await?;
    let Some(before) = protect(&mut tx, community, actor.user, user.id).await? else {
        return Err(ChatError::TargetNotCommunityMember);
    };
    let member = |members: Vec<CommunityMember>| {
        members.into_iter().find(|m| m.user.id == target).ok_or(ChatError::Inconsistent("a member vanished"))
    };
    if before == role {
        tx.commit().await?;
        return Ok(Written::without_events(member(db::communities::members(pool, community).await?)?));
    }
    db::communities::set_role(&mut tx, community, user.id, role).await?;
    let details = json!({"action": "role", "role": role.as_str(), "from": before.as_str(), "reason": reason});
    notifications::system(&mut tx, user.id, community, actor.user, details.clone()).await?;
    audit(&mut tx, actor, community, "member.role", Some(("user", user.id.as_uuid())), details).await?;
    let members = db::communities::members(&mut *tx, community).await?;
    tx.commit().await?;
    Ok(Written::with_events(member(members)?))
}

/// What changes in a channel's moderation.
#[derive(Clone, Copy, Debug, Default)]
pub struct ChannelModeration<'a> {
    pub slow_mode_secs: Option<u32>,
    pub frozen: Option<bool>,
    pub reason: Option<&'a str>,
}

/// `actor`, an admin of the channel's community who can see it, sets its slow mode and
/// freeze; the change is broadcast as `channel.updated` and audited (`channel.slow_mode`,
/// `channel.freeze`, `channel.unfreeze`) when something changed.
pub async fn moderate_channel(
    pool: &PgPool,
    actor: Actor<'_>,
    channel_id: ChannelId,
    change: ChannelModeration<'_>,
) -> Result<Written<Channel>, ChatError> {
    let before = channel_access(pool, channel_id, actor.user).await?.channel;
    let community = before.community_id.ok_or(ChatError::NotCommunityChannel)?;
    require_moderator(pool, community, actor.user).await?;
    let mut tx = pool.begin().await?;
    let channel = db::channels::set_moderation(&mut tx, channel_id, change.slow_mode_secs, change.frozen).await?;
    let target = Some(("channel", channel_id.as_uuid()));
    let mut changed = false;
    if channel.slow_mode_secs != before.slow_mode_secs {
        let details = json!({"slow_mode_secs": channel.slow_mode_secs, "reason": change.reason});
        audit(&mut tx, actor, community, "channel.slow_mode", target, details).await?;
        changed = true;
    }
    if channel.frozen_at.is_some() != before.frozen_at.is_some() {
        let action = if channel.frozen_at.is_some() { "channel.freeze" } else { "channel.unfreeze" };
        audit(&mut tx, actor, community, action, target, json!({"reason": change.reason})).await?;
        changed = true;
    }
    if !changed {
        return Ok(Written::without_events(channel));
    }
    events::in_channel(&mut tx, &channel, Some(actor.user), EventPayload::ChannelUpdated(channel.clone())).await?;
    tx.commit().await?;
    Ok(Written::with_events(channel))
}

/// The most messages one purge deletes.
pub const PURGE_MAX: u32 = 1000;

/// Soft-deletes the `count` (1 to `PURGE_MAX`) newest messages of a community channel, by
/// an admin, in one transaction with its `channel.purge` audit row and one
/// `messages.purged` event naming them all (the stream core drops each one's text as for
/// `message.deleted`). Their files go with them (the api's sweeper, after the commit).
pub async fn purge(
    pool: &PgPool,
    actor: Actor<'_>,
    channel_id: ChannelId,
    count: u32,
    reason: Option<&str>,
) -> Result<Written<MessagesPurged>, ChatError> {
    if !(1..=PURGE_MAX).contains(&count) {
        return Err(ChatError::InvalidPurgeCount);
    }
    let channel = channel_access(pool, channel_id, actor.user).await?.channel;
    let community = channel.community_id.ok_or(ChatError::NotCommunityChannel)?;
    require_moderator(pool, community, actor.user).await?;
    super::rules::channel_open(&channel)?;
    let mut tx = pool.begin().await?;
    let ids = db::messages::purge_latest(&mut tx, channel_id, i64::from(count)).await?;
    let purged = MessagesPurged { channel_id, ids };
    if purged.ids.is_empty() {
        return Ok(Written::without_events(purged));
    }
    let details = json!({"requested": count, "purged": purged.ids.len(), "message_ids": purged.ids, "reason": reason});
    audit(&mut tx, actor, community, "channel.purge", Some(("channel", channel_id.as_uuid())), details).await?;
    events::in_channel(&mut tx, &channel, Some(actor.user), EventPayload::MessagesPurged(purged.clone())).await?;
    tx.commit().await?;
    Ok(Written::with_events(purged))
}

/// A page of `community`'s audit log for `user`, an admin.
pub async fn audit_log(pool: &PgPool, user: UserId, query: &AuditQuery<'_>) -> Result<Vec<AuditRecord>, ChatError> {
    require_moderator(pool, query.community, user).await?;
    Ok(db::audit::list(pool, query).await?)
}

fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}
