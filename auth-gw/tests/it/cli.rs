//! The CLI loopback login through the gateway: a logged-in browser at `/auth/cli` is asked
//! to confirm; only its same-origin confirmation, carrying the page's token, sends it to the
//! CLI's `127.0.0.1` listener with a one-time code, which the CLI exchanges once, in time
//! and with its own state, for a session of its own. A GET alone issues nothing. A browser
//! without a session logs in first and comes back.

use ajet_shared::api::ErrorCode;
use ajet_shared::api::wire::{CliExchangeRequest, LoginResponse};
use ajet_shared::client::ClientError;
use reqwest::StatusCode;

use crate::gateway::error_code;
use crate::stack::Stack;

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().expect("ascii").to_owned()
}

/// The confirmation page `/auth/cli?port=&state=` shows the browser holding `session`.
async fn confirmation_page(stack: &Stack, session: &str, port: u16, state: &str) -> String {
    let response = no_redirects()
        .get(format!("{}/auth/cli?port={port}&state={state}", stack.gateway.base_url()))
        .header("cookie", format!("ajet_session={session}"))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), StatusCode::OK, "a page asking first, not a redirect");
    let policy = response.headers()["content-security-policy"].to_str().expect("ascii").to_owned();
    assert!(policy.contains(&format!("form-action 'self' http://127.0.0.1:{port}")), "{policy}");
    response.text().await.expect("page")
}

/// The hidden `confirm` token of a confirmation page.
fn confirm_token(page: &str) -> String {
    let marker = "name=\"confirm\" value=\"";
    let start = page.find(marker).expect("a confirm field") + marker.len();
    let end = page[start..].find('"').expect("closing quote");
    page[start..start + end].to_owned()
}

