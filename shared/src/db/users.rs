//! The `users` table.

use sqlx::PgExecutor;

use crate::api::wire::User;
use crate::domain::ids::UserId;
use time::OffsetDateTime;

use crate::domain::names::{DisplayName, Username};

#[derive(sqlx::FromRow)]
struct UserRow {
    id: UserId,
    username: String,
    display_name: String,
    avatar_url: Option<String>,
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
