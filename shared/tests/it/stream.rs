//! The streaming core against a real NATS: the hub's one feed fans out to sessions, and
//! a resumed session replays exactly what it missed before going live.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use ajet_shared::domain::ids::{ChannelId, CommunityId, EventId, UserId};
use ajet_shared::events::bus::{EventBus as _, NatsBus, Outgoing};
use ajet_shared::events::subject;
use ajet_shared::stream::{
    Access, AccessCheck, AccessChecks, Hub, Item, Opening, SessionConfig, StreamSession, Visible,
};
use ajet_shared::testing::NatsServer;
use bytes::Bytes;
use tokio_util::sync::CancellationToken;

fn person(id: UserId) -> ajet_shared::api::wire::User {
    ajet_shared::api::wire::User { id, username: "me".into(), display_name: "Me".into(), avatar_url: None }
}

/// Access that never changes.
struct Fixed(Visible);

impl AccessCheck for Fixed {
    async fn check(&self) -> Access {
        Access::Allowed(self.0.clone())
    }
}

fn envelope(subject: &str, n: u32) -> Outgoing {
    Outgoing {
        subject: subject.to_owned(),
        event_id: EventId::generate(),
        payload: Bytes::from(format!(r#"{{"type":"message.created","data":{{"n":{n}}}}}"#)),
    }
}

fn config() -> SessionConfig {
    SessionConfig {
        queue_len: 64,
        unconfirmed_limit: Duration::from_secs(60),
        replay_stall: Duration::from_secs(5),
        idle_after: Duration::from_secs(60),
        max_per_user: 10,
    }
}

/// Starts the hub's feed and waits until it is open.
async fn open_hub(bus: &Arc<NatsBus>, shutdown: &CancellationToken) -> (Hub, tokio::task::JoinHandle<()>) {
    let hub = Hub::default();
    let feed = tokio::spawn(hub.clone().run(Arc::clone(bus), shutdown.clone()));
    tokio::time::timeout(Duration::from_secs(10), async {
        while !hub.is_live() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the feed opens");
    (hub, feed)
}

async fn next_event(session: &mut StreamSession) -> Arc<ajet_shared::stream::HubEvent> {
    match tokio::time::timeout(Duration::from_secs(10), session.next()).await.expect("an item in time") {
        Item::Event(event) => event,
        other => panic!("expected an event, got {other:?}"),
    }
}

#[tokio::test]
async fn sessions_get_their_subjects_live_and_a_resumed_one_replays_what_it_missed() {
    let nats = NatsServer::start();
    let bus = Arc::new(NatsBus::connect(&nats.url(), "TEST").await.expect("connect"));
    bus.ensure_stream().await.expect("stream");
    let shutdown = CancellationToken::new();
    let checks = AccessChecks::new(Duration::from_secs(60), shutdown.clone());
    let (hub, feed) = open_hub(&bus, &shutdown).await;

    let (a, b) = (subject::community(CommunityId::generate()), subject::community(CommunityId::generate()));
    let user = UserId::generate();
    let own = subject::notifications(user);
    let visible = Visible {
        user,
        subjects: vec![a.clone(), own.clone()],
        own,
        joined: HashSet::new(),
        member_of: HashMap::new(),
    };
    let mut session = StreamSession::start(
        &hub,
        bus.as_ref(),
        checks.feed("token", person(user), Fixed(visible.clone())),
        Opening { visible: visible.clone(), visible_as_of: hub.position().expect("open"), resume: None },
        config(),
        shutdown.clone(),
    )
    .await
    .expect("start");
    let published = bus.publish_all(&[envelope(&b, 1), envelope(&a, 2), envelope(&a, 3)]).await.expect("published");
    let first = next_event(&mut session).await;
    assert_eq!((first.seq, first.data.as_ref()), (published[1].seq, r#"{"type":"message.created","data":{"n":2}}"#));
    let second = next_event(&mut session).await;
    assert_eq!(second.seq, published[2].seq, "b's event never reaches a session that cannot see b");

    // A client that saw the first event resumes: the second is replayed, then it is live.
    let resume = first.position().to_string();
    let mut resumed = StreamSession::start(
        &hub,
        bus.as_ref(),
        checks.feed("token", person(user), Fixed(visible.clone())),
        Opening { visible, visible_as_of: hub.position().expect("open"), resume: Some(&resume) },
        config(),
        shutdown.clone(),
    )
    .await
    .expect("start");
    assert_eq!(next_event(&mut resumed).await.seq, published[2].seq);
    let later = bus.publish_all(&[envelope(&a, 4)]).await.expect("published");
    assert_eq!(next_event(&mut resumed).await.seq, later[0].seq);
    assert_eq!(next_event(&mut session).await.seq, later[0].seq);

    shutdown.cancel();
    assert!(matches!(session.next().await, Item::End(ajet_shared::stream::End::Shutdown)));
    feed.await.expect("the feed ends with shutdown");
}

#[tokio::test]
async fn a_removal_between_reading_the_access_and_registering_is_caught_up_and_narrows_the_stream() {
    let nats = NatsServer::start();
    let bus = Arc::new(NatsBus::connect(&nats.url(), "TEST").await.expect("connect"));
    bus.ensure_stream().await.expect("stream");
    let shutdown = CancellationToken::new();
    let checks = AccessChecks::new(Duration::from_secs(3600), shutdown.clone());
    let (hub, feed) = open_hub(&bus, &shutdown).await;

    let user = UserId::generate();
    let own = subject::notifications(user);
    let secret = ChannelId::generate();
    let private = subject::private_channel(secret);
    // The access is read here (the user is still a member) ...
    let visible_as_of = hub.position().expect("open");
    let visible = Visible {
        user,
        subjects: vec![private.clone(), own.clone()],
        own: own.clone(),
        joined: HashSet::new(),
        member_of: HashMap::new(),
    };
    // ... then the user is removed, and the hub sees it before the stream registers.
    let removal = Outgoing {
        subject: own.clone(),
        event_id: EventId::generate(),
        payload: Bytes::from(format!(
            r#"{{"type":"member.removed","data":{{"user":{{"id":"{user}"}}}},"channel_id":"{secret}"}}"#
        )),
    };
    let removed = bus.publish_all(&[removal]).await.expect("published")[0].seq;
    tokio::time::timeout(Duration::from_secs(10), async {
        while hub.position().expect("open").seq < removed {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the hub sees the removal");
    let mut session = StreamSession::start(
        &hub,
        bus.as_ref(),
        // What the api says now (the removal asks for a check): no longer a member.
        checks.feed("token", person(user), Fixed(Visible { subjects: vec![own.clone()], ..visible.clone() })),
        Opening { visible, visible_as_of, resume: None },
        config(),
        shutdown.clone(),
    )
    .await
    .expect("start");
    let after = bus.publish_all(&[envelope(&private, 1), envelope(&own, 2)]).await.expect("published");
    assert_eq!(next_event(&mut session).await.seq, removed, "the removal is caught up");
    assert_eq!(
        next_event(&mut session).await.seq,
        after[1].seq,
        "the channel's message after the removal never arrives, although the access read still had it"
    );
    assert!(!session.visible().subjects.contains(&private));
    shutdown.cancel();
    feed.await.expect("the feed ends with shutdown");
}
