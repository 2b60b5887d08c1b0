//! Channels: create public or private ones, list a community's with the caller's unread
//! state, read, rename/topic/archive, join and leave, add and remove members, and move
//! the read cursor.

use ajet_shared::api::ErrorBody;
use ajet_shared::api::ErrorCode;
use ajet_shared::api::paths;
use ajet_shared::api::wire::{
    AddMemberRequest, Channel, ChannelKind, ChannelListItem, ChannelPreferences, CreateChannelRequest, Member, Page,
    PageInfo, ReadCursor, ReadRequest, UpdateChannelRequest, UpdatePreferencesRequest,
};
use ajet_shared::chat;
use ajet_shared::chat::access::{channel_access, community_role};
use ajet_shared::chat::channels::ChannelChange;
use ajet_shared::chat::preferences::PreferencesChange;
use ajet_shared::db::{self, PgPool};
use ajet_shared::domain::ChannelName;
use ajet_shared::domain::ids::{ChannelId, UserId};
use ajet_shared::domain::names::optional_text;
use ajet_shared::events::bus::NatsBus;
use ajet_shared::outbox::OutboxRelay;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use super::communities::resolve;
use crate::error::{ApiError, ApiResult};
use crate::extract::{AuthUser, Body, Path};

/// Longest accepted topic, in characters (the schema's limit).
const TOPIC_MAX_CHARS: usize = 250;

fn topic(raw: Option<&str>) -> Result<Option<&str>, ApiError> {
    Ok(optional_text("topic", ErrorCode::TopicTooLong, raw, TOPIC_MAX_CHARS)?)
}

#[utoipa::path(post, path = paths::COMMUNITY_CHANNELS, tag = "api", summary = "Create a public or private channel", request_body = CreateChannelRequest, responses((status = 201, description = "created; I am in it", body = Channel), (status = 400, description = "invalid input (the message names the field)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 422, description = "too long", body = ErrorBody)), security(("bearer" = [])))]
pub async fn create_channel(
    State(pool): State<PgPool>,
    State(relay): State<OutboxRelay<NatsBus>>,
    auth: AuthUser,
    Path(community): Path<String>,
    Body(request): Body<CreateChannelRequest>,
) -> ApiResult<(StatusCode, Json<Channel>)> {
    auth.require_write()?;
    let community_id = resolve(&pool, &community).await?;
    community_role(&pool, community_id, auth.id()).await?;
    let name = ChannelName::parse("name", &request.name)?;
    let topic = topic(request.topic.as_deref())?;
    let kind = match request.kind.unwrap_or(ChannelKind::Public) {
        kind @ (ChannelKind::Public | ChannelKind::Private) => kind,
        ChannelKind::Dm | ChannelKind::GroupDm => {
            return Err(ApiError::bad_request(
                ErrorCode::InvalidKind,
                "kind: must be public or private; DMs are made with POST /api/dms",
            ));
        }
    };
    let channel = chat::channels::create_channel(&pool, auth.id(), community_id, kind, &name, topic).await?;
    Ok((StatusCode::CREATED, Json(channel.wake(&relay))))
}

#[utoipa::path(get, path = paths::COMMUNITY_CHANNELS, tag = "api", summary = "Channels I can see, with my unread and mention counts", responses((status = 200, description = "ok", body = Page<ChannelListItem>), (status = 400, description = "invalid input", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody)), security(("bearer" = [])))]
pub async fn list_channels(
    State(pool): State<PgPool>,
    auth: AuthUser,
    Path(community): Path<String>,
) -> ApiResult<Json<Page<ChannelListItem>>> {
    auth.require_read()?;
    let community_id = resolve(&pool, &community).await?;
    community_role(&pool, community_id, auth.id()).await?;
    let data = db::channels::list_for_community(&pool, community_id, auth.id()).await?;
    Ok(Json(Page { data, page: PageInfo::default() }))
}

