//! The `users` table.

use sqlx::PgExecutor;

use crate::api::wire::User;
use crate::domain::ids::UserId;
use time::OffsetDateTime;

use crate::domain::names::{DisplayName, Username};

/// A `users` row as the API shows it; other table modules select into it too.
#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    pub(crate) id: UserId,
    pub(crate) username: String,
    pub(crate) display_name: String,
    pub(crate) avatar_url: Option<String>,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        Self { id: row.id, username: row.username, display_name: row.display_name, avatar_url: row.avatar_url }
    }
}

/// The user with this username, created on first use (the dev login).
pub async fn get_or_create_by_username(db: impl PgExecutor<'_>, username: &Username) -> Result<User, sqlx::Error> {
    let row: UserRow = sqlx::query_as(
        "INSERT INTO users (id, username, display_name) VALUES ($1, $2, $2)
         ON CONFLICT ON CONSTRAINT users_username_unique DO UPDATE SET username = EXCLUDED.username
         RETURNING id, username, display_name, avatar_url",
    )
    .bind(UserId::generate())
    .bind(username.as_str())
    .fetch_one(db)
    .await?;
    Ok(row.into())
}

/// The user named `username` (lowercase), if any.
pub async fn find_by_username(db: impl PgExecutor<'_>, username: &str) -> Result<Option<User>, sqlx::Error> {
    let row: Option<UserRow> =
        sqlx::query_as("SELECT id, username, display_name, avatar_url FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(db)
            .await?;
    Ok(row.map(User::from))
}

pub async fn get(db: impl PgExecutor<'_>, id: UserId) -> Result<Option<User>, sqlx::Error> {
    let row: Option<UserRow> = sqlx::query_as("SELECT id, username, display_name, avatar_url FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await?;
    Ok(row.map(User::from))
}

/// Sets `display_name`.
pub async fn set_display_name(
    db: impl PgExecutor<'_>,
    id: UserId,
    display_name: &DisplayName,
) -> Result<Option<User>, sqlx::Error> {
    let row: Option<UserRow> = sqlx::query_as(
        "UPDATE users SET display_name = $2 WHERE id = $1 RETURNING id, username, display_name, avatar_url",
    )
    .bind(id)
    .bind(display_name.as_str())
    .fetch_optional(db)
    .await?;
    Ok(row.map(User::from))
}

/// Sets or clears `avatar_url`.
pub async fn set_avatar_url(
    db: impl PgExecutor<'_>,
    id: UserId,
    url: Option<&str>,
) -> Result<Option<User>, sqlx::Error> {
    let row: Option<UserRow> = sqlx::query_as(
        "UPDATE users SET avatar_url = $2 WHERE id = $1 RETURNING id, username, display_name, avatar_url",
    )
    .bind(id)
    .bind(url)
    .fetch_optional(db)
    .await?;
    Ok(row.map(User::from))
}

/// True when `viewer` is `user`, or they share a community or a channel (a DM).
pub async fn may_see(db: impl PgExecutor<'_>, viewer: UserId, user: UserId) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT $1 = $2
             OR EXISTS (SELECT 1 FROM community_members a JOIN community_members b ON b.community_id = a.community_id
                        WHERE a.user_id = $1 AND b.user_id = $2)
             OR EXISTS (SELECT 1 FROM channel_members a JOIN channel_members b ON b.channel_id = a.channel_id
                        WHERE a.user_id = $1 AND b.user_id = $2)",
    )
    .bind(viewer)
    .bind(user)
    .fetch_one(db)
    .await
}

/// How many of `ids` exist.
pub async fn count_existing(db: impl PgExecutor<'_>, ids: &[UserId]) -> Result<i64, sqlx::Error> {
    let ids: Vec<uuid::Uuid> = ids.iter().map(|id| id.as_uuid()).collect();
    sqlx::query_scalar("SELECT count(*) FROM users WHERE id = ANY($1)").bind(&ids).fetch_one(db).await
}

/// Records a heartbeat of `id`.
pub async fn touch_presence(db: impl PgExecutor<'_>, id: UserId) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO presence (user_id, last_seen_at) VALUES ($1, now()) ON CONFLICT (user_id) DO UPDATE SET last_seen_at = now()")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// When each of `ids` was last seen (absent if never).
pub async fn last_seen(db: impl PgExecutor<'_>, ids: &[UserId]) -> Result<Vec<(UserId, OffsetDateTime)>, sqlx::Error> {
    let ids: Vec<uuid::Uuid> = ids.iter().map(|id| id.as_uuid()).collect();
    sqlx::query_as("SELECT user_id, last_seen_at FROM presence WHERE user_id = ANY($1)").bind(&ids).fetch_all(db).await
}

/// The users among `ids` that exist, in one query.
pub async fn get_many(db: impl PgExecutor<'_>, ids: &[UserId]) -> Result<Vec<User>, sqlx::Error> {
    let ids: Vec<uuid::Uuid> = ids.iter().map(|id| id.as_uuid()).collect();
    let rows: Vec<UserRow> =
        sqlx::query_as("SELECT id, username, display_name, avatar_url FROM users WHERE id = ANY($1) ORDER BY username")
            .bind(&ids)
            .fetch_all(db)
            .await?;
    Ok(rows.into_iter().map(User::from).collect())
}

/// Which of `ids` `viewer` may see the presence of: themselves, and anyone sharing a
/// community or a channel (DMs included) with them.
pub async fn visible_to(db: impl PgExecutor<'_>, viewer: UserId, ids: &[UserId]) -> Result<Vec<UserId>, sqlx::Error> {
    let ids: Vec<uuid::Uuid> = ids.iter().map(|id| id.as_uuid()).collect();
    sqlx::query_scalar(
        "SELECT u.id FROM users u WHERE u.id = ANY($1) AND (u.id = $2
            OR EXISTS (SELECT 1 FROM community_members a JOIN community_members b ON b.community_id = a.community_id
                       WHERE a.user_id = $2 AND b.user_id = u.id)
            OR EXISTS (SELECT 1 FROM channel_members a JOIN channel_members b ON b.channel_id = a.channel_id
                       WHERE a.user_id = $2 AND b.user_id = u.id))",
    )
    .bind(&ids)
    .bind(viewer)
    .fetch_all(db)
    .await
}
