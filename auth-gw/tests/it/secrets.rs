//! Secrets stay out of logs: a run through the gateway with every kind of credential — a
//! session (bearer and cookie), an API token, an incoming webhook's token in its URL — is
//! logged at debug level into a buffer by every service (they share this process), and
//! none of those secrets may appear in it.

use std::io::Write;
use std::sync::{Arc, Mutex};

use ajet_shared::api::paths;
use ajet_shared::api::wire::{CreateChannelRequest, CreateCommunityRequest, CreateTokenRequest, CreateWebhookRequest};
use reqwest::{Method, StatusCode};

use crate::stack::Stack;

/// Every log line of the process, as the services would print it.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)).into_owned()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_a_run_creates_appears_in_its_logs() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("debug"))
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // Each test runs in its own process under nextest: this subscriber sees only this run.
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber in this process");

    let stack = Stack::start().await;
    let login = stack.gateway.dev_login("alice").await.expect("login");
    let alice = stack.gateway.with_token(&login.token);
    alice.me().await.expect("bearer session");
    let by_cookie = reqwest::Client::new()
        .get(format!("{}{}", stack.gateway.base_url(), paths::ME))
        .header("cookie", format!("ajet_session={}", login.token))
        .send()
        .await
        .expect("answers");
    assert_eq!(by_cookie.status(), StatusCode::OK);

    let api_token = alice
        .create_token(&CreateTokenRequest { name: "bot".into(), scopes: vec!["read".into()], expires_in_days: None })
        .await
        .expect("token");
    stack.gateway.with_token(&api_token.token).me().await.expect("api token works");
    let refused = stack.gateway.with_token(&api_token.token).heartbeat().await.expect_err("read only");
    assert_eq!(refused.status(), Some(StatusCode::FORBIDDEN), "a read-only token may not announce itself");

    let community = alice
        .create_community(&CreateCommunityRequest { name: "Acme".into(), slug: "acme".into(), description: None })
        .await
        .expect("community");
    let channel = alice
        .create_channel(community.id, &CreateChannelRequest { name: "builds".into(), topic: None, kind: None })
        .await
        .expect("channel");
    let webhook = alice
        .create_webhook(&CreateWebhookRequest { channel_id: channel.id, name: "CI".into(), avatar_url: None })
        .await
        .expect("webhook");
    stack
        .gateway
        .post_webhook(webhook.info.id, &webhook.token, &serde_json::json!({"text": "build passed"}))
        .await
        .expect("posted");
    // A malformed payload, sent by hand: refusals are logged too.
    let malformed = stack
        .gateway
        .request(Method::POST, &paths::hook(webhook.info.id, &webhook.token))
        .header("content-type", "application/json")
        .body("not json")
        .send()
        .await
        .expect("answers");
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);

    alice.logout().await.expect("logged out");
    stack.stop().await;

    let logs = captured.text();
    for (what, secret) in
        [("session token", &login.token), ("API token", &api_token.token), ("webhook token", &webhook.token)]
    {
        assert!(!logs.contains(secret.as_str()), "the {what} appears in the logs");
        // Secrets may also travel percent-encoded.
        let encoded: String = url_encoded(secret);
        assert!(!logs.contains(&encoded), "the {what} appears (encoded) in the logs");
    }
    assert!(
        logs.contains(&format!("/hook/{}/[redacted]", webhook.info.id)),
        "the webhook request was logged, redacted:\n{logs}"
    );
}

fn url_encoded(raw: &str) -> String {
    raw.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
