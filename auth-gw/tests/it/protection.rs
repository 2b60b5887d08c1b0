//! Browser-facing protection at the gateway: security headers on HTML, CORS only for
//! configured origins, JSON 413 for oversized bodies (declared or streamed), and the CSRF
//! check by `Origin` when `Sec-Fetch-Site` is absent.

use ajet_shared::api::ErrorCode;
use std::collections::HashMap;

use axum::http::header;
use axum::routing::get;
use reqwest::{Method, StatusCode};

use crate::gateway::{echo_server, error_code};
use crate::stack::Stack;

/// An upstream serving an HTML page, a page with its own CSP, and JSON (and 200 for
/// anything else, such as the harness's `/readyz`).
async fn pages_server() -> String {
    let app = axum::Router::new()
        .route("/page", get(|| async { axum::response::Html("<!doctype html><p>hi</p>") }))
        .route(
            "/strict",
            get(|| async {
                ([(header::CONTENT_SECURITY_POLICY, "default-src 'none'")], axum::response::Html("<p>strict</p>"))
            }),
        )
        .route("/data", get(|| async { axum::Json(serde_json::json!({"ok": true})) }))
        .fallback(|| async { "ok" });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test]
async fn html_responses_carry_security_headers_and_every_response_nosniff() {
    let pages = pages_server().await;
    let stack = Stack::start_with(|config| config.web_url = pages).await;
    let alice = stack.login("alice").await;

    let page = alice.request(Method::GET, "/page").send().await.expect("answers");
    assert_eq!(page.status(), StatusCode::OK);
    let csp = page.headers()["content-security-policy"].to_str().expect("ascii");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("script-src 'self' 'unsafe-eval'"), "Datastar needs eval: {csp}");
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    assert_eq!(page.headers()["referrer-policy"], "same-origin");
    assert_eq!(page.headers()["x-frame-options"], "DENY");

    let strict = alice.request(Method::GET, "/strict").send().await.expect("answers");
    assert_eq!(strict.headers()["content-security-policy"], "default-src 'none'", "a page's own CSP is kept");

    let data = alice.request(Method::GET, "/data").send().await.expect("answers");
    assert_eq!(data.headers()["x-content-type-options"], "nosniff");
    assert!(!data.headers().contains_key("content-security-policy"), "CSP is for documents");
    let refused = stack.gateway.request(Method::GET, "/api/me").send().await.expect("answers");
    assert_eq!(refused.headers()["x-content-type-options"], "nosniff", "errors too");
    stack.stop().await;
}

fn preflight(stack: &Stack, origin: &str) -> reqwest::RequestBuilder {
    stack
        .gateway
        .request(Method::OPTIONS, "/api/me")
        .header("origin", origin)
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
}

#[tokio::test]
async fn cors_answers_only_configured_origins() {
    let stack = Stack::start_with(|config| config.cors_allowed_origins = vec!["https://app.example".into()]).await;
    let alice = stack.login("alice").await;

    let allowed = preflight(&stack, "https://app.example").send().await.expect("answers");
    assert!(allowed.status().is_success(), "{}", allowed.status());
    assert_eq!(allowed.headers()["access-control-allow-origin"], "https://app.example");
    let methods = allowed.headers()["access-control-allow-methods"].to_str().expect("ascii").to_owned();
    assert!(methods.contains("POST"), "{methods}");
    assert!(!allowed.headers().contains_key("access-control-allow-credentials"), "no cookies cross-origin");

    let other = preflight(&stack, "https://evil.example").send().await.expect("answers");
    assert!(!other.headers().contains_key("access-control-allow-origin"), "an unlisted origin gets nothing");

    let actual =
        alice.request(Method::GET, "/api/me").header("origin", "https://app.example").send().await.expect("ok");
    assert_eq!(actual.status(), StatusCode::OK);
    assert_eq!(actual.headers()["access-control-allow-origin"], "https://app.example");
    let exposed = actual.headers()["access-control-expose-headers"].to_str().expect("ascii").to_ascii_lowercase();
    assert!(exposed.contains("retry-after") && exposed.contains("x-ratelimit-remaining"), "{exposed}");
    stack.stop().await;

    let closed = Stack::start().await;
    let none = preflight(&closed, "https://app.example").send().await.expect("answers");
    assert!(!none.headers().contains_key("access-control-allow-origin"), "no origins configured: no CORS at all");
    closed.stop().await;
}

#[tokio::test]
async fn bodies_over_the_limit_get_a_json_413_whether_declared_or_streamed() {
    let echo = echo_server().await;
    let stack = Stack::start_with(|config| {
        config.web_url = echo;
        config.max_body_bytes = 1024;
    })
    .await;
    let alice = stack.login("alice").await;

    let declared = alice.request(Method::POST, "/upload").body(vec![b'x'; 2000]).send().await.expect("answers");
    assert_eq!(declared.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(declared).await, ErrorCode::PayloadTooLarge);

    let chunks = |sizes: Vec<usize>| {
        reqwest::Body::wrap_stream(futures::stream::iter(
            sizes.into_iter().map(|n| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b'y'; n]))),
        ))
    };
    let streamed =
        alice.request(Method::POST, "/upload").body(chunks(vec![600, 600, 600])).send().await.expect("answers");
    assert_eq!(streamed.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(streamed).await, ErrorCode::PayloadTooLarge);

    let fits = alice.request(Method::POST, "/upload").body(chunks(vec![500, 500])).send().await.expect("answers");
    assert_eq!(fits.status(), StatusCode::OK);
    let seen: HashMap<String, String> = fits.json().await.expect("echo");
    assert_eq!(seen["x-body-length"], "1000", "a body within the limit streams through whole");
    stack.stop().await;
}

#[tokio::test]
async fn without_sec_fetch_site_a_cookie_request_from_another_origin_is_refused() {
    let stack = Stack::start().await;
    let login = stack.gateway.dev_login("alice").await.expect("login");
    let http = reqwest::Client::new();
    let create = |origin: String, slug: &str| {
        http.post(format!("{}/api/communities", stack.gateway.base_url()))
            .header("cookie", format!("ajet_session={}", login.token))
            .header("origin", origin)
            .json(&serde_json::json!({"name": "Acme", "slug": slug}))
            .send()
    };
    let refused = create("https://evil.example".into(), "evil").await.expect("answers");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(refused).await, ErrorCode::CrossSiteRequest);
    let ours = create(stack.config.public_url.clone(), "acme").await.expect("answers");
    assert_eq!(ours.status(), StatusCode::CREATED, "our own origin passes");
    stack.stop().await;
}
