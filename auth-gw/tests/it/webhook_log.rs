//! The delivery log of an incoming webhook, read by its community's admins: every delivery
//! whose id and token were right, accepted or refused, with the status, code and message
//! the sender got, its size and format; wrong tokens are not logged; only the last 100
//! are kept; members and outsiders are refused.

use ajet_shared::api::ErrorCode;
use ajet_shared::api::paths;
use ajet_shared::api::wire::{ChannelModerationRequest, CreateWebhookRequest, WebhookDelivery, WebhookFormat};
use reqwest::StatusCode;
use serde_json::json;

use crate::stack::Stack;

/// A raw webhook post with a JSON body of `body`.
async fn deliver(stack: &Stack, path: &str, body: &str) -> StatusCode {
    let response = stack
        .gateway
        .request(reqwest::Method::POST, path)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("answers");
    response.status()
}

/// What an admin reads of each delivery, oldest first: status, code, format and size.
fn summary(deliveries: &[WebhookDelivery]) -> Vec<(u16, Option<ErrorCode>, WebhookFormat, u64)> {
    deliveries.iter().rev().map(|d| (d.status, d.code, d.format, d.payload_bytes)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepted_and_refused_deliveries_appear_in_the_admins_log_with_their_codes() {
    let stack = Stack::start().await;
    let (alice, bob, channel) = crate::skeleton::two_users(&stack).await;
    let request = CreateWebhookRequest { channel_id: channel.id, name: "CI".into(), avatar_url: None };
    let webhook = alice.create_webhook(&request).await.expect("created");
    let path = paths::hook(webhook.info.id, &webhook.token);

    let accepted = r#"{"text":"build 7 passed"}"#;
    assert_eq!(deliver(&stack, &path, accepted).await, StatusCode::OK);
    let malformed = "{not json";
    assert_eq!(deliver(&stack, &path, malformed).await, StatusCode::BAD_REQUEST);
    // A wrong token is not the webhook's delivery: it is not logged.
    let wrong = paths::hook(webhook.info.id, "whk_wrong");
    assert_eq!(deliver(&stack, &wrong, accepted).await, StatusCode::NOT_FOUND);
    let freeze = ChannelModerationRequest { frozen: Some(true), ..Default::default() };
    alice.moderate_channel(channel.id, &freeze).await.expect("frozen");
    let frozen = r#"{"text":"build 8 passed"}"#;
    assert_eq!(deliver(&stack, &path, frozen).await, StatusCode::FORBIDDEN);

    let log = alice.list_webhook_deliveries(webhook.info.id).await.expect("the admin reads the log").data;
    let size = |body: &str| u64::try_from(body.len()).expect("small");
    assert_eq!(
        summary(&log),
        [
            (200, None, WebhookFormat::Slack, size(accepted)),
            (400, Some(ErrorCode::MalformedPayload), WebhookFormat::Slack, size(malformed)),
            (403, Some(ErrorCode::ChannelFrozen), WebhookFormat::Slack, size(frozen)),
        ]
    );
    let history = alice.history(channel.id, &Default::default()).await.expect("history");
    assert_eq!(log[2].message_id, Some(history.data[0].id), "the accepted delivery names its message");
    assert_eq!(log[0].message_id, None);
    let refusal = log[0].message.as_deref().expect("the refusal's message");
    assert!(refusal.contains("frozen"), "the message the sender got: {refusal}");
    assert!(log[1].message.as_deref().is_some_and(|m| m.contains("Slack-style JSON")));
    assert!(log[0].id > log[1].id && log[1].id > log[2].id, "newest first");

    // A member of the community is refused, and so is an outsider (as if it did not exist).
    let refused = bob.list_webhook_deliveries(webhook.info.id).await.expect_err("not an admin");
    assert_eq!((refused.status(), refused.code()), (Some(StatusCode::FORBIDDEN), Some(ErrorCode::AdminOnly)));
    let carol = stack.login("carol").await;
    let refused = carol.list_webhook_deliveries(webhook.info.id).await.expect_err("an outsider");
    assert_eq!((refused.status(), refused.code()), (Some(StatusCode::NOT_FOUND), Some(ErrorCode::WebhookNotFound)));
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_keeps_only_the_last_hundred_deliveries() {
    let stack = Stack::start_with(|config| config.webhook_rate_limit_per_minute = 1000).await;
    let (alice, _bob, channel) = crate::skeleton::two_users(&stack).await;
    let request = CreateWebhookRequest { channel_id: channel.id, name: "CI".into(), avatar_url: None };
    let webhook = alice.create_webhook(&request).await.expect("created");
    let path = paths::hook(webhook.info.id, &webhook.token);
    let first = stack.gateway.post_webhook(webhook.info.id, &webhook.token, &json!({"text": "first"})).await;
    let first = first.expect("posted");
    for i in 0..100 {
        assert_eq!(deliver(&stack, &path, &format!("{{\"nope\":{i}}}")).await, StatusCode::BAD_REQUEST);
    }
    let log = alice.list_webhook_deliveries(webhook.info.id).await.expect("the log").data;
    assert_eq!(log.len(), 100);
    assert!(log.iter().all(|d| d.status == 400), "the oldest, accepted delivery was pruned");
    assert!(log.iter().all(|d| d.message_id != Some(first.id)));
    stack.stop().await;
}
