//! A smoke run of the benchmark harness (`ajet-bench`, behind `cargo xtask bench`) at tiny
//! sizes against the in-process stack, so the load generator and its scenarios cannot rot:
//! no release build and no Nchan (the ceiling columns stay empty here).

use std::net::SocketAddr;

use ajet_bench::procs::Procs;
use ajet_bench::report::Report;
use ajet_bench::scenarios::{self, Sizes, System};

use crate::stack::Stack;

fn addr(url: &str) -> SocketAddr {
    url.trim_start_matches("http://").parse().expect("a 127.0.0.1:port url")
}

/// The row `metric` of `scenario` (the first whose metric starts with it).
fn figure(report: &Report, scenario: &str, metric: &str) -> Option<f64> {
    report
        .rows
        .iter()
        .find(|row| row.scenario == scenario && row.metric.starts_with(metric))
        .unwrap_or_else(|| panic!("no row {scenario}/{metric} in:\n{}", report.table()))
        .ours
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_benchmark_scenario_runs_at_tiny_sizes_and_delivers_every_accepted_message() {
    let stack = Stack::start_with(|config| {
        // One client address signs in every reader.
        config.login_rate_limit_per_minute = 1_000_000;
        config.rate_limit_per_minute = 1_000_000;
    })
    .await;
    ajet_bench::raise_fd_limit().expect("the descriptor limit");
    let system = System {
        gateway: addr(stack.gateway.base_url()),
        other_gateways: Vec::new(),
        api: addr(&stack.config.api_url),
        database_url: Some(stack.config.database_url.expose().to_owned()),
        nats_url: Some(stack.config.nats_url.clone()),
        // The smoke posts its history through the gateway (no psql here).
        history_loader: None,
        nchan: None,
        procs: Procs(vec![("stack".to_owned(), std::process::id(), false)]),
        run_id: "smoke".to_owned(),
    };
    let mut report = Report::default();
    scenarios::run(&system, &Sizes::smoke(), &[], &mut report).await.expect("every scenario runs");
    let table = report.table();
    // Live delivery: every accepted message reached every reader of its room, once.
    for metric in ["tui lost", "tui duplicates", "web lost"] {
        assert_eq!(figure(&report, "latency", metric), Some(0.0), "{metric}:\n{table}");
    }
    let p99 = figure(&report, "latency", "tui p99").expect("deliveries were timed");
    assert!(p99 > 0.0 && p99 < 10_000.0, "p99 {p99} ms:\n{table}");
    assert!(figure(&report, "latency", "web p99").is_some(), "web-sm's streams got the messages:\n{table}");
    // The bus's ceiling ran beside: every raw NATS publish arrived.
    let bus = report.rows.iter().find(|row| row.metric == "bus lost (raw NATS)").expect("the bus row");
    assert_eq!(bus.ceiling, Some(0.0), "{table}");
    let p99_vs_bus = report.rows.iter().find(|row| row.metric.starts_with("tui p99 vs the bus")).expect("a bus row");
    assert!(p99_vs_bus.ceiling.is_some_and(|ms| ms > 0.0 && ms < 1_000.0), "{table}");
    // A debug build on a busy machine may miss even the first step's 100 ms: only that
    // the step search ran is checked.
    figure(&report, "throughput", "highest rate");
    assert!(
        report.notes.iter().any(|note| note.starts_with("throughput ajet steps") && note.contains("20/s: p99")),
        "the first step ran: {:?}",
        report.notes
    );
    assert_eq!(figure(&report, "overload", "accepted but not delivered"), Some(0.0), "{table}");
    assert_eq!(figure(&report, "overload", "refusals without Retry-After"), Some(0.0), "{table}");
    assert_eq!(figure(&report, "fan-out", "20 readers: lost"), Some(0.0), "{table}");
    for kind in ["tui", "web"] {
        assert_eq!(figure(&report, "connections", &format!("  {kind} readers it did not reach")), Some(0.0), "{table}");
        assert_eq!(figure(&report, "connections", &format!("  {kind} streams that ended")), Some(0.0), "{table}");
        // The memory row is there (in-process, the stack is one process: no per-service figure).
        figure(&report, "connections", &format!("20 idle {kind} streams"));
    }
    // Opening a stream costs the api at least its access check.
    assert!(figure(&report, "connections", "  api requests to open one").is_some_and(|n| n >= 1.0), "{table}");
    assert!(figure(&report, "gateway", "GET a page of 50 messages p50").is_some_and(|ms| ms > 0.0), "{table}");
    assert!(
        figure(&report, "web", "first load: HTML").is_some_and(|kib| kib > 1.0),
        "the channel page rendered:\n{table}"
    );
    let (plain, gzipped) =
        (figure(&report, "web", "first load: HTML (uncompressed)"), figure(&report, "web", "first load: HTML (gzip"));
    assert!(
        plain.zip(gzipped).is_some_and(|(plain, gzipped)| gzipped < plain / 2.0),
        "pages are sent gzipped:\n{table}"
    );
    // History: pages through the gateway beside the bare statements, both timed.
    let page = report
        .rows
        .iter()
        .find(|row| row.scenario == "history" && row.metric.contains("p99"))
        .unwrap_or_else(|| panic!("no history row:\n{table}"));
    assert!(page.ours.is_some_and(|ms| ms > 0.0) && page.ceiling.is_some_and(|ms| ms > 0.0), "{table}");
    // 120 messages, cursors anywhere: some pages start near the oldest and are short.
    assert!(figure(&report, "history", "  pages shorter than 50").is_some_and(|n| n < 20.0), "{table}");
    stack.stop().await;
}
