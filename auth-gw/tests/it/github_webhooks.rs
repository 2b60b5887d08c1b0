//! GitHub deliveries on an incoming webhook's URL, detected by `X-GitHub-Event`, with
//! payloads trimmed from GitHub's own examples (`fixtures/github_*.json`; the pull
//! request's title is made hostile): each rendered event is posted as the webhook (bot
//! marker) with the exact Markdown expected, payload text never formats, links or
//! mentions; `ping` is answered and posts nothing; an event we do not render is refused
//! with its own code; a redelivery posts nothing new; all of it is in the delivery log.

use ajet_shared::api::ErrorCode;
use ajet_shared::api::paths;
use ajet_shared::api::wire::{CreateWebhookRequest, CreatedWebhook, Message, NotificationQuery, WebhookFormat};
use reqwest::StatusCode;

use crate::gateway::error_code;
use crate::stack::Stack;

const PUSH: &str = include_str!("fixtures/github_push.json");
const PULL_REQUEST: &str = include_str!("fixtures/github_pull_request_closed.json");
const WORKFLOW_RUN: &str = include_str!("fixtures/github_workflow_run_completed.json");
const PING: &str = include_str!("fixtures/github_ping.json");
const ISSUES: &str = include_str!("fixtures/github_issues_opened.json");

/// A delivery as GitHub sends it.
async fn deliver(stack: &Stack, webhook: &CreatedWebhook, event: &str, id: &str, body: &str) -> reqwest::Response {
    stack
        .gateway
        .request(reqwest::Method::POST, &paths::hook(webhook.info.id, &webhook.token))
        .header("content-type", "application/json")
        .header("user-agent", "GitHub-Hookshot/7f0d1c2")
        .header("x-github-event", event)
        .header("x-github-delivery", id)
        .body(body.to_owned())
        .send()
        .await
        .expect("answers")
}

async fn posted(response: reqwest::Response) -> Message {
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("the message")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_push_pull_request_and_workflow_run_events_post_readable_markdown_as_the_webhook() {
    let stack = Stack::start().await;
    let (alice, bob, channel) = crate::skeleton::two_users(&stack).await;
    let request = CreateWebhookRequest { channel_id: channel.id, name: "GitHub".into(), avatar_url: None };
    let webhook = alice.create_webhook(&request).await.expect("created");

    let push = posted(deliver(&stack, &webhook, "push", "d-1", PUSH).await).await;
    assert_eq!(
        push.body_md,
        "[Codertocat/Hello-World](https://github.com/Codertocat/Hello-World): Codertocat pushed \
         [2 commits](https://github.com/Codertocat/Hello-World/compare/6113728f27ae...0d1a26e67d8f) to branch **main**\n\
         - [`a10867b`](https://github.com/Codertocat/Hello-World/commit/a10867b14bb761a232cd80139fbd4c0d33264240) \
         Fix the \\*login\\* loop for @\u{200B}channel users\n\
         - [`0d1a26e`](https://github.com/Codertocat/Hello-World/commit/0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c) \
         Update README.md"
    );
    assert_eq!(push.author.bot.as_ref().map(|bot| bot.name.as_str()), Some("GitHub"), "posted as the webhook");
    assert_eq!(push.author.display_name, "GitHub");

    let pull = posted(deliver(&stack, &webhook, "pull_request", "d-2", PULL_REQUEST).await).await;
    assert_eq!(
        pull.body_md,
        "[Codertocat/Hello-World](https://github.com/Codertocat/Hello-World): pull request **merged** by octocat: \
         [#\u{200B}2 Update the \\[README\\]\\(javascript:alert\\(1\\)\\) with new information]\
         (https://github.com/Codertocat/Hello-World/pull/2) (author: Codertocat)"
    );

    let run = posted(deliver(&stack, &webhook, "workflow_run", "d-3", WORKFLOW_RUN).await).await;
    assert_eq!(
        run.body_md,
        "❌ [octo-org/octo-repo](https://github.com/octo-org/octo-repo): workflow \
         [Build #\u{200B}562](https://github.com/octo-org/octo-repo/actions/runs/30433642) on **main**: **failure**"
    );

    // GitHub's redelivery carries the same delivery id: the first message, nothing new.
    let again = posted(deliver(&stack, &webhook, "push", "d-1", PUSH).await).await;
    assert_eq!(again.id, push.id);
    let history = alice.history(channel.id, &Default::default()).await.expect("history");
    let ids: Vec<_> = history.data.iter().map(|m| m.id).collect();
    assert_eq!(ids, [push.id, pull.id, run.id], "oldest first");
    // "@channel" in a commit title pinged nobody.
    let inbox = bob.list_notifications(&NotificationQuery::default()).await.expect("bob's inbox");
    assert!(inbox.data.is_empty(), "payload text notifies no one: {:?}", inbox.data);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_github_ping_posts_nothing_and_an_unrendered_event_is_refused_and_both_are_logged() {
    let stack = Stack::start().await;
    let (alice, _bob, channel) = crate::skeleton::two_users(&stack).await;
    let request = CreateWebhookRequest { channel_id: channel.id, name: "GitHub".into(), avatar_url: None };
    let webhook = alice.create_webhook(&request).await.expect("created");

    let ping = deliver(&stack, &webhook, "ping", "p-1", PING).await;
    assert_eq!(ping.status(), StatusCode::NO_CONTENT);
    let issues = deliver(&stack, &webhook, "issues", "p-2", ISSUES).await;
    assert_eq!(issues.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(issues).await, ErrorCode::UnsupportedEvent);
    let labeled = PULL_REQUEST.replacen(r#""action": "closed""#, r#""action": "labeled""#, 1);
    let labeled = deliver(&stack, &webhook, "pull_request", "p-3", &labeled).await;
    assert_eq!(labeled.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let broken = deliver(&stack, &webhook, "push", "p-4", r#"{"ref":"refs/heads/main"}"#).await;
    assert_eq!(broken.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(broken).await, ErrorCode::MalformedPayload);

    let history = alice.history(channel.id, &Default::default()).await.expect("history");
    assert!(history.data.is_empty(), "nothing posted: {:?}", history.data);
    let log = alice.list_webhook_deliveries(webhook.info.id).await.expect("the log").data;
    let seen: Vec<(u16, Option<ErrorCode>, WebhookFormat, Option<&str>)> =
        log.iter().rev().map(|d| (d.status, d.code, d.format, d.event.as_deref())).collect();
    assert_eq!(
        seen,
        [
            (204, None, WebhookFormat::Github, Some("ping")),
            (422, Some(ErrorCode::UnsupportedEvent), WebhookFormat::Github, Some("issues")),
            (422, Some(ErrorCode::UnsupportedEvent), WebhookFormat::Github, Some("pull_request")),
            (400, Some(ErrorCode::MalformedPayload), WebhookFormat::Github, Some("push")),
        ]
    );
    let refusal = log[2].message.as_deref().expect("a message");
    assert!(refusal.contains("`issues`"), "the refusal names the event: {refusal}");
    assert_eq!(log[3].payload_bytes, u64::try_from(PING.len()).expect("small"));
    stack.stop().await;
}
