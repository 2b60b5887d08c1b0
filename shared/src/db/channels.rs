//! The `channels` and `channel_members` tables.

use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;

use std::collections::HashMap;

use crate::api::wire::{
    Channel, ChannelKind, ChannelListItem, ChannelPreferences, ChannelRef, NotifyLevel, ReadCursor, UNREAD_CAP, User,
};
use crate::domain::ids::{ChannelId, CommunityId, MessageId, UserId};
use crate::domain::names::ChannelName;

#[derive(sqlx::FromRow)]
pub(crate) struct ChannelRow {
    id: ChannelId,
    community_id: Option<CommunityId>,
    kind: String,
    name: Option<String>,
    topic: Option<String>,
    created_at: OffsetDateTime,
    archived_at: Option<OffsetDateTime>,
    slow_mode_secs: i32,
    frozen_at: Option<OffsetDateTime>,
}

impl From<ChannelRow> for Channel {
    fn from(row: ChannelRow) -> Self {
        Self {
            id: row.id,
            community_id: row.community_id,
            kind: ChannelKind::parse(&row.kind).unwrap_or(ChannelKind::Private),
            name: row.name,
            topic: row.topic,
            created_at: row.created_at,
            archived_at: row.archived_at,
            slow_mode_secs: u32::try_from(row.slow_mode_secs).unwrap_or(0),
            frozen_at: row.frozen_at,
        }
    }
}

const COLUMNS: &str = "id, community_id, kind, name, topic, created_at, archived_at, slow_mode_secs, frozen_at";

/// Inserts a public or private channel. Fails on `channels_name_unique`.
pub async fn create(
    tx: &mut PgConnection,
    community: CommunityId,
    kind: ChannelKind,
    name: &ChannelName,
    topic: Option<&str>,
    created_by: UserId,
) -> Result<Channel, sqlx::Error> {
    let row: ChannelRow = sqlx::query_as(&format!(
        "INSERT INTO channels (id, community_id, kind, name, topic, created_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
    ))
    .bind(ChannelId::generate())
    .bind(community)
    .bind(kind.as_str())
    .bind(name.as_str())
    .bind(topic)
    .bind(created_by)
    .fetch_one(tx)
    .await?;
    Ok(row.into())
}

/// The channel of `community` named `name`, if any (whoever may see it: callers check).
pub async fn find_by_name(
    db: impl PgExecutor<'_>,
    community: CommunityId,
    name: &str,
) -> Result<Option<Channel>, sqlx::Error> {
    let row: Option<ChannelRow> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM channels WHERE community_id = $1 AND name = $2"))
            .bind(community)
            .bind(name)
            .fetch_optional(db)
            .await?;
    Ok(row.map(Channel::from))
}

pub async fn get(db: impl PgExecutor<'_>, id: ChannelId) -> Result<Option<Channel>, sqlx::Error> {
    let row: Option<ChannelRow> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM channels WHERE id = $1")).bind(id).fetch_optional(db).await?;
    Ok(row.map(Channel::from))
}

/// The channel `id`, its row locked until the transaction ends: a write that checks the
/// channel's rules on it cannot interleave with a change of the channel (an archive).
pub async fn get_for_update(tx: &mut PgConnection, id: ChannelId) -> Result<Option<Channel>, sqlx::Error> {
    let row: Option<ChannelRow> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM channels WHERE id = $1 FOR UPDATE"))
        .bind(id)
        .fetch_optional(tx)
        .await?;
    Ok(row.map(Channel::from))
}

#[derive(sqlx::FromRow)]
struct ChannelWithMembership {
    #[sqlx(flatten)]
    channel: ChannelRow,
    is_member: bool,
}

/// The channel `id` and whether `user` is a member of it, in one statement (what every
/// access check starts with).
pub async fn get_with_membership(
    db: impl PgExecutor<'_>,
    id: ChannelId,
    user: UserId,
) -> Result<Option<(Channel, bool)>, sqlx::Error> {
    let row: Option<ChannelWithMembership> = sqlx::query_as(&format!(
        "SELECT {COLUMNS}, EXISTS (
             SELECT 1 FROM channel_members cm WHERE cm.channel_id = channels.id AND cm.user_id = $2
         ) AS is_member
         FROM channels WHERE id = $1"
    ))
    .bind(id)
    .bind(user)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|row| (Channel::from(row.channel), row.is_member)))
}

