//! Logging in. `POST /auth/dev-login` exists only when `AJET_ENV=dev`: it creates the user
//! on first use and starts a session (token in the body for Bearer use, and the
//! `ajet_session` cookie for browsers).

use std::sync::Arc;

use ajet_shared::api::ApiError;
use ajet_shared::api::wire::{DevLoginRequest, LoginResponse};
use ajet_shared::auth::{NewToken, SESSION_COOKIE, TokenKind};
use ajet_shared::config::{Config, Environment};
use ajet_shared::db::{self, PgPool};
use ajet_shared::domain::Username;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// `Set-Cookie` for a new session: HttpOnly, SameSite=Strict, Secure unless configured off
/// for plain-http development.
pub fn session_cookie(config: &Config, token: &str) -> Result<HeaderValue, ApiError> {
    let secure = if config.cookie_secure { "; Secure" } else { "" };
    let max_age = config.session_ttl().as_secs();
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .map_err(ApiError::internal)
}

pub async fn dev_login(
    State(pool): State<PgPool>,
    State(config): State<Arc<Config>>,
    body: Result<Json<DevLoginRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    if config.env != Environment::Dev {
        return Err(ApiError::not_found("not_found", "there is nothing here"));
    }
    let Json(request) =
        body.map_err(|rejection| ApiError::new(rejection.status(), "invalid_body", rejection.body_text()))?;
    let username = Username::parse("username", &request.username)?;
    let user = db::users::get_or_create_by_username(&pool, &username).await?;
    let token = NewToken::generate(TokenKind::Session);
    db::auth::create_session(&pool, user.id, &token.hash, config.session_ttl()).await?;
    tracing::info!(user_id = %user.id, "dev login");
    let cookie = session_cookie(&config, &token.plaintext)?;
    let mut response = Json(LoginResponse { token: token.plaintext, user }).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}
