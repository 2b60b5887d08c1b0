//! The logs a terminal user reads: the community's audit log, its mutes in force and a
//! webhook's deliveries as an admin (a member is refused with exit 3), and one's own
//! security log.

use ajet_shared::api::ErrorCode;
use ajet_shared::api::paths;
use ajet_shared::api::wire::{CreateMuteRequest, CreateWebhookRequest};

use crate::cli::{Cli, acme};
use crate::stack::Stack;

#[tokio::test]
async fn an_admin_reads_a_mute_in_the_audit_log_and_a_member_is_refused() {
    let stack = Stack::start().await;
    let acme = acme(&stack).await;
    let bob_id = acme.bob.me().await.expect("bob").user.id;
    let mute = CreateMuteRequest { user_id: bob_id, duration_secs: Some(600), reason: Some("spamming #dev".into()) };
    acme.alice.mute(acme.community.id, &mute).await.expect("muted");
    let alice = Cli::signed_in(&stack, &acme.alice).await;

    let audit = alice.run(&["audit"]).await.ok();
    let line = audit.stdout.lines().find(|line| line.contains("member.mute")).expect("the mute is listed");
    assert!(line.contains("  @alice  member.mute  @bob  reason: spamming #dev"), "{audit:?}");
    assert!(line.contains("  trace "), "the request's trace id: {audit:?}");

    let json = alice.run(&["audit", "--json", "--action", "member.mute", "--actor", "@alice"]).await.ok().json();
    let rows = json.as_array().expect("the API's rows");
    assert_eq!(rows.len(), 1, "{json}");
    assert_eq!(rows[0]["action"], "member.mute");
    assert_eq!(rows[0]["target_id"], bob_id.to_string().as_str());
    assert_eq!(rows[0]["details"]["reason"], "spamming #dev");
    let none = alice.run(&["audit", "--json", "--actor", "@bob"]).await.ok().json();
    assert_eq!(none, serde_json::json!([]), "bob did nothing an audit records");
    let id = rows[0]["id"].as_str().expect("an id");
    let older = alice.run(&["audit", "--json", "--before", id]).await.ok().json();
    assert!(older.as_array().expect("rows").iter().all(|row| row["action"] != "member.mute"), "{older}");

    let bob = Cli::signed_in(&stack, &acme.bob).await;
    bob.run(&["audit"]).await.fails(3, ErrorCode::AdminOnly.as_str());
    stack.stop().await;
}

#[tokio::test]
async fn an_admin_lists_the_mutes_in_force_and_a_member_is_refused() {
    let stack = Stack::start().await;
    let acme = acme(&stack).await;
    let alice = Cli::signed_in(&stack, &acme.alice).await;
    let nobody = alice.run(&["mutes"]).await.ok();
    assert_eq!((nobody.stdout.as_str(), nobody.stderr.trim()), ("", "Nobody is muted."), "{nobody:?}");
    let bob_id = acme.bob.me().await.expect("bob").user.id;
    let mute = CreateMuteRequest { user_id: bob_id, duration_secs: None, reason: Some("spamming #dev".into()) };
    acme.alice.mute(acme.community.id, &mute).await.expect("muted");

    let listed = alice.run(&["mutes"]).await.ok();
    assert_eq!(listed.stdout, "@bob  until lifted  by @alice  reason: spamming #dev\n", "{listed:?}");
    let json = alice.run(&["mutes", "--json"]).await.ok().json();
    assert_eq!(json[0]["user"]["id"], bob_id.to_string().as_str(), "{json}");
    assert_eq!(json[0]["muted_by"]["username"], "alice", "{json}");

    let bob = Cli::signed_in(&stack, &acme.bob).await;
    bob.run(&["mutes"]).await.fails(3, ErrorCode::AdminOnly.as_str());
    stack.stop().await;
}

#[tokio::test]
async fn a_webhooks_deliveries_are_listed_for_its_admin() {
    let stack = Stack::start().await;
    let acme = acme(&stack).await;
    let request = CreateWebhookRequest { channel_id: acme.dev.id, name: "CI".into(), avatar_url: None };
    let webhook = acme.alice.create_webhook(&request).await.expect("created");
    let body = r#"{"text":"build 7 passed"}"#;
    let answer = stack
        .gateway
        .request(reqwest::Method::POST, &paths::hook(webhook.info.id, &webhook.token))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("answers");
    assert!(answer.status().is_success(), "{answer:?}");
    let alice = Cli::signed_in(&stack, &acme.alice).await;
    let id = webhook.info.id.to_string();

    let deliveries = alice.run(&["webhook", "deliveries", &id]).await.ok();
    let lines: Vec<&str> = deliveries.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{deliveries:?}");
    assert!(lines[0].contains(&format!("  200  ok  {} B  slack  message ", body.len())), "{deliveries:?}");
    let json = alice.run(&["webhook", "deliveries", &id, "--json"]).await.ok().json();
    assert_eq!(json[0]["status"], 200);
    assert_eq!(json[0]["format"], "slack");

    let bob = Cli::signed_in(&stack, &acme.bob).await;
    bob.run(&["webhook", "deliveries", &id]).await.fails(3, ErrorCode::AdminOnly.as_str());
    alice.run(&["webhook", "deliveries", "nope"]).await.fails(2, "webhook: \"nope\" is not an id");
    stack.stop().await;
}

#[tokio::test]
async fn the_security_log_shows_my_login() {
    let stack = Stack::start().await;
    let acme = acme(&stack).await;
    let alice = Cli::signed_in(&stack, &acme.alice).await;

    let log = alice.run(&["security-log"]).await.ok();
    let login = log.stdout.lines().find(|line| line.contains("  auth.login  ")).expect("the login is listed");
    assert!(login.contains("  auth.login  127.0.0.1  "), "{log:?}");
    let json = alice.run(&["security-log", "--json"]).await.ok().json();
    let rows = json.as_array().expect("the API's rows");
    assert!(rows.iter().any(|row| row["action"] == "auth.login" && row["ip"] == "127.0.0.1"), "{json}");
    stack.stop().await;
}