pub async fn is_member(db: impl PgExecutor<'_>, channel: ChannelId, user: UserId) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM channel_members WHERE channel_id = $1 AND user_id = $2)")
        .bind(channel)
        .bind(user)
        .fetch_one(db)
        .await
}

/// Adds `user` to `channel` with the read cursor at the latest message. Returns false if
/// the user already was a member (nothing changes then).
pub async fn add_member(tx: &mut PgConnection, channel: ChannelId, user: UserId) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO channel_members (channel_id, user_id, last_read_message_id)
         VALUES ($1, $2, (SELECT id FROM messages WHERE channel_id = $1 ORDER BY id DESC LIMIT 1))
         ON CONFLICT DO NOTHING",
    )
    .bind(channel)
    .bind(user)
    .execute(tx)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// Removes `user` from `channel`. False if they were not a member.
pub async fn remove_member(tx: &mut PgConnection, channel: ChannelId, user: UserId) -> Result<bool, sqlx::Error> {
    let deleted = sqlx::query("DELETE FROM channel_members WHERE channel_id = $1 AND user_id = $2")
        .bind(channel)
        .bind(user)
        .execute(tx)
        .await?;
    Ok(deleted.rows_affected() == 1)
}

/// Takes `user` out of every channel of `community` (public and private); returns those
/// channels.
pub async fn remove_from_community(
    tx: &mut PgConnection,
    community: CommunityId,
    user: UserId,
) -> Result<Vec<Channel>, sqlx::Error> {
    let rows: Vec<ChannelRow> = sqlx::query_as(&format!(
        "WITH gone AS (
             DELETE FROM channel_members cm USING channels c
             WHERE cm.channel_id = c.id AND c.community_id = $1 AND cm.user_id = $2
             RETURNING cm.channel_id)
         SELECT {COLUMNS} FROM channels WHERE id IN (SELECT channel_id FROM gone) ORDER BY id"
    ))
    .bind(community)
    .bind(user)
    .fetch_all(tx)
    .await?;
    Ok(rows.into_iter().map(Channel::from).collect())
}

/// Applies the present fields. Fails on `channels_name_unique`.
pub async fn update(
    tx: &mut PgConnection,
    id: ChannelId,
    name: Option<&ChannelName>,
    topic: Option<Option<&str>>,
    archived: Option<bool>,
) -> Result<Channel, sqlx::Error> {
    let row: ChannelRow = sqlx::query_as(&format!(
        "UPDATE channels SET
             name = COALESCE($2, name),
             topic = CASE WHEN $3 THEN $4 ELSE topic END,
             archived_at = CASE WHEN $5 IS NULL THEN archived_at WHEN $5 THEN COALESCE(archived_at, now()) ELSE NULL END
         WHERE id = $1 RETURNING {COLUMNS}"
    ))
    .bind(id)
    .bind(name.map(ChannelName::as_str))
    .bind(topic.is_some())
    .bind(topic.flatten())
    .bind(archived)
    .fetch_one(tx)
    .await?;
    Ok(row.into())
}

/// Sets slow mode (seconds, 0 = off) and the freeze where given; a freeze keeps its start.
pub async fn set_moderation(
    tx: &mut PgConnection,
    id: ChannelId,
    slow_mode_secs: Option<u32>,
    frozen: Option<bool>,
) -> Result<Channel, sqlx::Error> {
    let row: ChannelRow = sqlx::query_as(&format!(
        "UPDATE channels SET
             slow_mode_secs = COALESCE($2, slow_mode_secs),
             frozen_at = CASE WHEN $3 IS NULL THEN frozen_at WHEN $3 THEN COALESCE(frozen_at, now()) ELSE NULL END
         WHERE id = $1 RETURNING {COLUMNS}"
    ))
    .bind(id)
    .bind(slow_mode_secs.map(|secs| i32::try_from(secs).unwrap_or(i32::MAX)))
    .bind(frozen)
    .fetch_one(tx)
    .await?;
    Ok(row.into())
}

/// How many seconds ago `user` last posted in `channel` (`None` if never), by the
/// database's clock, which also stamps messages.
pub async fn secs_since_last_post(
    db: impl PgExecutor<'_>,
    channel: ChannelId,
    user: UserId,
) -> Result<Option<f64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXTRACT(EPOCH FROM now() - max(created_at))::float8 FROM messages WHERE channel_id = $1 AND author_id = $2",
    )
    .bind(channel)
    .bind(user)
    .fetch_one(db)
    .await
}

