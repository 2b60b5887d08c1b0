//! The instances behind each path: for the api, web-sm and tui-sm a list of base URLs
//! (`api_urls`, `web_urls`, `tui_urls`; empty means the one `api_url`, `web_url`,
//! `tui_url`). Each request (and each new event stream) goes to the next instance in round
//! robin that is healthy: every `CHECK_EVERY` the gateway asks each instance's `/readyz`,
//! and an instance that refuses a connection is skipped at once until a check passes
//! again. When no instance is known healthy the round robin goes over all of them, so a
//! wrong health answer never takes the whole service away. A request already sent to an
//! instance that dies is not repeated (it may have been acted on): its client gets the 502
//! and retries, as clients do; a GET whose connection was refused is tried once more on the
//! next instance, since nothing reached the first.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use ajet_shared::config::Config;
use axum::body::Body;
use tokio_util::sync::CancellationToken;

use crate::state::UpstreamClient;

/// How often every instance's `/readyz` is asked.
pub const CHECK_EVERY: Duration = Duration::from_secs(1);
/// How long one health check may take before it counts as failed.
const CHECK_TIMEOUT: Duration = Duration::from_millis(800);

/// Which service a path belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    Api,
    Web,
    Tui,
}

impl Service {
    /// The service serving `path`: `/api/*` the api, `/tui/*` tui-sm, the rest web-sm.
    #[must_use]
    pub fn of_path(path: &str) -> Self {
        if path == "/api" || path.starts_with("/api/") {
            Self::Api
        } else if path == "/tui" || path.starts_with("/tui/") {
            Self::Tui
        } else {
            Self::Web
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Web => "web-sm",
            Self::Tui => "tui-sm",
        }
    }
}

struct Instance {
    base: String,
    healthy: AtomicBool,
}

/// The instances of one service, picked in round robin among the healthy ones.
pub struct Pool {
    service: Service,
    instances: Vec<Instance>,
    next: AtomicUsize,
}

impl Pool {
    /// `urls` must not be empty (config validation sees to it); each is taken without a
    /// trailing slash. Every instance starts healthy.
    fn new(service: Service, urls: &[String]) -> Self {
        let instances = urls
            .iter()
            .map(|url| Instance { base: url.trim_end_matches('/').to_owned(), healthy: AtomicBool::new(true) })
            .collect();
        Self { service, instances, next: AtomicUsize::new(0) }
    }

    /// The next healthy instance's base URL (or the next one of all, when none is).
    #[must_use]
    pub fn pick(&self) -> &str {
        let count = self.instances.len().max(1);
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..count)
            .map(|offset| &self.instances[(start + offset) % count])
            .find(|instance| instance.healthy.load(Ordering::Relaxed))
            .unwrap_or(&self.instances[start % count])
            .base
            .as_str()
    }

    /// Whether more than one instance serves this service (a refused GET is then retried).
    #[must_use]
    pub fn is_replicated(&self) -> bool {
        self.instances.len() > 1
    }

    /// Takes `base` out of the rotation until a health check passes (it refused a connection).
    pub fn mark_down(&self, base: &str) {
        if let Some(instance) = self.instances.iter().find(|instance| instance.base == base) {
            self.set(instance, false);
        }
    }

    /// Whether any instance is healthy (the gateway's own readiness).
    #[must_use]
    pub fn any_healthy(&self) -> bool {
        self.instances.iter().any(|instance| instance.healthy.load(Ordering::Relaxed))
    }

    fn set(&self, instance: &Instance, healthy: bool) {
        if instance.healthy.swap(healthy, Ordering::Relaxed) != healthy {
            if healthy {
                tracing::info!(service = self.service.name(), upstream = %instance.base, "upstream back in rotation");
            } else {
                tracing::warn!(service = self.service.name(), upstream = %instance.base, "upstream out of rotation");
            }
        }
    }

    async fn check(&self, client: &UpstreamClient) {
        let checks = self.instances.iter().map(|instance| async move {
            let healthy = ready(client, &instance.base).await;
            self.set(instance, healthy);
        });
        futures::future::join_all(checks).await;
    }
}

/// True when `base/readyz` answers 2xx within `CHECK_TIMEOUT`.
pub async fn ready(client: &UpstreamClient, base: &str) -> bool {
    let Ok(uri) = format!("{base}/readyz").parse::<http::Uri>() else { return false };
    let Ok(request) = http::Request::get(uri).body(Body::empty()) else { return false };
    matches!(
        tokio::time::timeout(CHECK_TIMEOUT, client.request(request)).await,
        Ok(Ok(response)) if response.status().is_success()
    )
}

/// Every service's instances.
pub struct Upstreams {
    api: Pool,
    web: Pool,
    tui: Pool,
}

impl Upstreams {
    #[must_use]
    pub fn new(config: &Config) -> Self {
        let list = |many: &[String], one: &String| if many.is_empty() { vec![one.clone()] } else { many.to_vec() };
        Self {
            api: Pool::new(Service::Api, &list(&config.api_urls, &config.api_url)),
            web: Pool::new(Service::Web, &list(&config.web_urls, &config.web_url)),
            tui: Pool::new(Service::Tui, &list(&config.tui_urls, &config.tui_url)),
        }
    }

    #[must_use]
    pub fn pool(&self, service: Service) -> &Pool {
        match service {
            Service::Api => &self.api,
            Service::Web => &self.web,
            Service::Tui => &self.tui,
        }
    }

    /// Checks every instance every `CHECK_EVERY` until `shutdown`.
    pub async fn watch(self: Arc<Self>, client: UpstreamClient, shutdown: CancellationToken) {
        loop {
            tokio::join!(self.api.check(&client), self.web.check(&client), self.tui.check(&client));
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(CHECK_EVERY) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(urls: &[&str]) -> Pool {
        Pool::new(Service::Api, &urls.iter().map(|url| (*url).to_owned()).collect::<Vec<_>>())
    }

    #[test]
    fn requests_go_round_robin_and_skip_an_instance_that_is_down() {
        let pool = pool(&["http://a", "http://b/", "http://c"]);
        let picks: Vec<&str> = (0..6).map(|_| pool.pick()).collect();
        assert_eq!(picks, ["http://a", "http://b", "http://c", "http://a", "http://b", "http://c"]);
        pool.mark_down("http://b");
        let picks: Vec<&str> = (0..4).map(|_| pool.pick()).collect();
        assert!(!picks.contains(&"http://b"), "{picks:?}");
        assert!(picks.contains(&"http://a") && picks.contains(&"http://c"), "{picks:?}");
        assert!(pool.any_healthy());
    }

    #[test]
    fn with_every_instance_down_all_are_tried_in_turn() {
        let pool = pool(&["http://a", "http://b"]);
        pool.mark_down("http://a");
        pool.mark_down("http://b");
        assert!(!pool.any_healthy());
        let picks: Vec<&str> = (0..2).map(|_| pool.pick()).collect();
        assert!(picks.contains(&"http://a") && picks.contains(&"http://b"), "{picks:?}");
    }

    #[test]
    fn paths_map_to_their_service() {
        assert_eq!(Service::of_path("/api/me"), Service::Api);
        assert_eq!(Service::of_path("/api"), Service::Api);
        assert_eq!(Service::of_path("/apix"), Service::Web);
        assert_eq!(Service::of_path("/tui/events"), Service::Tui);
        assert_eq!(Service::of_path("/c/acme"), Service::Web);
    }
}
