//! The gateway's state: the database (sessions and tokens live there), the config, the
//! cache of validated tokens, the rate limiters and the HTTP client that carries proxied
//! requests.

use std::sync::Arc;
use std::time::Duration;

use ajet_shared::auth::cache::AuthCache;
use ajet_shared::config::{Config, Secret};
use ajet_shared::db::PgPool;
use axum::body::Body;
use axum::extract::FromRef;
use axum_extra::extract::cookie::Key;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::oauth::Providers;
use crate::rate_limit::{BurstLog, FailedLogins, RateLimiter, SharedLimiter};
use crate::streams::StreamSlots;
use crate::upstreams::{Service, Upstreams};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// The configured cookie key, or a random one for this process (validated config holds at
/// least 64 bytes; anything shorter is not used).
fn cookie_key(configured: Option<&Secret>) -> Key {
    use base64::Engine as _;
    let decoded = configured
        .and_then(|key| base64::engine::general_purpose::STANDARD.decode(key.expose().trim()).ok())
        .filter(|bytes| bytes.len() >= 64);
    let bytes = decoded.unwrap_or_else(|| {
        let mut random = vec![0u8; 64];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut random);
        random
    });
    Key::from(&bytes)
}

pub type UpstreamClient = Client<HttpConnector, Body>;

/// The gateway's allowances: per token or client IP, the stricter one for `/auth/*`, and
/// one per incoming webhook.
pub struct Limits {
    pub requests: RateLimiter,
    pub logins: RateLimiter,
    /// The same allowance as `logins`, shared with the other gateway instances.
    pub shared_logins: SharedLimiter,
    /// Per incoming webhook.
    pub webhooks: RateLimiter,
    /// When each address's failed-authentication burst was last audited.
    pub bursts: BurstLog,
    /// Refused logins per address, for the audit of failed-login bursts.
    pub failed_logins: FailedLogins,
}

#[derive(Clone, FromRef)]
pub struct GatewayState {
    pub pool: PgPool,
    pub config: Arc<Config>,
    pub upstream: UpstreamClient,
    /// Carries event streams to the session managers: HTTP/2, so all of them share one
    /// connection (one descriptor) per instance instead of one each.
    #[from_ref(skip)]
    pub stream_upstream: UpstreamClient,
    /// The instances of the api, web-sm and tui-sm, and which are healthy.
    pub upstreams: Arc<Upstreams>,
    pub auth_cache: Arc<AuthCache>,
    pub limits: Arc<Limits>,
    /// Open event streams per user.
    pub streams: Arc<StreamSlots>,
    /// Requests in flight to the services (`gateway_max_requests`) and open streams
    /// (`gateway_max_streams`): a request that finds none free is refused at once.
    #[from_ref(skip)]
    pub in_flight: Arc<Semaphore>,
    #[from_ref(skip)]
    pub open_streams: Arc<Semaphore>,
    pub providers: Arc<Providers>,
    /// Encrypts the login-attempt cookie.
    pub cookie_key: Key,
    /// Cancelled when the gateway shuts down: proxied event streams end at once.
    pub shutdown: CancellationToken,
}

/// The open streams one gateway may hold: `gateway_max_streams`, or fewer when the
/// process's descriptor limit (raised to its hard limit here) cannot hold that many. Each
/// stream holds one descriptor (its client's connection; the session managers are reached
/// over shared HTTP/2 connections), and room is kept for the requests forwarded to the api
/// (two each: the client's connection and one to the api), the database pool, the
/// listener, idle keep-alive clients (closed after 30 s) and outgoing calls: past the
/// limit a stream is refused with a clean 503 `overloaded` rather than a 502.
fn stream_bound(config: &Config) -> u32 {
    let descriptors = ajet_shared::server::raise_descriptor_limit();
    let reserved = 2 * u64::from(config.gateway_max_requests) + u64::from(config.database_max_connections) + 1024;
    let room = u32::try_from(descriptors.saturating_sub(reserved)).unwrap_or(u32::MAX).max(1);
    if room < config.gateway_max_streams {
        tracing::warn!(
            gateway_max_streams = config.gateway_max_streams,
            descriptors,
            streams = room,
            "the open-descriptor limit holds fewer streams than gateway_max_streams; the lower bound applies"
        );
    }
    room.min(config.gateway_max_streams)
}

