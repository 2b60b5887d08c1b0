//! Slash commands: `GET /api/commands` lists what the caller may run (for completion) and
//! `POST /api/commands` runs one typed in a channel. The line is parsed by
//! `ajet_shared::commands`; each command runs through the same `chat` functions as the REST
//! endpoints, and its reply is ephemeral: answered to the caller and pushed on their own
//! subject only (`command.replied`, also for refusals), never posted to the channel.
//! Commands that post (`/me`, `/shrug`, `/msg`) answer the message they posted. The
//! moderation commands call `chat::moderation` as its REST endpoints do (same checks, same
//! audit rows with the request's trace id), and so do `/invite`, `/purge`, `/token` and
//! `/webhook create`, whose replies carry what their endpoints answer (an invite link, a
//! token, a webhook's secret URL) to the caller alone.

use std::time::Duration;

use ajet_shared::api::paths;
use ajet_shared::api::wire::{
    CommandInfo, CommandOutcome, CommandQuery, CreateInviteRequest, CreateTokenRequest, CreateWebhookRequest, Message,
    Role as CommunityRole, RunCommandRequest,
};
use ajet_shared::api::{ErrorBody, ErrorCode};
use ajet_shared::auth::cache::AuthCache;
use ajet_shared::chat;
use ajet_shared::chat::Actor;
use ajet_shared::chat::access::{channel_access, community_role};
use ajet_shared::chat::channels::ChannelChange;
use ajet_shared::chat::messages::{Poster, post_message};
use ajet_shared::chat::moderation::{ChannelModeration, Target};
use ajet_shared::commands::{COMMANDS, Command, ParseError, Role as CommandRole, find, format_duration};
use ajet_shared::config::Config;
use ajet_shared::db::{self, PgPool};
use ajet_shared::domain::MessageBody;
use ajet_shared::domain::ids::{ApiTokenId, ChannelId, UserId, WebhookId};
use ajet_shared::events::bus::NatsBus;
use ajet_shared::outbox::OutboxRelay;
use axum::Json;
use axum::extract::State;

use super::{invites, moderation, tokens, webhooks};
use crate::error::{ApiError, ApiResult};
use crate::extract::{AuthUser, Body, Query, TraceId};
use crate::state::AppState;
use crate::sweeper::Sweeper;

/// The longest command line accepted.
const MAX_LINE: usize = 4000;

#[utoipa::path(get, path = paths::COMMANDS, tag = "api", summary = "The slash commands I may run", params(CommandQuery), responses((status = 200, description = "in /help order; with a channel, admin commands only for its community's admins", body = Vec<CommandInfo>), (status = 400, description = "invalid input", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "no such channel, or not visible", body = ErrorBody)), security(("bearer" = [])))]
pub async fn list_commands(
    State(pool): State<PgPool>,
    auth: AuthUser,
    Query(query): Query<CommandQuery>,
) -> ApiResult<Json<Vec<CommandInfo>>> {
    auth.require_read()?;
    let admin = match query.channel_id {
        Some(channel) => is_admin(&pool, auth.id(), channel).await?,
        None => false,
    };
    let list = COMMANDS
        .iter()
        .filter(|spec| admin || !spec.admin)
        .map(|spec| CommandInfo {
            name: spec.name.to_owned(),
            aliases: spec.aliases.iter().map(|a| (*a).to_owned()).collect(),
            usage: spec.usage.to_owned(),
            summary: spec.summary.to_owned(),
            admin: spec.admin,
        })
        .collect();
    Ok(Json(list))
}

/// True if `user` is an admin (or the owner) of `channel`'s community; 404 if they cannot
/// see the channel.
async fn is_admin(pool: &PgPool, user: UserId, channel: ChannelId) -> ApiResult<bool> {
    let access = channel_access(pool, channel, user).await?;
    Ok(match access.channel.community_id {
        Some(community) => {
            matches!(community_role(pool, community, user).await?, CommunityRole::Owner | CommunityRole::Admin)
        }
        None => false,
    })
}

