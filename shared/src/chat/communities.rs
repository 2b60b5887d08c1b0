//! Communities: creating one (its creator is the owner, with a `#general` channel),
//! changing its name and description (admins), and joining one by invite (from the api,
//! and from the gateway's sign-up with an invite, inside the login's transaction).

use sqlx::{PgConnection, PgPool};

use super::access::{community_role, require_admin};
use super::{ChatError, Written, events};
use crate::api::wire::{ChannelKind, Community, Member, User};
use crate::db;
use crate::domain::ids::{CommunityId, UserId};
use crate::domain::{ChannelName, CommunityName, Slug};
use crate::events::{EventCommunity, EventPayload};

/// `user` creates a community, becoming its owner and the first member of its `#general`.
pub async fn create_community(
    pool: &PgPool,
    user: UserId,
    name: &CommunityName,
    slug: &Slug,
    description: Option<&str>,
) -> Result<Written<Community>, ChatError> {
    let general = ChannelName::parse("name", "general").map_err(|_| ChatError::Inconsistent("#general is a name"))?;
    let mut tx = pool.begin().await?;
    let community = db::communities::create(&mut tx, user, name, slug, description).await.map_err(|err| {
        if db::violated_constraint(&err) == Some("communities_slug_unique") {
            ChatError::SlugTaken(slug.to_string())
        } else {
            err.into()
        }
    })?;
    let channel = db::channels::create(&mut tx, community.id, ChannelKind::Public, &general, None, user).await?;
    db::channels::add_member(&mut tx, channel.id, user).await?;
    events::in_channel(&mut tx, &channel, Some(user), EventPayload::ChannelCreated(channel.clone())).await?;
    tx.commit().await?;
    Ok(Written::with_events(community))
}

/// `user`, an admin, renames or describes `community` (`Some(None)` clears the
/// description). Returns it with `user`'s role; the broadcast carries no viewer's role.
pub async fn update_community(
    pool: &PgPool,
    user: UserId,
    community: CommunityId,
    name: Option<&CommunityName>,
    description: Option<Option<&str>>,
    link_previews: Option<bool>,
) -> Result<Written<Community>, ChatError> {
    require_admin(community_role(pool, community, user).await?)?;
    let mut tx = pool.begin().await?;
    db::communities::update(&mut tx, community, name, description, link_previews).await?;
    let updated = db::communities::get_for_member(&mut *tx, community, user)
        .await?
        .ok_or(ChatError::Inconsistent("an updated community vanished"))?;
    let broadcast = EventCommunity::from(updated.clone());
    events::in_community(&mut tx, community, user, EventPayload::CommunityUpdated(broadcast)).await?;
    tx.commit().await?;
    Ok(Written::with_events(updated))
}

/// `user` joins the community invite `code` leads to. Already being a member is fine and
/// uses nothing up.
pub async fn accept_invite(pool: &PgPool, user: UserId, code: &str) -> Result<Written<Member>, ChatError> {
    let community = db::invites::usable(pool, code).await?.ok_or(ChatError::InviteInvalid)?;
    let user = db::users::get(pool, user).await?.ok_or(ChatError::AccountGone)?;
    let mut tx = pool.begin().await?;
    let joined = join_by_invite(&mut tx, &user, code, community).await?;
    tx.commit().await?;
    let member = Member { user, channel_id: None };
    Ok(if joined { Written::with_events(member) } else { Written::without_events(member) })
}

/// The invite acceptance inside the caller's transaction: membership (unless banned, or
/// already a member, which uses nothing up), one use of the invite, and the
/// `member.joined` event. True if `user` joined.
pub async fn join_by_invite(
    tx: &mut PgConnection,
    user: &User,
    code: &str,
    community: CommunityId,
) -> Result<bool, ChatError> {
    if db::communities::is_banned(&mut *tx, community, user.id).await? {
        return Err(ChatError::Banned);
    }
    // Membership first: someone already in (or joining concurrently) uses nothing up.
    if !db::communities::add_member(tx, community, user.id).await? {
        return Ok(false);
    }
    if !db::invites::consume(tx, code).await? {
        return Err(ChatError::InviteInvalid);
    }
    let member = Member { user: user.clone(), channel_id: None };
    // The new member's open streams learn at once (their own subject) and widen.
    events::for_user(tx, user.id, EventPayload::MemberJoined(member.clone())).await?;
    events::in_community(tx, community, user.id, EventPayload::MemberJoined(member)).await?;
    Ok(true)
}
