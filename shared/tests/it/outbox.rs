//! The transactional outbox survives a NATS outage: events committed while NATS is down
//! are published once it is back, each exactly once and in commit order.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ajet_shared::api::wire::{Channel, ChannelKind};
use ajet_shared::db;
use ajet_shared::domain::ids::{ChannelId, CommunityId};
use ajet_shared::events::bus::{EventBus as _, NatsBus, Replay};
use ajet_shared::events::{Event, EventPayload, subject};
use ajet_shared::outbox::OutboxRelay;
use ajet_shared::testing::{NatsServer, fresh_database};
use futures::StreamExt as _;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

fn channel_event(community: CommunityId, n: usize) -> Event {
    let channel = Channel {
        id: ChannelId::generate(),
        community_id: Some(community),
        kind: ChannelKind::Public,
        name: Some(format!("c{n}")),
        topic: None,
        created_at: OffsetDateTime::now_utc(),
        archived_at: None,
        slow_mode_secs: 0,
        frozen_at: None,
    };
    Event::new(EventPayload::ChannelCreated(channel.clone()), Some(community), Some(channel.id), None)
}

#[tokio::test]
async fn events_committed_while_nats_is_down_arrive_exactly_once_in_commit_order() {
    let db = fresh_database().await;
    let mut nats = NatsServer::start();
    let bus = Arc::new(NatsBus::connect(&nats.url(), "TEST").await.expect("connect"));
    let epoch = bus.ensure_stream().await.expect("stream").epoch;
    let relay = OutboxRelay::new(db.pool.clone(), Arc::clone(&bus));
    nats.stop();

    let communities = [CommunityId::generate(), CommunityId::generate()];
    let mut committed = Vec::new();
    for n in 0..100 {
        let community = communities[n % 2];
        let event = channel_event(community, n);
        let mut tx = db.pool.begin().await.expect("begin");
        db::outbox::enqueue(&mut tx, &subject::community(community), &event).await.expect("enqueue");
        tx.commit().await.expect("commit");
        relay.notify();
        committed.push(event.id);
    }
    assert!(relay.drain().await.is_err(), "publishing cannot succeed while NATS is down");

    let shutdown = CancellationToken::new();
    let running = tokio::spawn(relay.clone().run(shutdown.clone()));
    nats.resume();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            .fetch_one(&db.pool)
            .await
            .expect("count");
        if left == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{left} events still unpublished after NATS came back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    shutdown.cancel();
    running.await.expect("relay ends");

    let filters = communities.iter().map(|c| subject::community(*c)).collect();
    let Replay::Events(events) = bus.replay(epoch, 0, filters).await.expect("replay") else { panic!("stream lost") };
    let received: Vec<Event> = events
        .map(|d| serde_json::from_slice::<Event>(&d.expect("delivered").payload).expect("an envelope"))
        .collect()
        .await;
    let ids: Vec<_> = received.iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), 100, "every event exactly once");
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 100, "no duplicates");
    assert_eq!(ids, committed, "in commit order");
}

#[tokio::test]
async fn the_prune_removes_only_rows_published_over_ten_minutes_ago_through_the_published_at_index() {
    let db = fresh_database().await;
    sqlx::query(
        "INSERT INTO outbox (event_id, subject, payload, published_at) VALUES
             (gen_random_uuid(), 'chat.events.old', '{}', now() - interval '11 minutes'),
             (gen_random_uuid(), 'chat.events.recent', '{}', now() - interval '1 minute'),
             (gen_random_uuid(), 'chat.events.pending', '{}', NULL)",
    )
    .execute(&db.pool)
    .await
    .expect("rows");
    let mut conn = db.pool.acquire().await.expect("a connection");
    assert_eq!(db::outbox::prune_published(&mut conn).await.expect("prune"), 1);
    let left: Vec<String> =
        sqlx::query_scalar("SELECT subject FROM outbox ORDER BY id").fetch_all(&db.pool).await.expect("rows");
    assert_eq!(left, ["chat.events.recent", "chat.events.pending"], "the recent and the unpublished rows stay");

    // The prune's candidates are read from the index, not by scanning the table (which a
    // three-row table would otherwise make the cheaper plan).
    sqlx::query("SET enable_seqscan = off").execute(&mut *conn).await.expect("set");
    let plan: Vec<String> = sqlx::query_scalar(
        "EXPLAIN SELECT id FROM outbox WHERE published_at < now() - interval '10 minutes' ORDER BY published_at LIMIT 1000",
    )
    .fetch_all(&mut *conn)
    .await
    .expect("a plan");
    assert!(plan.iter().any(|line| line.contains("outbox_published_at_idx")), "{plan:#?}");
}
