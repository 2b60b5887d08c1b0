//! Avatars through the attachment store: `PUT /api/me/avatar` takes a multipart `file` of
//! at most 1 MiB whose bytes are a PNG, JPEG, GIF or WebP (the type is sniffed, never the
//! client's), stores it at `avatars/users/<id>` and points the user's `avatar_url` at
//! `GET /api/users/{id}/avatar` (with a version, so caches see a change); `DELETE` removes
//! both. The image is served only to whoever shares a community or a conversation with
//! its user, inline (a raster image runs nothing) with `nosniff` and a sandbox CSP. A
//! webhook's avatar works the same way (`PUT /api/webhooks/{id}/avatar` by its community's
//! admins, at `avatars/webhooks/<id>`, served to the community's members).

use ajet_shared::api::paths;
use ajet_shared::api::wire::{User, WebhookInfo};
use ajet_shared::api::{ErrorBody, ErrorCode};
use ajet_shared::chat;
use ajet_shared::chat::ChatError;
use ajet_shared::chat::attachments::{avatar_visible, set_avatar};
use ajet_shared::config::Config;
use ajet_shared::db::PgPool;
use ajet_shared::domain::ids::{UserId, WebhookId};
use ajet_shared::domain::media::{AVATAR_MAX_BYTES, is_avatar_type, sniff};
use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use std::sync::Arc;

use super::attachments::UploadForm;
use crate::error::{ApiError, ApiResult};
use crate::extract::{AuthUser, Path, TraceId};
use crate::storage::Storage;

fn key(user: UserId) -> String {
    format!("avatars/users/{user}")
}

fn invalid_upload(message: impl Into<String>) -> ApiError {
    ApiError::bad_request(ErrorCode::InvalidUpload, message)
}

/// The image in the multipart field `file`: at most `AVATAR_MAX_BYTES`, and a PNG, JPEG,
/// GIF or WebP by its bytes; answers its type and bytes.
async fn read_image(multipart: Result<Multipart, MultipartRejection>) -> ApiResult<(&'static str, Bytes)> {
    let mut multipart = multipart.map_err(|err| invalid_upload(err.body_text()))?;
    let mut field = loop {
        match multipart.next_field().await.map_err(|err| invalid_upload(err.body_text()))? {
            Some(field) if field.name() == Some("file") => break field,
            Some(_) => {}
            None => return Err(invalid_upload("file: missing; send the image in a multipart field named `file`")),
        }
    };
    let mut bytes = BytesMut::new();
    while let Some(chunk) = field.chunk().await.map_err(|err| invalid_upload(format!("file: {}", err.body_text())))? {
        if bytes.len() + chunk.len() > AVATAR_MAX_BYTES {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::PayloadTooLarge,
                format!("file: an avatar is at most {AVATAR_MAX_BYTES} bytes"),
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    let content_type = sniff(&bytes[..bytes.len().min(4096)]);
    if !is_avatar_type(content_type) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            format!("file: an avatar is a PNG, JPEG, GIF or WebP image, not {content_type}"),
        ));
    }
    Ok((content_type, bytes.freeze()))
}

