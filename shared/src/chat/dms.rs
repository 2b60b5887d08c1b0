//! Direct messages: the one DM (or group DM) of exactly a set of people, created on first
//! use with its memberships.

use sqlx::PgPool;

use super::{ChatError, Written, events};
use crate::api::wire::{Channel, Member};
use crate::db;
use crate::domain::ids::UserId;
use crate::events::EventPayload;

/// The DM of exactly `members` (sorted, deduplicated, `user` among them), and whether it
/// was created now.
#[derive(Debug)]
pub struct OpenedDm {
    pub channel: Channel,
    pub created: bool,
}

/// `user` opens the DM of exactly `members`, creating it if it does not exist; each
/// member then learns of it on their own subject.
pub async fn open_dm(pool: &PgPool, user: UserId, members: &[UserId]) -> Result<Written<OpenedDm>, ChatError> {
    if db::users::count_existing(pool, members).await? != i64::try_from(members.len()).unwrap_or(i64::MAX) {
        return Err(ChatError::UnknownUsers);
    }
    let mut tx = pool.begin().await?;
    let (channel, created) = db::channels::get_or_create_dm(&mut tx, members, user).await?;
    if !created {
        return Ok(Written::without_events(OpenedDm { channel, created }));
    }
    events::in_channel(&mut tx, &channel, Some(user), EventPayload::ChannelCreated(channel.clone())).await?;
    for member in db::users::get_many(&mut *tx, members).await? {
        let member = Member { user: member, channel_id: Some(channel.id) };
        // Each member learns of the new DM on their own subject at once (their open
        // streams subscribe to it and refetch), then everyone sees it on the DM's.
        events::for_user(&mut tx, member.user.id, EventPayload::MemberJoined(member.clone())).await?;
        events::in_channel(&mut tx, &channel, Some(user), EventPayload::MemberJoined(member)).await?;
    }
    tx.commit().await?;
    Ok(Written::with_events(OpenedDm { channel, created }))
}
