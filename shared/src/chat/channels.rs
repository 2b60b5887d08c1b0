//! Creating a channel and changing one: its topic (any member of an open channel), its
//! name and whether it is archived (the community's admins). Archiving is the change
//! after which nothing else in the channel may change (`rules::channel_open`).

use sqlx::PgPool;

use super::access::{channel_access, community_role, require_admin};
use super::{ChatError, Written, events, rules};
use crate::api::wire::{Channel, ChannelKind};
use crate::db;
use crate::domain::ChannelName;
use crate::domain::ids::{ChannelId, CommunityId, UserId};
use crate::events::EventPayload;

/// `user`, a member of `community`, creates a public or private channel and is its first
/// member.
pub async fn create_channel(
    pool: &PgPool,
    user: UserId,
    community: CommunityId,
    kind: ChannelKind,
    name: &ChannelName,
    topic: Option<&str>,
) -> Result<Written<Channel>, ChatError> {
    community_role(pool, community, user).await?;
    let mut tx = pool.begin().await?;
    let channel = db::channels::create(&mut tx, community, kind, name, topic, user).await.map_err(|err| {
        if db::violated_constraint(&err) == Some("channels_name_unique") {
            ChatError::ChannelNameTaken(name.to_string())
        } else {
            err.into()
        }
    })?;
    db::channels::add_member(&mut tx, channel.id, user).await?;
    events::in_channel(&mut tx, &channel, Some(user), EventPayload::ChannelCreated(channel.clone())).await?;
    if kind == ChannelKind::Private {
        // The creator's streams do not carry the new channel's subject yet: tell them on
        // their own, so they widen at once.
        events::for_user(&mut tx, user, EventPayload::ChannelCreated(channel.clone())).await?;
    }
    tx.commit().await?;
    Ok(Written::with_events(channel))
}

/// What a channel update changes; absent fields stay.
#[derive(Clone, Copy, Debug, Default)]
pub struct ChannelChange<'a> {
    pub name: Option<&'a ChannelName>,
    /// `Some(None)` clears the topic.
    pub topic: Option<Option<&'a str>>,
    pub archived: Option<bool>,
}

/// Applies `change` to channel `id` for `user`: renaming and (un)archiving need a
/// community admin (who need not have joined); a topic alone needs a member of an open
/// channel. Broadcasts `channel.archived` when it archives, `channel.updated` otherwise.
pub async fn update_channel(
    pool: &PgPool,
    user: UserId,
    id: ChannelId,
    change: ChannelChange<'_>,
) -> Result<Written<Channel>, ChatError> {
    let access = channel_access(pool, id, user).await?;
    let community = access.channel.community_id.ok_or(ChatError::NotCommunityChannel)?;
    if change.name.is_some() || change.archived.is_some() {
        require_admin(community_role(pool, community, user).await?)?;
    } else {
        rules::may_write(&access)?;
    }
    let mut tx = pool.begin().await?;
    let channel =
        db::channels::update(&mut tx, id, change.name, change.topic, change.archived).await.map_err(|err| {
            match (db::violated_constraint(&err), change.name) {
                (Some("channels_name_unique"), Some(name)) => ChatError::ChannelNameTaken(name.to_string()),
                _ => err.into(),
            }
        })?;
    let payload = if channel.archived_at.is_some() && access.channel.archived_at.is_none() {
        EventPayload::ChannelArchived(channel.clone())
    } else {
        EventPayload::ChannelUpdated(channel.clone())
    };
    events::in_channel(&mut tx, &channel, Some(user), payload).await?;
    tx.commit().await?;
    Ok(Written::with_events(channel))
}

/// `user`, a community admin, archives channel `id`: its history stays readable, nothing
/// in it can change any more.
pub async fn archive_channel(pool: &PgPool, user: UserId, id: ChannelId) -> Result<Written<Channel>, ChatError> {
    update_channel(pool, user, id, ChannelChange { archived: Some(true), ..ChannelChange::default() }).await
}
