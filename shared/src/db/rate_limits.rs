//! The `rate_limits` table: allowances shared by every gateway instance, as one GCRA
//! "theoretical arrival time" per key, taken and updated in one statement by the database's
//! clock (so instances' clocks do not matter). Used where an allowance multiplied by the
//! number of gateways would matter: logins per client address.

use std::time::Duration;

use sqlx::PgExecutor;

/// The outcome of one `take`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Taken {
    pub allowed: bool,
    /// How far the key's arrival time is ahead of now after the call (its backlog).
    pub backlog: Duration,
}

/// Counts one request against `key`'s allowance of `window / interval` requests (one
/// `interval` each, at most `window` ahead of now), if it has room.
pub async fn take(
    db: impl PgExecutor<'_>,
    key: &str,
    interval: Duration,
    window: Duration,
) -> Result<Taken, sqlx::Error> {
    let (allowed, backlog_secs): (bool, f64) = sqlx::query_as(
        "WITH up AS (
             INSERT INTO rate_limits AS r (key, tat)
             VALUES ($1, now() + make_interval(secs => $2))
             ON CONFLICT (key) DO UPDATE
                 SET tat = GREATEST(r.tat, now()) + make_interval(secs => $2)
                 WHERE GREATEST(r.tat, now()) + make_interval(secs => $2) <= now() + make_interval(secs => $3)
             RETURNING tat)
         SELECT EXISTS (SELECT 1 FROM up),
                GREATEST(EXTRACT(EPOCH FROM COALESCE((SELECT tat FROM up),
                                                     (SELECT tat FROM rate_limits WHERE key = $1)) - now()), 0)::float8",
    )
    .bind(key)
    .bind(interval.as_secs_f64())
    .bind(window.as_secs_f64())
    .fetch_one(db)
    .await?;
    Ok(Taken { allowed, backlog: Duration::try_from_secs_f64(backlog_secs).unwrap_or_default() })
}

/// Forgets the keys whose allowance is whole again (they carry no information).
pub async fn prune(db: impl PgExecutor<'_>) -> Result<u64, sqlx::Error> {
    let deleted = sqlx::query("DELETE FROM rate_limits WHERE tat < now()").execute(db).await?;
    Ok(deleted.rows_affected())
}
