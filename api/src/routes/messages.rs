//! Messages: send (idempotent by `client_msg_id`, threads one level deep, mentions
//! recorded), read history by cursor, get, edit (author), soft delete (author or admin),
//! thread replies, reactions and pins.

use ajet_shared::api::ErrorCode;
use std::sync::Arc;

use ajet_shared::api::wire::{
    CreateMessageRequest, HistoryQuery, Message, MessageDeleted, Page, PageInfo, PinChange, ReactionChange, Role,
    UpdateMessageRequest,
};
use ajet_shared::config::Config;
use ajet_shared::db::messages::{Cursor, NewMessage, Scope};
use ajet_shared::db::{self, PgPool};
use ajet_shared::domain::ids::{ChannelId, MessageId};
use ajet_shared::domain::{ClientMsgId, Emoji, MessageBody};
use ajet_shared::events::EventPayload;
use ajet_shared::events::bus::NatsBus;
use ajet_shared::mentions;
use ajet_shared::outbox::OutboxRelay;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use super::access::{channel_access, message_access, require_member};
use super::events;
use crate::error::{ApiError, ApiResult};
use crate::extract::{AuthUser, Body, Path, Query};
use ajet_shared::api::ErrorBody;

const DEFAULT_PAGE: u16 = 50;
const MAX_PAGE: u32 = 100;

/// The answer to a send whose `client_msg_id` was seen before: the original message if the
/// body matches (a retry), a conflict if it does not (a reused key).
fn replayed(original: Message, request: &NewMessage<'_>) -> ApiResult<(StatusCode, Json<Message>)> {
    let same = original.body_md == request.body.as_str()
        && original.channel_id == request.channel
        && original.parent_id == request.parent;
    if same {
        Ok((StatusCode::OK, Json(original)))
    } else {
        Err(ApiError::conflict(
            ErrorCode::ClientMsgIdReused,
            "client_msg_id: this id was already used for a different message",
        ))
    }
}

#[utoipa::path(post, path = "/api/channels/{id}/messages", tag = "api", summary = "Send a message or a thread reply", params(("id" = String, Path, description = "the resource id (communities also take their slug)")), request_body = CreateMessageRequest, responses((status = 201, description = "sent", body = Message), (status = 200, description = "a retry with the same client_msg_id: the original", body = Message), (status = 400, description = "invalid input (the message names the field)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 422, description = "too long", body = ErrorBody)), security(("bearer" = [])))]
pub async fn create_message(
    State(pool): State<PgPool>,
    State(relay): State<OutboxRelay<NatsBus>>,
    State(config): State<Arc<Config>>,
    auth: AuthUser,
    Path(channel_id): Path<ChannelId>,
    Body(request): Body<CreateMessageRequest>,
) -> ApiResult<(StatusCode, Json<Message>)> {
    auth.require_write()?;
    let body = MessageBody::parse("body_md", &request.body_md, config.message_max_chars)?;
    let client_msg_id =
        request.client_msg_id.as_deref().map(|raw| ClientMsgId::parse("client_msg_id", raw)).transpose()?;
    let access = channel_access(&pool, channel_id, auth.id()).await?;
    if !access.is_member {
        return Err(ApiError::forbidden(ErrorCode::NotAChannelMember, "join the channel before posting in it"));
    }
    require_member(&access)?;
    if let Some(parent_id) = request.parent_id {
        match db::messages::get(&pool, parent_id).await? {
            Some(parent)
                if parent.channel_id == channel_id && parent.parent_id.is_none() && parent.deleted_at.is_none() => {}
            Some(parent) if parent.channel_id == channel_id && parent.deleted_at.is_none() => {
                return Err(ApiError::bad_request(
                    ErrorCode::NestedThread,
                    "parent_id: threads are one level deep; reply to the thread's root",
                ));
            }
            _ => {
                return Err(ApiError::bad_request(
                    ErrorCode::InvalidParent,
                    "parent_id: not a message of this channel",
                ));
            }
        }
    }
    let new = NewMessage {
        channel: channel_id,
        author: auth.id(),
        body: &body,
        parent: request.parent_id,
        client_msg_id: client_msg_id.as_ref(),
    };
    if let Some(key) = &client_msg_id
        && let Some(original) = db::messages::find_by_client_msg_id(&pool, auth.id(), key).await?
    {
        return replayed(original, &new);
    }
    let mut tx = pool.begin().await?;
    let message = match db::messages::insert(&mut tx, &new).await {
        Ok(message) => message,
        Err(err) if db::violated_constraint(&err) == Some("messages_client_msg_id_unique") => {
            // A concurrent retry won the race: answer as for any retry.
            drop(tx);
            let key = client_msg_id.as_ref().ok_or_else(|| ApiError::internal(err))?;
            let original = db::messages::find_by_client_msg_id(&pool, auth.id(), key)
                .await?
                .ok_or_else(|| ApiError::internal("a client_msg_id conflict without the original message"))?;
            return replayed(original, &new);
        }
        Err(err) => return Err(err.into()),
    };
    db::mentions::record(&mut tx, message.id, channel_id, &mentions::parse(body.as_str())).await?;
    events::in_channel(&mut tx, &access.channel, auth.id(), EventPayload::MessageCreated(message.clone())).await?;
    tx.commit().await?;
    relay.notify();
    Ok((StatusCode::CREATED, Json(message)))
}

