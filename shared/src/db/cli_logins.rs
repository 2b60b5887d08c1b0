//! The `cli_login_codes` table: one-time codes handed to a CLI's loopback listener and
//! exchanged once for a session.

use sqlx::PgConnection;
use time::OffsetDateTime;

use crate::domain::ids::UserId;

/// A code as it was issued.
#[derive(Debug, sqlx::FromRow)]
pub struct IssuedCode {
    pub user_id: UserId,
    pub state: String,
    pub expires_at: OffsetDateTime,
}

/// Stores a code (by its hash) for `user`, bound to `state`, usable for `ttl`; drops
/// expired ones on the way.
pub async fn issue(
    tx: &mut PgConnection,
    code_hash: &[u8; 32],
    user: UserId,
    state: &str,
    ttl: std::time::Duration,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM cli_login_codes WHERE expires_at < now()").execute(&mut *tx).await?;
    sqlx::query(
        "INSERT INTO cli_login_codes (code_hash, user_id, state, expires_at)
         VALUES ($1, $2, $3, now() + make_interval(secs => $4))",
    )
    .bind(code_hash.as_slice())
    .bind(user)
    .bind(state)
    .bind(ttl.as_secs_f64())
    .execute(tx)
    .await?;
    Ok(())
}

/// Takes the code: it is deleted whatever the caller decides, so it never works twice.
pub async fn take(tx: &mut PgConnection, code_hash: &[u8; 32]) -> Result<Option<IssuedCode>, sqlx::Error> {
    sqlx::query_as("DELETE FROM cli_login_codes WHERE code_hash = $1 RETURNING user_id, state, expires_at")
        .bind(code_hash.as_slice())
        .fetch_optional(tx)
        .await
}
