//! The settings screens (`views::settings`): the viewer's profile, API tokens and security
//! log at `/settings/…`, and a community's name and link previews, channels (name, topic,
//! archive, freeze, slow mode), members and roles,
//! invites, webhooks (with their avatar and
//! delivery logs) and audit log at `/c/{slug}/settings/…` (mutes and a channel's purge in
//! `settings/moderation.rs`), for its admins only — anyone else is answered 404 (not in
//! the community) or 403 (not an admin) by `Context::admin` before the api is asked.
//! Everything is read and written through the api with the viewer's token.
//!
//! Forms are plain POSTs (same-origin only: the gateway refuses a cross-site POST carrying
//! the session cookie) answered by a redirect to the screen (Post/Redirect/Get) with a
//! `done` line; when the api refuses, the screen is rendered again with the api's message
//! and the form as it was filled (422). A created token or webhook is answered with the
//! screen showing its secret, which the api gives only once.

use ajet_shared::api::wire::{
    AuditQuery, Channel, ChannelKind, ChannelModerationRequest, Community, CreateBanRequest, CreateInviteRequest,
    CreateKickRequest, CreateTokenRequest, CreateWebhookRequest, Me, Role, UpdateChannelRequest,
    UpdateCommunityRequest, UpdateMeRequest, UpdateMemberRequest,
};
use ajet_shared::client::ClientError;
use ajet_shared::domain::ids::{ApiTokenId, ChannelId, UserId, WebhookId};
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Form, Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::Markup;
use serde::Deserialize;

use super::pages::{community_by_slug, theme};
use crate::PublicUrl;
use crate::error::PageError;
use crate::extract::Viewer;
use crate::views::settings::{
    self as view, ChannelEdit, Frame, InviteForm, MemberFailure, TokenForm, WebhookForm, href,
};

mod moderation;

pub use moderation::{create_mute, lift_mute, mutes, purge_channel, purge_page};

/// What a screen says after a successful action (`?done=`).
#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Done {
    Saved,
    Avatar,
    AvatarRemoved,
    Revoked,
    Role,
    Kicked,
    Banned,
    Unbanned,
    Invite,
    Deleted,
    Muted,
    Unmuted,
    WebhookAvatar,
    WebhookAvatarRemoved,
}

