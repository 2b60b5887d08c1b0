//! `ajet-chat tui` end to end, in tmux: the real binary in a detached 100×30 session on a
//! tmux server of its own, driven by `send-keys` and read back by `capture-pane`, against
//! the whole stack, with what it does checked over the API. Every wait polls the screen
//! (or the API) against a deadline. The captured screens are saved under
//! `AJET_TEST_ARTIFACTS/tui` (xtask: `.test-artifacts/tui/`), one text file per step.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use ajet_shared::api::wire::{
    CreateCommunityRequest, CreateInviteRequest, HistoryQuery, Message, NotifyLevel, UpdatePreferencesRequest,
};
use ajet_shared::client::ApiClient;
use ajet_shared::domain::ids::{ChannelId, CommunityId};

use crate::cli::{acme, channel};
use crate::messages::body;
use crate::stack::Stack;

/// How long anything may take to show.
const DEADLINE: Duration = Duration::from_secs(30);

/// A tmux server on its own socket running one session, `tui`; killed when dropped.
struct Tmux {
    tmux: String,
    socket: String,
    dir: PathBuf,
    artifacts: PathBuf,
}

impl Tmux {
    /// Starts `ajet-chat tui --channel dev` at 100×30 in a shell that says how it exited,
    /// with configuration and state directories of its own, signed in with `token`.
    fn start(server: &str, token: &str) -> Self {
        let tmux = std::env::var("AJET_TEST_TMUX").unwrap_or_else(|_| "tmux".to_owned());
        let id = uuid::Uuid::now_v7();
        let dir = std::env::temp_dir().join(format!("ajet-tui-test-{id}"));
        for sub in ["config", "state"] {
            std::fs::create_dir_all(dir.join(sub)).expect("test directories");
        }
        // The pane stays after the program ends (to read how it ended); no status line, so
        // the program has the whole window.
        std::fs::write(dir.join("tmux.conf"), "set -g remain-on-exit on\nset -g status off\n").expect("tmux.conf");
        let artifacts = std::env::var("AJET_TEST_ARTIFACTS")
            .map_or_else(|_| std::env::temp_dir().join("ajet-artifacts"), PathBuf::from)
            .join("tui");
        std::fs::create_dir_all(&artifacts).expect("artifact directory");
        let this = Self { tmux, socket: format!("ajet-tui-{id}"), dir, artifacts };
        let script = r#""$0" tui --channel dev; status=$?; echo "ajet-chat exited with $status"; exit $status"#;
        let mut command = this.command();
        command
            .arg("-f")
            .arg(this.dir.join("tmux.conf"))
            .args(["new-session", "-d", "-s", "tui", "-x", "100", "-y", "30", "sh", "-c", script])
            .arg(env!("CARGO_BIN_EXE_ajet-chat"))
            // The first command starts the server, whose environment the program inherits.
            .env("AJET_CONFIG_DIR", this.dir.join("config"))
            .env("XDG_CONFIG_HOME", this.dir.join("config"))
            .env("XDG_STATE_HOME", this.dir.join("state"))
            .env("AJET_SERVER", server)
            .env("AJET_TOKEN", token)
            .env("TERM", "xterm-256color")
            // Five hours east of UTC (POSIX signs are reversed): times show in local time.
            .env("TZ", "AJT-5")
            .env_remove("AJET_PROFILE")
            .env_remove("AJET_COMMUNITY")
            .env_remove("NO_COLOR")
            .env_remove("TMUX");
        let status = command.status().expect("tmux runs (cargo xtask test installs it)");
        assert!(status.success(), "tmux new-session: {status}");
        this
    }

    fn command(&self) -> std::process::Command {
        let mut command = std::process::Command::new(&self.tmux);
        command.args(["-L", &self.socket]);
        command
    }

    /// `tmux args…`, its stdout.
    fn run(&self, args: &[&str]) -> String {
        let output = self.command().args(args).output().expect("tmux runs");
        assert!(output.status.success(), "tmux {args:?}: {output:?}");
        String::from_utf8(output.stdout).expect("UTF-8 from tmux")
    }

