//! Messages: send (idempotent by `client_msg_id`, threads one level deep), read history
//! by cursor, get, edit (author), soft delete (author or admin), thread replies, reactions
//! and pins. The writes are `ajet_shared::chat`'s; these handlers parse and answer.

use ajet_shared::api::ErrorCode;
use ajet_shared::api::paths;
use std::sync::Arc;

use ajet_shared::api::ErrorBody;
use ajet_shared::api::wire::{CreateMessageRequest, HistoryQuery, Message, Page, PageInfo, UpdateMessageRequest};
use ajet_shared::chat::access::{channel_access, message_access};
use ajet_shared::chat::messages::{Poster, delete_message as delete, edit_message, post_message};
use ajet_shared::chat::{pins, reactions};
use ajet_shared::config::Config;
use ajet_shared::db::messages::{Cursor, Scope};
use ajet_shared::db::{self, PgPool};
use ajet_shared::domain::ids::{ChannelId, MessageId};
use ajet_shared::domain::{ClientMsgId, Emoji, MessageBody};
use ajet_shared::events::bus::NatsBus;
use ajet_shared::outbox::OutboxRelay;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use crate::error::{ApiError, ApiResult};
use crate::extract::{AuthUser, Body, Path, Query, page_limit};
use crate::sweeper::Sweeper;
use crate::unfurl::Unfurler;

const DEFAULT_PAGE: u16 = 50;
const MAX_PAGE: u32 = 100;

#[utoipa::path(post, path = paths::CHANNEL_MESSAGES, tag = "api", summary = "Send a message or a thread reply, with up to 10 of the caller's own uploads into the channel (`attachment_ids`)", request_body = CreateMessageRequest, responses((status = 201, description = "sent", body = Message), (status = 200, description = "a retry with the same client_msg_id: the original", body = Message), (status = 400, description = "invalid input (the message names the field); `invalid_attachment` for an upload that is not the caller's own into this channel", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody), (status = 409, description = "conflict; `attachment_in_use` for an upload another message carries", body = ErrorBody), (status = 422, description = "too long", body = ErrorBody)), security(("bearer" = [])))]
pub async fn create_message(
    State(pool): State<PgPool>,
    State(relay): State<OutboxRelay<NatsBus>>,
    State(config): State<Arc<Config>>,
    State(unfurler): State<Unfurler>,
    auth: AuthUser,
    Path(channel_id): Path<ChannelId>,
    Body(request): Body<CreateMessageRequest>,
) -> ApiResult<(StatusCode, Json<Message>)> {
    auth.require_write()?;
    let body = MessageBody::parse("body_md", &request.body_md, config.message_max_chars)?;
    let client_msg_id =
        request.client_msg_id.as_deref().map(|raw| ClientMsgId::parse("client_msg_id", raw)).transpose()?;
    let poster = Poster::User {
        id: auth.id(),
        channel: channel_id,
        parent: request.parent_id,
        client_msg_id: client_msg_id.as_ref(),
        attachments: &request.attachment_ids,
    };
    let posted = post_message(&pool, poster, &body, config.broadcast_mention_max_members).await?.wake(&relay);
    if !posted.replayed {
        unfurler.enqueue(&posted.message);
    }
    let status = if posted.replayed { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(posted.message)))
}

fn page_args(query: &HistoryQuery) -> Result<(Cursor, u16), ApiError> {
    let limit = page_limit(query.limit, DEFAULT_PAGE, MAX_PAGE)?;
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

#[utoipa::path(get, path = paths::CHANNEL_MESSAGES, tag = "api", summary = "History by cursor: before, after or around", params(HistoryQuery), responses((status = 200, description = "oldest first", body = Page<Message>), (status = 400, description = "invalid input", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody)), security(("bearer" = [])))]
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
    let (mut data, page) = db::messages::history(&pool, Scope::Channel(channel_id), cursor, limit)
        .await?
        .ok_or_else(|| ApiError::bad_request(ErrorCode::InvalidCursor, "cursor: not a message of this channel"))?;
    db::messages::attach_reactions(&pool, &mut data, auth.id()).await?;
    Ok(Json(Page { data, page }))
}

#[utoipa::path(get, path = paths::MESSAGE, tag = "api", summary = "A message", responses((status = 200, description = "ok", body = Message), (status = 400, description = "invalid input", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody)), security(("bearer" = [])))]
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

#[utoipa::path(get, path = paths::MESSAGE_REPLIES, tag = "api", summary = "A thread's replies", params(HistoryQuery), responses((status = 200, description = "oldest first", body = Page<Message>), (status = 400, description = "invalid input", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody)), security(("bearer" = [])))]
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
    let (mut data, page) = db::messages::history(&pool, Scope::Thread(id), cursor, limit)
        .await?
        .ok_or_else(|| ApiError::bad_request(ErrorCode::InvalidCursor, "cursor: not a message of this thread"))?;
    db::messages::attach_reactions(&pool, &mut data, auth.id()).await?;
    Ok(Json(Page { data, page }))
}

