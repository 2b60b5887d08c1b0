//! Starts the api alone on an ephemeral port with a fresh database and a private
//! nats-server, and signs users in by creating their sessions.

use std::time::{Duration, Instant};

use ajet_shared::auth::{NewToken, TokenKind};
use ajet_shared::client::ApiClient;
use ajet_shared::db;
use ajet_shared::domain::Username;
use ajet_shared::testing::{NatsServer, TestDb, config, fresh_database};
use tokio_util::sync::CancellationToken;

pub struct Api {
    pub client: ApiClient,
    pub db: TestDb,
    pub nats: NatsServer,
    shutdown: CancellationToken,
}

impl Api {
    pub async fn start() -> Self {
        let db = fresh_database().await;
        let nats = NatsServer::start();
        let mut config = config(&db.url, &nats.url());
        config.migrate_on_start = false;
        config.message_max_chars = 100;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let shutdown = CancellationToken::new();
        tokio::spawn(ajet_api::serve(config, listener, shutdown.clone()));
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while !http.get(format!("{url}/readyz")).send().await.is_ok_and(|r| r.status().is_success()) {
            assert!(Instant::now() < deadline, "api not ready after 30 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self { client: ApiClient::new(url).expect("client"), db, nats, shutdown }
    }

    /// A client signed in as `username` (created on first use).
    pub async fn user(&self, username: &str) -> ApiClient {
        let username = Username::parse("username", username).expect("valid username");
        let user = db::users::get_or_create_by_username(&self.db.pool, &username).await.expect("user");
        let token = NewToken::generate(TokenKind::Session);
        db::auth::create_session(
            &self.db.pool,
            user.id,
            &token.hash,
            ajet_shared::config::Config::default().session_lifetime(),
        )
        .await
        .expect("session");
        self.client.with_token(token.plaintext)
    }
}

impl Drop for Api {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
