//! The gateway's state: the database (sessions and tokens live there), the config, the
//! cache of validated tokens, the rate limiters and the HTTP client that carries proxied
//! requests.

use std::sync::Arc;
use std::time::Duration;

use ajet_shared::auth::cache::AuthCache;
use ajet_shared::config::Config;
use ajet_shared::db::PgPool;
use axum::body::Body;
use axum::extract::FromRef;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::rate_limit::RateLimiter;

pub type UpstreamClient = Client<HttpConnector, Body>;

/// The gateway's allowances: per token or client IP, and the stricter one for `/auth/*`.
pub struct Limits {
    pub requests: RateLimiter,
    pub logins: RateLimiter,
}

#[derive(Clone, FromRef)]
pub struct GatewayState {
    pub pool: PgPool,
    pub config: Arc<Config>,
    pub upstream: UpstreamClient,
    pub auth_cache: Arc<AuthCache>,
    pub limits: Arc<Limits>,
}

impl GatewayState {
    pub fn new(pool: PgPool, config: Arc<Config>) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(2)));
        let upstream =
            Client::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(30)).build(connector);
        let auth_cache = Arc::new(AuthCache::new(config.auth_cache_ttl(), config.auth_cache_capacity));
        let limits = Arc::new(Limits {
            requests: RateLimiter::per_minute(config.rate_limit_per_minute),
            logins: RateLimiter::per_minute(config.login_rate_limit_per_minute),
        });
        Self { pool, config, upstream, auth_cache, limits }
    }

    /// True when `base_url/healthz` answers 200.
    pub async fn upstream_healthy(&self, base_url: &str) -> bool {
        let Ok(uri) = format!("{base_url}/healthz").parse::<http::Uri>() else { return false };
        let Ok(request) = http::Request::get(uri).body(Body::empty()) else { return false };
        matches!(self.upstream.request(request).await, Ok(response) if response.status().is_success())
    }
}
