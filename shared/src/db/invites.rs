//! The `invites` table: invitation codes into a community.

use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;

use crate::api::wire::Invite;
use crate::domain::ids::{CommunityId, InviteId, UserId};

#[derive(sqlx::FromRow)]
struct InviteRow {
    code: String,
    community_id: CommunityId,
    expires_at: Option<OffsetDateTime>,
    max_uses: Option<i32>,
    uses: i32,
    created_at: OffsetDateTime,
}

impl From<InviteRow> for Invite {
    fn from(row: InviteRow) -> Self {
        Self {
            code: row.code,
            community_id: row.community_id,
            expires_at: row.expires_at,
            max_uses: row.max_uses,
            uses: row.uses,
            created_at: row.created_at,
        }
    }
}

pub async fn create(
    db: impl PgExecutor<'_>,
    community: CommunityId,
    created_by: UserId,
    code: &str,
    expires_at: Option<OffsetDateTime>,
    max_uses: Option<i32>,
) -> Result<Invite, sqlx::Error> {
    let row: InviteRow = sqlx::query_as(
        "INSERT INTO invites (id, code, community_id, created_by, expires_at, max_uses) VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING code, community_id, expires_at, max_uses, uses, created_at",
    )
    .bind(InviteId::generate())
    .bind(code)
    .bind(community)
    .bind(created_by)
    .bind(expires_at)
    .bind(max_uses)
    .fetch_one(db)
    .await?;
    Ok(row.into())
}

/// How many usable invites (not revoked, not expired, not used up) `community` has, and
/// how many of them `creator` made, counted under a lock on the community's row so that
/// concurrent creations cannot both pass a cap.
pub async fn count_open_locked(
    tx: &mut PgConnection,
    community: CommunityId,
    creator: UserId,
) -> Result<(i64, i64), sqlx::Error> {
    sqlx::query("SELECT 1 FROM communities WHERE id = $1 FOR NO KEY UPDATE").bind(community).execute(&mut *tx).await?;
    sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE created_by = $2) FROM invites WHERE community_id = $1
         AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now()) AND (max_uses IS NULL OR uses < max_uses)",
    )
    .bind(community)
    .bind(creator)
    .fetch_one(&mut *tx)
    .await
}

/// The community a usable invite leads to (not revoked, not expired, not used up).
pub async fn usable(db: impl PgExecutor<'_>, code: &str) -> Result<Option<CommunityId>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT community_id FROM invites WHERE code = $1 AND revoked_at IS NULL
         AND (expires_at IS NULL OR expires_at > now()) AND (max_uses IS NULL OR uses < max_uses)",
    )
    .bind(code)
    .fetch_optional(db)
    .await
}

/// Counts one use, if the invite is still usable at this instant (the row lock makes
/// concurrent acceptances respect `max_uses`).
pub async fn consume(tx: &mut PgConnection, code: &str) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query(
        "UPDATE invites SET uses = uses + 1 WHERE code = $1 AND revoked_at IS NULL
         AND (expires_at IS NULL OR expires_at > now()) AND (max_uses IS NULL OR uses < max_uses)",
    )
    .bind(code)
    .execute(tx)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// The unrevoked invites of `community`, newest first.
pub async fn list(db: impl PgExecutor<'_>, community: CommunityId) -> Result<Vec<Invite>, sqlx::Error> {
    let rows: Vec<InviteRow> = sqlx::query_as(
        "SELECT code, community_id, expires_at, max_uses, uses, created_at FROM invites
         WHERE community_id = $1 AND revoked_at IS NULL ORDER BY id DESC",
    )
    .bind(community)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Invite::from).collect())
}

/// Revokes an invite of `community`. False if there is no such unrevoked invite.
pub async fn revoke(db: impl PgExecutor<'_>, community: CommunityId, code: &str) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query(
        "UPDATE invites SET revoked_at = now() WHERE community_id = $1 AND code = $2 AND revoked_at IS NULL",
    )
    .bind(community)
    .bind(code)
    .execute(db)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// What the invite landing (`GET /invite/{code}`) shows about an invite: its community,
/// who made it (unless their account is deactivated), how many members the community has,
/// when the invite expires, and whether it is usable at this instant.
#[derive(sqlx::FromRow)]
pub struct InviteLanding {
    pub community_id: CommunityId,
    pub community_name: String,
    pub community_slug: String,
    pub description: Option<String>,
    pub inviter_name: Option<String>,
    pub inviter_username: Option<String>,
    pub members: i64,
    pub expires_at: Option<OffsetDateTime>,
    /// Not revoked, not expired, not used up (the predicate of [`usable`]).
    pub usable: bool,
}

/// The landing view of invite `code`, usable or not; `None` for an unknown code.
pub async fn landing(db: impl PgExecutor<'_>, code: &str) -> Result<Option<InviteLanding>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.id AS community_id, c.name AS community_name, c.slug AS community_slug, c.description,
           CASE WHEN u.deactivated_at IS NULL THEN u.display_name END AS inviter_name,
           CASE WHEN u.deactivated_at IS NULL THEN u.username END AS inviter_username,
           (SELECT count(*) FROM community_members m WHERE m.community_id = c.id) AS members,
           i.expires_at,
           (i.revoked_at IS NULL AND (i.expires_at IS NULL OR i.expires_at > now())
             AND (i.max_uses IS NULL OR i.uses < i.max_uses)) AS usable
         FROM invites i JOIN communities c ON c.id = i.community_id JOIN users u ON u.id = i.created_by
         WHERE i.code = $1",
    )
    .bind(code)
    .fetch_optional(db)
    .await
}