fn page_args(query: &HistoryQuery) -> Result<(Cursor, u16), ApiError> {
    let limit = match query.limit {
        None => DEFAULT_PAGE,
        Some(limit @ 1..=MAX_PAGE) => u16::try_from(limit).unwrap_or(DEFAULT_PAGE),
        Some(_) => {
            return Err(ApiError::bad_request(
                ErrorCode::InvalidLimit,
                format!("limit: must be between 1 and {MAX_PAGE}"),
            ));
        }
    };
    let cursor = match (query.before, query.after, query.around) {
        (None, None, None) => Cursor::Latest,
        (Some(before), None, None) => Cursor::Before(before),
        (None, Some(after), None) => Cursor::After(after),
        (None, None, Some(around)) => Cursor::Around(around),
        _ => {
            return Err(ApiError::bad_request(ErrorCode::InvalidCursor, "use at most one of before, after and around"));
        }
    };
    Ok((cursor, limit))
}

#[utoipa::path(get, path = "/api/channels/{id}/messages", tag = "api", summary = "History by cursor: before, after or around", params(("id" = String, Path, description = "the resource id (communities also take their slug)"), HistoryQuery), responses((status = 200, description = "oldest first", body = Page<Message>), (status = 400, description = "invalid input", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody)), security(("bearer" = [])))]
pub async fn list_messages(
    State(pool): State<PgPool>,
    auth: AuthUser,
    Path(channel_id): Path<ChannelId>,
    Query(query): Query<HistoryQuery>,
) -> ApiResult<Json<Page<Message>>> {
    auth.require_read()?;
    let (mut cursor, limit) = page_args(&query)?;
    channel_access(&pool, channel_id, auth.id()).await?;
    if let Cursor::Around(id) = cursor {
        // Around a thread reply means around its root, which is what the channel lists.
        match db::messages::get(&pool, id).await? {
            Some(message) if message.channel_id == channel_id => {
                cursor = Cursor::Around(message.parent_id.unwrap_or(id))
            }
            _ => return Err(ApiError::bad_request(ErrorCode::InvalidCursor, "around: not a message of this channel")),
        }
    }
    let (mut data, page) = db::messages::history(&pool, Scope::Channel(channel_id), cursor, limit).await?;
    db::messages::attach_reactions(&pool, &mut data, auth.id()).await?;
    Ok(Json(Page { data, page }))
}

