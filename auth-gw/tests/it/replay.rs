//! Replays never bring back removed text: after posts, edits (of a root and of a thread
//! reply), deletes (by the author, of a reply, and of a webhook's post by an admin), a
//! `Last-Event-ID` replay from before the first of them, through the gateway, holds no
//! deleted body and no pre-edit text anywhere in its raw bytes (nor in the notifications of
//! the mentioned), yet brings each message's
//! current version and the deletions' tombstones; a member who joins afterwards gets the
//! same, and the replay then goes on live. A purge is one `messages.purged` event that
//! removes the text of every message it names the same way.

use std::time::{Duration, Instant};

use ajet_shared::MessageId;
use ajet_shared::api::ErrorCode;
use ajet_shared::api::paths;
use ajet_shared::api::wire::{AuditQuery, Channel, CreateInviteRequest, CreateMessageRequest, Message, PurgeRequest};
use ajet_shared::auth::hash_token;
use ajet_shared::client::ApiClient;
use ajet_shared::db::webhooks::{self, NewWebhook};
use ajet_shared::events::{Event, EventPayload, StreamPosition};
use futures::StreamExt as _;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::skeleton::two_users;
use crate::stack::Stack;

const HOOK_TOKEN: &str = "whk_replay-token-0123456789";

/// Texts that must not survive in the stream.
const REMOVED: [&str; 6] =
    ["gone-text-ZQX", "first-draft-KJH", "second-draft-BNM", "reply-draft-PLM", "reply-gone-QAZ", "hook-gone-EDC"];
/// The last text posted: a replay that shows it has shown everything before it.
const BARRIER: &str = "barrier-UIO";

async fn send(client: &ApiClient, channel: &Channel, body: &str, parent: Option<MessageId>) -> Message {
    client
        .send_message(
            channel.id,
            &CreateMessageRequest {
                body_md: body.into(),
                parent_id: parent,
                client_msg_id: None,
                attachment_ids: Vec::new(),
            },
        )
        .await
        .expect("sent")
}

async fn edit(client: &ApiClient, message: &Message, body: &str) {
    let edited = client.update_message(message.id, body).await.expect("edited");
    assert_eq!(edited.body_md, body);
}

async fn delete(client: &ApiClient, message: &Message) {
    client.delete_message(message.id).await.unwrap_or_else(|err| panic!("delete of {}: {err}", message.body_md));
}

/// The raw bytes of `/tui/events` replayed after `position`, read until `BARRIER` shows
/// (read by hand: the test inspects every byte sent, not just parsed events).
async fn replay_bytes(client: &ApiClient, position: &str) -> String {
    let response = client
        .request(Method::GET, paths::TUI_EVENTS)
        .header("accept", "text/event-stream")
        .header("last-event-id", position)
        .send()
        .await
        .expect("the stream opens");
    assert_eq!(response.status(), StatusCode::OK);
    let mut chunks = response.bytes_stream();
    let mut raw = Vec::new();
    // Until the barrier's whole frame is in (a chunk may end inside it).
    while !(String::from_utf8_lossy(&raw).contains(BARRIER) && raw.ends_with(b"\n\n")) {
        let chunk = tokio::time::timeout(Duration::from_secs(30), chunks.next())
            .await
            .expect("the replay reaches the barrier within 30 s")
            .expect("the stream stays open")
            .expect("readable");
        raw.extend_from_slice(&chunk);
    }
    String::from_utf8(raw).expect("UTF-8")
}

