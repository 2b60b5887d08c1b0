//! The scale-out fault test: two api, two tui-sm and two gateway processes (the debug
//! binaries `cargo xtask test` builds, passed as `AJET_TEST_BIN_DIR`) over a three-node
//! NATS cluster holding the stream at three replicas. While two users post through both
//! gateways and four readers follow `/tui/events` through both gateways (so both tui-sm
//! instances serve streams), one api, one tui-sm, one gateway and one NATS node are killed
//! with SIGKILL in turn and restarted. Clients behave as real ones do: a failed post is
//! sent again with its `client_msg_id` (through the other gateway), a cut stream reconnects
//! with `Last-Event-ID`. Every accepted message must then be in history once and on every
//! reader's stream once; errors while a process is down are allowed, counted and printed.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ajet_shared::api::wire::{
    Channel, CreateChannelRequest, CreateCommunityRequest, CreateInviteRequest, CreateMessageRequest, HistoryQuery,
};
use ajet_shared::client::ApiClient;
use ajet_shared::domain::ids::MessageId;
use ajet_shared::events::{Event, EventPayload};
use ajet_shared::testing::{NatsCluster, TestDb, fresh_database, restartable_port, s3_env};
use futures::StreamExt as _;

/// Phases of the run: steady load, then each kill until its process is back.
const PHASES: [&str; 5] = ["steady", "api-0 killed", "tui-sm-0 killed", "auth-gw-0 killed", "nats node 1 killed"];
/// Messages accepted while a process is down (and again once it is back) before moving on.
const ACCEPTED_PER_STEP: usize = 15;
const READERS: usize = 4;

/// One service process, restartable on its port.
struct Service {
    name: String,
    bin: PathBuf,
    env: Vec<(String, String)>,
    port: u16,
    log: PathBuf,
    child: Option<Child>,
}

impl Service {
    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).expect("service log");
        let err = log.try_clone().expect("service log handle");
        let child = Command::new(&self.bin)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("start {} ({}): {e}", self.name, self.bin.display()));
        self.child = Some(child);
    }

    /// SIGKILL, as a crash: no shutdown, no flush.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            drop(child.kill());
            drop(child.wait());
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    async fn wait_ready(&mut self) {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(child) = &mut self.child
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!(
                    "{} exited ({status}); its log:\n{}",
                    self.name,
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            if http.get(format!("{}/readyz", self.url())).send().await.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} not ready after 60 s; its log:\n{}",
                self.name,
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.kill();
    }
}

/// What the clients saw, shared by their tasks.
#[derive(Default)]
struct Tally {
    /// Messages whose post was answered with the message (201, or 200 for a resend).
    accepted: Mutex<HashSet<MessageId>>,
    /// Per reader: how often each message's `message.created` arrived.
    seen: Mutex<Vec<HashMap<MessageId, u32>>>,
    /// Per phase: failed posts, failed or cut streams.
    post_errors: Mutex<[u32; PHASES.len()]>,
    stream_errors: Mutex<[u32; PHASES.len()]>,
    resyncs: AtomicUsize,
    /// Per reader: the last event id it saw (for the report of a loss).
    last_ids: Mutex<Vec<String>>,
    /// Readers whose first stream is open: a stream opened without `Last-Event-ID` starts
    /// at the live edge, so the writers wait for all of them (a message accepted before a
    /// reader's first stream opened is not that reader's to see).
    opened: AtomicUsize,
    phase: AtomicUsize,
    /// Set when the writers are to stop.
    stop_writing: AtomicBool,
    /// Set when the readers are to stop.
    stop: AtomicBool,
}

impl Tally {
    fn count(&self, errors: &Mutex<[u32; PHASES.len()]>) {
        let phase = self.phase.load(Ordering::Relaxed);
        errors.lock().expect("tally")[phase] += 1;
    }

    fn accepted(&self) -> usize {
        self.accepted.lock().expect("tally").len()
    }
}

