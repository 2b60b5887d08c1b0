//! The gateway's own routes; everything else falls through to the proxy. `/auth/*` draws
//! on the stricter per-IP login allowance, and a burst of refused logins from one address
//! is audited (`auth.failed_login_burst`); `/hook/*` draws on its webhook's own allowance.

mod cli;
mod login;
mod oauth;
mod webhook;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};

use ajet_shared::db::audit::AuditEntry;
use axum::http::StatusCode;

use crate::extract::{ClientIp, UserAgent};
use crate::proxy;
use crate::rate_limit::{BucketKey, FailedLogins};
use crate::state::GatewayState;

pub fn router(state: &GatewayState) -> Router<GatewayState> {
    Router::new()
        .route("/auth/dev-login", post(login::dev_login))
        .route("/auth/logout", post(login::logout))
        .route("/auth/login", get(oauth::login_options))
        .route("/auth/{provider}/start", get(oauth::start))
        .route("/auth/{provider}/callback", get(oauth::callback))
        .route("/invite/{code}", get(oauth::open_invite))
        .route("/auth/cli", get(cli::start_cli_login).post(cli::confirm_cli_login))
        .route("/auth/cli/exchange", post(cli::exchange_cli_code))
        .route_layer(middleware::from_fn_with_state(state.clone(), limit_logins))
        .route("/hook/{id}/{token}", post(webhook::receive_webhook))
        .fallback(proxy::forward)
}

async fn limit_logins(State(state): State<GatewayState>, client: ClientIp, request: Request, next: Next) -> Response {
    let decision = state.limits.logins.check(BucketKey::Ip(client.bucket()));
    if !decision.allowed {
        return decision.refusal();
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
