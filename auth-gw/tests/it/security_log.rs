//! A user's security log, `GET /api/me/security-log`: their logins with the address and
//! user agent the gateway saw, and the api's own audit rows (an API token created) with
//! the address the gateway forwards — never one a client claims — and nobody else's rows;
//! and a burst of refused logins from one address, audited for the operator.

use ajet_shared::api::ErrorCode;
use ajet_shared::api::paths;
use ajet_shared::api::wire::{CreateTokenRequest, CreatedToken, LoginResponse, SecurityEvent};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::stack::Stack;

const AGENT: &str = "ajet-test-agent/1.0 (security log)";

/// Action, address and the login's provider and user agent of one row.
type Summary<'a> = (&'a str, Option<&'a str>, Option<&'a str>, Option<&'a str>);

/// Each row's `Summary`, newest first.
fn summary(rows: &[SecurityEvent]) -> Vec<Summary<'_>> {
    rows.iter()
        .map(|row| {
            (
                row.action.as_str(),
                row.ip.as_deref(),
                row.details["provider"].as_str(),
                row.details["user_agent"].as_str(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_and_token_changes_appear_in_my_security_log_with_the_gateways_view_of_the_client() {
    let stack = Stack::start().await;
    let login: LoginResponse = stack
        .gateway
        .request(Method::POST, paths::DEV_LOGIN)
        .header("user-agent", AGENT)
        .json(&json!({"username": "alice"}))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("a login");
    let alice = stack.gateway.with_token(login.token);
    // A client claiming another address is not believed: the gateway strips the header.
    let created: CreatedToken = alice
        .request(Method::POST, paths::TOKENS)
        .header("x-ajet-client-ip", "203.0.113.66")
        .json(&CreateTokenRequest { name: "ci".into(), scopes: vec!["read".into()], expires_in_days: None })
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("a token");
    let bob = stack.login("bob").await;

    let log = alice.security_log().await.expect("alice reads her log").data;
    assert_eq!(
        summary(&log),
        [("token.create", Some("127.0.0.1"), None, None), ("auth.login", Some("127.0.0.1"), Some("dev"), Some(AGENT))]
    );
    assert_eq!(log[0].target_id, Some(created.info.id.as_uuid()));
    assert!(log[0].trace_id.is_some(), "the api's row carries the request's trace id");
    let bobs = bob.security_log().await.expect("bob reads his log").data;
    assert_eq!(bobs.iter().map(|row| row.action.as_str()).collect::<Vec<_>>(), ["auth.login"], "only his own rows");

    // A read-only token cannot read where its owner logged in from.
    let reader = stack.gateway.with_token(created.token);
    let refused = reader.security_log().await.expect_err("needs the admin scope");
    assert_eq!((refused.status(), refused.code()), (Some(StatusCode::FORBIDDEN), Some(ErrorCode::InsufficientScope)));
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_refused_logins_from_one_address_is_audited_once_with_its_address() {
    let stack = Stack::start().await;
    let count_bursts = || async {
        let rows: Vec<(Option<String>, serde_json::Value)> = sqlx::query_as(
            "SELECT host(ip), details FROM audit_log WHERE action = 'auth.failed_login_burst' AND actor_id IS NULL",
        )
        .fetch_all(&stack.db.pool)
        .await
        .expect("the audit log");
        rows
    };
    let exchange = |code: String| {
        let gateway = stack.gateway.clone();
        async move {
            gateway
                .request(Method::POST, paths::CLI_EXCHANGE)
                .header("user-agent", AGENT)
                .json(&json!({"code": code, "state": "s"}))
                .send()
                .await
                .expect("answers")
                .status()
        }
    };
    for i in 0..4 {
        assert_eq!(exchange(format!("guess-{i}")).await, StatusCode::BAD_REQUEST);
    }
    assert!(count_bursts().await.is_empty(), "four refusals are no burst");
    assert_eq!(exchange("guess-4".into()).await, StatusCode::BAD_REQUEST);
    let bursts = count_bursts().await;
    assert_eq!(bursts.len(), 1, "the fifth makes one row: {bursts:?}");
    let (ip, details) = &bursts[0];
    assert_eq!(ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(details["last_path"], json!("/auth/cli/exchange"));
    assert_eq!(details["user_agent"], json!(AGENT));
    assert_eq!(details["attempts"], json!(5));
    // A successful login is no refusal and makes no row.
    stack.login("alice").await;
    assert_eq!(count_bursts().await.len(), 1);
    stack.stop().await;
}
