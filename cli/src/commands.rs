//! Runs one parsed command line: account commands (sign-in, tokens, completions) in
//! `commands/account.rs`, everything about communities, channels and messages in
//! `commands/chat.rs`, your own channel preferences (star, mute, notify level) in
//! `commands/preferences.rs`, the audit, delivery and security logs in `commands/logs.rs`,
//! the community's mutes in `commands/mutes.rs`, your own and webhooks' avatars in
//! `commands/avatars.rs`.

mod account;
mod avatars;
mod chat;
mod logs;
mod mutes;
mod preferences;

use std::io::{IsTerminal as _, Read as _};

use clap::CommandFactory as _;

use crate::args::{Cli, Command};
use crate::failure::Failure;
use crate::output::Output;
use crate::session::Target;

pub async fn run(cli: Cli) -> Result<(), Failure> {
    let Cli { globals, command } = cli;
    let out = Output::detect(globals.json);
    // Completions need no configuration: a broken one must not stop them.
    let target = || Target::load(&globals);
    let Some(command) = command else {
        // A person at a terminal gets the TUI; a script gets usage, not a full-screen program.
        if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
            return tui(&target()?, None).await;
        }
        return Err(Failure::Usage(format!("a command is needed\n\n{}", Cli::command().render_help())));
    };
    match command {
        Command::Completions { shell } => account::completions(shell),
        Command::Login(args) => account::login(target()?, &args, out).await,
        Command::Logout => account::logout(target()?, out).await,
        Command::Whoami => account::whoami(&target()?, out).await,
        Command::Token(command) => account::token(&target()?.session()?, command, out).await,
        Command::Chat(command) => chat::run(&target()?.session()?, command, out).await,
        Command::Preferences(command) => preferences::run(&target()?.session()?, command, out).await,
        Command::Audit(args) => logs::audit(&target()?.session()?, args, out).await,
        Command::Webhook(command) => logs::webhook(&target()?.session()?, command, out).await,
        Command::Avatar(args) => avatars::mine(&target()?.session()?, args, out).await,
        Command::Mutes => mutes::list(&target()?.session()?, out).await,
        Command::SecurityLog => logs::security_log(&target()?.session()?, out).await,
        Command::Tui { channel } => tui(&target()?, channel).await,
    }
}

/// `ajet-chat tui`: signed in like every command (exit 3 without a token), then full screen.
async fn tui(target: &Target, channel: Option<String>) -> Result<(), Failure> {
    let session = target.session()?;
    crate::tui::run(session.client, channel).await.map_err(|err| Failure::Io(format!("tui: {err:#}")))
}

/// `text`, or all of stdin when it is absent and stdin is not a terminal.
pub fn text_or_stdin(text: Option<String>, what: &str) -> Result<String, Failure> {
    let text = match text {
        Some(text) => text,
        None if std::io::stdin().is_terminal() => {
            return Err(Failure::Usage(format!("give the {what} as an argument or pipe it on stdin")));
        }
        None => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|err| Failure::Io(format!("cannot read stdin: {err}")))?;
            text.trim_end_matches(['\n', '\r']).to_owned()
        }
    };
    if text.trim().is_empty() {
        return Err(Failure::Usage(format!("the {what} is empty")));
    }
    Ok(text)
}
