//! The command line, declared with clap's derive: global options (server, token, profile,
//! community, `--json`), one subcommand per one-shot, and `tui` (also what no subcommand
//! means on a terminal).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(name = "ajet-chat", version, about = "ajet-chat from the terminal", propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub globals: Globals,
    /// None: the TUI on a terminal, else usage.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Clone, Debug, Args)]
pub struct Globals {
    /// The deployment's URL (its gateway); default: the profile's, else http://localhost:8080.
    #[arg(long, env = "AJET_SERVER", global = true)]
    pub server: Option<String>,
    /// A session or API token, instead of the profile's.
    #[arg(long, env = "AJET_TOKEN", global = true, hide_env_values = true)]
    pub token: Option<String>,
    /// The profile (one server and its sign-in) to use; default: the configured default.
    #[arg(long, env = "AJET_PROFILE", global = true)]
    pub profile: Option<String>,
    /// The community `#channel` and `@user` resolve in (slug, name or id); default: the
    /// profile's, else your first.
    #[arg(long, short = 'c', env = "AJET_COMMUNITY", global = true)]
    pub community: Option<String>,
    /// Print JSON (one document, or one line per event for `tail`) instead of text.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign in: in the browser (a confirmation page hands this computer a session), or with
    /// a token read from stdin.
    Login(LoginArgs),
    /// Sign out: end this profile's session and forget its token.
    Logout,
    /// Who this profile is signed in as.
    Whoami,
    #[command(flatten)]
    Chat(ChatCommand),
    #[command(flatten)]
    Preferences(PreferenceCommand),
    /// The full-screen terminal client (also what `ajet-chat` alone opens on a terminal).
    Tui {
        /// The channel to open first (`general` or `#general`); default: the one shown when
        /// the TUI last quit, else the first.
        #[arg(long)]
        channel: Option<String>,
    },
    /// API tokens for scripts and bots.
    #[command(subcommand)]
    Token(TokenCommand),
    /// The community's audit log, newest first (admins).
    Audit(AuditArgs),
    /// The community's mutes in force: who, until when, by whom, why (admins).
    Mutes,
    /// Incoming webhooks (admins).
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// Your logins, logouts and API tokens, newest first.
    SecurityLog,
    /// Set your avatar from an image file (PNG, JPEG, GIF or WebP, at most 1 MiB), or
    /// `--remove` it.
    Avatar(AvatarArgs),
    /// Print a shell completion script.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// The commands about communities, channels and messages.
#[derive(Debug, Subcommand)]
pub enum ChatCommand {
    /// The communities you belong to.
    Communities,
    /// The channels of the community and your DMs, starred first, with unread and mention
    /// counts and your preferences (starred, muted, notify level).
    Channels,
    /// Send a message to a channel (`#name`), a DM (`@user`) or a channel id; the text is
    /// read from stdin when not given.
    Send(SendArgs),
    /// Send a direct message to `@user`.
    Dm {
        /// `@username` (in the community).
        user: String,
        /// The text; read from stdin when not given.
        text: Option<String>,
    },
    /// Print a page of a channel's history, oldest first.
    Read(ReadArgs),
    /// Print new messages as they arrive (in every channel you are in, or the ones named)
    /// until interrupted; reconnects by itself and never prints one twice.
    Tail {
        /// `#channel`, `@user` or channel ids; none means all of yours.
        channels: Vec<String>,
    },
    /// Search the messages you may read (`in:`, `from:`, `has:`, `before:`… work).
    Search {
        query: String,
        #[arg(long)]
        limit: Option<u32>,
        /// Best matches first (default) or newest first.
        #[arg(long, value_enum)]
        sort: Option<SortArg>,
    },
    /// Share a file in a channel: upload it (a progress bar on a terminal) and post a
    /// message carrying it, whose text is `--message` or else the file's name.
    Upload {
        /// `#channel`, `@user` or a channel id.
        channel: String,
        file: PathBuf,
        /// The message's text (Markdown).
        #[arg(long, short)]
        message: Option<String>,
    },
    /// Your notifications, newest first.
    Notifications {
        /// Only the unread ones.
        #[arg(long)]
        unread: bool,
        /// Then mark the unread ones listed read.
        #[arg(long)]
        mark_read: bool,
        #[arg(long)]
        limit: Option<u32>,
    },
    /// React to a message (`:shortcode:` or an emoji).
    React {
        message: String,
        emoji: String,
        /// Take the reaction back instead.
        #[arg(long)]
        remove: bool,
    },
    /// Replace the text of one of your messages (read from stdin when not given).
    Edit { message: String, text: Option<String> },
    /// Delete a message (yours, or any as an admin).
    Delete { message: String },
    /// Run a slash command, e.g. `cmd "/topic Release day"`.
    Cmd {
        /// The command line, starting with `/`.
        text: String,
        /// The channel it is typed in; default: the community's first channel.
        #[arg(long = "in", value_name = "CHANNEL")]
        channel: Option<String>,
    },
}

/// Your own preferences in a channel (`#name`, `@user` for a DM, or a channel id); each
/// prints the channel's preferences afterwards.
#[derive(Debug, Subcommand)]
pub enum PreferenceCommand {
    /// Star a channel: it is listed first.
    Star { channel: String },
    /// Take the star off a channel.
    Unstar { channel: String },
    /// Mute a channel: its messages stop notifying you (and its mention count stays at 0),
    /// until you unmute it, or until `--until`/`--for`.
    Mute(MuteArgs),
    /// Unmute a channel.
    Unmute { channel: String },
    /// Which of a channel's messages notify you.
    Notify {
        channel: String,
        #[arg(value_enum)]
        level: LevelArg,
    },
}

#[derive(Debug, Args)]
pub struct MuteArgs {
    pub channel: String,
    /// Until this time (RFC 3339, e.g. `2026-12-01T09:00:00Z`).
    #[arg(long, value_name = "TIME", conflicts_with = "for_")]
    pub until: Option<String>,
    /// For this long: minutes, hours, days or weeks (`30m`, `8h`, `2d`, `1w`).
    #[arg(long = "for", id = "for_", value_name = "DURATION")]
    pub for_: Option<String>,
}

/// A notify level: `all` (mentions, DMs and replies in your threads), `mentions` (only
/// messages mentioning you) or `none`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LevelArg {
    All,
    Mentions,
    None,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Read a token (session or API) from stdin instead of using the browser.
    #[arg(long, conflicts_with = "dev_user")]
    pub with_token: bool,
    /// Print the sign-in URL but do not try to open a browser.
    #[arg(long)]
    pub no_browser: bool,
    /// Dev deployments only: sign in as this username without a browser.
    #[arg(long, value_name = "USERNAME")]
    pub dev_user: Option<String>,
}

