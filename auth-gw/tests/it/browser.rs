//! The browser client in real Chromium: `browser.py` (Playwright for Python, pinned,
//! installed into `.tools/playwright` by `cargo xtask test`, driving Debian's `chromium`,
//! which xtask installs too — never a downloaded browser) runs two users in two browser
//! contexts against the whole stack through the gateway: dev login, the first-community
//! bootstrap, creating a channel, a message appearing for the other user within 1 s without
//! a reload, the optimistic send (shown at once, replaced once, a refusal shown with
//! Retry and Discard and posted once after the cause is fixed), files attached from the composer (picker, paste, drop) and the image viewer,
//! edit and delete propagating, thread replies live in the panel and the root's
//! summary, reactions and pins live, typing shown and expiring, slash-command hints and replies seen only by their sender,
//! search and jumping to a hit or a pin, the notification inbox, the member list with
//! presence, the theme switch and the phone-width drawer,
//! another channel's unread badge, a tab catching up on what it missed (hidden then
//! visible, and its stream killed by a restart of web-sm), and XSS payloads
//! rendering inert. Screenshots of the main screen (light and dark, desktop and phone
//! width) are saved under `AJET_TEST_ARTIFACTS` (xtask: `.test-artifacts/`).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use crate::stack::Stack;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_users_chat_live_in_real_chromium_and_hostile_input_stays_inert() {
    let artifacts = artifacts("browser");
    // A browser makes many requests quickly (pages, assets, actions, streams); typing
    // expires quickly so that the scenario sees it expire.
    let stack = Stack::start_with(|config| {
        config.rate_limit_per_minute = 1_000_000;
        config.typing_expiry_secs = 2;
        // Small enough that the composer's refusal of a large file is quick to show.
        config.attachment_max_bytes = 256 * 1024;
    })
    .await;
    let (control, server) = control(&stack).await;
    let report = run_scenario("browser.py", &stack, &artifacts, &[("AJET_BROWSER_CONTROL", &control)]).await;
    server.abort();
    assert!(report.contains("caught up after web-sm's restart"), "the killed stream's part ran:\n{report}");
    for name in ["channel-light-desktop", "channel-dark-desktop", "channel-light-phone", "channel-dark-phone"] {
        assert!(artifacts.join(format!("{name}.png")).is_file(), "screenshot {name} saved:\n{report}");
    }
    stack.stop().await;
}

/// The scenario's hold on the stack, at the address it answers (`AJET_BROWSER_CONTROL`):
/// `POST /web-sm/stop` stops web-sm — every tab's stream ends, as in a deploy — and
/// `POST /web-sm/start` starts it again on its address; each answers once done.
async fn control(stack: &Stack) -> (String, tokio::task::JoinHandle<std::io::Result<()>>) {
    let web_sm = stack.web_sm();
    let stopping = web_sm.clone();
    let app = axum::Router::new()
        .route(
            "/web-sm/stop",
            axum::routing::post(move || {
                let web_sm = stopping.clone();
                async move {
                    web_sm.stop().await;
                    "stopped"
                }
            }),
        )
        .route(
            "/web-sm/start",
            axum::routing::post(move || {
                let web_sm = web_sm.clone();
                async move {
                    web_sm.start().await;
                    "started"
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    (url, tokio::spawn(async move { axum::serve(listener, app).await }))
}

/// Where a scenario saves its screenshots: `name` under `AJET_TEST_ARTIFACTS` (xtask:
/// `.test-artifacts/`).
pub(crate) fn artifacts(name: &str) -> PathBuf {
    std::env::var("AJET_TEST_ARTIFACTS")
        .map_or_else(|_| std::env::temp_dir().join("ajet-artifacts"), PathBuf::from)
        .join(name)
}

/// Runs the Playwright scenario `script` (in this folder) against `stack` with Debian's
/// Chromium, passing `env` beside the stack's address, the browser and `artifacts`; fails
/// the test if it fails, else answers what it printed.
pub(crate) async fn run_scenario(script: &str, stack: &Stack, artifacts: &Path, env: &[(&str, &str)]) -> String {
    let playwright = std::env::var("AJET_TEST_PLAYWRIGHT")
        .unwrap_or_else(|_| panic!("AJET_TEST_PLAYWRIGHT is not set: run the tests through `cargo xtask test`"));
    let chromium = std::env::var("AJET_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    let run = tokio::process::Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it").join(script))
        .env("PYTHONPATH", &playwright)
        .env("AJET_BROWSER_URL", stack.gateway.base_url())
        .env("AJET_BROWSER_CHROMIUM", &chromium)
        .env("AJET_BROWSER_ARTIFACTS", artifacts)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(300), run)
        .await
        .unwrap_or_else(|_| panic!("{script} finishes within 300 s"))
        .expect("python3 runs");
    let report = format!("{}\n{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    println!("{report}");
    assert!(output.status.success(), "{script} failed (exit {:?}):\n{report}", output.status.code());
    report
}
