//! DM events: opening a DM and every write in it travel on `chat.dm.<id>` (and the opening
//! on each member's own subject), with the data a client renders; a third user of the same
//! community replaying the terminal stream from before the DM through the gateway gets
//! none of them, while a DM member's replay brings them.

use std::time::Duration;

use ajet_shared::api::wire::{
    Channel, ChannelKind, CreateDmRequest, CreateInviteRequest, CreateMessageRequest, Message, NotificationKind,
    UpdateMessageRequest,
};
use ajet_shared::client::ApiClient;
use ajet_shared::events::{Event, EventPayload, StreamPosition, subject};
use futures::StreamExt as _;
use reqwest::{Method, StatusCode};

use crate::skeleton::two_users;
use crate::stack::Stack;

/// The last text posted: a replay that shows it has shown everything before it.
const BARRIER: &str = "barrier-DMX";

/// The next event on the bus, with its subject.
async fn next(bus: &mut async_nats::Subscriber) -> (String, Event) {
    let message =
        tokio::time::timeout(Duration::from_secs(10), bus.next()).await.expect("an event in time").expect("open");
    let event: Event = serde_json::from_slice(&message.payload).expect("an envelope");
    (message.subject.to_string(), event)
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

async fn write(client: &ApiClient, method: Method, path: &str, body: Option<serde_json::Value>) {
    let mut request = client.request(method.clone(), path);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("answers");
    assert!(response.status().is_success(), "{method} {path}: {}", response.status());
}

/// The raw bytes of `/tui/events` replayed after `position`, read until `BARRIER` shows.
async fn replay_bytes(client: &ApiClient, position: &str) -> String {
    let response = client
        .request(Method::GET, "/tui/events")
        .header("accept", "text/event-stream")
        .header("last-event-id", position)
        .send()
        .await
        .expect("the stream opens");
    assert_eq!(response.status(), StatusCode::OK);
    let mut chunks = response.bytes_stream();
    let mut raw = Vec::new();
    while !String::from_utf8_lossy(&raw).contains(BARRIER) {
        let chunk = tokio::time::timeout(Duration::from_secs(30), chunks.next())
            .await
            .expect("the replay reaches the barrier within 30 s")
            .expect("the stream stays open")
            .expect("readable");
        raw.extend_from_slice(&chunk);
    }
    String::from_utf8(raw).expect("UTF-8")
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dm_events_reach_the_dm_subject_with_their_data_and_nobody_outside_on_replay() {
    let stack = Stack::start().await;
    let (alice, bob, public) = two_users(&stack).await;
    let alice_id = alice.me().await.expect("me").user.id;
    let bob_id = bob.me().await.expect("me").user.id;
    // Carol shares the community and the public channel, but not the DM.
    let carol = stack.login("carol").await;
    let community = public.community_id.expect("a community channel");
    let invite = alice.create_invite(community, &CreateInviteRequest::default()).await.expect("invite");
    carol.accept_invite(&invite.code).await.expect("carol joins the community");
    carol.join_channel(public.id).await.expect("carol joins the channel");

    // A position before the DM exists, from a live stream. Once the last write before the
    // DM has come through, the relay has published everything before it, so the bus is
    // quiet when the subscription below starts.
    let mut live = carol.sse("/tui/events", None).await.expect("stream opens");
    send(&alice, &public, "before the dm").await;
    let first = loop {
        let event = tokio::time::timeout(Duration::from_secs(30), live.next())
            .await
            .expect("an event within 30 s")
            .expect("the stream stays open")
            .expect("well-formed");
        if event.data.contains("before the dm") {
            break event;
        }
    };
    let epoch = first.id.parse::<StreamPosition>().expect("a stream position").epoch;
    let before_the_dm = StreamPosition { epoch, seq: 0 }.to_string();

    let nats = async_nats::connect(stack.nats.url()).await.expect("connect");
    let mut bus = nats.subscribe("chat.>").await.expect("subscribe");
    nats.flush().await.expect("flush");

    let opened = alice
        .request(Method::POST, "/api/dms")
        .json(&CreateDmRequest { user_ids: vec![bob_id] })
        .send()
        .await
        .expect("answers");
    assert_eq!(opened.status(), StatusCode::CREATED);
    let dm: Channel = opened.json().await.expect("the DM");
    assert_eq!((dm.kind, dm.community_id), (ChannelKind::Dm, None));
    let dm_subject = subject::dm(dm.id);

    // Opening: the DM's creation on its subject, then each member told on their own
    // subject and on the DM's.
    let (subject, event) = next(&mut bus).await;
    assert_eq!(subject, dm_subject);
    assert!(matches!(&event.payload, EventPayload::ChannelCreated(c) if c.id == dm.id && c.kind == ChannelKind::Dm));
    assert_eq!((event.channel_id, event.community_id, event.actor_id), (Some(dm.id), None, Some(alice_id)));
    let mut joined = Vec::new();
    for _ in 0..4 {
        let (subject, event) = next(&mut bus).await;
        let EventPayload::MemberJoined(member) = event.payload else { panic!("expected member.joined on {subject}") };
        assert_eq!(member.channel_id, Some(dm.id));
        joined.push((subject, member.user.id));
    }
    joined.sort();
    let mut expected = vec![
        (dm_subject.clone(), alice_id),
        (dm_subject.clone(), bob_id),
        (subject::notifications(alice_id), alice_id),
        (subject::notifications(bob_id), bob_id),
    ];
    expected.sort();
    assert_eq!(joined, expected, "each member learns of the DM on their own subject and on the DM's");

    // Every write in the DM: on the DM's subject only, with its data.
    let secret = send(&bob, &dm, "dm-secret-RFV").await;
    let (subject, event) = next(&mut bus).await;
    assert_eq!(subject, dm_subject);
    assert_eq!((event.channel_id, event.community_id, event.actor_id), (Some(dm.id), None, Some(bob_id)));
    let EventPayload::MessageCreated(message) = event.payload else { panic!("expected message.created") };
    assert_eq!((message.id, message.body_md.as_str()), (secret.id, "dm-secret-RFV"));
    assert_eq!(message.author.user_id, Some(bob_id));
    // The other member's notification follows, on their own subject only.
    let (subject, event) = next(&mut bus).await;
    assert_eq!(subject, subject::notifications(alice_id));
    let EventPayload::NotificationCreated(notification) = event.payload else {
        panic!("expected notification.created")
    };
    assert_eq!((notification.message_id, notification.kind), (Some(secret.id), NotificationKind::Dm));

    let on = |path: &str| format!("/api/messages/{}{path}", secret.id);
    let writes: Vec<(Method, String, Option<serde_json::Value>, &str)> = vec![
        (Method::PUT, on("/reactions/%F0%9F%8E%89"), None, "reaction.added"),
        (Method::DELETE, on("/reactions/%F0%9F%8E%89"), None, "reaction.removed"),
        (Method::PUT, on("/pin"), None, "pin.added"),
        (Method::DELETE, on("/pin"), None, "pin.removed"),
    ];
    for (method, path, body, expected) in writes {
        write(&alice, method.clone(), &path, body).await;
        let (subject, event) = next(&mut bus).await;
        assert_eq!((subject.as_str(), event.payload.type_name()), (dm_subject.as_str(), expected), "{method} {path}");
        assert_eq!((event.channel_id, event.actor_id), (Some(dm.id), Some(alice_id)));
        match event.payload {
            EventPayload::ReactionAdded(change) | EventPayload::ReactionRemoved(change) => {
                assert_eq!((change.message_id, change.channel_id, change.user_id), (secret.id, dm.id, alice_id));
                assert_eq!(change.emoji, "🎉");
            }
            EventPayload::PinAdded(change) | EventPayload::PinRemoved(change) => {
                assert_eq!((change.message_id, change.channel_id, change.by), (secret.id, dm.id, alice_id));
            }
            other => panic!("unexpected {}", other.type_name()),
        }
    }
    write(
        &bob,
        Method::PATCH,
        &on(""),
        Some(serde_json::to_value(UpdateMessageRequest { body_md: "dm-edited-TGB".into() }).expect("json")),
    )
    .await;
    let (subject, event) = next(&mut bus).await;
    assert_eq!(subject, dm_subject);
    let EventPayload::MessageUpdated(message) = event.payload else { panic!("expected message.updated") };
    assert_eq!((message.id, message.body_md.as_str()), (secret.id, "dm-edited-TGB"));
    assert!(message.edited_at.is_some());
    let kept = send(&alice, &dm, "dm-kept-YHN").await;
    let (subject, _) = next(&mut bus).await;
    assert_eq!(subject, dm_subject);
    let (subject, _) = next(&mut bus).await;
    assert_eq!(subject, subject::notifications(bob_id), "bob's notification of it");
    write(&bob, Method::DELETE, &on(""), None).await;
    let (subject, event) = next(&mut bus).await;
    assert_eq!(subject, dm_subject);
    let EventPayload::MessageDeleted(deleted) = event.payload else { panic!("expected message.deleted") };
    assert_eq!((deleted.id, deleted.channel_id, deleted.parent_id), (secret.id, dm.id, None));

    send(&alice, &public, BARRIER).await;

    // Carol replays from before the DM: the public channel's messages, nothing of the DM.
    let raw = replay_bytes(&carol, &before_the_dm).await;
    assert!(raw.contains("before the dm"), "the replay covers the DM's time:\n{raw}");
    for text in [dm.id.to_string(), kept.id.to_string(), secret.id.to_string(), "dm-".to_owned()] {
        assert!(!raw.contains(&text), "carol's replay shows {text} of a DM she is not in:\n{raw}");
    }
    let events = events_of(&raw);
    assert!(events.iter().all(|(_, event)| event.channel_id != Some(dm.id)));

    // Bob's replay from the same point brings the DM: its creation, the kept message and
    // the deleted one's tombstone.
    let raw = replay_bytes(&bob, &before_the_dm).await;
    let events = events_of(&raw);
    let in_dm: Vec<&str> =
        events.iter().filter(|(_, event)| event.channel_id == Some(dm.id)).map(|(kind, _)| kind.as_str()).collect();
    assert!(in_dm.contains(&"channel.created"), "bob's replay brings the DM's creation: {in_dm:?}");
    assert!(
        events.iter().any(|(_, event)| matches!(&event.payload, EventPayload::MessageCreated(m) if m.id == kept.id)),
        "bob's replay brings the DM's messages: {in_dm:?}"
    );
    assert!(
        events.iter().any(|(_, event)| matches!(&event.payload, EventPayload::MessageDeleted(d) if d.id == secret.id)),
        "bob's replay brings the tombstone: {in_dm:?}"
    );
    stack.stop().await;
}