/// The stored image at `key` with the headers every avatar carries.
async fn serve(storage: &Storage, key: &str) -> ApiResult<Response> {
    let image = storage.get(key).await.map_err(ApiError::internal)?.ok_or(ChatError::AvatarNotFound)?;
    let content_type = sniff(&image[..image.len().min(4096)]);
    let mut response = image.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("inline"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=86400"));
    Ok(response)
}

/// Our own URL of an avatar at `path`, versioned so caches see a change.
fn versioned(config: &Config, path: &str) -> String {
    let version = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
    format!("{}{path}?v={version}", config.public_url.trim_end_matches('/'))
}

#[utoipa::path(put, path = paths::ME_AVATAR, tag = "api", summary = "Upload my avatar (multipart `file`: a PNG, JPEG, GIF or WebP of at most 1 MiB)", request_body(content = UploadForm, content_type = "multipart/form-data"), responses((status = 200, description = "me, `avatar_url` pointing at the new image", body = User), (status = 400, description = "not a multipart body with a `file` field", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 413, description = "larger than 1 MiB", body = ErrorBody), (status = 415, description = "not a PNG, JPEG, GIF or WebP", body = ErrorBody)), security(("bearer" = [])))]
pub async fn put_avatar(
    State(pool): State<PgPool>,
    State(config): State<Arc<Config>>,
    State(storage): State<Storage>,
    auth: AuthUser,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<Json<User>> {
    auth.require_write()?;
    let (content_type, bytes) = read_image(multipart).await?;
    storage.put(&key(auth.id()), content_type, bytes).await.map_err(ApiError::internal)?;
    let url = versioned(&config, &paths::user_avatar(auth.id()));
    Ok(Json(set_avatar(&pool, auth.id(), Some(&url)).await?))
}

#[utoipa::path(delete, path = paths::ME_AVATAR, tag = "api", summary = "Remove my avatar", responses((status = 200, description = "me, without an avatar", body = User), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody)), security(("bearer" = [])))]
pub async fn delete_avatar(
    State(pool): State<PgPool>,
    State(storage): State<Storage>,
    auth: AuthUser,
) -> ApiResult<Json<User>> {
    auth.require_write()?;
    let user = set_avatar(&pool, auth.id(), None).await?;
    storage.delete(&[key(auth.id())]).await.map_err(ApiError::internal)?;
    Ok(Json(user))
}

#[utoipa::path(get, path = paths::USER_AVATAR, tag = "api", summary = "A user's uploaded avatar (to whoever shares a community or a conversation with them)", responses((status = 200, description = "the image", content((Vec<u8> = "image/png"), (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/gif"), (Vec<u8> = "image/webp"))), (status = 400, description = "invalid input", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "no avatar, or not visible (`avatar_not_found`)", body = ErrorBody)), security(("bearer" = [])))]
pub async fn get_avatar(
    State(pool): State<PgPool>,
    State(storage): State<Storage>,
    auth: AuthUser,
    Path(user): Path<UserId>,
) -> ApiResult<Response> {
    auth.require_read()?;
    avatar_visible(&pool, auth.id(), user).await?;
    serve(&storage, &key(user)).await
}

fn webhook_key(webhook: WebhookId) -> String {
    format!("avatars/webhooks/{webhook}")
}

#[utoipa::path(put, path = paths::WEBHOOK_AVATAR, tag = "api", summary = "Upload a webhook's avatar (admins; multipart `file`: a PNG, JPEG, GIF or WebP of at most 1 MiB)", request_body(content = UploadForm, content_type = "multipart/form-data"), responses((status = 200, description = "the webhook, `avatar_url` pointing at the new image", body = WebhookInfo), (status = 400, description = "not a multipart body with a `file` field", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not an admin", body = ErrorBody), (status = 404, description = "no such webhook, or not visible", body = ErrorBody), (status = 413, description = "larger than 1 MiB", body = ErrorBody), (status = 415, description = "not a PNG, JPEG, GIF or WebP", body = ErrorBody)), security(("bearer" = [])))]
pub async fn put_webhook_avatar(
    State(pool): State<PgPool>,
    State(config): State<Arc<Config>>,
    State(storage): State<Storage>,
    auth: AuthUser,
    trace: TraceId,
    Path(id): Path<WebhookId>,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<Json<WebhookInfo>> {
    auth.require_write()?;
    // Who may change it, before reading anything it sent.
    chat::webhooks::may_manage(&pool, auth.id(), id).await?;
    let (content_type, bytes) = read_image(multipart).await?;
    storage.put(&webhook_key(id), content_type, bytes).await.map_err(ApiError::internal)?;
    let url = versioned(&config, &paths::webhook_avatar(id));
    let webhook = chat::webhooks::set_webhook_avatar(&pool, trace.actor(&auth), id, &url).await?;
    Ok(Json(webhook.into()))
}

#[utoipa::path(delete, path = paths::WEBHOOK_AVATAR, tag = "api", summary = "Remove a webhook's avatar (admins)", responses((status = 200, description = "the webhook without an avatar (also when it had none: then nothing changes and nothing is audited)", body = WebhookInfo), (status = 400, description = "invalid input", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not an admin", body = ErrorBody), (status = 404, description = "no such webhook, or not visible", body = ErrorBody)), security(("bearer" = [])))]
pub async fn delete_webhook_avatar(
    State(pool): State<PgPool>,
    State(storage): State<Storage>,
    auth: AuthUser,
    trace: TraceId,
    Path(id): Path<WebhookId>,
) -> ApiResult<Json<WebhookInfo>> {
    auth.require_write()?;
    let (webhook, removed) = chat::webhooks::remove_webhook_avatar(&pool, trace.actor(&auth), id).await?;
    if removed {
        storage.delete(&[webhook_key(id)]).await.map_err(ApiError::internal)?;
    }
    Ok(Json(webhook.into()))
}

#[utoipa::path(get, path = paths::WEBHOOK_AVATAR, tag = "api", summary = "A webhook's uploaded avatar (to its community's members)", responses((status = 200, description = "the image", content((Vec<u8> = "image/png"), (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/gif"), (Vec<u8> = "image/webp"))), (status = 400, description = "invalid input", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "no avatar set (none uploaded, or removed), or not visible (`avatar_not_found`)", body = ErrorBody)), security(("bearer" = [])))]
pub async fn get_webhook_avatar(
    State(pool): State<PgPool>,
    State(storage): State<Storage>,
    auth: AuthUser,
    Path(id): Path<WebhookId>,
) -> ApiResult<Response> {
    auth.require_read()?;
    chat::webhooks::avatar_visible(&pool, auth.id(), id).await?;
    serve(&storage, &webhook_key(id)).await
}