#[derive(Debug, Args)]
pub struct SendArgs {
    /// `#channel`, `@user` or a channel id.
    pub channel: String,
    /// The text; read from stdin when not given.
    pub text: Option<String>,
    /// Reply in the thread of this message.
    #[arg(long, value_name = "MESSAGE_ID")]
    pub thread: Option<String>,
    /// A key of yours making a retried send post once: the same key answers the message
    /// it first posted (the same key with another text is refused).
    #[arg(long, value_name = "KEY")]
    pub client_msg_id: Option<String>,
    /// Attach this file (repeatable, up to 10): each is uploaded first, with a progress
    /// bar on a terminal, then the message is posted with them.
    #[arg(long = "file", value_name = "PATH")]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ReadArgs {
    /// `#channel`, `@user` or a channel id.
    pub channel: String,
    /// How many messages (1 to 100; default 50).
    #[arg(long)]
    pub limit: Option<u32>,
    /// Messages before this message id.
    #[arg(long, conflicts_with_all = ["after", "around"])]
    pub before: Option<String>,
    /// Messages after this message id.
    #[arg(long, conflicts_with = "around")]
    pub after: Option<String>,
    /// Messages around this message id.
    #[arg(long)]
    pub around: Option<String>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum SortArg {
    Relevance,
    Recent,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token; its secret is printed once.
    Create {
        name: String,
        /// `read`, `write` or `admin` (repeatable; default read and write).
        #[arg(long = "scope")]
        scopes: Vec<String>,
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
    /// List your tokens (without their secrets).
    List,
    /// Revoke a token by id.
    Revoke { id: String },
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only this action (e.g. `member.mute`).
    #[arg(long)]
    pub action: Option<String>,
    /// Only this member's actions (`@username`).
    #[arg(long)]
    pub actor: Option<String>,
    /// The page before this record id (the last one shown).
    #[arg(long)]
    pub before: Option<String>,
    /// 1 to 100 (default 50).
    #[arg(long)]
    pub limit: Option<u32>,
}

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// A webhook's last 100 deliveries, newest first.
    Deliveries { webhook: String },
    /// Set a webhook's avatar from an image file (PNG, JPEG, GIF or WebP, at most 1 MiB),
    /// or `--remove` it.
    #[command(override_usage = "ajet-chat webhook avatar [OPTIONS] <WEBHOOK> <FILE|--remove>")]
    Avatar {
        webhook: String,
        #[command(flatten)]
        avatar: AvatarArgs,
    },
}

/// An avatar's image, or its removal: exactly one of the two.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct AvatarArgs {
    /// The image: a PNG, JPEG, GIF or WebP of at most 1 MiB (checked before it is sent).
    pub file: Option<PathBuf>,
    /// Remove the avatar instead (the initials are shown again).
    #[arg(long)]
    pub remove: bool,
}
