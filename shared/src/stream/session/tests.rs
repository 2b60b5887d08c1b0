//! The session algorithm against a scripted bus (replay answers given up front) and a
//! scripted access check, with live events dispatched straight into the hub.

use std::collections::VecDeque;
use std::sync::Mutex;

use bytes::Bytes;
use futures::stream::BoxStream;

use super::*;
use crate::domain::ids::{ChannelId, EventId, UserId};
use crate::events::bus::{Outgoing, Published, StreamState};
use crate::events::subject;
use crate::stream::access::{AccessCheck, AccessChecks};

const EPOCH: u64 = 1_000;

/// A bus whose replay returns `replayed` (or `Gone` when `None`) and records the filters.
struct ScriptedBus {
    replayed: Mutex<Option<Vec<Delivered>>>,
    filters: Mutex<Vec<String>>,
}

impl ScriptedBus {
    fn replaying(events: Option<Vec<Delivered>>) -> Self {
        Self { replayed: Mutex::new(events), filters: Mutex::new(Vec::new()) }
    }
}

impl EventBus for ScriptedBus {
    async fn publish_all(&self, _batch: &[Outgoing]) -> Result<Vec<Published>, BusError> {
        Err(BusError::Publish("a scripted bus publishes nothing".into()))
    }

    async fn ensure_stream(&self) -> Result<StreamState, BusError> {
        self.stream_state().await
    }

    async fn stream_state(&self) -> Result<StreamState, BusError> {
        Ok(StreamState { epoch: EPOCH, first_seq: 1, last_seq: 100 })
    }

    async fn live(
        &self,
        _filters: Vec<String>,
        _after_seq: Option<u64>,
    ) -> Result<BoxStream<'static, Result<Delivered, BusError>>, BusError> {
        Ok(futures::stream::pending().boxed())
    }

    async fn remove(&self, _seq: u64, _event_id: EventId) -> Result<(), BusError> {
        Ok(())
    }

    async fn replay(&self, epoch: u64, _after_seq: u64, filters: Vec<String>) -> Result<Replay, BusError> {
        *self.filters.lock().expect("filters") = filters;
        let replayed = self.replayed.lock().expect("script").take();
        Ok(match replayed {
            Some(events) if epoch == EPOCH => Replay::Events(futures::stream::iter(events.into_iter().map(Ok)).boxed()),
            _ => Replay::Gone,
        })
    }
}

/// Access answers handed out in order; after the last one, the last one again.
#[derive(Clone)]
struct ScriptedAccess(Arc<Mutex<VecDeque<Access>>>);

impl ScriptedAccess {
    fn answering(answers: Vec<Access>) -> Self {
        Self(Arc::new(Mutex::new(answers.into())))
    }
}

impl AccessCheck for ScriptedAccess {
    async fn check(&self) -> Access {
        let mut answers = self.0.lock().expect("script");
        if answers.len() > 1 { answers.pop_front() } else { answers.front().cloned() }.unwrap_or(Access::Unknown)
    }
}

fn user() -> UserId {
    static USER: std::sync::OnceLock<UserId> = std::sync::OnceLock::new();
    *USER.get_or_init(UserId::generate)
}

fn person() -> crate::api::wire::User {
    crate::api::wire::User { id: user(), username: "me".into(), display_name: "Me".into(), avatar_url: None }
}

fn visible(subjects: &[&str]) -> Visible {
    let mut subjects: Vec<String> = subjects.iter().map(|s| (*s).to_owned()).collect();
    subjects.push("own".into());
    Visible { user: user(), subjects, own: "own".into(), joined: HashSet::new(), member_of: HashMap::new() }
}

