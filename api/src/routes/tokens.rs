//! API tokens: created (secret shown once), listed and revoked by their owner. A token can
//! only mint tokens within its own scopes, and only with `admin` (sessions have all).

use ajet_shared::api::ErrorCode;
use ajet_shared::api::paths;
use std::sync::Arc;
use std::time::Duration;

use ajet_shared::api::ErrorBody;
use ajet_shared::api::wire::{ApiToken, CreateTokenRequest, CreatedToken, Page, PageInfo};
use ajet_shared::auth::cache::AuthCache;
use ajet_shared::auth::{Credential, NewToken, TokenKind};
use ajet_shared::chat;
use ajet_shared::config::Config;
use ajet_shared::db::audit::AuditEntry;
use ajet_shared::db::{self, PgPool};
use ajet_shared::domain::ids::ApiTokenId;
use ajet_shared::domain::names::check_label;
use ajet_shared::events::AccessRevoked;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use time::OffsetDateTime;

use crate::error::{ApiError, ApiResult, on_constraint};
use crate::extract::{AuthUser, Body, Path, TraceId};

const SCOPES: [&str; 3] = ["read", "write", "admin"];
const MAX_NAME_CHARS: usize = 64;
/// Ten years; a token meant to outlive that should simply not expire.
const MAX_EXPIRY_DAYS: u32 = 3650;

fn require_admin_scope(auth: &AuthUser) -> Result<(), ApiError> {
    if auth.0.scopes.admin {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            ErrorCode::InsufficientScope,
            "managing tokens needs a session or a token with the `admin` scope",
        ))
    }
}

#[utoipa::path(post, path = paths::TOKENS, tag = "api", summary = "Create an API token (its secret is shown once)", request_body = CreateTokenRequest, responses((status = 201, description = "created", body = CreatedToken), (status = 400, description = "invalid name or scopes", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "scopes beyond the caller's", body = ErrorBody), (status = 409, description = "name in use (`token_name_taken`), or as many active tokens as allowed (`too_many_tokens`)", body = ErrorBody)), security(("bearer" = [])))]
pub async fn create_token(
    State(pool): State<PgPool>,
    State(config): State<Arc<Config>>,
    auth: AuthUser,
    trace: TraceId,
    Body(request): Body<CreateTokenRequest>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let created = create(&pool, &config, &auth, trace.actor(&auth), &request).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Creates an API token for `auth`'s user within their credential's scopes and the
/// per-user cap, audited as `token.create`: `POST /api/tokens` and `/token create`.
pub(crate) async fn create(
    pool: &PgPool,
    config: &Config,
    auth: &AuthUser,
    actor: chat::Actor<'_>,
    request: &CreateTokenRequest,
) -> ApiResult<CreatedToken> {
    require_admin_scope(auth)?;
    let name = request.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidName,
            format!("name: must be 1 to {MAX_NAME_CHARS} characters"),
        ));
    }
    check_label("name", name)?;
    let mut scopes: Vec<String> = Vec::new();
    for scope in &request.scopes {
        if !SCOPES.contains(&scope.as_str()) {
            return Err(ApiError::bad_request(
                ErrorCode::InvalidScope,
                format!("scopes: `{scope}` is not one of read, write, admin"),
            ));
        }
        if !scopes.contains(scope) {
            scopes.push(scope.clone());
        }
    }
    if scopes.is_empty() {
        return Err(ApiError::bad_request(ErrorCode::InvalidScope, "scopes: give at least one of read, write, admin"));
    }
    let held = &auth.0.scopes;
    let exceeds = scopes.iter().any(|s| match s.as_str() {
        "read" => !held.read,
        "write" => !held.write,
        _ => !held.admin,
    });
    if exceeds {
        return Err(ApiError::forbidden(
            ErrorCode::InsufficientScope,
            "a token cannot grant more than its creator holds",
        ));
    }
    if request.expires_in_days.is_some_and(|days| days == 0 || days > MAX_EXPIRY_DAYS) {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidExpiry,
            format!("expires_in_days: must be 1 to {MAX_EXPIRY_DAYS}"),
        ));
    }
    let expires_at =
        request.expires_in_days.map(|days| OffsetDateTime::now_utc() + Duration::from_secs(u64::from(days) * 86_400));
    let token = NewToken::generate(TokenKind::Api);
    let mut tx = pool.begin().await?;
    if db::tokens::count_active_locked(&mut tx, auth.id()).await? >= i64::from(config.max_api_tokens_per_user) {
        return Err(ApiError::conflict(
            ErrorCode::TooManyTokens,
            format!(
                "you already hold {} active API tokens, the most allowed; revoke one first",
                config.max_api_tokens_per_user
            ),
        ));
    }
    let info =
        db::tokens::create(&mut *tx, auth.id(), name, &token.hash, &scopes, expires_at).await.map_err(|err| {
            on_constraint(err, "api_tokens_name_unique", || {
                ApiError::conflict(ErrorCode::TokenNameTaken, "name: you already have a token with this name")
            })
        })?;
    let entry = AuditEntry {
        community_id: None,
        actor_id: Some(auth.id()),
        action: "token.create",
        target: Some(("api_token", info.id.as_uuid())),
        details: serde_json::json!({"name": info.name, "scopes": info.scopes}),
        ip: actor.ip,
        trace_id: actor.trace_id,
    };
    db::audit::record(&mut *tx, &entry).await?;
    tx.commit().await?;
    Ok(CreatedToken { token: token.plaintext, info })
}

