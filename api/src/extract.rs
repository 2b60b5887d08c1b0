//! Extractors: the authenticated caller, and JSON/path/query extractors whose rejections
//! are the JSON errors of docs/design.md §10 rather than axum's plain-text ones.

use ajet_shared::api::ErrorCode;
use std::sync::Arc;

use ajet_shared::auth::cache::AuthCache;
use ajet_shared::auth::{Identity, TRACE_ID_HEADER, bearer, hash_token};
use ajet_shared::chat;
use ajet_shared::config::Config;
use ajet_shared::db::{self, PgPool};
use ajet_shared::domain::ids::UserId;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// The caller, established from `Authorization: Bearer <session or API token>`. The api
/// validates the token itself (through `shared`), whether the call came through the
/// gateway or from a session manager, and trusts a validation for `auth_cache_secs` (at
/// most 4 s): a token revoked elsewhere (a logout at the gateway, another api instance)
/// is refused here within that time, one revoked through this api at once. A request with
/// `Cache-Control: no-cache` is always checked against the database (a session manager's
/// access check after an `access.revoked` event must see the revocation).
#[derive(Clone, Copy, Debug)]
pub struct AuthUser(pub Identity);

impl AuthUser {
    pub fn id(&self) -> UserId {
        self.0.user_id
    }

    /// Refuses tokens without the `write` scope.
    pub fn require_write(&self) -> Result<(), ApiError> {
        if self.0.scopes.write {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                ErrorCode::InsufficientScope,
                "this token may not write; it needs the `write` scope",
            ))
        }
    }

    /// Refuses tokens without the `read` scope.
    pub fn require_read(&self) -> Result<(), ApiError> {
        if self.0.scopes.read {
            Ok(())
        } else {
            Err(ApiError::forbidden(ErrorCode::InsufficientScope, "this token may not read; it needs the `read` scope"))
        }
    }
}

impl<S> FromRequestParts<S> for AuthUser
where
    S: Send + Sync,
    PgPool: FromRef<S>,
    Arc<Config>: FromRef<S>,
    Arc<AuthCache>: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(bearer)
            .ok_or_else(|| ApiError::unauthorized("sign in first: send `Authorization: Bearer <token>`"))?;
        let cache = Arc::<AuthCache>::from_ref(state);
        let hash = hash_token(token);
        let fresh = parts
            .headers
            .get_all(http::header::CACHE_CONTROL)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .any(|directive| directive.trim().eq_ignore_ascii_case("no-cache"));
        if !fresh && let Some(identity) = cache.get(&hash) {
            return Ok(Self(identity));
        }
        let pool = PgPool::from_ref(state);
        let config = Arc::<Config>::from_ref(state);
        // A refusal says why (`token_revoked`, `token_expired`), so a session manager can end
        // a revoked session's stream for good.
        match db::auth::require(&pool, token, config.session_lifetime()).await {
            Ok(identity) => {
                cache.insert(hash, identity);
                Ok(Self(identity))
            }
            Err(refusal) => {
                cache.remove(&hash);
                Err(refusal)
            }
        }
    }
}

/// The request's `X-Trace-Id` and the client's address (both set by the gateway, which
/// strips a client's own `x-ajet-client-ip`), kept on audit rows; an id that is not 1 to
/// 128 printable ASCII characters, or an address that does not parse, is dropped rather
/// than stored.
#[derive(Clone, Debug, Default)]
pub struct TraceId {
    pub id: Option<String>,
    pub client_ip: Option<std::net::IpAddr>,
}

/// A page's `limit` query parameter: `default` when absent, 1 to `max` when given (400
/// `invalid_limit` otherwise).
pub fn page_limit(limit: Option<u32>, default: u16, max: u32) -> Result<u16, ApiError> {
    match limit {
        None => Ok(default),
        Some(limit @ 1..) if limit <= max => Ok(u16::try_from(limit).unwrap_or(default)),
        Some(_) => Err(ApiError::bad_request(ErrorCode::InvalidLimit, format!("limit: must be between 1 and {max}"))),
    }
}

impl TraceId {
    /// The audited actor: `auth`'s user in this request.
    pub fn actor(&self, auth: &AuthUser) -> chat::Actor<'_> {
        chat::Actor { user: auth.id(), trace_id: self.id.as_deref(), ip: self.client_ip }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for TraceId {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let trace_id = parts
            .headers
            .get(TRACE_ID_HEADER)
            .and_then(|value| value.to_str().ok())
            .filter(|id| (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic()))
            .map(str::to_owned);
        let client_ip = parts
            .headers
            .get(ajet_shared::auth::CLIENT_IP_HEADER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse().ok());
        Ok(Self { id: trace_id, client_ip })
    }
}

/// A JSON body.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(rejection.into()),
        }
    }
}

/// Path parameters.
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Self(value)),
            Err(rejection) => Err(ApiError::bad_request(ErrorCode::InvalidPath, rejection.body_text())),
        }
    }
}

/// Query parameters.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Self(value)),
            Err(rejection) => Err(ApiError::bad_request(ErrorCode::InvalidQuery, rejection.body_text())),
        }
    }
}
