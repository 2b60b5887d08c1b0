//! Rate limits at the gateway: per token, per IP for requests without a valid token, and a
//! stricter per-IP allowance for `/auth/*`, which holds across gateway instances. A
//! refusal is a JSON 429 with `Retry-After` and the `X-RateLimit-*` headers; other callers
//! are unaffected. A burst of failed authentications is audited once. Wrong webhook tokens
//! draw on the IP's allowance and a spent address is refused before any lookup; the public
//! `/readyz` runs its checks at most once a second.

use std::time::Instant;

use ajet_shared::api::ErrorCode;
use reqwest::StatusCode;

use crate::gateway::error_code;
use crate::stack::Stack;

fn header(response: &reqwest::Response, name: &str) -> u64 {
    response.headers()[name].to_str().expect("ascii").parse().expect("a number")
}

/// `Retry-After` is `full` seconds (one request's worth of refill) less what has refilled
/// since the bucket was spent from `since`: a slow run sees a smaller figure, never a larger.
fn assert_retry_after(response: &reqwest::Response, full: u64, since: Instant) {
    let retry_after = header(response, "retry-after");
    // Whole seconds passed, rounded up (the server rounds its wait up too).
    let refilled = since.elapsed().as_secs() + 1;
    assert!(
        retry_after <= full && retry_after + refilled >= full,
        "Retry-After {retry_after}: expected {full} s, less at most the {refilled} s since the first request"
    );
}

async fn assert_limited(response: reqwest::Response, limit: u64) {
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(header(&response, "retry-after") >= 1);
    assert_eq!(header(&response, "x-ratelimit-limit"), limit);
    assert_eq!(header(&response, "x-ratelimit-remaining"), 0);
    assert!(header(&response, "x-ratelimit-reset") >= header(&response, "retry-after"));
    assert_eq!(error_code(response).await, ErrorCode::RateLimited);
}

#[tokio::test]
async fn a_token_over_its_limit_gets_429_and_another_token_is_unaffected() {
    let stack = Stack::start_with(|config| config.rate_limit_per_minute = 5).await;
    let alice = stack.login("alice").await;
    let bob = stack.login("bob").await;
    let since = Instant::now();
    for remaining in (0..5).rev() {
        let response = alice.request(reqwest::Method::GET, "/api/me").send().await.expect("answers");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header(&response, "x-ratelimit-limit"), 5);
        assert_eq!(header(&response, "x-ratelimit-remaining"), remaining);
    }
    let refused = alice.request(reqwest::Method::GET, "/api/me").send().await.expect("answers");
    assert_retry_after(&refused, 12, since); // one request's worth is 60 s / 5
    assert_limited(refused, 5).await;
    let err = alice.sse("/tui/events", None).await.err().expect("streams are limited too");
    assert_eq!(err.status(), Some(StatusCode::TOO_MANY_REQUESTS));

    let response = bob.request(reqwest::Method::GET, "/api/me").send().await.expect("answers");
    assert_eq!(response.status(), StatusCode::OK, "bob's token, from the same address, has its own allowance");
    assert_eq!(header(&response, "x-ratelimit-remaining"), 4);
    stack.stop().await;
}

#[tokio::test]
async fn a_users_sessions_and_tokens_share_one_allowance() {
    let stack = Stack::start_with(|config| config.rate_limit_per_minute = 3).await;
    let first = stack.login("alice").await;
    let second = stack.login("alice").await;
    assert_ne!(first.token(), second.token(), "two sessions");
    for _ in 0..3 {
        let response = first.request(reqwest::Method::GET, "/api/me").send().await.expect("answers");
        assert_eq!(response.status(), StatusCode::OK);
    }
    let refused = second.request(reqwest::Method::GET, "/api/me").send().await.expect("answers");
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS, "another credential of the same user shares it");
    stack.stop().await;
}