/// Every channel `user` is in: public ones, and private channels and DMs (each of those
/// has its own event subject).
pub async fn memberships(db: impl PgExecutor<'_>, user: UserId) -> Result<Vec<ChannelRef>, sqlx::Error> {
    let rows: Vec<(ChannelId, String, Option<CommunityId>)> = sqlx::query_as(
        "SELECT c.id, c.kind, c.community_id FROM channel_members m JOIN channels c ON c.id = m.channel_id
         WHERE m.user_id = $1 ORDER BY c.id",
    )
    .bind(user)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, kind, community_id)| Some(ChannelRef { id, kind: ChannelKind::parse(&kind)?, community_id }))
        .collect())
}

#[derive(sqlx::FromRow)]
struct ListRow {
    #[sqlx(flatten)]
    channel: ChannelRow,
    last_message_at: Option<OffsetDateTime>,
    is_member: bool,
    unread_count: i64,
    mention_count: i64,
    notify_level: Option<String>,
    muted_until: Option<OffsetDateTime>,
    starred: Option<bool>,
}

/// The channel columns plus the caller's unread state and preferences, in one statement
/// for all listed channels (no per-channel queries, no stored counters): unread messages
/// from the read cursor, mentions from the caller's unread notifications.
const LIST_SELECT: &str = "SELECT c.id, c.community_id, c.kind, c.name, c.topic, c.created_at, c.archived_at,
        c.slow_mode_secs, c.frozen_at, c.last_message_at, (cm.user_id IS NOT NULL) AS is_member,
        COALESCE(unread.n, 0) AS unread_count, COALESCE(mentioned.n, 0) AS mention_count,
        cm.notify_level, cm.muted_until, cm.starred
    FROM channels c
    LEFT JOIN channel_members cm ON cm.channel_id = c.id AND cm.user_id = $1
    LEFT JOIN LATERAL (
        SELECT count(*) AS n FROM (
            SELECT 1 FROM messages m
            WHERE cm.user_id IS NOT NULL AND m.channel_id = c.id AND m.parent_id IS NULL AND m.deleted_at IS NULL
              AND m.author_id IS DISTINCT FROM $1
              AND (cm.last_read_message_id IS NULL OR m.id > cm.last_read_message_id)
            LIMIT $2) capped
    ) unread ON true
    LEFT JOIN LATERAL (
        SELECT count(*) AS n FROM (
            SELECT 1 FROM notifications n
            WHERE cm.user_id IS NOT NULL AND n.user_id = $1 AND n.channel_id = c.id AND n.read_at IS NULL
              AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = n.message_id AND m.deleted_at IS NOT NULL)
            LIMIT $2) capped
    ) mentioned ON true";

impl From<ListRow> for ChannelListItem {
    fn from(row: ListRow) -> Self {
        Self {
            channel: row.channel.into(),
            is_member: row.is_member,
            unread_count: row.unread_count,
            mention_count: row.mention_count,
            last_message_at: row.last_message_at,
            notify_level: row.notify_level.as_deref().and_then(NotifyLevel::parse).unwrap_or_default(),
            muted_until: row.muted_until,
            starred: row.starred.unwrap_or(false),
            members: Vec::new(),
        }
    }
}

/// The channels of `community` that `user` can see (public ones, and private ones they
/// are in), by name, with their unread state.
pub async fn list_for_community(
    db: impl PgExecutor<'_>,
    community: CommunityId,
    user: UserId,
) -> Result<Vec<ChannelListItem>, sqlx::Error> {
    let rows: Vec<ListRow> = sqlx::query_as(&format!(
        "{LIST_SELECT} WHERE c.community_id = $3 AND (c.kind = 'public' OR cm.user_id IS NOT NULL) ORDER BY c.name"
    ))
    .bind(user)
    .bind(UNREAD_CAP)
    .bind(community)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(ChannelListItem::from).collect())
}

