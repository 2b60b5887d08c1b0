//! A webhook writes on behalf of the admin who created it: once they are no longer an admin
//! of the community (demoted, kicked; banned is in `moderation.rs`), it is refused with its
//! own 403 code, logged, and nothing is posted; made an admin again, they get it back; an
//! admin's new webhook works meanwhile.

use ajet_shared::api::ErrorCode;
use ajet_shared::api::wire::{
    CreateInviteRequest, CreateKickRequest, CreateWebhookRequest, CreatedWebhook, Role, UpdateMemberRequest,
};
use ajet_shared::client::ClientError;
use ajet_shared::domain::ids::UserId;
use reqwest::StatusCode;
use serde_json::json;

use crate::stack::Stack;

async fn post(stack: &Stack, webhook: &CreatedWebhook, text: &str) -> Result<(), ClientError> {
    stack.gateway.post_webhook(webhook.info.id, &webhook.token, &json!({ "text": text })).await.map(drop)
}

fn refusal(result: Result<(), ClientError>) -> (Option<StatusCode>, Option<ErrorCode>) {
    let err = result.expect_err("refused");
    (err.status(), err.code())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_stops_when_its_creator_is_demoted_or_kicked_and_says_why() {
    let stack = Stack::start().await;
    let (alice, _bob, channel) = crate::skeleton::two_users(&stack).await;
    let community = channel.community_id.expect("a community channel");
    let carol = stack.login("carol").await;
    let invite = alice.create_invite(community, &CreateInviteRequest::default()).await.expect("invite");
    carol.accept_invite(&invite.code).await.expect("carol joins");
    let carol_id: UserId = carol.me().await.expect("me").user.id;
    let role = |role| UpdateMemberRequest { role, reason: None };
    alice.set_role(community, carol_id, &role(Role::Admin)).await.expect("carol is an admin");
    let request = CreateWebhookRequest { channel_id: channel.id, name: "Carol's CI".into(), avatar_url: None };
    let webhook = carol.create_webhook(&request).await.expect("carol creates a webhook");
    post(&stack, &webhook, "while carol is an admin").await.expect("posted");

    alice.set_role(community, carol_id, &role(Role::Member)).await.expect("carol is demoted");
    let removed = (Some(StatusCode::FORBIDDEN), Some(ErrorCode::WebhookCreatorRemoved));
    assert_eq!(refusal(post(&stack, &webhook, "after the demotion").await), removed);
    // An admin's own webhook is untouched meanwhile.
    let request = CreateWebhookRequest { channel_id: channel.id, name: "Alice's CI".into(), avatar_url: None };
    let replacement = alice.create_webhook(&request).await.expect("alice creates another");
    post(&stack, &replacement, "from alice's webhook").await.expect("posted");

    alice.set_role(community, carol_id, &role(Role::Admin)).await.expect("carol is an admin again");
    post(&stack, &webhook, "carol is back").await.expect("posts again");
    alice.kick(community, &CreateKickRequest { user_id: carol_id, reason: None }).await.expect("carol is kicked");
    assert_eq!(refusal(post(&stack, &webhook, "after the kick").await), removed);

    let history = alice.history(channel.id, &Default::default()).await.expect("history");
    let bodies: Vec<&str> = history.data.iter().map(|m| m.body_md.as_str()).collect();
    assert_eq!(bodies, ["while carol is an admin", "from alice's webhook", "carol is back"]);
    let log = alice.list_webhook_deliveries(webhook.info.id).await.expect("alice reads carol's webhook's log").data;
    let seen: Vec<(u16, Option<ErrorCode>)> = log.iter().rev().map(|d| (d.status, d.code)).collect();
    assert_eq!(
        seen,
        [
            (200, None),
            (403, Some(ErrorCode::WebhookCreatorRemoved)),
            (200, None),
            (403, Some(ErrorCode::WebhookCreatorRemoved))
        ]
    );
    let message = log[0].message.as_deref().expect("the refusal's message");
    assert!(message.contains("no longer an admin"), "says why: {message}");
    stack.stop().await;
}
