//! The `bans` and `mutes` tables. A row whose end has passed no longer applies: every read
//! here filters it out, and a new ban or mute replaces it.

use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;

use crate::api::wire::{Ban, Mute, MutedMember, User};
use crate::domain::ids::{CommunityId, UserId};

/// What a ban or mute is, before it is written.
#[derive(Clone, Copy, Debug)]
pub struct Sanction<'a> {
    pub community: CommunityId,
    pub user: UserId,
    pub by: UserId,
    pub reason: Option<&'a str>,
    /// Seconds until it ends by itself; `None`: until lifted.
    pub secs: Option<u32>,
}

#[derive(sqlx::FromRow)]
struct BanRow {
    community_id: CommunityId,
    user_id: UserId,
    username: String,
    display_name: String,
    avatar_url: Option<String>,
    reason: Option<String>,
    banned_by: Option<UserId>,
    created_at: OffsetDateTime,
    expires_at: Option<OffsetDateTime>,
}

impl From<BanRow> for Ban {
    fn from(row: BanRow) -> Self {
        Self {
            community_id: row.community_id,
            user: User {
                id: row.user_id,
                username: row.username,
                display_name: row.display_name,
                avatar_url: row.avatar_url,
            },
            reason: row.reason,
            banned_by: row.banned_by,
            created_at: row.created_at,
            expires_at: row.expires_at,
        }
    }
}

const BAN_SELECT: &str = "SELECT b.community_id, b.user_id, u.username, u.display_name, u.avatar_url, b.reason,
        b.banned_by, b.created_at, b.expires_at
    FROM bans b JOIN users u ON u.id = b.user_id";

/// Bans (or re-bans, replacing an earlier ban) `sanction.user`.
pub async fn ban(tx: &mut PgConnection, sanction: &Sanction<'_>) -> Result<Ban, sqlx::Error> {
    sqlx::query(
        "INSERT INTO bans (community_id, user_id, reason, banned_by, expires_at)
         VALUES ($1, $2, $3, $4, CASE WHEN $5::int IS NULL THEN NULL ELSE now() + make_interval(secs => $5::int) END)
         ON CONFLICT ON CONSTRAINT bans_pkey DO UPDATE
         SET reason = EXCLUDED.reason, banned_by = EXCLUDED.banned_by, created_at = now(), expires_at = EXCLUDED.expires_at",
    )
    .bind(sanction.community)
    .bind(sanction.user)
    .bind(sanction.reason)
    .bind(sanction.by)
    .bind(sanction.secs.map(|secs| i32::try_from(secs).unwrap_or(i32::MAX)))
    .execute(&mut *tx)
    .await?;
    let row: BanRow = sqlx::query_as(&format!("{BAN_SELECT} WHERE b.community_id = $1 AND b.user_id = $2"))
        .bind(sanction.community)
        .bind(sanction.user)
        .fetch_one(&mut *tx)
        .await?;
    Ok(row.into())
}

/// Lifts `user`'s ban; false if there was none in force.
pub async fn unban(tx: &mut PgConnection, community: CommunityId, user: UserId) -> Result<bool, sqlx::Error> {
    let in_force: Option<bool> = sqlx::query_scalar(
        "DELETE FROM bans WHERE community_id = $1 AND user_id = $2 RETURNING (expires_at IS NULL OR expires_at > now())",
    )
    .bind(community)
    .bind(user)
    .fetch_optional(tx)
    .await?;
    Ok(in_force.unwrap_or(false))
}

/// The bans in force in `community`, newest first.
pub async fn bans(db: impl PgExecutor<'_>, community: CommunityId) -> Result<Vec<Ban>, sqlx::Error> {
    let rows: Vec<BanRow> = sqlx::query_as(&format!(
        "{BAN_SELECT} WHERE b.community_id = $1 AND (b.expires_at IS NULL OR b.expires_at > now())
         ORDER BY b.created_at DESC, b.user_id"
    ))
    .bind(community)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Ban::from).collect())
}

#[derive(sqlx::FromRow)]
struct MuteRow {
    community_id: CommunityId,
    user_id: UserId,
    reason: Option<String>,
    muted_by: Option<UserId>,
    muted_until: Option<OffsetDateTime>,
}

impl From<MuteRow> for Mute {
    fn from(row: MuteRow) -> Self {
        Self {
            community_id: row.community_id,
            user_id: row.user_id,
            reason: row.reason,
            muted_by: row.muted_by,
            muted_until: row.muted_until,
        }
    }
}

