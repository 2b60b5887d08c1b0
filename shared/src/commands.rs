//! Slash commands: `/name args…` parsed into a typed `Command`. Clients use `COMMANDS` for
//! completion and hints; the api parses what `POST /api/commands` receives and executes it
//! through the same functions as the REST endpoints.
//!
//! Arguments are separated by whitespace; `"double"` or `'single'` quotes group words (a
//! backslash escapes the quote inside); `@name` is a user, `#name` a channel; durations are
//! `30s`, `10m`, `2h`, `1d`, `1w` or sums like `1h30m`. Free text (a topic, a message, a
//! reason) is the rest of the line exactly as typed. Every refusal says what was wrong and
//! how the command is used; an unknown command suggests the nearest ones.

use std::fmt;
use std::time::Duration;

/// The longest duration a command accepts (a year).
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);

/// A parsed command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Join {
        channel: String,
    },
    Leave,
    /// `None` clears the topic.
    Topic {
        topic: Option<String>,
    },
    Msg {
        user: String,
        text: String,
    },
    Me {
        text: String,
    },
    Invite {
        max_uses: Option<u32>,
        expires_in: Option<Duration>,
    },
    Shrug {
        text: String,
    },
    Help {
        command: Option<String>,
    },
    Ban {
        user: String,
        duration: Option<Duration>,
        reason: Option<String>,
    },
    Unban {
        user: String,
    },
    Kick {
        user: String,
        reason: Option<String>,
    },
    Mute {
        user: String,
        duration: Option<Duration>,
        reason: Option<String>,
    },
    Unmute {
        user: String,
    },
    Role {
        user: String,
        role: Role,
    },
    Purge {
        count: u32,
    },
    /// `None` turns slow mode off.
    Slowmode {
        seconds: Option<u32>,
    },
    Freeze,
    Unfreeze,
    TokenCreate {
        name: String,
        scopes: Vec<String>,
    },
    TokenRevoke {
        id: String,
    },
    WebhookCreate {
        channel: String,
        name: String,
    },
    WebhookList,
    WebhookRevoke {
        id: String,
    },
}

/// A community role a command can give.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Admin,
    Member,
}

/// One command's name, usage and who may run it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spec {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub usage: &'static str,
    pub summary: &'static str,
    /// Only community admins may run it.
    pub admin: bool,
}

const fn spec(name: &'static str, usage: &'static str, summary: &'static str, admin: bool) -> Spec {
    Spec { name, aliases: &[], usage, summary, admin }
}

/// Every command, in the order `/help` lists them.
pub const COMMANDS: &[Spec] = &[
    spec("join", "/join #channel", "join a public channel", false),
    spec("leave", "/leave", "leave this channel", false),
    spec("topic", "/topic [text]", "set this channel's topic (none: clear it)", false),
    spec("msg", "/msg @user text", "send a direct message", false),
    spec("me", "/me text", "say what you are doing, in italics", false),
    spec("invite", "/invite [max_uses] [expiry]", "create an invite to this community", false),
    spec("shrug", "/shrug [text]", "append ¯\\_(ツ)_/¯", false),
    spec("help", "/help [command]", "list commands, or explain one", false),
    spec("ban", "/ban @user [duration] [reason]", "ban someone from the community", true),
    spec("unban", "/unban @user", "lift a ban", true),
    spec("kick", "/kick @user [reason]", "remove someone (they may come back by invite)", true),
    Spec {
        name: "mute",
        aliases: &["timeout"],
        usage: "/mute @user [duration] [reason]",
        summary: "stop someone posting and reacting",
        admin: true,
    },
    spec("unmute", "/unmute @user", "lift a mute", true),
    spec("role", "/role @user admin|member", "change someone's role", true),
    spec("purge", "/purge [count]", "delete the last messages of this channel (default 10, at most 100)", true),
    spec("slowmode", "/slowmode seconds|off", "minimum seconds between a member's posts here", true),
    spec("freeze", "/freeze", "only admins may post here", true),
    spec("unfreeze", "/unfreeze", "everyone may post here again", true),
    spec("token", "/token create name [scopes…] | /token revoke id", "manage your API tokens", true),
    spec(
        "webhook",
        "/webhook create #channel name | /webhook list | /webhook revoke id",
        "manage incoming webhooks",
        true,
    ),
];

