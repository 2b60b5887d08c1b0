//! The gateway's shutdown ends the event streams it proxies at once, with a `retry:` hint,
//! and exits cleanly well inside 10 s, even while the session manager behind it keeps
//! those streams open.

use std::time::{Duration, Instant};

use ajet_shared::client::ApiClient;
use futures::StreamExt as _;
use reqwest::Method;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::stack::{Stack, wait_ready};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_shutdown_ends_proxied_streams_at_once_with_a_retry_hint() {
    const STREAMS: usize = 10;
    let stack = Stack::start().await;
    let token = stack.login("alice").await.token().expect("a session token").to_owned();

    // A second gateway of its own, in front of the same tui-sm, which stays up.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let shutdown = CancellationToken::new();
    let gateway = tokio::spawn(ajet_auth_gw::serve(stack.config.clone(), listener, shutdown.clone()));
    wait_ready(&format!("{url}/readyz")).await;
    let client = ApiClient::new(url).expect("client").with_token(token);

    let mut bodies = Vec::new();
    for _ in 0..STREAMS {
        let response = client
            .request(Method::GET, "/tui/events")
            .header("accept", "text/event-stream")
            .send()
            .await
            .expect("stream opens");
        assert_eq!(response.status(), 200);
        bodies.push(tokio::spawn(async move {
            let mut body = response.bytes_stream();
            let mut text = Vec::new();
            while let Some(Ok(chunk)) = body.next().await {
                text.extend_from_slice(&chunk);
            }
            String::from_utf8_lossy(&text).into_owned()
        }));
    }

    let started = Instant::now();
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(10), gateway)
        .await
        .expect("the gateway exits within 10 s")
        .expect("no panic")
        .expect("clean exit");
    let took = started.elapsed();
    println!("the gateway shut down with {STREAMS} open streams in {took:?}");
    assert!(took < Duration::from_secs(2), "the gateway exits at once, not after a guard: {took:?}");
    for body in bodies {
        let text = tokio::time::timeout(Duration::from_secs(2), body)
            .await
            .expect("the stream ended with the gateway")
            .expect("no panic");
        assert!(text.ends_with("retry: 1000\n\n"), "the stream ends with a retry hint: {text:?}");
    }
    stack.stop().await;
}
