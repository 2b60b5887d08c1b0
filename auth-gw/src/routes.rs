//! The gateway's own routes; everything else falls through to the proxy. `/auth/*` draws
//! on the stricter per-IP login allowance; `/hook/*` on its webhook's own.

mod cli;
mod login;
mod oauth;
mod webhook;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};

use crate::extract::ClientIp;
use crate::proxy;
use crate::rate_limit::BucketKey;
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
    let mut response = next.run(request).await;
    decision.annotate(response.headers_mut());
    response
}
