//! Typing and presence through the gateway and tui-sm: typing reaches only the channel's
//! other members (and, once a client says what it shows, only for that channel), stops by
//! itself after the configured silence, and is refused for channels the caller cannot
//! see; presence arrives as batched diffs about people who share a community, never as raw
//! heartbeats.

use std::time::Duration;

use ajet_shared::api::ErrorCode;
use ajet_shared::api::wire::{
    Channel, ChannelKind, CreateChannelRequest, CreateCommunityRequest, CreateInviteRequest, CreateMessageRequest,
};
use ajet_shared::client::{ApiClient, ClientError, SseEvent};
use ajet_shared::domain::ids::UserId;
use futures::StreamExt as _;
use futures::stream::BoxStream;
use reqwest::Method;

use crate::skeleton::two_users;
use crate::stack::Stack;

type Sse = BoxStream<'static, Result<SseEvent, ClientError>>;

/// The next event on `stream` (keep-alives are not events), within 10 s.
async fn next_event(stream: &mut Sse) -> SseEvent {
    tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("an event within 10 s")
        .expect("the stream stays open")
        .expect("a well-formed event")
}

/// The events on `stream` before the message `marker` arrives.
async fn events_until(stream: &mut Sse, marker: &str) -> Vec<SseEvent> {
    let mut events = Vec::new();
    loop {
        let event = next_event(stream).await;
        if event.event == "message.created" && event.data.contains(marker) {
            return events;
        }
        events.push(event);
    }
}

async fn say(client: &ApiClient, channel: &Channel, body: &str) {
    let request =
        CreateMessageRequest { body_md: body.into(), parent_id: None, client_msg_id: None, attachment_ids: Vec::new() };
    client.send_message(channel.id, &request).await.expect("sent");
}

async fn user_id(client: &ApiClient) -> UserId {
    client.me().await.expect("me").user.id
}

