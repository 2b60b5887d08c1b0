//! The `users` table.

use sqlx::PgExecutor;

use crate::api::wire::User;
use crate::domain::ids::UserId;
use crate::domain::names::Username;

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
