//! The api service: the stateless REST API over Postgres. It is the only writer of chat
//! data, and every write commits its event to the outbox in the same transaction.

mod error;
mod extract;
mod indexer;
mod routes;
mod state;
pub mod storage;
mod sweeper;
mod unfurl;

use std::sync::Arc;
use std::time::Duration;

use ajet_shared::auth::cache::AuthCache;
use ajet_shared::config::Config;
use ajet_shared::db;
use ajet_shared::events::bus::{EventBus as _, NatsBus};
use ajet_shared::outbox::OutboxRelay;
use ajet_shared::server::{self, Readiness};
use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use state::AppState;
use storage::Storage;

pub use routes::description as openapi;

/// The outbox relay's own pool: one drain at a time holds one connection (a second for a
/// drain that overlaps the shutdown's final one).
const RELAY_CONNECTIONS: u32 = 2;

/// The api's routes over `state`, without the ops routes.
pub fn router(state: AppState) -> Router {
    routes::router().with_state(state)
}

/// Connects to Postgres, NATS and S3, migrates if configured, and serves on `listener`
/// until `shutdown`; then flushes the outbox and returns.
pub async fn serve(config: Config, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    let pool = db::connect_lazy(config.database_url.expose(), config.database_max_connections)?;
    if config.migrate_on_start {
        db::MIGRATOR.run(&pool).await?;
    }
    let bus =
        Arc::new(NatsBus::connect(&config.nats_url, &config.stream_name).await?.with_replicas(config.stream_replicas));
    let storage = Storage::new(&config);
    // The relay reads and marks the outbox on connections of its own: under load, requests
    // queueing for the shared pool would otherwise hold it back (messages committed but not
    // delivered), and it never takes a connection a request waits for.
    let relay_pool = db::connect_lazy(config.database_url.expose(), RELAY_CONNECTIONS)?;
    let relay = OutboxRelay::new(relay_pool, Arc::clone(&bus));
    let tasks = tokio_util::task::TaskTracker::new();
    tasks.spawn(keep_trying("JetStream stream", shutdown.clone(), {
        let bus = Arc::clone(&bus);
        move || {
            let bus = Arc::clone(&bus);
            async move { bus.ensure_stream().await.map(drop).map_err(|e| e.to_string()) }
        }
    }));
    tasks.spawn(keep_trying("S3 bucket", shutdown.clone(), {
        let storage = storage.clone();
        move || {
            let storage = storage.clone();
            async move { storage.ensure_bucket().await.map_err(|e| e.to_string()) }
        }
    }));
    // The relay outlives the server: its final drain runs after the last request has
    // committed, so nothing committed during shutdown waits for the next start.
    let relay_stop = CancellationToken::new();
    tasks.spawn(relay.clone().run(relay_stop.clone()));
    let readiness = Readiness::new()
        .check("database", {
            let pool = pool.clone();
            move || {
                let pool = pool.clone();
                async move { db::is_ready(&pool).await }
            }
        })
        .check("nats", {
            let bus = Arc::clone(&bus);
            move || {
                let bus = Arc::clone(&bus);
                async move { bus.is_ready().await }
            }
        })
        .check("s3", {
            let storage = storage.clone();
            move || {
                let storage = storage.clone();
                async move { storage.is_ready().await }
            }
        });
    let fetcher = ajet_shared::unfurl::Fetcher::new(&config.link_preview_allow_hosts)?;
    let (unfurler, unfurling) = unfurl::Unfurler::start(pool.clone(), relay.clone(), fetcher, shutdown.clone());
    tasks.spawn(unfurling);
    let (sweeper, sweeping) = sweeper::Sweeper::start(
        pool.clone(),
        storage.clone(),
        Duration::from_secs(config.attachment_sweep_secs),
        config.attachment_unattached_secs,
        shutdown.clone(),
    );
    tasks.spawn(sweeping);
    tasks.spawn(indexer::run(pool.clone(), shutdown.clone()));
    let auth_cache = Arc::new(AuthCache::new(config.auth_cache_ttl(), config.auth_cache_capacity));
    let state = AppState { pool, bus, relay, config: Arc::new(config), auth_cache, storage, unfurler, sweeper };
    let app = server::instrument(router(state).merge(server::ops_router(readiness)), "api");
    tracing::info!(address = %listener.local_addr()?, "api listening");
    let served = server::serve(listener, app, shutdown, server::Streams::Default).await;
    relay_stop.cancel();
    tasks.close();
    tasks.wait().await;
    Ok(served?)
}

/// Retries a start-up step in the background until it succeeds (the dependency may come
/// up after us) or shutdown.
async fn keep_trying<F, Fut>(what: &'static str, shutdown: CancellationToken, step: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let mut delay = Duration::from_millis(100);
    loop {
        match step().await {
            Ok(()) => return,
            Err(err) => tracing::warn!(error = %err, "{what} not ready; retrying"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}
