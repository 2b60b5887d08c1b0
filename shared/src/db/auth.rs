//! Sessions and API tokens: issuing, and resolving a presented token to an identity. The
//! gateway and the api both call `authenticate`, so a token is judged the same everywhere.

use sqlx::PgExecutor;
use time::OffsetDateTime;

use crate::auth::{Credential, Identity, Scopes, TokenKind, hash_token, token_kind};
use crate::domain::ids::{ApiTokenId, SessionId, UserId};

/// Stores a new session for `token_hash`, valid for `ttl`.
pub async fn create_session(
    db: impl PgExecutor<'_>,
    user_id: UserId,
    token_hash: &[u8; 32],
    ttl: std::time::Duration,
) -> Result<SessionId, sqlx::Error> {
    let id = SessionId::generate();
    let expires_at = OffsetDateTime::now_utc() + ttl;
    sqlx::query("INSERT INTO sessions (id, user_id, token_hash, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(id)
        .bind(user_id)
        .bind(token_hash.as_slice())
        .bind(expires_at)
        .execute(db)
        .await?;
    Ok(id)
}

#[derive(sqlx::FromRow)]
struct CredentialRow {
    id: uuid::Uuid,
    user_id: UserId,
    scopes: Vec<String>,
}

/// The identity `token` stands for, or `None` if it is unknown, expired or revoked.
///
/// A session's expiry rolls forward with use; the write happens at most once a minute
/// (the `WHERE` clause makes the common case a read).
pub async fn authenticate(
    db: impl PgExecutor<'_> + Copy,
    token: &str,
    session_ttl: std::time::Duration,
) -> Result<Option<Identity>, sqlx::Error> {
    let Some(kind) = token_kind(token) else {
        return Ok(None);
    };
    let hash = hash_token(token);
    match kind {
        TokenKind::Session => {
            let row: Option<CredentialRow> = sqlx::query_as(
                "SELECT id, user_id, ARRAY[]::text[] AS scopes FROM sessions
                 WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > now()",
            )
            .bind(hash.as_slice())
            .fetch_optional(db)
            .await?;
            let Some(row) = row else { return Ok(None) };
            let expires_at = OffsetDateTime::now_utc() + session_ttl;
            sqlx::query(
                "UPDATE sessions SET last_used_at = now(), expires_at = $2
                 WHERE id = $1 AND last_used_at < now() - interval '1 minute'",
            )
            .bind(row.id)
            .bind(expires_at)
            .execute(db)
            .await?;
            Ok(Some(Identity {
                user_id: row.user_id,
                credential: Credential::Session(SessionId(row.id)),
                scopes: Scopes::ALL,
            }))
        }
        TokenKind::Api => {
            let row: Option<CredentialRow> = sqlx::query_as(
                "SELECT id, user_id, scopes FROM api_tokens
                 WHERE token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())",
            )
            .bind(hash.as_slice())
            .fetch_optional(db)
            .await?;
            let Some(row) = row else { return Ok(None) };
            sqlx::query("UPDATE api_tokens SET last_used_at = now() WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')")
                .bind(row.id)
                .execute(db)
                .await?;
            Ok(Some(Identity {
                user_id: row.user_id,
                credential: Credential::ApiToken(ApiTokenId(row.id)),
                scopes: Scopes::from_names(&row.scopes),
            }))
        }
    }
}
