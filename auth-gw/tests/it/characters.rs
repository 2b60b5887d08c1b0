//! No control characters are stored: through the gateway, a message body (also one edited
//! in, and a webhook's text), a display name, a channel topic, a community description, a
//! webhook's name and a webhook post's `username` carrying a terminal escape are refused
//! with 400 `invalid_characters` naming the field, and nothing changes; a body keeps its
//! newlines and tabs, and CR LF line ends are stored as newlines.

use ajet_shared::api::wire::{CreateMessageRequest, HistoryQuery};
use ajet_shared::api::{ErrorCode, paths};
use ajet_shared::auth::hash_token;
use ajet_shared::db::webhooks::{self, NewWebhook};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::skeleton::two_users;
use crate::stack::Stack;

const HOOK_TOKEN: &str = "whk_characters-token-0123456789";
/// OSC 52: writes "evil" to the clipboard of a terminal that prints it raw.
const OSC52: &str = "\u{1b}]52;c;ZXZpbA==\u{7}";

/// The error body of a refused request, after checking it is 400 `invalid_characters`
/// naming `field`.
async fn assert_refused(response: reqwest::Response, field: &str, case: &str) {
    assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{case}");
    let body: serde_json::Value = response.json().await.expect("a JSON error body");
    assert_eq!(body["error"]["code"], ErrorCode::InvalidCharacters.as_str(), "{case}: {body}");
    let message = body["error"]["message"].as_str().expect("a message");
    assert!(message.starts_with(&format!("{field}: ")), "{case}: the message names {field}: {message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_characters_are_refused_in_names_topics_and_bodies_and_nothing_is_stored() {
    let stack = Stack::start().await;
    let (alice, _bob, channel) = two_users(&stack).await;
    let community = channel.community_id.expect("a community channel");
    let webhook = webhooks::insert(
        &stack.db.pool,
        &NewWebhook {
            community,
            channel: channel.id,
            name: "CI",
            avatar_url: None,
            token_hash: &hash_token(HOOK_TOKEN),
            created_by: Some(alice.me().await.expect("me").user.id),
        },
    )
    .await
    .expect("webhook row");
    let hook = paths::hook(webhook.id, HOOK_TOKEN);
    let kept = alice
        .send_message(
            channel.id,
            &CreateMessageRequest {
                body_md: "kept".into(),
                parent_id: None,
                client_msg_id: None,
                attachment_ids: Vec::new(),
            },
        )
        .await
        .expect("sent");

    let cases: Vec<(&str, Method, String, serde_json::Value, &str)> = vec![
        (
            "a body",
            Method::POST,
            paths::channel_messages(channel.id),
            json!({"body_md": format!("hi {OSC52}")}),
            "body_md",
        ),
        (
            "a body with a C1 CSI",
            Method::POST,
            paths::channel_messages(channel.id),
            json!({"body_md": "\u{9b}2J"}),
            "body_md",
        ),
        (
            "an edited body",
            Method::PATCH,
            paths::message(kept.id),
            json!({"body_md": "screen \u{1b}[2J cleared"}),
            "body_md",
        ),
        (
            "a display name",
            Method::PATCH,
            paths::ME.into(),
            json!({"display_name": format!("Alice{OSC52}")}),
            "display_name",
        ),
        (
            "a display name with a bidi override",
            Method::PATCH,
            paths::ME.into(),
            json!({"display_name": "\u{202e}ecilA"}),
            "display_name",
        ),
        (
            "a channel topic",
            Method::PATCH,
            paths::channel(channel.id),
            json!({"topic": "deploys \u{1b}[31mred"}),
            "topic",
        ),
        (
            "a community description",
            Method::PATCH,
            paths::community(community),
            json!({"description": "we \u{7f} build"}),
            "description",
        ),
        (
            "a webhook name",
            Method::POST,
            paths::WEBHOOKS.into(),
            json!({"channel_id": channel.id, "name": "CI\u{1b}[8m"}),
            "name",
        ),
        (
            "a webhook username",
            Method::POST,
            hook.clone(),
            json!({"text": "build passed", "username": format!("Deploy{OSC52}")}),
            "username",
        ),
        ("a webhook text", Method::POST, hook.clone(), json!({"text": format!("build {OSC52} passed")}), "text"),
    ];
    // Sent by hand: each is deliberately bad input, judged by its raw answer.
    for (case, method, path, body, field) in cases {
        // Webhook posts carry no user's credentials, only the token in their path.
        let client = if path.starts_with("/hook/") { &stack.gateway } else { &alice };
        let response = client.request(method, &path).json(&body).send().await.expect("answers");
        assert_refused(response, field, case).await;
    }

    let me = alice.me().await.expect("me");
    assert_eq!(me.user.display_name, "alice", "the display name is unchanged");
    let stored = alice.get_channel(channel.id).await.expect("the channel");
    assert_eq!(stored.topic, None, "the topic is unchanged");
    let history = alice.history(channel.id, &HistoryQuery::default()).await.expect("history");
    let bodies: Vec<&str> = history.data.iter().map(|message| message.body_md.as_str()).collect();
    assert_eq!(bodies, ["kept"], "nothing was posted and the edit did not apply");

    // Newlines and tabs are text; CR LF is stored as a newline.
    let sent = alice
        .send_message(
            channel.id,
            &CreateMessageRequest {
                body_md: "line one\r\n\tindented".into(),
                parent_id: None,
                client_msg_id: None,
                attachment_ids: Vec::new(),
            },
        )
        .await
        .expect("sent");
    assert_eq!(sent.body_md, "line one\n\tindented");
    let history = alice.history(channel.id, &HistoryQuery::default()).await.expect("history");
    assert_eq!(history.data.last().expect("newest").body_md, "line one\n\tindented");
    stack.stop().await;
}
