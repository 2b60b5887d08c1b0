//! Open streams re-check access once per credential per process and period, not once per
//! stream: N idle streams of one user cost the api what one does.

use std::time::Duration;

use crate::stack::Stack;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_streams_of_one_user_cost_one_access_check_per_period_not_one_per_stream() {
    const STREAMS: usize = 5;
    const PERIODS: u64 = 4;
    let stack = Stack::start_with(|config| config.sse_access_check_secs = 1).await;
    let bob = stack.login("bob").await;
    let mut streams = Vec::new();
    for _ in 0..STREAMS {
        streams.push(bob.sse("/tui/events", None).await.expect("stream opens"));
    }
    let before = stack.api_requests("/api/me", Some("GET")).await;
    // Idle on purpose: the periods are what is measured.
    tokio::time::sleep(Duration::from_secs(PERIODS)).await;
    let checks = stack.api_requests("/api/me", Some("GET")).await - before;
    println!("{STREAMS} idle streams of one user over {PERIODS} periods: {checks} access checks");
    assert!(checks >= 1, "the safety net still runs");
    assert!(checks <= PERIODS + 1, "at most one check per period for all {STREAMS} streams, got {checks}");
    drop(streams);
    stack.stop().await;
}
