//! The whole loop (`drive`) against fake gateways on a local socket: one that never
//! answers (the UI stays responsive), and one that answers the api calls and streams
//! events (initial load, a live message, the read cursor, a send, resuming the stream
//! with `Last-Event-ID`). No sleeps: each step waits to be told of the request it needs.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ajet_shared::api::paths;
use ajet_shared::api::wire::{ChannelKind, Community, Me, Page, PageInfo, Role};
use ajet_shared::domain::ids::CommunityId;
use ajet_shared::events::{Event as ChatEvent, EventMessage, EventPayload};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Serialize;
use time::OffsetDateTime;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, broadcast};

use super::*;
use crate::tui::app::tests::{author_of, item, message, user};

fn press(code: KeyCode, modifiers: KeyModifiers) -> Event {
    Event::Key(KeyEvent::new(code, modifiers))
}

#[tokio::test]
async fn a_server_that_never_answers_does_not_stop_typing_or_quitting() {
    // Accepts connections and never answers a byte.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let address = listener.local_addr().expect("an address");
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let client = ApiClient::new(format!("http://{address}")).expect("a client").with_token("ajs_test");
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("a test terminal");
    let (keys_tx, keys) = mpsc::channel(16);
    for c in "hello".chars() {
        keys_tx.send(press(KeyCode::Char(c), KeyModifiers::NONE)).await.expect("queued");
    }
    keys_tx.send(press(KeyCode::Char('c'), KeyModifiers::CONTROL)).await.expect("queued");
    // Every request would wait 20 s for the silent server; the loop must not.
    let ended =
        tokio::time::timeout(Duration::from_secs(5), drive(&mut terminal, client, None, keys, Theme::plain())).await;
    assert!(matches!(ended, Ok(Ok(None))), "the loop quit at once");
    let screen: String = terminal.backend().buffer().content().iter().map(ratatui::buffer::Cell::symbol).collect();
    assert!(screen.contains("hello"), "{screen}");
    assert!(screen.contains("connecting"), "{screen}");
    silent.abort();
}

/// One request as the fake gateway saw it.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    last_event_id: Option<String>,
    body: String,
}

/// A gateway answering the TUI's start-up calls for one user, one community and one
/// channel, streaming whatever is sent on `events` (each SSE connection ends after one
/// event, so every event is followed by a reconnection).
struct Fake {
    seen: Arc<Mutex<Vec<Seen>>>,
    /// Told of every request seen.
    arrived: Arc<Notify>,
    world: Arc<Mutex<World>>,
    events: broadcast::Sender<String>,
    address: std::net::SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
struct World {
    me: Me,
    community: CommunityId,
    channels: Vec<ajet_shared::api::wire::ChannelListItem>,
    history: Vec<ajet_shared::api::wire::Message>,
}

fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("serializes")
}

fn page<T: Serialize>(data: Vec<T>) -> String {
    json(&Page { data, page: PageInfo::default() })
}

impl Fake {
    async fn start(world: World) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let address = listener.local_addr().expect("an address");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let arrived = Arc::new(Notify::new());
        let (events, _) = broadcast::channel(16);
        let world = Arc::new(Mutex::new(world));
        let task = tokio::spawn({
            let (seen, arrived, world, events) =
                (Arc::clone(&seen), Arc::clone(&arrived), Arc::clone(&world), events.clone());
            async move {
                while let Ok((socket, _)) = listener.accept().await {
                    // Subscribed before the request is read, so an event sent once the
                    // request was seen reaches this connection.
                    let stream = events.subscribe();
                    let heard = Heard { seen: Arc::clone(&seen), arrived: Arc::clone(&arrived) };
                    tokio::spawn(answer(socket, Arc::clone(&world), heard, stream));
                }
            }
        });
        Self { seen, arrived, world, events, address, task }
    }

    /// Another user posts `message`: it joins the history and goes out on the stream.
    fn post(&self, message: &ajet_shared::api::wire::Message, community: CommunityId, id: &str) {
        self.world.lock().expect("not poisoned").history.push(message.clone());
        let payload = EventPayload::MessageCreated(EventMessage::from(message.clone()));
        let event = ChatEvent::new(payload, Some(community), Some(message.channel_id), None);
        let frame = format!("id: {id}\nevent: message.created\ndata: {}\n\n", json(&event));
        self.events.send(frame).expect("a stream is open");
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("not poisoned").clone()
    }

    /// Waits (at most 10 s) until a request matching `wanted` was seen.
    async fn wait_for(&self, what: &str, wanted: impl Fn(&Seen) -> bool) -> Seen {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            // Registered before looking, so a request arriving in between is not missed.
            let arrived = self.arrived.notified();
            if let Some(found) = self.seen().into_iter().find(|s| wanted(s)) {
                return found;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                panic!("never saw {what}: {:#?}", self.seen());
            }
        }
    }
}

/// Where a connection records its request.
struct Heard {
    seen: Arc<Mutex<Vec<Seen>>>,
    arrived: Arc<Notify>,
}