#[utoipa::path(patch, path = paths::MESSAGE, tag = "api", summary = "Edit my message", request_body = UpdateMessageRequest, responses((status = 200, description = "ok", body = Message), (status = 400, description = "invalid input (the message names the field)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 422, description = "too long", body = ErrorBody)), security(("bearer" = [])))]
pub async fn update_message(
    State(pool): State<PgPool>,
    State(relay): State<OutboxRelay<NatsBus>>,
    State(config): State<Arc<Config>>,
    State(unfurler): State<Unfurler>,
    auth: AuthUser,
    Path(id): Path<MessageId>,
    Body(request): Body<UpdateMessageRequest>,
) -> ApiResult<Json<Message>> {
    auth.require_write()?;
    let body = MessageBody::parse("body_md", &request.body_md, config.message_max_chars)?;
    let edited = edit_message(&pool, auth.id(), id, &body, config.broadcast_mention_max_members).await?.wake(&relay);
    unfurler.enqueue(&edited);
    Ok(Json(edited))
}

#[utoipa::path(delete, path = paths::MESSAGE, tag = "api", summary = "Delete a message (author or admin); its files are deleted from storage after the commit", responses((status = 204, description = "deleted (a tombstone stays)"), (status = 400, description = "invalid input (the message names the field)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 422, description = "too long", body = ErrorBody)), security(("bearer" = [])))]
/// Soft delete by the author, or by a community admin in a community channel.
pub async fn delete_message(
    State(pool): State<PgPool>,
    State(relay): State<OutboxRelay<NatsBus>>,
    State(sweeper): State<Sweeper>,
    auth: AuthUser,
    Path(id): Path<MessageId>,
) -> ApiResult<StatusCode> {
    auth.require_write()?;
    delete(&pool, auth.id(), id).await?.wake(&relay);
    // Committed: its files go now, after the transaction, never inside it.
    sweeper.wake();
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
    let written = if add {
        reactions::add_reaction(pool, auth.id(), id, &emoji).await?
    } else {
        reactions::remove_reaction(pool, auth.id(), id, &emoji).await?
    };
    written.wake(relay);
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(put, path = paths::MESSAGE_REACTION, tag = "api", summary = "React (idempotent)", responses((status = 204, description = "ok"), (status = 400, description = "invalid input (the message names the field)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 422, description = "too long", body = ErrorBody)), security(("bearer" = [])))]
pub async fn add_reaction(
    State(pool): State<PgPool>,
    State(relay): State<OutboxRelay<NatsBus>>,
    auth: AuthUser,
    Path((id, emoji)): Path<(MessageId, String)>,
) -> ApiResult<StatusCode> {
    react(&pool, &relay, auth, id, &emoji, true).await
}

#[utoipa::path(delete, path = paths::MESSAGE_REACTION, tag = "api", summary = "Remove my reaction (idempotent)", responses((status = 204, description = "ok"), (status = 400, description = "invalid input (the message names the field)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 422, description = "too long", body = ErrorBody)), security(("bearer" = [])))]
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
    let written = if pin {
        pins::pin_message(pool, auth.id(), id).await?
    } else {
        pins::unpin_message(pool, auth.id(), id).await?
    };
    written.wake(relay);
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(put, path = paths::MESSAGE_PIN, tag = "api", summary = "Pin (idempotent)", responses((status = 204, description = "ok"), (status = 400, description = "invalid input (the message names the field)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 422, description = "too long", body = ErrorBody)), security(("bearer" = [])))]
pub async fn pin_message(
    State(pool): State<PgPool>,
    State(relay): State<OutboxRelay<NatsBus>>,
    auth: AuthUser,
    Path(id): Path<MessageId>,
) -> ApiResult<StatusCode> {
    pin(&pool, &relay, auth, id, true).await
}

#[utoipa::path(delete, path = paths::MESSAGE_PIN, tag = "api", summary = "Unpin (idempotent)", responses((status = 204, description = "ok"), (status = 400, description = "invalid input (the message names the field)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 422, description = "too long", body = ErrorBody)), security(("bearer" = [])))]
pub async fn unpin_message(
    State(pool): State<PgPool>,
    State(relay): State<OutboxRelay<NatsBus>>,
    auth: AuthUser,
    Path(id): Path<MessageId>,
) -> ApiResult<StatusCode> {
    pin(&pool, &relay, auth, id, false).await
}

#[utoipa::path(get, path = paths::CHANNEL_PINS, tag = "api", summary = "A channel's pins", responses((status = 200, description = "most recently pinned first", body = Page<Message>), (status = 400, description = "invalid input", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody)), security(("bearer" = [])))]
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
