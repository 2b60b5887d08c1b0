//! A TCP proxy in front of the gateway that a test can cut: `cut` drops every connection
//! through it and turns new ones away until `resume`, as a network outage or a restarting
//! proxy would. It remembers each request's `Last-Event-ID`, so a test can see how a
//! client resumed (of the first request on each connection: enough for a reconnect, which
//! opens a new one).

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

#[derive(Default)]
struct State {
    open: bool,
    connections: Vec<JoinHandle<()>>,
    /// Each `GET /tui/events` through the proxy: its `Last-Event-ID`, if any.
    stream_requests: Vec<Option<String>>,
}

pub struct Proxy {
    pub url: String,
    state: Arc<Mutex<State>>,
    accept: JoinHandle<()>,
}

impl Proxy {
    /// Listens on `127.0.0.1:0` and forwards to `upstream` (`host:port`).
    pub async fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let state = Arc::new(Mutex::new(State { open: true, ..State::default() }));
        let upstream = upstream.to_owned();
        let shared = Arc::clone(&state);
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let mut state = shared.lock().expect("lock");
                if !state.open {
                    drop(client);
                    continue;
                }
                let connection = tokio::spawn(forward(client, upstream.clone(), Arc::clone(&shared)));
                state.connections.push(connection);
            }
        });
        Self { url, state, accept }
    }

    /// Drops every open connection and refuses new ones.
    pub fn cut(&self) {
        let mut state = self.state.lock().expect("lock");
        state.open = false;
        for connection in state.connections.drain(..) {
            connection.abort();
        }
    }

    pub fn resume(&self) {
        self.state.lock().expect("lock").open = true;
    }

    /// The `Last-Event-ID` of each event-stream request so far, in order.
    pub fn stream_requests(&self) -> Vec<Option<String>> {
        self.state.lock().expect("lock").stream_requests.clone()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
        self.accept.abort();
    }
}

async fn forward(mut client: TcpStream, upstream: String, state: Arc<Mutex<State>>) {
    let Ok(mut server) = TcpStream::connect(&upstream).await else { return };
    // Read the request head to note a stream request's Last-Event-ID, then pass it on.
    let mut head = Vec::new();
    let mut buffer = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match client.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => head.extend_from_slice(&buffer[..read]),
        }
    }
    let text = String::from_utf8_lossy(&head).to_lowercase();
    if text.starts_with("get /tui/events") {
        let resume =
            text.lines().find_map(|line| line.strip_prefix("last-event-id:")).map(|value| value.trim().to_owned());
        state.lock().expect("lock").stream_requests.push(resume);
    }
    if server.write_all(&head).await.is_err() {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
}
