//! Every write emits its event, on the subject its audience listens to, with data enough
//! to render: public-channel events on the community subject, private-channel and DM
//! events only on their own subjects, read updates only on the reader's. An edit or delete
//! removes the message's earlier text from the stream, also after a relay crash, and
//! removing is safe to retry.

use std::time::{Duration, Instant};

use ajet_shared::api::wire::{
    ChannelKind, CreateChannelRequest, CreateCommunityRequest, CreateInviteRequest, CreateMessageRequest,
    UpdateChannelRequest,
};
use ajet_shared::events::bus::{EventBus as _, NatsBus, Outgoing, Published, Replay};
use ajet_shared::events::{Event, EventPayload, subject};
use ajet_shared::testing::NatsServer;
use ajet_shared::{CommunityId, EventId};
use bytes::Bytes;
use futures::StreamExt as _;

use crate::harness::Api;

/// Waits for the next event and checks its subject and type.
async fn expect_event(subscriber: &mut async_nats::Subscriber, subject: &str, kind: &str) {
    let (seen, event) = next(subscriber).await;
    assert_eq!((seen.as_str(), event.payload.type_name()), (subject, kind));
}

/// The next event on the bus, with its subject.
async fn next(subscriber: &mut async_nats::Subscriber) -> (String, Event) {
    let message = tokio::time::timeout(Duration::from_secs(10), subscriber.next())
        .await
        .expect("an event in time")
        .expect("open");
    let event: Event = serde_json::from_slice(&message.payload).expect("an envelope");
    (message.subject.to_string(), event)
}

#[tokio::test]
async fn each_write_publishes_its_event_on_the_right_subject() {
    let api = Api::start().await;
    let nats = async_nats::connect(api.nats.url()).await.expect("connect");
    let mut bus = nats.subscribe("chat.>").await.expect("subscribe");
    nats.flush().await.expect("flush");

    let alice = api.user("alice").await;
    let bob = api.user("bob").await;
    let community = alice
        .create_community(&CreateCommunityRequest { name: "Acme".into(), slug: "acme".into(), description: None })
        .await
        .expect("community");
    let public_subject = subject::community(community.id);
    let (subject, event) = next(&mut bus).await;
    assert_eq!(subject, public_subject);
    assert!(matches!(&event.payload, EventPayload::ChannelCreated(c) if c.name.as_deref() == Some("general")));

    let invite = alice.create_invite(community.id, &CreateInviteRequest::default()).await.expect("invite");
    let bob_id = bob.accept_invite(&invite.code).await.expect("accepted").user.id;
    // Bob's own streams learn first (they widen to the community), then the community.
    let (subject, event) = next(&mut bus).await;
    assert_eq!((subject, event.payload.type_name()), (subject::notifications(bob_id), "member.joined"));
    let (subject, event) = next(&mut bus).await;
    assert_eq!((subject.as_str(), event.payload.type_name()), (public_subject.as_str(), "member.joined"));

    let secret = alice
        .create_channel(
            community.id,
            &CreateChannelRequest { name: "secret".into(), topic: None, kind: Some(ChannelKind::Private) },
        )
        .await
        .expect("private channel");
    let private_subject = subject::private_channel(secret.id);
    let (subject, event) = next(&mut bus).await;
    assert_eq!((subject.as_str(), event.payload.type_name()), (private_subject.as_str(), "channel.created"));
    assert_eq!(event.channel_id, Some(secret.id));
    // And on the creator's own subject, so their open streams widen at once.
    let alice_id = alice.me().await.expect("me").user.id;
    let (subject, event) = next(&mut bus).await;
    assert_eq!((subject, event.payload.type_name()), (subject::notifications(alice_id), "channel.created"));

    let sent = alice
        .send_message(
            secret.id,
            &CreateMessageRequest {
                body_md: "hush @bob".into(),
                parent_id: None,
                client_msg_id: None,
                attachment_ids: Vec::new(),
            },
        )
        .await
        .expect("sent");
    let (subject, event) = next(&mut bus).await;
    assert_eq!(subject, private_subject, "private content never travels on the community subject");
    let EventPayload::MessageCreated(message) = event.payload else { panic!("expected message.created") };
    assert_eq!(message.body_md, "hush @bob");
    assert_eq!(message.author.username.as_deref(), Some("alice"));
    assert_eq!(event.actor_id, message.author.user_id);

    // Each write, then the event it must publish on the private channel's subject.
    alice.add_reaction(sent.id, "🎉").await.expect("reacted");
    expect_event(&mut bus, &private_subject, "reaction.added").await;
    alice.remove_reaction(sent.id, "🎉").await.expect("unreacted");
    expect_event(&mut bus, &private_subject, "reaction.removed").await;
    alice.pin_message(sent.id).await.expect("pinned");
    expect_event(&mut bus, &private_subject, "pin.added").await;
    alice.unpin_message(sent.id).await.expect("unpinned");
    expect_event(&mut bus, &private_subject, "pin.removed").await;
    alice.update_message(sent.id, "edited").await.expect("edited");
    expect_event(&mut bus, &private_subject, "message.updated").await;
    let topic = UpdateChannelRequest { topic: Some("quiet".into()), ..UpdateChannelRequest::default() };
    alice.update_channel(secret.id, &topic).await.expect("topic set");
    expect_event(&mut bus, &private_subject, "channel.updated").await;
    alice.delete_message(sent.id).await.expect("deleted");
    expect_event(&mut bus, &private_subject, "message.deleted").await;
    alice.archive_channel(secret.id).await.expect("archived");
    expect_event(&mut bus, &private_subject, "channel.archived").await;

    let general = alice.me().await.expect("me");
    assert_eq!(general.private_channels.len(), 1, "me lists the private channel for the session managers");
    let channels = alice.list_channels(community.id).await.expect("list");
    let general_id =
        channels.data.iter().find(|c| c.channel.name.as_deref() == Some("general")).expect("general").channel.id;
    let hello = alice
        .send_message(
            general_id,
            &CreateMessageRequest {
                body_md: "hello".into(),
                parent_id: None,
                client_msg_id: None,
                attachment_ids: Vec::new(),
            },
        )
        .await
        .expect("sent");
    let (subject, _) = next(&mut bus).await;
    assert_eq!(subject, public_subject);
    let cursor = alice.mark_read(general_id, hello.id).await.expect("read");
    assert_eq!((cursor.channel_id, cursor.message_id), (general_id, hello.id));
    let (subject, event) = next(&mut bus).await;
    assert_eq!(
        subject,
        subject::notifications(alice.me().await.expect("me").user.id),
        "read state goes to the reader only"
    );
    assert_eq!(event.payload.type_name(), "read.updated");
}

