//! Bad input, missing sign-in and forbidden actions end with the documented exit codes and
//! a clear message; whatever the server holds reaches the terminal inert.

use ajet_shared::api::ErrorCode;
use ajet_shared::api::wire::{ChannelKind, CreateChannelRequest};

use crate::cli::{Cli, acme};
use crate::stack::Stack;

#[tokio::test]
async fn each_kind_of_failure_has_its_exit_code() {
    let stack = Stack::start().await;
    let acme = acme(&stack).await;
    let secret = acme
        .alice
        .create_channel(
            acme.community.id,
            &CreateChannelRequest { name: "secret".into(), topic: None, kind: Some(ChannelKind::Private) },
        )
        .await
        .expect("private channel");
    let hidden = acme.alice.send_message(acme.dev.id, &crate::messages::body("alice's words")).await.expect("sent");
    let anonymous = Cli::new(&stack);
    let bob = Cli::signed_in(&stack, &acme.bob).await;

    // 2: the command line is wrong (clap's checks and ours).
    bob.run(&["read"]).await.fails(2, "required arguments were not provided");
    // No command and no terminal: usage, not a full-screen program a script cannot drive.
    let usage = bob.run(&[]).await.fails(2, "a command is needed");
    assert!(usage.stderr.contains("Usage: ajet-chat") && usage.stderr.contains("tui"), "{usage:?}");
    bob.run(&["tui", "--url", "http://localhost:8080"]).await.fails(2, "unexpected argument '--url'");
    bob.run(&["read", "#dev", "--before", "x", "--after", "y"]).await.fails(2, "cannot be used with");
    bob.run(&["read", "#dev", "--before", "yesterday"]).await.fails(2, "message: \"yesterday\" is not an id");
    bob.run(&["send", "#dev"]).await.fails(2, "the message is empty");
    bob.run_with_stdin(&["send", "#dev"], "  \n").await.fails(2, "the message is empty");
    bob.run(&["read", "#dev", "--limit", "5000"]).await.fails(2, ErrorCode::InvalidLimit.as_str());
    bob.run(&["react", &hidden.id.to_string(), "not an emoji"]).await.fails(2, ErrorCode::InvalidEmoji.as_str());
    bob.run(&["--server", "ftp://example.com", "whoami"]).await.fails(2, "--server must be an http");
    // 3: not signed in, or not allowed.
    anonymous.run(&["send", "#dev", "hi"]).await.fails(3, "not signed in");
    anonymous.run(&["tui"]).await.fails(3, "not signed in");
    anonymous.run(&["tui", "--channel", "dev"]).await.fails(3, "run `ajet-chat login`");
    anonymous.run(&["--token", "ajs_forged", "channels"]).await.fails(3, "sign in again: ajet-chat login");
    bob.run(&["edit", &hidden.id.to_string(), "mine now"]).await.fails(3, ErrorCode::NotAuthor.as_str());
    bob.run(&["delete", &hidden.id.to_string()]).await.fails(3, ErrorCode::NotAuthorOrAdmin.as_str());
    // 4: nothing by that name or id, or nothing this user may see.
    bob.run(&["read", "#nope"]).await.fails(4, "no channel #nope in acme");
    bob.run(&["read", "#secret"]).await.fails(4, "no channel #secret in acme");
    bob.run(&["read", &secret.id.to_string()]).await.fails(4, ErrorCode::ChannelNotFound.as_str());
    bob.run(&["react", "0190a5b0-0000-7000-8000-000000000000", ":tada:"]).await.fails(4, "message_not_found");
    // 1: anything else, e.g. the server is away.
    Cli::at("http://127.0.0.1:9").run(&["--token", "ajs_x", "whoami"]).await.fails(1, "cannot reach the server");
    stack.stop().await;
}

#[tokio::test]
async fn control_characters_from_the_server_are_printed_inert() {
    let stack = Stack::start().await;
    let acme = acme(&stack).await;
    // The API refuses control characters; rows written before that rule (or by a bug) may
    // hold them anyway, and bodies may hold bidirectional controls.
    let hostile = "pwn \u{1b}]0;owned\u{7}\u{1b}[2J\u{9b}31m rtl \u{202e}txt.exe";
    let message = acme.alice.send_message(acme.dev.id, &crate::messages::body("placeholder")).await.expect("sent");
    sqlx::query("UPDATE messages SET body_md = $1 WHERE id = $2")
        .bind(hostile)
        .bind(message.id.0)
        .execute(&stack.db.pool)
        .await
        .expect("a hostile body");
    sqlx::query("UPDATE users SET display_name = $1 WHERE username = 'alice'")
        .bind("Alice\u{1b}[8m")
        .execute(&stack.db.pool)
        .await
        .expect("a hostile name");
    sqlx::query("UPDATE channels SET topic = $1 WHERE id = $2")
        .bind("topic\u{1b}c")
        .bind(acme.dev.id.0)
        .execute(&stack.db.pool)
        .await
        .expect("a hostile topic");
    let cli = Cli::signed_in(&stack, &acme.bob).await;
    for args in [&["read", "#dev"][..], &["channels"], &["read", "#dev", "--json"], &["channels", "--json"]] {
        let run = cli.run(args).await.ok();
        let raw = run.stdout.chars().filter(|c| c.is_control() && *c != '\n').collect::<String>();
        assert!(raw.is_empty(), "{args:?} printed raw control characters {raw:?}: {run:?}");
        assert!(!run.stdout.contains('\u{202e}'), "{args:?}: {run:?}");
    }
    let read = cli.run(&["read", "#dev"]).await.ok();
    assert!(read.stdout.contains("pwn \\x1b]0;owned\\x07\\x1b[2J\\u{9b}31m rtl \\u{202e}txt.exe"), "{read:?}");
    assert!(read.stdout.starts_with("Alice\\x1b[8m (@alice)"), "{read:?}");
    assert!(cli.run(&["channels"]).await.ok().stdout.contains("topic\\x1bc"));
    let json = cli.run(&["read", "#dev", "--json"]).await.ok().json();
    assert_eq!(json[0]["body_md"], hostile, "JSON escapes them and still means the same text");

    // On a terminal: Markdown gets styles, and the hostile bytes still arrive inert.
    acme.alice.send_message(acme.dev.id, &crate::messages::body("**bold** and `code`")).await.expect("sent");
    let screen = cli.run_on_terminal(&["read", "#dev"]).await;
    assert!(screen.contains("\u{1b}[1mbold\u{1b}[0m and \u{1b}[36mcode\u{1b}[0m"), "{screen:?}");
    assert!(screen.contains("pwn \\x1b]0;owned\\x07\\x1b[2J"), "{screen:?}");
    for raw in ["\u{1b}]0;", "\u{7}", "\u{1b}[2J", "\u{9b}", "\u{202e}", "\u{1b}[8m", "\u{1b}c"] {
        assert!(!screen.contains(raw), "{raw:?} reached the terminal: {screen:?}");
    }
    stack.stop().await;
}
