//! The gateway's own routes; everything else falls through to the proxy. `/auth/*` and
//! `/invite/*` draw on the stricter per-IP login allowance, and a burst of refused logins
//! from one address is audited (`auth.failed_login_burst`); `/hook/*` draws on its
//! webhook's own allowance. The pages' stylesheet (`/auth/assets/*`) draws on neither.

mod cli;
mod invites;
mod login;
mod oauth;
mod webhook;

use ajet_shared::api::{ApiError, ErrorCode};
use ajet_shared::db::audit::AuditEntry;
use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use maud::Markup;

use crate::extract::{ClientIp, UserAgent};
use crate::proxy;
use crate::rate_limit::{BucketKey, FailedLogins};
use crate::state::GatewayState;
use crate::views::{PAGE_POLICY, STYLESHEET};

pub fn router(state: &GatewayState) -> Router<GatewayState> {
    Router::new()
        .route("/auth/dev-login", post(login::dev_login))
        .route("/auth/logout", post(login::logout))
        .route("/auth/login", get(oauth::login_options))
        .route("/auth/{provider}/start", get(oauth::start))
        .route("/auth/{provider}/callback", get(oauth::callback))
        .route("/invite/{code}", get(invites::open_invite).post(invites::join_invite))
        .route("/auth/cli", get(cli::start_cli_login).post(cli::confirm_cli_login))
        .route("/auth/cli/exchange", post(cli::exchange_cli_code))
        .route_layer(middleware::from_fn_with_state(state.clone(), limit_logins))
        .route("/hook/{id}/{token}", post(webhook::receive_webhook))
        .route("/auth/assets/{name}", get(serve_stylesheet))
        .fallback(proxy::forward)
}

/// One of the gateway's pages with `status`, under the pages' strict CSP.
pub(crate) fn html_page(status: StatusCode, page: Markup) -> Response {
    let mut response = (status, Html(page.into_string())).into_response();
    response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_POLICY));
    response
}

/// A browser asking for a page (`Accept` names `text/html`), not a script.
pub(crate) fn wants_html(headers: &HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|accept| accept.contains("text/html"))
}

/// `GET /auth/assets/{name}`: the pages' stylesheet by its hashed name, cached for a year.
async fn serve_stylesheet(Path(name): Path<String>) -> Result<Response, ApiError> {
    if name != STYLESHEET.name {
        return Err(ApiError::not_found(ErrorCode::NotFound, "there is no such asset"));
    }
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8")),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable")),
        ],
        STYLESHEET.bytes,
    )
        .into_response())
}

async fn limit_logins(State(state): State<GatewayState>, client: ClientIp, request: Request, next: Next) -> Response {
    let mut decision = state.limits.logins.check(BucketKey::Ip(client.bucket()));
    if !decision.allowed {
        return decision.refusal();
    }
    // This instance's allowance first (a flood costs no query), then the one every
    // instance shares; if the database cannot say, this instance's decision stands.
    match state.limits.shared_logins.check(&state.pool, client.bucket()).await {
        Ok(shared) if !shared.allowed => return shared.refusal(),
        Ok(shared) => decision = shared,
        Err(err) => tracing::warn!(error = %err, "the shared login allowance could not be checked"),
    }
    let path = request.uri().path().to_owned();
    let user_agent = UserAgent::of(request.headers());
    let mut response = next.run(request).await;
    let status = response.status();
    if is_login_attempt(&path)
        && status.is_client_error()
        && status != StatusCode::TOO_MANY_REQUESTS
        && state.limits.failed_logins.refused(client.bucket())
    {
        record_failed_logins(&state, client, &user_agent, &path, status).await;
    }
    decision.annotate(response.headers_mut());
    response
}

/// The routes that sign someone in: dev login, a provider's callback, the CLI exchange.
fn is_login_attempt(path: &str) -> bool {
    path == "/auth/dev-login"
        || path == "/auth/cli/exchange"
        || (path.starts_with("/auth/") && path.ends_with("/callback"))
}

/// Audits a burst of refused logins from one address (`FailedLogins::BURST` within
/// `FailedLogins::WINDOW`). A refused login names no account, so the row has no actor: it
/// is the operator's, in `audit_log`. Failing to write it changes no answer.
async fn record_failed_logins(
    state: &GatewayState,
    client: ClientIp,
    user_agent: &UserAgent,
    path: &str,
    status: StatusCode,
) {
    let entry = AuditEntry {
        community_id: None,
        actor_id: None,
        action: "auth.failed_login_burst",
        target: None,
        details: serde_json::json!({
            "attempts": FailedLogins::BURST,
            "window_secs": FailedLogins::WINDOW.as_secs(),
            "last_path": ajet_shared::server::loggable_path(path),
            "last_status": status.as_u16(),
            "user_agent": user_agent.0,
        }),
        ip: Some(client.0),
        trace_id: None,
    };
    if let Err(err) = ajet_shared::db::audit::record(&state.pool, &entry).await {
        tracing::warn!(error = %err, "could not audit a failed-login burst");
    }
}