/// Posts the confirmation form as the browser holding `session` would (a same-origin
/// request unless `extra` says otherwise), with `extra` headers.
async fn confirm(stack: &Stack, session: &str, form: &str, extra: &[(&str, &str)]) -> reqwest::Response {
    let mut request = no_redirects()
        .post(format!("{}/auth/cli", stack.gateway.base_url()))
        .header("cookie", format!("ajet_session={session}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.to_owned());
    if !extra.iter().any(|(name, _)| *name == "sec-fetch-site") {
        request = request.header("sec-fetch-site", "same-origin");
    }
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    request.send().await.expect("answers")
}

/// The browser, holding `session`, opens the CLI's login URL and confirms; returns the code
/// it is sent to the loopback listener with.
async fn browser_code(stack: &Stack, session: &str, port: u16, state: &str) -> String {
    let page = confirmation_page(stack, session, port, state).await;
    let token = confirm_token(&page);
    let response = confirm(stack, session, &format!("port={port}&state={state}&confirm={token}"), &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let target = location(&response);
    let prefix = format!("http://127.0.0.1:{port}/callback?code=");
    let rest = target.strip_prefix(&prefix).unwrap_or_else(|| panic!("a loopback redirect: {target}"));
    let (code, returned_state) = rest.split_once("&state=").expect("code and state");
    assert_eq!(returned_state, state);
    code.to_owned()
}

async fn codes_issued(stack: &Stack) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM cli_login_codes").fetch_one(&stack.db.pool).await.expect("count")
}

#[tokio::test]
async fn opening_the_cli_link_asks_first_and_issues_no_code() {
    let stack = Stack::start().await;
    let browser = stack.gateway.dev_login("alice").await.expect("browser login");
    let page = confirmation_page(&stack, &browser.token, 4567, "cli-state-1").await;
    assert!(page.contains("Sign in the ajet-chat CLI on this computer as @alice?"), "{page}");
    assert!(page.contains("127.0.0.1:4567") && page.contains("cli-state-1"), "port and state are shown: {page}");
    assert!(page.contains("<form method=\"post\" action=\"/auth/cli\">"), "{page}");
    assert!(!page.contains("code="), "no code on the page: {page}");
    assert_eq!(codes_issued(&stack).await, 0, "a GET alone issues no code");
    stack.stop().await;
}

/// Extra request headers of a case.
type Headers<'a> = Vec<(&'a str, &'a str)>;

#[tokio::test]
async fn a_confirmation_from_another_site_or_another_session_is_refused() {
    let stack = Stack::start().await;
    let alice = stack.gateway.dev_login("alice").await.expect("alice's browser");
    let mallory = stack.gateway.dev_login("mallory").await.expect("mallory's browser");
    let token = confirm_token(&confirmation_page(&stack, &alice.token, 4567, "s1").await);
    let form = format!("port=4567&state=s1&confirm={token}");
    let cases: [(&str, String, Headers); 6] = [
        ("cross-site", form.clone(), vec![("sec-fetch-site", "cross-site")]),
        ("another origin", form.clone(), vec![("sec-fetch-site", "same-site"), ("origin", "http://evil.example")]),
        ("no token", "port=4567&state=s1".to_owned(), vec![]),
        ("a forged token", "port=4567&state=s1&confirm=AAAA".to_owned(), vec![]),
        ("another port", format!("port=4568&state=s1&confirm={token}"), vec![]),
        ("another state", format!("port=4567&state=s2&confirm={token}"), vec![]),
    ];
    for (case, form, headers) in cases {
        let response = confirm(&stack, &alice.token, &form, &headers).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{case}");
        assert_eq!(error_code(response).await, ErrorCode::CrossSiteRequest, "{case}");
    }
    let response = confirm(&stack, &mallory.token, &form, &[]).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "a token shown to alice's session is useless to mallory's");
    let anonymous = no_redirects()
        .post(format!("{}/auth/cli", stack.gateway.base_url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .expect("answers");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(codes_issued(&stack).await, 0);
    stack.stop().await;
}

/// The CLI's side: `POST /auth/cli/exchange` through the typed client.
async fn exchange(stack: &Stack, code: &str, state: &str) -> Result<LoginResponse, ClientError> {
    stack.gateway.exchange_cli_code(&CliExchangeRequest { code: code.into(), state: state.into() }).await
}

/// A refused exchange's status and code.
fn refusal(result: Result<LoginResponse, ClientError>) -> (Option<StatusCode>, Option<ErrorCode>) {
    let err = result.expect_err("refused");
    (err.status(), err.code())
}

#[tokio::test]
async fn the_cli_trades_a_one_time_code_for_its_own_session() {
    let stack = Stack::start().await;
    let browser = stack.gateway.dev_login("alice").await.expect("browser login");
    let code = browser_code(&stack, &browser.token, 4567, "cli-state-1").await;

    let login = exchange(&stack, &code, "cli-state-1").await.expect("token and user");
    assert_eq!(login.user.username, "alice");
    assert_ne!(login.token, browser.token, "the CLI gets a session of its own");
    let me = stack.gateway.with_token(&login.token).me().await.expect("the CLI's session works");
    assert_eq!(me.user.id, browser.user.id);

    let replayed = exchange(&stack, &code, "cli-state-1").await;
    assert_eq!(
        refusal(replayed),
        (Some(StatusCode::BAD_REQUEST), Some(ErrorCode::CliCodeInvalid)),
        "a code works once"
    );
}

#[tokio::test]
async fn a_code_with_another_state_is_refused_and_burnt() {
    let stack = Stack::start().await;
    let browser = stack.gateway.dev_login("alice").await.expect("browser login");
    let code = browser_code(&stack, &browser.token, 50000, "right").await;
    let wrong = exchange(&stack, &code, "wrong").await;
    assert_eq!(refusal(wrong), (Some(StatusCode::BAD_REQUEST), Some(ErrorCode::CliStateMismatch)));
    let after = exchange(&stack, &code, "right").await;
    assert_eq!(refusal(after).1, Some(ErrorCode::CliCodeInvalid), "a refused code is not kept for another try");
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    let stack = Stack::start().await;
    let browser = stack.gateway.dev_login("alice").await.expect("browser login");
    let code = browser_code(&stack, &browser.token, 4567, "s").await;
    // As if its lifetime had passed.
    sqlx::query("UPDATE cli_login_codes SET expires_at = now() - interval '1 second'")
        .execute(&stack.db.pool)
        .await
        .expect("age the code");
    let expired = exchange(&stack, &code, "s").await;
    assert_eq!(refusal(expired), (Some(StatusCode::BAD_REQUEST), Some(ErrorCode::CliCodeExpired)));
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
