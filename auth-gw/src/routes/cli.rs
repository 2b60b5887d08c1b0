//! The CLI loopback login (like `gh auth login`): the CLI listens on `127.0.0.1:{port}`,
//! opens `GET /auth/cli?port=&state=` in the browser, which asks the logged-in person
//! first ("Sign in the ajet-chat CLI on this computer as @alice?", showing the port and
//! state). Only the confirmation, a same-origin `POST /auth/cli` carrying a token bound to
//! the browser's session and to that port and state, issues a code and sends the browser to
//! `http://127.0.0.1:{port}/callback?code=…&state=…`; a GET alone never does, so a link
//! or an embedded image cannot sign someone's CLI (or an attacker's listener) in. The CLI
//! then trades the code at `POST /auth/cli/exchange {code, state}` for a session token of
//! its own. Codes are random, stored hashed, single-use, live at most
//! `cli_login_code_secs` (≤ 60) and are bound to the CLI's state.

use ajet_shared::api::ApiError;
use ajet_shared::api::ErrorCode;
use ajet_shared::api::wire::{CliExchangeRequest, LoginResponse};
use ajet_shared::auth::{Identity, TokenKind, hash_token, token_kind};
use ajet_shared::db;
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use bytes::Bytes;
use serde::Deserialize;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use crate::extract::{ClientIp, UserAgent};
use crate::proxy::{cross_site, origin_of, presented_token};
use crate::routes::login::start_session;
use crate::state::GatewayState;
use crate::views::{self, CliConsentView, PAGE_POLICY};

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

/// The CLI's port and state, checked.
fn cli_target(port: Option<&str>, cli_state: Option<String>) -> Result<(u16, String), ApiError> {
    let port = port
        .and_then(|port| port.parse::<u16>().ok())
        .filter(|port| *port >= 1024)
        .ok_or_else(|| ApiError::bad_request(ErrorCode::InvalidPort, "port: the CLI's loopback port, 1024 to 65535"))?;
    let cli_state = cli_state.filter(|cli_state| valid_state(cli_state)).ok_or_else(|| {
        ApiError::bad_request(
            ErrorCode::InvalidState,
            format!("state: 1 to {STATE_MAX} URL-safe characters chosen by the CLI"),
        )
    })?;
    Ok((port, cli_state))
}

/// The browser's session (never an API token) and who it is, if it is live.
pub(crate) async fn browser_session(
    state: &GatewayState,
    headers: &HeaderMap,
) -> Result<Option<(String, Identity)>, ApiError> {
    let Some((token, _)) =
        presented_token(&state.config, headers).filter(|(token, _)| token_kind(token) == Some(TokenKind::Session))
    else {
        return Ok(None);
    };
    let identity = db::auth::authenticate(&state.pool, &token, state.config.session_lifetime()).await?;
    Ok(identity.map(|identity| (token, identity)))
}

/// The confirmation form's token: bound to the browser's session, the port and the state,
/// keyed with the gateway's cookie key, so only a page we served to this session can
/// confirm. The inputs have fixed lengths (the key, two SHA-256 digests).
fn confirmation_token(state: &GatewayState, session: &str, port: u16, cli_state: &str) -> String {
    let target = Sha256::digest(format!("{port}|{cli_state}").as_bytes());
    let mut digest = Sha256::new();
    digest.update(state.cookie_key.signing());
    digest.update(hash_token(session));
    digest.update(target);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.finalize())
}

/// `GET /auth/cli?port=&state=`: asks the logged-in browser to confirm (or sends it to log
/// in first and come back).
pub async fn start_cli_login(
    State(state): State<GatewayState>,
    query: Result<Query<CliQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Query(query) =
        query.map_err(|rejection| ApiError::bad_request(ErrorCode::InvalidQuery, rejection.body_text()))?;
    let (port, cli_state) = cli_target(query.port.as_deref(), query.state)?;
    let Some((session, identity)) = browser_session(&state, &headers).await? else {
        // Log in first, then come back here.
        let next = format!("/auth/cli?port={port}&state={cli_state}");
        let next: String = oauth2::url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
        return Ok(Redirect::to(&format!("/auth/login?next={next}")).into_response());
    };
    let user = db::users::get(&state.pool, identity.user_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("this account no longer exists"))?;
    let token = confirmation_token(&state, &session, port, &cli_state);
    let view = CliConsentView { username: &user.username, port, state: &cli_state, confirm: &token };
    let mut response = super::html_page(StatusCode::OK, views::cli_consent_page(&view));
    // The confirmation redirects to the loopback listener; browsers apply `form-action` to
    // a form's redirects, so this page allows exactly that one.
    let policy = PAGE_POLICY.replace("form-action 'self'", &format!("form-action 'self' http://127.0.0.1:{port}"));
    response
        .headers_mut()
        .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_str(&policy).map_err(ApiError::internal)?);
    Ok(response)
}

fn confirmation_refused() -> ApiError {
    ApiError::forbidden(
        ErrorCode::CrossSiteRequest,
        "this confirmation did not come from the page we showed this browser; open the CLI's login link again",
    )
}

/// `POST /auth/cli` (the confirmation form: `port`, `state`, `confirm`): issues the
/// one-time code and sends the browser to the CLI's loopback listener.
pub async fn confirm_cli_login(
    State(state): State<GatewayState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Redirect, ApiError> {
    let form: Vec<(String, String)> = oauth2::url::form_urlencoded::parse(&body).into_owned().collect();
    let field = |wanted: &str| form.iter().find(|(name, _)| name == wanted).map(|(_, value)| value.clone());
    let (port, cli_state) = cli_target(field("port").as_deref(), field("state"))?;
    if cross_site(&Method::POST, &headers, origin_of(&state.config.public_url)) {
        return Err(confirmation_refused());
    }
    let (session, identity) = browser_session(&state, &headers)
        .await?
        .ok_or_else(|| ApiError::unauthorized("log in first, then open the CLI's login link again"))?;
    let expected = confirmation_token(&state, &session, port, &cli_state);
    let presented = field("confirm").unwrap_or_default();
    if !bool::from(expected.as_bytes().ct_eq(presented.as_bytes())) {
        return Err(confirmation_refused());
    }
    let mut code_bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut code_bytes);
    let code = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(code_bytes);
    let mut tx = state.pool.begin().await?;
    db::cli_logins::issue(&mut tx, &hash_token(&code), identity.user_id, &cli_state, state.config.cli_login_code_ttl())
        .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("http://127.0.0.1:{port}/callback?code={code}&state={cli_state}")))
}

fn refused(code: ErrorCode, message: &str) -> ApiError {
    ApiError::bad_request(code, format!("{message}; run the login again"))
}

/// `POST /auth/cli/exchange {code, state}` → `{token, user}`: a new session for the CLI.
pub async fn exchange_cli_code(
    State(state): State<GatewayState>,
    client: ClientIp,
    user_agent: UserAgent,
    body: Result<Json<CliExchangeRequest>, JsonRejection>,
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
    let details = serde_json::json!({"provider": "cli"});
    let token = start_session(&mut tx, &state.config, user.id, details, client, &user_agent).await?;
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
