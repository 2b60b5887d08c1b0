//! auth-gw: the only public listener. It logs people in, turns a session cookie or bearer
//! token into an identity, and streams every other request to the service behind it:
//! `/api/*` → api, `/tui/*` → tui-sm, everything else → web-sm (each over one or more
//! instances, `upstreams.rs`).

mod extract;
mod github;
mod oauth;
mod protect;
mod proxy;
mod rate_limit;
mod routes;
mod slack;
mod state;
mod streams;
mod upstreams;
mod views;

use std::sync::Arc;

use ajet_shared::config::Config;
use ajet_shared::db;
use ajet_shared::server::{self, Readiness};
use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use state::GatewayState;

/// The gateway's routes over `state` (its own and the proxy), with CORS and security
/// headers, without the ops routes.
pub fn router(state: GatewayState) -> Router {
    let cors = protect::cors(&state.config);
    let router = routes::router(&state).with_state(state).layer(axum::middleware::from_fn(protect::security_headers));
    match cors {
        Some(cors) => router.layer(cors),
        None => router,
    }
}

/// Forgets replenished shared allowances (`db::rate_limits`) every minute until `shutdown`.
async fn prune_shared_limits(pool: db::PgPool, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
        }
        if let Err(err) = db::rate_limits::prune(&pool).await {
            tracing::debug!(error = %err, "shared allowances not pruned");
        }
    }
}

/// Serves the gateway on `listener` until `shutdown`.
pub async fn serve(config: Config, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    let pool = db::connect_lazy(config.database_url.expose(), config.database_max_connections)?;
    let state = GatewayState::new(pool.clone(), Arc::new(config))?.with_shutdown(shutdown.clone());
    let readiness = Readiness::new()
        .check("database", move || {
            let pool = pool.clone();
            async move { db::is_ready(&pool).await }
        })
        .check("api", {
            let state = state.clone();
            move || {
                let state = state.clone();
                async move { state.api_ready().await }
            }
        })
        // The gateway's `/readyz` is public: at most one round of checks a second.
        .cached_for(std::time::Duration::from_secs(1));
    let tasks = tokio_util::task::TaskTracker::new();
    tasks.spawn(streams::revalidate(state.clone(), state.config.sse_auth_recheck(), shutdown.clone()));
    tasks.spawn(state.upstreams.clone().watch(state.upstream.clone(), shutdown.clone()));
    tasks.spawn(prune_shared_limits(state.pool.clone(), shutdown.clone()));
    let app = server::instrument(router(state).merge(server::ops_router(readiness)), "auth-gw");
    tracing::info!(address = %listener.local_addr()?, "auth-gw listening");
    server::serve(listener, app, shutdown, server::Streams::Default).await?;
    tasks.close();
    tasks.wait().await;
    Ok(())
}
