//! Link previews through the gateway: a message linking to a local page (reached through
//! the test-only `link_preview_allow_hosts`) gets its OpenGraph preview as a
//! `message.updated` on another member's terminal stream within 5 s and in the message
//! itself, without the page's image (never hot-linked); a link in angle brackets is never
//! fetched; an edit clears the previews; a webhook's post gets previews too; a community
//! whose admins switched previews off has nothing fetched.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ajet_shared::api::wire::{
    Channel, CreateMessageRequest, CreateWebhookRequest, LinkPreview, Message, UpdateCommunityRequest,
};
use ajet_shared::client::ApiClient;
use ajet_shared::client::{ClientError, SseEvent};
use ajet_shared::domain::ids::MessageId;
use ajet_shared::events::{Event, EventMessage, EventPayload};
use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use futures::StreamExt as _;
use futures::stream::BoxStream;
use tokio::time::Instant;

use crate::skeleton::two_users;
use crate::stack::Stack;

const ARTICLE: &str = r#"<!doctype html><html><head><title>ignored</title>
<meta property="og:title" content="An article">
<meta property="og:description" content="What the article says.">
<meta property="og:site_name" content="Local News">
<meta property="og:image" content="/card.png">
</head><body>text</body></html>"#;

/// A local page server; `quiet` counts requests for the page that must not be fetched.
async fn serve_pages(quiet: Arc<AtomicUsize>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let html = |body: &'static str| ([(header::CONTENT_TYPE, "text/html")], body).into_response();
    let app = Router::new().route("/article", get(move || async move { html(ARTICLE) })).route(
        "/quiet",
        get(move || async move {
            quiet.fetch_add(1, Ordering::SeqCst);
            html(ARTICLE)
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

async fn send(client: &ApiClient, channel: &Channel, body: &str) -> Message {
    client
        .send_message(
            channel.id,
            &CreateMessageRequest {
                body_md: body.into(),
                parent_id: None,
                client_msg_id: None,
                attachment_ids: Vec::new(),
            },
        )
        .await
        .expect("sent")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_linked_pages_preview_reaches_the_stream_and_the_message_but_not_for_a_link_in_angle_brackets() {
    let quiet = Arc::new(AtomicUsize::new(0));
    let pages = serve_pages(Arc::clone(&quiet)).await;
    let stack = Stack::start_with(|config| config.link_preview_allow_hosts = vec!["127.0.0.1".to_owned()]).await;
    let (alice, bob, channel) = two_users(&stack).await;
    let mut stream = bob.tui_events(None).await.expect("stream opens");

    // The worker takes messages in order, so once the second's preview is out the first
    // has been handled: it must have fetched nothing.
    let opted_out = send(&alice, &channel, &format!("no preview please: <http://{pages}/quiet>")).await;
    let link = format!("http://{pages}/article");
    let sent = send(&alice, &channel, &format!("read this: {link}.")).await;
    assert!(sent.link_previews.is_empty(), "previews come after the post");

    let deadline = Instant::now() + Duration::from_secs(5);
    let mut updates: Vec<EventMessage> = Vec::new();
    let updated = loop {
        let event = tokio::time::timeout_at(deadline, stream.next())
            .await
            .expect("the preview arrives within 5 s")
            .expect("the stream stays open")
            .expect("a well-formed event");
        if event.event != "message.updated" {
            continue;
        }
        let envelope: Event = serde_json::from_str(&event.data).expect("an envelope");
        let EventPayload::MessageUpdated(message) = envelope.payload else { panic!("type and payload disagree") };
        if message.id == sent.id {
            break message;
        }
        updates.push(message);
    };
    let expected = vec![LinkPreview {
        url: link.clone(),
        title: Some("An article".to_owned()),
        description: Some("What the article says.".to_owned()),
        site_name: Some("Local News".to_owned()),
        // The page names an image; it is dropped, never handed to clients to hot-link.
        image_url: None,
    }];
    assert_eq!(updated.link_previews, expected);
    assert_eq!(updated.body_md, sent.body_md, "the update is the same message");

    assert!(updates.iter().all(|m| m.id != opted_out.id), "no update for the opted-out link");
    assert_eq!(quiet.load(Ordering::SeqCst), 0, "a link in angle brackets is never fetched");
    assert_eq!(bob.get_message(sent.id).await.expect("the message").link_previews, expected);
    assert!(bob.get_message(opted_out.id).await.expect("the message").link_previews.is_empty());

    // An edit replaces the text, so the previews of the old text go with it.
    let edited = alice.update_message(sent.id, "never mind").await.expect("edited");
    assert!(edited.link_previews.is_empty(), "an edit clears the previews");
    assert!(bob.get_message(sent.id).await.expect("the message").link_previews.is_empty());
    stack.stop().await;
}

type Sse = BoxStream<'static, Result<SseEvent, ClientError>>;

/// Waits (15 s at most: the preview is fetched from a page server, then published, on a
/// loaded CI machine) for the event `kind` of message `id` on `stream`; returns its message.
async fn event_of(stream: &mut Sse, kind: &str, id: MessageId) -> EventMessage {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let event = tokio::time::timeout_at(deadline, stream.next())
            .await
            .expect("the event arrives within 15 s")
            .expect("the stream stays open")
            .expect("a well-formed event");
        if event.event != kind {
            continue;
        }
        let envelope: Event = serde_json::from_str(&event.data).expect("an envelope");
        let (EventPayload::MessageCreated(message) | EventPayload::MessageUpdated(message)) = envelope.payload else {
            continue;
        };
        if message.id == id {
            return message;
        }
    }
}

/// The previews of message `id` as its `message.updated` brings them on `stream`, within 5 s.
async fn previews_of(stream: &mut Sse, id: MessageId) -> Vec<LinkPreview> {
    event_of(stream, "message.updated", id).await.link_previews
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhooks_post_gets_previews_and_a_community_with_previews_off_has_nothing_fetched() {
    let quiet = Arc::new(AtomicUsize::new(0));
    let pages = serve_pages(Arc::clone(&quiet)).await;
    let stack = Stack::start_with(|config| config.link_preview_allow_hosts = vec!["127.0.0.1".to_owned()]).await;
    let (alice, bob, channel) = two_users(&stack).await;
    let community = channel.community_id.expect("a community channel");
    let mut stream = bob.tui_events(None).await.expect("stream opens");
    let request = CreateWebhookRequest { channel_id: channel.id, name: "CI".into(), avatar_url: None };
    let webhook = alice.create_webhook(&request).await.expect("webhook");
    let link = format!("http://{pages}/article");
    let text = format!("release notes: {link}");
    let payload = serde_json::json!({ "text": text });
    let posted = stack.gateway.post_webhook(webhook.info.id, &webhook.token, &payload).await.expect("posted");
    let previews = previews_of(&mut stream, posted.id).await;
    assert_eq!(
        previews.iter().map(|p| (p.url.as_str(), p.title.as_deref())).collect::<Vec<_>>(),
        [(link.as_str(), Some("An article"))]
    );

    // Bob, a member, cannot switch previews off; Alice, the owner, can.
    let off = UpdateCommunityRequest { link_previews: Some(false), ..Default::default() };
    let refused = bob.update_community(community, &off).await.expect_err("not an admin");
    assert_eq!(refused.code(), Some(ajet_shared::api::ErrorCode::AdminOnly));
    let updated = alice.update_community(community, &off).await.expect("switched off");
    assert!(!updated.link_previews);
    assert!(
        !bob.list_communities().await.expect("communities").data.iter().any(|c| c.id == community && c.link_previews),
        "members see the switch"
    );
    let unpreviewed = send(&alice, &channel, &format!("off now: http://{pages}/quiet")).await;
    let hooked = format!("and http://{pages}/quiet");
    let payload = serde_json::json!({ "text": hooked });
    let hooked = stack.gateway.post_webhook(webhook.info.id, &webhook.token, &payload).await.expect("posted");
    // The relay hands the webhook's post to the worker when it publishes it; then a DM,
    // which has no community and keeps previews: once its preview is out, the worker has
    // passed the two posts before it.
    event_of(&mut stream, "message.created", hooked.id).await;
    let bob_id = bob.me().await.expect("me").user.id;
    let dm = alice.open_dm(&[bob_id]).await.expect("dm");
    // Bob's stream widens to the new DM with a `resync` (a client refetches then): until
    // it has, the DM's events are not his stream's, and on a loaded machine the preview
    // can be fetched and published before the widening's access check has answered.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let event = tokio::time::timeout_at(deadline, stream.next())
            .await
            .expect("the stream widens within 15 s")
            .expect("the stream stays open")
            .expect("a well-formed event");
        if event.event == "resync" {
            break;
        }
    }
    let in_dm = send(&alice, &dm, &format!("see {link}")).await;
    assert_eq!(previews_of(&mut stream, in_dm.id).await.len(), 1);
    assert_eq!(quiet.load(Ordering::SeqCst), 0, "nothing fetched for a community with previews off");
    for id in [unpreviewed.id, hooked.id] {
        assert!(bob.get_message(id).await.expect("the message").link_previews.is_empty());
    }
    stack.stop().await;
}
