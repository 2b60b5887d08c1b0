//! Logging in and out. `POST /auth/dev-login` exists only when `AJET_ENV=dev`: it creates
//! the user on first use and starts a session (token in the body for Bearer use, and the
//! session cookie for browsers: `__Host-ajet_session`, or `ajet_session` on plain http).
//! `POST /auth/logout` revokes the session it is called with and clears the cookie. Both
//! are audited.

use ajet_shared::api::ErrorCode;
use std::sync::Arc;

use ajet_shared::api::ApiError;
use ajet_shared::api::wire::{DevLoginRequest, LoginResponse};
use ajet_shared::auth::{NewToken, TokenKind, hash_token, session_cookie_name, token_kind};
use ajet_shared::chat;
use ajet_shared::config::{Config, Environment};
use ajet_shared::db::audit::AuditEntry;
use ajet_shared::db::{self, PgPool};
use ajet_shared::domain::Username;
use ajet_shared::domain::ids::UserId;
use ajet_shared::events::AccessRevoked;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use bytes::Bytes;

use crate::extract::{ClientIp, UserAgent};
use crate::proxy::{cross_site, origin_of, presented_token};
use crate::state::GatewayState;

/// Starts a session for `user` inside `tx`, audited as an `auth.login` with `details`
/// (at least the provider), the client's address and user agent, and returns its token
/// (shown once). The row belongs to no community: the user reads it in their security log
/// (`GET /api/me/security-log`).
pub async fn start_session(
    tx: &mut sqlx::PgConnection,
    config: &Config,
    user: UserId,
    mut details: serde_json::Value,
    client: ClientIp,
    user_agent: &UserAgent,
) -> Result<NewToken, ApiError> {
    if let (Some(details), Some(agent)) = (details.as_object_mut(), &user_agent.0) {
        details.insert("user_agent".into(), agent.clone().into());
    }
    let token = NewToken::generate(TokenKind::Session);
    let session = db::auth::create_session(&mut *tx, user, &token.hash, config.session_lifetime()).await?;
    let entry = AuditEntry {
        community_id: None,
        actor_id: Some(user),
        action: "auth.login",
        target: Some(("session", session.0)),
        details,
        ip: Some(client.0),
        trace_id: None,
    };
    db::audit::record(&mut *tx, &entry).await?;
    Ok(token)
}

/// `Set-Cookie` for a new session: HttpOnly, SameSite=Strict, Path=/ and no Domain;
/// `Secure` and named `__Host-ajet_session` unless `cookie_secure` is off for plain-http
/// development (then `ajet_session`).
pub fn session_cookie(config: &Config, token: &str) -> Result<HeaderValue, ApiError> {
    let secure = if config.cookie_secure { "; Secure" } else { "" };
    let name = session_cookie_name(config.cookie_secure);
    let lifetime = config.session_lifetime();
    // The browser keeps the cookie for the session's absolute lifetime; the server's rolling
    // expiry decides before that whether it still works (it moves with use, the cookie
    // cannot without being re-sent on every request).
    let max_age = lifetime.absolute.as_secs();
    HeaderValue::from_str(&format!("{name}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"))
        .map_err(ApiError::internal)
}

/// `Set-Cookie` that removes the session cookie.
fn cleared_session_cookie(config: &Config) -> HeaderValue {
    let secure = if config.cookie_secure { "; Secure" } else { "" };
    let name = session_cookie_name(config.cookie_secure);
    HeaderValue::from_str(&format!("{name}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}"))
        .unwrap_or_else(|_| HeaderValue::from_static("ajet_session=; Path=/; Max-Age=0"))
}

pub async fn dev_login(
    State(pool): State<PgPool>,
    State(config): State<Arc<Config>>,
    client: ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    if config.env != Environment::Dev {
        return Err(ApiError::not_found(ErrorCode::NotFound, "there is nothing here"));
    }
    // The login page's form posts `username=`; scripts post JSON.
    let from_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let form: Vec<(String, String)> =
        if from_form { oauth2::url::form_urlencoded::parse(&body).into_owned().collect() } else { Vec::new() };
    let field = |wanted: &str| form.iter().find(|(name, _)| name == wanted).map(|(_, value)| value.clone());
    let raw_username = if from_form {
        field("username").ok_or_else(|| ApiError::bad_request(ErrorCode::InvalidBody, "username: missing"))?
    } else {
        let Json(request) = Json::<DevLoginRequest>::from_bytes(&body).map_err(ApiError::from)?;
        request.username
    };
    let username = Username::parse("username", &raw_username)?;
    let user = db::users::get_or_create_by_username(&pool, &username).await?;
    let mut tx = pool.begin().await?;
    let details = serde_json::json!({"provider": "dev"});
    let token = start_session(&mut tx, &config, user.id, details, client, &UserAgent::of(&headers)).await?;
    tx.commit().await?;
    tracing::info!(user_id = %user.id, "dev login");
    let cookie = session_cookie(&config, &token.plaintext)?;
    let mut response = if from_form {
        // Same-origin form post: the Strict cookie rides along on the redirect.
        Redirect::to(&super::oauth::local_path(field("next").as_deref(), &config.public_url)).into_response()
    } else {
        Json(LoginResponse { token: token.plaintext, user }).into_response()
    };
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

/// `POST /auth/logout`: revokes the session presented (cookie or bearer) and clears the
/// cookie. Idempotent: a session already ended answers 204 too. The revocation is
/// immediate here; other gateway instances stop accepting the token within their cache
/// lifetime (`auth_cache_secs`), and open streams end at their next re-check.
pub async fn logout(
    State(state): State<GatewayState>,
    client: ClientIp,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (token, from_cookie) = presented_token(&state.config, &headers)
        .ok_or_else(|| ApiError::unauthorized("there is no session to log out of"))?;
    if from_cookie && cross_site(&Method::POST, &headers, origin_of(&state.config.public_url)) {
        return Err(ApiError::forbidden(
            ErrorCode::CrossSiteRequest,
            "cross-site requests with a session cookie are refused",
        ));
    }
    if token_kind(&token) == Some(TokenKind::Api) {
        return Err(ApiError::bad_request(
            ErrorCode::NotASession,
            "an API token is not a login session; revoke it with DELETE /api/tokens/{id}",
        ));
    }
    let mut tx = state.pool.begin().await?;
    if let Some((session, user_id)) = db::auth::revoke_session(&mut *tx, &token).await? {
        db::audit::record(
            &mut *tx,
            &AuditEntry {
                community_id: None,
                actor_id: Some(user_id),
                action: "auth.logout",
                target: Some(("session", session.0)),
                details: serde_json::json!({}),
                ip: Some(client.0),
                trace_id: None,
            },
        )
        .await?;
        let revoked = AccessRevoked { session_id: Some(session), token_id: None };
        chat::events::access_revoked(&mut tx, user_id, revoked).await?;
        tracing::info!(user_id = %user_id, "logout");
    }
    tx.commit().await?;
    // After the commit, so a concurrent request cannot re-cache the session as valid.
    state.auth_cache.remove(&hash_token(&token));
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(header::SET_COOKIE, cleared_session_cookie(&state.config));
    Ok(response)
}