#[utoipa::path(get, path = "/api/messages/{id}", tag = "api", summary = "A message", params(("id" = String, Path, description = "the resource id (communities also take their slug)")), responses((status = 200, description = "ok", body = Message), (status = 400, description = "invalid input", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody)), security(("bearer" = [])))]
pub async fn get_message(
    State(pool): State<PgPool>,
    auth: AuthUser,
    Path(id): Path<MessageId>,
) -> ApiResult<Json<Message>> {
    auth.require_read()?;
    let (mut message, _) = message_access(&pool, id, auth.id()).await?;
    db::messages::attach_reactions(&pool, std::slice::from_mut(&mut message), auth.id()).await?;
    Ok(Json(message))
}

#[utoipa::path(get, path = "/api/messages/{id}/replies", tag = "api", summary = "A thread's replies", params(("id" = String, Path, description = "the resource id (communities also take their slug)"), HistoryQuery), responses((status = 200, description = "oldest first", body = Page<Message>), (status = 400, description = "invalid input", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody)), security(("bearer" = [])))]
pub async fn list_replies(
    State(pool): State<PgPool>,
    auth: AuthUser,
    Path(id): Path<MessageId>,
    Query(query): Query<HistoryQuery>,
) -> ApiResult<Json<Page<Message>>> {
    auth.require_read()?;
    let (root, _) = message_access(&pool, id, auth.id()).await?;
    if root.parent_id.is_some() {
        return Err(ApiError::bad_request(
            ErrorCode::NotAThreadRoot,
            "replies are listed under the thread's root message",
        ));
    }
    let (cursor, limit) = page_args(&query)?;
    let (mut data, page) = db::messages::history(&pool, Scope::Thread(id), cursor, limit).await?;
    db::messages::attach_reactions(&pool, &mut data, auth.id()).await?;
    Ok(Json(Page { data, page }))
}

#[utoipa::path(patch, path = "/api/messages/{id}", tag = "api", summary = "Edit my message", params(("id" = String, Path, description = "the resource id (communities also take their slug)")), request_body = UpdateMessageRequest, responses((status = 200, description = "ok", body = Message), (status = 400, description = "invalid input (the message names the field)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 422, description = "too long", body = ErrorBody)), security(("bearer" = [])))]
pub async fn update_message(
    State(pool): State<PgPool>,
    State(relay): State<OutboxRelay<NatsBus>>,
    State(config): State<Arc<Config>>,
    auth: AuthUser,
    Path(id): Path<MessageId>,
    Body(request): Body<UpdateMessageRequest>,
) -> ApiResult<Json<Message>> {
    auth.require_write()?;
    let body = MessageBody::parse("body_md", &request.body_md, config.message_max_chars)?;
    let (message, access) = message_access(&pool, id, auth.id()).await?;
    if message.author.user_id != Some(auth.id()) {
        return Err(ApiError::forbidden(ErrorCode::NotAuthor, "only the author may edit a message"));
    }
    if message.deleted_at.is_some() {
        return Err(ApiError::conflict(ErrorCode::MessageDeleted, "a deleted message cannot be edited"));
    }
    require_member(&access)?;
    let mut tx = pool.begin().await?;
    let mut updated = db::messages::update_body(&mut tx, id, &body).await?;
    db::mentions::clear(&mut tx, id).await?;
    db::mentions::record(&mut tx, id, message.channel_id, &mentions::parse(body.as_str())).await?;
    db::messages::attach_reactions(&mut *tx, std::slice::from_mut(&mut updated), auth.id()).await?;
    // Everyone receives the event: `reacted_by_me` is the editor's and means nothing to them.
    let mut shared_view = updated.clone();
    for reaction in &mut shared_view.reactions {
        reaction.reacted_by_me = false;
    }
    events::in_channel(&mut tx, &access.channel, auth.id(), EventPayload::MessageUpdated(shared_view)).await?;
    tx.commit().await?;
    relay.notify();
    Ok(Json(updated))
}

