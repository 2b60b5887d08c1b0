//! The CLI loopback login (like `gh auth login`): the CLI listens on `127.0.0.1:{port}`,
//! opens `GET /auth/cli?port=&state=` in the browser, and once the browser is logged in
//! it is sent to `http://127.0.0.1:{port}/callback?code=…&state=…`. The CLI then trades
//! the code at `POST /auth/cli/exchange {code, state}` for a session token of its own.
//! Codes are random, stored hashed, single-use, live at most `cli_login_code_secs` (≤ 60)
//! and are bound to the CLI's state.

use ajet_shared::api::ApiError;
use ajet_shared::api::ErrorCode;
use ajet_shared::api::wire::LoginResponse;
use ajet_shared::auth::{TokenKind, hash_token, token_kind};
use ajet_shared::db;
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Redirect;
use base64::Engine as _;
use serde::Deserialize;
use subtle::ConstantTimeEq as _;

use crate::extract::ClientIp;
use crate::proxy::presented_token;
use crate::routes::login::start_session;
use crate::state::GatewayState;

const STATE_MAX: usize = 200;

#[derive(Deserialize)]
pub struct CliQuery {
    port: Option<String>,
    state: Option<String>,
}

fn valid_state(state: &str) -> bool {
    (1..=STATE_MAX).contains(&state.len())
        && state.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
}

/// `GET /auth/cli?port=&state=`: the browser half.
pub async fn start_cli_login(
    State(state): State<GatewayState>,
    query: Result<Query<CliQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Redirect, ApiError> {
    let Query(query) =
        query.map_err(|rejection| ApiError::bad_request(ErrorCode::InvalidQuery, rejection.body_text()))?;
    let port =
        query.port.as_deref().and_then(|port| port.parse::<u16>().ok()).filter(|port| *port >= 1024).ok_or_else(
            || ApiError::bad_request(ErrorCode::InvalidPort, "port: the CLI's loopback port, 1024 to 65535"),
        )?;
    let cli_state = query.state.filter(|cli_state| valid_state(cli_state)).ok_or_else(|| {
        ApiError::bad_request(
            ErrorCode::InvalidState,
            format!("state: 1 to {STATE_MAX} URL-safe characters chosen by the CLI"),
        )
    })?;
    let session = presented_token(&headers).filter(|(token, _)| token_kind(token) == Some(TokenKind::Session));
    let identity = match session {
        Some((token, _)) => db::auth::authenticate(&state.pool, &token, state.config.session_ttl()).await?,
        None => None,
    };
    let Some(identity) = identity else {
        // Log in first, then come back here.
        let next = format!("/auth/cli?port={port}&state={cli_state}");
        let next: String = oauth2::url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
        return Ok(Redirect::to(&format!("/auth/login?next={next}")));
    };
    let mut code_bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut code_bytes);
    let code = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(code_bytes);
    let mut tx = state.pool.begin().await?;
    db::cli_logins::issue(&mut tx, &hash_token(&code), identity.user_id, &cli_state, state.config.cli_login_code_ttl())
        .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("http://127.0.0.1:{port}/callback?code={code}&state={cli_state}")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExchangeRequest {
    code: String,
    state: String,
}

fn refused(code: ErrorCode, message: &str) -> ApiError {
    ApiError::bad_request(code, format!("{message}; run the login again"))
}

/// `POST /auth/cli/exchange {code, state}` → `{token, user}`: a new session for the CLI.
pub async fn exchange_cli_code(
    State(state): State<GatewayState>,
    client: ClientIp,
    body: Result<Json<ExchangeRequest>, JsonRejection>,
) -> Result<Json<LoginResponse>, ApiError> {
    let Json(request) = body.map_err(ApiError::from)?;
    let mut tx = state.pool.begin().await?;
    let issued = db::cli_logins::take(&mut tx, &hash_token(&request.code)).await?;
    // The code is gone whatever happens next: commit its removal before judging it.
    tx.commit().await?;
    let issued =
        issued.ok_or_else(|| refused(ErrorCode::CliCodeInvalid, "this code is unknown or was already used"))?;
    if issued.expires_at < time::OffsetDateTime::now_utc() {
        return Err(refused(ErrorCode::CliCodeExpired, "this code has expired"));
    }
    if !bool::from(issued.state.as_bytes().ct_eq(request.state.as_bytes())) {
        return Err(refused(ErrorCode::CliStateMismatch, "the state does not match the one this login started with"));
    }
    let user = db::users::get(&state.pool, issued.user_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("this account no longer exists"))?;
    let mut tx = state.pool.begin().await?;
    let token = start_session(&mut tx, &state.config, user.id, serde_json::json!({"provider": "cli"}), client).await?;
    tx.commit().await?;
    Ok(Json(LoginResponse { token: token.plaintext, user }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_are_short_and_url_safe() {
        assert!(valid_state("abc-DEF_1.2~"));
        for bad in ["", "a b", "a&b=c", "é", &"x".repeat(201)] {
            assert!(!valid_state(bad), "{bad}");
        }
    }
}
