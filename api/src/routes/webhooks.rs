//! Incoming webhooks, managed by a community's admins: created bound to one of its
//! channels (the URL with the secret token is shown once; only its SHA-256 is kept), listed
//! and revoked. A webhook is about its channel: a private channel's webhooks exist only
//! for admins who can read that channel. Posting to them is the gateway's
//! (`POST /hook/{id}/{token}`).

use std::sync::Arc;

use ajet_shared::api::ErrorBody;
use ajet_shared::api::wire::{CreateWebhookRequest, CreatedWebhook, Page, PageInfo, WebhookInfo, WebhookQuery};
use ajet_shared::auth::hash_token;
use ajet_shared::chat::ChatError;
use ajet_shared::chat::access::{channel_access, community_role, require_admin};
use ajet_shared::config::Config;
use ajet_shared::db::audit::AuditEntry;
use ajet_shared::db::webhooks::NewWebhook;
use ajet_shared::db::{self, PgPool};
use ajet_shared::domain::ids::WebhookId;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use base64::Engine as _;

use crate::error::{ApiError, ApiResult};
use crate::extract::{AuthUser, Body, Path, Query};

const NAME_MAX_CHARS: usize = 80;
const AVATAR_URL_MAX_CHARS: usize = 2048;

fn webhook_not_found() -> ApiError {
    ApiError::not_found("webhook_not_found", "there is no such webhook")
}

#[utoipa::path(post, path = "/api/webhooks", tag = "api", summary = "Create an incoming webhook (admins; its URL is shown once)", request_body = CreateWebhookRequest, responses((status = 201, description = "created", body = CreatedWebhook), (status = 400, description = "invalid input (the message names the field)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not an admin of the channel's community", body = ErrorBody), (status = 404, description = "no such channel, or one the caller cannot read", body = ErrorBody)), security(("bearer" = [])))]
pub async fn create_webhook(
    State(pool): State<PgPool>,
    State(config): State<Arc<Config>>,
    auth: AuthUser,
    Body(request): Body<CreateWebhookRequest>,
) -> ApiResult<(StatusCode, Json<CreatedWebhook>)> {
    auth.require_write()?;
    let name = request.name.trim();
    if name.is_empty() || name.chars().count() > NAME_MAX_CHARS {
        return Err(ApiError::bad_request("invalid_name", format!("name: must be 1 to {NAME_MAX_CHARS} characters")));
    }
    let avatar_url = request.avatar_url.as_deref().map(str::trim).filter(|url| !url.is_empty());
    if let Some(url) = avatar_url
        && (url.chars().count() > AVATAR_URL_MAX_CHARS || !(url.starts_with("https://") || url.starts_with("http://")))
    {
        return Err(ApiError::bad_request(
            "invalid_avatar_url",
            format!("avatar_url: an http(s) URL of at most {AVATAR_URL_MAX_CHARS} characters"),
        ));
    }
    // The channel's own visibility first: a private channel the caller is not in does
    // not exist for them, admin or not.
    let channel = channel_access(&pool, request.channel_id, auth.id()).await?.channel;
    let community = channel.community_id.ok_or_else(|| {
        ApiError::bad_request("not_a_community_channel", "channel_id: webhooks post into channels, not DMs")
    })?;
    require_admin(community_role(&pool, community, auth.id()).await?)?;

    let mut secret = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut secret);
    let token = format!("whk_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret));
    let mut tx = pool.begin().await?;
    let webhook = db::webhooks::insert(
        &mut *tx,
        &NewWebhook {
            community,
            channel: channel.id,
            name,
            avatar_url,
            token_hash: &hash_token(&token),
            created_by: Some(auth.id()),
        },
    )
    .await?;
    let entry = AuditEntry {
        community_id: Some(community),
        actor_id: Some(auth.id()),
        action: "webhook.create",
        target: Some(("webhook", webhook.id.as_uuid())),
        details: serde_json::json!({"name": webhook.name, "channel_id": channel.id}),
        ip: None,
    };
    db::audit::record(&mut *tx, &entry).await?;
    tx.commit().await?;
    let url = format!("{}/hook/{}/{token}", config.public_url.trim_end_matches('/'), webhook.id.as_uuid());
    Ok((StatusCode::CREATED, Json(CreatedWebhook { url, token, info: webhook.into() })))
}

#[utoipa::path(get, path = "/api/webhooks", tag = "api", summary = "A community's incoming webhooks (admins)", params(WebhookQuery), responses((status = 200, description = "newest first", body = Page<WebhookInfo>), (status = 400, description = "invalid input", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not an admin", body = ErrorBody), (status = 404, description = "no such community", body = ErrorBody)), security(("bearer" = [])))]
pub async fn list_webhooks(
    State(pool): State<PgPool>,
    auth: AuthUser,
    Query(query): Query<WebhookQuery>,
) -> ApiResult<Json<Page<WebhookInfo>>> {
    auth.require_read()?;
    require_admin(community_role(&pool, query.community_id, auth.id()).await?)?;
    let data = db::webhooks::list_visible(&pool, query.community_id, auth.id())
        .await?
        .into_iter()
        .map(WebhookInfo::from)
        .collect();
    Ok(Json(Page { data, page: PageInfo::default() }))
}

#[utoipa::path(delete, path = "/api/webhooks/{id}", tag = "api", summary = "Revoke an incoming webhook (admins)", params(("id" = String, Path, description = "the webhook id")), responses((status = 204, description = "revoked"), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not an admin", body = ErrorBody), (status = 404, description = "no such live webhook, or one of a channel the caller cannot read", body = ErrorBody)), security(("bearer" = [])))]
pub async fn revoke_webhook(
    State(pool): State<PgPool>,
    auth: AuthUser,
    Path(id): Path<WebhookId>,
) -> ApiResult<StatusCode> {
    auth.require_write()?;
    let webhook = db::webhooks::get(&pool, id).await?.ok_or_else(webhook_not_found)?;
    // A webhook of a channel the caller cannot see does not exist for them.
    channel_access(&pool, webhook.channel_id, auth.id()).await.map_err(|err| match err {
        ChatError::ChannelNotFound => webhook_not_found(),
        _ => ApiError::from(err),
    })?;
    require_admin(community_role(&pool, webhook.community_id, auth.id()).await?)?;
    let mut tx = pool.begin().await?;
    if !db::webhooks::revoke(&mut *tx, id).await? {
        return Err(webhook_not_found());
    }
    let entry = AuditEntry {
        community_id: Some(webhook.community_id),
        actor_id: Some(auth.id()),
        action: "webhook.revoke",
        target: Some(("webhook", id.as_uuid())),
        details: serde_json::json!({"name": webhook.name}),
        ip: None,
    };
    db::audit::record(&mut *tx, &entry).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
