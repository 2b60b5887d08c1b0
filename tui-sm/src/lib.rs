//! tui-sm: the terminal clients' session manager. It serves `GET /tui/events`, an SSE
//! stream of JSON event envelopes for what the user may see, with exact resume by
//! `Last-Event-ID`. It reads data only through the api (with the user's own token) and
//! live events only from NATS; it never touches Postgres.

mod routes;

use std::sync::Arc;

use ajet_shared::client::ApiClient;
use ajet_shared::config::Config;
use ajet_shared::events::bus::NatsBus;
use ajet_shared::server::{self, Readiness};
use ajet_shared::stream::{AccessChecks, Hub, SessionConfig, Streams, run_presence, run_typing};
use axum::Router;
use axum::extract::FromRef;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

#[derive(Clone, FromRef)]
pub struct TuiState {
    pub streams: Streams<NatsBus>,
    pub config: Arc<Config>,
}

pub fn router(state: TuiState) -> Router {
    routes::router().with_state(state)
}

/// Connects to NATS, starts the process's event feed and serves on `listener` until
/// `shutdown`, which also ends every open stream.
pub async fn serve(config: Config, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    let bus = Arc::new(NatsBus::connect(&config.nats_url, &config.stream_name).await?);
    let api = ApiClient::new(config.api_url.clone())?;
    let hub = Hub::default();
    let tasks = tokio_util::task::TaskTracker::new();
    tasks.spawn(hub.clone().run(Arc::clone(&bus), shutdown.clone()));
    tasks.spawn(run_typing(hub.clone(), bus.client().clone(), config.typing_expiry(), shutdown.clone()));
    tasks.spawn(run_presence(hub.clone(), bus.client().clone(), config.presence_interval(), shutdown.clone()));
    let readiness = Readiness::new()
        .check("event_feed", {
            let hub = hub.clone();
            move || {
                let live = hub.is_live();
                async move { live }
            }
        })
        .check("nats", {
            let bus = Arc::clone(&bus);
            move || {
                let bus = Arc::clone(&bus);
                async move { bus.is_ready().await }
            }
        })
        .check("api", {
            let api = api.clone();
            move || {
                let api = api.clone();
                async move {
                    api.request(reqwest::Method::GET, "/healthz").send().await.is_ok_and(|r| r.status().is_success())
                }
            }
        });
    let checks = AccessChecks::new(config.sse_access_check(), shutdown.clone());
    let streams = Streams::new(api, bus, hub, checks, SessionConfig::from_config(&config), shutdown.clone());
    let state = TuiState { streams, config: Arc::new(config) };
    let app = server::instrument(router(state).merge(server::ops_router(readiness)), "tui-sm");
    tracing::info!(address = %listener.local_addr()?, "tui-sm listening");
    server::serve(listener, app, shutdown).await?;
    tasks.close();
    tasks.wait().await;
    Ok(())
}
