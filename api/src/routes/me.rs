//! `GET /api/me`: the caller and their communities.

use ajet_shared::api::wire::Me;
use ajet_shared::db::{self, PgPool};
use axum::Json;
use axum::extract::State;

use crate::error::{ApiError, ApiResult};
use crate::extract::AuthUser;

pub async fn get_me(State(pool): State<PgPool>, auth: AuthUser) -> ApiResult<Json<Me>> {
    auth.require_read()?;
    let user = db::users::get(&pool, auth.id())
        .await?
        .ok_or_else(|| ApiError::unauthorized("this account no longer exists"))?;
    let communities = db::communities::list_for_user(&pool, auth.id()).await?;
    Ok(Json(Me { user, communities }))
}