#[utoipa::path(post, path = paths::COMMANDS, tag = "api", summary = "Run a slash command typed in a channel", request_body = RunCommandRequest, responses((status = 200, description = "done: the ephemeral reply, and the message it posted if any", body = CommandOutcome), (status = 400, description = "unknown command (nearest suggested) or wrong arguments (usage given)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed (admin commands need an admin)", body = ErrorBody), (status = 404, description = "channel or user not found or not visible", body = ErrorBody), (status = 409, description = "the command cannot run here or is not available yet", body = ErrorBody), (status = 422, description = "too long", body = ErrorBody), (status = 429, description = "too many", body = ErrorBody)), security(("bearer" = [])))]
/// Refusals are also pushed to the caller's own streams as a `command.replied` with
/// `error: true`, so every client of theirs shows them where the command was typed.
pub async fn run_command(
    State(state): State<AppState>,
    auth: AuthUser,
    trace: TraceId,
    Body(request): Body<RunCommandRequest>,
) -> ApiResult<Json<CommandOutcome>> {
    let AppState { pool, relay, config, sweeper, auth_cache, .. } = state;
    auth.require_write()?;
    // The channel must be visible before anything is said about it, even a refusal.
    channel_access(&pool, request.channel_id, auth.id()).await?;
    let user = auth.id();
    let channel = request.channel_id;
    let context = Context {
        pool: &pool,
        relay: &relay,
        config: &config,
        sweeper: &sweeper,
        auth_cache: &auth_cache,
        auth: &auth,
    };
    let outcome = run(&context, trace.actor(&auth), channel, &request.text).await;
    let (text, error) = match &outcome {
        Ok(CommandOutcome { reply: Some(reply), .. }) => (reply.clone(), false),
        Ok(CommandOutcome { reply: None, .. }) => return outcome.map(Json),
        Err(err) => (err.message.clone(), true),
    };
    chat::commands::reply(&pool, user, channel, &text, error).await?.wake(&relay);
    outcome.map(Json)
}

fn parse_error(err: &ParseError) -> ApiError {
    let code = match err {
        ParseError::Unknown { .. } => ErrorCode::UnknownCommand,
        ParseError::NotACommand | ParseError::UnbalancedQuote | ParseError::Usage { .. } => ErrorCode::InvalidCommand,
    };
    ApiError::bad_request(code, err.to_string())
}

fn reply(text: impl Into<String>) -> CommandOutcome {
    CommandOutcome { reply: Some(text.into()), message: None }
}

fn posted(message: Message) -> CommandOutcome {
    CommandOutcome { reply: None, message: Some(message) }
}

/// Escapes Markdown's emphasis characters in free text wrapped by a command.
fn shrug(text: &str) -> String {
    let face = r"¯\\\_(ツ)\_/¯";
    if text.is_empty() { face.to_owned() } else { format!("{text} {face}") }
}

/// The id of the user named `name`.
async fn user_named(pool: &PgPool, name: &str) -> ApiResult<UserId> {
    let user = db::users::find_by_username(pool, name)
        .await?
        .ok_or_else(|| ApiError::bad_request(ErrorCode::UnknownUser, format!("no user @{name}")))?;
    Ok(user.id)
}

/// "for 2h" or "until lifted".
fn how_long(duration: Option<Duration>) -> String {
    duration.map_or_else(|| "until lifted".to_owned(), |d| format!("for {}", format_duration(d)))
}

fn secs(duration: Option<Duration>) -> ApiResult<Option<u32>> {
    let secs = duration.map(|d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX));
    moderation::duration("duration", secs)
}

/// What a command may use of the request.
struct Context<'a> {
    pool: &'a PgPool,
    relay: &'a OutboxRelay<NatsBus>,
    config: &'a Config,
    sweeper: &'a Sweeper,
    auth_cache: &'a AuthCache,
    auth: &'a AuthUser,
}

/// "5 uses" or "unlimited uses"; "expires in 2h" or "does not expire".
fn invite_terms(max_uses: Option<u32>, expires_in: Option<Duration>) -> String {
    let uses =
        max_uses.map_or_else(|| "unlimited uses".to_owned(), |n| format!("{n} use{}", if n == 1 { "" } else { "s" }));
    let expiry =
        expires_in.map_or_else(|| "does not expire".to_owned(), |d| format!("expires in {}", format_duration(d)));
    format!("{uses}, {expiry}")
}

