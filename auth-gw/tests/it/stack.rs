//! Starts the whole stack in-process: gateway, api, tui-sm and web-sm on `127.0.0.1:0`,
//! each with its own fresh database and private nats-server. web-sm can be stopped and
//! started again on its address (`Stack::web_sm`), as a deploy restarts it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ajet_shared::client::ApiClient;
use ajet_shared::config::Config;
use ajet_shared::testing::{NatsServer, TestDb, config, fresh_database};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub struct Stack {
    /// A client of the gateway, not logged in.
    pub gateway: ApiClient,
    pub config: Config,
    pub db: TestDb,
    pub nats: NatsServer,
    shutdown: CancellationToken,
    services: Vec<JoinHandle<anyhow::Result<()>>>,
    web_sm: WebSm,
}

/// A running service: its own shutdown and its task.
type Running = (CancellationToken, JoinHandle<anyhow::Result<()>>);

/// The stack's web-sm, which a test may stop and start again on the same address: its
/// streams end as in a deploy (`server restarting`), and the tabs reconnect to the new
/// process with their `Last-Event-ID`.
#[derive(Clone)]
pub struct WebSm {
    config: Config,
    /// The stack's shutdown, which stops web-sm too.
    parent: CancellationToken,
    running: Arc<tokio::sync::Mutex<Option<Running>>>,
}

impl WebSm {
    fn spawn(&self, listener: TcpListener) -> Running {
        let shutdown = self.parent.child_token();
        (shutdown.clone(), tokio::spawn(ajet_web_sm::serve(self.config.clone(), listener, shutdown)))
    }

    /// Stops web-sm (if it runs) and checks it stops in time and cleanly.
    pub async fn stop(&self) {
        let running = self.running.lock().await.take();
        if let Some((shutdown, task)) = running {
            shutdown.cancel();
            tokio::time::timeout(Duration::from_secs(10), task)
                .await
                .expect("web-sm stops within 10 s")
                .expect("no panic")
                .expect("clean exit");
        }
    }

    /// Starts web-sm again on its address (if it is stopped) and waits until it is ready.
    pub async fn start(&self) {
        {
            let mut running = self.running.lock().await;
            if running.is_some() {
                return;
            }
            let address = self.config.web_url.trim_start_matches("http://");
            let listener = TcpListener::bind(address).await.expect("web-sm's address is free again");
            *running = Some(self.spawn(listener));
        }
        wait_ready(&format!("{}/readyz", self.config.web_url)).await;
    }
}

async fn bind() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    (listener, url)
}

/// Polls `url` until it answers 200.
pub async fn wait_ready(url: &str) {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if http.get(url).send().await.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        assert!(Instant::now() < deadline, "{url} not ready after 30 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

impl Stack {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts the stack with `adjust` applied to the configuration.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let db = fresh_database().await;
        let nats = NatsServer::start();
        let mut config = config(&db.url, &nats.url());
        config.migrate_on_start = false;
        let (api, api_url) = bind().await;
        let (tui, tui_url) = bind().await;
        let (web, web_url) = bind().await;
        let (gateway, gateway_url) = bind().await;
        config.api_url = api_url;
        config.tui_url = tui_url;
        config.web_url = web_url;
        config.public_url.clone_from(&gateway_url);
        adjust(&mut config);
        let shutdown = CancellationToken::new();
        let services = vec![
            tokio::spawn(ajet_api::serve(config.clone(), api, shutdown.clone())),
            tokio::spawn(ajet_tui_sm::serve(config.clone(), tui, shutdown.clone())),
            tokio::spawn(ajet_auth_gw::serve(config.clone(), gateway, shutdown.clone())),
        ];
        let web_sm = WebSm { config: config.clone(), parent: shutdown.clone(), running: Arc::default() };
        *web_sm.running.lock().await = Some(web_sm.spawn(web));
        for url in [&config.api_url, &config.tui_url, &config.web_url, &gateway_url] {
            wait_ready(&format!("{url}/readyz")).await;
        }
        let gateway = ApiClient::new(gateway_url).expect("client");
        Self { gateway, config, db, nats, shutdown, services, web_sm }
    }

    /// The stack's web-sm, to stop and start again.
    pub fn web_sm(&self) -> WebSm {
        self.web_sm.clone()
    }

    /// A logged-in client of the gateway.
    pub async fn login(&self, username: &str) -> ApiClient {
        let login = self.gateway.dev_login(username).await.expect("dev login");
        assert_eq!(login.user.username, username);
        self.gateway.with_token(login.token)
    }

    /// How many requests the api has answered on `route` (with `method`, if given), read
    /// from the gateway's `/metrics`: every service of the stack shares this process's
    /// recorder, so the count is process-wide.
    pub async fn api_requests(&self, route: &str, method: Option<&str>) -> u64 {
        let text = reqwest::get(format!("{}/metrics", self.gateway.base_url()))
            .await
            .expect("answers")
            .text()
            .await
            .expect("metrics");
        let route = format!("route=\"{route}\"");
        let method = method.map(|method| format!("method=\"{method}\""));
        text.lines()
            .filter(|line| {
                line.starts_with("http_requests_total{")
                    && line.contains("service=\"api\"")
                    && line.contains(&route)
                    && method.as_ref().is_none_or(|method| line.contains(method))
            })
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .map(|count| count as u64)
            .sum()
    }

    /// Shuts every service down and checks they all stop in time and cleanly.
    pub async fn stop(self) {
        self.shutdown.cancel();
        self.web_sm.stop().await;
        for service in self.services {
            tokio::time::timeout(Duration::from_secs(10), service)
                .await
                .expect("a service stops within 10 s")
                .expect("no panic")
                .expect("clean exit");
        }
    }
}