/// `user`'s DMs and group DMs, most recently active first, with their other members.
pub async fn list_dms(db: impl PgExecutor<'_> + Copy, user: UserId) -> Result<Vec<ChannelListItem>, sqlx::Error> {
    let rows: Vec<ListRow> = sqlx::query_as(&format!(
        "{LIST_SELECT} WHERE c.kind IN ('dm', 'group_dm') AND cm.user_id IS NOT NULL
         ORDER BY COALESCE(c.last_message_at, c.created_at) DESC"
    ))
    .bind(user)
    .bind(UNREAD_CAP)
    .fetch_all(db)
    .await?;
    let mut items: Vec<ChannelListItem> = rows.into_iter().map(ChannelListItem::from).collect();
    fill_dm_members(db, user, &mut items).await?;
    Ok(items)
}

/// Fills the other members of each DM and group DM among `items`, in one statement.
async fn fill_dm_members(
    db: impl PgExecutor<'_>,
    user: UserId,
    items: &mut [ChannelListItem],
) -> Result<(), sqlx::Error> {
    let ids: Vec<uuid::Uuid> = items
        .iter()
        .filter(|i| matches!(i.channel.kind, ChannelKind::Dm | ChannelKind::GroupDm))
        .map(|i| i.channel.id.as_uuid())
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    let members: Vec<(ChannelId, UserId, String, String, Option<String>)> = sqlx::query_as(
        "SELECT m.channel_id, u.id, u.username, u.display_name, u.avatar_url FROM channel_members m JOIN users u ON u.id = m.user_id
         WHERE m.channel_id = ANY($1) AND m.user_id <> $2 ORDER BY u.username",
    )
    .bind(&ids)
    .bind(user)
    .fetch_all(db)
    .await?;
    let mut by_channel: HashMap<ChannelId, Vec<User>> = HashMap::new();
    for (channel, id, username, display_name, avatar_url) in members {
        by_channel.entry(channel).or_default().push(User { id, username, display_name, avatar_url });
    }
    for item in items {
        if let Some(members) = by_channel.remove(&item.channel.id) {
            item.members = members;
        }
    }
    Ok(())
}

/// What `user` can see: public channels of their communities and the channels they are in.
const VISIBLE: &str = "((c.kind IN ('dm', 'group_dm') AND cm.user_id IS NOT NULL)
    OR (c.community_id IN (SELECT community_id FROM community_members WHERE user_id = $1)
        AND (c.kind = 'public' OR cm.user_id IS NOT NULL)))";

/// The channels `user` can see whose row, or whose membership of theirs (joining, the read
/// cursor, preferences), changed after `since`, with their unread state.
pub async fn changed_since(
    db: impl PgExecutor<'_> + Copy,
    user: UserId,
    since: OffsetDateTime,
) -> Result<Vec<ChannelListItem>, sqlx::Error> {
    let rows: Vec<ListRow> = sqlx::query_as(&format!(
        "{LIST_SELECT} WHERE {VISIBLE} AND (c.created_at > $3 OR c.updated_at > $3 OR cm.updated_at > $3 OR cm.joined_at > $3)
         ORDER BY c.id"
    ))
    .bind(user)
    .bind(UNREAD_CAP)
    .bind(since)
    .fetch_all(db)
    .await?;
    let mut items: Vec<ChannelListItem> = rows.into_iter().map(ChannelListItem::from).collect();
    fill_dm_members(db, user, &mut items).await?;
    Ok(items)
}

/// Every channel `user` can see now.
pub async fn visible_ids(db: impl PgExecutor<'_>, user: UserId) -> Result<Vec<ChannelId>, sqlx::Error> {
    sqlx::query_scalar(&format!(
        "SELECT c.id FROM channels c LEFT JOIN channel_members cm ON cm.channel_id = c.id AND cm.user_id = $1
         WHERE {VISIBLE} ORDER BY c.id"
    ))
    .bind(user)
    .fetch_all(db)
    .await
}

/// `user`'s read cursors whose membership changed after `since`.
pub async fn read_cursors_since(
    db: impl PgExecutor<'_>,
    user: UserId,
    since: OffsetDateTime,
) -> Result<Vec<ReadCursor>, sqlx::Error> {
    let rows: Vec<(ChannelId, MessageId)> = sqlx::query_as(
        "SELECT channel_id, last_read_message_id FROM channel_members
         WHERE user_id = $1 AND last_read_message_id IS NOT NULL AND updated_at > $2 ORDER BY channel_id",
    )
    .bind(user)
    .bind(since)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|(channel_id, message_id)| ReadCursor { channel_id, message_id }).collect())
}

