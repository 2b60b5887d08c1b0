//! Direct messages: the one DM (or group DM) of exactly a set of people, created on first
//! use with its memberships.

use sqlx::PgPool;
use time::OffsetDateTime;

use super::{ChatError, Written, events};
use crate::api::wire::{Channel, ChannelKind, Member};
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

/// Group DMs are counted over this window for `group_dms_per_hour`.
const GROUP_DM_WINDOW: time::Duration = time::Duration::HOUR;

/// `user` opens the DM of exactly `members`, creating it if it does not exist; each
/// member then learns of it on their own subject. Creating more than `group_dms_per_hour`
/// group DMs in an hour is refused (opening an existing one never is).
pub async fn open_dm(
    pool: &PgPool,
    user: UserId,
    members: &[UserId],
    group_dms_per_hour: u32,
) -> Result<Written<OpenedDm>, ChatError> {
    if db::users::count_existing(pool, members).await? != i64::try_from(members.len()).unwrap_or(i64::MAX) {
        return Err(ChatError::UnknownUsers);
    }
    let mut tx = pool.begin().await?;
    let (channel, created) = db::channels::get_or_create_dm(&mut tx, members, user).await?;
    if !created {
        return Ok(Written::without_events(OpenedDm { channel, created }));
    }
    if channel.kind == ChannelKind::GroupDm {
        // Counted inside the creating transaction, so the refused DM is rolled back, and
        // under a per-user lock, so concurrent creations count each other.
        db::channels::lock_group_dm_creation(&mut tx, user).await?;
        let now = OffsetDateTime::now_utc();
        let (count, oldest) = db::channels::group_dms_created_since(&mut *tx, user, now - GROUP_DM_WINDOW).await?;
        if count > i64::from(group_dms_per_hour) {
            let retry_after = oldest.map_or(GROUP_DM_WINDOW, |oldest| oldest + GROUP_DM_WINDOW - now);
            let retry_after = u64::try_from(retry_after.whole_seconds()).unwrap_or(1).max(1);
            return Err(ChatError::GroupDmsPerHour { limit: group_dms_per_hour, retry_after });
        }
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
