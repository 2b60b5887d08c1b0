//! Moderation (admins): bans, kicks, timed mutes, role changes, a channel's slow mode and
//! freeze, purges, and the community's audit log. Each handler parses its request and calls one
//! `shared::chat::moderation` function, which applies the owner protections, writes the
//! action with its access events, notification and audit row (carrying this request's
//! trace id) in one transaction.

use ajet_shared::api::paths;
use ajet_shared::api::wire::{
    AuditQuery, AuditRecord, Ban, Channel, ChannelModerationRequest, CommunityMember, CreateBanRequest,
    CreateKickRequest, CreateMuteRequest, MessagesPurged, Mute, MutedMember, Page, PageInfo, PurgeRequest,
    UpdateMemberRequest,
};
use ajet_shared::api::{ErrorBody, ErrorCode};
use ajet_shared::chat;
use ajet_shared::chat::moderation::{ChannelModeration, Target};
use ajet_shared::db::PgPool;
use ajet_shared::db::audit;
use ajet_shared::domain::ids::{ChannelId, UserId};
use ajet_shared::domain::names::check_label;
use ajet_shared::events::bus::NatsBus;
use ajet_shared::outbox::OutboxRelay;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use super::communities::resolve;
use crate::error::{ApiError, ApiResult};
use crate::extract::{AuthUser, Body, Path, Query, TraceId, page_limit};
use crate::sweeper::Sweeper;

/// Longest reason, in characters (the schema's limit).
const REASON_MAX_CHARS: usize = 512;
/// Longest ban or mute: a year (longer is "until lifted": leave the duration out).
const SANCTION_MAX_SECS: u32 = 365 * 86_400;
/// Longest slow-mode interval: six hours (the schema's limit).
const SLOW_MODE_MAX_SECS: u32 = 21_600;
const AUDIT_PAGE: u16 = 50;
const AUDIT_PAGE_MAX: u32 = 100;

/// A reason: trimmed, empty is none, at most 512 characters of printable text.
pub(crate) fn reason(raw: Option<&str>) -> Result<Option<&str>, ApiError> {
    let Some(reason) = raw.map(str::trim).filter(|r| !r.is_empty()) else { return Ok(None) };
    if reason.chars().count() > REASON_MAX_CHARS {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidReason,
            format!("reason: at most {REASON_MAX_CHARS} characters"),
        ));
    }
    check_label("reason", reason)?;
    Ok(Some(reason))
}

/// A ban's or mute's length: 1 s to a year, or none (until lifted).
pub(crate) fn duration(field: &str, secs: Option<u32>) -> Result<Option<u32>, ApiError> {
    match secs {
        Some(secs) if secs == 0 || secs > SANCTION_MAX_SECS => Err(ApiError::bad_request(
            ErrorCode::InvalidDuration,
            format!("{field}: 1 to {SANCTION_MAX_SECS} seconds, or leave it out for \"until lifted\""),
        )),
        secs => Ok(secs),
    }
}

#[utoipa::path(post, path = paths::COMMUNITY_BANS, tag = "api", summary = "Ban someone from a community (admins)", request_body = CreateBanRequest, responses((status = 201, description = "banned: out of the community and its channels at once, and refused by invites until the ban ends", body = Ban), (status = 400, description = "invalid input (`invalid_reason`, `invalid_duration`, `cannot_moderate_self`, `unknown_user`)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not an admin (`admin_only`), or the target is the owner (`owner_protected`) or an admin and the caller not the owner (`admin_protected`)", body = ErrorBody), (status = 404, description = "no such community", body = ErrorBody)), security(("bearer" = [])))]
pub async fn create_ban(
    State(pool): State<PgPool>,
    State(relay): State<OutboxRelay<NatsBus>>,
    auth: AuthUser,
    trace: TraceId,
    Path(id): Path<String>,
    Body(request): Body<CreateBanRequest>,
) -> ApiResult<(StatusCode, Json<Ban>)> {
    auth.require_write()?;
    let community = resolve(&pool, &id).await?;
    let target = Target {
        user: request.user_id,
        reason: reason(request.reason.as_deref())?,
        secs: duration("expires_in_secs", request.expires_in_secs)?,
    };
    let ban = chat::moderation::ban(&pool, trace.actor(&auth), community, target).await?;
    Ok((StatusCode::CREATED, Json(ban.wake(&relay))))
}

