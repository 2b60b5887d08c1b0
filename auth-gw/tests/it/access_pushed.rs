//! Access changes reach open streams as events, not only through the periodic re-check: a
//! removed member's stream stops carrying the channel at the removal, within 5 s even when
//! no event tells it (the safety net), and a revoked token's stream ends at once.

use std::time::{Duration, Instant};

use ajet_shared::api::wire::{
    Channel, ChannelKind, CreateChannelRequest, CreateMessageRequest, CreateTokenRequest, CreatedToken,
};
use ajet_shared::client::{ApiClient, ClientError, SseEvent};
use ajet_shared::db;
use ajet_shared::events::{Event, EventPayload};
use futures::StreamExt as _;
use futures::stream::BoxStream;
use reqwest::Method;

use crate::skeleton::two_users;
use crate::stack::Stack;

type Sse = BoxStream<'static, Result<SseEvent, ClientError>>;

async fn say(client: &ApiClient, channel: &Channel, body: &str) {
    let request =
        CreateMessageRequest { body_md: body.into(), parent_id: None, client_msg_id: None, attachment_ids: Vec::new() };
    client.send_message(channel.id, &request).await.expect("sent");
}

/// The message bodies on `stream` before `marker`.
async fn bodies_until(stream: &mut Sse, marker: &str) -> Vec<String> {
    let mut bodies = Vec::new();
    loop {
        let event = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("an event within 10 s")
            .expect("open")
            .expect("well-formed");
        let envelope: Event = serde_json::from_str(&event.data).expect("envelope");
        if let EventPayload::MessageCreated(message) = envelope.payload {
            if message.body_md == marker {
                return bodies;
            }
            bodies.push(message.body_md);
        }
    }
}

/// Alice's private channel with Bob in it, and Bob's open stream.
async fn bob_in_a_private_channel(stack: &Stack) -> (ApiClient, ApiClient, Channel, Channel, Sse) {
    let (alice, bob, public) = two_users(stack).await;
    let request = CreateChannelRequest { name: "secret".into(), topic: None, kind: Some(ChannelKind::Private) };
    let secret = alice.create_channel(public.community_id.expect("community"), &request).await.expect("private");
    let bob_id = bob.me().await.expect("me").user.id;
    alice
        .request(Method::POST, &format!("/api/channels/{}/members", secret.id))
        .json(&serde_json::json!({"user_id": bob_id}))
        .send()
        .await
        .expect("add")
        .error_for_status()
        .expect("added");
    let mut stream = bob.sse("/tui/events", None).await.expect("stream");
    say(&alice, &secret, "for bob's eyes").await;
    say(&alice, &public, "marker 0").await;
    assert_eq!(bodies_until(&mut stream, "marker 0").await, ["for bob's eyes"]);
    (alice, bob, public, secret, stream)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_members_stream_stops_carrying_the_channel_at_the_removal() {
    // The safety net is 20 minutes away (10 at the earliest): only the removal's events can act in time.
    let stack = Stack::start().await;
    let (alice, bob, public, secret, mut stream) = bob_in_a_private_channel(&stack).await;
    let bob_id = bob.me().await.expect("me").user.id;
    let removed = alice
        .request(Method::DELETE, &format!("/api/channels/{}/members/{bob_id}", secret.id))
        .send()
        .await
        .expect("remove");
    assert_eq!(removed.status(), 204);
    say(&alice, &secret, "not for bob any more").await;
    say(&alice, &public, "marker 1").await;
    assert!(bodies_until(&mut stream, "marker 1").await.is_empty(), "nothing of the channel after the removal");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removal_without_any_event_still_takes_effect_within_5_s() {
    // The safety net, short as tests configure it (1,200 s by default).
    let stack = Stack::start_with(|config| config.sse_access_check_secs = 2).await;
    let (alice, bob, public, secret, mut stream) = bob_in_a_private_channel(&stack).await;
    let bob_id = bob.me().await.expect("me").user.id;
    // As if every event of the removal were lost: the database changes, nothing is published.
    let mut conn = stack.db.pool.acquire().await.expect("connection");
    assert!(db::channels::remove_member(&mut conn, secret.id, bob_id).await.expect("removed"));
    let removed_at = Instant::now();
    for probe in 1.. {
        say(&alice, &secret, &format!("probe {probe}")).await;
        let marker = format!("marker {probe}");
        say(&alice, &public, &marker).await;
        if bodies_until(&mut stream, &marker).await.is_empty() {
            break;
        }
        assert!(removed_at.elapsed() < Duration::from_secs(5), "the safety net narrows the stream within 5 s");
    }
    println!("a silent removal took effect after {:?}", removed_at.elapsed());
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_tokens_stream_ends_at_once() {
    // The gateway's re-check is as slow as allowed: only the revocation event acts at once.
    let stack = Stack::start_with(|config| config.sse_auth_recheck_secs = 4).await;
    let bob = stack.login("bob").await;
    let request = CreateTokenRequest { name: "bot".into(), scopes: vec!["read".into()], expires_in_days: None };
    let created: CreatedToken = bob
        .request(Method::POST, "/api/tokens")
        .json(&request)
        .send()
        .await
        .expect("create")
        .error_for_status()
        .expect("created")
        .json()
        .await
        .expect("json");
    let mut stream = bob.with_token(created.token.clone()).sse("/tui/events", None).await.expect("stream");
    let mut other = bob.sse("/tui/events", None).await.expect("the session's own stream");
    let revoked =
        bob.request(Method::DELETE, &format!("/api/tokens/{}", created.info.id)).send().await.expect("revoke");
    assert_eq!(revoked.status(), 204);
    let started = Instant::now();
    let end = tokio::time::timeout(Duration::from_secs(10), stream.next()).await.expect("the stream ends");
    assert!(matches!(end, None | Some(Err(_))), "the revoked token's stream ends without an event: {end:?}");
    let took = started.elapsed();
    println!("a revoked token's stream ended after {took:?}");
    assert!(took < Duration::from_secs(2), "at once, not at the next periodic re-check: {took:?}");
    let still = tokio::time::timeout(Duration::from_millis(300), other.next()).await;
    assert!(still.is_err(), "the session's own stream goes on: {still:?}");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_channels_creator_gets_its_traffic_without_waiting_for_the_safety_net() {
    // The safety net is 20 minutes away (10 at the earliest): only the creation's event on the creator's own
    // subject can widen the open stream in time.
    let stack = Stack::start().await;
    let (_alice, bob, public) = two_users(&stack).await;
    let mut stream = bob.sse("/tui/events", None).await.expect("stream");
    let request = CreateChannelRequest { name: "mine".into(), topic: None, kind: Some(ChannelKind::Private) };
    let mine = bob.create_channel(public.community_id.expect("community"), &request).await.expect("private");
    // The stream learns it sees more and tells the client to refetch ...
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let event = stream.next().await.expect("open").expect("well-formed");
            if event.event == "resync" {
                return;
            }
        }
    })
    .await
    .expect("a resync for the new channel within 10 s");
    // ... and carries the channel from then on.
    say(&bob, &mine, "a note to self").await;
    say(&bob, &public, "marker").await;
    assert_eq!(bodies_until(&mut stream, "marker").await, ["a note to self"]);
    stack.stop().await;
}
