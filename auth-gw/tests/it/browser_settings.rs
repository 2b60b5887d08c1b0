//! The settings screens and the accessibility check in real Chromium: `browser_settings.py`
//! (Playwright for Python, pinned, driving Debian's `chromium` — as `browser.rs`) uses the
//! settings from the app shell as an admin (display name, an API token shown once, the
//! community's name and link previews, its channels' screen, an
//! invite a second user joins by, a role change, a webhook with its avatar and delivery log,
//! a member muted and unmuted, a channel's purge, the audit log), checks that a member opening the admin screens gets a 403 page, and runs axe-core
//! (pinned, installed by xtask from npm into `.tools/axe-core`) on the login page, the
//! channel view, the search overlay and the settings screens in the light and the dark
//! theme, failing on any serious or critical violation. Screenshots of the settings screens
//! (light and dark) are saved under `AJET_TEST_ARTIFACTS` (xtask: `.test-artifacts/`).

use crate::browser::{artifacts, run_scenario};
use crate::stack::Stack;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_uses_the_settings_in_real_chromium_and_axe_finds_no_serious_violation_in_either_theme() {
    let axe = std::env::var("AJET_TEST_AXE")
        .unwrap_or_else(|_| panic!("AJET_TEST_AXE is not set: run the tests through `cargo xtask test`"));
    let artifacts = artifacts("browser-settings");
    // A browser makes many requests quickly (pages, assets, actions, streams).
    let stack = Stack::start_with(|config| config.rate_limit_per_minute = 1_000_000).await;
    let report = run_scenario("browser_settings.py", &stack, &artifacts, &[("AJET_BROWSER_AXE", &axe)]).await;
    assert!(report.contains("axe settings profile (dark): "), "axe ran on the settings in the dark theme:\n{report}");
    for name in
        ["profile", "tokens", "community", "channels", "members", "mutes", "webhook", "purge", "audit", "members-phone"]
    {
        for theme in ["light", "dark"] {
            assert!(
                artifacts.join(format!("settings-{name}-{theme}.png")).is_file(),
                "screenshot {name} {theme} saved"
            );
        }
    }
    stack.stop().await;
}