    /// Keys by tmux's names (`Enter`, `Tab`, `C-f`, `M-Right`).
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "tui"];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    /// `text` typed as it is.
    fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", "tui", "-l", text]);
    }

    /// How far the program got in exiting, for a failure message: the pane's state, the
    /// screen, and each thread of the program still running with what it waits in.
    fn exit_state(&self) -> String {
        let pane = self.pane("dead=#{pane_dead} status=#{pane_dead_status} signal=#{pane_dead_signal} pid=#{pane_pid}");
        let shell = self.pane("#{pane_pid}");
        let children = std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children")).unwrap_or_default();
        let mut threads = String::new();
        for pid in children.split_whitespace() {
            let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).into_iter().flatten().flatten();
            for task in tasks {
                let read = |file: &str| std::fs::read_to_string(task.path().join(file)).unwrap_or_default();
                let state =
                    read("stat").split(") ").nth(1).and_then(|rest| rest.split(' ').next()).unwrap_or("?").to_owned();
                threads.push_str(&format!(
                    "  {pid}/{:?} {} state {state} in {}\n",
                    task.file_name(),
                    read("comm").trim(),
                    read("wchan")
                ));
            }
        }
        format!("pane: {pane}\nprocesses under the shell:\n{threads}screen:\n{}", self.screen())
    }

    /// The screen as text, one line per row.
    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "tui"])
    }

    /// A format of the pane (`#{pane_dead}`…).
    fn pane(&self, format: &str) -> String {
        self.run(&["display-message", "-p", "-t", "tui", format]).trim().to_owned()
    }

    /// Polls the screen until `check` holds, saves it as `step.txt` and returns it.
    async fn until(&self, step: &str, check: impl Fn(&[&str]) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            let rows: Vec<&str> = screen.lines().collect();
            if check(&rows) {
                std::fs::write(self.artifacts.join(format!("{step}.txt")), &screen).expect("saves the screen");
                return screen;
            }
            assert!(start.elapsed() < DEADLINE, "{step}: not on screen within {DEADLINE:?}:\n{screen}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.command().arg("kill-server").status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether the screen is drawn `columns` wide and `height` high: the status line is the
/// last row, and the rule above the composer runs to the right edge.
fn sized(rows: &[&str], columns: usize, height: usize) -> bool {
    rows.len() == height
        && rows[height - 1].ends_with("F1 help")
        && rows[height - 3].ends_with('─')
        && rows[height - 3].chars().count() == columns
}

/// Polls `probe` until it answers something, for at most `DEADLINE`.
async fn eventually<T, F: Future<Output = Option<T>>>(what: &str, mut probe: impl FnMut() -> F) -> T {
    let start = Instant::now();
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(start.elapsed() < DEADLINE, "{what}: not within {DEADLINE:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls `channel`'s history (as `reader`) until a message satisfies `wanted`.
async fn posted(reader: &ApiClient, channel: ChannelId, what: &str, wanted: impl Fn(&Message) -> bool) -> Message {
    eventually(what, || async {
        let page = reader.history(channel, &HistoryQuery::default()).await.expect("history");
        page.data.into_iter().find(&wanted)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tui_in_tmux_chats_live_replies_reacts_searches_switches_community_resizes_and_quits_cleanly() {
    let stack = Stack::start().await;
    let acme = acme(&stack).await;
    let welcome = acme.alice.send_message(acme.dev.id, &body("welcome to **dev**")).await.expect("first message");
    let ops = channel(&acme.alice, &acme.community, "ops").await;
    acme.bob.join_channel(ops.id).await.expect("bob joins #ops");
    acme.alice.send_message(ops.id, &body("the needle is in the haystack")).await.expect("search target");
    let zeta = acme
        .alice
        .create_community(&CreateCommunityRequest { name: "Zeta".into(), slug: "zeta".into(), description: None })
        .await
        .expect("second community");
    let invite = acme.alice.create_invite(zeta.id, &CreateInviteRequest::default()).await.expect("invite");
    acme.bob.accept_invite(&invite.code).await.expect("bob joins Zeta");
    let channels = acme.bob.list_channels(zeta.id).await.expect("Zeta's channels").data;
    let general = channels.iter().find(|item| item.channel.name.as_deref() == Some("general")).expect("#general");
    acme.bob.join_channel(general.channel.id).await.expect("bob joins Zeta's #general");

    let token = acme.bob.token().expect("bob is signed in");
    let tmux = Tmux::start(stack.gateway.base_url(), token);

    // Signed in with the token, the channel named open, live, at 100×30.
    tmux.until("01-open", |rows| {
        rows[0].contains("│ #dev") && rows.iter().any(|r| r.contains("welcome to dev")) && sized(rows, 100, 30)
    })
    .await;
    tmux.until("02-live", |rows| rows.last().is_some_and(|r| r.contains("● live"))).await;
    // Times in the local time zone (TZ is five hours east of UTC).
    let local = welcome.created_at.to_offset(time::UtcOffset::from_hms(5, 0, 0).expect("an offset"));
    let header = format!("│ {:02}:{:02} alice", local.hour(), local.minute());
    let screen = tmux.screen();
    assert!(screen.lines().any(|row| row.ends_with(&header)), "{header:?} expected:\n{screen}");

    // Another user's message appears live.
    acme.alice.send_message(acme.dev.id, &body("live from alice")).await.expect("alice sends");
    tmux.until("03-message-from-alice", |rows| rows.iter().any(|r| r.contains("live from alice"))).await;
    let from_alice = posted(&acme.alice, acme.dev.id, "alice's message", |m| m.body_md == "live from alice").await;

    // A message typed here arrives over the API, as bob's.
    tmux.type_text("hello from the tui");
    tmux.keys(&["Enter"]);
    let mine = posted(&acme.alice, acme.dev.id, "the typed message", |m| m.body_md == "hello from the tui").await;
    assert_eq!(mine.author.username.as_deref(), Some("bob"));
    tmux.until("04-sent", |rows| rows.iter().any(|r| r.contains("hello from the tui"))).await;

    // Reply in the thread of alice's message: Tab selects the newest (mine), Up hers, t
    // opens its thread.
    tmux.keys(&["Tab", "Up", "t"]);
    tmux.until("05-thread", |rows| rows[0].contains("Thread in #dev")).await;
    tmux.type_text("a reply in the thread");
    tmux.keys(&["Enter"]);
    let reply = eventually("the reply posted", || async {
        let replies = acme.alice.list_replies(from_alice.id, &HistoryQuery::default()).await.expect("replies").data;
        replies.into_iter().find(|m| m.body_md == "a reply in the thread")
    })
    .await;
    assert_eq!(acme.alice.get_message(reply.id).await.expect("the reply").parent_id, Some(from_alice.id));
    tmux.until("06-replied", |rows| rows.iter().any(|r| r.contains("a reply in the thread"))).await;
    tmux.keys(&["Escape"]);
    tmux.until("07-thread-closed", |rows| rows[0].contains("│ #dev") && !rows[0].contains("Thread")).await;

    // React to my message: Tab selects it, r asks for the emoji.
    tmux.keys(&["Tab", "r"]);
    tmux.type_text(":tada:");
    tmux.keys(&["Enter"]);
    eventually(":tada: on my message", || async {
        let reactions = acme.alice.get_message(mine.id).await.expect("my message").reactions;
        reactions.iter().any(|r| r.emoji == ":tada:" && r.count == 1).then_some(())
    })
    .await;
    tmux.until("08-reacted", |rows| rows.iter().any(|r| r.contains("🎉 1"))).await;

    // Search, then jump to the hit in another channel.
    tmux.keys(&["C-f"]);
    tmux.type_text("needle");
    tmux.keys(&["Enter"]);
    tmux.until("09-search", |rows| rows.iter().any(|r| r.contains("haystack"))).await;
    tmux.keys(&["Enter"]);
    tmux.until("10-jumped", |rows| {
        rows[0].contains("│ #ops") && rows.iter().any(|r| r.contains("the needle is in the haystack"))
    })
    .await;

    // The next community.
    tmux.keys(&["M-Right"]);
    tmux.until("11-community", |rows| rows[0].starts_with("Zeta (2/2)") && rows[0].contains("│ #general")).await;

    // A bigger window is drawn at its new size.
    tmux.run(&["resize-window", "-t", "tui", "-x", "120", "-y", "40"]);
    tmux.until("12-resized", |rows| sized(rows, 120, 40) && rows[0].starts_with("Zeta (2/2)")).await;

    // Ctrl-C: the program exits 0, the terminal is back to the shell's screen.
    assert_eq!(tmux.pane("#{alternate_on}"), "1", "the TUI draws on the alternate screen");
    tmux.keys(&["C-c"]);
    // tmux may mark the pane dead (its terminal closed) without ever recording the exit
    // status (seen in CI: dead, no status, no signal): the shell's own "exited with" line
    // below says it then.
    let start = Instant::now();
    while tmux.pane("#{pane_dead}") != "1" {
        assert!(
            start.elapsed() < DEADLINE,
            "ajet-chat exiting on Ctrl-C: not within {DEADLINE:?}\n{}",
            tmux.exit_state()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = tmux.pane("#{pane_dead_status}");
    assert!(status.is_empty() || status == "0", "exit status {status}:\n{}", tmux.exit_state());
    assert_eq!(tmux.pane("#{alternate_on}"), "0", "the alternate screen is left");
    // tmux's "Pane is dead" line scrolls the top row into the history: read that too.
    let screen = tmux.run(&["capture-pane", "-p", "-t", "tui", "-S", "-5"]);
    std::fs::write(tmux.artifacts.join("13-quit.txt"), &screen).expect("saves the screen");
    let shell = screen.find("ajet-chat exited with 0").map(|at| &screen[at..]);
    let shell = shell.unwrap_or_else(|| panic!("back in the shell:\n{screen}"));
    assert!(!shell.contains('│') && !shell.contains("Zeta"), "nothing of the TUI is left on the screen:\n{screen}");
    assert!(tmux.dir.join("state/ajet-chat/tui-last-channel").is_file(), "the channel shown is remembered");
    drop(tmux);
    stack.stop().await;
}

/// `who`'s own preferences in `channel` as the API lists them: (starred, muted now, level).
async fn preferences(who: &ApiClient, community: CommunityId, channel: ChannelId) -> (bool, bool, NotifyLevel) {
    let channels = who.list_channels(community).await.expect("channels").data;
    let item = channels.into_iter().find(|item| item.channel.id == channel).expect("listed");
    let muted = item.muted_until.is_some_and(|until| until > time::OffsetDateTime::now_utc());
    (item.starred, muted, item.notify_level)
}

/// The sidebar's rows (left of its border), trimmed.
fn sidebar(rows: &[&str]) -> Vec<String> {
    rows.iter().map(|row| row.split('│').next().unwrap_or_default().trim().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tui_stars_mutes_and_sets_the_notify_level_by_key_and_shows_changes_made_elsewhere_live() {
    let stack = Stack::start().await;
    let acme = acme(&stack).await;
    let ops = channel(&acme.alice, &acme.community, "ops").await;
    acme.bob.join_channel(ops.id).await.expect("bob joins #ops");
    let (community, dev) = (acme.community.id, acme.dev.id);
    let token = acme.bob.token().expect("bob is signed in");
    let tmux = Tmux::start(stack.gateway.base_url(), token);
    tmux.until("prefs-01-open", |rows| rows[0].contains("│ #dev") && rows.last().is_some_and(|r| r.contains("● live")))
        .await;
    let screen = tmux.screen();
    assert!(!screen.contains("Starred"), "nothing starred yet:\n{screen}");

    // Alt+S stars the open channel: over the API, in the header, first in the sidebar.
    tmux.keys(&["M-s"]);
    eventually("#dev starred", || async { preferences(&acme.bob, community, dev).await.0.then_some(()) }).await;
    tmux.until("prefs-02-starred", |rows| {
        let side = sidebar(rows);
        rows[0].contains("│ ★ #dev")
            && side[1] == "★ Starred"
            && side[2] == "# dev"
            && side[3] == "Channels"
            && side[4] == "# ops"
            && rows.last().is_some_and(|r| r.contains("#dev: ★ starred · not muted · notify: all"))
    })
    .await;

    // Alt+N steps the notify level, Alt+M mutes.
    tmux.keys(&["M-n"]);
    eventually("#dev at mentions", || async {
        (preferences(&acme.bob, community, dev).await.2 == NotifyLevel::Mentions).then_some(())
    })
    .await;
    tmux.until("prefs-03-mentions", |rows| rows[0].contains("│ ★ #dev · notify: mentions")).await;
    tmux.keys(&["M-m"]);
    eventually("#dev muted", || async { preferences(&acme.bob, community, dev).await.1.then_some(()) }).await;
    tmux.until("prefs-04-muted", |rows| rows[0].contains("│ ★ #dev · muted · notify: mentions")).await;
    assert_eq!(preferences(&acme.bob, community, dev).await, (true, true, NotifyLevel::Mentions));

    // Changes made elsewhere (the browser, the CLI: the API) show without a restart.
    let unmute = UpdatePreferencesRequest { muted_until: Some(None), ..UpdatePreferencesRequest::default() };
    acme.bob.update_preferences(dev, &unmute).await.expect("unmuted elsewhere");
    let star = UpdatePreferencesRequest { starred: Some(true), ..UpdatePreferencesRequest::default() };
    acme.bob.update_preferences(ops.id, &star).await.expect("#ops starred elsewhere");
    tmux.until("prefs-05-elsewhere", |rows| {
        let side = sidebar(rows);
        rows[0].contains("│ ★ #dev · notify: mentions")
            && !rows[0].contains("muted")
            && side[1] == "★ Starred"
            && side[2] == "# dev"
            && side[3] == "# ops"
            && side[4] == "Channels"
    })
    .await;
    // Alt+S again takes the star off.
    tmux.keys(&["M-s"]);
    eventually("#dev unstarred", || async { (!preferences(&acme.bob, community, dev).await.0).then_some(()) }).await;
    tmux.until("prefs-06-unstarred", |rows| {
        let side = sidebar(rows);
        !rows[0].contains('★') && side[1] == "★ Starred" && side[2] == "# ops" && side[4] == "# dev"
    })
    .await;
    drop(tmux);
    stack.stop().await;
}