#[utoipa::path(get, path = paths::TOKENS, tag = "api", summary = "My API tokens (without secrets)", responses((status = 200, description = "newest first", body = Page<ApiToken>), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "needs the admin scope", body = ErrorBody)), security(("bearer" = [])))]
pub async fn list_tokens(State(pool): State<PgPool>, auth: AuthUser) -> ApiResult<Json<Page<ApiToken>>> {
    require_admin_scope(&auth)?;
    let data = db::tokens::list(&pool, auth.id()).await?;
    Ok(Json(Page { data, page: PageInfo::default() }))
}

#[utoipa::path(delete, path = paths::TOKEN, tag = "api", summary = "Revoke one of my API tokens", responses((status = 204, description = "revoked"), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "needs the admin scope", body = ErrorBody), (status = 404, description = "no such token of mine", body = ErrorBody)), security(("bearer" = [])))]
pub async fn revoke_token(
    State(pool): State<PgPool>,
    State(auth_cache): State<Arc<AuthCache>>,
    auth: AuthUser,
    trace: TraceId,
    Path(id): Path<ApiTokenId>,
) -> ApiResult<StatusCode> {
    revoke(&pool, &auth_cache, &auth, trace.actor(&auth), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revokes `auth`'s user's token `id`, audited as `token.revoke` and told to their
/// streams: `DELETE /api/tokens/{id}` and `/token revoke`. This api forgets the token at
/// once; the gateway and other api instances within `auth_cache_secs`.
pub(crate) async fn revoke(
    pool: &PgPool,
    auth_cache: &AuthCache,
    auth: &AuthUser,
    actor: chat::Actor<'_>,
    id: ApiTokenId,
) -> ApiResult<()> {
    require_admin_scope(auth)?;
    let mut tx = pool.begin().await?;
    if !db::tokens::revoke(&mut *tx, auth.id(), id).await? {
        return Err(ApiError::not_found(ErrorCode::TokenNotFound, "you have no such token"));
    }
    let entry = AuditEntry {
        community_id: None,
        actor_id: Some(auth.id()),
        action: "token.revoke",
        target: Some(("api_token", id.as_uuid())),
        details: serde_json::json!({}),
        ip: actor.ip,
        trace_id: actor.trace_id,
    };
    db::audit::record(&mut *tx, &entry).await?;
    chat::events::access_revoked(&mut tx, auth.id(), AccessRevoked { session_id: None, token_id: Some(id) }).await?;
    tx.commit().await?;
    auth_cache.forget(Credential::ApiToken(id));
    Ok(())
}