/// The spec of command `name` (or one of its aliases).
#[must_use]
pub fn find(name: &str) -> Option<&'static Spec> {
    COMMANDS.iter().find(|spec| spec.name == name || spec.aliases.contains(&name))
}

/// Why a line is not a command that can run.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("a command starts with `/`")]
    NotACommand,
    #[error("there is no /{name}{}", suggest(.suggestions))]
    Unknown { name: String, suggestions: Vec<&'static str> },
    #[error("a quote is not closed")]
    UnbalancedQuote,
    #[error("{problem}; usage: {usage}")]
    Usage { command: &'static str, usage: &'static str, problem: String },
}

fn suggest(suggestions: &[&str]) -> String {
    match suggestions {
        [] => "; /help lists the commands".to_owned(),
        _ => {
            format!("; did you mean {}?", suggestions.iter().map(|s| format!("/{s}")).collect::<Vec<_>>().join(" or "))
        }
    }
}

/// The next argument of `line` from byte `from`, and where it ends; `None` at the end.
fn next_token(line: &str, from: usize) -> Result<Option<(String, usize)>, ParseError> {
    let rest = &line[from..];
    let Some(start) = rest.find(|c: char| !c.is_whitespace()) else { return Ok(None) };
    let mut chars = rest[start..].char_indices().map(|(at, c)| (from + start + at, c)).peekable();
    let mut text = String::new();
    let mut end = line.len();
    while let Some(&(at, c)) = chars.peek() {
        if c.is_whitespace() {
            end = at;
            break;
        }
        chars.next();
        if c == '"' || c == '\'' {
            let quote = c;
            let mut closed = false;
            while let Some((_, c)) = chars.next() {
                if c == '\\' && chars.peek().is_some_and(|&(_, next)| next == quote || next == '\\') {
                    if let Some((_, next)) = chars.next() {
                        text.push(next);
                    }
                } else if c == quote {
                    closed = true;
                    break;
                } else {
                    text.push(c);
                }
            }
            if !closed {
                return Err(ParseError::UnbalancedQuote);
            }
        } else {
            text.push(c);
        }
    }
    Ok(Some((text, end)))
}

/// `30s`, `10m`, `2h`, `1d`, `1w`, or sums of them (`1h30m`); at most `MAX_DURATION`.
#[must_use]
pub fn parse_duration(text: &str) -> Option<Duration> {
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit: u64 = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            _ => return None,
        };
        let amount: u64 = digits.parse().ok()?;
        total = total.checked_add(amount.checked_mul(unit)?)?;
        digits.clear();
    }
    (digits.is_empty() && total > 0 && total <= MAX_DURATION.as_secs()).then(|| Duration::from_secs(total))
}

/// A duration as `parse_duration` reads it back (largest units first).
#[must_use]
pub fn format_duration(duration: Duration) -> String {
    let mut left = duration.as_secs();
    let mut out = String::new();
    for (unit, secs) in [('w', 7 * 86_400), ('d', 86_400), ('h', 3600), ('m', 60), ('s', 1)] {
        if left >= secs {
            out.push_str(&format!("{}{unit}", left / secs));
            left %= secs;
        }
    }
    out
}

fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 80
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.'))
}

/// The arguments of one command being parsed, read one at a time (free text is taken as
/// typed, so quotes in it need not balance).
struct Args<'a> {
    spec: &'static Spec,
    line: &'a str,
    /// Where the consumed arguments end in `line`.
    consumed: usize,
    /// The next argument, once read: its text and where it ends.
    peeked: Option<(String, usize)>,
}

