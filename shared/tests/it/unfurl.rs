//! The link-preview fetcher behind its SSRF guard, against a local HTTP server reached
//! through the test-only allowlist: redirects to refused addresses, the redirect limit,
//! the content-type and size limits, and the total timeout.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ajet_shared::unfurl::fetch::{FETCH_TIMEOUT, MAX_BODY_BYTES};
use ajet_shared::unfurl::{FetchError, Fetcher};
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

const PAGE: &str = r#"<html><head><meta property="og:title" content="Local page"></head><body>hi</body></html>"#;

fn html(body: impl Into<Body>) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body.into()).into_response()
}

/// A local server; its address is `127.0.0.1`, the only allowlisted host.
async fn serve() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let app = Router::new()
        .route("/page", get(|| async { html(PAGE) }))
        .route(
            "/to/localhost",
            get(|State(addr): State<SocketAddr>| async move {
                Redirect::to(&format!("http://localhost:{}/page", addr.port()))
            }),
        )
        .route(
            "/to/mapped",
            get(|State(addr): State<SocketAddr>| async move {
                Redirect::to(&format!("http://[::ffff:127.0.0.1]:{}/page", addr.port()))
            }),
        )
        .route("/to/decimal", get(|| async { Redirect::to("http://167772161/") }))
        .route("/to/metadata", get(|| async { Redirect::to("http://169.254.169.254/latest/meta-data/") }))
        .route("/to/file", get(|| async { Redirect::to("file:///etc/passwd") }))
        .route(
            "/hops/{n}",
            get(|Path(n): Path<u32>| async move {
                if n == 0 {
                    Redirect::to("/page").into_response()
                } else {
                    Redirect::to(&format!("/hops/{}", n - 1)).into_response()
                }
            }),
        )
        .route("/json", get(|| async { ([(header::CONTENT_TYPE, "application/json")], "{}").into_response() }))
        .route("/missing", get(|| async { StatusCode::NOT_FOUND }))
        .route("/big/declared", get(|| async { html("x".repeat(MAX_BODY_BYTES + 1)) }))
        .route(
            "/big/streamed",
            get(|| async {
                let chunks = (0..20).map(|_| Ok::<_, std::io::Error>(vec![b'x'; 64 * 1024]));
                html(Body::from_stream(futures::stream::iter(chunks)))
            }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(FETCH_TIMEOUT * 3).await;
                html(PAGE)
            }),
        )
        .with_state(addr);
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

fn fetcher() -> Fetcher {
    Fetcher::new(&["127.0.0.1".to_owned()]).expect("fetcher")
}

#[tokio::test]
async fn an_allowlisted_local_page_is_fetched_through_at_most_three_redirects() {
    let addr = serve().await;
    let fetcher = fetcher();
    let page = fetcher.fetch_html(&format!("http://{addr}/page")).await.expect("direct page");
    assert_eq!(page.html, PAGE);
    let page = fetcher.fetch_html(&format!("http://{addr}/hops/2")).await.expect("three redirects in all");
    assert_eq!(page.url.path(), "/page");
    assert_eq!(page.html, PAGE);
}

#[tokio::test]
async fn a_fourth_redirect_is_refused() {
    let addr = serve().await;
    let err = fetcher().fetch_html(&format!("http://{addr}/hops/3")).await.expect_err("four redirects");
    assert!(matches!(err, FetchError::TooManyRedirects), "{err}");
}

#[tokio::test]
async fn a_redirect_to_a_refused_address_is_refused() {
    let addr = serve().await;
    let fetcher = fetcher();
    // The allowlist names `127.0.0.1` only: other names of loopback are still refused, and a
    // decimal spelling (here of 10.0.0.1) is judged by the address it means.
    for path in ["/to/localhost", "/to/mapped", "/to/decimal", "/to/metadata"] {
        let err = fetcher.fetch_html(&format!("http://{addr}{path}")).await.expect_err(path);
        assert!(matches!(err, FetchError::Refused(_)), "{path}: {err}");
    }
    let err = fetcher.fetch_html(&format!("http://{addr}/to/file")).await.expect_err("file redirect");
    assert!(matches!(err, FetchError::Scheme(_)), "{err}");
}

#[tokio::test]
async fn without_the_allowlist_the_local_server_is_refused() {
    let addr = serve().await;
    let err =
        Fetcher::new(&[]).expect("fetcher").fetch_html(&format!("http://{addr}/page")).await.expect_err("loopback");
    assert!(matches!(err, FetchError::Refused(_)), "{err}");
}

#[tokio::test]
async fn only_successful_html_answers_up_to_one_mebibyte_are_read() {
    let addr = serve().await;
    let fetcher = fetcher();
    let err = fetcher.fetch_html(&format!("http://{addr}/json")).await.expect_err("json");
    assert!(matches!(err, FetchError::NotHtml(_)), "{err}");
    let err = fetcher.fetch_html(&format!("http://{addr}/missing")).await.expect_err("404");
    assert!(matches!(err, FetchError::Status(404)), "{err}");
    for path in ["/big/declared", "/big/streamed"] {
        let err = fetcher.fetch_html(&format!("http://{addr}{path}")).await.expect_err(path);
        assert!(matches!(err, FetchError::TooLarge), "{path}: {err}");
    }
}

#[tokio::test]
async fn a_page_that_does_not_answer_in_time_is_given_up() {
    let addr = serve().await;
    let started = Instant::now();
    let err = fetcher().fetch_html(&format!("http://{addr}/slow")).await.expect_err("slow");
    assert!(matches!(err, FetchError::Timeout), "{err}");
    assert!(started.elapsed() < FETCH_TIMEOUT + Duration::from_secs(2), "gave up after {:?}", started.elapsed());
}
