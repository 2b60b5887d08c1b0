//! Channels: create public or private ones, list a community's with the caller's unread
//! state, read, rename/topic/archive, join and leave, add and remove members, and move
//! the read cursor.

use ajet_shared::api::ErrorCode;
use ajet_shared::api::wire::{
    AddMemberRequest, Channel, ChannelKind, ChannelListItem, CreateChannelRequest, Member, Page, PageInfo, ReadCursor,
    ReadRequest, Role, UpdateChannelRequest,
};
use ajet_shared::db::{self, PgPool};
use ajet_shared::domain::ChannelName;
use ajet_shared::domain::ids::{ChannelId, UserId};
use ajet_shared::domain::names::optional_text;
use ajet_shared::events::EventPayload;
use ajet_shared::events::bus::NatsBus;
use ajet_shared::outbox::OutboxRelay;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use super::access::{channel_access, community_role, require_admin};
use super::communities::resolve;
use super::events;
use crate::error::{ApiError, ApiResult, on_constraint};
use crate::extract::{AuthUser, Body, Path};
use ajet_shared::api::ErrorBody;

/// Longest accepted topic, in characters (the schema's limit).
const TOPIC_MAX_CHARS: usize = 250;

fn topic(raw: Option<&str>) -> Result<Option<&str>, ApiError> {
    Ok(optional_text("topic", ErrorCode::TopicTooLong, raw, TOPIC_MAX_CHARS)?)
}

fn name_taken(name: &ChannelName) -> impl FnOnce() -> ApiError + '_ {
    move || ApiError::conflict(ErrorCode::ChannelNameTaken, format!("name: #{name} already exists in this community"))
}

#[utoipa::path(post, path = "/api/communities/{id}/channels", tag = "api", summary = "Create a public or private channel", params(("id" = String, Path, description = "the resource id (communities also take their slug)")), request_body = CreateChannelRequest, responses((status = 201, description = "created; I am in it", body = Channel), (status = 400, description = "invalid input (the message names the field)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 422, description = "too long", body = ErrorBody)), security(("bearer" = [])))]
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
    let mut tx = pool.begin().await?;
    let channel = db::channels::create(&mut tx, community_id, kind, &name, topic, auth.id())
        .await
        .map_err(|err| on_constraint(err, "channels_name_unique", name_taken(&name)))?;
    db::channels::add_member(&mut tx, channel.id, auth.id()).await?;
    events::in_channel(&mut tx, &channel, auth.id(), EventPayload::ChannelCreated(channel.clone())).await?;
    tx.commit().await?;
    relay.notify();
    Ok((StatusCode::CREATED, Json(channel)))
}

#[utoipa::path(get, path = "/api/communities/{id}/channels", tag = "api", summary = "Channels I can see, with my unread and mention counts", params(("id" = String, Path, description = "the resource id (communities also take their slug)")), responses((status = 200, description = "ok", body = Page<ChannelListItem>), (status = 400, description = "invalid input", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody)), security(("bearer" = [])))]
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

#[utoipa::path(get, path = "/api/channels/{id}", tag = "api", summary = "A channel", params(("id" = String, Path, description = "the resource id (communities also take their slug)")), responses((status = 200, description = "ok", body = Channel), (status = 400, description = "invalid input", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody)), security(("bearer" = [])))]
pub async fn get_channel(
    State(pool): State<PgPool>,
    auth: AuthUser,
    Path(id): Path<ChannelId>,
) -> ApiResult<Json<Channel>> {
    auth.require_read()?;
    Ok(Json(channel_access(&pool, id, auth.id()).await?.channel))
}