/// Mutes (or re-mutes, replacing an earlier mute) `sanction.user`.
pub async fn mute(tx: &mut PgConnection, sanction: &Sanction<'_>) -> Result<Mute, sqlx::Error> {
    let row: MuteRow = sqlx::query_as(
        "INSERT INTO mutes (community_id, user_id, reason, muted_by, muted_until)
         VALUES ($1, $2, $3, $4, CASE WHEN $5::int IS NULL THEN NULL ELSE now() + make_interval(secs => $5::int) END)
         ON CONFLICT ON CONSTRAINT mutes_pkey DO UPDATE
         SET reason = EXCLUDED.reason, muted_by = EXCLUDED.muted_by, created_at = now(), muted_until = EXCLUDED.muted_until
         RETURNING community_id, user_id, reason, muted_by, muted_until",
    )
    .bind(sanction.community)
    .bind(sanction.user)
    .bind(sanction.reason)
    .bind(sanction.by)
    .bind(sanction.secs.map(|secs| i32::try_from(secs).unwrap_or(i32::MAX)))
    .fetch_one(tx)
    .await?;
    Ok(row.into())
}

/// Lifts `user`'s mute; false if there was none in force.
pub async fn unmute(tx: &mut PgConnection, community: CommunityId, user: UserId) -> Result<bool, sqlx::Error> {
    let in_force: Option<bool> = sqlx::query_scalar(
        "DELETE FROM mutes WHERE community_id = $1 AND user_id = $2
         RETURNING (muted_until IS NULL OR muted_until > now())",
    )
    .bind(community)
    .bind(user)
    .fetch_optional(tx)
    .await?;
    Ok(in_force.unwrap_or(false))
}

#[derive(sqlx::FromRow)]
struct MutedRow {
    community_id: CommunityId,
    user_id: UserId,
    username: String,
    display_name: String,
    avatar_url: Option<String>,
    reason: Option<String>,
    by_id: Option<UserId>,
    by_username: Option<String>,
    by_display_name: Option<String>,
    by_avatar_url: Option<String>,
    created_at: OffsetDateTime,
    muted_until: Option<OffsetDateTime>,
}

impl From<MutedRow> for MutedMember {
    fn from(row: MutedRow) -> Self {
        let muted_by = match (row.by_id, row.by_username, row.by_display_name) {
            (Some(id), Some(username), Some(display_name)) => {
                Some(User { id, username, display_name, avatar_url: row.by_avatar_url })
            }
            _ => None,
        };
        Self {
            community_id: row.community_id,
            user: User {
                id: row.user_id,
                username: row.username,
                display_name: row.display_name,
                avatar_url: row.avatar_url,
            },
            reason: row.reason,
            muted_by,
            created_at: row.created_at,
            muted_until: row.muted_until,
        }
    }
}

/// The mutes in force in `community` (expired ones left out), newest first, with who muted
/// whom.
pub async fn mutes(db: impl PgExecutor<'_>, community: CommunityId) -> Result<Vec<MutedMember>, sqlx::Error> {
    let rows: Vec<MutedRow> = sqlx::query_as(
        "SELECT m.community_id, m.user_id, u.username, u.display_name, u.avatar_url, m.reason,
                b.id AS by_id, b.username AS by_username, b.display_name AS by_display_name,
                b.avatar_url AS by_avatar_url, m.created_at, m.muted_until
         FROM mutes m JOIN users u ON u.id = m.user_id LEFT JOIN users b ON b.id = m.muted_by
         WHERE m.community_id = $1 AND (m.muted_until IS NULL OR m.muted_until > now())
         ORDER BY m.created_at DESC, m.user_id",
    )
    .bind(community)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(MutedMember::from).collect())
}

/// `user`'s mute in `community` if one is in force.
pub async fn mute_in_force(
    db: impl PgExecutor<'_>,
    community: CommunityId,
    user: UserId,
) -> Result<Option<Mute>, sqlx::Error> {
    let row: Option<MuteRow> = sqlx::query_as(
        "SELECT community_id, user_id, reason, muted_by, muted_until FROM mutes
         WHERE community_id = $1 AND user_id = $2 AND (muted_until IS NULL OR muted_until > now())",
    )
    .bind(community)
    .bind(user)
    .fetch_optional(db)
    .await?;
    Ok(row.map(Mute::from))
}
