//! Secrets stay out of logs: a run through the gateway with every kind of credential — a
//! session (bearer and cookie), an API token, an incoming webhook's token in its URL — is
//! logged at debug level into a buffer by every service (they share this process), and
//! none of those secrets may appear in it.

use std::io::Write;
use std::sync::{Arc, Mutex};

use ajet_shared::api::wire::{
    CreateChannelRequest, CreateCommunityRequest, CreateWebhookRequest, CreatedToken, CreatedWebhook,
};
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
        .get(format!("{}/api/me", stack.gateway.base_url()))
        .header("cookie", format!("ajet_session={}", login.token))
        .send()
        .await
        .expect("answers");
    assert_eq!(by_cookie.status(), StatusCode::OK);

    let response = alice
        .request(Method::POST, "/api/tokens")
        .json(&serde_json::json!({"name": "bot", "scopes": ["read"]}))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), StatusCode::CREATED);
    let api_token: CreatedToken = response.json().await.expect("token");
    stack.gateway.with_token(&api_token.token).me().await.expect("api token works");
    let refused = stack.gateway.with_token(&api_token.token).request(Method::POST, "/api/heartbeat").send().await;
    assert_eq!(refused.expect("answers").status(), StatusCode::FORBIDDEN, "a read-only token may not announce itself");

    let community = alice
        .create_community(&CreateCommunityRequest { name: "Acme".into(), slug: "acme".into(), description: None })
        .await
        .expect("community");
    let channel = alice
        .create_channel(community.id, &CreateChannelRequest { name: "builds".into(), topic: None, kind: None })
        .await
        .expect("channel");
    let response = alice
        .request(Method::POST, "/api/webhooks")
        .json(&CreateWebhookRequest { channel_id: channel.id, name: "CI".into(), avatar_url: None })
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), StatusCode::CREATED);
    let webhook: CreatedWebhook = response.json().await.expect("webhook");
    let hook_path = format!("/hook/{}/{}", webhook.info.id, webhook.token);
    for body in [r#"{"text":"build passed"}"#, "not json"] {
        stack
            .gateway
            .request(Method::POST, &hook_path)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("answers");
    }

    let logout = alice.request(Method::POST, "/auth/logout").send().await.expect("answers");
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
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