#[utoipa::path(get, path = paths::COMMUNITY_BANS, tag = "api", summary = "The bans in force (admins)", responses((status = 200, description = "newest first", body = Page<Ban>), (status = 400, description = "invalid input", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not an admin", body = ErrorBody), (status = 404, description = "no such community", body = ErrorBody)), security(("bearer" = [])))]
pub async fn list_bans(
    State(pool): State<PgPool>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Page<Ban>>> {
    auth.require_read()?;
    let community = resolve(&pool, &id).await?;
    let data = chat::moderation::list_bans(&pool, auth.id(), community).await?;
    Ok(Json(Page { data, page: PageInfo::default() }))
}

#[utoipa::path(delete, path = paths::COMMUNITY_BAN, tag = "api", summary = "Lift a ban (admins)", responses((status = 204, description = "lifted; an invite lets them back in"), (status = 400, description = "invalid input", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not an admin", body = ErrorBody), (status = 404, description = "no such community, or no ban in force (`ban_not_found`)", body = ErrorBody)), security(("bearer" = [])))]
pub async fn delete_ban(
    State(pool): State<PgPool>,
    State(relay): State<OutboxRelay<NatsBus>>,
    auth: AuthUser,
    trace: TraceId,
    Path((id, user)): Path<(String, UserId)>,
) -> ApiResult<StatusCode> {
    auth.require_write()?;
    let community = resolve(&pool, &id).await?;
    chat::moderation::unban(&pool, trace.actor(&auth), community, user).await?.wake(&relay);
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = paths::COMMUNITY_KICKS, tag = "api", summary = "Kick a member out of a community (admins)", request_body = CreateKickRequest, responses((status = 204, description = "out of the community and its channels; an invite brings them back"), (status = 400, description = "invalid input (`invalid_reason`, `cannot_moderate_self`, `unknown_user`, `user_not_in_community`)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not an admin, or the owner protections (`owner_protected`, `admin_protected`)", body = ErrorBody), (status = 404, description = "no such community", body = ErrorBody)), security(("bearer" = [])))]
pub async fn create_kick(
    State(pool): State<PgPool>,
    State(relay): State<OutboxRelay<NatsBus>>,
    auth: AuthUser,
    trace: TraceId,
    Path(id): Path<String>,
    Body(request): Body<CreateKickRequest>,
) -> ApiResult<StatusCode> {
    auth.require_write()?;
    let community = resolve(&pool, &id).await?;
    let target = Target { user: request.user_id, reason: reason(request.reason.as_deref())?, secs: None };
    chat::moderation::kick(&pool, trace.actor(&auth), community, target).await?.wake(&relay);
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = paths::COMMUNITY_MUTES, tag = "api", summary = "Mute a member: no posts or reactions until it ends (admins)", request_body = CreateMuteRequest, responses((status = 201, description = "muted", body = Mute), (status = 400, description = "invalid input (`invalid_reason`, `invalid_duration`, `cannot_moderate_self`, `unknown_user`, `user_not_in_community`)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not an admin, or the owner protections (`owner_protected`, `admin_protected`)", body = ErrorBody), (status = 404, description = "no such community", body = ErrorBody)), security(("bearer" = [])))]
pub async fn create_mute(
    State(pool): State<PgPool>,
    State(relay): State<OutboxRelay<NatsBus>>,
    auth: AuthUser,
    trace: TraceId,
    Path(id): Path<String>,
    Body(request): Body<CreateMuteRequest>,
) -> ApiResult<(StatusCode, Json<Mute>)> {
    auth.require_write()?;
    let community = resolve(&pool, &id).await?;
    let target = Target {
        user: request.user_id,
        reason: reason(request.reason.as_deref())?,
        secs: duration("duration_secs", request.duration_secs)?,
    };
    let mute = chat::moderation::mute(&pool, trace.actor(&auth), community, target).await?;
    Ok((StatusCode::CREATED, Json(mute.wake(&relay))))
}

