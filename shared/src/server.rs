//! What every HTTP service shares: logging and metrics set-up, the `/healthz`, `/readyz` and
//! `/metrics` routes, request tracing carrying the trace id, and serving with graceful
//! shutdown.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::trace::TraceLayer;

use crate::auth::TRACE_ID_HEADER;
use crate::config::{Config, LogFormat};

/// Sets up `tracing` from `log` / `log_format`. Safe to call more than once.
pub fn init_tracing(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    // A second initialisation (tests start several services in one process) is harmless.
    drop(match config.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Pretty => builder.try_init(),
    });
}

/// The process-wide Prometheus recorder (installed on first use).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Fails only if another recorder was installed first; then ours merely stays empty.
            drop(metrics::set_global_recorder(recorder));
            handle
        })
        .clone()
}

type CheckFn = dyn Fn() -> Pin<Box<dyn Future<Output = bool> + Send>> + Send + Sync;

type Outcome = (bool, serde_json::Map<String, serde_json::Value>);

/// The dependency checks behind `/readyz`.
#[derive(Clone, Default)]
pub struct Readiness {
    checks: Vec<(&'static str, Arc<CheckFn>)>,
    cache: Option<Arc<ReadinessCache>>,
}

/// The last outcome and when it was taken. The lock is held while the checks run, so
/// concurrent callers wait for one run instead of starting their own.
struct ReadinessCache {
    ttl: std::time::Duration,
    last: tokio::sync::Mutex<Option<(Instant, Outcome)>>,
}

impl Readiness {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a named check; it must answer quickly (each is bounded to 2 s anyway).
    #[must_use]
    pub fn check<F, Fut>(mut self, name: &'static str, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = bool> + Send + 'static,
    {
        self.checks.push((name, Arc::new(move || Box::pin(check()))));
        self
    }

    /// Answers from the last outcome for `ttl` after taking it, so that a public `/readyz`
    /// is not a way to make the service query its dependencies at will.
    #[must_use]
    pub fn cached_for(mut self, ttl: std::time::Duration) -> Self {
        self.cache = Some(Arc::new(ReadinessCache { ttl, last: tokio::sync::Mutex::new(None) }));
        self
    }

    async fn outcome(&self) -> Outcome {
        let Some(cache) = &self.cache else { return self.run().await };
        let mut last = cache.last.lock().await;
        if let Some((at, outcome)) = last.as_ref()
            && at.elapsed() < cache.ttl
        {
            return outcome.clone();
        }
        let outcome = self.run().await;
        *last = Some((Instant::now(), outcome.clone()));
        outcome
    }

    async fn run(&self) -> Outcome {
        let results = futures::future::join_all(self.checks.iter().map(|(name, check)| async move {
            let ok = tokio::time::timeout(std::time::Duration::from_secs(2), check()).await.unwrap_or(false);
            (*name, ok)
        }))
        .await;
        let all_ok = results.iter().all(|(_, ok)| *ok);
        let map = results.into_iter().map(|(name, ok)| (name.to_owned(), serde_json::Value::Bool(ok))).collect();
        (all_ok, map)
    }
}

async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({"status": "alive"}))
}

async fn readyz(State(readiness): State<Readiness>) -> Response {
    let (ok, checks) = readiness.outcome().await;
    let status = if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(serde_json::json!({"status": if ok { "ready" } else { "unready" }, "checks": checks})))
        .into_response()
}

async fn metrics_text() -> impl IntoResponse {
    ([(http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], metrics_handle().render())
}

/// `/healthz`, `/readyz` and `/metrics`, merged into every service's router.
pub fn ops_router<S: Clone + Send + Sync + 'static>(readiness: Readiness) -> Router<S> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz).with_state(readiness))
        .route("/metrics", get(metrics_text))
}

async fn record_metrics(service: &'static str, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route =
        request.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    let labels = [
        ("service", service.to_owned()),
        ("method", method),
        ("route", route),
        ("status", response.status().as_u16().to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels).record(started.elapsed().as_secs_f64());
    response
}

/// `path` as it may be logged: an incoming webhook's token (`/hook/{id}/{token}`) is a
/// secret in the URL, so everything after the id becomes `[redacted]`.
#[must_use]
pub fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    let Some(rest) = path.strip_prefix("/hook/") else { return path.into() };
    match rest.split_once('/') {
        Some((id, _secret)) => format!("/hook/{id}/[redacted]").into(),
        None => path.into(),
    }
}

