//! Invites: members create codes; accepting one joins its community.

use ajet_shared::api::ErrorCode;
use ajet_shared::api::paths;
use std::sync::Arc;
use std::time::Duration;

use ajet_shared::api::wire::{CreateInviteRequest, Invite, Member, Page, PageInfo, Role};
use ajet_shared::chat;
use ajet_shared::chat::access::{community_role, require_admin};
use ajet_shared::config::Config;
use ajet_shared::db::{self, PgPool};
use ajet_shared::domain::ids::{CommunityId, UserId};
use ajet_shared::events::bus::NatsBus;
use ajet_shared::outbox::OutboxRelay;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use base64::Engine as _;
use rand::RngCore as _;
use time::OffsetDateTime;

use super::communities::resolve;
use crate::error::{ApiError, ApiResult};
use crate::extract::{AuthUser, Body, Path};
use ajet_shared::api::ErrorBody;

/// A fresh unguessable code: 16 random bytes, base64url.
fn new_code() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[utoipa::path(post, path = paths::COMMUNITY_INVITES, tag = "api", summary = "Create an invite code", request_body = CreateInviteRequest, responses((status = 201, description = "ok", body = Invite), (status = 400, description = "invalid input (the message names the field)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody), (status = 409, description = "as many open invites as allowed (`too_many_invites`)", body = ErrorBody), (status = 422, description = "too long", body = ErrorBody)), security(("bearer" = [])))]
pub async fn create_invite(
    State(pool): State<PgPool>,
    State(config): State<Arc<Config>>,
    auth: AuthUser,
    Path(community): Path<String>,
    Body(request): Body<CreateInviteRequest>,
) -> ApiResult<(StatusCode, Json<Invite>)> {
    auth.require_write()?;
    let community_id = resolve(&pool, &community).await?;
    let invite = create(&pool, &config, auth.id(), community_id, &request).await?;
    Ok((StatusCode::CREATED, Json(invite)))
}

/// Creates an invite into `community_id` by `user` (a member), within the community's and
/// the member's allowance: `POST /api/communities/{id}/invites` and `/invite`.
pub(crate) async fn create(
    pool: &PgPool,
    config: &Config,
    user: UserId,
    community_id: CommunityId,
    request: &CreateInviteRequest,
) -> ApiResult<Invite> {
    let role = community_role(pool, community_id, user).await?;
    if request.max_uses.is_some_and(|uses| uses < 1) {
        return Err(ApiError::bad_request(ErrorCode::InvalidMaxUses, "max_uses: must be at least 1"));
    }
    if request.expires_in_secs == Some(0) {
        return Err(ApiError::bad_request(ErrorCode::InvalidExpiry, "expires_in_secs: must be at least 1"));
    }
    let expires_at = request.expires_in_secs.map(|secs| OffsetDateTime::now_utc() + Duration::from_secs(secs.into()));
    let mut tx = pool.begin().await?;
    let cap = config.max_open_invites_per_community;
    let (open, mine) = db::invites::count_open_locked(&mut tx, community_id, user).await?;
    if open >= i64::from(cap) {
        return Err(ApiError::conflict(
            ErrorCode::TooManyInvites,
            format!("this community already has {cap} open invites, the most allowed; revoke one first"),
        ));
    }
    // A member (not an admin) holds at most a tenth of the community's allowance, so no
    // one member can use it up and leave the admins unable to invite.
    let member_share = (cap / 10).max(1);
    if role == Role::Member && mine >= i64::from(member_share) {
        return Err(ApiError::conflict(
            ErrorCode::TooManyInvites,
            format!(
                "you already have {member_share} open invites here, the most a member may hold; let one expire or ask an admin"
            ),
        ));
    }
    let invite = db::invites::create(&mut *tx, community_id, user, &new_code(), expires_at, request.max_uses).await?;
    tx.commit().await?;
    Ok(invite)
}

#[utoipa::path(post, path = paths::INVITE_ACCEPT, tag = "api", summary = "Join a community by invite", responses((status = 200, description = "joined (or already a member)", body = Member), (status = 400, description = "invalid input (the message names the field)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 422, description = "too long", body = ErrorBody)), security(("bearer" = [])))]
/// Joins the invite's community. Already being a member is fine and uses nothing up.
pub async fn accept_invite(
    State(pool): State<PgPool>,
    State(relay): State<OutboxRelay<NatsBus>>,
    auth: AuthUser,
    Path(code): Path<String>,
) -> ApiResult<Json<Member>> {
    auth.require_write()?;
    Ok(Json(chat::communities::accept_invite(&pool, auth.id(), &code).await?.wake(&relay)))
}

#[utoipa::path(get, path = paths::COMMUNITY_INVITES, tag = "api", summary = "Open invites (admins)", responses((status = 200, description = "newest first", body = Page<Invite>), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not an admin", body = ErrorBody), (status = 404, description = "no such community", body = ErrorBody)), security(("bearer" = [])))]
pub async fn list_invites(
    State(pool): State<PgPool>,
    auth: AuthUser,
    Path(community): Path<String>,
) -> ApiResult<Json<Page<Invite>>> {
    auth.require_read()?;
    let community_id = resolve(&pool, &community).await?;
    require_admin(community_role(&pool, community_id, auth.id()).await?)?;
    let data = db::invites::list(&pool, community_id).await?;
    Ok(Json(Page { data, page: PageInfo::default() }))
}

#[utoipa::path(delete, path = paths::COMMUNITY_INVITE, tag = "api", summary = "Revoke an invite (admins)", responses((status = 204, description = "revoked"), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not an admin", body = ErrorBody), (status = 404, description = "no such open invite", body = ErrorBody)), security(("bearer" = [])))]
pub async fn revoke_invite(
    State(pool): State<PgPool>,
    auth: AuthUser,
    Path((community, code)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    auth.require_write()?;
    let community_id = resolve(&pool, &community).await?;
    require_admin(community_role(&pool, community_id, auth.id()).await?)?;
    if db::invites::revoke(&pool, community_id, &code).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(ErrorCode::InviteNotFound, "there is no such open invite"))
    }
}
