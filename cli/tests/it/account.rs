//! Signing in and out, profiles, `whoami`, API tokens and completions, through the binary.

use std::time::Duration;

use ajet_shared::api::ErrorCode;
use tokio::io::{AsyncBufReadExt as _, BufReader};

use crate::cli::{Cli, acme, mode};
use crate::stack::Stack;

#[tokio::test]
async fn a_token_from_stdin_is_checked_stored_0600_and_forgotten_at_logout() {
    let stack = Stack::start().await;
    let acme = acme(&stack).await;
    let cli = Cli::new(&stack);
    cli.run(&["whoami"])
        .await
        .fails(3, &format!("not signed in to {} (profile default): run `ajet-chat login`", cli.server));
    cli.run_with_stdin(&["login", "--with-token"], "ajs_not_a_real_token\n").await.fails(3, "unauthenticated");
    cli.run_with_stdin(&["login", "--with-token"], "two words\n").await.fails(2, "a token is one word");
    assert!(!cli.config_file().exists(), "a refused token is not stored");

    let token = acme.alice.token().expect("token");
    let login = cli.run_with_stdin(&["login", "--with-token"], &format!("{token}\n")).await.ok();
    assert!(login.stdout.starts_with(&format!("Signed in to {} as @alice (profile default", cli.server)), "{login:?}");
    assert_eq!(mode(&cli.config_file()), 0o600, "the token file is private");
    assert_eq!(mode(&cli.dir), 0o700);
    let stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(cli.config_file()).expect("config")).expect("JSON");
    assert_eq!(stored["profiles"]["default"]["token"], token);
    assert_eq!(stored["profiles"]["default"]["server"], cli.server.as_str());

    let whoami = cli.run(&["whoami"]).await.ok();
    assert!(whoami.stdout.starts_with("@alice (alice) on "), "{whoami:?}");
    assert!(whoami.stdout.contains("  Acme (acme) · owner"), "{whoami:?}");
    let json = cli.run(&["whoami", "--json"]).await.ok().json();
    assert_eq!(json["user"]["username"], "alice");
    assert_eq!(json["profile"], "default");
    // The stored token is never sent to a server other than the one it came from (this
    // listener never answers: a request to it would hang the test).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let elsewhere = format!("http://{}", listener.local_addr().expect("address"));
    cli.run(&["--server", &elsewhere, "whoami"]).await.fails(3, &format!("not signed in to {elsewhere}"));
    assert_eq!(json["communities"][0]["slug"], "acme");

    let logout = cli.run(&["logout"]).await.ok();
    assert!(logout.stdout.contains("the session was ended"), "{logout:?}");
    let refused = acme.alice.me().await.expect_err("the session is over at the server too");
    assert_eq!(refused.status().map(|s| s.as_u16()), Some(401));
    cli.run(&["whoami"]).await.fails(3, "not signed in");
    stack.stop().await;
}

#[tokio::test]
async fn profiles_keep_their_own_server_and_token() {
    let stack = Stack::start().await;
    let acme = acme(&stack).await;
    let cli = Cli::new(&stack);
    let token = acme.bob.token().expect("token");
    let login = cli.run_with_stdin(&["--profile", "work", "login", "--with-token", "--json"], token).await.ok().json();
    assert_eq!(login["profile"], "work");
    assert_eq!(login["user"]["username"], "bob");
    cli.run(&["whoami"]).await.fails(3, "(profile default)");
    // The profile remembers its server: no AJET_SERVER needed.
    let mut command = cli.command(&["--profile", "work", "whoami", "--json"]);
    command.env_remove("AJET_SERVER");
    let output = command.output().await.expect("runs");
    assert!(output.status.success(), "{output:?}");
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(json["user"]["username"], "bob");
    assert_eq!(json["server"], cli.server.as_str());
    // --token wins over the profile's.
    let alice = cli.run(&["--profile", "work", "--token", acme.alice.token().expect("t"), "whoami", "--json"]).await;
    assert_eq!(alice.ok().json()["user"]["username"], "alice");
    // Signing out a token given for one run leaves the profile signed in.
    let logout = cli.run(&["--profile", "work", "--token", acme.alice.token().expect("t"), "logout", "--json"]).await;
    let logout = logout.ok().json();
    assert_eq!(logout["session"], "ended");
    assert_eq!(logout["profile"], "work");
    assert!(acme.alice.me().await.is_err(), "alice's session ended");
    let still = cli.run(&["--profile", "work", "whoami", "--json"]).await.ok().json();
    assert_eq!(still["user"]["username"], "bob");
    stack.stop().await;
}

/// The `code` and `state` of the loopback callback URL the CLI printed.
fn login_url(line: &str) -> (u16, String) {
    let url = line.trim();
    let query = url.split_once("/auth/cli?").expect("the consent page URL").1;
    let (port, state) = query.split_once("&state=").expect("port and state");
    (port.trim_start_matches("port=").parse().expect("a port"), state.to_owned())
}

