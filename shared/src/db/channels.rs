//! The `channels` and `channel_members` tables.

use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;

use crate::api::wire::{Channel, ChannelKind};
use crate::domain::ids::{ChannelId, CommunityId, UserId};
use crate::domain::names::ChannelName;

#[derive(sqlx::FromRow)]
struct ChannelRow {
    id: ChannelId,
    community_id: Option<CommunityId>,
    kind: String,
    name: Option<String>,
    topic: Option<String>,
    created_at: OffsetDateTime,
    archived_at: Option<OffsetDateTime>,
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
        }
    }
}

const COLUMNS: &str = "id, community_id, kind, name, topic, created_at, archived_at";

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

pub async fn get(db: impl PgExecutor<'_>, id: ChannelId) -> Result<Option<Channel>, sqlx::Error> {
    let row: Option<ChannelRow> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM channels WHERE id = $1")).bind(id).fetch_optional(db).await?;
    Ok(row.map(Channel::from))
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

/// Takes the next message sequence of `channel`, locking its row until the transaction
/// ends, so sequences are gapless and in commit order.
pub async fn next_seq(tx: &mut PgConnection, channel: ChannelId) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE channels SET last_seq = last_seq + 1, last_message_at = now() WHERE id = $1 RETURNING last_seq",
    )
    .bind(channel)
    .fetch_one(tx)
    .await
}