/// The payloads of every event in the stream, oldest first.
async fn stream_payloads(bus: &NatsBus) -> Vec<String> {
    let state = bus.stream_state().await.expect("stream state");
    let after = state.first_seq.saturating_sub(1);
    let Replay::Events(events) = bus.replay(state.epoch, after, vec!["chat.>".into()]).await.expect("replay") else {
        panic!("the stream holds its own first sequence");
    };
    let events: Vec<_> =
        tokio::time::timeout(Duration::from_secs(10), events.collect::<Vec<_>>()).await.expect("in time");
    events.into_iter().map(|event| String::from_utf8_lossy(&event.expect("delivered").payload).into_owned()).collect()
}

#[tokio::test]
async fn removing_a_superseded_event_is_safe_to_retry_and_spares_other_events() {
    let nats = NatsServer::start();
    let bus = NatsBus::connect(&nats.url(), "CHAT").await.expect("connect");
    bus.ensure_stream().await.expect("stream");
    let subject = subject::community(CommunityId::generate());
    let outgoing = |text: &str| Outgoing {
        subject: subject.clone(),
        event_id: EventId::generate(),
        payload: Bytes::from(text.to_owned()),
    };
    let (first, second) = (outgoing("first"), outgoing("second"));
    let published = bus.publish_all(&[first.clone(), second.clone()]).await.expect("published");
    // A republish (the relay redoing a pass after a crash) is answered with the original
    // sequence, which is what the relay then records.
    let again = bus.publish_all(std::slice::from_ref(&first)).await.expect("republished");
    assert_eq!(again, [Published { seq: published[0].seq, duplicate: true }]);

    bus.remove(published[0].seq, first.event_id).await.expect("removed");
    bus.remove(published[0].seq, first.event_id).await.expect("removing it again is no error");
    bus.remove(published[1].seq, first.event_id).await.expect("a sequence holding another event is left alone");
    assert_eq!(stream_payloads(&bus).await, ["second"]);
}

