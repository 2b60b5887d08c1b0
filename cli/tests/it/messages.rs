//! The one-shots about communities, channels and messages, as alice and bob would run them:
//! each in human text (piped, so plain) and in `--json`, checked for content and against
//! what the API then holds.

use ajet_shared::api::wire::{ChannelModerationRequest, HistoryQuery};
use ajet_shared::domain::ids::MessageId;

use crate::cli::{Cli, acme, channel};
use crate::stack::Stack;

#[tokio::test]
async fn communities_and_channels_are_listed_with_their_counts() {
    let stack = Stack::start().await;
    let acme = acme(&stack).await;
    let random = channel(&acme.alice, &acme.community, "random").await;
    acme.alice.send_message(acme.dev.id, &body("unread for bob")).await.expect("sent");
    let cli = Cli::signed_in(&stack, &acme.bob).await;

    let communities = cli.run(&["communities"]).await.ok();
    assert!(communities.stdout.starts_with("acme  Acme  member  "), "{communities:?}");
    let json = cli.run(&["communities", "--json"]).await.ok().json();
    assert_eq!(json[0]["slug"], "acme");
    assert_eq!(json[0]["role"], "member");

    let channels = cli.run(&["channels"]).await.ok();
    let dev = channels.stdout.lines().find(|line| line.starts_with("#dev")).expect("#dev listed");
    assert!(dev.contains("1 unread") && dev.contains(&acme.dev.id.to_string()), "{channels:?}");
    let other = channels.stdout.lines().find(|line| line.starts_with("#random")).expect("#random listed");
    assert!(other.contains("(not joined)"), "{channels:?}");
    let json = cli.run(&["channels", "--json"]).await.ok().json();
    let listed: Vec<&serde_json::Value> = json.as_array().expect("array").iter().collect();
    let dev = listed.iter().find(|item| item["name"] == "dev").expect("#dev in JSON");
    assert_eq!(dev["unread_count"], 1);
    assert!(listed.iter().any(|item| item["id"] == random.id.to_string().as_str()));

    cli.run(&["-c", "nope", "channels"]).await.fails(4, "no community \"nope\" among yours");
    stack.stop().await;
}

pub fn body(text: &str) -> ajet_shared::api::wire::CreateMessageRequest {
    ajet_shared::api::wire::CreateMessageRequest {
        body_md: text.into(),
        parent_id: None,
        client_msg_id: None,
        attachment_ids: Vec::new(),
    }
}