impl Done {
    fn as_str(self) -> &'static str {
        match self {
            Self::Saved => "saved",
            Self::Avatar => "avatar",
            Self::AvatarRemoved => "avatar_removed",
            Self::Revoked => "revoked",
            Self::Role => "role",
            Self::Kicked => "kicked",
            Self::Banned => "banned",
            Self::Unbanned => "unbanned",
            Self::Invite => "invite",
            Self::Deleted => "deleted",
            Self::Muted => "muted",
            Self::Unmuted => "unmuted",
            Self::WebhookAvatar => "webhook_avatar",
            Self::WebhookAvatarRemoved => "webhook_avatar_removed",
        }
    }

    fn text(self) -> &'static str {
        match self {
            Self::Saved => "Saved.",
            Self::Avatar => "Your avatar was updated.",
            Self::AvatarRemoved => "Your avatar was removed.",
            Self::Revoked => "Revoked.",
            Self::Role => "The role was changed.",
            Self::Kicked => "The member was kicked.",
            Self::Banned => "The member was banned.",
            Self::Unbanned => "The ban was lifted.",
            Self::Invite => "The invite was created: copy its link below.",
            Self::Deleted => "Deleted.",
            Self::Muted => "The member was muted.",
            Self::Unmuted => "The mute was lifted.",
            Self::WebhookAvatar => "The webhook's avatar was updated.",
            Self::WebhookAvatarRemoved => "The webhook's avatar was removed.",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoneQuery {
    done: Option<Done>,
}

/// The screen at `path`, after `done`.
fn after(path: &str, done: Done) -> Response {
    Redirect::to(&format!("{path}?done={}", done.as_str())).into_response()
}

/// What the viewer is, for every screen.
struct Context {
    me: Me,
    theme: Option<crate::views::layout::Theme>,
}

impl Context {
    async fn read(viewer: &Viewer, headers: &HeaderMap) -> Result<Self, PageError> {
        Ok(Self { me: viewer.api.me().await?, theme: theme(headers) })
    }

    /// A screen answered with `status`.
    fn render(
        &self,
        status: StatusCode,
        title: &str,
        current: &str,
        error: Option<&str>,
        done: Option<Done>,
        content: &Markup,
    ) -> Response {
        (status, self.page(title, current, error, done, content)).into_response()
    }

    /// A screen in the viewer's frame.
    fn page(&self, title: &str, current: &str, error: Option<&str>, done: Option<Done>, content: &Markup) -> Markup {
        let frame = Frame {
            title,
            current,
            communities: &self.me.communities,
            error,
            done: done.map(Done::text),
            theme: self.theme,
        };
        view::settings_page(&frame, content)
    }

    /// The viewer and the community at `slug`, if they administer it: the opening of every
    /// admin screen and form, checked before the api is asked (members may do some of these
    /// through the api, e.g. create invites, but not from these screens). Anyone else is
    /// answered 404 when they are not in it (as the api answers for a community one cannot
    /// see), else the 403 screen.
    async fn admin(viewer: &Viewer, headers: &HeaderMap, slug: &str) -> Result<(Self, Community), PageError> {
        let ctx = Self::read(viewer, headers).await?;
        let community = community_by_slug(&ctx.me, slug)?.clone();
        if !view::is_admin(community.role) {
            return Err(PageError::Forbidden(ctx.page("Not allowed", "", None, None, &view::forbidden())));
        }
        Ok((ctx, community))
    }
}

/// A refusal the form can show (the api's message for a client error), or the page's
/// error (signed out, the api failing or unreachable).
fn refusal(err: ClientError) -> Result<String, PageError> {
    match (err.status(), err.message()) {
        (Some(status), Some(message)) if status.is_client_error() && status != StatusCode::UNAUTHORIZED => {
            Ok(message.to_owned())
        }
        _ => Err(err.into()),
    }
}

/// `GET /settings`: the profile screen.
pub async fn settings_home() -> Redirect {
    Redirect::to(href::PROFILE)
}

// --- Community ---

/// `GET /c/{slug}/settings/community`: its name and link previews.
pub async fn community(
    viewer: Viewer,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let (ctx, community) = Context::admin(&viewer, &headers, &slug).await?;
    let content = view::community_settings(&slug, &community.name, community.link_previews);
    let path = href::community(&slug, "community");
    Ok(ctx.render(StatusCode::OK, &format!("{} settings", community.name), &path, None, query.done, &content))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommunityForm {
    name: String,
    /// A checkbox: present (`on`) when ticked.
    #[serde(default)]
    link_previews: Option<String>,
}

/// `POST /c/{slug}/settings/community`: renames it and turns link previews on or off.
pub async fn save_community(
    viewer: Viewer,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Form(form): Form<CommunityForm>,
) -> Result<Response, PageError> {
    let (ctx, community) = Context::admin(&viewer, &headers, &slug).await?;
    let path = href::community(&slug, "community");
    let link_previews = match form.link_previews.as_deref() {
        None => false,
        Some("on") => true,
        Some(_) => {
            let content = view::community_settings(&slug, &form.name, community.link_previews);
            let error = "Link previews: a checkbox, on or absent.";
            return Ok(ctx.render(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Community settings",
                &path,
                Some(error),
                None,
                &content,
            ));
        }
    };
    let request =
        UpdateCommunityRequest { name: Some(form.name.clone()), description: None, link_previews: Some(link_previews) };
    match viewer.api.update_community(community.id, &request).await {
        Ok(_) => Ok(after(&path, Done::Saved)),
        Err(err) => {
            let message = refusal(err)?;
            let content = view::community_settings(&slug, &form.name, link_previews);
            let title = format!("{} settings", community.name);
            Ok(ctx.render(StatusCode::UNPROCESSABLE_ENTITY, &title, &path, Some(&message), None, &content))
        }
    }
}

// --- Channels ---

/// The channels screen with `edits` overriding the forms shown (a refused one as filled).
async fn channels_page(
    viewer: &Viewer,
    ctx: &Context,
    community: &Community,
    status: StatusCode,
    failed: Option<(ChannelId, ChannelEdit, &str)>,
    done: Option<Done>,
) -> Result<Response, PageError> {
    let slug = &community.slug;
    let listed = viewer.api.list_channels(community.id).await?.data;
    let edits: Vec<(&Channel, ChannelEdit)> = listed
        .iter()
        .map(|item| {
            let edit = match &failed {
                Some((id, edit, _)) if *id == item.channel.id => edit.clone(),
                _ => ChannelEdit::of(&item.channel),
            };
            (&item.channel, edit)
        })
        .collect();
    let content = view::channels(slug, &edits);
    let title = format!("Channels of {}", community.name);
    let error = failed.as_ref().map(|(_, _, message)| *message);
    Ok(ctx.render(status, &title, &href::community(slug, "channels"), error, done, &content))
}

/// The channel `id` if it is `community`'s: the others are as if they did not exist.
async fn own_channel(viewer: &Viewer, community: &Community, id: ChannelId) -> Result<Channel, PageError> {
    let channel = viewer.api.get_channel(id).await?;
    if channel.community_id == Some(community.id) {
        Ok(channel)
    } else {
        Err(PageError::NotFound("no such channel in this community"))
    }
}

/// `GET /c/{slug}/settings/channels`.
pub async fn channels(
    viewer: Viewer,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let (ctx, community) = Context::admin(&viewer, &headers, &slug).await?;
    channels_page(&viewer, &ctx, &community, StatusCode::OK, None, query.done).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelSettingsForm {
    name: String,
    topic: String,
    slow_mode_secs: String,
    /// Checkboxes: present (`on`) when ticked.
    #[serde(default)]
    frozen: Option<String>,
    #[serde(default)]
    archived: Option<String>,
}

/// A checkbox's value: ticked (`on`) or absent; anything else is refused.
fn checkbox(raw: Option<&str>, what: &str) -> Result<bool, String> {
    match raw {
        None => Ok(false),
        Some("on") => Ok(true),
        Some(_) => Err(format!("{what}: a checkbox, on or absent.")),
    }
}

/// `POST /c/{slug}/settings/channels/{id}`: saves what changed — name, topic and archived
/// through `PATCH /api/channels/{id}`, freeze and slow mode through its moderation.
pub async fn save_channel(
    viewer: Viewer,
    headers: HeaderMap,
    Path((slug, id)): Path<(String, ChannelId)>,
    Form(form): Form<ChannelSettingsForm>,
) -> Result<Response, PageError> {
    let (ctx, community) = Context::admin(&viewer, &headers, &slug).await?;
    let channel = own_channel(&viewer, &community, id).await?;
    let edit = ChannelEdit {
        name: form.name.clone(),
        topic: form.topic.clone(),
        archived: form.archived.is_some(),
        frozen: form.frozen.is_some(),
        slow_mode_secs: form.slow_mode_secs.clone(),
    };
    let now = ChannelEdit::of(&channel);
    let parsed = checkbox(form.frozen.as_deref(), "Frozen").and_then(|frozen| {
        let archived = checkbox(form.archived.as_deref(), "Archived")?;
        let slow = form
            .slow_mode_secs
            .trim()
            .parse::<u32>()
            .map_err(|_| "Slow mode: a whole number of seconds, 0 for off.".to_owned())?;
        Ok((frozen, archived, slow))
    });
    let (frozen, archived, slow) = match parsed {
        Ok(parsed) => parsed,
        Err(message) => {
            let failed = Some((id, edit, message.as_str()));
            return channels_page(&viewer, &ctx, &community, StatusCode::UNPROCESSABLE_ENTITY, failed, None).await;
        }
    };
    let update = UpdateChannelRequest {
        name: (form.name != now.name).then(|| form.name.clone()),
        topic: (form.topic != now.topic).then(|| form.topic.clone()),
        archived: (archived != now.archived).then_some(archived),
    };
    let moderation = ChannelModerationRequest {
        slow_mode_secs: (slow.to_string() != now.slow_mode_secs).then_some(slow),
        frozen: (frozen != now.frozen).then_some(frozen),
        reason: None,
    };
    let mut refused = None;
    if (update.name.is_some() || update.topic.is_some() || update.archived.is_some())
        && let Err(err) = viewer.api.update_channel(id, &update).await
    {
        refused = Some(refusal(err)?);
    }
    if refused.is_none()
        && (moderation.slow_mode_secs.is_some() || moderation.frozen.is_some())
        && let Err(err) = viewer.api.moderate_channel(id, &moderation).await
    {
        refused = Some(refusal(err)?);
    }
    match refused {
        None => Ok(after(&href::community(&slug, "channels"), Done::Saved)),
        Some(message) => {
            let failed = Some((id, edit, message.as_str()));
            channels_page(&viewer, &ctx, &community, StatusCode::UNPROCESSABLE_ENTITY, failed, None).await
        }
    }
}

// --- Profile ---

fn profile_page(ctx: &Context, status: StatusCode, name: &str, error: Option<&str>, done: Option<Done>) -> Response {
    let content = view::profile(&ctx.me.user, name, ctx.theme);
    ctx.render(status, "Profile", href::PROFILE, error, done, &content)
}

/// `GET /settings/profile`.
pub async fn profile(
    viewer: Viewer,
    headers: HeaderMap,
    Query(query): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let ctx = Context::read(&viewer, &headers).await?;
    Ok(profile_page(&ctx, StatusCode::OK, &ctx.me.user.display_name, None, query.done))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileForm {
    display_name: String,
}

/// `POST /settings/profile`: changes the display name.
pub async fn save_profile(
    viewer: Viewer,
    headers: HeaderMap,
    Form(form): Form<ProfileForm>,
) -> Result<Response, PageError> {
    let request = UpdateMeRequest { display_name: Some(form.display_name.clone()) };
    match viewer.api.update_me(&request).await {
        Ok(_) => Ok(after(href::PROFILE, Done::Saved)),
        Err(err) => {
            let message = refusal(err)?;
            let ctx = Context::read(&viewer, &headers).await?;
            Ok(profile_page(&ctx, StatusCode::UNPROCESSABLE_ENTITY, &form.display_name, Some(&message), None))
        }
    }
}

/// The image of the avatar form (its one field, `avatar`).
async fn avatar_image(multipart: Result<Multipart, MultipartRejection>) -> Result<Vec<u8>, String> {
    let mut multipart = multipart.map_err(|err| format!("The upload was not a form with a file: {err}"))?;
    let mut image = None;
    while let Some(field) =
        multipart.next_field().await.map_err(|err| format!("The upload could not be read: {err}"))?
    {
        if field.name() != Some("avatar") {
            return Err(format!("Unexpected form field {:?}.", field.name().unwrap_or("")));
        }
        let bytes = field.bytes().await.map_err(|err| format!("The image could not be read: {err}"))?;
        image = Some(bytes.to_vec());
    }
    match image {
        Some(bytes) if !bytes.is_empty() => Ok(bytes),
        _ => Err("Choose an image to upload.".to_owned()),
    }
}

/// `POST /settings/avatar` (`multipart/form-data`): forwards the image to the api.
pub async fn upload_avatar(
    viewer: Viewer,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    let outcome = match avatar_image(multipart).await {
        Ok(bytes) => match viewer.api.put_avatar(&bytes).await {
            Ok(_) => return Ok(after(href::PROFILE, Done::Avatar)),
            Err(err) => refusal(err)?,
        },
        Err(message) => message,
    };
    let ctx = Context::read(&viewer, &headers).await?;
    Ok(profile_page(&ctx, StatusCode::UNPROCESSABLE_ENTITY, &ctx.me.user.display_name, Some(&outcome), None))
}

/// `POST /settings/avatar/delete`.
pub async fn remove_avatar(viewer: Viewer, headers: HeaderMap) -> Result<Response, PageError> {
    match viewer.api.delete_avatar().await {
        Ok(_) => Ok(after(href::PROFILE, Done::AvatarRemoved)),
        Err(err) => {
            let message = refusal(err)?;
            let ctx = Context::read(&viewer, &headers).await?;
            Ok(profile_page(&ctx, StatusCode::UNPROCESSABLE_ENTITY, &ctx.me.user.display_name, Some(&message), None))
        }
    }
}

// --- API tokens ---

/// `GET /settings/tokens`.
pub async fn tokens(viewer: Viewer, headers: HeaderMap, Query(query): Query<DoneQuery>) -> Result<Response, PageError> {
    let ctx = Context::read(&viewer, &headers).await?;
    let list = viewer.api.list_tokens().await?.data;
    let form = TokenForm { read: true, ..TokenForm::default() };
    let content = view::tokens(&list, None, &form);
    Ok(ctx.render(StatusCode::OK, "API tokens", href::TOKENS, None, query.done, &content))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    name: String,
    read: Option<String>,
    write: Option<String>,
    admin: Option<String>,
    #[serde(default)]
    expires_in_days: String,
}

/// A form's optional whole number: empty is none.
fn optional_number<T: std::str::FromStr>(raw: &str, what: &str) -> Result<Option<T>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse().map(Some).map_err(|_| format!("{what}: a whole number, or empty"))
}

/// `POST /settings/tokens`: creates a token and shows its secret, once.
pub async fn create_token(
    viewer: Viewer,
    headers: HeaderMap,
    Form(form): Form<NewToken>,
) -> Result<Response, PageError> {
    let kept = TokenForm {
        name: form.name.clone(),
        read: form.read.is_some(),
        write: form.write.is_some(),
        admin: form.admin.is_some(),
        expires_in_days: form.expires_in_days.clone(),
    };
    let scopes: Vec<String> = [("read", kept.read), ("write", kept.write), ("admin", kept.admin)]
        .iter()
        .filter(|(_, on)| *on)
        .map(|(name, _)| (*name).to_owned())
        .collect();
    let created = match optional_number::<u32>(&form.expires_in_days, "Expires after") {
        Ok(expires_in_days) => {
            let request = CreateTokenRequest { name: form.name, scopes, expires_in_days };
            match viewer.api.create_token(&request).await {
                Ok(created) => Ok(created),
                Err(err) => Err(refusal(err)?),
            }
        }
        Err(message) => Err(message),
    };
    let ctx = Context::read(&viewer, &headers).await?;
    let list = viewer.api.list_tokens().await?.data;
    Ok(match created {
        Ok(created) => {
            let content = view::tokens(&list, Some(&created), &TokenForm { read: true, ..TokenForm::default() });
            ctx.render(StatusCode::OK, "API tokens", href::TOKENS, None, None, &content)
        }
        Err(message) => {
            let content = view::tokens(&list, None, &kept);
            ctx.render(StatusCode::UNPROCESSABLE_ENTITY, "API tokens", href::TOKENS, Some(&message), None, &content)
        }
    })
}

/// `POST /settings/tokens/{id}/revoke`.
pub async fn revoke_token(
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<ApiTokenId>,
) -> Result<Response, PageError> {
    match viewer.api.revoke_token(id).await {
        Ok(()) => Ok(after(href::TOKENS, Done::Revoked)),
        Err(err) => {
            let message = refusal(err)?;
            let ctx = Context::read(&viewer, &headers).await?;
            let list = viewer.api.list_tokens().await?.data;
            let content = view::tokens(&list, None, &TokenForm { read: true, ..TokenForm::default() });
            Ok(ctx.render(StatusCode::UNPROCESSABLE_ENTITY, "API tokens", href::TOKENS, Some(&message), None, &content))
        }
    }
}

// --- Security log ---

/// `GET /settings/security`.
pub async fn security(viewer: Viewer, headers: HeaderMap) -> Result<Response, PageError> {
    let ctx = Context::read(&viewer, &headers).await?;
    let events = viewer.api.security_log().await?.data;
    Ok(ctx.render(StatusCode::OK, "Security log", href::SECURITY, None, None, &view::security_log(&events)))
}

// --- Members and roles ---

/// The members screen of `slug` (administered), with `error` and the failed action's reason.
async fn members_page(
    viewer: &Viewer,
    ctx: &Context,
    community: &Community,
    status: StatusCode,
    error: Option<&str>,
    failed: Option<&MemberFailure>,
    done: Option<Done>,
) -> Result<Response, PageError> {
    let slug = &community.slug;
    let (members, bans) =
        tokio::join!(viewer.api.list_community_members(community.id), viewer.api.list_bans(community.id));
    let (members, bans) = (members?.data, bans?.data);
    let content = view::members(slug, &members, &bans, ctx.me.user.id, failed);
    let title = format!("Members of {}", community.name);
    Ok(ctx.render(status, &title, &href::community(slug, "members"), error, done, &content))
}

/// `GET /c/{slug}/settings/members`.
pub async fn members(
    viewer: Viewer,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let (ctx, community) = Context::admin(&viewer, &headers, &slug).await?;
    members_page(&viewer, &ctx, &community, StatusCode::OK, None, None, query.done).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleForm {
    role: String,
}

/// `POST /c/{slug}/settings/members/{user}/role`: makes them an admin or a member.
pub async fn set_role(
    viewer: Viewer,
    headers: HeaderMap,
    Path((slug, user)): Path<(String, UserId)>,
    Form(form): Form<RoleForm>,
) -> Result<Response, PageError> {
    let (ctx, community) = Context::admin(&viewer, &headers, &slug).await?;
    let outcome = match form.role.as_str() {
        "admin" | "member" => {
            let role = if form.role == "admin" { Role::Admin } else { Role::Member };
            match viewer.api.set_role(community.id, user, &UpdateMemberRequest { role, reason: None }).await {
                Ok(_) => return Ok(after(&href::community(&slug, "members"), Done::Role)),
                Err(err) => refusal(err)?,
            }
        }
        _ => "Role: one of admin, member.".to_owned(),
    };
    members_page(&viewer, &ctx, &community, StatusCode::UNPROCESSABLE_ENTITY, Some(&outcome), None, None).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoveForm {
    #[serde(default)]
    reason: String,
    how: String,
}

/// `POST /c/{slug}/settings/members/{user}/remove`: kicks or bans them (`how`), with the
/// reason given.
pub async fn remove_member(
    viewer: Viewer,
    headers: HeaderMap,
    Path((slug, user)): Path<(String, UserId)>,
    Form(form): Form<RemoveForm>,
) -> Result<Response, PageError> {
    let (ctx, community) = Context::admin(&viewer, &headers, &slug).await?;
    let reason = Some(form.reason.trim().to_owned()).filter(|reason| !reason.is_empty());
    let done = match form.how.as_str() {
        "kick" => {
            viewer.api.kick(community.id, &CreateKickRequest { user_id: user, reason }).await.map(|()| Done::Kicked)
        }
        "ban" => viewer
            .api
            .ban(community.id, &CreateBanRequest { user_id: user, reason, expires_in_secs: None })
            .await
            .map(|_| Done::Banned),
        _ => {
            let failed = MemberFailure { user, reason: form.reason };
            let error = "How: kick or ban.";
            return members_page(
                &viewer,
                &ctx,
                &community,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(error),
                Some(&failed),
                None,
            )
            .await;
        }
    };
    match done {
        Ok(done) => Ok(after(&href::community(&slug, "members"), done)),
        Err(err) => {
            let message = refusal(err)?;
            let failed = MemberFailure { user, reason: form.reason };
            members_page(
                &viewer,
                &ctx,
                &community,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(&message),
                Some(&failed),
                None,
            )
            .await
        }
    }
}

/// `POST /c/{slug}/settings/bans/{user}/lift`: lifts their ban (an invite brings them back).
pub async fn lift_ban(
    viewer: Viewer,
    headers: HeaderMap,
    Path((slug, user)): Path<(String, UserId)>,
) -> Result<Response, PageError> {
    let (ctx, community) = Context::admin(&viewer, &headers, &slug).await?;
    match viewer.api.unban(community.id, user).await {
        Ok(()) => Ok(after(&href::community(&slug, "members"), Done::Unbanned)),
        Err(err) => {
            let message = refusal(err)?;
            members_page(&viewer, &ctx, &community, StatusCode::UNPROCESSABLE_ENTITY, Some(&message), None, None).await
        }
    }
}

// --- Invites ---

/// What the invites screen shows besides the list: a refusal with the form as filled, or
/// what was done.
struct InviteOutcome<'a> {
    error: Option<&'a str>,
    form: InviteForm,
    done: Option<Done>,
}

async fn invites_page(
    viewer: &Viewer,
    ctx: &Context,
    community: &Community,
    origin: &PublicUrl,
    status: StatusCode,
    outcome: InviteOutcome<'_>,
) -> Result<Response, PageError> {
    let slug = &community.slug;
    let invites = viewer.api.list_invites(community.id).await?.data;
    let content = view::invites(slug, origin.origin(), &invites, &outcome.form);
    let title = format!("Invites to {}", community.name);
    Ok(ctx.render(status, &title, &href::community(slug, "invites"), outcome.error, outcome.done, &content))
}

/// `GET /c/{slug}/settings/invites`.
pub async fn invites(
    State(origin): State<PublicUrl>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let outcome = InviteOutcome { error: None, form: InviteForm::default(), done: query.done };
    let (ctx, community) = Context::admin(&viewer, &headers, &slug).await?;
    invites_page(&viewer, &ctx, &community, &origin, StatusCode::OK, outcome).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewInvite {
    #[serde(default)]
    expires: String,
    #[serde(default)]
    max_uses: String,
}

/// `POST /c/{slug}/settings/invites`: a new invite, then the list with its link.
pub async fn create_invite(
    State(origin): State<PublicUrl>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Form(form): Form<NewInvite>,
) -> Result<Response, PageError> {
    let (ctx, community) = Context::admin(&viewer, &headers, &slug).await?;
    let expires_in_secs = match form.expires.as_str() {
        "" => Ok(None),
        "hour" => Ok(Some(3600)),
        "day" => Ok(Some(86_400)),
        "week" => Ok(Some(7 * 86_400)),
        _ => Err("Expires: never, in an hour, a day or a week.".to_owned()),
    };
    let outcome = match (expires_in_secs, optional_number::<i32>(&form.max_uses, "Uses")) {
        (Ok(expires_in_secs), Ok(max_uses)) => {
            match viewer.api.create_invite(community.id, &CreateInviteRequest { expires_in_secs, max_uses }).await {
                Ok(_) => return Ok(after(&href::community(&slug, "invites"), Done::Invite)),
                Err(err) => refusal(err)?,
            }
        }
        (Err(message), _) | (_, Err(message)) => message,
    };
    let kept = InviteOutcome {
        error: Some(&outcome),
        form: InviteForm { expires: form.expires, max_uses: form.max_uses },
        done: None,
    };
    invites_page(&viewer, &ctx, &community, &origin, StatusCode::UNPROCESSABLE_ENTITY, kept).await
}

/// `POST /c/{slug}/settings/invites/{code}/revoke`.
pub async fn revoke_invite(
    State(origin): State<PublicUrl>,
    viewer: Viewer,
    headers: HeaderMap,
    Path((slug, code)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let (ctx, community) = Context::admin(&viewer, &headers, &slug).await?;
    match viewer.api.revoke_invite(community.id, &code).await {
        Ok(()) => Ok(after(&href::community(&slug, "invites"), Done::Revoked)),
        Err(err) => {
            let message = refusal(err)?;
            let outcome = InviteOutcome { error: Some(&message), form: InviteForm::default(), done: None };
            invites_page(&viewer, &ctx, &community, &origin, StatusCode::UNPROCESSABLE_ENTITY, outcome).await
        }
    }
}

// --- Webhooks ---

/// What the webhooks screen shows besides the list: the one just created, or a refusal.
struct WebhookOutcome<'a> {
    created: Option<&'a ajet_shared::api::wire::CreatedWebhook>,
    error: Option<&'a str>,
    form: WebhookForm,
    done: Option<Done>,
}

async fn webhooks_page(
    viewer: &Viewer,
    ctx: &Context,
    community: &Community,
    status: StatusCode,
    outcome: WebhookOutcome<'_>,
) -> Result<Response, PageError> {
    let slug = &community.slug;
    let (hooks, channels) =
        tokio::join!(viewer.api.list_webhooks(community.id), viewer.api.list_channels(community.id));
    let hooks = hooks?.data;
    let channels: Vec<_> = channels?
        .data
        .into_iter()
        .map(|item| item.channel)
        .filter(|c| matches!(c.kind, ChannelKind::Public | ChannelKind::Private) && c.archived_at.is_none())
        .collect();
    let content = view::webhooks(slug, &hooks, &channels, outcome.created, &outcome.form);
    let title = format!("Webhooks of {}", community.name);
    Ok(ctx.render(status, &title, &href::community(slug, "webhooks"), outcome.error, outcome.done, &content))
}

/// `GET /c/{slug}/settings/webhooks`.
pub async fn webhooks(
    viewer: Viewer,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let outcome = WebhookOutcome { created: None, error: None, form: WebhookForm::default(), done: query.done };
    let (ctx, community) = Context::admin(&viewer, &headers, &slug).await?;
    webhooks_page(&viewer, &ctx, &community, StatusCode::OK, outcome).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    name: String,
    #[serde(default)]
    channel: String,
}

/// `POST /c/{slug}/settings/webhooks`: a new webhook, answered with its URL (shown once).
pub async fn create_webhook(
    viewer: Viewer,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Form(form): Form<NewWebhook>,
) -> Result<Response, PageError> {
    let (ctx, community) = Context::admin(&viewer, &headers, &slug).await?;
    let kept = WebhookForm { name: form.name.clone(), channel: form.channel.clone() };
    let message = match form.channel.parse::<ChannelId>() {
        Ok(channel_id) => {
            let request = CreateWebhookRequest { channel_id, name: form.name, avatar_url: None };
            match viewer.api.create_webhook(&request).await {
                Ok(created) => {
                    let outcome = WebhookOutcome {
                        created: Some(&created),
                        error: None,
                        form: WebhookForm::default(),
                        done: None,
                    };
                    return webhooks_page(&viewer, &ctx, &community, StatusCode::OK, outcome).await;
                }
                Err(err) => refusal(err)?,
            }
        }
        Err(_) => "Channel: choose one of the community's channels.".to_owned(),
    };
    let outcome = WebhookOutcome { created: None, error: Some(&message), form: kept, done: None };
    webhooks_page(&viewer, &ctx, &community, StatusCode::UNPROCESSABLE_ENTITY, outcome).await
}

/// `POST /c/{slug}/settings/webhooks/{id}/delete`.
pub async fn delete_webhook(
    viewer: Viewer,
    headers: HeaderMap,
    Path((slug, id)): Path<(String, WebhookId)>,
) -> Result<Response, PageError> {
    let (ctx, community) = Context::admin(&viewer, &headers, &slug).await?;
    match viewer.api.revoke_webhook(id).await {
        Ok(()) => Ok(after(&href::community(&slug, "webhooks"), Done::Deleted)),
        Err(err) => {
            let message = refusal(err)?;
            let outcome =
                WebhookOutcome { created: None, error: Some(&message), form: WebhookForm::default(), done: None };
            webhooks_page(&viewer, &ctx, &community, StatusCode::UNPROCESSABLE_ENTITY, outcome).await
        }
    }
}

/// The page of webhook `id` (one of `community`'s): its avatar and delivery log.
async fn webhook_page(
    viewer: &Viewer,
    ctx: &Context,
    community: &Community,
    id: WebhookId,
    status: StatusCode,
    error: Option<&str>,
    done: Option<Done>,
) -> Result<Response, PageError> {
    let hooks = viewer.api.list_webhooks(community.id).await?.data;
    let hook = hooks.iter().find(|hook| hook.id == id).ok_or(PageError::NotFound("there is no such webhook here"))?;
    let deliveries = viewer.api.list_webhook_deliveries(id).await?.data;
    let title = format!("Deliveries of {}", hook.name);
    let current = href::community(&community.slug, "webhooks");
    let content = view::webhook(&community.slug, hook, &deliveries);
    Ok(ctx.render(status, &title, &current, error, done, &content))
}

/// `GET /c/{slug}/settings/webhooks/{id}`: its avatar and delivery log.
pub async fn webhook_deliveries(
    viewer: Viewer,
    headers: HeaderMap,
    Path((slug, id)): Path<(String, WebhookId)>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let (ctx, community) = Context::admin(&viewer, &headers, &slug).await?;
    webhook_page(&viewer, &ctx, &community, id, StatusCode::OK, None, query.done).await
}

/// Whether webhook `id` is `community`'s: the others are as if they did not exist.
async fn own_webhook(viewer: &Viewer, community: &Community, id: WebhookId) -> Result<(), PageError> {
    if viewer.api.list_webhooks(community.id).await?.data.iter().any(|hook| hook.id == id) {
        Ok(())
    } else {
        Err(PageError::NotFound("there is no such webhook here"))
    }
}

/// `POST /c/{slug}/settings/webhooks/{id}/avatar/delete`.
pub async fn remove_webhook_avatar(
    viewer: Viewer,
    headers: HeaderMap,
    Path((slug, id)): Path<(String, WebhookId)>,
) -> Result<Response, PageError> {
    let (ctx, community) = Context::admin(&viewer, &headers, &slug).await?;
    own_webhook(&viewer, &community, id).await?;
    match viewer.api.delete_webhook_avatar(id).await {
        Ok(_) => Ok(after(&href::community(&slug, &format!("webhooks/{id}")), Done::WebhookAvatarRemoved)),
        Err(err) => {
            let message = refusal(err)?;
            webhook_page(&viewer, &ctx, &community, id, StatusCode::UNPROCESSABLE_ENTITY, Some(&message), None).await
        }
    }
}

/// `POST /c/{slug}/settings/webhooks/{id}/avatar` (`multipart/form-data`, field `avatar`):
/// forwards the image to the api.
pub async fn upload_webhook_avatar(
    viewer: Viewer,
    headers: HeaderMap,
    Path((slug, id)): Path<(String, WebhookId)>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    let (ctx, community) = Context::admin(&viewer, &headers, &slug).await?;
    own_webhook(&viewer, &community, id).await?;
    let outcome = match avatar_image(multipart).await {
        Ok(bytes) => match viewer.api.put_webhook_avatar(id, &bytes).await {
            Ok(_) => return Ok(after(&href::community(&slug, &format!("webhooks/{id}")), Done::WebhookAvatar)),
            Err(err) => refusal(err)?,
        },
        Err(message) => message,
    };
    webhook_page(&viewer, &ctx, &community, id, StatusCode::UNPROCESSABLE_ENTITY, Some(&outcome), None).await
}

// --- Audit log ---

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditPage {
    before: Option<uuid::Uuid>,
}

/// How many audit records a page shows.
const AUDIT_PAGE: u32 = 50;

/// `GET /c/{slug}/settings/audit?before=`: a page of the audit log, newest first.
pub async fn audit(
    viewer: Viewer,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(query): Query<AuditPage>,
) -> Result<Response, PageError> {
    let (ctx, community) = Context::admin(&viewer, &headers, &slug).await?;
    let request = AuditQuery { action: None, actor: None, before: query.before, limit: Some(AUDIT_PAGE) };
    let (records, members) =
        tokio::join!(viewer.api.audit_log(community.id, &request), viewer.api.list_community_members(community.id));
    let (records, members) = (records?, members?.data);
    let older = if records.page.has_more { records.page.before.as_deref() } else { None };
    let content = view::audit(&slug, &records.data, &members, older);
    let title = format!("Audit log of {}", community.name);
    Ok(ctx.render(StatusCode::OK, &title, &href::community(&slug, "audit"), None, None, &content))
}