#[tokio::test]
async fn an_edit_after_a_relay_crash_between_publish_and_commit_still_removes_the_earlier_text() {
    let api = Api::start().await;
    let alice = api.user("alice").await;
    let community = alice
        .create_community(&CreateCommunityRequest { name: "Acme".into(), slug: "acme".into(), description: None })
        .await
        .expect("community");
    let channel = alice
        .create_channel(community.id, &CreateChannelRequest { name: "dev".into(), topic: None, kind: None })
        .await
        .expect("channel");
    let sent = alice
        .send_message(
            channel.id,
            &CreateMessageRequest {
                body_md: "draft-before-crash".into(),
                parent_id: None,
                client_msg_id: None,
                attachment_ids: Vec::new(),
            },
        )
        .await
        .expect("sent");
    let published_created =
        "SELECT count(*) FROM outbox WHERE payload->>'type' = 'message.created' AND published_at IS NOT NULL";
    let deadline = Instant::now() + Duration::from_secs(10);
    while sqlx::query_scalar::<_, i64>(published_created).fetch_one(&api.db.pool).await.expect("count") == 0 {
        assert!(Instant::now() < deadline, "the relay publishes the post within 10 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // As if the pass had published and then crashed before its commit: the event is in the
    // stream, but neither marked published nor recorded. One transaction, as the relay's own
    // pass is: a sweep between two separate statements would republish and record the
    // event again, and the second statement would then forget that record.
    let mut tx = api.db.pool.begin().await.expect("begin");
    sqlx::query("UPDATE outbox SET published_at = NULL WHERE payload->>'type' = 'message.created'")
        .execute(&mut *tx)
        .await
        .expect("unmark");
    sqlx::query("DELETE FROM message_stream_events").execute(&mut *tx).await.expect("unrecord");
    tx.commit().await.expect("commit");

    let edited = alice.update_message(sent.id, "final-after-crash").await.expect("edited");
    assert_eq!(edited.body_md, "final-after-crash");

    let bus = NatsBus::connect(&api.nats.url(), "CHAT").await.expect("connect");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let payloads = stream_payloads(&bus).await;
        let texts: Vec<bool> = ["draft-before-crash", "final-after-crash"]
            .iter()
            .map(|text| payloads.iter().any(|p| p.contains(text)))
            .collect();
        if texts == [false, true] {
            break;
        }
        assert!(Instant::now() < deadline, "the stream keeps only the edited text: {payloads:#?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_message_event_says_nothing_about_any_one_viewer() {
    let api = Api::start().await;
    let nats = async_nats::connect(api.nats.url()).await.expect("connect");
    let alice = api.user("alice").await;
    let community = alice
        .create_community(&CreateCommunityRequest { name: "Acme".into(), slug: "acme".into(), description: None })
        .await
        .expect("community");
    let channel = alice
        .create_channel(community.id, &CreateChannelRequest { name: "dev".into(), topic: None, kind: None })
        .await
        .expect("channel");
    let sent = alice
        .send_message(
            channel.id,
            &CreateMessageRequest {
                body_md: "ship it".into(),
                parent_id: None,
                client_msg_id: None,
                attachment_ids: Vec::new(),
            },
        )
        .await
        .expect("sent");
    alice.add_reaction(sent.id, "🎉").await.expect("reacted");
    let mut bus = nats.subscribe(subject::community(community.id)).await.expect("subscribe");
    nats.flush().await.expect("flush");
    let edited = alice.update_message(sent.id, "shipped").await.expect("edited");
    assert!(edited.reactions[0].reacted_by_me, "the editor's answer is theirs");

    let raw = loop {
        let message =
            tokio::time::timeout(Duration::from_secs(10), bus.next()).await.expect("an event in time").expect("open");
        let raw: serde_json::Value = serde_json::from_slice(&message.payload).expect("an envelope");
        if raw["type"] == "message.updated" {
            break raw;
        }
    };
    assert_eq!(raw["data"]["body_md"], "shipped");
    assert_eq!(raw["data"]["reactions"], serde_json::json!([{"emoji": "🎉", "count": 1}]));
    assert!(!raw.to_string().contains("reacted_by_me"), "no per-viewer field in a broadcast: {raw}");
}
