//! Postgres access: the pool, the embedded migrations and one module of plain functions per
//! table. Handlers never build SQL; fixed queries are plain statements here, and queries
//! whose shape varies (history cursors) are built with sea-query; search, whose statement is made of
//! the query's terms, binds each value through a small builder (`db::search`).

pub mod attachments;
pub mod audit;
pub mod auth;
pub mod channels;
pub mod cli_logins;
pub mod communities;
pub mod invites;
pub mod mentions;
pub mod message_stream_events;
pub mod messages;
pub mod moderation;
pub mod notifications;
pub mod oauth;
pub mod outbox;
pub mod rate_limits;
pub mod search;
pub mod tokens;
pub mod users;
pub mod webhook_log;
pub mod webhooks;

use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::PgPoolOptions;

pub use sqlx::{PgConnection, PgPool};

/// Every migration under `migrations/`, embedded at build time.
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

/// A pool that connects lazily, so a service starts (and reports itself unready) while the
/// database is away, and recovers when it is back.
pub fn connect_lazy(url: &str, max_connections: u32) -> Result<PgPool, sqlx::Error> {
    PgPoolOptions::new().max_connections(max_connections).acquire_timeout(Duration::from_secs(3)).connect_lazy(url)
}

/// True when the database answers a trivial query.
pub async fn is_ready(pool: &PgPool) -> bool {
    sqlx::query("SELECT 1").execute(pool).await.is_ok()
}

/// A time before which every change is committed: now, or the start of the oldest
/// transaction still open elsewhere (its rows are stamped with that start but not yet
/// visible), so "changed after this time" later misses nothing committed meanwhile.
pub async fn settled_time(pool: &PgPool) -> Result<time::OffsetDateTime, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT LEAST(now(), (SELECT min(xact_start) FROM pg_stat_activity
                              WHERE datname = current_database() AND pid <> pg_backend_pid()
                                AND xact_start IS NOT NULL))",
    )
    .fetch_one(pool)
    .await
}

/// The name of the constraint a statement violated, if that is why it failed.
#[must_use]
pub fn violated_constraint(err: &sqlx::Error) -> Option<&str> {
    match err {
        sqlx::Error::Database(db) => db.constraint(),
        _ => None,
    }
}
