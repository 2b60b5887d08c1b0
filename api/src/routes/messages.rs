//! Messages: send (idempotent by `client_msg_id`) and read history by cursor.

use std::sync::Arc;

use ajet_shared::api::wire::{CreateMessageRequest, HistoryQuery, Message, Page};
use ajet_shared::config::Config;
use ajet_shared::db::messages::{Cursor, NewMessage};
use ajet_shared::db::{self, PgPool};
use ajet_shared::domain::ids::ChannelId;
use ajet_shared::domain::{ClientMsgId, MessageBody};
use ajet_shared::events::bus::NatsBus;
use ajet_shared::events::{Event, EventPayload, subject};
use ajet_shared::outbox::OutboxRelay;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use super::access::channel_access;
use crate::error::{ApiError, ApiResult};
use crate::extract::{AuthUser, Body, Path, Query};

const DEFAULT_PAGE: u16 = 50;
const MAX_PAGE: u32 = 100;

/// The answer to a send whose `client_msg_id` was seen before: the original message if the
/// body matches (a retry), a conflict if it does not (a reused key).
fn replayed(original: Message, body: &MessageBody) -> ApiResult<(StatusCode, Json<Message>)> {
    if original.body_md == body.as_str() {
        Ok((StatusCode::OK, Json(original)))
    } else {
        Err(ApiError::conflict(
            "client_msg_id_reused",
            "client_msg_id: this id was already used for a different message",
        ))
    }
}

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
        return Err(ApiError::forbidden("not_a_channel_member", "join the channel before posting in it"));
    }
    if access.channel.archived_at.is_some() {
        return Err(ApiError::conflict("channel_archived", "this channel is archived; nothing can be posted in it"));
    }
    if let Some(key) = &client_msg_id
        && let Some(original) = db::messages::find_by_client_msg_id(&pool, auth.id(), key).await?
    {
        return replayed(original, &body);
    }
    if let Some(parent_id) = request.parent_id {
        let parent = db::messages::get(&pool, parent_id).await?;
        match parent {
            Some(parent) if parent.channel_id == channel_id && parent.parent_id.is_none() => {}
            Some(_) => {
                return Err(ApiError::bad_request(
                    "invalid_parent",
                    "parent_id: replies go to a top-level message of the same channel",
                ));
            }
            None => return Err(ApiError::not_found("parent_not_found", "parent_id: there is no such message")),
        }
    }
    let new = NewMessage {
        channel: channel_id,
        author: auth.id(),
        body: &body,
        parent: request.parent_id,
        client_msg_id: client_msg_id.as_ref(),
    };
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
            return replayed(original, &body);
        }
        Err(err) => return Err(err.into()),
    };
    let event = Event::new(
        EventPayload::MessageCreated(message.clone()),
        access.channel.community_id,
        Some(channel_id),
        Some(auth.id()),
    );
    db::outbox::enqueue(&mut tx, &subject::for_channel(&access.channel), &event).await?;
    tx.commit().await?;
    relay.notify();
    Ok((StatusCode::CREATED, Json(message)))
}

pub async fn list_messages(
    State(pool): State<PgPool>,
    auth: AuthUser,
    Path(channel_id): Path<ChannelId>,
    Query(query): Query<HistoryQuery>,
) -> ApiResult<Json<Page<Message>>> {
    auth.require_read()?;
    let limit = match query.limit {
        None => DEFAULT_PAGE,
        Some(limit @ 1..=MAX_PAGE) => u16::try_from(limit).unwrap_or(DEFAULT_PAGE),
        Some(_) => {
            return Err(ApiError::bad_request("invalid_limit", format!("limit: must be between 1 and {MAX_PAGE}")));
        }
    };
    let cursor = match (query.before, query.after) {
        (None, None) => Cursor::Latest,
        (Some(before), None) => Cursor::Before(before),
        (None, Some(after)) => Cursor::After(after),
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request("invalid_cursor", "before and after cannot be combined"));
        }
    };
    channel_access(&pool, channel_id, auth.id()).await?;
    let (data, page) = db::messages::history(&pool, channel_id, cursor, limit).await?;
    Ok(Json(Page { data, page }))
}
