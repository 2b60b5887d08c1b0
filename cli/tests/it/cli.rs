//! Runs the `ajet-chat` binary with a configuration directory of its own and no `AJET_*`
//! variables from the environment, and sets up the community most tests use.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use ajet_shared::api::wire::{Channel, Community, CreateChannelRequest, CreateCommunityRequest, CreateInviteRequest};
use ajet_shared::client::ApiClient;
use tokio::io::AsyncWriteExt as _;
use tokio::process::Command;

use crate::stack::Stack;

/// One user's CLI: a configuration directory and the server it talks to.
pub struct Cli {
    pub dir: PathBuf,
    pub server: String,
}

/// A finished run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts success and returns the run.
    #[track_caller]
    pub fn ok(self) -> Self {
        assert_eq!(self.code, 0, "exit 0 expected: {self:?}");
        self
    }

    /// Asserts the exit code and that the error says `says`.
    #[track_caller]
    pub fn fails(self, code: i32, says: &str) -> Self {
        assert_eq!(self.code, code, "exit {code} expected: {self:?}");
        assert!(self.stderr.contains(says), "stderr should say {says:?}: {self:?}");
        assert!(self.stdout.is_empty(), "nothing on stdout when failing: {self:?}");
        self
    }

    /// stdout as one JSON document.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|err| panic!("JSON on stdout ({err}): {self:?}"))
    }
}

impl Cli {
    /// A CLI with an empty configuration, pointed at the stack's gateway.
    pub fn new(stack: &Stack) -> Self {
        Self::at(stack.gateway.base_url())
    }

    /// A CLI with an empty configuration, pointed at `server`.
    pub fn at(server: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("ajet-cli-test-{}", uuid::Uuid::now_v7()));
        Self { dir, server: server.to_owned() }
    }

    /// A CLI signed in (through `login --with-token`) as `client`.
    pub async fn signed_in(stack: &Stack, client: &ApiClient) -> Self {
        let cli = Self::new(stack);
        cli.login(client).await;
        cli
    }

    pub async fn login(&self, client: &ApiClient) {
        let token = client.token().expect("a signed-in client");
        self.run_with_stdin(&["login", "--with-token"], token).await.ok();
    }

    /// The command line `ajet-chat args…`, not yet started.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ajet-chat"));
        command
            .args(args)
            .env("AJET_CONFIG_DIR", &self.dir)
            .env("AJET_SERVER", &self.server)
            .env_remove("AJET_TOKEN")
            .env_remove("AJET_PROFILE")
            .env_remove("AJET_COMMUNITY")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        command
    }

    pub async fn run(&self, args: &[&str]) -> Run {
        finished(self.command(args).output().await.expect("runs"))
    }

    pub async fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Run {
        let mut command = self.command(args);
        command.stdin(Stdio::piped());
        let mut child = command.spawn().expect("starts");
        let mut input = child.stdin.take().expect("stdin");
        input.write_all(stdin.as_bytes()).await.expect("writes stdin");
        drop(input);
        finished(child.wait_with_output().await.expect("runs"))
    }

    /// Runs `ajet-chat args…` with stdout on a terminal (a pseudo-terminal from util-linux
    /// `script`), as a person would see it; returns what the terminal received.
    pub async fn run_on_terminal(&self, args: &[&str]) -> String {
        let quoted: Vec<String> = std::iter::once(env!("CARGO_BIN_EXE_ajet-chat"))
            .chain(args.iter().copied())
            .map(|arg| format!("'{}'", arg.replace('\'', "'\\''")))
            .collect();
        let output = Command::new("script")
            .args(["--quiet", "--return", "--command", &quoted.join(" "), "/dev/null"])
            .env("AJET_CONFIG_DIR", &self.dir)
            .env("AJET_SERVER", &self.server)
            .env_remove("AJET_TOKEN")
            .env_remove("AJET_PROFILE")
            .env_remove("AJET_COMMUNITY")
            .env_remove("NO_COLOR")
            .stdin(Stdio::null())
            .output()
            .await
            .expect("script runs");
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).expect("UTF-8").replace("\r\n", "\n")
    }

    pub fn config_file(&self) -> PathBuf {
        self.dir.join("config.json")
    }
}

impl Drop for Cli {
    fn drop(&mut self) {
        // A leftover directory holds only a dead test token.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn finished(output: std::process::Output) -> Run {
    Run {
        code: output.status.code().expect("exited, not killed"),
        stdout: String::from_utf8(output.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8 stderr"),
    }
}

/// The usual cast: alice owns the community `acme` with the channel `#dev`, bob is a
/// member of both.
pub struct Acme {
    pub alice: ApiClient,
    pub bob: ApiClient,
    pub community: Community,
    pub dev: Channel,
}

pub async fn acme(stack: &Stack) -> Acme {
    let alice = stack.login("alice").await;
    let bob = stack.login("bob").await;
    let community = alice
        .create_community(&CreateCommunityRequest { name: "Acme".into(), slug: "acme".into(), description: None })
        .await
        .expect("community");
    let invite = alice.create_invite(community.id, &CreateInviteRequest::default()).await.expect("invite");
    bob.accept_invite(&invite.code).await.expect("bob joins the community");
    let dev = channel(&alice, &community, "dev").await;
    bob.join_channel(dev.id).await.expect("bob joins #dev");
    Acme { alice, bob, community, dev }
}

pub async fn channel(owner: &ApiClient, community: &Community, name: &str) -> Channel {
    owner
        .create_channel(community.id, &CreateChannelRequest { name: name.into(), topic: None, kind: None })
        .await
        .expect("channel")
}

/// The permission bits of `path`.
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).expect("exists").permissions().mode() & 0o777
}