#[utoipa::path(patch, path = "/api/channels/{id}", tag = "api", summary = "Set the topic (members), rename or (un)archive (admins)", params(("id" = String, Path, description = "the resource id (communities also take their slug)")), request_body = UpdateChannelRequest, responses((status = 200, description = "ok", body = Channel), (status = 400, description = "invalid input (the message names the field)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 422, description = "too long", body = ErrorBody)), security(("bearer" = [])))]
/// Any member may set the topic; renaming and (un)archiving are for community admins.
pub async fn update_channel(
    State(pool): State<PgPool>,
    State(relay): State<OutboxRelay<NatsBus>>,
    auth: AuthUser,
    Path(id): Path<ChannelId>,
    Body(request): Body<UpdateChannelRequest>,
) -> ApiResult<Json<Channel>> {
    auth.require_write()?;
    let access = channel_access(&pool, id, auth.id()).await?;
    let community = access
        .channel
        .community_id
        .ok_or_else(|| ApiError::bad_request(ErrorCode::NotACommunityChannel, "DMs have no name, topic or archive"))?;
    if request.name.is_some() || request.archived.is_some() {
        // Admins manage any channel they can see, joined or not.
        require_admin(community_role(&pool, community, auth.id()).await?)?;
    } else if !access.is_member {
        return Err(ApiError::forbidden(ErrorCode::NotAChannelMember, "join the channel first"));
    } else if access.channel.archived_at.is_some() {
        return Err(ApiError::conflict(ErrorCode::ChannelArchived, "this channel is archived; unarchive it first"));
    }
    let name = request.name.as_deref().map(|n| ChannelName::parse("name", n)).transpose()?;
    let topic = match request.topic.as_deref() {
        None => None,
        Some(raw) => Some(topic(Some(raw))?),
    };
    let mut tx = pool.begin().await?;
    let channel = match db::channels::update(&mut tx, id, name.as_ref(), topic, request.archived).await {
        Ok(channel) => channel,
        Err(err) => {
            return Err(on_constraint(err, "channels_name_unique", || {
                ApiError::conflict(ErrorCode::ChannelNameTaken, "name: a channel of that name already exists")
            }));
        }
    };
    let payload = if channel.archived_at.is_some() && access.channel.archived_at.is_none() {
        EventPayload::ChannelArchived(channel.clone())
    } else {
        EventPayload::ChannelUpdated(channel.clone())
    };
    events::in_channel(&mut tx, &channel, auth.id(), payload).await?;
    tx.commit().await?;
    relay.notify();
    Ok(Json(channel))
}

#[utoipa::path(delete, path = "/api/channels/{id}", tag = "api", summary = "Archive a channel (admins)", params(("id" = String, Path, description = "the resource id (communities also take their slug)")), responses((status = 200, description = "archived", body = Channel), (status = 400, description = "invalid input (the message names the field)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 422, description = "too long", body = ErrorBody)), security(("bearer" = [])))]
/// `DELETE /api/channels/{id}` archives: history stays readable, nothing can be posted.
pub async fn archive_channel(
    pool: State<PgPool>,
    relay: State<OutboxRelay<NatsBus>>,
    auth: AuthUser,
    id: Path<ChannelId>,
) -> ApiResult<Json<Channel>> {
    let request = UpdateChannelRequest { archived: Some(true), ..UpdateChannelRequest::default() };
    update_channel(pool, relay, auth, id, Body(request)).await
}

