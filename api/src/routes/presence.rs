//! Presence: heartbeats (answered at once, announced on core NATS) and who is online
//! (seen within the last two minutes).

use ajet_shared::api::ErrorCode;
use ajet_shared::api::paths;
use std::sync::Arc;

use ajet_shared::api::wire::{Page, PageInfo, Presence};
use ajet_shared::db::{self, PgPool};
use ajet_shared::domain::ids::UserId;
use ajet_shared::events::bus::NatsBus;
use ajet_shared::events::subject;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use time::{Duration, OffsetDateTime};

use crate::error::{ApiError, ApiResult};
use crate::extract::{AuthUser, Query};
use ajet_shared::api::ErrorBody;

const ONLINE_WITHIN: Duration = Duration::minutes(2);
const MAX_QUERY: usize = 200;

#[utoipa::path(post, path = paths::HEARTBEAT, tag = "api", summary = "I am here (every 60 s)", responses((status = 204, description = "ok"), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "the token lacks the `write` scope", body = ErrorBody)), security(("bearer" = [])))]
/// Announcing oneself is a write: a read-only token must not make its user look online.
pub async fn heartbeat(
    State(pool): State<PgPool>,
    State(bus): State<Arc<NatsBus>>,
    auth: AuthUser,
) -> ApiResult<StatusCode> {
    auth.require_write()?;
    db::users::touch_presence(&pool, auth.id()).await?;
    let communities = db::communities::list_for_user(&pool, auth.id()).await?;
    let payload =
        serde_json::json!({"user_id": auth.id(), "at": OffsetDateTime::now_utc().unix_timestamp()}).to_string();
    for community in communities {
        // Ephemeral: a lost heartbeat is repaired by the next one.
        if let Err(err) = bus.client().publish(subject::presence(community.id), payload.clone().into()).await {
            tracing::debug!(error = %err, "presence not announced");
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct PresenceQuery {
    user_ids: String,
}

#[utoipa::path(get, path = paths::PRESENCE, tag = "api", summary = "Online (seen < 2 min) or offline", params(("user_ids" = String, Query, description = "comma-separated user ids")), responses((status = 200, description = "ok", body = Page<Presence>), (status = 400, description = "invalid input", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody)), security(("bearer" = [])))]
pub async fn get_presence(
    State(pool): State<PgPool>,
    auth: AuthUser,
    Query(query): Query<PresenceQuery>,
) -> ApiResult<Json<Page<Presence>>> {
    auth.require_read()?;
    let ids = query
        .user_ids
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::parse::<UserId>)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| {
            ApiError::bad_request(ErrorCode::InvalidUserIds, "user_ids: a comma-separated list of user ids")
        })?;
    if ids.len() > MAX_QUERY {
        return Err(ApiError::bad_request(
            ErrorCode::TooManyUserIds,
            format!("user_ids: at most {MAX_QUERY} at a time"),
        ));
    }
    // Only people the caller shares a community or channel with; others read as unknown
    // (offline, never seen), so presence leaks nothing about strangers.
    let visible = db::users::visible_to(&pool, auth.id(), &ids).await?;
    let seen = db::users::last_seen(&pool, &visible).await?;
    let now = OffsetDateTime::now_utc();
    let data = ids
        .iter()
        .map(|id| {
            let last_seen_at = seen.iter().find(|(user, _)| user == id).map(|(_, at)| *at);
            Presence { user_id: *id, online: last_seen_at.is_some_and(|at| now - at < ONLINE_WITHIN), last_seen_at }
        })
        .collect();
    Ok(Json(Page { data, page: PageInfo::default() }))
}