impl GatewayState {
    pub fn new(pool: PgPool, config: Arc<Config>) -> Result<Self, reqwest::Error> {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(2)));
        // Idle connections are dropped here before the services' HTTP servers close them
        // (hyper's header-read timeout, 30 s): at equal times a request could be written
        // into a connection the service is closing, and a POST so cut is a 502 (the OpenAPI
        // fuzzer met one in CI).
        let upstream =
            Client::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(20)).build(connector.clone());
        // Each stream may hold back at most a 32 KiB window when its reader is slow (20,000
        // slow streams: 625 MiB at most), and the connection's window is as large as HTTP/2
        // allows: a few slow readers never stall the streams of everyone else on the
        // connection. A ping every 20 s (one per connection, not per stream) finds a session
        // manager that vanished without closing its connection, ending its streams so their
        // clients reconnect; 30 s to answer, so a busy moment does not end them all. The
        // connection is kept however long no new stream comes (the session managers do not
        // close idle HTTP/2 connections), so streams keep sharing it.
        let stream_upstream = Client::builder(TokioExecutor::new())
            .timer(hyper_util::rt::TokioTimer::new())
            .http2_keep_alive_interval(Duration::from_secs(20))
            .http2_keep_alive_timeout(Duration::from_secs(30))
            .http2_only(true)
            .http2_initial_stream_window_size(32 * 1024)
            .http2_initial_connection_window_size(i32::MAX.cast_unsigned())
            .pool_idle_timeout(None)
            .build(connector);
        let auth_cache = Arc::new(AuthCache::new(config.auth_cache_ttl(), config.auth_cache_capacity));
        let limits = Arc::new(Limits {
            requests: RateLimiter::per_minute(config.rate_limit_per_minute),
            logins: RateLimiter::per_minute(config.login_rate_limit_per_minute),
            shared_logins: SharedLimiter::per_minute("login", config.login_rate_limit_per_minute),
            webhooks: RateLimiter::per_minute(config.webhook_rate_limit_per_minute),
            bursts: BurstLog::default(),
            failed_logins: FailedLogins::default(),
        });
        let providers = Arc::new(Providers::new(config.oauth_providers.clone(), &config.public_url)?);
        let cookie_key = cookie_key(config.cookie_key.as_ref());
        let streams = Arc::new(StreamSlots::new(config.max_streams_per_user));
        let shutdown = CancellationToken::new();
        let upstreams = Arc::new(Upstreams::new(&config));
        let permits = |n: u32| Arc::new(Semaphore::new(usize::try_from(n).unwrap_or(Semaphore::MAX_PERMITS)));
        let (in_flight, open_streams) = (permits(config.gateway_max_requests), permits(stream_bound(&config)));
        Ok(Self {
            pool,
            config,
            upstream,
            stream_upstream,
            upstreams,
            auth_cache,
            limits,
            streams,
            in_flight,
            open_streams,
            providers,
            cookie_key,
            shutdown,
        })
    }

    /// Ends the proxied event streams when `shutdown` is cancelled.
    #[must_use]
    pub fn with_shutdown(mut self, shutdown: CancellationToken) -> Self {
        self.shutdown = shutdown;
        self
    }

    /// True when an api instance answers its `/healthz` with 200 (the next one in the
    /// rotation; with several, the one after it too if that one does not).
    pub async fn api_ready(&self) -> bool {
        let pool = self.upstreams.pool(Service::Api);
        for _ in 0..if pool.is_replicated() { 2 } else { 1 } {
            let base = pool.pick();
            let Ok(uri) = format!("{base}/healthz").parse::<http::Uri>() else { return false };
            let Ok(request) = http::Request::get(uri).body(Body::empty()) else { return false };
            if matches!(self.upstream.request(request).await, Ok(response) if response.status().is_success()) {
                return true;
            }
        }
        false
    }
}