#[tokio::test]
async fn messages_are_sent_read_replied_to_reacted_to_edited_and_deleted_by_name() {
    let stack = Stack::start().await;
    let acme = acme(&stack).await;
    let cli = Cli::signed_in(&stack, &acme.alice).await;

    let sent = cli.run(&["send", "#dev", "hello **world**"]).await.ok();
    assert!(sent.stdout.starts_with("alice (@alice) · "), "{sent:?}");
    assert!(sent.stdout.contains("· #dev (id ") && sent.stdout.contains("\n  hello **world**"), "{sent:?}");
    let piped = cli.run_with_stdin(&["send", "dev", "--json"], "from\nstdin\n").await.ok().json();
    assert_eq!(piped["body_md"], "from\nstdin", "the text comes from stdin, its last newline dropped");
    let root: MessageId = piped["id"].as_str().expect("id").parse().expect("a message id");
    let reply = cli.run(&["send", "#dev", "in the thread", "--thread", &root.to_string(), "--json"]).await.ok().json();
    assert_eq!(reply["parent_id"], root.to_string().as_str());

    let once = cli.run(&["send", "@bob", "deploy done", "--client-msg-id", "ci-42", "--json"]).await.ok().json();
    let again = cli.run(&["send", "@bob", "deploy done", "--client-msg-id", "ci-42", "--json"]).await.ok().json();
    assert_eq!(once["id"], again["id"], "a retried send posts once");
    cli.run(&["send", "@bob", "other text", "--client-msg-id", "ci-42"]).await.fails(1, "client_msg_id_reused");

    let history = acme.bob.history(acme.dev.id, &HistoryQuery::default()).await.expect("bob reads").data;
    let bodies: Vec<&str> = history.iter().map(|m| m.body_md.as_str()).collect();
    assert_eq!(bodies, ["hello **world**", "from\nstdin"], "thread replies stay in their thread");

    let read = cli.run(&["read", "#dev"]).await.ok();
    let first = read.stdout.find("hello **world**").expect("first message");
    let second = read.stdout.find("  from\n  stdin").expect("second message, each line indented");
    assert!(first < second, "oldest first: {read:?}");
    assert!(read.stdout.contains("1 reply"), "the thread is shown: {read:?}");
    let json = cli.run(&["read", "#dev", "--json", "--limit", "1"]).await.ok().json();
    assert_eq!(json.as_array().expect("array").len(), 1);
    assert_eq!(json[0]["body_md"], "from\nstdin", "the newest page");
    let before = cli.run(&["read", "#dev", "--json", "--before", &root.to_string()]).await.ok().json();
    assert_eq!(before[0]["body_md"], "hello **world**");
    assert_eq!(before.as_array().expect("array").len(), 1);
    let around = cli.run(&["read", "#dev", "--json", "--around", &root.to_string()]).await.ok().json();
    assert_eq!(around.as_array().expect("array").len(), 2);

    let react = cli.run(&["react", &root.to_string(), ":tada:"]).await.ok();
    assert!(react.stdout.contains("Reacted :tada: on"), "{react:?}");
    let message = acme.bob.get_message(root).await.expect("message");
    assert_eq!(message.reactions.len(), 1);
    assert_eq!(message.reactions[0].emoji, ":tada:");
    let read = cli.run(&["read", "#dev"]).await.ok();
    assert!(read.stdout.contains(":tada: 1"), "{read:?}");
    let unreact = cli.run(&["react", &root.to_string(), ":tada:", "--remove", "--json"]).await.ok().json();
    assert_eq!(unreact["reacted"], false);
    assert!(acme.bob.get_message(root).await.expect("message").reactions.is_empty());

    let edited = cli.run(&["edit", &root.to_string(), "first edit"]).await.ok();
    assert!(edited.stdout.contains("· edited)") && edited.stdout.contains("\n  first edit"), "{edited:?}");
    let edited = cli.run(&["edit", &root.to_string(), "changed *text*", "--json"]).await.ok().json();
    assert_eq!(edited["body_md"], "changed *text*");
    assert!(!edited["edited_at"].is_null());
    assert!(cli.run(&["read", "#dev"]).await.ok().stdout.contains("· edited)"));

    let deleted = cli.run(&["delete", reply["id"].as_str().expect("reply id")]).await.ok();
    assert_eq!(deleted.stdout, format!("Deleted {}\n", reply["id"].as_str().expect("reply id")));
    let deleted = cli.run(&["delete", &root.to_string(), "--json"]).await.ok().json();
    assert_eq!(deleted["deleted"], root.to_string().as_str());
    assert!(acme.bob.get_message(root).await.expect("tombstone").deleted_at.is_some());
    let read = cli.run(&["read", "#dev"]).await.ok();
    assert!(read.stdout.contains("[deleted]") && !read.stdout.contains("changed *text*"), "{read:?}");
    stack.stop().await;
}

