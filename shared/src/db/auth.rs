//! Sessions and API tokens: issuing, and resolving a presented token to an identity. The
//! gateway and the api both call `authenticate`, so a token is judged the same everywhere.

use crate::api::ErrorCode;
use http::StatusCode;
use sqlx::PgExecutor;
use time::OffsetDateTime;

use crate::api::ApiError;
use crate::auth::{Credential, Identity, Scopes, TokenKind, hash_token, token_kind};
use crate::config::SessionLifetime;
use crate::domain::ids::{ApiTokenId, SessionId, UserId};

/// Stores a new session for `token_hash`, valid for `lifetime`.
pub async fn create_session(
    db: impl PgExecutor<'_>,
    user_id: UserId,
    token_hash: &[u8; 32],
    lifetime: SessionLifetime,
) -> Result<SessionId, sqlx::Error> {
    let id = SessionId::generate();
    let expires_at = OffsetDateTime::now_utc() + lifetime.rolling.min(lifetime.absolute);
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
/// A session's expiry rolls forward with use, but never past `lifetime.absolute` after its
/// creation (checked here too, so shortening the setting ends older sessions at once); the
/// write happens at most once a minute (the `WHERE` clause makes the common case a read).
pub async fn authenticate(
    db: impl PgExecutor<'_> + Copy,
    token: &str,
    lifetime: SessionLifetime,
) -> Result<Option<Identity>, sqlx::Error> {
    let Some(kind) = token_kind(token) else {
        return Ok(None);
    };
    let hash = hash_token(token);
    match kind {
        TokenKind::Session => {
            let row: Option<CredentialRow> = sqlx::query_as(
                "SELECT id, user_id, ARRAY[]::text[] AS scopes FROM sessions
                 WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > now() AND created_at > $2",
            )
            .bind(hash.as_slice())
            .bind(OffsetDateTime::now_utc() - lifetime.absolute)
            .fetch_optional(db)
            .await?;
            let Some(row) = row else { return Ok(None) };
            let expires_at = OffsetDateTime::now_utc() + lifetime.rolling;
            sqlx::query(
                "UPDATE sessions SET last_used_at = now(),
                     expires_at = LEAST($2, created_at + $3 * interval '1 second')
                 WHERE id = $1 AND last_used_at < now() - interval '1 minute'",
            )
            .bind(row.id)
            .bind(expires_at)
            .bind(lifetime.absolute.as_secs_f64())
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

/// Which of the token hashes `hashes` still stand for a live session or API token, in one
/// statement (the gateway re-checks the credentials behind all its open streams at once).
pub async fn still_valid(
    db: impl PgExecutor<'_>,
    hashes: &[[u8; 32]],
    lifetime: SessionLifetime,
) -> Result<Vec<[u8; 32]>, sqlx::Error> {
    let hashes: Vec<Vec<u8>> = hashes.iter().map(|h| h.to_vec()).collect();
    let rows: Vec<(Vec<u8>,)> = sqlx::query_as(
        "SELECT token_hash FROM sessions
         WHERE token_hash = ANY($1) AND revoked_at IS NULL AND expires_at > now() AND created_at > $2
         UNION ALL
         SELECT token_hash FROM api_tokens
         WHERE token_hash = ANY($1) AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())",
    )
    .bind(&hashes)
    .bind(OffsetDateTime::now_utc() - lifetime.absolute)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().filter_map(|(hash,)| <[u8; 32]>::try_from(hash.as_slice()).ok()).collect())
}

/// Why a token was refused, for an answer that lets clients tell "sign in again" from
/// "this session was ended on purpose" (a revoked session's stream ends with 204).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Malformed, or never issued here.
    Unknown,
    Expired,
    Revoked,
}

impl Refusal {
    /// The 401 answered for this refusal.
    #[must_use]
    pub fn error(self) -> ApiError {
        match self {
            Self::Unknown => ApiError::unauthorized("this token is unknown, expired or revoked; sign in again"),
            Self::Expired => ApiError::new(
                StatusCode::UNAUTHORIZED,
                ErrorCode::TokenExpired,
                "this token has expired; sign in again",
            ),
            Self::Revoked => ApiError::new(
                StatusCode::UNAUTHORIZED,
                ErrorCode::TokenRevoked,
                "this token was revoked (logged out); sign in again",
            ),
        }
    }
}

/// Why `authenticate` refused `token` (called only on that failure path).
pub async fn refusal(db: impl PgExecutor<'_>, token: &str, lifetime: SessionLifetime) -> Result<Refusal, sqlx::Error> {
    let Some(kind) = token_kind(token) else {
        return Ok(Refusal::Unknown);
    };
    let hash = hash_token(token);
    let row: Option<(bool, bool)> = match kind {
        TokenKind::Session => {
            sqlx::query_as(
                "SELECT revoked_at IS NOT NULL, expires_at <= now() OR created_at <= $2
                 FROM sessions WHERE token_hash = $1",
            )
            .bind(hash.as_slice())
            .bind(OffsetDateTime::now_utc() - lifetime.absolute)
            .fetch_optional(db)
            .await?
        }
        TokenKind::Api => {
            sqlx::query_as(
                "SELECT revoked_at IS NOT NULL, coalesce(expires_at <= now(), false)
                 FROM api_tokens WHERE token_hash = $1",
            )
            .bind(hash.as_slice())
            .fetch_optional(db)
            .await?
        }
    };
    Ok(match row {
        Some((true, _)) => Refusal::Revoked,
        Some((false, true)) => Refusal::Expired,
        // A row that is neither is valid again (a race with `authenticate`): treat as unknown.
        Some((false, false)) | None => Refusal::Unknown,
    })
}

/// The identity `token` stands for, or the 401 saying why not. What the api's extractor
/// and the gateway answer.
pub async fn require(
    db: impl PgExecutor<'_> + Copy,
    token: &str,
    lifetime: SessionLifetime,
) -> Result<Identity, ApiError> {
    match authenticate(db, token, lifetime).await? {
        Some(identity) => Ok(identity),
        None => Err(refusal(db, token, lifetime).await?.error()),
    }
}

/// Revokes the session whose token is `token`; returns it and its user, or `None` if there
/// was no live session with that token (already revoked, expired or unknown).
pub async fn revoke_session(db: impl PgExecutor<'_>, token: &str) -> Result<Option<(SessionId, UserId)>, sqlx::Error> {
    if token_kind(token) != Some(TokenKind::Session) {
        return Ok(None);
    }
    let row: Option<(uuid::Uuid, UserId)> = sqlx::query_as(
        "UPDATE sessions SET revoked_at = now()
         WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > now()
         RETURNING id, user_id",
    )
    .bind(hash_token(token).as_slice())
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(id, user_id)| (SessionId(id), user_id)))
}
