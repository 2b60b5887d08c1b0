//! A member's own preferences in a channel (notify level, mute, star); only their own
//! sessions hear of a change.

use sqlx::PgPool;
use time::OffsetDateTime;

use super::access::channel_access;
use super::{ChatError, Written, events};
use crate::api::wire::{ChannelPreferences, NotifyLevel};
use crate::db;
use crate::domain::ids::{ChannelId, UserId};
use crate::events::EventPayload;

/// The preferences to change; absent fields stay.
#[derive(Clone, Copy, Debug, Default)]
pub struct PreferencesChange {
    pub notify_level: Option<NotifyLevel>,
    /// `Some(None)` unmutes.
    pub muted_until: Option<Option<OffsetDateTime>>,
    pub starred: Option<bool>,
}

/// Changes `user`'s preferences in `channel_id`, a channel they are a member of, and tells
/// their other sessions.
pub async fn update_preferences(
    pool: &PgPool,
    user: UserId,
    channel_id: ChannelId,
    change: PreferencesChange,
) -> Result<Written<ChannelPreferences>, ChatError> {
    let access = channel_access(pool, channel_id, user).await?;
    if !access.is_member {
        return Err(ChatError::NotChannelMember);
    }
    let mut tx = pool.begin().await?;
    let preferences = db::channels::set_preferences(
        &mut *tx,
        channel_id,
        user,
        change.notify_level,
        change.muted_until,
        change.starred,
    )
    .await?
    .ok_or(ChatError::NotChannelMember)?;
    events::for_user(&mut tx, user, EventPayload::PreferencesUpdated(preferences.clone())).await?;
    tx.commit().await?;
    Ok(Written::with_events(preferences))
}