/// The DM or group DM of exactly `members` (sorted, deduplicated, including the caller),
/// created with its memberships if it does not exist. Race-free through the unique
/// `dm_key`. Returns the channel and whether it was created.
pub async fn get_or_create_dm(
    tx: &mut PgConnection,
    members: &[UserId],
    created_by: UserId,
) -> Result<(Channel, bool), sqlx::Error> {
    let key = members.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
    let kind = if members.len() <= 2 { ChannelKind::Dm } else { ChannelKind::GroupDm };
    let inserted: Option<ChannelRow> = sqlx::query_as(&format!(
        "INSERT INTO channels (id, kind, dm_key, created_by) VALUES ($1, $2, $3, $4)
         ON CONFLICT ON CONSTRAINT channels_dm_key_unique DO NOTHING RETURNING {COLUMNS}"
    ))
    .bind(ChannelId::generate())
    .bind(kind.as_str())
    .bind(&key)
    .bind(created_by)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(row) = inserted {
        let channel = Channel::from(row);
        let ids: Vec<uuid::Uuid> = members.iter().map(|m| m.as_uuid()).collect();
        sqlx::query("INSERT INTO channel_members (channel_id, user_id) SELECT $1, unnest($2::uuid[])")
            .bind(channel.id)
            .bind(&ids)
            .execute(&mut *tx)
            .await?;
        return Ok((channel, true));
    }
    let row: ChannelRow = sqlx::query_as(&format!("SELECT {COLUMNS} FROM channels WHERE dm_key = $1"))
        .bind(&key)
        .fetch_one(&mut *tx)
        .await?;
    Ok((row.into(), false))
}

/// The group DMs (more than two people) `user` created after `since`: how many, and when
/// the oldest of them was created.
/// Serialises `user`'s group-DM creations until the transaction ends, so concurrent ones
/// count each other.
pub async fn lock_group_dm_creation(tx: &mut PgConnection, user: UserId) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('group_dm_creation:' || $1::text, 0))")
        .bind(user)
        .execute(tx)
        .await?;
    Ok(())
}

pub async fn group_dms_created_since(
    db: impl PgExecutor<'_>,
    user: UserId,
    since: OffsetDateTime,
) -> Result<(i64, Option<OffsetDateTime>), sqlx::Error> {
    sqlx::query_as(
        "SELECT count(*), min(created_at) FROM channels
         WHERE kind = $1 AND created_by = $2 AND created_at > $3",
    )
    .bind(ChannelKind::GroupDm.as_str())
    .bind(user)
    .bind(since)
    .fetch_one(db)
    .await
}

/// Moves `user`'s read cursor in `channel` to `message` (backwards too: mark unread).
/// False if the user is not a member.
pub async fn set_read_cursor(
    db: impl PgExecutor<'_>,
    channel: ChannelId,
    user: UserId,
    message: MessageId,
) -> Result<bool, sqlx::Error> {
    let updated =
        sqlx::query("UPDATE channel_members SET last_read_message_id = $3 WHERE channel_id = $1 AND user_id = $2")
            .bind(channel)
            .bind(user)
            .bind(message)
            .execute(db)
            .await?;
    Ok(updated.rows_affected() == 1)
}

/// Applies the present preferences of `user` in `channel` (`muted_until: Some(None)`
/// unmutes). `None` if the user is not a member.
pub async fn set_preferences(
    db: impl PgExecutor<'_>,
    channel: ChannelId,
    user: UserId,
    notify_level: Option<NotifyLevel>,
    muted_until: Option<Option<OffsetDateTime>>,
    starred: Option<bool>,
) -> Result<Option<ChannelPreferences>, sqlx::Error> {
    let row: Option<(String, Option<OffsetDateTime>, bool)> = sqlx::query_as(
        "UPDATE channel_members SET
             notify_level = COALESCE($3, notify_level),
             muted_until = CASE WHEN $4 THEN $5 ELSE muted_until END,
             starred = COALESCE($6, starred)
         WHERE channel_id = $1 AND user_id = $2
         RETURNING notify_level, muted_until, starred",
    )
    .bind(channel)
    .bind(user)
    .bind(notify_level.map(NotifyLevel::as_str))
    .bind(muted_until.is_some())
    .bind(muted_until.flatten())
    .bind(starred)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(level, muted_until, starred)| ChannelPreferences {
        channel_id: channel,
        notify_level: NotifyLevel::parse(&level).unwrap_or_default(),
        muted_until,
        starred,
    }))
}
