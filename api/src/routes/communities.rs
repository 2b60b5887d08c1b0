//! Communities: create (the creator becomes owner, with a `#general` channel), list mine,
//! get (by id or slug), update (admins), and list members.

use ajet_shared::api::ErrorCode;
use ajet_shared::api::paths;
use ajet_shared::api::wire::{
    Community, CommunityMember, CreateCommunityRequest, Page, PageInfo, UpdateCommunityRequest,
};
use ajet_shared::chat;
use ajet_shared::chat::access::community_role;
use ajet_shared::db::{self, PgPool};
use ajet_shared::domain::ids::CommunityId;
use ajet_shared::domain::names::optional_text;
use ajet_shared::domain::{CommunityName, Slug};
use ajet_shared::events::bus::NatsBus;
use ajet_shared::outbox::OutboxRelay;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use crate::error::{ApiError, ApiResult};
use crate::extract::{AuthUser, Body, Path};
use ajet_shared::api::ErrorBody;

/// Longest description, in characters (the schema's limit).
const DESCRIPTION_MAX_CHARS: usize = 1024;

fn description(raw: Option<&str>) -> Result<Option<&str>, ApiError> {
    Ok(optional_text("description", ErrorCode::DescriptionTooLong, raw, DESCRIPTION_MAX_CHARS)?)
}

/// A community path segment: its id, or its slug.
pub async fn resolve(pool: &PgPool, id_or_slug: &str) -> Result<CommunityId, ApiError> {
    if let Ok(id) = id_or_slug.parse::<CommunityId>() {
        return Ok(id);
    }
    db::communities::id_by_slug(pool, id_or_slug)
        .await?
        .ok_or_else(|| ApiError::not_found(ErrorCode::CommunityNotFound, "there is no such community"))
}

#[utoipa::path(get, path = paths::COMMUNITIES, tag = "api", summary = "The communities I belong to", responses((status = 200, description = "mine", body = Page<Community>), (status = 401, description = "not signed in", body = ErrorBody)), security(("bearer" = [])))]
pub async fn list_communities(State(pool): State<PgPool>, auth: AuthUser) -> ApiResult<Json<Page<Community>>> {
    auth.require_read()?;
    let data = db::communities::list_for_user(&pool, auth.id()).await?;
    Ok(Json(Page { data, page: PageInfo::default() }))
}

#[utoipa::path(post, path = paths::COMMUNITIES, tag = "api", summary = "Create a community", request_body = CreateCommunityRequest, responses((status = 201, description = "created; I am its owner", body = Community), (status = 400, description = "invalid input (the message names the field)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 422, description = "too long", body = ErrorBody)), security(("bearer" = [])))]
pub async fn create_community(
    State(pool): State<PgPool>,
    State(relay): State<OutboxRelay<NatsBus>>,
    auth: AuthUser,
    Body(request): Body<CreateCommunityRequest>,
) -> ApiResult<(StatusCode, Json<Community>)> {
    auth.require_write()?;
    let name = CommunityName::parse("name", &request.name)?;
    let slug = Slug::parse("slug", &request.slug)?;
    let description = description(request.description.as_deref())?;
    let community = chat::communities::create_community(&pool, auth.id(), &name, &slug, description).await?;
    Ok((StatusCode::CREATED, Json(community.wake(&relay))))
}

#[utoipa::path(get, path = paths::COMMUNITY, tag = "api", summary = "A community by id or slug", responses((status = 200, description = "ok", body = Community), (status = 400, description = "invalid input", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody)), security(("bearer" = [])))]
pub async fn get_community(
    State(pool): State<PgPool>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Community>> {
    auth.require_read()?;
    let id = resolve(&pool, &id).await?;
    community_role(&pool, id, auth.id()).await?;
    let community = db::communities::get_for_member(&pool, id, auth.id())
        .await?
        .ok_or_else(|| ApiError::not_found(ErrorCode::CommunityNotFound, "there is no such community"))?;
    Ok(Json(community))
}

#[utoipa::path(patch, path = paths::COMMUNITY, tag = "api", summary = "Rename or describe a community, or switch its link previews off or on (admins)", request_body = UpdateCommunityRequest, responses((status = 200, description = "ok", body = Community), (status = 400, description = "invalid input (the message names the field)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 422, description = "too long", body = ErrorBody)), security(("bearer" = [])))]
pub async fn update_community(
    State(pool): State<PgPool>,
    State(relay): State<OutboxRelay<NatsBus>>,
    auth: AuthUser,
    Path(id): Path<String>,
    Body(request): Body<UpdateCommunityRequest>,
) -> ApiResult<Json<Community>> {
    auth.require_write()?;
    let id = resolve(&pool, &id).await?;
    let name = request.name.as_deref().map(|n| CommunityName::parse("name", n)).transpose()?;
    let description = match request.description.as_deref() {
        None => None,
        Some(raw) => Some(description(Some(raw))?),
    };
    let community =
        chat::communities::update_community(&pool, auth.id(), id, name.as_ref(), description, request.link_previews)
            .await?;
    Ok(Json(community.wake(&relay)))
}

#[utoipa::path(get, path = paths::COMMUNITY_MEMBERS, tag = "api", summary = "Members with roles and nicknames", responses((status = 200, description = "ok", body = Page<CommunityMember>), (status = 400, description = "invalid input", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody)), security(("bearer" = [])))]
pub async fn list_members(
    State(pool): State<PgPool>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Page<CommunityMember>>> {
    auth.require_read()?;
    let id = resolve(&pool, &id).await?;
    community_role(&pool, id, auth.id()).await?;
    let data = db::communities::members(&pool, id).await?;
    Ok(Json(Page { data, page: PageInfo::default() }))
}
