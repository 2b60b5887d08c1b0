//! Rate limits at the gateway: per token, per IP for requests without a valid token, and a
//! stricter per-IP allowance for `/auth/*`. A refusal is a JSON 429 with `Retry-After`
//! and the `X-RateLimit-*` headers; other callers are unaffected. A burst of failed
//! authentications is audited once.

use ajet_shared::api::ErrorCode;
use reqwest::StatusCode;

use crate::gateway::error_code;
use crate::stack::Stack;

fn header(response: &reqwest::Response, name: &str) -> u64 {
    response.headers()[name].to_str().expect("ascii").parse().expect("a number")
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
    for remaining in (0..5).rev() {
        let response = alice.request(reqwest::Method::GET, "/api/me").send().await.expect("answers");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header(&response, "x-ratelimit-limit"), 5);
        assert_eq!(header(&response, "x-ratelimit-remaining"), remaining);
    }
    let refused = alice.request(reqwest::Method::GET, "/api/me").send().await.expect("answers");
    assert_eq!(header(&refused, "retry-after"), 12, "one request's worth is 60 s / 5");
    assert_limited(refused, 5).await;
    let err = alice.sse("/tui/events", None).await.err().expect("streams are limited too");
    assert_eq!(err.status(), Some(StatusCode::TOO_MANY_REQUESTS));

    let response = bob.request(reqwest::Method::GET, "/api/me").send().await.expect("answers");
    assert_eq!(response.status(), StatusCode::OK, "bob's token, from the same address, has its own allowance");
    assert_eq!(header(&response, "x-ratelimit-remaining"), 4);
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
    let alice = stack.login("alice").await;
    stack.gateway.dev_login("bob").await.expect("second login");
    let refused = stack
        .gateway
        .request(reqwest::Method::POST, "/auth/dev-login")
        .json(&serde_json::json!({"username": "carol"}))
        .send()
        .await
        .expect("answers");
    assert_eq!(header(&refused, "retry-after"), 30);
    assert_limited(refused, 2).await;
    alice.me().await.expect("the api allowance is separate");
    stack.stop().await;
}