/// Posts `writer`'s messages until stopped; a failure is resent with the same
/// `client_msg_id` through the other gateway until it is answered.
async fn write(writer: usize, gateways: [ApiClient; 2], channel: Channel, tally: Arc<Tally>) {
    let mut n = 0_u64;
    let mut gateway = writer % 2;
    while !tally.stop_writing.load(Ordering::Relaxed) {
        let request = CreateMessageRequest {
            body_md: format!("writer {writer} message {n}"),
            parent_id: None,
            client_msg_id: Some(format!("w{writer}-{n}")),
            attachment_ids: Vec::new(),
        };
        loop {
            match gateways[gateway].send_message(channel.id, &request).await {
                Ok(message) => {
                    tally.accepted.lock().expect("tally").insert(message.id);
                    break;
                }
                Err(_) => {
                    tally.count(&tally.post_errors);
                    gateway = 1 - gateway;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
        n += 1;
    }
}

/// Follows `/tui/events` until stopped, reconnecting with `Last-Event-ID` (through the
/// other gateway when its own fails), and counts each `message.created`.
async fn read(reader: usize, gateways: [ApiClient; 2], tally: Arc<Tally>) {
    let mut last_event_id: Option<String> = None;
    let mut gateway = reader % 2;
    let mut opened = false;
    while !tally.stop.load(Ordering::Relaxed) {
        let Ok(mut events) = gateways[gateway].tui_events(last_event_id.as_deref()).await else {
            tally.count(&tally.stream_errors);
            gateway = 1 - gateway;
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        if !opened {
            opened = true;
            tally.opened.fetch_add(1, Ordering::Relaxed);
        }
        loop {
            let next = tokio::time::timeout(Duration::from_millis(200), events.next()).await;
            if tally.stop.load(Ordering::Relaxed) {
                return;
            }
            match next {
                Err(_) => {}
                Ok(Some(Ok(event))) => {
                    if event.event == "resync" {
                        tally.resyncs.fetch_add(1, Ordering::Relaxed);
                    }
                    if event.event == "message.created"
                        && let Ok(Event { payload: EventPayload::MessageCreated(message), .. }) =
                            serde_json::from_str::<Event>(&event.data)
                    {
                        *tally.seen.lock().expect("tally")[reader].entry(message.id).or_default() += 1;
                    }
                    if !event.id.is_empty() {
                        tally.last_ids.lock().expect("tally")[reader].clone_from(&event.id);
                        last_event_id = Some(event.id);
                    }
                }
                Ok(Some(Err(_)) | None) => {
                    tally.count(&tally.stream_errors);
                    gateway = 1 - gateway;
                    break;
                }
            }
        }
    }
}

/// Polls until `more` further messages have been accepted.
async fn accepted_grows(tally: &Tally, more: usize, what: &str) {
    let target = tally.accepted() + more;
    let deadline = Instant::now() + Duration::from_secs(20);
    while tally.accepted() < target {
        assert!(Instant::now() < deadline, "{what}: fewer than {more} posts accepted in 20 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

struct Cluster {
    nats: NatsCluster,
    apis: Vec<Service>,
    tuis: Vec<Service>,
    gateways: Vec<Service>,
    db: TestDb,
}

impl Cluster {
    async fn start() -> Self {
        let bin_dir = PathBuf::from(
            std::env::var("AJET_TEST_BIN_DIR")
                .expect("AJET_TEST_BIN_DIR is not set: run the tests through `cargo xtask test`"),
        );
        let logs = PathBuf::from(std::env::var("AJET_TEST_TMPDIR").expect("AJET_TEST_TMPDIR"))
            .join(format!("faults-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&logs).expect("log dir");
        let db = fresh_database().await;
        let nats = NatsCluster::start(3);
        let s3 = s3_env();
        let api_ports = [restartable_port(), restartable_port()];
        let tui_ports = [restartable_port(), restartable_port()];
        let gateway_ports = [restartable_port(), restartable_port()];
        let list = |ports: [u16; 2]| format!("[\"http://127.0.0.1:{}\",\"http://127.0.0.1:{}\"]", ports[0], ports[1]);
        let common: Vec<(String, String)> = [
            ("AJET_ENV", "dev".to_owned()),
            ("AJET_DATABASE_URL", db.url.clone()),
            ("AJET_MIGRATE_ON_START", "false".to_owned()),
            ("AJET_NATS_URL", nats.url()),
            ("AJET_STREAM_REPLICAS", "3".to_owned()),
            ("AJET_S3_ENDPOINT", s3.endpoint),
            ("AJET_S3_ACCESS_KEY", s3.access_key),
            ("AJET_S3_SECRET_KEY", s3.secret_key),
            ("AJET_S3_REGION", s3.region),
            ("AJET_S3_BUCKET", format!("test-{}", uuid::Uuid::now_v7().simple())),
            ("AJET_COOKIE_SECURE", "false".to_owned()),
            ("AJET_TUI_URLS", list(tui_ports)),
            ("AJET_WEB_URLS", format!("[\"http://{}\"]", ajet_shared::testing::dead_address())),
            ("AJET_RATE_LIMIT_PER_MINUTE", "100000".to_owned()),
            ("AJET_LOG", "warn".to_owned()),
            ("NO_COLOR", "1".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let service = |name: &str, bin: &str, n: usize, listen: &str, port: u16| {
            let mut env = common.clone();
            env.push((listen.to_owned(), format!("127.0.0.1:{port}")));
            // A session manager reads the api instance of its own number, and the other
            // while that one refuses connections.
            env.push(("AJET_API_URL".to_owned(), format!("http://127.0.0.1:{}", api_ports[n])));
            env.push(("AJET_API_URLS".to_owned(), list([api_ports[n], api_ports[1 - n]])));
            env.push(("AJET_PUBLIC_URL".to_owned(), format!("http://127.0.0.1:{}", gateway_ports[n])));
            let bin = bin_dir.join(bin);
            assert!(bin.exists(), "{} is missing: `cargo xtask test` builds the service binaries", bin.display());
            Service {
                name: format!("{name}-{n}"),
                bin,
                env,
                port,
                log: logs.join(format!("{name}-{n}.log")),
                child: None,
            }
        };
        let mut cluster = Self {
            apis: (0..2).map(|n| service("api", "ajet-api", n, "AJET_API_LISTEN", api_ports[n])).collect(),
            tuis: (0..2).map(|n| service("tui-sm", "ajet-tui-sm", n, "AJET_TUI_LISTEN", tui_ports[n])).collect(),
            gateways: (0..2)
                .map(|n| service("auth-gw", "ajet-auth-gw", n, "AJET_GATEWAY_LISTEN", gateway_ports[n]))
                .collect(),
            nats,
            db,
        };
        for service in cluster.apis.iter_mut().chain(&mut cluster.tuis).chain(&mut cluster.gateways) {
            service.spawn();
        }
        for service in cluster.apis.iter_mut().chain(&mut cluster.tuis).chain(&mut cluster.gateways) {
            service.wait_ready().await;
        }
        cluster
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_every_service_doubled_killing_one_of_each_and_a_nats_node_loses_and_duplicates_no_accepted_message() {
    let started = Instant::now();
    let mut cluster = Cluster::start().await;
    let gateway = |n: usize| ApiClient::new(cluster.gateways[n].url()).expect("client");
    let login = |client: ApiClient, name: &'static str| async move {
        let login = client.dev_login(name).await.expect("dev login");
        client.with_token(login.token)
    };
    let pair = |name: &'static str| {
        let (g0, g1) = (gateway(0), gateway(1));
        async move {
            let a = login(g0, name).await;
            let token = a.token().expect("signed in").to_owned();
            [a, g1.with_token(token)]
        }
    };
    let alice = pair("alice").await;
    let bob = pair("bob").await;
    let carol = pair("carol").await;
    let community = alice[0]
        .create_community(&CreateCommunityRequest { name: "Faults".into(), slug: "faults".into(), description: None })
        .await
        .expect("community");
    let channel = alice[0]
        .create_channel(community.id, &CreateChannelRequest { name: "load".into(), topic: None, kind: None })
        .await
        .expect("channel");
    for member in [&bob, &carol] {
        let invite = alice[0].create_invite(community.id, &CreateInviteRequest::default()).await.expect("invite");
        member[1].accept_invite(&invite.code).await.expect("accepted");
        member[1].join_channel(channel.id).await.expect("joined");
    }

    let tally = Arc::new(Tally {
        seen: Mutex::new(vec![HashMap::new(); READERS]),
        last_ids: Mutex::new(vec![String::new(); READERS]),
        ..Tally::default()
    });
    let readers: Vec<_> = (0..READERS).map(|n| tokio::spawn(read(n, carol.clone(), tally.clone()))).collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    while tally.opened.load(Ordering::Relaxed) < READERS {
        assert!(Instant::now() < deadline, "the readers' streams did not all open within 20 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let writers: Vec<_> = [alice.clone(), bob.clone()]
        .into_iter()
        .enumerate()
        .map(|(n, gateways)| tokio::spawn(write(n, gateways, channel.clone(), tally.clone())))
        .collect();
    accepted_grows(&tally, ACCEPTED_PER_STEP, "steady").await;

    for (phase, name) in PHASES.iter().enumerate().skip(1) {
        tally.phase.store(phase, Ordering::Relaxed);
        match phase {
            1 => cluster.apis[0].kill(),
            2 => cluster.tuis[0].kill(),
            3 => cluster.gateways[0].kill(),
            _ => cluster.nats.kill(1),
        }
        accepted_grows(&tally, ACCEPTED_PER_STEP, name).await;
        match phase {
            1 => cluster.apis[0].spawn(),
            2 => cluster.tuis[0].spawn(),
            3 => cluster.gateways[0].spawn(),
            _ => cluster.nats.restart(1),
        }
        match phase {
            1 => cluster.apis[0].wait_ready().await,
            2 => cluster.tuis[0].wait_ready().await,
            3 => cluster.gateways[0].wait_ready().await,
            _ => {}
        }
        accepted_grows(&tally, ACCEPTED_PER_STEP, &format!("{name}, after the restart")).await;
    }

    tally.stop_writing.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.await.expect("writer");
    }
    let accepted = tally.accepted.lock().expect("tally").clone();
    // Every reader catches up with every accepted message (or the deadline says who did not).
    // Generous: on a loaded machine a JetStream leader election after the node's kill, the
    // client's reconnect back-off and the relay's one-second retry add up; a run that is
    // caught up ends the wait at once.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let behind = tally
            .seen
            .lock()
            .expect("tally")
            .iter()
            .filter(|seen| !accepted.iter().all(|id| seen.contains_key(id)))
            .count();
        if behind == 0 || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tally.stop.store(true, Ordering::Relaxed);
    for reader in readers {
        reader.await.expect("reader");
    }

    // History, newest page first, then older ones.
    let mut history: HashMap<MessageId, u32> = HashMap::new();
    let mut query = HistoryQuery { limit: Some(100), ..HistoryQuery::default() };
    loop {
        let page = carol[1].history(channel.id, &query).await.expect("history");
        for message in &page.data {
            *history.entry(message.id).or_default() += 1;
        }
        match page.page.before {
            Some(before) if page.page.has_more => query.before = Some(before.parse().expect("cursor is a message id")),
            _ => break,
        }
    }

    let in_history = accepted.iter().filter(|id| history.get(id) == Some(&1)).count();
    let lost_from_history = accepted.iter().filter(|id| !history.contains_key(id)).count();
    let duplicated_in_history = history.values().filter(|count| **count > 1).count();
    let seen = tally.seen.lock().expect("tally").clone();
    let post_errors = *tally.post_errors.lock().expect("tally");
    let stream_errors = *tally.stream_errors.lock().expect("tally");
    println!("fault test: {} messages accepted (201/200), {} in history once", accepted.len(), in_history);
    println!("  history: lost {lost_from_history}, duplicated {duplicated_in_history}");
    let mut stream_failures = Vec::new();
    for (n, seen) in seen.iter().enumerate() {
        let once = accepted.iter().filter(|id| seen.get(id) == Some(&1)).count();
        let lost = accepted.iter().filter(|id| !seen.contains_key(id)).count();
        let duplicated = seen.values().filter(|count| **count > 1).count();
        println!("  reader {n}: on stream once {once}, lost {lost}, duplicated {duplicated}");
        if lost > 0 || duplicated > 0 {
            stream_failures.push(n);
        }
    }
    // Where each message missing from a stream is: published by the relay (at which stream
    // sequence), and how far each reader got.
    let missing: HashSet<MessageId> =
        seen.iter().flat_map(|seen| accepted.iter().filter(|id| !seen.contains_key(id)).copied()).collect();
    for id in &missing {
        let row: Option<(Option<i64>, bool)> = sqlx::query_as(
            "SELECT (SELECT stream_seq FROM message_stream_events WHERE message_id = $1),
                    EXISTS (SELECT 1 FROM outbox WHERE payload->'data'->>'id' = $1::text AND published_at IS NULL)",
        )
        .bind(id.as_uuid())
        .fetch_optional(&cluster.db.pool)
        .await
        .expect("the outbox and stream bookkeeping");
        println!(
            "  missing {id}: (stream seq, still unpublished) {row:?}; readers' last ids {:?}",
            tally.last_ids.lock().expect("tally")
        );
    }
    for (phase, name) in PHASES.iter().enumerate() {
        println!(
            "  {name:<22} failed posts {:>3} · failed or cut streams {:>3}",
            post_errors[phase], stream_errors[phase]
        );
    }
    println!("  resyncs {} · {:.1} s in all", tally.resyncs.load(Ordering::Relaxed), started.elapsed().as_secs_f64());

    assert!(accepted.len() >= ACCEPTED_PER_STEP * 9, "the stack kept accepting posts");
    assert_eq!(lost_from_history, 0, "every accepted message is in history");
    assert_eq!(duplicated_in_history, 0, "no message is twice in history");
    assert!(stream_failures.is_empty(), "readers {stream_failures:?} lost or duplicated messages");
    assert_eq!(tally.resyncs.load(Ordering::Relaxed), 0, "no reader was told to resync");
}