#[utoipa::path(post, path = "/api/channels/{id}/join", tag = "api", summary = "Join a public channel", params(("id" = String, Path, description = "the resource id (communities also take their slug)")), responses((status = 200, description = "joined (or already in)", body = Channel), (status = 400, description = "invalid input (the message names the field)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 422, description = "too long", body = ErrorBody)), security(("bearer" = [])))]
/// Joins a public channel of one of the caller's communities. Joining again changes nothing.
pub async fn join_channel(
    State(pool): State<PgPool>,
    State(relay): State<OutboxRelay<NatsBus>>,
    auth: AuthUser,
    Path(channel_id): Path<ChannelId>,
) -> ApiResult<Json<Channel>> {
    auth.require_write()?;
    let access = channel_access(&pool, channel_id, auth.id()).await?;
    if access.is_member {
        return Ok(Json(access.channel));
    }
    if access.channel.kind != ChannelKind::Public {
        return Err(ApiError::forbidden(ErrorCode::InviteOnly, "this channel can only be joined by invitation"));
    }
    if access.channel.archived_at.is_some() {
        return Err(ApiError::conflict(ErrorCode::ChannelArchived, "this channel is archived"));
    }
    let user = db::users::get(&pool, auth.id())
        .await?
        .ok_or_else(|| ApiError::unauthorized("this account no longer exists"))?;
    let mut tx = pool.begin().await?;
    if db::channels::add_member(&mut tx, channel_id, auth.id()).await? {
        let member = Member { user, channel_id: Some(channel_id) };
        events::in_channel(&mut tx, &access.channel, auth.id(), EventPayload::MemberJoined(member)).await?;
    }
    tx.commit().await?;
    relay.notify();
    Ok(Json(access.channel))
}

#[utoipa::path(post, path = "/api/channels/{id}/leave", tag = "api", summary = "Leave a channel", params(("id" = String, Path, description = "the resource id (communities also take their slug)")), responses((status = 204, description = "left"), (status = 400, description = "invalid input (the message names the field)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 422, description = "too long", body = ErrorBody)), security(("bearer" = [])))]
pub async fn leave_channel(
    State(pool): State<PgPool>,
    State(relay): State<OutboxRelay<NatsBus>>,
    auth: AuthUser,
    Path(channel_id): Path<ChannelId>,
) -> ApiResult<StatusCode> {
    auth.require_write()?;
    let access = channel_access(&pool, channel_id, auth.id()).await?;
    if matches!(access.channel.kind, ChannelKind::Dm | ChannelKind::GroupDm) {
        return Err(ApiError::conflict(ErrorCode::CannotLeaveDm, "DMs cannot be left"));
    }
    let user = db::users::get(&pool, auth.id())
        .await?
        .ok_or_else(|| ApiError::unauthorized("this account no longer exists"))?;
    let mut tx = pool.begin().await?;
    if db::channels::remove_member(&mut tx, channel_id, auth.id()).await? {
        let member = Member { user, channel_id: Some(channel_id) };
        events::in_channel(&mut tx, &access.channel, auth.id(), EventPayload::MemberLeft(member)).await?;
    }
    tx.commit().await?;
    relay.notify();
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/channels/{id}/members", tag = "api", summary = "Add someone to a private channel", params(("id" = String, Path, description = "the resource id (communities also take their slug)")), request_body = AddMemberRequest, responses((status = 201, description = "added", body = Member), (status = 200, description = "already a member", body = Member), (status = 400, description = "invalid input (the message names the field)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 422, description = "too long", body = ErrorBody)), security(("bearer" = [])))]
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
    let access = channel_access(&pool, channel_id, auth.id()).await?;
    if access.channel.kind != ChannelKind::Private {
        return Err(ApiError::bad_request(
            ErrorCode::NotPrivate,
            "only private channels take members this way; public ones are joined",
        ));
    }
    super::access::require_member(&access)?;
    let community =
        access.channel.community_id.ok_or_else(|| ApiError::internal("a private channel without community"))?;
    if db::communities::role_of(&pool, community, request.user_id).await?.is_none() {
        return Err(ApiError::bad_request(
            ErrorCode::NotACommunityMember,
            "user_id: that user is not a member of this community",
        ));
    }
    let user = db::users::get(&pool, request.user_id)
        .await?
        .ok_or_else(|| ApiError::bad_request(ErrorCode::UnknownUser, "user_id: no such user"))?;
    let mut tx = pool.begin().await?;
    let added = db::channels::add_member(&mut tx, channel_id, request.user_id).await?;
    let member = Member { user, channel_id: Some(channel_id) };
    if added {
        // The added member's open streams learn at once (their own subject), subscribe to
        // the channel and refetch; the channel's members see it on the channel's subject.
        events::for_user(&mut tx, request.user_id, EventPayload::MemberJoined(member.clone())).await?;
        events::in_channel(&mut tx, &access.channel, auth.id(), EventPayload::MemberJoined(member.clone())).await?;
    }
    tx.commit().await?;
    relay.notify();
    Ok((if added { StatusCode::CREATED } else { StatusCode::OK }, Json(member)))
}

