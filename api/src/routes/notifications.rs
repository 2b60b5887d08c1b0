//! The caller's notifications: the inbox page, and marking read (each change is published to
//! all of the caller's clients).

use ajet_shared::api::paths;
use ajet_shared::api::wire::{
    Notification, NotificationQuery, NotificationsRead, Page, PageInfo, ReadNotificationsRequest,
};
use ajet_shared::api::{ErrorBody, ErrorCode};
use ajet_shared::chat;
use ajet_shared::chat::notifications::{READ_IDS_MAX, ReadRequest};
use ajet_shared::db::{self, PgPool};
use ajet_shared::events::bus::NatsBus;
use ajet_shared::outbox::OutboxRelay;
use axum::Json;
use axum::extract::State;

use crate::error::{ApiError, ApiResult};
use crate::extract::{AuthUser, Body, Query, page_limit};

const DEFAULT_PAGE: u16 = 50;
const MAX_PAGE: u32 = 100;

#[utoipa::path(get, path = paths::NOTIFICATIONS, tag = "api", summary = "My notifications, newest first", params(NotificationQuery), responses((status = 200, description = "newest first; `page.before` fetches older ones", body = Page<Notification>), (status = 400, description = "invalid input", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody)), security(("bearer" = [])))]
/// Of channels the caller can still read; those of deleted messages are left out.
pub async fn list_notifications(
    State(pool): State<PgPool>,
    auth: AuthUser,
    Query(query): Query<NotificationQuery>,
) -> ApiResult<Json<Page<Notification>>> {
    auth.require_read()?;
    let limit = page_limit(query.limit, DEFAULT_PAGE, MAX_PAGE)?;
    let (data, more) =
        db::notifications::list(&pool, auth.id(), query.unread.unwrap_or(false), query.before, limit).await?;
    let before = if more { data.last().map(|n| n.id.to_string()) } else { None };
    Ok(Json(Page { data, page: PageInfo { before, after: None, has_more: more } }))
}

#[utoipa::path(post, path = paths::NOTIFICATIONS_READ, tag = "api", summary = "Mark notifications read: by ids, all, or a channel's", request_body = ReadNotificationsRequest, responses((status = 200, description = "the ids that were unread and are now read", body = NotificationsRead), (status = 400, description = "invalid input (the message names the field)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody)), security(("bearer" = [])))]
/// Exactly one of `ids`, `all: true` or `channel_id`; the change is published on the caller's
/// own subject (`notifications.read`), so all their clients update their badges.
pub async fn read_notifications(
    State(pool): State<PgPool>,
    State(relay): State<OutboxRelay<NatsBus>>,
    auth: AuthUser,
    Body(request): Body<ReadNotificationsRequest>,
) -> ApiResult<Json<NotificationsRead>> {
    auth.require_write()?;
    let read = match (&request.ids, request.all, request.channel_id) {
        (Some(ids), None | Some(false), None) => {
            if ids.len() > READ_IDS_MAX {
                return Err(ApiError::bad_request(
                    ErrorCode::InvalidReadRequest,
                    format!("ids: at most {READ_IDS_MAX} at once; use all or channel_id for more"),
                ));
            }
            ReadRequest::Ids(ids)
        }
        (None, Some(true), None) => ReadRequest::All,
        (None, None | Some(false), Some(channel)) => ReadRequest::Channel(channel),
        _ => {
            return Err(ApiError::bad_request(
                ErrorCode::InvalidReadRequest,
                "give exactly one of ids, all: true, or channel_id",
            ));
        }
    };
    Ok(Json(chat::notifications::mark_read(&pool, auth.id(), read).await?.wake(&relay)))
}