fn delivered(seq: u64, subject: &str) -> Delivered {
    Delivered {
        seq,
        subject: subject.to_owned(),
        payload: Bytes::from(format!(r#"{{"type":"message.created","data":{{"n":{seq}}}}}"#)),
    }
}

fn live(seq: u64, subject: &str, event_type: &str) -> Arc<HubEvent> {
    let data = format!(r#"{{"type":"{event_type}","data":{{}}}}"#);
    Arc::new(HubEvent::parse(EPOCH, seq, subject.into(), &data).expect("an envelope"))
}

/// An event of `channel` on a community subject, by `actor`, about `member` if given.
fn in_channel(seq: u64, event_type: &str, channel: ChannelId, actor: UserId, member: Option<UserId>) -> Arc<HubEvent> {
    let data = match member {
        Some(member) => format!(r#"{{"user":{{"id":"{member}"}},"channel_id":"{channel}"}}"#),
        None => "{}".to_owned(),
    };
    let envelope = format!(r#"{{"type":"{event_type}","data":{data},"channel_id":"{channel}","actor_id":"{actor}"}}"#);
    Arc::new(HubEvent::parse(EPOCH, seq, COMMUNITY.into(), &envelope).expect("an envelope"))
}

const COMMUNITY: &str = "chat.events.c";

fn config() -> SessionConfig {
    SessionConfig {
        queue_len: 8,
        unconfirmed_limit: Duration::from_secs(3600),
        replay_stall: Duration::from_secs(5),
        idle_after: Duration::from_secs(3600),
        max_per_user: 100,
    }
}

/// Opening with `visible` read at the hub's position.
fn opening<'a>(hub: &Hub, visible: Visible, resume: Option<&'a str>) -> Opening<'a> {
    Opening { visible, visible_as_of: hub.position().expect("a hub with a position"), resume }
}

/// A hub that no longer holds the events after 10, where the resumed sessions start: what
/// they missed comes from the (scripted) stream's replay.
fn hub_past_10() -> Hub {
    Hub::at(EPOCH, 50)
}

/// Checks every hour unless a test says otherwise.
const RARELY: Duration = Duration::from_secs(3600);

async fn start(
    hub: &Hub,
    bus: &ScriptedBus,
    access: ScriptedAccess,
    resume: Option<&str>,
    config: SessionConfig,
) -> (StreamSession, CancellationToken) {
    start_checking_every(RARELY, hub, bus, access, resume, config).await
}

async fn start_checking_every(
    every: Duration,
    hub: &Hub,
    bus: &ScriptedBus,
    access: ScriptedAccess,
    resume: Option<&str>,
    config: SessionConfig,
) -> (StreamSession, CancellationToken) {
    let shutdown = CancellationToken::new();
    let feed = AccessChecks::new(every, shutdown.clone()).feed("token", person(), access);
    let session = StreamSession::start(hub, bus, feed, opening(hub, visible(&["a"]), resume), config, shutdown.clone())
        .await
        .expect("start");
    (session, shutdown)
}

/// The next item, failing the test if none comes in time.
async fn next(session: &mut StreamSession) -> Item {
    tokio::time::timeout(Duration::from_secs(10), session.next()).await.expect("an item in time")
}

fn seq_of(item: &Item) -> u64 {
    match item {
        Item::Event(event) => event.seq,
        other => panic!("expected an event, got {other:?}"),
    }
}

#[tokio::test]
async fn a_resumed_session_replays_then_goes_live_without_duplicates_or_gaps() {
    let hub = hub_past_10();
    let bus = ScriptedBus::replaying(Some(vec![delivered(11, "a"), delivered(12, "a")]));
    let (mut session, _shutdown) =
        start(&hub, &bus, ScriptedAccess::answering(vec![]), Some("1000.10"), config()).await;
    // Live events that arrived while the replay ran overlap it; only newer ones go out.
    hub.dispatch("a", &live(12, "a", "message.created"));
    hub.dispatch("a", &live(13, "a", "message.created"));
    let seqs =
        [seq_of(&next(&mut session).await), seq_of(&next(&mut session).await), seq_of(&next(&mut session).await)];
    assert_eq!(seqs, [11, 12, 13]);
    assert_eq!(*bus.filters.lock().expect("filters"), vec!["a".to_owned(), "own".to_owned()], "replay is filtered");
}

#[tokio::test]
async fn a_replayed_event_carries_the_position_to_resume_from_in_its_frame() {
    let hub = hub_past_10();
    let bus = ScriptedBus::replaying(Some(vec![delivered(11, "a")]));
    let (mut session, _shutdown) =
        start(&hub, &bus, ScriptedAccess::answering(vec![]), Some("1000.10"), config()).await;
    let Item::Event(event) = next(&mut session).await else { panic!("an event") };
    assert_eq!(
        event.sse_frame().as_ref(),
        b"id: 1000.11\nevent: message.created\ndata: {\"type\":\"message.created\",\"data\":{\"n\":11}}\n\n"
    );
}

#[tokio::test]
async fn a_position_the_stream_no_longer_holds_yields_resync_then_live_events() {
    let hub = Hub::at(EPOCH, 0);
    let bus = ScriptedBus::replaying(None);
    for resume in ["999.10", "not-a-position"] {
        let (mut session, _shutdown) =
            start(&hub, &bus, ScriptedAccess::answering(vec![]), Some(resume), config()).await;
        assert!(matches!(next(&mut session).await, Item::Resync(_)), "{resume}: resync first");
        hub.dispatch("a", &live(5, "a", "message.created"));
        assert_eq!(seq_of(&next(&mut session).await), 5, "{resume}: everything after the resync is live");
    }
}

#[tokio::test]
async fn replayed_and_live_events_of_subjects_not_visible_are_dropped() {
    let hub = hub_past_10();
    // A replay that ignores its filters must still not leak another subject.
    let bus = ScriptedBus::replaying(Some(vec![delivered(11, "b"), delivered(12, "a")]));
    let (mut session, _shutdown) =
        start(&hub, &bus, ScriptedAccess::answering(vec![]), Some("1000.10"), config()).await;
    assert_eq!(seq_of(&next(&mut session).await), 12);
    hub.dispatch("b", &live(13, "b", "message.created"));
    hub.dispatch("a", &live(14, "a", "message.created"));
    assert_eq!(seq_of(&next(&mut session).await), 14);
}

#[tokio::test]
async fn a_refused_token_ends_the_session_for_good() {
    let hub = Hub::at(EPOCH, 0);
    let bus = ScriptedBus::replaying(None);
    let access = ScriptedAccess::answering(vec![Access::Refused]);
    let (mut session, _shutdown) =
        start_checking_every(Duration::from_millis(20), &hub, &bus, access, None, config()).await;
    assert!(matches!(next(&mut session).await, Item::End(End::Refused)));
    hub.dispatch("a", &live(5, "a", "message.created"));
    assert!(matches!(next(&mut session).await, Item::End(End::Refused)), "an ended session stays ended");
}

#[tokio::test]
async fn gained_access_yields_resync_and_delivers_the_new_subject_while_lost_access_narrows_at_once() {
    let hub = Hub::at(EPOCH, 0);
    let bus = ScriptedBus::replaying(None);
    let access = ScriptedAccess::answering(vec![Access::Allowed(visible(&["b"]))]);
    let (mut session, _shutdown) = start(&hub, &bus, access, None, config()).await;
    // Joining is announced on the user's own subject: access is re-checked at once.
    hub.dispatch("own", &live(5, "own", "member.joined"));
    assert_eq!(seq_of(&next(&mut session).await), 5);
    assert!(matches!(next(&mut session).await, Item::Resync(_)), "b was gained");
    hub.dispatch("a", &live(6, "a", "message.created"));
    hub.dispatch("b", &live(7, "b", "message.created"));
    assert_eq!(seq_of(&next(&mut session).await), 7, "a was lost, b gained");
    assert_eq!(session.visible(), &visible(&["b"]));
}

#[tokio::test]
async fn access_that_stays_unconfirmed_ends_the_session() {
    let hub = Hub::at(EPOCH, 0);
    let bus = ScriptedBus::replaying(None);
    let config = SessionConfig { unconfirmed_limit: Duration::from_millis(100), ..config() };
    let access = ScriptedAccess::answering(vec![Access::Unknown]);
    let (mut session, _shutdown) =
        start_checking_every(Duration::from_millis(20), &hub, &bus, access, None, config).await;
    assert!(matches!(next(&mut session).await, Item::End(End::Unconfirmed)));
}

#[tokio::test]
async fn a_connection_that_falls_behind_ends_with_overflow_after_what_it_had_queued() {
    let hub = Hub::at(EPOCH, 0);
    let bus = ScriptedBus::replaying(None);
    let config = SessionConfig { queue_len: 2, ..config() };
    let (mut session, _shutdown) = start(&hub, &bus, ScriptedAccess::answering(vec![]), None, config).await;
    for seq in 1..=3 {
        hub.dispatch("a", &live(seq, "a", "message.created"));
    }
    assert_eq!(seq_of(&next(&mut session).await), 1);
    assert_eq!(seq_of(&next(&mut session).await), 2);
    assert!(matches!(next(&mut session).await, Item::End(End::Overflow)));
}

#[tokio::test]
async fn shutdown_ends_the_session_and_silence_yields_idle() {
    let hub = Hub::at(EPOCH, 0);
    let bus = ScriptedBus::replaying(None);
    let config = SessionConfig { idle_after: Duration::from_millis(20), ..config() };
    let (mut session, shutdown) = start(&hub, &bus, ScriptedAccess::answering(vec![]), None, config).await;
    assert!(matches!(next(&mut session).await, Item::Idle));
    shutdown.cancel();
    assert!(matches!(next(&mut session).await, Item::End(End::Shutdown)));
}

#[tokio::test]
async fn every_connection_shares_one_frame_per_event() {
    let hub = Hub::at(EPOCH, 0);
    let bus = ScriptedBus::replaying(None);
    let (mut first, _a) = start(&hub, &bus, ScriptedAccess::answering(vec![]), None, config()).await;
    let (mut second, _b) = start(&hub, &bus, ScriptedAccess::answering(vec![]), None, config()).await;
    hub.dispatch("a", &live(5, "a", "message.created"));
    let (Item::Event(one), Item::Event(two)) = (next(&mut first).await, next(&mut second).await) else {
        panic!("both get the event")
    };
    assert!(Arc::ptr_eq(&one, &two), "the event is parsed once");
    assert_eq!(one.sse_frame().as_ptr(), two.sse_frame().as_ptr(), "and its frame is built once");
}

#[tokio::test]
async fn of_a_community_only_joined_channels_traffic_and_other_channels_channel_level_events_arrive() {
    let hub = Hub::at(EPOCH, 0);
    let bus = ScriptedBus::replaying(None);
    let (joined, other, created) = (ChannelId::generate(), ChannelId::generate(), ChannelId::generate());
    let someone = UserId::generate();
    let mut following = visible(&[COMMUNITY]);
    following.joined.insert(joined);
    let shutdown = CancellationToken::new();
    let feed = AccessChecks::new(RARELY, shutdown.clone()).feed("token", person(), ScriptedAccess::answering(vec![]));
    let mut session = StreamSession::start(
        &hub,
        &bus,
        feed,
        opening(&hub, following, None),
        SessionConfig { queue_len: 32, ..config() },
        shutdown.clone(),
    )
    .await
    .expect("start");
    for event in [
        in_channel(1, "message.created", other, someone, None),
        in_channel(2, "reaction.added", other, someone, None),
        in_channel(3, "member.joined", other, someone, Some(someone)),
        in_channel(4, "message.created", joined, someone, None),
        in_channel(5, "channel.updated", other, someone, None),
        in_channel(6, "pin.added", other, someone, None),
        // The user's own join of `other` arrives, and from then on its traffic.
        in_channel(7, "member.joined", other, user(), Some(user())),
        in_channel(8, "message.created", other, someone, None),
        // A channel the user creates is theirs at once.
        in_channel(9, "channel.created", created, user(), None),
        in_channel(10, "message.created", created, someone, None),
        // Leaving stops the traffic again.
        in_channel(11, "member.left", joined, user(), Some(user())),
        in_channel(12, "message.created", joined, someone, None),
        in_channel(13, "channel.archived", joined, someone, None),
    ] {
        hub.dispatch(COMMUNITY, &event);
    }
    let mut seqs = Vec::new();
    while seqs.last() != Some(&13) {
        seqs.push(seq_of(&next(&mut session).await));
    }
    assert_eq!(seqs, [4, 5, 7, 8, 9, 10, 11, 13]);
}

/// Counts its checks.
#[derive(Clone, Default)]
struct CountingAccess(Arc<std::sync::atomic::AtomicUsize>);

impl AccessCheck for CountingAccess {
    async fn check(&self) -> Access {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Access::Allowed(visible(&["a"]))
    }
}

#[tokio::test]
async fn the_streams_of_one_credential_share_one_check_and_each_gets_its_result() {
    let hub = Hub::at(EPOCH, 0);
    let bus = ScriptedBus::replaying(None);
    let shutdown = CancellationToken::new();
    let checks = AccessChecks::new(Duration::from_millis(50), shutdown.clone());
    let counting = CountingAccess::default();
    let mut sessions = Vec::new();
    for _ in 0..5 {
        let feed = checks.feed("token", person(), counting.clone());
        sessions.push(
            StreamSession::start(&hub, &bus, feed, opening(&hub, visible(&[]), None), config(), shutdown.clone())
                .await
                .expect("start"),
        );
    }
    // Each session learns it may see `a` now (a resync), from the same checks.
    for session in &mut sessions {
        assert!(matches!(next(session).await, Item::Resync(_)));
    }
    let checked = counting.0.load(std::sync::atomic::Ordering::SeqCst);
    assert!((1..=2).contains(&checked), "one check per period for all five streams, not five: {checked}");
}

#[tokio::test]
async fn the_users_own_removal_narrows_the_stream_at_the_event_and_the_next_ones_of_that_channel_stay_out() {
    let hub = Hub::at(EPOCH, 0);
    let bus = ScriptedBus::replaying(None);
    let secret = ChannelId::generate();
    let private = subject::private_channel(secret);
    let shutdown = CancellationToken::new();
    let feed = AccessChecks::new(RARELY, shutdown.clone()).feed("token", person(), ScriptedAccess::answering(vec![]));
    let member_of = visible(&[private.as_str()]);
    let mut session =
        StreamSession::start(&hub, &bus, feed, opening(&hub, member_of, None), config(), shutdown.clone())
            .await
            .expect("start");
    let removal =
        format!(r#"{{"type":"member.removed","data":{{"user":{{"id":"{}"}}}},"channel_id":"{secret}"}}"#, user());
    hub.dispatch(&private, &Arc::new(HubEvent::parse(EPOCH, 1, private.clone(), &removal).expect("envelope")));
    hub.dispatch(&private, &live(2, &private, "message.created"));
    hub.dispatch("own", &live(3, "own", "read.updated"));
    assert_eq!(seq_of(&next(&mut session).await), 1, "the removal itself is delivered");
    assert_eq!(seq_of(&next(&mut session).await), 3, "nothing of the channel after it");
    assert!(!session.visible().subjects.contains(&private));
}

#[tokio::test]
async fn a_revocation_on_the_users_own_subject_re_checks_at_once_and_is_not_forwarded() {
    let hub = Hub::at(EPOCH, 0);
    let bus = ScriptedBus::replaying(None);
    // The periodic check is an hour away; only the revocation event can end the stream.
    let access = ScriptedAccess::answering(vec![Access::Refused]);
    let (mut session, _shutdown) = start(&hub, &bus, access, None, config()).await;
    hub.dispatch("own", &live(1, "own", "access.revoked"));
    assert!(matches!(next(&mut session).await, Item::End(End::Refused)));
}

/// An event of the private channel `channel` on its subject: `member.removed` of the user,
/// or a message.
fn private_event(seq: u64, channel: ChannelId, event_type: &str) -> Delivered {
    let payload = match event_type {
        "member.removed" => {
            format!(r#"{{"type":"member.removed","data":{{"user":{{"id":"{}"}}}},"channel_id":"{channel}"}}"#, user())
        }
        _ => format!(r#"{{"type":"{event_type}","data":{{}},"channel_id":"{channel}"}}"#),
    };
    Delivered { seq, subject: subject::private_channel(channel), payload: Bytes::from(payload) }
}

fn as_live(delivered: &Delivered) -> Arc<HubEvent> {
    Arc::new(HubEvent::from_delivered(delivered, EPOCH).expect("an envelope"))
}

#[tokio::test]
async fn a_removal_met_in_the_replay_narrows_the_rest_of_it_and_the_live_copies_of_the_same_events_change_nothing() {
    let hub = hub_past_10();
    let secret = ChannelId::generate();
    let private = subject::private_channel(secret);
    let replayed = vec![
        private_event(11, secret, "member.removed"),
        private_event(12, secret, "message.created"),
        delivered(13, "a"),
    ];
    // The same events also reached the live queue while the replay ran, and more after.
    let live_too =
        [as_live(&replayed[0]), as_live(&replayed[1]), as_live(&private_event(14, secret, "message.created"))];
    let bus = ScriptedBus::replaying(Some(replayed));
    let shutdown = CancellationToken::new();
    let feed = AccessChecks::new(RARELY, shutdown.clone()).feed("token", person(), ScriptedAccess::answering(vec![]));
    let mut session = StreamSession::start(
        &hub,
        &bus,
        feed,
        opening(&hub, visible(&["a", private.as_str()]), Some("1000.10")),
        config(),
        shutdown.clone(),
    )
    .await
    .expect("start");
    for event in &live_too {
        hub.dispatch(&private, event);
    }
    hub.dispatch("a", &live(15, "a", "message.created"));
    let seqs =
        [seq_of(&next(&mut session).await), seq_of(&next(&mut session).await), seq_of(&next(&mut session).await)];
    assert_eq!(seqs, [11, 13, 15], "nothing of the channel after the removal, replayed or live");
    assert!(!session.visible().subjects.contains(&private));
}

/// Access answers handed out one per permit, announcing each check as it starts.
#[derive(Clone)]
struct GatedAccess {
    answers: ScriptedAccess,
    permits: Arc<tokio::sync::Semaphore>,
    started: Arc<tokio::sync::Notify>,
}

impl AccessCheck for GatedAccess {
    async fn check(&self) -> Access {
        self.started.notify_one();
        self.permits.acquire().await.expect("open").forget();
        self.answers.check().await
    }
}

#[tokio::test]
async fn a_check_that_started_before_the_stream_followed_a_removal_cannot_reopen_the_channel() {
    let hub = Hub::at(EPOCH, 0);
    let bus = ScriptedBus::replaying(None);
    let secret = ChannelId::generate();
    let private = subject::private_channel(secret);
    let member = visible(&["a", private.as_str()]);
    let gated = GatedAccess {
        answers: ScriptedAccess::answering(vec![Access::Allowed(member.clone()), Access::Allowed(visible(&["a"]))]),
        permits: Arc::new(tokio::sync::Semaphore::new(0)),
        started: Arc::new(tokio::sync::Notify::new()),
    };
    let shutdown = CancellationToken::new();
    let checks = AccessChecks::new(RARELY, shutdown.clone());
    let feed = checks.feed("token", person(), gated.clone());
    let mut watching = checks.feed("token", person(), gated.clone()).results;
    let mut session = StreamSession::start(&hub, &bus, feed, opening(&hub, member, None), config(), shutdown.clone())
        .await
        .expect("start");
    // An access event asks for a check; it starts (and reads the old membership) ...
    hub.dispatch("own", &live(1, "own", "member.joined"));
    assert_eq!(seq_of(&next(&mut session).await), 1);
    gated.started.notified().await;
    // ... the removal arrives and the stream narrows by itself ...
    hub.dispatch(&private, &as_live(&private_event(2, secret, "member.removed")));
    assert_eq!(seq_of(&next(&mut session).await), 2);
    // ... and then the old check's answer comes, before the channel's next message.
    gated.permits.add_permits(1);
    tokio::time::timeout(Duration::from_secs(10), watching.changed()).await.expect("in time").expect("a result");
    hub.dispatch(&private, &as_live(&private_event(3, secret, "message.created")));
    hub.dispatch("a", &live(4, "a", "message.created"));
    let item = next(&mut session).await;
    assert!(matches!(item, Item::Event(ref event) if event.seq == 4), "the stale answer is not applied: {item:?}");
    assert!(!session.visible().subjects.contains(&private));
    // A fresh check was asked for instead, and its answer applies.
    gated.permits.add_permits(1);
    tokio::time::timeout(Duration::from_secs(10), watching.changed()).await.expect("in time").expect("a result");
    assert_eq!(
        watching.borrow().as_ref().map(|checked| checked.access.clone()),
        Some(Access::Allowed(visible(&["a"])))
    );
}

#[tokio::test]
async fn a_user_over_the_per_process_stream_cap_is_refused() {
    let hub = Hub::at(EPOCH, 0);
    let bus = ScriptedBus::replaying(None);
    let config = SessionConfig { max_per_user: 1, ..config() };
    let (_first, _a) = start(&hub, &bus, ScriptedAccess::answering(vec![]), None, config).await;
    let shutdown = CancellationToken::new();
    let feed = AccessChecks::new(RARELY, shutdown.clone()).feed("token", person(), ScriptedAccess::answering(vec![]));
    let refused = StreamSession::start(&hub, &bus, feed, opening(&hub, visible(&["a"]), None), config, shutdown).await;
    assert!(matches!(refused, Err(StartError::TooManyStreams(_))));
}

#[tokio::test]
async fn a_position_too_far_behind_the_live_edge_gets_a_resync_not_a_replay() {
    let hub = Hub::at(EPOCH, MAX_REPLAY + 20);
    let bus = ScriptedBus::replaying(Some(vec![delivered(11, "a")]));
    let (mut session, _shutdown) =
        start(&hub, &bus, ScriptedAccess::answering(vec![]), Some("1000.10"), config()).await;
    assert!(matches!(next(&mut session).await, Item::Resync(_)), "no week-long replay for a made-up position");
    assert!(bus.filters.lock().expect("filters").is_empty(), "the stream was not asked for a replay");
}