/// The next typing event on `stream`, skipping others.
async fn next_typing(stream: &mut Sse) -> (String, serde_json::Value) {
    loop {
        let event = next_event(stream).await;
        if event.event.starts_with("typing.") {
            return (event.event, serde_json::from_str(&event.data).expect("json"));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_reaches_only_the_channels_other_members_and_stops_by_itself_after_the_silence() {
    let stack = Stack::start_with(|config| config.typing_expiry_secs = 1).await;
    let (alice, bob, dev) = two_users(&stack).await;
    let community = dev.community_id.expect("community");
    // Carol is in the community but not in #dev.
    let carol = stack.login("carol").await;
    let invite = alice.create_invite(community, &CreateInviteRequest::default()).await.expect("invite");
    carol.accept_invite(&invite.code).await.expect("carol joins");
    let lounge = alice
        .create_channel(community, &CreateChannelRequest { name: "lounge".into(), topic: None, kind: None })
        .await
        .expect("lounge");
    carol.join_channel(lounge.id).await.expect("carol joins lounge");
    bob.join_channel(lounge.id).await.expect("bob joins lounge");
    let (mut bob_stream, mut carol_stream, mut alice_stream) = (
        bob.tui_events(None).await.expect("stream"),
        carol.tui_events(None).await.expect("stream"),
        alice.tui_events(None).await.expect("stream"),
    );
    // Opened streams are registered: a message each sees arrives first.
    say(&alice, &lounge, "streams open").await;
    for stream in [&mut bob_stream, &mut carol_stream, &mut alice_stream] {
        events_until(stream, "streams open").await;
    }

    alice.tui_typing(dev.id, true).await.expect("typing");
    let (event, data) = next_typing(&mut bob_stream).await;
    assert_eq!(event, "typing.started");
    assert_eq!(data["channel_id"], dev.id.to_string());
    assert_eq!(data["user_id"], user_id(&alice).await.to_string());
    assert_eq!(data["display_name"], "alice", "clients need no lookup to say who types");
    // Alice says nothing more: the stream core announces the stop after the silence.
    let (event, data) = next_typing(&mut bob_stream).await;
    assert_eq!((event.as_str(), &data["channel_id"]), ("typing.stopped", &serde_json::json!(dev.id)));

    // Neither the typist nor a non-member of the channel got any of it.
    say(&alice, &lounge, "after typing").await;
    for (who, stream) in [("carol", &mut carol_stream), ("alice", &mut alice_stream)] {
        let typing: Vec<String> = events_until(stream, "after typing")
            .await
            .into_iter()
            .map(|e| e.event)
            .filter(|e| e.starts_with("typing."))
            .collect();
        assert!(typing.is_empty(), "{who} got {typing:?}");
    }

    // Focus: Bob's client shows #lounge, so typing in #dev no longer reaches it.
    bob.tui_focus(Some(lounge.id)).await.expect("focus");
    alice.tui_typing(dev.id, true).await.expect("typing");
    alice.tui_typing(lounge.id, true).await.expect("typing");
    let (_, data) = next_typing(&mut bob_stream).await;
    assert_eq!(data["channel_id"], lounge.id.to_string(), "only the focused channel's typing");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_and_focus_refuse_channels_the_caller_cannot_see_and_malformed_requests() {
    let stack = Stack::start().await;
    let (alice, bob, dev) = two_users(&stack).await;
    let request = CreateChannelRequest { name: "secret".into(), topic: None, kind: Some(ChannelKind::Private) };
    let secret = alice.create_channel(dev.community_id.expect("community"), &request).await.expect("private");
    // Before any stream of Bob's is open (a closed one is noticed only when its body ends).
    let no_stream = bob.tui_focus(Some(dev.id)).await.expect_err("focus needs an open stream");
    assert_eq!(no_stream.code(), Some(ErrorCode::NoOpenStream));
    // Without a stream here, tui-sm asks the api what Bob may see; with one, its stream knows.
    for with_stream in [false, true] {
        let _stream = if with_stream { Some(bob.tui_events(None).await.expect("stream")) } else { None };
        let refused = bob.tui_typing(secret.id, true).await.expect_err("not a member");
        assert_eq!(
            (refused.status().map(|s| s.as_u16()), refused.code()),
            (Some(404), Some(ErrorCode::ChannelNotFound))
        );
        bob.tui_typing(dev.id, false).await.expect("a member may");
    }
    let _stream = bob.tui_events(None).await.expect("stream");
    let hidden = bob.tui_focus(Some(secret.id)).await.expect_err("not a member");
    assert_eq!(hidden.code(), Some(ErrorCode::ChannelNotFound));
    let misspelt = bob
        .request(Method::POST, "/tui/typing")
        .json(&serde_json::json!({"channel_id": dev.id, "typing": true, "typnig": false}))
        .send()
        .await
        .expect("answer");
    assert_eq!(misspelt.status(), 400);
    let body: serde_json::Value = misspelt.json().await.expect("json");
    assert_eq!(body["error"]["code"], "unknown_field", "{body}");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_arrives_as_one_batched_diff_about_people_sharing_a_community_never_raw_heartbeats() {
    let stack = Stack::start_with(|config| config.presence_interval_secs = 1).await;
    let (alice, bob, dev) = two_users(&stack).await;
    // Dave is in another community only.
    let dave = stack.login("dave").await;
    dave.create_community(&CreateCommunityRequest {
        name: "Elsewhere".into(),
        slug: "elsewhere".into(),
        description: None,
    })
    .await
    .expect("community");
    let mut stream = bob.tui_events(None).await.expect("stream");
    say(&alice, &dev, "stream open").await;
    events_until(&mut stream, "stream open").await;
    for _ in 0..3 {
        alice.heartbeat().await.expect("heartbeat");
        dave.heartbeat().await.expect("heartbeat");
    }
    let alice_id = user_id(&alice).await;
    let diff = loop {
        let event = next_event(&mut stream).await;
        if event.event == "presence.changed" {
            break serde_json::from_str::<serde_json::Value>(&event.data).expect("json");
        }
    };
    assert_eq!(diff["online"], serde_json::json!([alice_id]), "Alice only, once, not Dave: {diff}");
    assert_eq!(diff["offline"], serde_json::json!([]));
    // More heartbeats of someone already online change nothing: the next diff is about
    // Carol, who comes online now, only.
    let carol = stack.login("carol").await;
    let invite = alice
        .create_invite(dev.community_id.expect("community"), &CreateInviteRequest::default())
        .await
        .expect("invite");
    carol.accept_invite(&invite.code).await.expect("carol joins");
    alice.heartbeat().await.expect("heartbeat");
    carol.heartbeat().await.expect("heartbeat");
    let next = loop {
        let event = next_event(&mut stream).await;
        if event.event == "presence.changed" {
            break serde_json::from_str::<serde_json::Value>(&event.data).expect("json");
        }
        assert!(!event.event.starts_with("presence"), "only diffs, never heartbeats: {}", event.event);
    };
    assert_eq!(next["online"], serde_json::json!([user_id(&carol).await]), "{next}");
    stack.stop().await;
}
