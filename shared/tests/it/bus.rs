//! The JetStream bus: deduplicated publish, live feed, and replay from a sequence with
//! per-subject filters.

use std::time::Duration;

use ajet_shared::domain::ids::{CommunityId, EventId};
use ajet_shared::events::bus::{Delivered, EventBus as _, NatsBus, Outgoing, Replay};
use ajet_shared::events::subject;
use ajet_shared::testing::NatsServer;
use bytes::Bytes;
use futures::StreamExt as _;

fn outgoing(subject: &str, body: &str) -> Outgoing {
    Outgoing { subject: subject.to_owned(), event_id: EventId::generate(), payload: Bytes::from(body.to_owned()) }
}

async fn collect(replay: Replay) -> Vec<Delivered> {
    match replay {
        Replay::Gone => panic!("the stream should still hold this point"),
        Replay::Events(events) => {
            tokio::time::timeout(Duration::from_secs(10), events.map(|e| e.expect("replayed")).collect())
                .await
                .expect("replay ends by itself")
        }
    }
}

#[tokio::test]
async fn publish_dedupes_by_event_id_and_replay_filters_by_subject() {
    let nats = NatsServer::start();
    let bus = NatsBus::connect(&nats.url(), "TEST").await.expect("connect");
    let state = bus.ensure_stream().await.expect("stream");
    let (a, b) = (subject::community(CommunityId::generate()), subject::community(CommunityId::generate()));

    let batch =
        vec![outgoing(&a, "a1"), outgoing(&b, "b1"), outgoing(&a, "a2"), outgoing(&b, "b2"), outgoing(&a, "a3")];
    let published = bus.publish_all(&batch).await.expect("published");
    assert!(published.iter().all(|p| !p.duplicate));
    let seqs: Vec<u64> = published.iter().map(|p| p.seq).collect();
    assert_eq!(seqs, (1..=5).collect::<Vec<_>>());

    // The same event id again is recognised as a duplicate, keeping its first sequence.
    let again = bus.publish_all(&batch[..1]).await.expect("republished");
    assert_eq!(again[0].seq, 1);
    assert!(again[0].duplicate);
    assert_eq!(bus.stream_state().await.expect("state").last_seq, 5);

    // Replay after a2 (seq 3) filtered to `a` gives exactly a3.
    let replayed = collect(bus.replay(state.epoch, 3, vec![a.clone()]).await.expect("replay")).await;
    let bodies: Vec<&[u8]> = replayed.iter().map(|d| d.payload.as_ref()).collect();
    assert_eq!(bodies, vec![b"a3".as_slice()]);
    assert_eq!(replayed[0].seq, 5);

    // From the start with both filters: everything, in order.
    let all = collect(bus.replay(state.epoch, 0, vec![a.clone(), b.clone()]).await.expect("replay")).await;
    assert_eq!(all.iter().map(|d| d.seq).collect::<Vec<_>>(), seqs);

    // Nothing after the end; another epoch or a point beyond the end cannot be resumed.
    assert!(collect(bus.replay(state.epoch, 5, vec![a.clone()]).await.expect("replay")).await.is_empty());
    assert!(matches!(bus.replay(state.epoch + 1, 1, vec![a.clone()]).await.expect("replay"), Replay::Gone));
    assert!(matches!(bus.replay(state.epoch, 99, vec![a.clone()]).await.expect("replay"), Replay::Gone));
}

#[tokio::test]
async fn the_live_feed_delivers_new_events_with_their_sequence() {
    let nats = NatsServer::start();
    let bus = NatsBus::connect(&nats.url(), "TEST").await.expect("connect");
    bus.ensure_stream().await.expect("stream");
    let a = subject::community(CommunityId::generate());
    bus.publish_all(&[outgoing(&a, "before")]).await.expect("published");

    let mut live = bus.live(vec![a.clone()], None).await.expect("live feed");
    let published = bus.publish_all(&[outgoing(&a, "after")]).await.expect("published");
    let delivered =
        tokio::time::timeout(Duration::from_secs(5), live.next()).await.expect("in time").expect("open").expect("ok");
    assert_eq!(delivered.payload.as_ref(), b"after");
    assert_eq!(delivered.seq, published[0].seq);
    assert_eq!(delivered.subject, a);

    // A feed resumed after a sequence starts right there.
    let mut resumed = bus.live(vec![a.clone()], Some(0)).await.expect("resumed feed");
    let first = tokio::time::timeout(Duration::from_secs(5), resumed.next())
        .await
        .expect("in time")
        .expect("open")
        .expect("ok");
    assert_eq!(first.payload.as_ref(), b"before");
}
