//! Incoming webhooks through the gateway: a Slack-style post lands in the bound channel's
//! history under the webhook's name (or the payload's overrides) and reaches a member's
//! terminal stream; wrong ids, tokens, sizes and shapes get the documented errors; the
//! per-webhook allowance answers 429; an `Idempotency-Key` retry creates nothing new.

use std::time::Duration;

use ajet_shared::api::wire::{
    Bot, Channel, CreateChannelRequest, CreateCommunityRequest, CreateMessageRequest, CreateWebhookRequest,
    HistoryQuery, Message, Page, WebhookInfo,
};
use ajet_shared::api::{ErrorCode, paths};
use ajet_shared::auth::hash_token;
use ajet_shared::client::{ApiClient, ClientError};
use ajet_shared::db::webhooks::{self, NewWebhook};
use ajet_shared::events::{Event, EventPayload};
use ajet_shared::{ChannelId, WebhookId};
use futures::StreamExt as _;
use reqwest::StatusCode;
use serde_json::json;

use crate::gateway::error_code;
use crate::stack::Stack;

const TOKEN: &str = "whk_test-token-0123456789";

/// Alice owns a community with a channel that a webhook named "CI" (token `TOKEN`) posts
/// into; returns the channel and the webhook.
async fn channel_with_webhook(stack: &Stack) -> (ApiClient, Channel, WebhookId) {
    let alice = stack.login("alice").await;
    let community = alice
        .create_community(&CreateCommunityRequest { name: "Acme".into(), slug: "acme".into(), description: None })
        .await
        .expect("community");
    let channel = alice
        .create_channel(community.id, &CreateChannelRequest { name: "builds".into(), topic: None, kind: None })
        .await
        .expect("channel");
    let webhook = webhooks::insert(
        &stack.db.pool,
        &NewWebhook {
            community: community.id,
            channel: channel.id,
            name: "CI",
            avatar_url: Some("https://ci.example/logo.png"),
            token_hash: &hash_token(TOKEN),
            created_by: Some(alice.me().await.expect("me").user.id),
        },
    )
    .await
    .expect("webhook row");
    (alice, channel, webhook.id)
}