impl Args<'_> {
    fn usage(&self, problem: impl Into<String>) -> ParseError {
        ParseError::Usage { command: self.spec.name, usage: self.spec.usage, problem: problem.into() }
    }

    fn peek(&mut self) -> Result<Option<&str>, ParseError> {
        if self.peeked.is_none() {
            self.peeked = next_token(self.line, self.consumed)?;
        }
        Ok(self.peeked.as_ref().map(|(text, _)| text.as_str()))
    }

    fn take(&mut self) -> Result<Option<String>, ParseError> {
        self.peek()?;
        Ok(self.peeked.take().map(|(text, end)| {
            self.consumed = end;
            text
        }))
    }

    /// A `@user` argument (lowercased).
    fn user(&mut self) -> Result<String, ParseError> {
        let Some(token) = self.take()? else { return Err(self.usage("name someone with @user")) };
        match token.strip_prefix('@').map(str::to_ascii_lowercase) {
            Some(name) if is_name(&name) => Ok(name),
            _ => Err(self.usage(format!("`{token}` is not a @user"))),
        }
    }

    /// A `#channel` argument (lowercased).
    fn channel(&mut self) -> Result<String, ParseError> {
        let Some(token) = self.take()? else { return Err(self.usage("name a channel with #channel")) };
        match token.strip_prefix('#').map(str::to_ascii_lowercase) {
            Some(name) if is_name(&name) => Ok(name),
            _ => Err(self.usage(format!("`{token}` is not a #channel"))),
        }
    }

    /// A duration, if the next argument is one (a line whose free text starts with an
    /// unbalanced quote has none).
    fn duration(&mut self) -> Option<Duration> {
        let duration = self.peek().ok().flatten().and_then(parse_duration)?;
        self.peeked = None;
        self.consumed =
            self.line[self.consumed..].find(|c: char| !c.is_whitespace()).map_or(self.line.len(), |start| {
                let start = self.consumed + start;
                self.line[start..].find(char::is_whitespace).map_or(self.line.len(), |end| start + end)
            });
        Some(duration)
    }

    fn number(&mut self, what: &str) -> Result<Option<u32>, ParseError> {
        let Some(token) = self.peek()?.map(str::to_owned) else { return Ok(None) };
        match token.parse::<u32>() {
            Ok(n) if n > 0 => {
                self.take()?;
                Ok(Some(n))
            }
            _ => Err(self.usage(format!("{what} must be a positive whole number, not `{token}`"))),
        }
    }

    /// The rest of the line as typed (quotes included), if any.
    fn rest(&mut self) -> Option<String> {
        let rest = self.line[self.consumed..].trim();
        self.peeked = None;
        self.consumed = self.line.len();
        (!rest.is_empty()).then(|| rest.to_owned())
    }

    fn required_rest(&mut self, what: &str) -> Result<String, ParseError> {
        self.rest().ok_or_else(|| self.usage(format!("{what} is missing")))
    }

    fn done(&mut self) -> Result<(), ParseError> {
        match self.peek()?.map(str::to_owned) {
            None => Ok(()),
            Some(extra) => Err(self.usage(format!("unexpected `{extra}`"))),
        }
    }
}