#[utoipa::path(get, path = paths::CHANNEL, tag = "api", summary = "A channel", responses((status = 200, description = "ok", body = Channel), (status = 400, description = "invalid input", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody)), security(("bearer" = [])))]
pub async fn get_channel(
    State(pool): State<PgPool>,
    auth: AuthUser,
    Path(id): Path<ChannelId>,
) -> ApiResult<Json<Channel>> {
    auth.require_read()?;
    Ok(Json(channel_access(&pool, id, auth.id()).await?.channel))
}

#[utoipa::path(patch, path = paths::CHANNEL, tag = "api", summary = "Set the topic (members), rename or (un)archive (admins)", request_body = UpdateChannelRequest, responses((status = 200, description = "ok", body = Channel), (status = 400, description = "invalid input (the message names the field)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 422, description = "too long", body = ErrorBody)), security(("bearer" = [])))]
/// Any member may set the topic; renaming and (un)archiving are for community admins.
pub async fn update_channel(
    State(pool): State<PgPool>,
    State(relay): State<OutboxRelay<NatsBus>>,
    auth: AuthUser,
    Path(id): Path<ChannelId>,
    Body(request): Body<UpdateChannelRequest>,
) -> ApiResult<Json<Channel>> {
    auth.require_write()?;
    let name = request.name.as_deref().map(|n| ChannelName::parse("name", n)).transpose()?;
    let topic = match request.topic.as_deref() {
        None => None,
        Some(raw) => Some(topic(Some(raw))?),
    };
    let change = ChannelChange { name: name.as_ref(), topic, archived: request.archived };
    Ok(Json(chat::channels::update_channel(&pool, auth.id(), id, change).await?.wake(&relay)))
}

#[utoipa::path(delete, path = paths::CHANNEL, tag = "api", summary = "Archive a channel (admins)", responses((status = 200, description = "archived", body = Channel), (status = 400, description = "invalid input (the message names the field)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 422, description = "too long", body = ErrorBody)), security(("bearer" = [])))]
/// `DELETE /api/channels/{id}` archives: history stays readable, nothing can be posted.
pub async fn archive_channel(
    State(pool): State<PgPool>,
    State(relay): State<OutboxRelay<NatsBus>>,
    auth: AuthUser,
    Path(id): Path<ChannelId>,
) -> ApiResult<Json<Channel>> {
    auth.require_write()?;
    Ok(Json(chat::channels::archive_channel(&pool, auth.id(), id).await?.wake(&relay)))
}

#[utoipa::path(post, path = paths::CHANNEL_JOIN, tag = "api", summary = "Join a public channel", responses((status = 200, description = "joined (or already in)", body = Channel), (status = 400, description = "invalid input (the message names the field)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 422, description = "too long", body = ErrorBody)), security(("bearer" = [])))]
/// Joins a public channel of one of the caller's communities. Joining again changes nothing.
pub async fn join_channel(
    State(pool): State<PgPool>,
    State(relay): State<OutboxRelay<NatsBus>>,
    auth: AuthUser,
    Path(channel_id): Path<ChannelId>,
) -> ApiResult<Json<Channel>> {
    auth.require_write()?;
    Ok(Json(chat::membership::join_channel(&pool, auth.id(), channel_id).await?.wake(&relay)))
}

