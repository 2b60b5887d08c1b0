//! web-sm: the browsers' session manager. This step brings the HTML stack the web client is
//! built from — maud views as pure functions (`views`), message Markdown rendered and
//! sanitised (`markdown`), Datastar's SSE events (`datastar`), our stylesheet and the
//! vendored Datastar module served by content hash (`assets`) and the pages' strict CSP —
//! while every page path still answers a JSON 404 until the pages arrive.

pub mod assets;
pub mod datastar;
pub mod markdown;
pub mod views;

use ajet_shared::api::ErrorCode;
use std::sync::Arc;

use ajet_shared::api::ApiError;
use ajet_shared::client::ApiClient;
use ajet_shared::config::Config;
use ajet_shared::events::bus::NatsBus;
use ajet_shared::server::{self, Readiness};
use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// The pages' Content-Security-Policy, stricter than the gateway's default: scripts only
/// from our origin (the vendored Datastar module), with `'unsafe-eval'` because Datastar
/// compiles its `data-*` expressions with `Function` — and nothing inline, so injected
/// markup cannot run script even if it got past escaping and sanitising; styles only from
/// our stylesheet (no `style` attributes, no inline `<style>`); images from us or any https
/// origin (Markdown images; avatars later); fetches (Datastar's actions and stream) and
/// forms only to our origin; no plugins, no `<base>`, no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self' 'unsafe-eval'; \
     style-src 'self'; img-src 'self' https:; connect-src 'self'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// Sets the CSP on every HTML answer.
async fn content_security_policy(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if is_html {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    }
    response
}

pub fn router() -> Router {
    Router::new()
        .route("/assets/{name}", get(assets::serve_asset))
        .fallback(|| async {
            ApiError::not_found(
                ErrorCode::NotFound,
                "the web interface is not part of this build yet; use the API or the terminal stream",
            )
        })
        .layer(middleware::from_fn(content_security_policy))
}

/// Serves web-sm on `listener` until `shutdown`.
pub async fn serve(config: Config, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    let bus = Arc::new(NatsBus::connect(&config.nats_url, &config.stream_name).await?);
    let api = ApiClient::new(config.api_url.clone())?;
    let readiness =
        Readiness::new()
            .check("nats", move || {
                let bus = Arc::clone(&bus);
                async move { bus.is_ready().await }
            })
            .check("api", move || {
                let api = api.clone();
                async move {
                    api.request(reqwest::Method::GET, "/healthz").send().await.is_ok_and(|r| r.status().is_success())
                }
            });
    let app = server::instrument(router().merge(server::ops_router(readiness)), "web-sm");
    tracing::info!(address = %listener.local_addr()?, "web-sm listening");
    server::serve(listener, app, shutdown).await?;
    Ok(())
}
