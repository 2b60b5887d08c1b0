//! The walking skeleton: messages posted through the gateway reach another user's
//! terminal stream through the api, the outbox, JetStream and tui-sm, exactly once and in
//! order; a cut stream resumes with `Last-Event-ID` exactly where it left off; and posts
//! made while NATS is down arrive once it is back.

use std::time::{Duration, Instant};

use ajet_shared::api::wire::{
    Channel, CreateChannelRequest, CreateCommunityRequest, CreateInviteRequest, CreateMessageRequest, Message,
};
use ajet_shared::client::{ApiClient, ClientError, SseEvent};
use ajet_shared::events::{Event, EventMessage, EventPayload};
use futures::StreamExt as _;
use futures::stream::BoxStream;

use crate::stack::Stack;

type Sse = BoxStream<'static, Result<SseEvent, ClientError>>;

/// Alice owns a community with a channel; Bob is a member.
pub async fn two_users(stack: &Stack) -> (ApiClient, ApiClient, Channel) {
    let alice = stack.login("alice").await;
    let bob = stack.login("bob").await;
    let community = alice
        .create_community(&CreateCommunityRequest { name: "Acme".into(), slug: "acme".into(), description: None })
        .await
        .expect("community");
    let invite = alice.create_invite(community.id, &CreateInviteRequest::default()).await.expect("invite");
    bob.accept_invite(&invite.code).await.expect("bob joins the community");
    let channel = alice
        .create_channel(community.id, &CreateChannelRequest { name: "dev".into(), topic: None, kind: None })
        .await
        .expect("channel");
    bob.join_channel(channel.id).await.expect("bob joins the channel");
    (alice, bob, channel)
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

/// The next `message.created` event on `stream`, with its SSE id. Other event types are
/// skipped; a message event is never skipped.
async fn next_message(stream: &mut Sse) -> (EventMessage, String) {
    loop {
        let event = tokio::time::timeout(Duration::from_secs(30), stream.next())
            .await
            .expect("an event within 30 s")
            .expect("the stream stays open")
            .expect("a well-formed event");
        if event.event != "message.created" {
            continue;
        }
        let envelope: Event = serde_json::from_str(&event.data).expect("an envelope");
        let EventPayload::MessageCreated(message) = envelope.payload else { panic!("type and payload disagree") };
        return (message, event.id);
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_reach_another_users_stream_exactly_once_and_resume_after_a_cut() {
    let stack = Stack::start().await;
    let (alice, bob, channel) = two_users(&stack).await;
    let mut stream = bob.tui_events(None).await.expect("stream opens");

    let receiver = tokio::spawn(async move {
        let mut received = Vec::new();
        for _ in 0..100 {
            let (message, id) = next_message(&mut stream).await;
            received.push((message, id, Instant::now()));
        }
        (received, stream)
    });
    let mut sent = Vec::new();
    for n in 0..100 {
        let started = Instant::now();
        let message = send(&alice, &channel, &format!("message {n}")).await;
        sent.push((message, started));
    }
    let (received, stream) = receiver.await.expect("receiver");
    for ((sent, started), (got, _, at)) in sent.iter().zip(&received) {
        assert_eq!(got.id, sent.id, "in order, exactly once");
        assert_eq!(got.body_md, sent.body_md);
        assert_eq!(got.author.username.as_deref(), Some("alice"));
        assert!(at > started);
    }
    let mut latencies: Vec<Duration> =
        sent.iter().zip(&received).map(|((_, started), (_, _, at))| *at - *started).collect();
    latencies.sort();
    println!(
        "skeleton POST→SSE latency over {} messages: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        latencies.len(),
        percentile(&latencies, 50.0).as_secs_f64() * 1e3,
        percentile(&latencies, 99.0).as_secs_f64() * 1e3,
        latencies.last().expect("latencies").as_secs_f64() * 1e3,
    );

    // Cut the stream, miss ten messages, resume from the last id seen.
    let last_id = received.last().expect("received").1.clone();
    drop(stream);
    let mut missed = Vec::new();
    for n in 100..110 {
        missed.push(send(&alice, &channel, &format!("message {n}")).await);
    }
    let mut resumed = bob.tui_events(Some(&last_id)).await.expect("stream resumes");
    let newer = send(&alice, &channel, "after the resume").await;
    for expected in &missed {
        let (got, _) = next_message(&mut resumed).await;
        assert_eq!(got.id, expected.id, "the missed messages first, in order");
    }
    let (got, _) = next_message(&mut resumed).await;
    assert_eq!(got.id, newer.id, "then live, with no duplicate and no gap");

    let history = bob.history(channel.id, &Default::default()).await.expect("history");
    assert_eq!(history.data.len(), 50);
    assert_eq!(history.data.last().expect("newest").id, newer.id);
    assert_eq!(history.data.last().expect("newest").channel_seq, 111);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posts_made_while_nats_is_down_reach_the_stream_once_it_is_back() {
    let mut stack = Stack::start().await;
    let (alice, bob, channel) = two_users(&stack).await;
    let mut stream = bob.tui_events(None).await.expect("stream opens");
    let api_ready = format!("{}/readyz", stack.config.api_url);

    stack.nats.stop();
    let mut sent = Vec::new();
    for n in 0..5 {
        sent.push(send(&alice, &channel, &format!("during the outage {n}")).await);
    }
    let readiness = reqwest::get(&api_ready).await.expect("readyz answers");
    assert_eq!(readiness.status(), 503, "the api is not ready without NATS");
    let body: serde_json::Value = readiness.json().await.expect("json");
    assert_eq!(body["checks"]["nats"], false);
    assert_eq!(body["checks"]["database"], true);

    stack.nats.resume();
    for expected in &sent {
        let (got, _) = next_message(&mut stream).await;
        assert_eq!(got.id, expected.id, "each once, in order");
    }
    let after = send(&alice, &channel, "back to normal").await;
    let (got, _) = next_message(&mut stream).await;
    assert_eq!(got.id, after.id, "no duplicate of the outage messages");
    crate::stack::wait_ready(&api_ready).await;
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_position_the_stream_does_not_hold_gets_an_explicit_resync() {
    let stack = Stack::start().await;
    let (alice, bob, channel) = two_users(&stack).await;
    for last_event_id in ["1.5", "not-a-position"] {
        let mut stream = bob.tui_events(Some(last_event_id)).await.expect("stream opens");
        let first = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("in time")
            .expect("open")
            .expect("well-formed");
        assert_eq!(first.event, "resync", "for Last-Event-ID {last_event_id}");
        let sent = send(&alice, &channel, &format!("after resync from {last_event_id}")).await;
        let (got, id) = next_message(&mut stream).await;
        assert_eq!(got.id, sent.id, "the stream continues live after the resync");
        assert!(id.parse::<ajet_shared::events::StreamPosition>().is_ok(), "event ids are <epoch>.<seq>: {id}");
    }
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_manager_whose_first_api_refuses_connections_serves_streams_through_the_next() {
    let dead = format!("http://{}", ajet_shared::testing::dead_address());
    // Every service reads `api_urls`: the session managers try the dead one first. The
    // writes below go straight to the live api (a gateway's POST may meet the dead one
    // before it is out of rotation, and is not retried: that is the gateway's test).
    let stack = Stack::start_with(|config| config.api_urls = vec![dead.clone(), config.api_url.clone()]).await;
    let direct = |client: &ApiClient| {
        ApiClient::new(stack.config.api_url.clone()).expect("client").with_token(client.token().expect("signed in"))
    };
    let (alice, bob) = (direct(&stack.login("alice").await), stack.login("bob").await);
    let community = alice
        .create_community(&CreateCommunityRequest { name: "Acme".into(), slug: "acme".into(), description: None })
        .await
        .expect("community");
    let invite = alice.create_invite(community.id, &CreateInviteRequest::default()).await.expect("invite");
    direct(&bob).accept_invite(&invite.code).await.expect("bob joins the community");
    let channel = alice
        .create_channel(community.id, &CreateChannelRequest { name: "dev".into(), topic: None, kind: None })
        .await
        .expect("channel");
    direct(&bob).join_channel(channel.id).await.expect("bob joins the channel");

    // Through the gateway to tui-sm, which checks bob's token at its api: the dead one
    // refuses, the next answers.
    let mut stream = bob.tui_events(None).await.expect("the stream opens");
    let sent = send(&alice, &channel, "past the dead api").await;
    let (message, _) = next_message(&mut stream).await;
    assert_eq!((message.id, message.body_md.as_str()), (sent.id, "past the dead api"));
    let ready = reqwest::get(format!("{}/readyz", stack.config.tui_url)).await.expect("readyz answers");
    assert_eq!(ready.status(), 200, "tui-sm's readiness check of its api moved on too");
    stack.stop().await;
}

/// The gateway carries event streams to a session manager over one shared HTTP/2
/// connection: 300 streams (more than the 200 hyper allows on a connection by default) all
/// open and all get the message, and together they cost this process (client, gateway and
/// tui-sm in one) about two descriptors each — the client's end and the gateway's — where
/// one upstream connection per stream would cost four.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateways_streams_share_one_connection_to_the_session_manager() {
    const STREAMS: usize = 300;
    let stack = Stack::start_with(|config| config.max_streams_per_user = 400).await;
    let (alice, bob, channel) = two_users(&stack).await;
    let descriptors = || std::fs::read_dir("/proc/self/fd").expect("/proc/self/fd").count();
    let before = descriptors();
    let mut streams = Vec::with_capacity(STREAMS);
    for _ in 0..STREAMS {
        streams.push(bob.tui_events(None).await.expect("the stream opens"));
    }
    let opened = descriptors().saturating_sub(before);
    let sent = send(&alice, &channel, "to every stream").await;
    let received = futures::future::join_all(streams.iter_mut().map(next_message)).await;
    assert!(received.iter().all(|(message, _)| message.id == sent.id), "every stream got the message");
    assert!(
        opened < STREAMS * 5 / 2,
        "{opened} descriptors opened for {STREAMS} streams: the gateway holds one upstream connection per stream"
    );
    stack.stop().await;
}
