//! The CLI loopback login through the gateway: a logged-in browser at `/auth/cli` is sent
//! to the CLI's `127.0.0.1` listener with a one-time code, which the CLI exchanges once,
//! in time and with its own state, for a session of its own. A browser without a session
//! logs in first and comes back.

use ajet_shared::api::ErrorCode;
use std::time::Duration;

use ajet_shared::api::wire::LoginResponse;
use reqwest::StatusCode;

use crate::gateway::error_code;
use crate::stack::Stack;

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().expect("ascii").to_owned()
}

/// The browser, holding `session`, opens the CLI's login URL; returns the code it is sent
/// to the loopback listener with.
async fn browser_code(stack: &Stack, session: &str, port: u16, state: &str) -> String {
    let response = no_redirects()
        .get(format!("{}/auth/cli?port={port}&state={state}", stack.gateway.base_url()))
        .header("cookie", format!("ajet_session={session}"))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let target = location(&response);
    let prefix = format!("http://127.0.0.1:{port}/callback?code=");
    let rest = target.strip_prefix(&prefix).unwrap_or_else(|| panic!("a loopback redirect: {target}"));
    let (code, returned_state) = rest.split_once("&state=").expect("code and state");
    assert_eq!(returned_state, state);
    code.to_owned()
}

async fn exchange(stack: &Stack, code: &str, state: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/auth/cli/exchange", stack.gateway.base_url()))
        .json(&serde_json::json!({"code": code, "state": state}))
        .send()
        .await
        .expect("answers")
}

#[tokio::test]
async fn the_cli_trades_a_one_time_code_for_its_own_session() {
    let stack = Stack::start().await;
    let browser = stack.gateway.dev_login("alice").await.expect("browser login");
    let code = browser_code(&stack, &browser.token, 4567, "cli-state-1").await;

    let response = exchange(&stack, &code, "cli-state-1").await;
    assert_eq!(response.status(), StatusCode::OK);
    let login: LoginResponse = response.json().await.expect("token and user");
    assert_eq!(login.user.username, "alice");
    assert_ne!(login.token, browser.token, "the CLI gets a session of its own");
    let me = stack.gateway.with_token(&login.token).me().await.expect("the CLI's session works");
    assert_eq!(me.user.id, browser.user.id);

    let replayed = exchange(&stack, &code, "cli-state-1").await;
    assert_eq!(replayed.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(replayed).await, ErrorCode::CliCodeInvalid, "a code works once");
}

#[tokio::test]
async fn a_code_with_another_state_is_refused_and_burnt() {
    let stack = Stack::start().await;
    let browser = stack.gateway.dev_login("alice").await.expect("browser login");
    let code = browser_code(&stack, &browser.token, 50000, "right").await;
    let wrong = exchange(&stack, &code, "wrong").await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(wrong).await, ErrorCode::CliStateMismatch);
    let after = exchange(&stack, &code, "right").await;
    assert_eq!(error_code(after).await, ErrorCode::CliCodeInvalid, "a refused code is not kept for another try");
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    let stack = Stack::start_with(|config| config.cli_login_code_secs = 1).await;
    let browser = stack.gateway.dev_login("alice").await.expect("browser login");
    let code = browser_code(&stack, &browser.token, 4567, "s").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let expired = exchange(&stack, &code, "s").await;
    assert_eq!(expired.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(expired).await, ErrorCode::CliCodeExpired);
}

#[tokio::test]
async fn bad_ports_and_states_are_refused() {
    let stack = Stack::start().await;
    let browser = stack.gateway.dev_login("alice").await.expect("browser login");
    for (query, code) in [
        ("port=80&state=s", ErrorCode::InvalidPort),
        ("port=65536&state=s", ErrorCode::InvalidPort),
        ("port=abc&state=s", ErrorCode::InvalidPort),
        ("state=s", ErrorCode::InvalidPort),
        ("port=4567", ErrorCode::InvalidState),
        ("port=4567&state=a%26b", ErrorCode::InvalidState),
    ] {
        let response = no_redirects()
            .get(format!("{}/auth/cli?{query}", stack.gateway.base_url()))
            .header("cookie", format!("ajet_session={}", browser.token))
            .send()
            .await
            .expect("answers");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(error_code(response).await, code, "{query}");
    }
}

#[tokio::test]
async fn a_browser_without_a_session_logs_in_first_and_comes_back() {
    let stack = Stack::start().await;
    let base = stack.gateway.base_url().to_owned();
    let response = no_redirects().get(format!("{base}/auth/cli?port=4567&state=s1")).send().await.expect("answers");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let login_url = location(&response);
    assert_eq!(login_url, "/auth/login?next=%2Fauth%2Fcli%3Fport%3D4567%26state%3Ds1");

    let page = reqwest::get(format!("{base}{login_url}")).await.expect("answers").text().await.expect("page");
    assert!(page.contains("name=\"next\" value=\"/auth/cli?port=4567&amp;state=s1\""), "{page}");
    let response = no_redirects()
        .post(format!("{base}/auth/dev-login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("username=alice&next=%2Fauth%2Fcli%3Fport%3D4567%26state%3Ds1")
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/auth/cli?port=4567&state=s1", "back to the CLI login");
}
