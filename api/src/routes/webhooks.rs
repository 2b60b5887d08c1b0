//! Incoming webhooks, managed by a community's admins: created bound to one of its
//! channels (the URL with the secret token is shown once; only its SHA-256 is kept), listed
//! and revoked, with each one's delivery log. A webhook is about its channel: a private channel's webhooks exist only
//! for admins who can read that channel. Posting to them is the gateway's
//! (`POST /hook/{id}/{token}`).

use ajet_shared::api::ErrorCode;
use ajet_shared::api::paths;
use std::sync::Arc;

use ajet_shared::api::ErrorBody;
use ajet_shared::api::wire::{
    CreateWebhookRequest, CreatedWebhook, Page, PageInfo, WebhookDelivery, WebhookInfo, WebhookQuery,
};
use ajet_shared::auth::hash_token;
use ajet_shared::chat;
use ajet_shared::chat::Actor;
use ajet_shared::chat::webhooks::WebhookSpec;
use ajet_shared::config::Config;
use ajet_shared::db::PgPool;
use ajet_shared::domain::ids::WebhookId;
use ajet_shared::domain::names::check_label;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use base64::Engine as _;

use crate::error::{ApiError, ApiResult};
use crate::extract::{AuthUser, Body, Path, Query, TraceId};

const NAME_MAX_CHARS: usize = 80;
const AVATAR_URL_MAX_CHARS: usize = 2048;

#[utoipa::path(post, path = paths::WEBHOOKS, tag = "api", summary = "Create an incoming webhook (admins; its URL is shown once)", request_body = CreateWebhookRequest, responses((status = 201, description = "created", body = CreatedWebhook), (status = 400, description = "invalid input (the message names the field)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not an admin of the channel's community", body = ErrorBody), (status = 404, description = "no such channel, or one the caller cannot read", body = ErrorBody), (status = 409, description = "the channel is archived", body = ErrorBody)), security(("bearer" = [])))]
pub async fn create_webhook(
    State(pool): State<PgPool>,
    State(config): State<Arc<Config>>,
    auth: AuthUser,
    trace: TraceId,
    Body(request): Body<CreateWebhookRequest>,
) -> ApiResult<(StatusCode, Json<CreatedWebhook>)> {
    auth.require_write()?;
    let created = create(&pool, &config, trace.actor(&auth), &request).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Creates a webhook (by an admin of the channel's community) with a fresh token, audited:
/// `POST /api/webhooks` and `/webhook create`. The URL holds the token.
pub(crate) async fn create(
    pool: &PgPool,
    config: &Config,
    actor: Actor<'_>,
    request: &CreateWebhookRequest,
) -> ApiResult<CreatedWebhook> {
    let name = request.name.trim();
    if name.is_empty() || name.chars().count() > NAME_MAX_CHARS {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidName,
            format!("name: must be 1 to {NAME_MAX_CHARS} characters"),
        ));
    }
    check_label("name", name)?;
    let avatar_url = request.avatar_url.as_deref().map(str::trim).filter(|url| !url.is_empty());
    if let Some(url) = avatar_url
        && (url.chars().count() > AVATAR_URL_MAX_CHARS || !(url.starts_with("https://") || url.starts_with("http://")))
    {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidAvatarUrl,
            format!("avatar_url: an http(s) URL of at most {AVATAR_URL_MAX_CHARS} characters"),
        ));
    }
    if let Some(url) = avatar_url {
        check_label("avatar_url", url)?;
    }
    let mut secret = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut secret);
    let token = format!("whk_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret));
    let spec = WebhookSpec { channel: request.channel_id, name, avatar_url, token_hash: &hash_token(&token) };
    let webhook = chat::webhooks::create_webhook(pool, actor, &spec).await?;
    let url = format!("{}/hook/{}/{token}", config.public_url.trim_end_matches('/'), webhook.id.as_uuid());
    Ok(CreatedWebhook { url, token, info: webhook.into() })
}

#[utoipa::path(get, path = paths::WEBHOOKS, tag = "api", summary = "A community's incoming webhooks (admins)", params(WebhookQuery), responses((status = 200, description = "newest first", body = Page<WebhookInfo>), (status = 400, description = "invalid input", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not an admin", body = ErrorBody), (status = 404, description = "no such community", body = ErrorBody)), security(("bearer" = [])))]
pub async fn list_webhooks(
    State(pool): State<PgPool>,
    auth: AuthUser,
    Query(query): Query<WebhookQuery>,
) -> ApiResult<Json<Page<WebhookInfo>>> {
    auth.require_read()?;
    let webhooks = chat::webhooks::list_webhooks(&pool, auth.id(), query.community_id).await?;
    Ok(Json(Page { data: webhooks.into_iter().map(WebhookInfo::from).collect(), page: PageInfo::default() }))
}

#[utoipa::path(delete, path = paths::WEBHOOK, tag = "api", summary = "Revoke an incoming webhook (admins)", responses((status = 204, description = "revoked"), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not an admin", body = ErrorBody), (status = 404, description = "no such live webhook, or one of a channel the caller cannot read", body = ErrorBody)), security(("bearer" = [])))]
pub async fn revoke_webhook(
    State(pool): State<PgPool>,
    auth: AuthUser,
    trace: TraceId,
    Path(id): Path<WebhookId>,
) -> ApiResult<StatusCode> {
    auth.require_write()?;
    chat::webhooks::revoke_webhook(&pool, trace.actor(&auth), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = paths::WEBHOOK_DELIVERIES, tag = "api", summary = "An incoming webhook's last 100 deliveries, accepted or refused (admins)", description = "Every delivery whose webhook id and token were right: when, the status and error code and message the sender was answered, the payload's size and format (`slack` or `github`, with GitHub's event name) and the message it posted. Deliveries with a wrong token are not the webhook's and are not logged. Revoked webhooks keep their log.", responses((status = 200, description = "newest first", body = Page<WebhookDelivery>), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not an admin", body = ErrorBody), (status = 404, description = "no such webhook, or one of a channel the caller cannot read", body = ErrorBody)), security(("bearer" = [])))]
pub async fn list_webhook_deliveries(
    State(pool): State<PgPool>,
    auth: AuthUser,
    Path(id): Path<WebhookId>,
) -> ApiResult<Json<Page<WebhookDelivery>>> {
    auth.require_read()?;
    let deliveries = chat::webhooks::list_deliveries(&pool, auth.id(), id).await?;
    Ok(Json(Page { data: deliveries, page: PageInfo::default() }))
}
