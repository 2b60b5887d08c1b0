//! Live streams follow access changes: removed from a private channel, a user stops
//! receiving its events within one re-check; invited into a community, they start.

use std::time::{Duration, Instant};

use ajet_shared::api::wire::{
    ChannelKind, CreateChannelRequest, CreateCommunityRequest, CreateInviteRequest, CreateMessageRequest,
};
use ajet_shared::client::{ClientError, SseEvent};
use ajet_shared::events::{Event, EventPayload};
use futures::StreamExt as _;
use futures::stream::BoxStream;

use crate::skeleton::two_users;
use crate::stack::Stack;

/// The bodies of the `message.created` events on `stream` until `marker` arrives.
async fn bodies_until(stream: &mut BoxStream<'static, Result<SseEvent, ClientError>>, marker: &str) -> Vec<String> {
    let mut bodies = Vec::new();
    loop {
        let event = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("an event within 10 s")
            .expect("open")
            .expect("well-formed");
        if event.event != "message.created" {
            continue;
        }
        let envelope: Event = serde_json::from_str(&event.data).expect("envelope");
        let EventPayload::MessageCreated(message) = envelope.payload else { panic!("type and payload disagree") };
        if message.body_md == marker {
            return bodies;
        }
        bodies.push(message.body_md);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_follows_removal_from_a_private_channel_and_joining_a_community() {
    let stack = Stack::start_with(|config| config.sse_auth_recheck_secs = 1).await;
    let (alice, bob, public) = two_users(&stack).await;
    let community = public.community_id.expect("a community channel");
    let secret = alice
        .create_channel(
            community,
            &CreateChannelRequest { name: "secret".into(), topic: None, kind: Some(ChannelKind::Private) },
        )
        .await
        .expect("private");
    let bob_id = bob.me().await.expect("me").user.id;
    let added = alice.add_channel_member(secret.id, bob_id).await.expect("added");
    assert_eq!((added.user.id, added.channel_id), (bob_id, Some(secret.id)));
    let say = |channel, body: &str| {
        let alice = alice.clone();
        let request = CreateMessageRequest {
            body_md: body.into(),
            parent_id: None,
            client_msg_id: None,
            attachment_ids: Vec::new(),
        };
        async move { alice.send_message(channel, &request).await.expect("sent") }
    };

    let mut stream = bob.tui_events(None).await.expect("stream");
    say(secret.id, "for bob's eyes").await;
    say(public.id, "marker 1").await;
    assert_eq!(bodies_until(&mut stream, "marker 1").await, ["for bob's eyes"]);

    alice.remove_channel_member(secret.id, bob_id).await.expect("removed");
    // Each round posts into the channel, then a marker: once a round brings nothing of the
    // channel, the stream has stopped carrying it; that must happen within a re-check or two.
    let started = Instant::now();
    for round in 0.. {
        say(secret.id, &format!("not for bob any more {round}")).await;
        let marker = format!("marker 2.{round}");
        say(public.id, &marker).await;
        if bodies_until(&mut stream, &marker).await.is_empty() {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "a removed member still receives the channel after 5 s");
    }
    say(secret.id, "still not for bob").await;
    say(public.id, "marker 3").await;
    assert!(bodies_until(&mut stream, "marker 3").await.is_empty(), "a removed member receives nothing of the channel");

    let other = alice
        .create_community(&CreateCommunityRequest { name: "Other".into(), slug: "other".into(), description: None })
        .await
        .expect("second community");
    let channels = alice.list_channels(other.id).await.expect("list");
    assert_eq!(channels.data[0].channel.name.as_deref(), Some("general"));
    let general_id = channels.data[0].channel.id;
    let invite = alice.create_invite(other.id, &CreateInviteRequest::default()).await.expect("invite");
    bob.accept_invite(&invite.code).await.expect("joined");
    // A stream carries the traffic of the public channels its user joined, not all of them.
    bob.join_channel(general_id).await.expect("bob joins general");
    let started = Instant::now();
    for round in 0.. {
        let welcome = format!("welcome {round}");
        say(general_id, &welcome).await;
        let marker = format!("marker 4.{round}");
        say(public.id, &marker).await;
        let seen = bodies_until(&mut stream, &marker).await;
        if !seen.is_empty() {
            assert_eq!(seen, [welcome], "the new community's events arrive on the open stream, once");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "the new community's events do not arrive within 5 s");
    }
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_dm_reaches_the_open_stream_at_once_with_a_resync() {
    let stack = Stack::start().await;
    let alice = stack.login("alice").await;
    let bob = stack.login("bob").await;
    let bob_id = bob.me().await.expect("me").user.id;
    let mut stream = bob.tui_events(None).await.expect("stream");

    let dm = alice.open_dm(&[bob_id]).await.expect("dm");
    // Bob's own subject announces it; his stream widens and says so, well before the
    // periodic re-check (3 s).
    let started = Instant::now();
    loop {
        let event = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("in time")
            .expect("open")
            .expect("ok");
        if event.event == "resync" {
            break;
        }
    }
    assert!(started.elapsed() < Duration::from_secs(2), "the DM was noticed at once, not at the next re-check");
    alice
        .send_message(
            dm.id,
            &CreateMessageRequest {
                body_md: "psst".into(),
                parent_id: None,
                client_msg_id: None,
                attachment_ids: Vec::new(),
            },
        )
        .await
        .expect("sent");
    assert!(bodies_until(&mut stream, "psst").await.is_empty(), "the DM's messages flow live");
    stack.stop().await;
}