#[tokio::test]
async fn requests_without_a_valid_token_draw_on_their_ips_allowance() {
    let stack = Stack::start_with(|config| config.rate_limit_per_minute = 3).await;
    let alice = stack.login("alice").await;
    let http = reqwest::Client::new();
    let guess = format!("ajs_{}", "A".repeat(43));
    for _ in 0..3 {
        let response =
            http.get(format!("{}/api/me", stack.gateway.base_url())).bearer_auth(&guess).send().await.expect("answers");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let refused = http.get(format!("{}/api/me", stack.gateway.base_url())).send().await.expect("answers");
    assert_limited(refused, 3).await;
    for _ in 0..5 {
        let refused = http.get(format!("{}/api/me", stack.gateway.base_url())).bearer_auth(&guess).send().await;
        assert_eq!(refused.expect("answers").status(), StatusCode::TOO_MANY_REQUESTS);
    }
    alice.me().await.expect("a valid token is counted on its own, not by address");

    let bursts: Vec<(String, serde_json::Value)> = sqlx::query_as(
        "SELECT host(ip), details FROM audit_log WHERE action = 'auth.failed_burst' AND actor_id IS NULL",
    )
    .fetch_all(&stack.db.pool)
    .await
    .expect("audit rows");
    assert_eq!(bursts.len(), 1, "one row for the burst, not one per refused request");
    assert_eq!(bursts[0].0, "127.0.0.1");
    assert_eq!(bursts[0].1["path"], "/api/me");
    stack.stop().await;
}

#[tokio::test]
async fn logins_have_a_stricter_per_ip_allowance() {
    let stack = Stack::start_with(|config| config.login_rate_limit_per_minute = 2).await;
    let since = Instant::now();
    let alice = stack.login("alice").await;
    stack.gateway.dev_login("bob").await.expect("second login");
    let refused = stack
        .gateway
        .request(reqwest::Method::POST, "/auth/dev-login")
        .json(&serde_json::json!({"username": "carol"}))
        .send()
        .await
        .expect("answers");
    assert_retry_after(&refused, 30, since);
    assert_limited(refused, 2).await;
    alice.me().await.expect("the api allowance is separate");
    stack.stop().await;
}

async fn hook(stack: &Stack, path: &str, ip: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}{path}", stack.gateway.base_url()))
        .header("x-real-ip", ip)
        .header("content-type", "application/json")
        .body(r#"{"text":"build passed"}"#)
        .send()
        .await
        .expect("answers")
}

#[tokio::test]
async fn wrong_webhook_tokens_spend_the_addresss_allowance_and_then_nothing_is_looked_up() {
    let stack = Stack::start_with(|config| {
        config.rate_limit_per_minute = 3;
        config.client_ip_header = Some("x-real-ip".into());
    })
    .await;
    let alice = stack.login("alice").await;
    let community = alice
        .create_community(&ajet_shared::api::wire::CreateCommunityRequest {
            name: "Acme".into(),
            slug: "acme".into(),
            description: None,
        })
        .await
        .expect("community");
    let channel = alice
        .create_channel(
            community.id,
            &ajet_shared::api::wire::CreateChannelRequest { name: "builds".into(), topic: None, kind: None },
        )
        .await
        .expect("channel");
    let created = alice
        .request(reqwest::Method::POST, "/api/webhooks")
        .json(&serde_json::json!({"channel_id": channel.id, "name": "CI"}))
        .send()
        .await
        .expect("answers");
    assert_eq!(created.status(), StatusCode::CREATED);
    let webhook: ajet_shared::api::wire::CreatedWebhook = created.json().await.expect("webhook");
    let right = format!("/hook/{}/{}", webhook.info.id, webhook.token);
    let wrong = format!("/hook/{}/whk_guess", webhook.info.id);
    let unknown = format!("/hook/{}/whk_guess", uuid::Uuid::now_v7());

    let guesser = "203.0.113.7";
    for path in [&wrong, &unknown, &wrong] {
        let status = hook(&stack, path, guesser).await.status();
        assert!(matches!(status, StatusCode::UNAUTHORIZED | StatusCode::NOT_FOUND), "{path}: {status}");
    }
    let refused = hook(&stack, &wrong, guesser).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(header(&refused, "retry-after") >= 1);
    assert_eq!(error_code(refused).await, ErrorCode::RateLimited);
    // Refused before the lookup: even the right token is not checked from this address.
    let blocked = hook(&stack, &right, guesser).await;
    assert_eq!(blocked.status(), StatusCode::TOO_MANY_REQUESTS, "a spent address gets no lookup at all");

    let honest = hook(&stack, &right, "203.0.113.8").await;
    assert_eq!(honest.status(), StatusCode::OK, "another address is unaffected");
    for _ in 0..5 {
        assert_eq!(
            hook(&stack, &right, "203.0.113.8").await.status(),
            StatusCode::OK,
            "right tokens cost nothing here"
        );
    }
    stack.stop().await;
}

#[tokio::test]
async fn the_public_readyz_runs_its_checks_at_most_once_a_second() {
    let stack = Stack::start().await;
    let before = stack.api_requests("/healthz", None).await;
    assert!(before >= 1, "the start-up's readiness checks are counted");
    let started = Instant::now();
    let http = reqwest::Client::new();
    for _ in 0..30 {
        let response = http.get(format!("{}/readyz", stack.gateway.base_url())).send().await.expect("answers");
        assert_eq!(response.status(), StatusCode::OK);
        let body: serde_json::Value = response.json().await.expect("json");
        assert_eq!(body["checks"]["database"], true);
        assert_eq!(body["checks"]["api"], true);
    }
    let elapsed = started.elapsed();
    let runs = stack.api_requests("/healthz", None).await - before;
    assert!(runs <= elapsed.as_secs() + 2, "30 calls in {elapsed:?} ran the checks {runs} times");
    stack.stop().await;
}

#[tokio::test]
async fn the_login_allowance_holds_across_gateway_instances() {
    let stack = Stack::start_with(|config| config.login_rate_limit_per_minute = 3).await;
    // A second gateway over the same database, as a second instance behind a balancer.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let second_url = format!("http://{}", listener.local_addr().expect("address"));
    let shutdown = tokio_util::sync::CancellationToken::new();
    let server = tokio::spawn(ajet_auth_gw::serve(stack.config.clone(), listener, shutdown.clone()));
    crate::stack::wait_ready(&format!("{second_url}/readyz")).await;
    let second = ajet_shared::client::ApiClient::new(second_url).expect("client");

    stack.gateway.dev_login("alice").await.expect("first login, first gateway");
    second.dev_login("bob").await.expect("second login, second gateway");
    stack.gateway.dev_login("carol").await.expect("third login, first gateway");
    // The second gateway has seen one login from this address, but the address has spent
    // its allowance of three through both.
    let refused = second
        .request(reqwest::Method::POST, "/auth/dev-login")
        .json(&serde_json::json!({"username": "dave"}))
        .send()
        .await
        .expect("answers");
    assert_limited(refused, 3).await;
    shutdown.cancel();
    server.await.expect("joins").expect("the second gateway stops cleanly");
    stack.stop().await;
}