/// The replay after `position` once the relay has removed the superseded events (it does so
/// right after publishing the edit or delete, so a live client may see the edit a moment
/// earlier): polled until none of `removed` shows, for at most 15 s.
async fn settled_replay(client: &ApiClient, position: &str, removed: &[&str]) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let raw = replay_bytes(client, position).await;
        let left: Vec<&str> = removed.iter().copied().filter(|text| raw.contains(text)).collect();
        if left.is_empty() {
            return raw;
        }
        assert!(Instant::now() < deadline, "a replay still yields removed text {left:?}:\n{raw}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The `(event type, envelope)` pairs of raw SSE bytes.
fn events_of(raw: &str) -> Vec<(String, Event)> {
    raw.split("\n\n")
        .filter_map(|block| {
            let kind = block.lines().find_map(|line| line.strip_prefix("event: "))?;
            let data = block.lines().find_map(|line| line.strip_prefix("data: "))?;
            let envelope = serde_json::from_str(data).ok()?;
            Some((kind.to_owned(), envelope))
        })
        .collect()
}

/// The replay holds the current versions and the tombstones, and nothing removed.
fn assert_only_current(raw: &str, who: &str, current: &[(&Message, &str)], deleted: &[&Message]) {
    for text in REMOVED {
        assert!(!raw.contains(text), "{who}'s replay holds removed text {text}");
    }
    let events = events_of(raw);
    for (message, body) in current {
        let found = events.iter().any(|(_, event)| {
            matches!(&event.payload, EventPayload::MessageCreated(m) | EventPayload::MessageUpdated(m)
                if m.id == message.id && m.body_md == *body)
        });
        assert!(found, "{who}'s replay brings {body} as the current version of {}", message.id);
    }
    for message in deleted {
        let tombstone = events.iter().any(|(kind, event)| {
            kind == "message.deleted" && matches!(&event.payload, EventPayload::MessageDeleted(d) if d.id == message.id)
        });
        assert!(tombstone, "{who}'s replay brings the tombstone of {}", message.id);
        let carried = events.iter().any(|(_, event)| {
            matches!(&event.payload, EventPayload::MessageCreated(m) | EventPayload::MessageUpdated(m) if m.id == message.id)
        });
        assert!(!carried, "{who}'s replay brings no version of deleted {}", message.id);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_yields_no_deleted_or_pre_edit_text_only_current_versions_and_tombstones() {
    let stack = Stack::start().await;
    let (alice, bob, channel) = two_users(&stack).await;
    let mut live = bob.tui_events(None).await.expect("stream opens");
    let webhook = webhooks::insert(
        &stack.db.pool,
        &NewWebhook {
            community: channel.community_id.expect("a community channel"),
            channel: channel.id,
            name: "CI",
            avatar_url: None,
            token_hash: &hash_token(HOOK_TOKEN),
            created_by: Some(alice.me().await.expect("me").user.id),
        },
    )
    .await
    .expect("webhook row");

    // Both mention Bob: his notifications must not carry their text into his replay either.
    let gone = send(&alice, &channel, "@bob gone-text-ZQX", None).await;
    let first = tokio::time::timeout(Duration::from_secs(30), live.next())
        .await
        .expect("an event within 30 s")
        .expect("the stream stays open")
        .expect("well-formed");
    let epoch = first.id.parse::<StreamPosition>().expect("a stream position").epoch;
    let before_everything = StreamPosition { epoch, seq: 0 }.to_string();

    let root = send(&alice, &channel, "@bob first-draft-KJH", None).await;
    edit(&alice, &root, "second-draft-BNM").await;
    edit(&alice, &root, "final-text-WVU").await;
    let reply = send(&bob, &channel, "reply-draft-PLM", Some(root.id)).await;
    edit(&bob, &reply, "reply-final-RTY").await;
    let gone_reply = send(&bob, &channel, "reply-gone-QAZ", Some(root.id)).await;
    delete(&bob, &gone_reply).await;
    let hook_post =
        stack.gateway.post_webhook(webhook.id, HOOK_TOKEN, &json!({"text": "hook-gone-EDC"})).await.expect("posted");
    assert_eq!(hook_post.body_md, "hook-gone-EDC");
    delete(&alice, &hook_post).await;
    delete(&alice, &gone).await;
    let barrier = send(&alice, &channel, BARRIER, None).await;

    let current = [(&root, "final-text-WVU"), (&reply, "reply-final-RTY"), (&barrier, BARRIER)];
    let deleted = [&gone, &gone_reply, &hook_post];
    let raw = settled_replay(&bob, &before_everything, &REMOVED).await;
    assert_only_current(&raw, "bob", &current, &deleted);

    // Carol joins afterwards and replays from the same point: the same, and nothing more.
    let carol = stack.login("carol").await;
    let community = channel.community_id.expect("a community channel");
    let invite = alice.create_invite(community, &CreateInviteRequest::default()).await.expect("invite");
    carol.accept_invite(&invite.code).await.expect("carol joins the community");
    carol.join_channel(channel.id).await.expect("carol joins the channel");
    let raw = replay_bytes(&carol, &before_everything).await;
    assert_only_current(&raw, "carol", &current, &deleted);

    // The replay ends where the stream ends, although events were removed under it, and
    // the connection goes on live.
    let mut resumed = carol.tui_events(Some(&before_everything)).await.expect("stream opens");
    let after = send(&alice, &channel, "live-after-replay", None).await;
    loop {
        let event = tokio::time::timeout(Duration::from_secs(30), resumed.next())
            .await
            .expect("an event within 30 s")
            .expect("the stream goes on live after the replay")
            .expect("well-formed");
        if event.data.contains("live-after-replay") {
            let envelope: Event = serde_json::from_str(&event.data).expect("an envelope");
            assert!(matches!(envelope.payload, EventPayload::MessageCreated(m) if m.id == after.id));
            break;
        }
    }
    stack.stop().await;
}

/// Texts a purge deletes.
const PURGED: [&str; 3] = ["purged-root-YHN", "purged-reply-UJM", "purged-last-IKL"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purge_is_one_event_and_no_replay_or_catch_up_brings_back_any_purged_text() {
    let stack = Stack::start().await;
    let (alice, bob, channel) = two_users(&stack).await;
    let mut live = bob.tui_events(None).await.expect("stream opens");
    let kept = send(&alice, &channel, "kept-text-TGB", None).await;
    let first = tokio::time::timeout(Duration::from_secs(30), live.next())
        .await
        .expect("an event within 30 s")
        .expect("the stream stays open")
        .expect("well-formed");
    let epoch = first.id.parse::<StreamPosition>().expect("a stream position").epoch;
    let before_everything = StreamPosition { epoch, seq: 0 }.to_string();

    let root = send(&bob, &channel, PURGED[0], None).await;
    let file = bob.upload_attachment(channel.id, "purged.txt", b"purged file").await.expect("uploaded");
    let reply = bob
        .send_message(
            channel.id,
            &CreateMessageRequest {
                body_md: PURGED[1].into(),
                parent_id: Some(root.id),
                client_msg_id: None,
                attachment_ids: vec![file.id],
            },
        )
        .await
        .expect("reply");
    let last = send(&bob, &channel, PURGED[2], None).await;

    // Only an admin purges, 1 to 1000 at a time.
    let refusal = |count| PurgeRequest { count, reason: None };
    let err = bob.purge_channel(channel.id, &refusal(1)).await.expect_err("a member");
    assert_eq!(err.code(), Some(ErrorCode::AdminOnly));
    for count in [0, 1001] {
        let err = alice.purge_channel(channel.id, &refusal(count)).await.expect_err("out of range");
        assert_eq!(err.code(), Some(ErrorCode::InvalidCount), "{count}");
    }

    let request = PurgeRequest { count: 3, reason: Some("spam".into()) };
    let purged = alice.purge_channel(channel.id, &request).await.expect("purged");
    assert_eq!(purged.channel_id, channel.id);
    assert_eq!(purged.ids, vec![root.id, reply.id, last.id], "the three newest, oldest first");
    // The live stream hears one event naming them all.
    let heard = loop {
        let event = tokio::time::timeout(Duration::from_secs(30), live.next())
            .await
            .expect("an event within 30 s")
            .expect("the stream stays open")
            .expect("well-formed");
        if event.event == "messages.purged" {
            let envelope: Event = serde_json::from_str(&event.data).expect("an envelope");
            let EventPayload::MessagesPurged(heard) = envelope.payload else { panic!("type and payload disagree") };
            break heard;
        }
    };
    assert_eq!(heard, purged);
    for id in &purged.ids {
        let tombstone = bob.get_message(*id).await.expect("a tombstone");
        assert!(tombstone.deleted_at.is_some() && tombstone.body_md.is_empty(), "{id}");
    }
    assert!(bob.get_message(kept.id).await.expect("kept").deleted_at.is_none(), "older messages stay");
    let err = alice.download_attachment(file.id).await.expect_err("a purged message's file");
    assert_eq!(err.code(), Some(ErrorCode::AttachmentNotFound));
    let community = channel.community_id.expect("a community channel");
    let audit = alice
        .audit_log(community, &AuditQuery { action: Some("channel.purge".into()), ..AuditQuery::default() })
        .await
        .expect("audit");
    assert_eq!(audit.data.len(), 1, "one audit row");
    let barrier = send(&alice, &channel, BARRIER, None).await;

    // A replay from before the posts, and a member joining afterwards, get the tombstones
    // (the purge) and no purged text.
    let check = |raw: &str, who: &str| {
        for text in PURGED {
            assert!(!raw.contains(text), "{who}'s replay holds purged text {text}");
        }
        let events = events_of(raw);
        let carried = events.iter().any(|(_, event)| {
            matches!(&event.payload, EventPayload::MessageCreated(m) | EventPayload::MessageUpdated(m)
                if purged.ids.contains(&m.id))
        });
        assert!(!carried, "{who}'s replay brings no version of a purged message");
        let tombstones = events.iter().any(|(kind, event)| {
            kind == "messages.purged" && matches!(&event.payload, EventPayload::MessagesPurged(p) if *p == purged)
        });
        assert!(tombstones, "{who}'s replay brings the purge");
        for body in ["kept-text-TGB", BARRIER] {
            assert!(raw.contains(body), "{who}'s replay brings {body}");
        }
    };
    let raw = settled_replay(&bob, &before_everything, &PURGED).await;
    check(&raw, "bob");
    let carol = stack.login("carol").await;
    let invite = alice.create_invite(community, &CreateInviteRequest::default()).await.expect("invite");
    carol.accept_invite(&invite.code).await.expect("carol joins the community");
    carol.join_channel(channel.id).await.expect("carol joins the channel");
    let raw = replay_bytes(&carol, &before_everything).await;
    check(&raw, "carol");
    assert!(raw.contains(&barrier.id.to_string()));
    stack.stop().await;
}
