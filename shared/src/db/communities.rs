//! The `communities` and `community_members` tables.

use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;

use crate::api::wire::{Community, CommunityMember, Role, User};
use crate::domain::ids::{CommunityId, UserId};
use crate::domain::names::{CommunityName, Slug};

#[derive(sqlx::FromRow)]
struct CommunityRow {
    id: CommunityId,
    name: String,
    slug: String,
    description: Option<String>,
    created_at: OffsetDateTime,
    link_previews: bool,
    role: String,
}

impl From<CommunityRow> for Community {
    fn from(row: CommunityRow) -> Self {
        Self {
            id: row.id,
            name: row.name,
            slug: row.slug,
            description: row.description,
            created_at: row.created_at,
            link_previews: row.link_previews,
            role: Role::parse(&row.role).unwrap_or(Role::Member),
        }
    }
}

/// Inserts a community and makes `owner` its owner. Fails on `communities_slug_unique`.
pub async fn create(
    tx: &mut PgConnection,
    owner: UserId,
    name: &CommunityName,
    slug: &Slug,
    description: Option<&str>,
) -> Result<Community, sqlx::Error> {
    let id = CommunityId::generate();
    let row: CommunityRow = sqlx::query_as(
        "INSERT INTO communities (id, name, slug, description, created_by) VALUES ($1, $2, $3, $4, $5)
         RETURNING id, name, slug, description, created_at, link_previews, 'owner' AS role",
    )
    .bind(id)
    .bind(name.as_str())
    .bind(slug.as_str())
    .bind(description)
    .bind(owner)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO community_members (community_id, user_id, role) VALUES ($1, $2, 'owner')")
        .bind(id)
        .bind(owner)
        .execute(&mut *tx)
        .await?;
    Ok(row.into())
}

/// The communities `user` belongs to, oldest first, with the user's role in each.
pub async fn list_for_user(db: impl PgExecutor<'_>, user: UserId) -> Result<Vec<Community>, sqlx::Error> {
    let rows: Vec<CommunityRow> = sqlx::query_as(
        "SELECT c.id, c.name, c.slug, c.description, c.created_at, c.link_previews, m.role
         FROM community_members m JOIN communities c ON c.id = m.community_id
         WHERE m.user_id = $1 ORDER BY c.id",
    )
    .bind(user)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Community::from).collect())
}

/// `user`'s role in `community`, or `None` if not a member.
pub async fn role_of(
    db: impl PgExecutor<'_>,
    community: CommunityId,
    user: UserId,
) -> Result<Option<Role>, sqlx::Error> {
    let role: Option<String> =
        sqlx::query_scalar("SELECT role FROM community_members WHERE community_id = $1 AND user_id = $2")
            .bind(community)
            .bind(user)
            .fetch_optional(db)
            .await?;
    Ok(role.as_deref().and_then(Role::parse))
}

/// True once any community exists: before that, the first user may sign up without an
/// invite and create one (the bootstrap).
pub async fn any_exist(db: impl PgExecutor<'_>) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM communities)").fetch_one(db).await
}

pub async fn exists(db: impl PgExecutor<'_>, community: CommunityId) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM communities WHERE id = $1)").bind(community).fetch_one(db).await
}

/// Adds `user` as a plain member. Returns false if they already were one.
pub async fn add_member(tx: &mut PgConnection, community: CommunityId, user: UserId) -> Result<bool, sqlx::Error> {
    let inserted =
        sqlx::query("INSERT INTO community_members (community_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(community)
            .bind(user)
            .execute(tx)
            .await?;
    Ok(inserted.rows_affected() == 1)
}

/// Takes `user` out of `community` (not its channels: see `channels::remove_from_community`).
/// Returns false if they were not a member.
pub async fn remove_member(tx: &mut PgConnection, community: CommunityId, user: UserId) -> Result<bool, sqlx::Error> {
    let deleted = sqlx::query("DELETE FROM community_members WHERE community_id = $1 AND user_id = $2")
        .bind(community)
        .bind(user)
        .execute(tx)
        .await?;
    Ok(deleted.rows_affected() == 1)
}

/// Sets a member's role; false if they are not a member.
pub async fn set_role(
    tx: &mut PgConnection,
    community: CommunityId,
    user: UserId,
    role: Role,
) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query("UPDATE community_members SET role = $3 WHERE community_id = $1 AND user_id = $2")
        .bind(community)
        .bind(user)
        .bind(role.as_str())
        .execute(tx)
        .await?;
    Ok(updated.rows_affected() == 1)
}

