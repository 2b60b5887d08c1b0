//! The gateway's own routes; everything else falls through to the proxy.

mod login;

use axum::Router;
use axum::routing::post;

use crate::proxy;
use crate::state::GatewayState;

pub fn router() -> Router<GatewayState> {
    Router::new().route("/auth/dev-login", post(login::dev_login)).fallback(proxy::forward)
}
