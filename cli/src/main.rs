//! `ajet-chat`: the command-line client. Today: log in (dev deployments), send a message,
//! read history and tail the live stream; the full command set arrives with the terminal
//! clients issue. Talks only to the gateway, through `shared`'s typed client.

use std::process::ExitCode;

use ajet_shared::api::wire::{CreateMessageRequest, HistoryQuery};
use ajet_shared::client::ApiClient;
use ajet_shared::domain::ids::ChannelId;
use clap::{Parser, Subcommand};
use futures::StreamExt as _;

mod tui;

#[derive(Parser)]
#[command(name = "ajet-chat", version, about = "ajet-chat from the terminal")]
struct Cli {
    /// The deployment's URL (the gateway).
    #[arg(long, env = "AJET_URL", default_value = "http://localhost:8080", global = true)]
    url: String,
    /// A session or API token.
    #[arg(long, env = "AJET_TOKEN", global = true, hide_env_values = true)]
    token: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Log in on a dev deployment and print the session token.
    DevLogin { username: String },
    /// Send a message to a channel.
    Send { channel: ChannelId, text: String },
    /// Print a channel's latest messages.
    Read {
        channel: ChannelId,
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Print live events as JSON lines until interrupted.
    Tail,
    /// The full-screen terminal client.
    Tui {
        /// The channel to open first (e.g. `general`).
        #[arg(long)]
        channel: Option<String>,
    },
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let client = ApiClient::new(cli.url)?;
    let authed = || -> anyhow::Result<ApiClient> {
        let token = cli.token.clone().ok_or_else(|| anyhow::anyhow!("no token: pass --token or set AJET_TOKEN"))?;
        Ok(client.with_token(token))
    };
    match cli.command {
        Command::DevLogin { username } => {
            let login = client.dev_login(&username).await?;
            println!("{}", login.token);
        }
        Command::Send { channel, text } => {
            let message = authed()?
                .send_message(channel, &CreateMessageRequest { body_md: text, parent_id: None, client_msg_id: None })
                .await?;
            println!("sent #{} ({})", message.channel_seq, message.id);
        }
        Command::Read { channel, limit } => {
            let page =
                authed()?.history(channel, &HistoryQuery { limit: Some(limit), ..HistoryQuery::default() }).await?;
            for message in page.data {
                println!("[{}] {}: {}", message.created_at, message.author.display_name, message.body_md);
            }
        }
        Command::Tail => {
            let mut events = authed()?.tui_events(None).await?;
            while let Some(event) = events.next().await {
                println!("{}", event?.data);
            }
        }
        Command::Tui { channel } => tui::run(authed()?, channel).await?,
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("ajet-chat: {err}");
            ExitCode::FAILURE
        }
    }
}