#[tokio::test]
async fn the_browser_login_trades_the_confirmed_code_for_a_session_of_its_own() {
    let stack = Stack::start().await;
    let acme = acme(&stack).await;
    let browser_session = acme.alice.token().expect("the browser's session").to_owned();
    let cli = Cli::new(&stack);
    let mut login = cli.command(&["login", "--no-browser"]).spawn().expect("starts");
    let mut stderr = BufReader::new(login.stderr.take().expect("stderr")).lines();
    let mut url_line = None;
    while let Some(line) = tokio::time::timeout(Duration::from_secs(30), stderr.next_line())
        .await
        .expect("the CLI prints the URL")
        .expect("stderr")
    {
        if line.contains("/auth/cli?port=") {
            url_line = Some(line);
            break;
        }
    }
    let (port, state) = login_url(&url_line.expect("a URL line"));

    // The browser: the consent page, then its confirmation, then the redirect to the CLI.
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let gateway = stack.gateway.base_url();
    let page = http
        .get(format!("{gateway}/auth/cli?port={port}&state={state}"))
        .header("cookie", format!("ajet_session={browser_session}"))
        .send()
        .await
        .expect("consent page")
        .text()
        .await
        .expect("page");
    assert!(page.contains("Sign in the ajet-chat CLI on this computer as @alice?"), "{page}");
    let marker = "name=\"confirm\" value=\"";
    let start = page.find(marker).expect("a confirm field") + marker.len();
    let confirm = &page[start..start + page[start..].find('"').expect("quote")];
    let confirmed = http
        .post(format!("{gateway}/auth/cli"))
        .header("cookie", format!("ajet_session={browser_session}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .body(format!("port={port}&state={state}&confirm={confirm}"))
        .send()
        .await
        .expect("confirmation");
    let callback = confirmed.headers()["location"].to_str().expect("ascii").to_owned();
    assert!(callback.starts_with(&format!("http://127.0.0.1:{port}/callback?code=")), "{callback}");
    let wrong_state = callback.replace(&format!("state={state}"), "state=forged");
    let refused = http.get(&wrong_state).send().await.expect("the CLI answers");
    assert_eq!(refused.status().as_u16(), 400, "a callback with another state is turned away");
    let landed = http.get(&callback).send().await.expect("the CLI answers the browser");
    assert!(landed.text().await.expect("page").contains("Signed in."));

    let status = tokio::time::timeout(Duration::from_secs(30), login.wait()).await.expect("login ends").expect("exit");
    assert!(status.success(), "{status:?}");
    let stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(cli.config_file()).expect("config")).expect("JSON");
    let token = stored["profiles"]["default"]["token"].as_str().expect("a stored token").to_owned();
    assert_ne!(token, browser_session, "the CLI has a session of its own");
    assert_eq!(cli.run(&["whoami", "--json"]).await.ok().json()["user"]["username"], "alice");
    stack.stop().await;
}

#[tokio::test]
async fn api_tokens_are_created_listed_used_and_revoked() {
    let stack = Stack::start().await;
    let acme = acme(&stack).await;
    let cli = Cli::signed_in(&stack, &acme.alice).await;
    let created = cli.run(&["token", "create", "ci-bot", "--scope", "read", "--json"]).await.ok().json();
    let secret = created["token"].as_str().expect("the secret").to_owned();
    let id = created["id"].as_str().expect("an id").to_owned();
    assert_eq!(created["scopes"], serde_json::json!(["read"]));
    let human = cli.run(&["token", "create", "deploy"]).await.ok();
    let shown = human.stdout.trim();
    assert!(shown.starts_with("ajt_") && !shown.contains(' '), "the secret alone: {human:?}");
    assert!(human.stderr.contains("Created token deploy"), "{human:?}");

    let list = cli.run(&["token", "list"]).await.ok();
    assert!(list.stdout.contains(&id) && list.stdout.contains("ci-bot  scopes read"), "{list:?}");
    assert!(!list.stdout.contains(&secret), "secrets are never listed");
    let listed = cli.run(&["token", "list", "--json"]).await.ok().json();
    assert_eq!(listed.as_array().expect("array").len(), 2);

    let script = Cli::new(&stack);
    let whoami = script.run(&["--token", &secret, "whoami", "--json"]).await.ok().json();
    assert_eq!(whoami["user"]["username"], "alice");
    script.run(&["--token", &secret, "send", "#dev", "hi"]).await.fails(3, ErrorCode::InsufficientScope.as_str());

    let revoked = cli.run(&["token", "revoke", &id, "--json"]).await.ok().json();
    assert_eq!(revoked["revoked"], id.as_str());
    script.run(&["--token", &secret, "whoami"]).await.fails(3, "sign in again");
    cli.run(&["token", "revoke", "not-an-id"]).await.fails(2, "token: \"not-an-id\" is not an id");
    stack.stop().await;
}

#[tokio::test]
async fn completions_are_printed_for_each_shell() {
    let cli = Cli::at("http://127.0.0.1:9");
    for (shell, marker) in [("bash", "_ajet__chat()"), ("zsh", "#compdef ajet-chat"), ("fish", "complete -c ajet-chat")]
    {
        let run = cli.run(&["completions", shell]).await.ok();
        assert!(run.stdout.contains(marker), "{shell}: {run:?}");
        assert!(run.stdout.contains("tail"), "{shell} completes the subcommands");
    }
    cli.run(&["completions", "tcsh"]).await.fails(2, "invalid value 'tcsh'");
}
