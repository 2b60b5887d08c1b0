//! Direct messages: get-or-create by the exact set of participants, and the caller's list.

use ajet_shared::api::ErrorCode;
use ajet_shared::api::paths;
use std::collections::BTreeSet;
use std::sync::Arc;

use ajet_shared::api::wire::{Channel, ChannelListItem, CreateDmRequest, Page, PageInfo};
use ajet_shared::chat;
use ajet_shared::config::Config;
use ajet_shared::db::{self, PgPool};
use ajet_shared::domain::ids::UserId;
use ajet_shared::events::bus::NatsBus;
use ajet_shared::outbox::OutboxRelay;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use crate::error::{ApiError, ApiResult};
use crate::extract::{AuthUser, Body};
use ajet_shared::api::ErrorBody;

/// Refuses (429 `rate_limited`, with `Retry-After`) a group DM beyond `group_dms_per_hour`
/// created by `user` in the last hour. Called in the creating transaction after the insert,
/// so the new one counts, and the refusal rolls it back. Opening an existing DM is free.
/// Most participants a group DM may have.
const MAX_DM_MEMBERS: usize = 9;

#[utoipa::path(get, path = paths::DMS, tag = "api", summary = "My DMs and group DMs", responses((status = 200, description = "most recent first", body = Page<ChannelListItem>), (status = 401, description = "not signed in", body = ErrorBody)), security(("bearer" = [])))]
pub async fn list_dms(State(pool): State<PgPool>, auth: AuthUser) -> ApiResult<Json<Page<ChannelListItem>>> {
    auth.require_read()?;
    let data = db::channels::list_dms(&pool, auth.id()).await?;
    Ok(Json(Page { data, page: PageInfo::default() }))
}

#[utoipa::path(post, path = paths::DMS, tag = "api", summary = "Get or create the DM of exactly these people", request_body = CreateDmRequest, responses((status = 201, description = "created", body = Channel), (status = 200, description = "existing", body = Channel), (status = 400, description = "invalid input (the message names the field)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 422, description = "too long", body = ErrorBody), (status = 429, description = "more new group DMs this hour than allowed (`rate_limited`, with Retry-After)", body = ErrorBody)), security(("bearer" = [])))]
/// The same set of people always gets the same channel (201 when it is new, 200 after).
pub async fn open_dm(
    State(pool): State<PgPool>,
    State(config): State<Arc<Config>>,
    State(relay): State<OutboxRelay<NatsBus>>,
    auth: AuthUser,
    Body(request): Body<CreateDmRequest>,
) -> ApiResult<(StatusCode, Json<Channel>)> {
    auth.require_write()?;
    if request.user_ids.is_empty() {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidUserIds,
            "user_ids: name at least one person (yourself for notes)",
        ));
    }
    let mut members: BTreeSet<UserId> = request.user_ids.iter().copied().collect();
    members.insert(auth.id());
    if members.len() > MAX_DM_MEMBERS {
        return Err(ApiError::bad_request(
            ErrorCode::TooManyMembers,
            format!("user_ids: a group DM has at most {MAX_DM_MEMBERS} people"),
        ));
    }
    let members: Vec<UserId> = members.into_iter().collect();
    let opened = chat::dms::open_dm(&pool, auth.id(), &members, config.group_dms_per_hour).await?.wake(&relay);
    Ok((if opened.created { StatusCode::CREATED } else { StatusCode::OK }, Json(opened.channel)))
}
