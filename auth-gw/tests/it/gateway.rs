//! The gateway's own behaviour: dev login only in dev, authentication of every proxied
//! path, identity headers it sets (and strips when forged), CSRF refusal and JSON errors
//! when a service is down.

use ajet_shared::api::{ErrorBody, ErrorCode};
use std::collections::HashMap;

use ajet_shared::config::Environment;
use axum::Json;
use axum::http::HeaderMap;
use axum::routing::any;
use reqwest::StatusCode;

use crate::stack::Stack;

/// An upstream that answers every request with the headers it received, plus the length
/// of the body it read as `x-body-length`.
pub async fn echo_server() -> String {
    let app = axum::Router::new().fallback(any(|headers: HeaderMap, body: axum::body::Bytes| async move {
        let mut map: HashMap<String, String> =
            headers.iter().map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned())).collect();
        map.insert("x-body-length".into(), body.len().to_string());
        Json(map)
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

pub async fn error_code(response: reqwest::Response) -> ErrorCode {
    let body: ErrorBody = response.json().await.expect("a JSON error body");
    body.error.code
}

#[tokio::test]
async fn dev_login_does_not_exist_outside_dev() {
    let stack = Stack::start_with(|config| config.env = Environment::Prod).await;
    let err = stack.gateway.dev_login("mallory").await.expect_err("refused");
    assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
    assert_eq!(err.code(), Some(ErrorCode::NotFound));
    stack.stop().await;
}

#[tokio::test]
async fn every_proxied_path_needs_a_valid_token() {
    let stack = Stack::start().await;
    let http = reqwest::Client::new();
    let base = stack.gateway.base_url().to_owned();
    for path in ["/api/me", "/api/communities", "/tui/events", "/", "/c/acme"] {
        let response = http.get(format!("{base}{path}")).send().await.expect("answers");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(error_code(response).await, ErrorCode::Unauthenticated, "{path}");
        let response =
            http.get(format!("{base}{path}")).bearer_auth("ajs_not-a-real-token").send().await.expect("answers");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path} with a bogus token");
    }
    stack.stop().await;
}

#[tokio::test]
async fn the_gateway_sets_identity_headers_and_strips_forged_ones() {
    let echo = echo_server().await;
    let stack = Stack::start_with(|config| config.web_url = echo).await;
    let login = stack.gateway.dev_login("alice").await.expect("login");
    let http = reqwest::Client::new();
    let seen: HashMap<String, String> = http
        .get(format!("{}/anything", stack.gateway.base_url()))
        .header("cookie", format!("theme=dark; ajet_session={}", login.token))
        .header("x-ajet-user-id", "00000000-0000-7000-8000-000000000666")
        .header("x-ajet-scopes", "admin")
        .header("connection", "keep-alive, x-hop")
        .header("x-hop", "1")
        .send()
        .await
        .expect("proxied")
        .json()
        .await
        .expect("echo");
    assert_eq!(seen["x-ajet-user-id"], login.user.id.to_string());
    assert_eq!(seen["authorization"], format!("Bearer {}", login.token), "the cookie becomes a bearer token");
    assert!(!seen.contains_key("x-hop"), "headers named in Connection are hop-by-hop");
    assert!(seen.get("x-trace-id").is_some_and(|id| !id.is_empty()), "a trace id is created");

    let refused = http
        .post(format!("{}/api/communities", stack.gateway.base_url()))
        .header("cookie", format!("ajet_session={}", login.token))
        .header("sec-fetch-site", "cross-site")
        .json(&serde_json::json!({"name": "Evil", "slug": "evil"}))
        .send()
        .await
        .expect("answers");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(refused).await, ErrorCode::CrossSiteRequest);
    stack.stop().await;
}

#[tokio::test]
async fn a_service_that_is_down_gets_a_json_502() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}", listener.local_addr().expect("address"))
    };
    let echo = echo_server().await;
    let stack = Stack::start_with(|config| config.web_url = echo).await;
    let alice = stack.login("alice").await;
    // A second gateway over the same database, whose web-sm address has nothing behind it.
    let response = alice.request(reqwest::Method::GET, "/api/me").send().await.expect("answers");
    assert_eq!(response.status(), StatusCode::OK);
    let mut config = stack.config.clone();
    config.web_url = closed;
    let state = ajet_auth_gw::GatewayState::new(stack.db.pool.clone(), std::sync::Arc::new(config)).expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, ajet_auth_gw::router(state)).await });
    let http = reqwest::Client::new();
    let response =
        http.get(format!("{url}/somewhere")).bearer_auth(alice.token().expect("token")).send().await.expect("answers");
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(error_code(response).await, ErrorCode::UpstreamUnavailable);
    stack.stop().await;
}

#[tokio::test]
async fn a_browser_without_a_session_is_sent_to_the_login_page() {
    let stack = Stack::start().await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let base = stack.gateway.base_url().to_owned();
    let page = http.get(format!("{base}/c/acme?x=1")).header("accept", "text/html,*/*").send().await.expect("answers");
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(page.headers()["location"], "/auth/login?next=/c/acme%3Fx%3D1");
    let api = http.get(format!("{base}/api/me")).header("accept", "text/html").send().await.expect("answers");
    assert_eq!(api.status(), StatusCode::UNAUTHORIZED, "the api answers JSON, never a redirect");
    let login = http.get(format!("{base}/auth/login")).header("accept", "text/html").send().await.expect("answers");
    assert_eq!(login.status(), StatusCode::OK);
    assert!(login.text().await.expect("html").contains("<form"), "dev mode shows the dev-login form");
    stack.stop().await;
}
