//! The moderation screens of a community's admins (`views::settings::moderation`): its
//! mutes at `/c/{slug}/settings/mutes` (listed, lifted, a member muted) and a channel's
//! purge at `/c/{slug}/settings/channels/{id}/purge` (a page of its own; the form needs its
//! confirmation box ticked, and the page then says how many messages went). Opened and
//! answered as every admin screen (`Context::admin`, Post/Redirect/Get, the api's refusal
//! shown with the form as filled).

use ajet_shared::api::wire::{Community, CreateMuteRequest, PurgeRequest};
use ajet_shared::domain::ids::{ChannelId, UserId};
use axum::extract::{Form, Path, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{Context, Done, DoneQuery, after, own_channel, refusal};
use crate::error::PageError;
use crate::extract::Viewer;
use crate::views::settings::{self as view, MuteForm, href};

// --- Mutes ---

/// The mutes screen of `community`, with `error` and the form as filled.
async fn mutes_page(
    viewer: &Viewer,
    ctx: &Context,
    community: &Community,
    status: StatusCode,
    error: Option<&str>,
    form: &MuteForm,
    done: Option<Done>,
) -> Result<Response, PageError> {
    let (mutes, members) =
        tokio::join!(viewer.api.list_mutes(community.id), viewer.api.list_community_members(community.id));
    let (mutes, members) = (mutes?.data, members?.data);
    let content = view::mutes(&community.slug, &mutes, &members, ctx.me.user.id, form);
    let title = format!("Mutes in {}", community.name);
    Ok(ctx.render(status, &title, &href::community(&community.slug, "mutes"), error, done, &content))
}

/// `GET /c/{slug}/settings/mutes`.
pub async fn mutes(
    viewer: Viewer,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let (ctx, community) = Context::admin(&viewer, &headers, &slug).await?;
    mutes_page(&viewer, &ctx, &community, StatusCode::OK, None, &MuteForm::default(), query.done).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewMute {
    user: String,
    #[serde(default)]
    duration: String,
    #[serde(default)]
    reason: String,
}

/// A mute's length as the form names it (`views::settings::MUTE_DURATIONS`): seconds, or
/// none for until lifted.
fn mute_secs(duration: &str) -> Result<Option<u32>, String> {
    match duration {
        "" => Ok(None),
        "10m" => Ok(Some(600)),
        "hour" => Ok(Some(3600)),
        "day" => Ok(Some(86_400)),
        "week" => Ok(Some(7 * 86_400)),
        _ => Err("For: ten minutes, an hour, a day, a week, or until lifted.".to_owned()),
    }
}

/// `POST /c/{slug}/settings/mutes`: mutes a member for the chosen time, with the reason.
pub async fn create_mute(
    viewer: Viewer,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Form(form): Form<NewMute>,
) -> Result<Response, PageError> {
    let (ctx, community) = Context::admin(&viewer, &headers, &slug).await?;
    let user = form.user.parse::<UserId>().map_err(|_| "Member: choose one of the community's members.".to_owned());
    let reason = Some(form.reason.trim().to_owned()).filter(|reason| !reason.is_empty());
    let message = match (user, mute_secs(&form.duration)) {
        (Ok(user_id), Ok(duration_secs)) => {
            let request = CreateMuteRequest { user_id, duration_secs, reason };
            match viewer.api.mute(community.id, &request).await {
                Ok(_) => return Ok(after(&href::community(&slug, "mutes"), Done::Muted)),
                Err(err) => refusal(err)?,
            }
        }
        (Err(message), _) | (_, Err(message)) => message,
    };
    let kept = MuteForm { user: form.user, duration: form.duration, reason: form.reason };
    mutes_page(&viewer, &ctx, &community, StatusCode::UNPROCESSABLE_ENTITY, Some(&message), &kept, None).await
}

/// `POST /c/{slug}/settings/mutes/{user}/lift`: lifts their mute.
pub async fn lift_mute(
    viewer: Viewer,
    headers: HeaderMap,
    Path((slug, user)): Path<(String, UserId)>,
) -> Result<Response, PageError> {
    let (ctx, community) = Context::admin(&viewer, &headers, &slug).await?;
    match viewer.api.unmute(community.id, user).await {
        Ok(()) => Ok(after(&href::community(&slug, "mutes"), Done::Unmuted)),
        Err(err) => {
            let message = refusal(err)?;
            let form = MuteForm::default();
            mutes_page(&viewer, &ctx, &community, StatusCode::UNPROCESSABLE_ENTITY, Some(&message), &form, None).await
        }
    }
}

// --- Purge ---

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurgedQuery {
    /// How many messages the purge just deleted.
    purged: Option<usize>,
}

/// `GET /c/{slug}/settings/channels/{id}/purge`: what a purge does, and its form.
pub async fn purge_page(
    viewer: Viewer,
    headers: HeaderMap,
    Path((slug, id)): Path<(String, ChannelId)>,
    Query(query): Query<PurgedQuery>,
) -> Result<Response, PageError> {
    let (ctx, community) = Context::admin(&viewer, &headers, &slug).await?;
    let channel = own_channel(&viewer, &community, id).await?;
    let content = view::purge(&slug, &channel, &view::PurgeForm::default(), query.purged);
    let title = format!("Purge #{}", channel.name.as_deref().unwrap_or("unnamed"));
    Ok(ctx.render(StatusCode::OK, &title, &href::community(&slug, "channels"), None, None, &content))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurgeSubmit {
    count: String,
    #[serde(default)]
    reason: String,
    /// The confirmation box: `on` when ticked.
    #[serde(default)]
    confirm: Option<String>,
}

/// `POST /c/{slug}/settings/channels/{id}/purge`: deletes the channel's newest `count`
/// messages once the confirmation is ticked, then shows how many went.
pub async fn purge_channel(
    viewer: Viewer,
    headers: HeaderMap,
    Path((slug, id)): Path<(String, ChannelId)>,
    Form(form): Form<PurgeSubmit>,
) -> Result<Response, PageError> {
    let (ctx, community) = Context::admin(&viewer, &headers, &slug).await?;
    let channel = own_channel(&viewer, &community, id).await?;
    let count = form.count.trim().parse::<u32>().map_err(|_| "How many: a whole number from 1 to 1000.".to_owned());
    let message = match (form.confirm.as_deref(), count) {
        (Some("on"), Ok(count)) => {
            let reason = Some(form.reason.trim().to_owned()).filter(|reason| !reason.is_empty());
            match viewer.api.purge_channel(id, &PurgeRequest { count, reason }).await {
                Ok(purged) => {
                    let path = href::community(&slug, &format!("channels/{id}/purge"));
                    return Ok(Redirect::to(&format!("{path}?purged={}", purged.ids.len())).into_response());
                }
                Err(err) => refusal(err)?,
            }
        }
        (Some("on"), Err(message)) => message,
        (None, _) => "Tick the box to confirm: nothing was deleted.".to_owned(),
        (Some(_), _) => "Confirm: a checkbox, on or absent.".to_owned(),
    };
    let kept = view::PurgeForm { count: form.count, reason: form.reason };
    let content = view::purge(&slug, &channel, &kept, None);
    let title = format!("Purge #{}", channel.name.as_deref().unwrap_or("unnamed"));
    let current = href::community(&slug, "channels");
    Ok(ctx.render(StatusCode::UNPROCESSABLE_ENTITY, &title, &current, Some(&message), None, &content))
}