/// A member's role, locking their membership row for the rest of the transaction.
pub async fn role_for_update(
    tx: &mut PgConnection,
    community: CommunityId,
    user: UserId,
) -> Result<Option<Role>, sqlx::Error> {
    let role: Option<String> =
        sqlx::query_scalar("SELECT role FROM community_members WHERE community_id = $1 AND user_id = $2 FOR UPDATE")
            .bind(community)
            .bind(user)
            .fetch_optional(tx)
            .await?;
    Ok(role.as_deref().and_then(Role::parse))
}

/// True if `user` is banned from `community` now.
pub async fn is_banned(db: impl PgExecutor<'_>, community: CommunityId, user: UserId) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM bans WHERE community_id = $1 AND user_id = $2 AND (expires_at IS NULL OR expires_at > now()))",
    )
    .bind(community)
    .bind(user)
    .fetch_one(db)
    .await
}

/// `community` as `user` sees it (with their role), if they are a member.
pub async fn get_for_member(
    db: impl PgExecutor<'_>,
    community: CommunityId,
    user: UserId,
) -> Result<Option<Community>, sqlx::Error> {
    let row: Option<CommunityRow> = sqlx::query_as(
        "SELECT c.id, c.name, c.slug, c.description, c.created_at, c.link_previews, m.role
         FROM communities c JOIN community_members m ON m.community_id = c.id AND m.user_id = $2 WHERE c.id = $1",
    )
    .bind(community)
    .bind(user)
    .fetch_optional(db)
    .await?;
    Ok(row.map(Community::from))
}

/// The id of the community with `slug`.
pub async fn id_by_slug(db: impl PgExecutor<'_>, slug: &str) -> Result<Option<CommunityId>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM communities WHERE slug = $1").bind(slug).fetch_optional(db).await
}

/// Applies the present fields; an empty description clears it.
pub async fn update(
    tx: &mut PgConnection,
    community: CommunityId,
    name: Option<&CommunityName>,
    description: Option<Option<&str>>,
    link_previews: Option<bool>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE communities SET name = COALESCE($2, name), description = CASE WHEN $3 THEN $4 ELSE description END,
             link_previews = COALESCE($5, link_previews)
         WHERE id = $1",
    )
    .bind(community)
    .bind(name.map(CommunityName::as_str))
    .bind(description.is_some())
    .bind(description.flatten())
    .bind(link_previews)
    .execute(tx)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct MemberRow {
    id: UserId,
    username: String,
    display_name: String,
    avatar_url: Option<String>,
    role: String,
    nickname: Option<String>,
    joined_at: OffsetDateTime,
}

/// The members of `community`, by username.
pub async fn members(db: impl PgExecutor<'_>, community: CommunityId) -> Result<Vec<CommunityMember>, sqlx::Error> {
    let rows: Vec<MemberRow> = sqlx::query_as(
        "SELECT u.id, u.username, u.display_name, u.avatar_url, m.role, m.nickname, m.joined_at
         FROM community_members m JOIN users u ON u.id = m.user_id WHERE m.community_id = $1 ORDER BY u.username",
    )
    .bind(community)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| CommunityMember {
            user: User {
                id: row.id,
                username: row.username,
                display_name: row.display_name,
                avatar_url: row.avatar_url,
            },
            role: Role::parse(&row.role).unwrap_or(Role::Member),
            nickname: row.nickname,
            joined_at: row.joined_at,
        })
        .collect())
}

/// Whether the unfurl worker previews the links of message `id`: its community's
/// `link_previews` switch (a DM has no community and keeps previews). False for a message
/// that is gone.
pub async fn link_previews_on(db: impl PgExecutor<'_>, id: crate::domain::ids::MessageId) -> Result<bool, sqlx::Error> {
    let on: Option<bool> = sqlx::query_scalar(
        "SELECT COALESCE(c.link_previews, true) FROM messages m
         JOIN channels ch ON ch.id = m.channel_id
         LEFT JOIN communities c ON c.id = ch.community_id
         WHERE m.id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await?;
    Ok(on.unwrap_or(false))
}
