//! The `api_tokens` table: long-lived, scoped tokens for bots and scripts.

use sqlx::PgExecutor;
use time::OffsetDateTime;

use crate::api::wire::ApiToken;
use crate::domain::ids::{ApiTokenId, UserId};

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: ApiTokenId,
    name: String,
    scopes: Vec<String>,
    created_at: OffsetDateTime,
    last_used_at: Option<OffsetDateTime>,
    expires_at: Option<OffsetDateTime>,
}

impl From<TokenRow> for ApiToken {
    fn from(row: TokenRow) -> Self {
        Self {
            id: row.id,
            name: row.name,
            scopes: row.scopes,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
            expires_at: row.expires_at,
        }
    }
}

const COLUMNS: &str = "id, name, scopes, created_at, last_used_at, expires_at";

/// Stores a token for `user`. Fails on `api_tokens_name_unique` for a name in use.
pub async fn create(
    db: impl PgExecutor<'_>,
    user: UserId,
    name: &str,
    token_hash: &[u8; 32],
    scopes: &[String],
    expires_at: Option<OffsetDateTime>,
) -> Result<ApiToken, sqlx::Error> {
    let row: TokenRow = sqlx::query_as(&format!(
        "INSERT INTO api_tokens (id, user_id, created_by, name, token_hash, scopes, expires_at)
         VALUES ($1, $2, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
    ))
    .bind(ApiTokenId::generate())
    .bind(user)
    .bind(name)
    .bind(token_hash.as_slice())
    .bind(scopes)
    .bind(expires_at)
    .fetch_one(db)
    .await?;
    Ok(row.into())
}

/// How many active (unrevoked, unexpired) tokens `user` holds, counted under a lock on the
/// user's row so that concurrent creations cannot both pass a cap.
pub async fn count_active_locked(tx: &mut sqlx::PgConnection, user: UserId) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE").bind(user).execute(&mut *tx).await?;
    sqlx::query_scalar(
        "SELECT count(*) FROM api_tokens
         WHERE user_id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())",
    )
    .bind(user)
    .fetch_one(&mut *tx)
    .await
}

/// `user`'s tokens that are not revoked, newest first.
pub async fn list(db: impl PgExecutor<'_>, user: UserId) -> Result<Vec<ApiToken>, sqlx::Error> {
    let rows: Vec<TokenRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL ORDER BY id DESC"
    ))
    .bind(user)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(ApiToken::from).collect())
}

/// Revokes `user`'s token `id`. False if there is no such unrevoked token of theirs.
pub async fn revoke(db: impl PgExecutor<'_>, user: UserId, id: ApiTokenId) -> Result<bool, sqlx::Error> {
    let updated =
        sqlx::query("UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL")
            .bind(id)
            .bind(user)
            .execute(db)
            .await?;
    Ok(updated.rows_affected() == 1)
}