async fn run(context: &Context<'_>, actor: Actor<'_>, channel: ChannelId, line: &str) -> ApiResult<CommandOutcome> {
    let Context { pool, relay, config, sweeper, auth_cache, auth } = *context;
    let user = actor.user;
    if line.chars().count() > MAX_LINE {
        return Err(ApiError::bad_request(ErrorCode::InvalidCommand, format!("text: at most {MAX_LINE} characters")));
    }
    let command = ajet_shared::commands::parse(line).map_err(|err| parse_error(&err))?;
    let post = |body: String, into: ChannelId| async move {
        let body = MessageBody::parse("text", &body, config.message_max_chars)?;
        let poster = Poster::User { id: user, channel: into, parent: None, client_msg_id: None, attachments: &[] };
        let posted = post_message(pool, poster, &body, config.broadcast_mention_max_members).await?.wake(relay);
        Ok::<_, ApiError>(posted.message)
    };
    let here = channel_access(pool, channel, user).await?.channel;
    let community = here.community_id;
    let needs_community = || {
        community.ok_or_else(|| {
            ApiError::conflict(ErrorCode::CommandUnavailable, "this command works in a community's channel, not a DM")
        })
    };
    Ok(match command {
        Command::Join { channel: name } => {
            let community = needs_community()?;
            let target = db::channels::find_by_name(pool, community, &name).await?.ok_or_else(|| {
                ApiError::not_found(ErrorCode::ChannelNotFound, format!("no channel #{name} that you can join here"))
            })?;
            chat::membership::join_channel(pool, user, target.id).await?.wake(relay);
            reply(format!("You joined #{name}."))
        }
        Command::Leave => {
            chat::membership::leave_channel(pool, user, channel).await?.wake(relay);
            reply(format!("You left #{}.", here.name.as_deref().unwrap_or("this channel")))
        }
        Command::Topic { topic } => {
            let change = ChannelChange { topic: Some(topic.as_deref()), ..ChannelChange::default() };
            chat::channels::update_channel(pool, user, channel, change).await?.wake(relay);
            reply(if topic.is_some() { "Topic set." } else { "Topic cleared." })
        }
        Command::Msg { user: name, text } => {
            let other = db::users::find_by_username(pool, &name)
                .await?
                .ok_or_else(|| ApiError::bad_request(ErrorCode::UnknownUser, format!("no user @{name}")))?;
            // The caller is a member too (sorted, as `POST /api/dms` passes them).
            let mut members = vec![user, other.id];
            members.sort_unstable();
            members.dedup();
            let dm = chat::dms::open_dm(pool, user, &members, config.group_dms_per_hour).await?.wake(relay);
            posted(post(text, dm.channel.id).await?)
        }
        Command::Me { text } => posted(post(format!("_{text}_"), channel).await?),
        Command::Shrug { text } => posted(post(shrug(&text), channel).await?),
        Command::Help { command: None } => {
            let admin = is_admin(pool, user, channel).await?;
            let lines: Vec<String> = COMMANDS
                .iter()
                .filter(|spec| admin || !spec.admin)
                .map(|spec| format!("`{}` — {}", spec.usage, spec.summary))
                .collect();
            reply(lines.join("\n"))
        }
        Command::Help { command: Some(name) } => match find(&name) {
            Some(spec) => reply(format!("`{}` — {}", spec.usage, spec.summary)),
            None => {
                return Err(parse_error(&ParseError::Unknown {
                    suggestions: ajet_shared::commands::nearest(&name),
                    name,
                }));
            }
        },
        Command::WebhookList => {
            let webhooks = chat::webhooks::list_webhooks(pool, user, needs_community()?).await?;
            if webhooks.is_empty() {
                reply("No webhooks you can see.")
            } else {
                reply(webhooks.iter().map(|w| format!("`{}` {}", w.id, w.name)).collect::<Vec<_>>().join("\n"))
            }
        }
        Command::WebhookRevoke { id } => {
            let id: WebhookId = id.parse().map_err(|_| {
                ApiError::bad_request(
                    ErrorCode::InvalidCommand,
                    format!("`{id}` is not a webhook id; /webhook list shows them"),
                )
            })?;
            chat::webhooks::revoke_webhook(pool, actor, id).await?;
            reply("Webhook revoked.")
        }
        Command::Ban { user: name, duration, reason } => {
            let target = Target {
                user: user_named(pool, &name).await?,
                reason: moderation::reason(reason.as_deref())?,
                secs: secs(duration)?,
            };
            chat::moderation::ban(pool, actor, needs_community()?, target).await?.wake(relay);
            reply(format!("Banned @{name} {}.", how_long(duration)))
        }
        Command::Unban { user: name } => {
            chat::moderation::unban(pool, actor, needs_community()?, user_named(pool, &name).await?).await?.wake(relay);
            reply(format!("Lifted the ban of @{name}."))
        }
        Command::Kick { user: name, reason } => {
            let target = Target {
                user: user_named(pool, &name).await?,
                reason: moderation::reason(reason.as_deref())?,
                secs: None,
            };
            chat::moderation::kick(pool, actor, needs_community()?, target).await?.wake(relay);
            reply(format!("Removed @{name} from the community."))
        }
        Command::Mute { user: name, duration, reason } => {
            let target = Target {
                user: user_named(pool, &name).await?,
                reason: moderation::reason(reason.as_deref())?,
                secs: secs(duration)?,
            };
            chat::moderation::mute(pool, actor, needs_community()?, target).await?.wake(relay);
            reply(format!("Muted @{name} {}.", how_long(duration)))
        }
        Command::Unmute { user: name } => {
            chat::moderation::unmute(pool, actor, needs_community()?, user_named(pool, &name).await?)
                .await?
                .wake(relay);
            reply(format!("Lifted the mute of @{name}."))
        }
        Command::Role { user: name, role } => {
            let (role, word) = match role {
                CommandRole::Admin => (CommunityRole::Admin, "an admin"),
                CommandRole::Member => (CommunityRole::Member, "a member"),
            };
            let target = user_named(pool, &name).await?;
            chat::moderation::set_role(pool, actor, needs_community()?, target, role, None).await?.wake(relay);
            reply(format!("@{name} is now {word}."))
        }
        Command::Slowmode { seconds } => {
            let change = ChannelModeration { slow_mode_secs: Some(seconds.unwrap_or(0)), frozen: None, reason: None };
            chat::moderation::moderate_channel(pool, actor, channel, change).await?.wake(relay);
            reply(match seconds {
                Some(s) => format!("Slow mode: one post per member every {s} s."),
                None => "Slow mode is off.".to_owned(),
            })
        }
        Command::Freeze | Command::Unfreeze => {
            let frozen = line.trim_start().to_ascii_lowercase().starts_with("/freeze");
            let change = ChannelModeration { slow_mode_secs: None, frozen: Some(frozen), reason: None };
            chat::moderation::moderate_channel(pool, actor, channel, change).await?.wake(relay);
            reply(if frozen { "Frozen: only admins may post here." } else { "Unfrozen: everyone may post here again." })
        }
        Command::Purge { count } => {
            let purged = chat::moderation::purge(pool, actor, channel, count, None).await?.wake(relay);
            sweeper.wake();
            reply(match purged.ids.len() {
                0 => "Nothing to purge here.".to_owned(),
                1 => "Purged the last message.".to_owned(),
                n => format!("Purged the last {n} messages."),
            })
        }
        Command::Invite { max_uses, expires_in } => {
            let request = CreateInviteRequest {
                expires_in_secs: expires_in.map(|d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX)),
                max_uses: max_uses.map(|n| i32::try_from(n).unwrap_or(i32::MAX)),
            };
            let invite = invites::create(pool, config, user, needs_community()?, &request).await?;
            let link = format!("{}{}", config.public_url.trim_end_matches('/'), paths::invite_page(&invite.code));
            reply(format!(
                "Invite `{}` ({}): {link} — it shows what they join and lets them sign in and join.",
                invite.code,
                invite_terms(max_uses, expires_in)
            ))
        }
        Command::TokenCreate { name, scopes } => {
            let scopes = if scopes.is_empty() { vec!["read".to_owned(), "write".to_owned()] } else { scopes };
            let request = CreateTokenRequest { name, scopes, expires_in_days: None };
            let created = tokens::create(pool, config, auth, actor, &request).await?;
            reply(format!(
                "Token `{}` ({}), id `{}`: `{}` — shown this once, only to you.",
                created.info.name,
                created.info.scopes.join(", "),
                created.info.id,
                created.token
            ))
        }
        Command::TokenRevoke { id } => {
            let id: ApiTokenId = id
                .parse()
                .map_err(|_| ApiError::bad_request(ErrorCode::InvalidCommand, format!("`{id}` is not a token id")))?;
            tokens::revoke(pool, auth_cache, auth, actor, id).await?;
            relay.notify();
            reply("Token revoked.")
        }
        Command::WebhookCreate { channel: name, name: hook } => {
            let community = needs_community()?;
            let target = db::channels::find_by_name(pool, community, &name)
                .await?
                .ok_or_else(|| ApiError::not_found(ErrorCode::ChannelNotFound, format!("no channel #{name} here")))?;
            let request = CreateWebhookRequest { channel_id: target.id, name: hook, avatar_url: None };
            let created = webhooks::create(pool, config, actor, &request).await?;
            reply(format!(
                "Webhook `{}` ({}) posts into #{name}. Its secret URL, shown this once and only to you: {}",
                created.info.name, created.info.id, created.url
            ))
        }
    })
}