/// Parses `line` (`/name args…`).
pub fn parse(line: &str) -> Result<Command, ParseError> {
    let line = line.trim();
    let Some(body) = line.strip_prefix('/') else { return Err(ParseError::NotACommand) };
    let name_end = body.find(char::is_whitespace).unwrap_or(body.len());
    let name = body[..name_end].to_ascii_lowercase();
    let Some(spec) = find(&name) else {
        return Err(ParseError::Unknown { suggestions: nearest(&name), name });
    };
    let rest = &body[name_end..];
    let mut args = Args { spec, line: rest, consumed: 0, peeked: None };
    let command = match spec.name {
        "join" => Command::Join { channel: args.channel()? },
        "leave" => Command::Leave,
        "topic" => Command::Topic { topic: args.rest() },
        "msg" => Command::Msg { user: args.user()?, text: args.required_rest("the message")? },
        "me" => Command::Me { text: args.required_rest("what you are doing")? },
        "invite" => {
            // A bare number is the use limit; anything else is the expiry.
            let max_uses = match args.peek()? {
                Some(token) if token.chars().all(|c| c.is_ascii_digit()) => args.number("max_uses")?,
                _ => None,
            };
            let expires_in = match args.peek()?.map(str::to_owned) {
                None => None,
                Some(token) => {
                    Some(args.duration().ok_or_else(|| args.usage(format!("`{token}` is not a duration like 1d")))?)
                }
            };
            Command::Invite { max_uses, expires_in }
        }
        "shrug" => Command::Shrug { text: args.rest().unwrap_or_default() },
        "help" => {
            let command = args.take()?.map(|c| c.trim_start_matches('/').to_ascii_lowercase());
            Command::Help { command }
        }
        "ban" => Command::Ban { user: args.user()?, duration: args.duration(), reason: args.rest() },
        "unban" => Command::Unban { user: args.user()? },
        "kick" => Command::Kick { user: args.user()?, reason: args.rest() },
        "mute" => Command::Mute { user: args.user()?, duration: args.duration(), reason: args.rest() },
        "unmute" => Command::Unmute { user: args.user()? },
        "role" => {
            let user = args.user()?;
            let role = match args.take()?.map(|r| r.to_ascii_lowercase()).as_deref() {
                Some("admin") => Role::Admin,
                Some("member") => Role::Member,
                Some(other) => return Err(args.usage(format!("`{other}` is not a role (admin or member)"))),
                None => return Err(args.usage("the role is missing (admin or member)")),
            };
            Command::Role { user, role }
        }
        "purge" => {
            let count = args.number("the count")?.unwrap_or(10);
            if count > 100 {
                return Err(args.usage("at most 100 messages at once"));
            }
            Command::Purge { count }
        }
        "slowmode" => match args.peek()?.map(str::to_ascii_lowercase).as_deref() {
            Some("off" | "0") => {
                args.take()?;
                Command::Slowmode { seconds: None }
            }
            Some(_) => {
                let token = args.peek()?.map(str::to_owned).unwrap_or_default();
                let seconds = match token.parse::<u32>() {
                    Ok(seconds) => Some(seconds),
                    Err(_) => parse_duration(&token).and_then(|d| u32::try_from(d.as_secs()).ok()),
                }
                .filter(|s| *s <= 6 * 3600)
                .ok_or_else(|| args.usage(format!("`{token}` is not a number of seconds up to 6 h, or off")))?;
                args.take()?;
                Command::Slowmode { seconds: Some(seconds) }
            }
            None => return Err(args.usage("say how many seconds, or off")),
        },
        "freeze" => Command::Freeze,
        "unfreeze" => Command::Unfreeze,
        "token" => match args.take()?.as_deref() {
            Some("create") => {
                let name = args.take()?.ok_or_else(|| args.usage("the token's name is missing"))?;
                let mut scopes = Vec::new();
                while let Some(scope) = args.take()? {
                    scopes.push(scope.to_ascii_lowercase());
                }
                Command::TokenCreate { name, scopes }
            }
            Some("revoke") => {
                Command::TokenRevoke { id: args.take()?.ok_or_else(|| args.usage("the token id is missing"))? }
            }
            _ => return Err(args.usage("say create or revoke")),
        },
        "webhook" => match args.take()?.as_deref() {
            Some("create") => {
                let channel = args.channel()?;
                let name = args.required_rest("the webhook's name")?;
                Command::WebhookCreate { channel, name }
            }
            Some("list") => Command::WebhookList,
            Some("revoke") => {
                Command::WebhookRevoke { id: args.take()?.ok_or_else(|| args.usage("the webhook id is missing"))? }
            }
            _ => return Err(args.usage("say create, list or revoke")),
        },
        _ => return Err(ParseError::Unknown { name, suggestions: Vec::new() }),
    };
    args.done()?;
    Ok(command)
}