#[utoipa::path(get, path = paths::COMMUNITY_MUTES, tag = "api", summary = "The mutes in force (admins)", responses((status = 200, description = "newest first: who is muted, by whom, why and until when; ended mutes are left out", body = Page<MutedMember>), (status = 400, description = "invalid input", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not an admin", body = ErrorBody), (status = 404, description = "no such community", body = ErrorBody)), security(("bearer" = [])))]
pub async fn list_mutes(
    State(pool): State<PgPool>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Page<MutedMember>>> {
    auth.require_read()?;
    let community = resolve(&pool, &id).await?;
    let data = chat::moderation::list_mutes(&pool, auth.id(), community).await?;
    Ok(Json(Page { data, page: PageInfo::default() }))
}

#[utoipa::path(delete, path = paths::COMMUNITY_MUTE, tag = "api", summary = "Lift a mute (admins)", responses((status = 204, description = "lifted"), (status = 400, description = "invalid input", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not an admin", body = ErrorBody), (status = 404, description = "no such community, or no mute in force (`mute_not_found`)", body = ErrorBody)), security(("bearer" = [])))]
pub async fn delete_mute(
    State(pool): State<PgPool>,
    State(relay): State<OutboxRelay<NatsBus>>,
    auth: AuthUser,
    trace: TraceId,
    Path((id, user)): Path<(String, UserId)>,
) -> ApiResult<StatusCode> {
    auth.require_write()?;
    let community = resolve(&pool, &id).await?;
    chat::moderation::unmute(&pool, trace.actor(&auth), community, user).await?.wake(&relay);
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(patch, path = paths::COMMUNITY_MEMBER, tag = "api", summary = "Change a member's role (admins; an admin's only by the owner)", request_body = UpdateMemberRequest, responses((status = 200, description = "the member as listed", body = CommunityMember), (status = 400, description = "invalid input (`invalid_role`, `invalid_reason`, `cannot_moderate_self`, `unknown_user`, `user_not_in_community`)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not an admin, or the owner protections (`owner_protected`, `admin_protected`)", body = ErrorBody), (status = 404, description = "no such community", body = ErrorBody)), security(("bearer" = [])))]
pub async fn update_member(
    State(pool): State<PgPool>,
    State(relay): State<OutboxRelay<NatsBus>>,
    auth: AuthUser,
    trace: TraceId,
    Path((id, user)): Path<(String, UserId)>,
    Body(request): Body<UpdateMemberRequest>,
) -> ApiResult<Json<CommunityMember>> {
    auth.require_write()?;
    let community = resolve(&pool, &id).await?;
    let why = reason(request.reason.as_deref())?;
    let member = chat::moderation::set_role(&pool, trace.actor(&auth), community, user, request.role, why).await?;
    Ok(Json(member.wake(&relay)))
}

#[utoipa::path(patch, path = paths::CHANNEL_MODERATION, tag = "api", summary = "Set a channel's slow mode and freeze (admins)", request_body = ChannelModerationRequest, responses((status = 200, description = "the channel", body = Channel), (status = 400, description = "invalid input (`invalid_duration`, `invalid_reason`, `not_a_community_channel`)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not an admin", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody)), security(("bearer" = [])))]
pub async fn moderate_channel(
    State(pool): State<PgPool>,
    State(relay): State<OutboxRelay<NatsBus>>,
    auth: AuthUser,
    trace: TraceId,
    Path(channel_id): Path<ChannelId>,
    Body(request): Body<ChannelModerationRequest>,
) -> ApiResult<Json<Channel>> {
    auth.require_write()?;
    if request.slow_mode_secs.is_some_and(|secs| secs > SLOW_MODE_MAX_SECS) {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidDuration,
            format!("slow_mode_secs: 0 (off) to {SLOW_MODE_MAX_SECS}"),
        ));
    }
    let change = ChannelModeration {
        slow_mode_secs: request.slow_mode_secs,
        frozen: request.frozen,
        reason: reason(request.reason.as_deref())?,
    };
    let channel = chat::moderation::moderate_channel(&pool, trace.actor(&auth), channel_id, change).await?;
    Ok(Json(channel.wake(&relay)))
}

#[utoipa::path(post, path = paths::CHANNEL_PURGE, tag = "api", summary = "Soft-delete a channel's newest messages, thread replies included (admins); one `messages.purged` event, an audit row, their files deleted after the commit", request_body = PurgeRequest, responses((status = 200, description = "the purged messages' ids, oldest first (empty if nothing was left)", body = MessagesPurged), (status = 400, description = "invalid input (`invalid_count`: 1 to 1000; `invalid_reason`; `not_a_community_channel`)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not an admin", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody), (status = 409, description = "the channel is archived", body = ErrorBody)), security(("bearer" = [])))]
pub async fn purge_channel(
    State(pool): State<PgPool>,
    State(relay): State<OutboxRelay<NatsBus>>,
    State(sweeper): State<Sweeper>,
    auth: AuthUser,
    trace: TraceId,
    Path(channel_id): Path<ChannelId>,
    Body(request): Body<PurgeRequest>,
) -> ApiResult<Json<MessagesPurged>> {
    auth.require_write()?;
    let why = reason(request.reason.as_deref())?;
    let purged = chat::moderation::purge(&pool, trace.actor(&auth), channel_id, request.count, why).await?.wake(&relay);
    sweeper.wake();
    Ok(Json(purged))
}

#[utoipa::path(get, path = paths::COMMUNITY_AUDIT, tag = "api", summary = "A community's audit log, newest first (admins)", params(AuditQuery), responses((status = 200, description = "newest first; `page.before` fetches older rows", body = Page<AuditRecord>), (status = 400, description = "invalid input", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not an admin", body = ErrorBody), (status = 404, description = "no such community", body = ErrorBody)), security(("bearer" = [])))]
pub async fn list_audit(
    State(pool): State<PgPool>,
    auth: AuthUser,
    Path(id): Path<String>,
    Query(query): Query<AuditQuery>,
) -> ApiResult<Json<Page<AuditRecord>>> {
    auth.require_read()?;
    let community = resolve(&pool, &id).await?;
    let limit = i64::from(page_limit(query.limit, AUDIT_PAGE, AUDIT_PAGE_MAX)?);
    // One more than asked says whether there is an older page.
    let read = audit::AuditQuery {
        community,
        reader: auth.id(),
        action: query.action.as_deref(),
        actor: query.actor,
        before: query.before,
        limit: limit + 1,
    };
    let mut data = chat::moderation::audit_log(&pool, auth.id(), &read).await?;
    let more = data.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    data.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let before = if more { data.last().map(|row| row.id.to_string()) } else { None };
    Ok(Json(Page { data, page: PageInfo { before, after: None, has_more: more } }))
}
