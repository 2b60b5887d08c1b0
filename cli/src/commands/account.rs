//! Sign-in and the account: `login`, `logout`, `whoami`, `token create|list|revoke`, and
//! `completions`.

use ajet_shared::api::ErrorCode;
use ajet_shared::api::wire::{CreateTokenRequest, LoginResponse};
use ajet_shared::domain::ids::ApiTokenId;
use std::io::{IsTerminal as _, Write as _};

use clap::CommandFactory as _;
use serde_json::json;

use crate::args::{Cli, LoginArgs, TokenCommand};
use crate::commands::text_or_stdin;
use crate::escape;
use crate::failure::Failure;
use crate::login;
use crate::output::{self, Output};
use crate::session::{Session, Target, parse_id};

pub fn completions(shell: clap_complete::Shell) -> Result<(), Failure> {
    let mut command = Cli::command();
    // Into a buffer first: clap_complete panics on a write error (a closed pipe).
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "ajet-chat", &mut script);
    std::io::stdout().write_all(&script).map_err(|err| Failure::Io(format!("cannot write the script: {err}")))
}

pub async fn login(mut target: Target, args: &LoginArgs, out: Output) -> Result<(), Failure> {
    let client = target.anonymous()?;
    let login = if args.with_token {
        let token = read_token()?;
        let me = client.with_token(token.clone()).me().await?;
        LoginResponse { token, user: me.user }
    } else if let Some(username) = &args.dev_user {
        client.dev_login(username).await?
    } else {
        login::browser(&client, args.no_browser).await?
    };
    let profile = target.config.profiles.entry(target.profile_name.clone()).or_default();
    profile.server.clone_from(&target.server);
    profile.token = Some(login.token);
    profile.username = Some(login.user.username.clone());
    let path = target.config.save()?;
    if out.json {
        return out.json(&json!({"profile": target.profile_name, "server": target.server, "user": login.user}));
    }
    println!(
        "Signed in to {} as @{} (profile {}, saved in {})",
        escape::line(&target.server),
        escape::line(&login.user.username),
        escape::line(&target.profile_name),
        path.display()
    );
    Ok(())
}

/// The token piped on stdin, or pasted at a prompt on a terminal.
fn read_token() -> Result<String, Failure> {
    let token = if std::io::stdin().is_terminal() {
        eprint!("Paste the token: ");
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map_err(|err| Failure::Io(format!("cannot read the token: {err}")))?;
        line
    } else {
        text_or_stdin(None, "token")?
    };
    let token = token.trim();
    if token.is_empty() || token.contains(char::is_whitespace) {
        return Err(Failure::Usage("a token is one word, e.g. ajt_… or ajs_…".into()));
    }
    Ok(token.to_owned())
}

pub async fn logout(mut target: Target, out: Output) -> Result<(), Failure> {
    let session = target.session()?;
    let ended = match session.client.logout().await {
        Ok(()) => "ended",
        // An API token is not a session: it stays valid until revoked.
        Err(err) if err.code() == Some(ErrorCode::NotASession) => {
            "kept (an API token: revoke it with `ajet-chat token revoke`)"
        }
        Err(err) if matches!(err.code(), Some(ErrorCode::TokenRevoked | ErrorCode::TokenExpired)) => "already ended",
        Err(err) => return Err(err.into()),
    };
    // A token given for this run is not the profile's: the profile stays signed in.
    if let Some(profile) = target.config.profiles.get_mut(&target.profile_name).filter(|_| target.token_from_profile) {
        profile.token = None;
        profile.username = None;
        target.config.save()?;
    }
    if out.json {
        return out.json(&json!({"profile": target.profile_name, "server": target.server, "session": ended}));
    }
    println!(
        "Signed out of {} (profile {}); the session was {ended}.",
        escape::line(&target.server),
        escape::line(&target.profile_name)
    );
    Ok(())
}

pub async fn whoami(target: &Target, out: Output) -> Result<(), Failure> {
    let me = target.session()?.client.me().await?;
    if out.json {
        return out.json(&json!({
            "profile": target.profile_name,
            "server": target.server,
            "user": me.user,
            "communities": me.communities,
        }));
    }
    println!(
        "@{} ({}) on {} · profile {}",
        escape::line(&me.user.username),
        escape::line(&me.user.display_name),
        escape::line(&target.server),
        escape::line(&target.profile_name)
    );
    for community in &me.communities {
        println!(
            "  {} ({}) · {}",
            escape::line(&community.name),
            escape::line(&community.slug),
            community.role.as_str()
        );
    }
    Ok(())
}

pub async fn token(session: &Session, command: TokenCommand, out: Output) -> Result<(), Failure> {
    match command {
        TokenCommand::Create { name, scopes, expires_in_days } => {
            let scopes = if scopes.is_empty() { vec!["read".to_owned(), "write".to_owned()] } else { scopes };
            let created = session.client.create_token(&CreateTokenRequest { name, scopes, expires_in_days }).await?;
            if out.json {
                return out.json(&created);
            }
            println!("{}", escape::line(&created.token));
            eprintln!(
                "Created token {} ({}, scopes {}): the secret above is shown only once.",
                escape::line(&created.info.name),
                created.info.id,
                escape::line(&created.info.scopes.join(","))
            );
        }
        TokenCommand::List => {
            let tokens = session.client.list_tokens().await?.data;
            if out.json {
                return out.json(&tokens);
            }
            for token in &tokens {
                let used = token
                    .last_used_at
                    .map_or_else(|| "never used".to_owned(), |at| format!("used {}", output::time(at)));
                let expires = token
                    .expires_at
                    .map_or_else(|| "no expiry".to_owned(), |at| format!("expires {}", output::time(at)));
                println!(
                    "{}  {}  scopes {}  created {}  {used}  {expires}",
                    token.id,
                    escape::line(&token.name),
                    escape::line(&token.scopes.join(",")),
                    output::time(token.created_at)
                );
            }
            if tokens.is_empty() {
                eprintln!("No API tokens.");
            }
        }
        TokenCommand::Revoke { id } => {
            let id: ApiTokenId = parse_id(&id, "token")?;
            session.client.revoke_token(id).await?;
            if out.json {
                return out.json(&json!({"revoked": id}));
            }
            println!("Revoked token {id}.");
        }
    }
    Ok(())
}
