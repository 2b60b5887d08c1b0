//! `GET|PATCH /api/me`: the caller, their communities, the public channels they joined and
//! their private channels / DMs; `GET /api/me/security-log`: their logins, logouts and API
//! tokens, with the address and user agent.

use ajet_shared::api::ErrorCode;
use ajet_shared::api::paths;
use ajet_shared::api::wire::{ChannelKind, Me, Page, PageInfo, SecurityEvent, UpdateMeRequest, User};
use ajet_shared::db::{self, PgPool};
use ajet_shared::domain::DisplayName;
use axum::Json;
use axum::extract::State;

use crate::error::{ApiError, ApiResult};
use crate::extract::{AuthUser, Body};
use ajet_shared::api::ErrorBody;

#[utoipa::path(get, path = paths::ME, tag = "api", summary = "The caller, their communities, joined public channels, private channels and DMs", responses((status = 200, description = "the caller", body = Me), (status = 401, description = "not signed in", body = ErrorBody)), security(("bearer" = [])))]
pub async fn get_me(State(pool): State<PgPool>, auth: AuthUser) -> ApiResult<Json<Me>> {
    auth.require_read()?;
    let user = db::users::get(&pool, auth.id())
        .await?
        .ok_or_else(|| ApiError::unauthorized("this account no longer exists"))?;
    let communities = db::communities::list_for_user(&pool, auth.id()).await?;
    let (public_channels, private_channels) =
        db::channels::memberships(&pool, auth.id()).await?.into_iter().partition(|c| c.kind == ChannelKind::Public);
    Ok(Json(Me { user, communities, private_channels, public_channels }))
}

#[utoipa::path(patch, path = paths::ME, tag = "api", summary = "Change the display name", request_body = UpdateMeRequest, responses((status = 200, description = "updated", body = User), (status = 400, description = "invalid input (the message names the field)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 422, description = "too long", body = ErrorBody)), security(("bearer" = [])))]
pub async fn update_me(
    State(pool): State<PgPool>,
    auth: AuthUser,
    Body(request): Body<UpdateMeRequest>,
) -> ApiResult<Json<User>> {
    auth.require_write()?;
    let Some(raw) = request.display_name.as_deref() else {
        let user = db::users::get(&pool, auth.id())
            .await?
            .ok_or_else(|| ApiError::unauthorized("this account no longer exists"))?;
        return Ok(Json(user));
    };
    let display_name = DisplayName::parse("display_name", raw)?;
    let user = db::users::set_display_name(&pool, auth.id(), &display_name)
        .await?
        .ok_or_else(|| ApiError::unauthorized("this account no longer exists"))?;
    Ok(Json(user))
}

#[utoipa::path(get, path = paths::ME_SECURITY_LOG, tag = "api", summary = "My security log: logins, logouts and API tokens, newest first", description = "The caller's last 100 rows of the audit log that belong to no community: `auth.login` (with the provider — `dev`, an OAuth provider, `cli` — and the user agent), `auth.logout`, `token.create`, `token.revoke`, each with the client address the gateway saw. Needs a session or a token with the `admin` scope.", responses((status = 200, description = "newest first", body = Page<SecurityEvent>), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "needs the admin scope", body = ErrorBody)), security(("bearer" = [])))]
pub async fn get_security_log(State(pool): State<PgPool>, auth: AuthUser) -> ApiResult<Json<Page<SecurityEvent>>> {
    if !auth.0.scopes.admin {
        return Err(ApiError::forbidden(
            ErrorCode::InsufficientScope,
            "the security log needs a session or a token with the `admin` scope",
        ));
    }
    let data = db::audit::security_log(&pool, auth.id()).await?;
    Ok(Json(Page { data, page: PageInfo::default() }))
}