#[tokio::test]
async fn a_dm_goes_to_the_user_named() {
    let stack = Stack::start().await;
    let acme = acme(&stack).await;
    let cli = Cli::signed_in(&stack, &acme.alice).await;
    let dm = cli.run(&["dm", "@bob", "psst", "--json"]).await.ok().json();
    assert_eq!(dm["body_md"], "psst");
    let dms = acme.bob.list_dms().await.expect("bob's DMs").data;
    assert_eq!(dms.len(), 1);
    assert_eq!(dm["channel_id"], dms[0].channel.id.to_string().as_str());
    let again = cli.run(&["send", "@bob", "second"]).await.ok();
    assert!(again.stdout.contains("· @alice, @bob") || again.stdout.contains("· @bob"), "{again:?}");
    let read = Cli::signed_in(&stack, &acme.bob).await.run(&["read", "@alice"]).await.ok();
    assert!(read.stdout.contains("  psst") && read.stdout.contains("  second"), "{read:?}");
    cli.run(&["dm", "@nobody", "hi"]).await.fails(4, "no user @nobody in acme");
    stack.stop().await;
}

#[tokio::test]
async fn search_notifications_and_slash_commands_work_from_the_shell() {
    let stack = Stack::start().await;
    let acme = acme(&stack).await;
    let sent = acme.alice.send_message(acme.dev.id, &body("@bob please launch the rocket")).await.expect("sent");
    acme.alice.send_message(acme.dev.id, &body("@bob and check the fuel")).await.expect("sent");
    let bob = Cli::signed_in(&stack, &acme.bob).await;

    let search = bob.run(&["search", "rocket"]).await.ok();
    assert!(search.stdout.starts_with("alice (@alice) · "), "{search:?}");
    assert!(search.stdout.contains("#dev") && search.stdout.contains("launch the rocket"), "{search:?}");
    assert!(!search.stdout.contains("<mark>"), "the snippet's markup is not shown piped: {search:?}");
    let hits = bob.run(&["search", "rocket", "--json", "--sort", "recent"]).await.ok().json();
    assert_eq!(hits[0]["message"]["id"], sent.id.to_string().as_str());
    assert_eq!(bob.run(&["search", "nothing-like-this", "--json"]).await.ok().json(), serde_json::json!([]));
    bob.run(&["search", "\"unbalanced"]).await.fails(2, "invalid_search");

    let inbox = bob.run(&["notifications", "--unread"]).await.ok();
    assert!(inbox.stdout.starts_with("● ") && inbox.stdout.contains("mention @alice in #dev"), "{inbox:?}");
    assert!(inbox.stdout.find("fuel") < inbox.stdout.find("rocket"), "newest first, with snippets: {inbox:?}");
    let marked = bob.run(&["notifications", "--unread", "--limit", "1", "--mark-read", "--json"]).await.ok().json();
    assert_eq!(marked["notifications"][0]["kind"], "mention");
    assert_eq!(marked["marked_read"].as_array().expect("ids").len(), 1, "only the one listed");
    let left = bob.run(&["notifications", "--unread", "--json"]).await.ok().json();
    assert_eq!(left["notifications"].as_array().expect("array").len(), 1);
    assert!(left["notifications"][0]["snippet"].as_str().expect("snippet").contains("rocket"));
    let rest = bob.run(&["notifications", "--unread", "--mark-read"]).await.ok();
    assert!(rest.stderr.contains("Marked 1 notification read."), "{rest:?}");
    let after = bob.run(&["notifications", "--unread", "--json"]).await.ok().json();
    assert_eq!(after["notifications"], serde_json::json!([]));
    let all = bob.run(&["notifications", "--json"]).await.ok().json();
    assert!(!all["notifications"][0]["read_at"].is_null(), "still listed, now read");

    let topic = bob.run(&["cmd", "/topic Launch day", "--in", "#dev"]).await.ok();
    assert!(!topic.stdout.is_empty(), "the command says what it did: {topic:?}");
    let channel = acme.alice.get_channel(acme.dev.id).await.expect("channel");
    assert_eq!(channel.topic.as_deref(), Some("Launch day"));
    let channels = bob.run(&["channels"]).await.ok();
    let dev = channels.stdout.lines().find(|line| line.starts_with("#dev")).expect("#dev listed");
    assert!(dev.ends_with(&format!("— Launch day  {}", acme.dev.id)), "{channels:?}");
    let json = bob.run(&["cmd", "/topic Second", "--in", "dev", "--json"]).await.ok().json();
    assert!(json.get("reply").is_some() && json.get("message").is_some(), "{json}");
    bob.run(&["cmd", "/nosuchcommand"]).await.fails(2, "unknown_command");
    bob.run(&["cmd", "topic without slash"]).await.fails(2, "a slash command starts with `/`");
    stack.stop().await;
}