async fn answer(socket: TcpStream, world: Arc<Mutex<World>>, heard: Heard, mut events: broadcast::Receiver<String>) {
    let mut reader = BufReader::new(socket);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).await.is_err() {
        return;
    }
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or_default().to_owned(), parts.next().unwrap_or_default().to_owned());
    let path = target.split('?').next().unwrap_or_default().to_owned();
    let (mut length, mut last_event_id) = (0, None);
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).await.is_err() || header.trim().is_empty() {
            break;
        }
        let (name, value) = header.split_once(':').unwrap_or_default();
        match name.trim().to_lowercase().as_str() {
            "content-length" => length = value.trim().parse().unwrap_or(0),
            "last-event-id" => last_event_id = Some(value.trim().to_owned()),
            _ => {}
        }
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).await.is_err() {
        return;
    }
    let body = String::from_utf8_lossy(&body).into_owned();
    heard.seen.lock().expect("not poisoned").push(Seen {
        method: method.clone(),
        path: path.clone(),
        last_event_id,
        body: body.clone(),
    });
    heard.arrived.notify_waiters();
    let mut socket = reader.into_inner();
    if path == paths::TUI_EVENTS {
        let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n";
        if socket.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        if let Ok(frame) = events.recv().await {
            drop(socket.write_all(frame.as_bytes()).await);
        }
        return;
    }
    let world = world.lock().expect("not poisoned").clone();
    let channel = world.channels[0].channel.id;
    let answer = match (method.as_str(), path.as_str()) {
        ("GET", paths::ME) => Some(json(&world.me)),
        ("GET", paths::COMMANDS) => Some("[]".to_owned()),
        ("GET", p) if p == paths::community_channels(world.community) => Some(page(world.channels.clone())),
        ("GET", p) if [paths::DMS, paths::NOTIFICATIONS, &paths::community_members(world.community)].contains(&p) => {
            Some(page::<()>(Vec::new()))
        }
        ("GET", p) if p == paths::channel_messages(channel) => Some(page(world.history.clone())),
        ("POST", p) if p == paths::channel_messages(channel) => {
            let request: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            let mut sent = message(
                channel,
                author_of(&world.me.user),
                request["body_md"].as_str().unwrap_or_default(),
                OffsetDateTime::now_utc(),
            );
            sent.client_msg_id = request["client_msg_id"].as_str().map(str::to_owned);
            Some(json(&sent))
        }
        ("POST", _) => None,
        _ => Some(r#"{"error":{"code":"not_found","message":"nothing here"}}"#.to_owned()),
    };
    let response = match answer {
        Some(body) if !body.contains("\"not_found\"") => {
            format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            )
        }
        Some(body) => {
            format!(
                "HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            )
        }
        None => "HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n".to_owned(),
    };
    drop(socket.write_all(response.as_bytes()).await);
}

#[tokio::test]
async fn the_loop_loads_applies_a_live_message_marks_it_read_sends_and_resumes_after_the_last_event() {
    let alice = user("alice", "Alice");
    let bob = user("bob", "Bob");
    let community = Community {
        id: CommunityId::generate(),
        name: "Acme".into(),
        slug: "acme".into(),
        description: None,
        created_at: OffsetDateTime::UNIX_EPOCH,
        role: Role::Member,
        link_previews: true,
    };
    let general = item(Some(community.id), ChannelKind::Public, Some("general"));
    let channel = general.channel.id;
    let history = vec![message(channel, author_of(&bob), "from history", OffsetDateTime::now_utc())];
    let world = World {
        me: Me {
            user: alice,
            communities: vec![community.clone()],
            private_channels: Vec::new(),
            public_channels: Vec::new(),
        },
        community: community.id,
        channels: vec![general],
        history,
    };
    let fake = Fake::start(world).await;
    let client = ApiClient::new(format!("http://{}", fake.address)).expect("a client").with_token("ajs_test");
    let (keys_tx, keys) = mpsc::channel(16);
    let running = tokio::spawn(async move {
        let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("a test terminal");
        let result = drive(&mut terminal, client, None, keys, Theme::plain()).await;
        (result.map_err(|err| err.to_string()), terminal)
    });

    // Opened: focus sent, history loaded, and the stream open.
    fake.wait_for("the focus", |s| s.path == paths::TUI_FOCUS && s.body.contains(&channel.to_string())).await;
    fake.wait_for("the stream", |s| s.path == paths::TUI_EVENTS).await;
    let live = message(channel, author_of(&user("carol", "Carol")), "live from carol", OffsetDateTime::now_utc());
    fake.post(&live, community.id, "7.42");
    let read = paths::channel_read(channel);
    fake.wait_for("the live message marked read", |s| s.path == read && s.body.contains(&live.id.to_string())).await;
    // The connection ended after the event: the next one resumes after it.
    fake.wait_for("a resumed stream", |s| s.path == paths::TUI_EVENTS && s.last_event_id.as_deref() == Some("7.42"))
        .await;

    for c in "hi all".chars() {
        keys_tx.send(press(KeyCode::Char(c), KeyModifiers::NONE)).await.expect("queued");
    }
    keys_tx.send(press(KeyCode::Enter, KeyModifiers::NONE)).await.expect("queued");
    let sent = fake.wait_for("the send", |s| s.method == "POST" && s.path == paths::channel_messages(channel)).await;
    assert!(
        sent.body.contains("\"body_md\":\"hi all\"") && sent.body.contains("\"client_msg_id\":\"tui-"),
        "{}",
        sent.body
    );
    keys_tx.send(press(KeyCode::Char('q'), KeyModifiers::CONTROL)).await.expect("queued");
    let (result, terminal) =
        tokio::time::timeout(Duration::from_secs(10), running).await.expect("quits").expect("runs");
    assert_eq!(result, Ok(Some(channel)), "answers the channel to remember");
    let screen: String = terminal.backend().buffer().content().iter().map(ratatui::buffer::Cell::symbol).collect();
    for text in ["from history", "live from carol", "hi all", "#general"] {
        assert!(screen.contains(text), "{text} missing: {screen}");
    }
    fake.task.abort();
}