/// Wraps a service's router with request metrics and a tracing span carrying the trace id.
pub fn instrument(router: Router, service: &'static str) -> Router {
    metrics_handle();
    router.layer(middleware::from_fn(move |request, next| record_metrics(service, request, next))).layer(
        TraceLayer::new_for_http().make_span_with(move |request: &Request| {
            let trace_id = request.headers().get(TRACE_ID_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("-");
            let path = loggable_path(request.uri().path());
            tracing::info_span!("request", service, method = %request.method(), path = %path, trace_id)
        }),
    )
}

/// How many streams one HTTP/2 connection may carry at once (`Streams`).
#[derive(Clone, Copy, Debug)]
pub enum Streams {
    /// hyper's default, 200: what a service reachable from outside allows, so one client
    /// connection cannot queue more requests than that before any per-request bound
    /// (authentication, rate limits, `gateway_max_requests`) is reached.
    Default,
    /// 2^20: a session manager, which the gateway reaches over one HTTP/2 connection that
    /// carries every event stream it forwards (one descriptor on each side instead of one
    /// per stream); the gateway's `gateway_max_streams` is the bound that matters. Never for
    /// a service reachable from outside.
    Multiplexed,
}

/// Serves `router` on `listener` until `shutdown` fires, then finishes in-flight requests.
/// Long-lived streams watch the same token and end themselves. Handlers can see the peer
/// address (`ConnectInfo<SocketAddr>`). HTTP/1.1 (with hyper's 30 s limit on reading a
/// request's head) and cleartext HTTP/2 (prior knowledge, which is how the gateway reaches
/// the session managers) are both served, with up to `streams` streams per connection.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: CancellationToken,
    streams: Streams,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto;
    use tower::Service as _;

    let mut builder = auto::Builder::new(TokioExecutor::new());
    // Without a timer hyper drops its header-read timeout: idle and slow connections would
    // hold their descriptors for ever.
    builder.http1().timer(TokioTimer::new());
    if let Streams::Multiplexed = streams {
        builder.http2().max_concurrent_streams(1 << 20);
    }
    let builder = Arc::new(builder);
    let connections = tokio_util::task::TaskTracker::new();
    loop {
        let (stream, remote) = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // A connection that went away before it was accepted: the next one.
                Err(err) if matches!(
                    err.kind(),
                    std::io::ErrorKind::ConnectionAborted
                        | std::io::ErrorKind::ConnectionReset
                        | std::io::ErrorKind::ConnectionRefused
                ) => continue,
                Err(err) => {
                    // Out of descriptors: the listener stays, and accepting resumes once
                    // some are freed (or the service stops).
                    tracing::warn!(error = %err, "accepting a connection failed; trying again in a second");
                    tokio::select! {
                        () = shutdown.cancelled() => break,
                        () = tokio::time::sleep(std::time::Duration::from_secs(1)) => continue,
                    }
                }
            },
        };
        drop(stream.set_nodelay(true));
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
            request.extensions_mut().insert(axum::extract::ConnectInfo(remote));
            router.clone().call(request)
        });
        let (builder, shutdown) = (Arc::clone(&builder), shutdown.clone());
        connections.spawn(async move {
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                served = connection.as_mut() => {
                    if let Err(err) = served {
                        tracing::debug!(error = %err, "connection ended with an error");
                    }
                    return;
                }
                () = shutdown.cancelled() => connection.as_mut().graceful_shutdown(),
            }
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, "connection ended with an error");
            }
        });
    }
    drop(listener);
    connections.close();
    connections.wait().await;
    Ok(())
}

/// Raises this process's soft limit on open descriptors to its hard limit (each client
/// connection and each event stream holds one) and answers the limit now in force.
pub fn raise_descriptor_limit() -> u64 {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if let Some(hard) = limit.maximum
        && limit.current != Some(hard)
        && let Err(err) = setrlimit(Resource::Nofile, Rlimit { current: Some(hard), maximum: Some(hard) })
    {
        tracing::warn!(error = %err, "cannot raise the open-descriptor limit");
    }
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

/// A token cancelled by Ctrl-C or SIGTERM.
pub fn shutdown_on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let trigger = token.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(err) => {
                    tracing::warn!(error = %err, "cannot listen for SIGTERM; only Ctrl-C stops the service");
                    drop(ctrl_c.await);
                    trigger.cancel();
                    return;
                }
            };
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        drop(ctrl_c.await);
        tracing::info!("shutting down");
        trigger.cancel();
    });
    token
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_tokens_are_redacted_from_logged_paths() {
        assert_eq!(loggable_path("/hook/0195-id/whk_secret"), "/hook/0195-id/[redacted]");
        assert_eq!(loggable_path("/hook/0195-id/whk_secret/extra"), "/hook/0195-id/[redacted]");
        assert_eq!(loggable_path("/hook/0195-id"), "/hook/0195-id");
        assert_eq!(loggable_path("/api/me"), "/api/me");
    }
}