#[tokio::test]
async fn files_are_shared_by_upload_and_by_send_with_file_and_reach_other_readers() {
    let stack = Stack::start().await;
    let acme = acme(&stack).await;
    let cli = Cli::signed_in(&stack, &acme.alice).await;
    std::fs::create_dir_all(&cli.dir).expect("dir");
    let file = cli.dir.join("notes.txt");
    std::fs::write(&file, "release notes\n").expect("file");
    let path = file.to_str().expect("UTF-8 path");

    // `upload` posts a message carrying the file, its text the file's name.
    let human = cli.run(&["upload", "#dev", path]).await.ok();
    assert!(human.stdout.contains("\n  notes.txt\n  [file] notes.txt (text/plain, 14 B) "), "{human:?}");
    let json = cli.run(&["upload", "#dev", path, "-m", "the **notes**", "--json"]).await.ok().json();
    assert_eq!(json["body_md"], "the **notes**");
    assert_eq!(json["attachments"][0]["filename"], "notes.txt");
    let id = json["attachments"][0]["id"].as_str().expect("id").parse().expect("an attachment id");
    let downloaded = acme.bob.download_attachment(id).await.expect("bob downloads it");
    assert_eq!(downloaded.text().await.expect("body"), "release notes\n");

    // `send --file`, twice: larger than one chunk of the streamed body, and not text.
    let big: Vec<u8> = (0..200_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let big_file = cli.dir.join("blob.bin");
    std::fs::write(&big_file, &big).expect("file");
    let big_path = big_file.to_str().expect("UTF-8");
    let json = cli.run(&["send", "@bob", "two files", "--file", big_path, "--file", path, "--json"]).await.ok().json();
    let files = json["attachments"].as_array().expect("attachments");
    assert_eq!(files.len(), 2, "{json}");
    assert_eq!((&files[0]["size_bytes"], &files[1]["filename"]), (&200_000.into(), &"notes.txt".into()));
    let id = files[0]["id"].as_str().expect("id").parse().expect("an attachment id");
    let downloaded = acme.bob.download_attachment(id).await.expect("bob downloads it");
    assert_eq!(downloaded.bytes().await.expect("body").as_ref(), big.as_slice(), "every byte arrives");

    // Bob reads both messages with their files.
    let bob = Cli::signed_in(&stack, &acme.bob).await;
    let read = bob.run(&["read", "#dev"]).await.ok();
    assert_eq!(read.stdout.matches("[file] notes.txt (text/plain, 14 B) ").count(), 2, "{read:?}");

    cli.run(&["upload", "#dev", "/no/such/file"]).await.fails(1, "cannot read /no/such/file");
    cli.run(&["send", "#dev", "x", "--file", "/no/such/file"]).await.fails(1, "cannot read /no/such/file");
    cli.run(&["upload", "#dev", cli.dir.to_str().expect("UTF-8")]).await.fails(2, "is not a file");
    stack.stop().await;
}

#[tokio::test]
async fn slow_mode_exits_as_rate_limited() {
    let stack = Stack::start().await;
    let acme = acme(&stack).await;
    let request = ChannelModerationRequest { slow_mode_secs: Some(600), frozen: None, reason: None };
    acme.alice.moderate_channel(acme.dev.id, &request).await.expect("slow mode");
    let cli = Cli::signed_in(&stack, &acme.bob).await;
    cli.run(&["send", "#dev", "first"]).await.ok();
    cli.run(&["send", "#dev", "too soon"]).await.fails(5, "slow_mode");
    stack.stop().await;
}