#[utoipa::path(delete, path = "/api/channels/{id}/members/{user_id}", tag = "api", summary = "Remove someone from a channel (admins)", params(("id" = String, Path, description = "the resource id (communities also take their slug)"), ("user_id" = String, Path, description = "a user id")), responses((status = 204, description = "removed"), (status = 400, description = "invalid input (the message names the field)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 422, description = "too long", body = ErrorBody)), security(("bearer" = [])))]
/// Removes someone from a channel: community admins only (leaving is `/leave`).
pub async fn remove_member(
    State(pool): State<PgPool>,
    State(relay): State<OutboxRelay<NatsBus>>,
    auth: AuthUser,
    Path((channel_id, user_id)): Path<(ChannelId, UserId)>,
) -> ApiResult<StatusCode> {
    auth.require_write()?;
    let access = channel_access(&pool, channel_id, auth.id()).await?;
    let community = access
        .channel
        .community_id
        .ok_or_else(|| ApiError::conflict(ErrorCode::CannotLeaveDm, "DM membership is fixed"))?;
    let role = community_role(&pool, community, auth.id()).await?;
    require_admin(role)?;
    if db::communities::role_of(&pool, community, user_id).await? == Some(Role::Owner) && role != Role::Owner {
        return Err(ApiError::forbidden(ErrorCode::OwnerProtected, "the owner cannot be removed by an admin"));
    }
    let user = db::users::get(&pool, user_id)
        .await?
        .ok_or_else(|| ApiError::not_found(ErrorCode::UnknownUser, "no such user"))?;
    let mut tx = pool.begin().await?;
    if !db::channels::remove_member(&mut tx, channel_id, user_id).await? {
        return Err(ApiError::not_found(ErrorCode::NotAChannelMember, "that user is not in this channel"));
    }
    let member = Member { user, channel_id: Some(channel_id) };
    events::in_channel(&mut tx, &access.channel, auth.id(), EventPayload::MemberRemoved(member)).await?;
    tx.commit().await?;
    relay.notify();
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/channels/{id}/read", tag = "api", summary = "Move my read cursor (backwards marks unread)", params(("id" = String, Path, description = "the resource id (communities also take their slug)")), request_body = ReadRequest, responses((status = 200, description = "ok", body = ReadCursor), (status = 400, description = "invalid input (the message names the field)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 422, description = "too long", body = ErrorBody)), security(("bearer" = [])))]
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
    let access = channel_access(&pool, channel_id, auth.id()).await?;
    if !access.is_member {
        return Err(ApiError::forbidden(ErrorCode::NotAChannelMember, "join the channel first"));
    }
    match db::messages::get(&pool, request.message_id).await? {
        Some(message) if message.channel_id == channel_id && message.parent_id.is_none() => {}
        Some(message) if message.channel_id == channel_id => {
            return Err(ApiError::bad_request(
                ErrorCode::InvalidMessage,
                "message_id: the read cursor follows the channel, not a thread reply",
            ));
        }
        _ => return Err(ApiError::bad_request(ErrorCode::InvalidMessage, "message_id: not a message of this channel")),
    }
    let cursor = ReadCursor { channel_id, message_id: request.message_id };
    let mut tx = pool.begin().await?;
    db::channels::set_read_cursor(&mut *tx, channel_id, auth.id(), request.message_id).await?;
    events::for_user(&mut tx, auth.id(), EventPayload::ReadUpdated(cursor.clone())).await?;
    tx.commit().await?;
    relay.notify();
    Ok(Json(cursor))
}
