//! `ajet-chat`: the command-line client for people and scripts. One-shot commands (sign-in,
//! channels, send, read, tail, search, notifications, reactions, tokens…) with human text by
//! default and stable JSON with `--json`; exit codes 0 ok, 1 error, 2 usage, 3 not signed in
//! or forbidden, 4 not found, 5 rate-limited. `ajet-chat tui` (or no command, on a
//! terminal) is the full-screen client (`tui`), signed in the same way. Talks only to the
//! gateway, through `shared`'s typed client. The shapes of `--json` are in `cli/README.md`.

mod args;
mod commands;
mod config;
mod escape;
mod failure;
mod login;
mod output;
mod progress;
mod render;
mod session;
mod tail;
mod tui;

use std::process::ExitCode;

use clap::Parser as _;

use crate::failure::Exit;

/// `ajet-chat read … | head` closes our stdout early: `println!` then panics. That is the
/// reader's choice, not a bug: leave quietly (as a process killed by SIGPIPE would).
fn quiet_on_closed_stdout() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to stdout") {
            std::process::exit(i32::from(Exit::Error as u8));
        }
        default(info);
    }));
}

fn main() -> ExitCode {
    // Before the runtime's threads: the local offset can only be read single-threaded.
    tui::remember_local_offset();
    match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => {
            let code = runtime.block_on(run());
            // The command has answered: a blocking task still running (a DNS lookup, a
            // file write) must not keep the process, and the terminal, waiting.
            runtime.shutdown_timeout(std::time::Duration::from_millis(500));
            code
        }
        Err(err) => {
            eprintln!("ajet-chat: cannot start: {err}");
            Exit::Error.into()
        }
    }
}

async fn run() -> ExitCode {
    quiet_on_closed_stdout();
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // Help and version are not errors; clap prints both kinds itself.
            let code = if err.use_stderr() { Exit::Usage } else { Exit::Ok };
            let _ = err.print();
            return code.into();
        }
    };
    match commands::run(cli).await {
        Ok(()) => Exit::Ok.into(),
        Err(failure) => {
            eprintln!("ajet-chat: {failure}");
            failure.exit().into()
        }
    }
}