/// Up to three commands whose names are closest to `name` (prefix matches first, then by
/// edit distance ≤ 2).
#[must_use]
pub fn nearest(name: &str) -> Vec<&'static str> {
    let names = COMMANDS.iter().flat_map(|spec| std::iter::once(spec.name).chain(spec.aliases.iter().copied()));
    let mut scored: Vec<(usize, &'static str)> = names
        .filter_map(|candidate| {
            if !name.is_empty() && candidate.starts_with(name) {
                return Some((0, candidate));
            }
            let distance = edit_distance(name, candidate);
            (distance <= 2).then_some((distance, candidate))
        })
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, name)| name).collect()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

/// Quotes `text` as one argument if it needs it.
fn quoted(text: &str) -> String {
    if !text.is_empty() && !text.chars().any(|c| c.is_whitespace() || c == '"' || c == '\'' || c == '\\') {
        return text.to_owned();
    }
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

impl fmt::Display for Command {
    /// The command as a line `parse` reads back to the same command.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let opt = |text: &Option<String>| text.as_ref().map(|t| format!(" {t}")).unwrap_or_default();
        let duration = |d: &Option<Duration>| d.map(|d| format!(" {}", format_duration(d))).unwrap_or_default();
        match self {
            Self::Join { channel } => write!(f, "/join #{channel}"),
            Self::Leave => write!(f, "/leave"),
            Self::Topic { topic } => write!(f, "/topic{}", opt(topic)),
            Self::Msg { user, text } => write!(f, "/msg @{user} {text}"),
            Self::Me { text } => write!(f, "/me {text}"),
            Self::Invite { max_uses, expires_in } => {
                write!(f, "/invite{}{}", max_uses.map(|n| format!(" {n}")).unwrap_or_default(), duration(expires_in))
            }
            Self::Shrug { text } if text.is_empty() => write!(f, "/shrug"),
            Self::Shrug { text } => write!(f, "/shrug {text}"),
            Self::Help { command } => write!(f, "/help{}", opt(command)),
            Self::Ban { user, duration: d, reason } => write!(f, "/ban @{user}{}{}", duration(d), opt(reason)),
            Self::Unban { user } => write!(f, "/unban @{user}"),
            Self::Kick { user, reason } => write!(f, "/kick @{user}{}", opt(reason)),
            Self::Mute { user, duration: d, reason } => write!(f, "/mute @{user}{}{}", duration(d), opt(reason)),
            Self::Unmute { user } => write!(f, "/unmute @{user}"),
            Self::Role { user, role } => {
                write!(f, "/role @{user} {}", if *role == Role::Admin { "admin" } else { "member" })
            }
            Self::Purge { count } => write!(f, "/purge {count}"),
            Self::Slowmode { seconds: None } => write!(f, "/slowmode off"),
            Self::Slowmode { seconds: Some(s) } => write!(f, "/slowmode {s}"),
            Self::Freeze => write!(f, "/freeze"),
            Self::Unfreeze => write!(f, "/unfreeze"),
            Self::TokenCreate { name, scopes } => {
                write!(f, "/token create {}", quoted(name))?;
                scopes.iter().try_for_each(|scope| write!(f, " {}", quoted(scope)))
            }
            Self::TokenRevoke { id } => write!(f, "/token revoke {}", quoted(id)),
            Self::WebhookCreate { channel, name } => write!(f, "/webhook create #{channel} {name}"),
            Self::WebhookList => write!(f, "/webhook list"),
            Self::WebhookRevoke { id } => write!(f, "/webhook revoke {}", quoted(id)),
        }
    }
}

#[cfg(test)]
mod tests;