#[utoipa::path(delete, path = "/api/messages/{id}", tag = "api", summary = "Delete a message (author or admin)", params(("id" = String, Path, description = "the resource id (communities also take their slug)")), responses((status = 204, description = "deleted (a tombstone stays)"), (status = 400, description = "invalid input (the message names the field)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 422, description = "too long", body = ErrorBody)), security(("bearer" = [])))]
/// Soft delete by the author, or by a community admin in a community channel.
pub async fn delete_message(
    State(pool): State<PgPool>,
    State(relay): State<OutboxRelay<NatsBus>>,
    auth: AuthUser,
    Path(id): Path<MessageId>,
) -> ApiResult<StatusCode> {
    auth.require_write()?;
    let (message, access) = message_access(&pool, id, auth.id()).await?;
    let is_author = message.author.user_id == Some(auth.id());
    let is_admin = match access.channel.community_id {
        Some(community) => {
            matches!(db::communities::role_of(&pool, community, auth.id()).await?, Some(Role::Owner | Role::Admin))
        }
        None => false,
    };
    if !is_author && !is_admin {
        return Err(ApiError::forbidden(ErrorCode::NotAuthor, "only the author or an admin may delete a message"));
    }
    if message.deleted_at.is_some() {
        return Ok(StatusCode::NO_CONTENT);
    }
    if access.channel.archived_at.is_some() {
        return Err(ApiError::conflict(
            ErrorCode::ChannelArchived,
            "this channel is archived; nothing can change in it",
        ));
    }
    let mut tx = pool.begin().await?;
    if !db::messages::soft_delete(&mut tx, &message).await? {
        return Ok(StatusCode::NO_CONTENT);
    }
    let deleted = MessageDeleted { id, channel_id: message.channel_id, parent_id: message.parent_id };
    events::in_channel(&mut tx, &access.channel, auth.id(), EventPayload::MessageDeleted(deleted)).await?;
    tx.commit().await?;
    relay.notify();
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT` (`add`) or `DELETE` a reaction; both idempotent.
async fn react(
    pool: &PgPool,
    relay: &OutboxRelay<NatsBus>,
    auth: AuthUser,
    id: MessageId,
    emoji: &str,
    add: bool,
) -> ApiResult<StatusCode> {
    auth.require_write()?;
    let emoji = Emoji::parse("emoji", emoji)?;
    let (message, access) = message_access(pool, id, auth.id()).await?;
    require_member(&access)?;
    if message.deleted_at.is_some() {
        return Err(ApiError::conflict(ErrorCode::MessageDeleted, "a deleted message takes no reactions"));
    }
    let mut tx = pool.begin().await?;
    let changed = if add {
        db::messages::add_reaction(&mut tx, id, auth.id(), &emoji).await?
    } else {
        db::messages::remove_reaction(&mut tx, id, auth.id(), &emoji).await?
    };
    if changed {
        let change = ReactionChange {
            message_id: id,
            channel_id: message.channel_id,
            user_id: auth.id(),
            emoji: emoji.into_inner(),
        };
        let payload = if add { EventPayload::ReactionAdded(change) } else { EventPayload::ReactionRemoved(change) };
        events::in_channel(&mut tx, &access.channel, auth.id(), payload).await?;
    }
    tx.commit().await?;
    relay.notify();
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(put, path = "/api/messages/{id}/reactions/{emoji}", tag = "api", summary = "React (idempotent)", params(("id" = String, Path, description = "the resource id (communities also take their slug)"), ("emoji" = String, Path, description = "a Unicode emoji (URL-encoded) or :shortcode:")), responses((status = 204, description = "ok"), (status = 400, description = "invalid input (the message names the field)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 422, description = "too long", body = ErrorBody)), security(("bearer" = [])))]
pub async fn add_reaction(
    State(pool): State<PgPool>,
    State(relay): State<OutboxRelay<NatsBus>>,
    auth: AuthUser,
    Path((id, emoji)): Path<(MessageId, String)>,
) -> ApiResult<StatusCode> {
    react(&pool, &relay, auth, id, &emoji, true).await
}

#[utoipa::path(delete, path = "/api/messages/{id}/reactions/{emoji}", tag = "api", summary = "Remove my reaction (idempotent)", params(("id" = String, Path, description = "the resource id (communities also take their slug)"), ("emoji" = String, Path, description = "a Unicode emoji (URL-encoded) or :shortcode:")), responses((status = 204, description = "ok"), (status = 400, description = "invalid input (the message names the field)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 422, description = "too long", body = ErrorBody)), security(("bearer" = [])))]
pub async fn remove_reaction(
    State(pool): State<PgPool>,
    State(relay): State<OutboxRelay<NatsBus>>,
    auth: AuthUser,
    Path((id, emoji)): Path<(MessageId, String)>,
) -> ApiResult<StatusCode> {
    react(&pool, &relay, auth, id, &emoji, false).await
}

/// `PUT` (`pin`) or `DELETE` a pin; both idempotent; any channel member may.
async fn pin(
    pool: &PgPool,
    relay: &OutboxRelay<NatsBus>,
    auth: AuthUser,
    id: MessageId,
    pin: bool,
) -> ApiResult<StatusCode> {
    auth.require_write()?;
    let (message, access) = message_access(pool, id, auth.id()).await?;
    require_member(&access)?;
    if message.deleted_at.is_some() {
        return Err(ApiError::conflict(ErrorCode::MessageDeleted, "a deleted message cannot be pinned"));
    }
    let mut tx = pool.begin().await?;
    if db::messages::set_pin(&mut tx, id, pin.then(|| auth.id())).await? {
        let change = PinChange { message_id: id, channel_id: message.channel_id, by: auth.id() };
        let payload = if pin { EventPayload::PinAdded(change) } else { EventPayload::PinRemoved(change) };
        events::in_channel(&mut tx, &access.channel, auth.id(), payload).await?;
    }
    tx.commit().await?;
    relay.notify();
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(put, path = "/api/messages/{id}/pin", tag = "api", summary = "Pin (idempotent)", params(("id" = String, Path, description = "the resource id (communities also take their slug)")), responses((status = 204, description = "ok"), (status = 400, description = "invalid input (the message names the field)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 422, description = "too long", body = ErrorBody)), security(("bearer" = [])))]
pub async fn pin_message(
    State(pool): State<PgPool>,
    State(relay): State<OutboxRelay<NatsBus>>,
    auth: AuthUser,
    Path(id): Path<MessageId>,
) -> ApiResult<StatusCode> {
    pin(&pool, &relay, auth, id, true).await
}

#[utoipa::path(delete, path = "/api/messages/{id}/pin", tag = "api", summary = "Unpin (idempotent)", params(("id" = String, Path, description = "the resource id (communities also take their slug)")), responses((status = 204, description = "ok"), (status = 400, description = "invalid input (the message names the field)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 422, description = "too long", body = ErrorBody)), security(("bearer" = [])))]
pub async fn unpin_message(
    State(pool): State<PgPool>,
    State(relay): State<OutboxRelay<NatsBus>>,
    auth: AuthUser,
    Path(id): Path<MessageId>,
) -> ApiResult<StatusCode> {
    pin(&pool, &relay, auth, id, false).await
}

#[utoipa::path(get, path = "/api/channels/{id}/pins", tag = "api", summary = "A channel's pins", params(("id" = String, Path, description = "the resource id (communities also take their slug)")), responses((status = 200, description = "most recently pinned first", body = Page<Message>), (status = 400, description = "invalid input", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody)), security(("bearer" = [])))]
pub async fn list_pins(
    State(pool): State<PgPool>,
    auth: AuthUser,
    Path(channel_id): Path<ChannelId>,
) -> ApiResult<Json<Page<Message>>> {
    auth.require_read()?;
    channel_access(&pool, channel_id, auth.id()).await?;
    let mut data = db::messages::pinned(&pool, channel_id).await?;
    db::messages::attach_reactions(&pool, &mut data, auth.id()).await?;
    Ok(Json(Page { data, page: PageInfo::default() }))
}