#[utoipa::path(post, path = paths::CHANNEL_LEAVE, tag = "api", summary = "Leave a channel", responses((status = 204, description = "left"), (status = 400, description = "invalid input (the message names the field)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 422, description = "too long", body = ErrorBody)), security(("bearer" = [])))]
pub async fn leave_channel(
    State(pool): State<PgPool>,
    State(relay): State<OutboxRelay<NatsBus>>,
    auth: AuthUser,
    Path(channel_id): Path<ChannelId>,
) -> ApiResult<StatusCode> {
    auth.require_write()?;
    chat::membership::leave_channel(&pool, auth.id(), channel_id).await?.wake(&relay);
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = paths::CHANNEL_MEMBERS, tag = "api", summary = "Add someone to a private channel", request_body = AddMemberRequest, responses((status = 201, description = "added", body = Member), (status = 200, description = "already a member", body = Member), (status = 400, description = "invalid input (the message names the field)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 422, description = "too long", body = ErrorBody)), security(("bearer" = [])))]
/// Adds a community member to a private channel: any channel member may (public channels
/// are joined, DMs are fixed).
pub async fn add_member(
    State(pool): State<PgPool>,
    State(relay): State<OutboxRelay<NatsBus>>,
    auth: AuthUser,
    Path(channel_id): Path<ChannelId>,
    Body(request): Body<AddMemberRequest>,
) -> ApiResult<(StatusCode, Json<Member>)> {
    auth.require_write()?;
    let added = chat::membership::add_member(&pool, auth.id(), channel_id, request.user_id).await?.wake(&relay);
    Ok((if added.added { StatusCode::CREATED } else { StatusCode::OK }, Json(added.member)))
}

#[utoipa::path(delete, path = paths::CHANNEL_MEMBER, tag = "api", summary = "Remove someone from a channel (admins)", responses((status = 204, description = "removed"), (status = 400, description = "invalid input (the message names the field)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 422, description = "too long", body = ErrorBody)), security(("bearer" = [])))]
/// Removes someone from a channel: community admins only (leaving is `/leave`).
pub async fn remove_member(
    State(pool): State<PgPool>,
    State(relay): State<OutboxRelay<NatsBus>>,
    auth: AuthUser,
    Path((channel_id, user_id)): Path<(ChannelId, UserId)>,
) -> ApiResult<StatusCode> {
    auth.require_write()?;
    chat::membership::remove_member(&pool, auth.id(), channel_id, user_id).await?.wake(&relay);
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = paths::CHANNEL_READ, tag = "api", summary = "Move my read cursor (backwards marks unread)", request_body = ReadRequest, responses((status = 200, description = "ok", body = ReadCursor), (status = 400, description = "invalid input (the message names the field)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 422, description = "too long", body = ErrorBody)), security(("bearer" = [])))]
/// Moves the caller's read cursor (backwards too: mark unread) and tells their other
/// sessions.
pub async fn mark_read(
    State(pool): State<PgPool>,
    State(relay): State<OutboxRelay<NatsBus>>,
    auth: AuthUser,
    Path(channel_id): Path<ChannelId>,
    Body(request): Body<ReadRequest>,
) -> ApiResult<Json<ReadCursor>> {
    auth.require_write()?;
    Ok(Json(chat::read_cursor::mark_read(&pool, auth.id(), channel_id, request.message_id).await?.wake(&relay)))
}

#[utoipa::path(patch, path = paths::CHANNEL_PREFERENCES, tag = "api", summary = "Set my notify level, mute and star in a channel", request_body = UpdatePreferencesRequest, responses((status = 200, description = "my preferences now", body = ChannelPreferences), (status = 400, description = "invalid input (the message names the field)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody)), security(("bearer" = [])))]
/// A member's own preferences; each present field changes (`muted_until: null` unmutes).
/// Notifications and mention counts follow them; the caller's other sessions are told.
pub async fn update_preferences(
    State(pool): State<PgPool>,
    State(relay): State<OutboxRelay<NatsBus>>,
    auth: AuthUser,
    Path(channel_id): Path<ChannelId>,
    Body(request): Body<UpdatePreferencesRequest>,
) -> ApiResult<Json<ChannelPreferences>> {
    auth.require_write()?;
    let change = PreferencesChange {
        notify_level: request.notify_level,
        muted_until: request.muted_until,
        starred: request.starred,
    };
    Ok(Json(chat::preferences::update_preferences(&pool, auth.id(), channel_id, change).await?.wake(&relay)))
}
