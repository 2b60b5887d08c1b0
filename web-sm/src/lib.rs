//! web-sm: the browsers' session manager. This crate is the service shell the web UI grows
//! in (pages, Datastar SSE and actions arrive with the web UI issue): today it runs with
//! its dependencies checked (`/readyz`), metrics and graceful shutdown, and answers every
//! page path with a JSON 404 so nothing pretends to be a UI.

use ajet_shared::api::ErrorCode;
use std::sync::Arc;

use ajet_shared::api::ApiError;
use ajet_shared::client::ApiClient;
use ajet_shared::config::Config;
use ajet_shared::events::bus::NatsBus;
use ajet_shared::server::{self, Readiness};
use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub fn router() -> Router {
    Router::new().fallback(|| async {
        ApiError::not_found(
            ErrorCode::NotFound,
            "the web interface is not part of this build yet; use the API or the terminal stream",
        )
    })
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