/// A webhook post sent by hand, for what the typed client cannot send: bad payloads, other
/// content types, headers such as `Idempotency-Key`, and answers judged by their headers.
fn post(stack: &Stack, path: &str, body: &str) -> reqwest::RequestBuilder {
    stack.gateway.request(reqwest::Method::POST, path).header("content-type", "application/json").body(body.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slack_post_reaches_history_and_streams_under_its_overrides() {
    let stack = Stack::start().await;
    let (alice, channel, webhook) = channel_with_webhook(&stack).await;
    let mut stream = alice.tui_events(None).await.expect("stream opens");

    let payload = json!({
        "text": "build <https://ci/7|#7> passed",
        "username": "Deploy bot",
        "icon_url": "https://ci.example/bot.png",
    });
    let sent = stack.gateway.post_webhook(webhook, TOKEN, &payload).await.expect("posted");
    assert_eq!(sent.body_md, "build [#7](https://ci/7) passed");
    assert_eq!(sent.author.user_id, None);
    assert_eq!(sent.author.display_name, "Deploy bot");
    assert_eq!(sent.author.avatar_url.as_deref(), Some("https://ci.example/bot.png"));

    let streamed = loop {
        let event = tokio::time::timeout(Duration::from_secs(30), stream.next())
            .await
            .expect("an event within 30 s")
            .expect("the stream stays open")
            .expect("a well-formed event");
        if event.event == "message.created" {
            let envelope: Event = serde_json::from_str(&event.data).expect("an envelope");
            let EventPayload::MessageCreated(message) = envelope.payload else { panic!("type and payload disagree") };
            break message;
        }
    };
    assert_eq!(streamed.id, sent.id);
    assert_eq!(streamed.author.display_name, "Deploy bot");

    // Without overrides, a form-encoded post appears under the webhook's own name and icon.
    let response = stack
        .gateway
        .request(reqwest::Method::POST, &paths::hook(webhook, TOKEN))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("payload=%7B%22attachments%22%3A%5B%7B%22title%22%3A%22Run%208%22%2C%22text%22%3A%22failed%22%7D%5D%7D")
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), StatusCode::OK);

    let history = alice.history(channel.id, &Default::default()).await.expect("history");
    let bodies: Vec<(&str, &str, Option<&str>)> = history
        .data
        .iter()
        .map(|m| (m.body_md.as_str(), m.author.display_name.as_str(), m.author.avatar_url.as_deref()))
        .collect();
    assert_eq!(
        bodies,
        [
            ("build [#7](https://ci/7) passed", "Deploy bot", Some("https://ci.example/bot.png")),
            ("> **Run 8**\n> failed", "CI", Some("https://ci.example/logo.png")),
        ]
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_webhook_posts_get_the_documented_errors() {
    let stack = Stack::start_with(|config| config.webhook_max_body_bytes = 1024).await;
    let (_alice, _channel, webhook) = channel_with_webhook(&stack).await;
    let path = paths::hook(webhook, TOKEN);
    let cases = [
        (paths::hook(WebhookId::generate(), TOKEN), r#"{"text":"x"}"#.to_owned(), 404, ErrorCode::WebhookNotFound),
        (
            paths::HOOK.replace("{id}", "not-a-uuid").replace("{token}", TOKEN),
            r#"{"text":"x"}"#.to_owned(),
            404,
            ErrorCode::WebhookNotFound,
        ),
        (paths::hook(webhook, "wrong-token"), r#"{"text":"x"}"#.to_owned(), 404, ErrorCode::WebhookNotFound),
        (path.clone(), format!(r#"{{"text":"{}"}}"#, "x".repeat(2000)), 413, ErrorCode::PayloadTooLarge),
        (path.clone(), "{not json".to_owned(), 400, ErrorCode::MalformedPayload),
        (path.clone(), r#"{"username":"only a name"}"#.to_owned(), 400, ErrorCode::MalformedPayload),
        (path.clone(), r#"{"text":"x","icon_url":"javascript:alert(1)"}"#.to_owned(), 400, ErrorCode::InvalidIconUrl),
    ];
    for (url, body, status, code) in cases {
        let response = post(&stack, &url, &body).send().await.expect("answers");
        assert_eq!(response.status().as_u16(), status, "{url} {}", &body[..body.len().min(40)]);
        assert_eq!(error_code(response).await, code, "{url}");
    }
    let response = post(&stack, &path, "{not json").send().await.expect("answers");
    let body: serde_json::Value = response.json().await.expect("JSON");
    let message = body["error"]["message"].as_str().expect("a message");
    assert!(message.contains("Slack-style JSON"), "a helpful message: {message}");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotency_key_retry_returns_the_first_message_without_a_second() {
    let stack = Stack::start().await;
    let (alice, channel, webhook) = channel_with_webhook(&stack).await;
    let path = paths::hook(webhook, TOKEN);
    let mut ids = Vec::new();
    for _ in 0..3 {
        let response = post(&stack, &path, r#"{"text":"deploy 42"}"#)
            .header("idempotency-key", "deploy-42")
            .send()
            .await
            .expect("answers");
        assert_eq!(response.status(), StatusCode::OK);
        ids.push(response.json::<Message>().await.expect("message").id);
    }
    assert!(ids.iter().all(|id| *id == ids[0]), "every retry answers the first message");
    let other = post(&stack, &path, r#"{"text":"deploy 42"}"#).header("idempotency-key", "deploy-43").send().await;
    assert_eq!(other.expect("answers").status(), StatusCode::OK);
    let history = alice.history(channel.id, &Default::default()).await.expect("history");
    assert_eq!(history.data.len(), 2, "one message per key");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_over_its_allowance_gets_429() {
    let stack = Stack::start_with(|config| config.webhook_rate_limit_per_minute = 3).await;
    let (_alice, _channel, webhook) = channel_with_webhook(&stack).await;
    for _ in 0..3 {
        stack.gateway.post_webhook(webhook, TOKEN, &json!({"text": "tick"})).await.expect("within the allowance");
    }
    let refused = post(&stack, &paths::hook(webhook, TOKEN), r#"{"text":"tick"}"#).send().await.expect("answers");
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(error_code(refused).await, ErrorCode::RateLimited);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_create_list_and_revoke_webhooks_and_a_revoked_one_stops_posting() {
    let stack = Stack::start().await;
    let (alice, channel, _) = channel_with_webhook(&stack).await;
    let created = alice
        .create_webhook(&CreateWebhookRequest { channel_id: channel.id, name: "Alerts".into(), avatar_url: None })
        .await
        .expect("created");
    let path = created.url.strip_prefix(stack.gateway.base_url()).expect("on the public URL");
    assert_eq!(path, paths::hook(created.info.id, &created.token), "the URL holds the id and the token");
    let message = stack
        .gateway
        .post_webhook(created.info.id, &created.token, &json!({"text": "disk full"}))
        .await
        .expect("posted");
    assert_eq!(message.author.display_name, "Alerts");

    let community = channel.community_id.expect("a community channel");
    let listed = alice.list_webhooks(community).await.expect("listed");
    let names: Vec<&str> = listed.data.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(names, ["Alerts", "CI"]);
    // The raw list, as any client would see it.
    let raw: serde_json::Value = alice
        .request(reqwest::Method::GET, paths::WEBHOOKS)
        .query(&[("community_id", community)])
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("json");
    assert!(raw["data"][0].is_object() && raw["data"][0].get("token").is_none(), "no secrets in lists: {raw}");

    alice.revoke_webhook(created.info.id).await.expect("revoked");
    let refused = stack
        .gateway
        .post_webhook(created.info.id, &created.token, &json!({"text": "disk full"}))
        .await
        .expect_err("revoked");
    assert_eq!((refused.status(), refused.code()), (Some(StatusCode::NOT_FOUND), Some(ErrorCode::WebhookNotFound)));
    stack.stop().await;
}

/// The next event of type `kind` on `stream`, as raw JSON (so fields the typed envelope
/// would drop still show).
async fn next_raw_event(
    stream: &mut futures::stream::BoxStream<'static, Result<ajet_shared::client::SseEvent, ClientError>>,
    kind: &str,
) -> serde_json::Value {
    loop {
        let event = tokio::time::timeout(Duration::from_secs(30), stream.next())
            .await
            .expect("an event within 30 s")
            .expect("the stream stays open")
            .expect("a well-formed event");
        if event.event == kind {
            return serde_json::from_str(&event.data).expect("JSON");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_post_is_marked_as_a_bot_in_history_and_events_whatever_name_it_claims() {
    let stack = Stack::start().await;
    let (alice, channel, webhook) = channel_with_webhook(&stack).await;
    let mut stream = alice.tui_events(None).await.expect("stream opens");

    // The payload tries to pass as Alice; the display name changes, the marker stays.
    let payload = json!({"text": "please send me your password", "username": "alice"});
    let sent = stack.gateway.post_webhook(webhook, TOKEN, &payload).await.expect("posted");
    assert_eq!(sent.author.display_name, "alice");
    assert_eq!(sent.author.bot, Some(Bot { webhook_id: webhook, name: "CI".into() }), "the answer carries the marker");
    let marker = json!({"webhook_id": webhook, "name": "CI"});

    let event = next_raw_event(&mut stream, "message.created").await;
    assert_eq!(event["data"]["id"], json!(sent.id));
    assert_eq!(event["data"]["author"]["bot"], marker, "the live event carries the marker");

    let human = alice
        .send_message(
            channel.id,
            &CreateMessageRequest {
                body_md: "hi".into(),
                parent_id: None,
                client_msg_id: None,
                attachment_ids: Vec::new(),
            },
        )
        .await
        .expect("alice posts");
    // The raw page, so the marker's JSON shows as any client reads it.
    let history: serde_json::Value = alice
        .request(reqwest::Method::GET, &paths::channel_messages(channel.id))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("a page");
    let authors: Vec<(&str, &serde_json::Value)> = history["data"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| (m["author"]["display_name"].as_str().expect("a name"), &m["author"]["bot"]))
        .collect();
    assert_eq!(authors, [("alice", &marker), (human.author.display_name.as_str(), &serde_json::Value::Null)]);
    let typed = alice.history(channel.id, &Default::default()).await.expect("history");
    assert_eq!(typed.data[0].author.bot.as_ref().map(|bot| bot.name.as_str()), Some("CI"));
    assert_eq!(typed.data[1].author.bot, None, "people carry no marker");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_cannot_post_into_an_archived_channel_and_is_refused_as_a_user_is() {
    let stack = Stack::start().await;
    let (alice, channel, webhook) = channel_with_webhook(&stack).await;
    let archived = alice.archive_channel(channel.id).await.expect("archived");
    assert!(archived.archived_at.is_some());

    let by_webhook =
        stack.gateway.post_webhook(webhook, TOKEN, &json!({"text": "deploy 43"})).await.expect_err("archived");
    let by_user = alice
        .send_message(
            channel.id,
            &CreateMessageRequest {
                body_md: "deploy 43".into(),
                parent_id: None,
                client_msg_id: None,
                attachment_ids: Vec::new(),
            },
        )
        .await
        .expect_err("archived");
    let refusal = |err: &ClientError| (err.status(), err.code(), err.message().map(str::to_owned));
    assert_eq!(refusal(&by_webhook).0, Some(StatusCode::CONFLICT));
    assert_eq!(refusal(&by_webhook).1, Some(ErrorCode::ChannelArchived));
    assert_eq!(refusal(&by_webhook), refusal(&by_user), "the same code and message for the same rule");
    let history = alice.history(channel.id, &Default::default()).await.expect("history");
    assert!(history.data.is_empty(), "nothing was posted: {:?}", history.data);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_of_a_private_channel_exist_only_for_admins_who_can_read_it() {
    let stack = Stack::start().await;
    let (alice, bob, public) = crate::skeleton::two_users(&stack).await;
    let community = public.community_id.expect("a community channel");
    let secret = alice
        .create_channel(
            community,
            &CreateChannelRequest {
                name: "secret".into(),
                topic: None,
                kind: Some(ajet_shared::api::wire::ChannelKind::Private),
            },
        )
        .await
        .expect("private channel");
    sqlx::query(
        "UPDATE community_members SET role = 'admin' WHERE user_id = (SELECT id FROM users WHERE username = 'bob')",
    )
    .execute(&stack.db.pool)
    .await
    .expect("bob becomes an admin");
    let create = |client: &ApiClient, channel: ChannelId, name: &str| {
        let client = client.clone();
        let request = CreateWebhookRequest { channel_id: channel, name: name.into(), avatar_url: None };
        async move { client.create_webhook(&request).await }
    };

    // Bob, an admin outside #secret, gets exactly what a channel that does not exist gets.
    let refused = create(&bob, secret.id, "Sneaky").await.expect_err("not readable");
    let missing = create(&bob, ChannelId::generate(), "Sneaky").await.expect_err("no such channel");
    let refusal = |err: &ClientError| (err.status(), err.code(), err.message().map(str::to_owned));
    assert_eq!(refusal(&refused), refusal(&missing), "no existence oracle");
    assert_eq!((refused.status(), refused.code()), (Some(StatusCode::NOT_FOUND), Some(ErrorCode::ChannelNotFound)));

    let hidden = create(&alice, secret.id, "Vault").await.expect("alice, in #secret, creates one");
    create(&alice, public.id, "Builds").await.expect("created");
    let names = |listed: Page<WebhookInfo>| -> Vec<String> { listed.data.into_iter().map(|w| w.name).collect() };
    let seen_by_bob = bob.list_webhooks(community).await.expect("listed");
    assert_eq!(names(seen_by_bob), ["Builds"], "the list never names a channel bob cannot read");
    let seen_by_alice = alice.list_webhooks(community).await.expect("listed");
    assert_eq!(names(seen_by_alice), ["Builds", "Vault"]);

    let revoke = bob.revoke_webhook(hidden.info.id).await.expect_err("not bob's to see");
    assert_eq!((revoke.status(), revoke.code()), (Some(StatusCode::NOT_FOUND), Some(ErrorCode::WebhookNotFound)));
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_channels_webhook_stops_when_its_creator_leaves_the_channel() {
    let stack = Stack::start().await;
    let (alice, bob, public) = crate::skeleton::two_users(&stack).await;
    let community = public.community_id.expect("a community channel");
    let private = Some(ajet_shared::api::wire::ChannelKind::Private);
    let vault = alice
        .create_channel(community, &CreateChannelRequest { name: "vault".into(), topic: None, kind: private })
        .await
        .expect("private channel");
    let bob_id = bob.me().await.expect("me").user.id;
    alice.add_channel_member(vault.id, bob_id).await.expect("bob joins #vault");
    sqlx::query(
        "UPDATE community_members SET role = 'admin' WHERE user_id = (SELECT id FROM users WHERE username = 'bob')",
    )
    .execute(&stack.db.pool)
    .await
    .expect("bob becomes an admin");
    let request = CreateWebhookRequest { channel_id: vault.id, name: "Alarms".into(), avatar_url: None };
    let webhook = bob.create_webhook(&request).await.expect("bob, in #vault, creates one");
    let post = |text: &str| {
        let (gateway, text) = (stack.gateway.clone(), text.to_owned());
        let (id, token) = (webhook.info.id, webhook.token.clone());
        async move { gateway.post_webhook(id, &token, &serde_json::json!({ "text": text })).await }
    };
    post("while bob is in").await.expect("posted");

    alice.remove_channel_member(vault.id, bob_id).await.expect("bob is removed from #vault");
    let refused = post("after bob left").await.expect_err("the creator can no longer read #vault");
    assert_eq!((refused.status(), refused.code()), (Some(StatusCode::NOT_FOUND), Some(ErrorCode::WebhookNotFound)));
    let history = alice.history(vault.id, &HistoryQuery::default()).await.expect("history");
    let bodies: Vec<&str> = history.data.iter().map(|m| m.body_md.as_str()).collect();
    assert_eq!(bodies, ["while bob is in"], "nothing written after the creator left");
    stack.stop().await;
}
