//! Direct messages: get-or-create by the exact set of participants, and the caller's list.

use std::collections::BTreeSet;
use std::sync::Arc;

use ajet_shared::api::wire::{Channel, ChannelKind, ChannelListItem, CreateDmRequest, Member, Page, PageInfo};
use ajet_shared::config::Config;
use ajet_shared::db::{self, PgPool};
use ajet_shared::domain::ids::UserId;
use ajet_shared::events::EventPayload;
use ajet_shared::events::bus::NatsBus;
use ajet_shared::outbox::OutboxRelay;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use time::OffsetDateTime;

use super::events;
use crate::error::{ApiError, ApiResult};
use crate::extract::{AuthUser, Body};
use ajet_shared::api::ErrorBody;

/// Refuses (429 `rate_limited`, with `Retry-After`) a group DM beyond `group_dms_per_hour`
/// created by `user` in the last hour. Called in the creating transaction after the insert,
/// so the new one counts, and the refusal rolls it back. Opening an existing DM is free.
async fn limit_group_dms(tx: &mut sqlx::PgConnection, config: &Config, user: UserId) -> Result<(), ApiError> {
    const WINDOW: time::Duration = time::Duration::HOUR;
    let now = OffsetDateTime::now_utc();
    let (count, oldest) = db::channels::group_dms_created_since(&mut *tx, user, now - WINDOW).await?;
    if count <= i64::from(config.group_dms_per_hour) {
        return Ok(());
    }
    let retry_after = oldest.map_or(WINDOW, |oldest| oldest + WINDOW - now).whole_seconds().max(1);
    Err(ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!(
            "user_ids: you may create at most {} group DMs an hour; retry in {retry_after} s",
            config.group_dms_per_hour
        ),
    )
    .with_retry_after(u64::try_from(retry_after).unwrap_or(1)))
}

/// Most participants a group DM may have.
const MAX_DM_MEMBERS: usize = 9;

#[utoipa::path(get, path = "/api/dms", tag = "api", summary = "My DMs and group DMs", responses((status = 200, description = "most recent first", body = Page<ChannelListItem>), (status = 401, description = "not signed in", body = ErrorBody)), security(("bearer" = [])))]
pub async fn list_dms(State(pool): State<PgPool>, auth: AuthUser) -> ApiResult<Json<Page<ChannelListItem>>> {
    auth.require_read()?;
    let data = db::channels::list_dms(&pool, auth.id()).await?;
    Ok(Json(Page { data, page: PageInfo::default() }))
}

#[utoipa::path(post, path = "/api/dms", tag = "api", summary = "Get or create the DM of exactly these people", request_body = CreateDmRequest, responses((status = 201, description = "created", body = Channel), (status = 200, description = "existing", body = Channel), (status = 400, description = "invalid input (the message names the field)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 422, description = "too long", body = ErrorBody), (status = 429, description = "more new group DMs this hour than allowed (`rate_limited`, with Retry-After)", body = ErrorBody)), security(("bearer" = [])))]
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
            "invalid_user_ids",
            "user_ids: name at least one person (yourself for notes)",
        ));
    }
    let mut members: BTreeSet<UserId> = request.user_ids.iter().copied().collect();
    members.insert(auth.id());
    if members.len() > MAX_DM_MEMBERS {
        return Err(ApiError::bad_request(
            "too_many_members",
            format!("user_ids: a group DM has at most {MAX_DM_MEMBERS} people"),
        ));
    }
    let members: Vec<UserId> = members.into_iter().collect();
    if db::users::count_existing(&pool, &members).await? != i64::try_from(members.len()).unwrap_or(i64::MAX) {
        return Err(ApiError::bad_request("unknown_user", "user_ids: some of these users do not exist"));
    }
    let mut tx = pool.begin().await?;
    let (channel, created) = db::channels::get_or_create_dm(&mut tx, &members, auth.id()).await?;
    if created && channel.kind == ChannelKind::GroupDm {
        limit_group_dms(&mut tx, &config, auth.id()).await?;
    }
    if created {
        events::in_channel(&mut tx, &channel, auth.id(), EventPayload::ChannelCreated(channel.clone())).await?;
        for user in db::users::get_many(&mut *tx, &members).await? {
            let member = Member { user, channel_id: Some(channel.id) };
            // Each member learns of the new DM on their own subject at once (their open
            // streams subscribe to it and refetch), then everyone sees it on the DM's.
            events::for_user(&mut tx, member.user.id, EventPayload::MemberJoined(member.clone())).await?;
            events::in_channel(&mut tx, &channel, auth.id(), EventPayload::MemberJoined(member)).await?;
        }
    }
    tx.commit().await?;
    relay.notify();
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(channel)))
}
