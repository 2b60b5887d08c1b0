//! tui-sm: the terminal clients' session manager. It serves `GET /tui/events`, an SSE
//! stream of JSON event envelopes for what the user may see, with exact resume by
//! `Last-Event-ID`. It reads data only through the api (with the user's own token) and
//! live events only from NATS; it never touches Postgres.

mod routes;

use std::sync::Arc;

use ajet_shared::config::Config;
use ajet_shared::events::bus::NatsBus;
use ajet_shared::server;
use ajet_shared::stream::Streams;
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
    let tasks = tokio_util::task::TaskTracker::new();
    let (streams, readiness) = ajet_shared::stream::start(&config, &tasks, &shutdown).await?;
    let state = TuiState { streams, config: Arc::new(config) };
    let app = server::instrument(router(state).merge(server::ops_router(readiness)), "tui-sm");
    tracing::info!(address = %listener.local_addr()?, "tui-sm listening");
    server::serve(listener, app, shutdown, server::Streams::Multiplexed).await?;
    tasks.close();
    tasks.wait().await;
    Ok(())
}
