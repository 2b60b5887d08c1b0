//! `ajet-chat tail`: messages another user sends appear live, only from the channels named;
//! after the connection is cut it reconnects with `Last-Event-ID` and prints what it missed,
//! exactly once.

use std::time::Duration;

use ajet_shared::api::wire::Channel;
use ajet_shared::client::ApiClient;
use tokio::io::{AsyncBufReadExt as _, BufReader, Lines};
use tokio::process::{Child, ChildStderr, ChildStdout};

use crate::cli::{Cli, acme, channel};
use crate::messages::body;
use crate::proxy::Proxy;
use crate::stack::Stack;

/// A running `tail`, read line by line.
struct Tail {
    child: Child,
    stdout: Lines<BufReader<ChildStdout>>,
    stderr: Lines<BufReader<ChildStderr>>,
    /// Every stdout line read so far.
    printed: Vec<String>,
}

impl Tail {
    fn start(cli: &Cli, args: &[&str]) -> Self {
        let mut child = cli.command(args).spawn().expect("tail starts");
        let stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let stderr = BufReader::new(child.stderr.take().expect("stderr")).lines();
        Self { child, stdout, stderr, printed: Vec::new() }
    }

    /// Waits for a stderr line containing `wanted`.
    async fn status(&mut self, wanted: &str) {
        loop {
            let line = tokio::time::timeout(Duration::from_secs(30), self.stderr.next_line())
                .await
                .unwrap_or_else(|_| panic!("no {wanted:?} on stderr within 30 s"))
                .expect("stderr")
                .unwrap_or_else(|| panic!("tail ended before {wanted:?}"));
            if line.contains(wanted) {
                return;
            }
        }
    }

    /// Reads stdout until a line containing `wanted`.
    async fn until(&mut self, wanted: &str) {
        loop {
            let line = tokio::time::timeout(Duration::from_secs(30), self.stdout.next_line())
                .await
                .unwrap_or_else(|_| panic!("{wanted:?} not printed within 30 s: {:?}", self.printed))
                .expect("stdout")
                .unwrap_or_else(|| panic!("tail ended before {wanted:?}: {:?}", self.printed));
            self.printed.push(line.clone());
            if line.contains(wanted) {
                return;
            }
        }
    }

    /// Stops the process and returns every line it printed.
    async fn stop(mut self) -> Vec<String> {
        self.child.kill().await.expect("kill tail");
        while let Ok(Some(line)) = self.stdout.next_line().await {
            self.printed.push(line);
        }
        self.printed
    }
}

#[tokio::test]
async fn tail_stops_with_exit_code_3_when_its_session_is_revoked() {
    let stack = Stack::start().await;
    let acme = acme(&stack).await;
    let bob = stack.login("bob").await;
    let cli = Cli::signed_in(&stack, &bob).await;
    let mut tail = Tail::start(&cli, &["tail"]);
    tail.status("tail: connected").await;
    bob.logout().await.expect("the session ends elsewhere");
    let status = tokio::time::timeout(Duration::from_secs(30), tail.child.wait())
        .await
        .expect("tail stops instead of retrying forever")
        .expect("exit status");
    assert_eq!(status.code(), Some(3), "not signed in any more");
    drop(acme);
    stack.stop().await;
}

async fn say(client: &ApiClient, channel: &Channel, text: &str) {
    client.send_message(channel.id, &body(text)).await.expect("sent");
}

#[tokio::test]
async fn tail_prints_what_another_user_sends_in_the_channels_named() {
    let stack = Stack::start().await;
    let acme = acme(&stack).await;
    let random = channel(&acme.alice, &acme.community, "random").await;
    acme.bob.join_channel(random.id).await.expect("bob joins #random");
    let cli = Cli::signed_in(&stack, &acme.bob).await;
    let mut everything = Tail::start(&cli, &["tail"]);
    let mut dev_only = Tail::start(&cli, &["tail", "#dev"]);
    everything.status("tail: connected").await;
    dev_only.status("tail: connected").await;

    say(&acme.alice, &random, "over in random").await;
    say(&acme.alice, &acme.dev, "**ship** it").await;
    everything.until("over in random").await;
    everything.until("**ship** it").await;
    dev_only.until("**ship** it").await;
    let all = everything.stop().await.join("\n");
    let dev = dev_only.stop().await.join("\n");
    assert!(
        all.contains("alice (@alice) · ") && all.contains(" · #random (id ") && all.contains(" · #dev (id "),
        "{all}"
    );
    assert!(!dev.contains("over in random"), "only #dev was asked for: {dev}");
    assert!(dev.contains("\n  **ship** it"), "{dev}");
    stack.stop().await;
}

#[tokio::test]
async fn after_its_connection_is_cut_tail_catches_up_exactly_once() {
    let stack = Stack::start().await;
    let acme = acme(&stack).await;
    let gateway = stack.gateway.base_url().trim_start_matches("http://").to_owned();
    let proxy = Proxy::start(&gateway).await;
    let cli = Cli::at(&proxy.url);
    cli.login(&acme.bob).await;
    let mut tail = Tail::start(&cli, &["tail", "--json"]);
    tail.status("tail: connected").await;

    say(&acme.alice, &acme.dev, "before the cut").await;
    tail.until("before the cut").await;
    proxy.cut();
    tail.status("tail: disconnected").await;
    say(&acme.alice, &acme.dev, "while away").await;
    proxy.resume();
    tail.status("tail: reconnected").await;
    tail.until("while away").await;
    say(&acme.alice, &acme.dev, "after the cut").await;
    tail.until("after the cut").await;
    let printed = tail.stop().await;

    let bodies: Vec<String> = printed
        .iter()
        .map(|line| {
            let event: serde_json::Value = serde_json::from_str(line).expect("one JSON event per line");
            assert_eq!(event["type"], "message.created", "{line}");
            assert_eq!(event["message"]["author"]["username"], "alice", "{line}");
            event["message"]["body_md"].as_str().expect("a body").to_owned()
        })
        .collect();
    assert_eq!(bodies, ["before the cut", "while away", "after the cut"], "each once, in order");
    // The first stream request may have reused a connection the proxy saw another request
    // on first; the reconnection after the cut opened a new one.
    let requests = proxy.stream_requests();
    assert!(
        requests.last().is_some_and(|resume| resume.as_deref().is_some_and(|id| id.contains('.'))),
        "the reconnection resumed from the last event id: {requests:?}"
    );
    stack.stop().await;
}
