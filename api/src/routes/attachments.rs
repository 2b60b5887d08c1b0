//! Attachments: `POST /api/channels/{id}/attachments` streams a multipart upload (field
//! `file`) into object storage, never holding more than one 5 MiB part of it, refusing it
//! past `attachment_max_bytes` or the uploader's quota (413) and sniffing its type from its first bytes (what the
//! client declares is ignored); `GET /api/attachments/{id}` re-checks that the caller may
//! read the channel now and streams the object back with headers that keep a browser from
//! running it: only PNG, JPEG, GIF and WebP are ever shown inline. Such an image, when the
//! whole of it arrived in the first part and its header promises a bounded size, gets a
//! small PNG thumbnail, decoded off the async threads, stored beside it and served by
//! `GET /api/attachments/{id}/thumbnail` under the same checks.

use std::sync::Arc;

use ajet_shared::api::wire::Attachment;
use ajet_shared::api::{ErrorBody, ErrorCode, paths};
use ajet_shared::chat::ChatError;
use ajet_shared::chat::attachments::{may_upload, quota_left, readable, record_upload};
use ajet_shared::config::Config;
use ajet_shared::db::PgPool;
use ajet_shared::db::attachments::NewAttachment;
use ajet_shared::domain::ids::{AttachmentId, ChannelId};
use ajet_shared::domain::media::sniff;
use axum::Json;
use axum::body::Body as ResponseBody;
use axum::extract::multipart::{Field, MultipartRejection};
use axum::extract::{Multipart, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};

use crate::error::{ApiError, ApiResult};
use crate::extract::{AuthUser, Path};
use crate::storage::Storage;

/// S3's smallest part but the last; also the most of an upload held in memory at once.
const PART_BYTES: usize = 5 * 1024 * 1024;

/// A thumbnail fits in a square of this many pixels.
const THUMBNAIL_SIDE: u32 = 256;
/// Images larger than this (either side, or in pixels) get no thumbnail: decoding them
/// would take too much memory (a decompression bomb is a small file claiming a huge size).
const THUMBNAIL_MAX_SIDE: u32 = 8192;
const THUMBNAIL_MAX_PIXELS: u64 = 24_000_000;
/// The most the decoder may allocate for one thumbnail.
const THUMBNAIL_MAX_ALLOC: u64 = 128 * 1024 * 1024;

/// The multipart form of an upload (for the description).
#[derive(utoipa::ToSchema)]
#[expect(dead_code, reason = "only describes the form")]
pub struct UploadForm {
    /// The file; its name is kept (sanitised), its declared type ignored.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

fn invalid_upload(message: impl Into<String>) -> ApiError {
    ApiError::bad_request(ErrorCode::InvalidUpload, message)
}

/// How large this upload may grow: the smaller of `attachment_max_bytes` and what is
/// left of the uploader's quota, each refused with its own code.
#[derive(Clone, Copy, Debug)]
struct Limit {
    max: u64,
    quota: u64,
    quota_left: u64,
}

impl Limit {
    fn check(self, total: u64) -> Result<(), ApiError> {
        if total > self.max {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::AttachmentTooLarge,
                format!("file: larger than the {} bytes an attachment may be", self.max),
            ));
        }
        if total > self.quota_left {
            return Err(ChatError::AttachmentQuotaExceeded { quota: self.quota, remaining: self.quota_left }.into());
        }
        Ok(())
    }
}

/// Types a browser may show inline without running anything.
fn shown_inline(content_type: &str) -> bool {
    matches!(content_type, "image/png" | "image/jpeg" | "image/gif" | "image/webp")
}

/// A PNG of `bytes` (a whole `content_type` image, `dimensions` by its header) scaled to
/// fit `THUMBNAIL_SIDE`; `None` when it is not a raster type, too large to decode safely,
/// or does not decode. Runs on the blocking pool.
async fn thumbnail(bytes: Bytes, content_type: &str, dimensions: Option<(i32, i32)>) -> Option<Bytes> {
    let format = match content_type {
        "image/png" => image::ImageFormat::Png,
        "image/jpeg" => image::ImageFormat::Jpeg,
        "image/gif" => image::ImageFormat::Gif,
        "image/webp" => image::ImageFormat::WebP,
        _ => return None,
    };
    let (width, height) = dimensions?;
    let (width, height) = (u32::try_from(width).ok()?, u32::try_from(height).ok()?);
    if width > THUMBNAIL_MAX_SIDE
        || height > THUMBNAIL_MAX_SIDE
        || u64::from(width) * u64::from(height) > THUMBNAIL_MAX_PIXELS
    {
        return None;
    }
    let rendered = tokio::task::spawn_blocking(move || render_thumbnail(&bytes, format)).await;
    match rendered {
        Ok(Ok(png)) => Some(Bytes::from(png)),
        Ok(Err(err)) => {
            tracing::debug!(error = %err, "no thumbnail: the image does not decode");
            None
        }
        Err(err) => {
            tracing::warn!(error = %err, "thumbnail task failed");
            None
        }
    }
}

/// Decodes under limits (whatever the header claimed) and encodes the scaled PNG.
fn render_thumbnail(bytes: &[u8], format: image::ImageFormat) -> Result<Vec<u8>, image::ImageError> {
    let mut reader = image::ImageReader::with_format(std::io::Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(THUMBNAIL_MAX_SIDE);
    limits.max_image_height = Some(THUMBNAIL_MAX_SIDE);
    limits.max_alloc = Some(THUMBNAIL_MAX_ALLOC);
    reader.limits(limits);
    let small = reader.decode()?.thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE);
    let mut png = std::io::Cursor::new(Vec::new());
    small.write_to(&mut png, image::ImageFormat::Png)?;
    Ok(png.into_inner())
}

/// The client's file name reduced to a plain one: its last path segment, without control
/// characters, at most 255 characters; `file` when nothing is left.
#[must_use]
pub fn sanitise_filename(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last.chars().filter(|c| !c.is_control()).take(255).collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." { "file".to_owned() } else { cleaned.to_owned() }
}

/// A file name safe in an object key: ASCII letters, digits, `.`, `-`, `_`.
fn key_segment(filename: &str) -> String {
    let safe: String = filename
        .chars()
        .take(100)
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' })
        .collect();
    if safe.trim_matches('.').is_empty() { "file".to_owned() } else { safe }
}

/// `Content-Disposition` with an ASCII fallback name and the exact one (RFC 6266/5987).
fn disposition(kind: &str, filename: &str) -> String {
    let fallback: String = filename
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' })
        .collect();
    let mut encoded = String::new();
    for byte in filename.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("{kind}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

/// Reads the field until `buffer` holds `PART_BYTES` or the field ends; counts into `total`.
async fn fill(field: &mut Field<'_>, buffer: &mut BytesMut, total: &mut u64, limit: Limit) -> Result<bool, ApiError> {
    while buffer.len() < PART_BYTES {
        let chunk = field.chunk().await.map_err(|err| invalid_upload(format!("file: {}", err.body_text())))?;
        let Some(chunk) = chunk else { return Ok(false) };
        *total += chunk.len() as u64;
        limit.check(*total)?;
        buffer.extend_from_slice(&chunk);
    }
    Ok(true)
}

/// Streams the rest of the field to the store as a multipart upload whose first part is
/// `first`; answers the total size.
async fn stream_parts(
    storage: &Storage,
    key: &str,
    upload_id: &str,
    field: &mut Field<'_>,
    first: Bytes,
    mut total: u64,
    limit: Limit,
) -> Result<u64, ApiError> {
    let mut parts = vec![storage.upload_part(key, upload_id, 1, first).await.map_err(ApiError::internal)?];
    let mut more = true;
    while more {
        let mut buffer = BytesMut::with_capacity(PART_BYTES);
        more = fill(field, &mut buffer, &mut total, limit).await?;
        if buffer.is_empty() {
            break;
        }
        let number = i32::try_from(parts.len() + 1).map_err(ApiError::internal)?;
        parts.push(storage.upload_part(key, upload_id, number, buffer.freeze()).await.map_err(ApiError::internal)?);
    }
    storage.complete_upload(key, upload_id, parts).await.map_err(ApiError::internal)?;
    Ok(total)
}

#[utoipa::path(post, path = paths::CHANNEL_ATTACHMENTS, tag = "api", summary = "Upload a file into a channel (multipart, field `file`); attach it to a message by its id", request_body(content = UploadForm, content_type = "multipart/form-data"), responses((status = 201, description = "stored", body = Attachment), (status = 400, description = "not a multipart body with a `file` field", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed to post here", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody), (status = 409, description = "the channel is archived", body = ErrorBody), (status = 413, description = "larger than `attachment_max_bytes` (`attachment_too_large`) or than what is left of the uploader's `attachment_quota_bytes` (`attachment_quota_exceeded`); nothing is stored", body = ErrorBody)), security(("bearer" = [])))]
pub async fn upload_attachment(
    State(pool): State<PgPool>,
    State(config): State<Arc<Config>>,
    State(storage): State<Storage>,
    auth: AuthUser,
    Path(channel_id): Path<ChannelId>,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, Json<Attachment>)> {
    auth.require_write()?;
    let channel = may_upload(&pool, auth.id(), channel_id).await?;
    let mut multipart = multipart.map_err(|err| invalid_upload(err.body_text()))?;
    let mut field = loop {
        match multipart.next_field().await.map_err(|err| invalid_upload(err.body_text()))? {
            Some(field) if field.name() == Some("file") => break field,
            Some(_) => {}
            None => return Err(invalid_upload("file: missing; send the file in a multipart field named `file`")),
        }
    };
    let filename = sanitise_filename(field.file_name().unwrap_or("file"));
    let id = AttachmentId::generate();
    let scope = channel.community_id.map_or_else(|| "dm".to_owned(), |community| community.to_string());
    let key = format!("{scope}/{}/{id}/{}", channel.id, key_segment(&filename));
    let quota = config.attachment_quota_bytes;
    let limit =
        Limit { max: config.attachment_max_bytes, quota, quota_left: quota_left(&pool, auth.id(), quota).await? };

    let mut head = BytesMut::with_capacity(64 * 1024);
    let mut total = 0;
    let more = fill(&mut field, &mut head, &mut total, limit).await?;
    let content_type = sniff(&head[..head.len().min(4096)]);
    let dimensions = if content_type.starts_with("image/") && content_type != "image/svg+xml" {
        imagesize::blob_size(&head).ok().and_then(|size| {
            let width = i32::try_from(size.width).ok().filter(|w| *w > 0)?;
            let height = i32::try_from(size.height).ok().filter(|h| *h > 0)?;
            Some((width, height))
        })
    } else {
        None
    };
    let head = head.freeze();
    // Only an image that arrived whole in the first part is rendered (it is in memory).
    let thumbnail = if more { None } else { thumbnail(head.clone(), content_type, dimensions).await };
    let thumbnail_key = format!("{scope}/{}/{id}/thumbnail/{THUMBNAIL_SIDE}.png", channel.id);
    if let Some(png) = thumbnail.clone() {
        storage.put(&thumbnail_key, "image/png", png).await.map_err(ApiError::internal)?;
    }
    let stored_keys = || {
        let mut keys = vec![key.clone()];
        keys.extend(thumbnail.is_some().then(|| thumbnail_key.clone()));
        keys
    };
    if more {
        let upload_id = storage.start_upload(&key, content_type).await.map_err(ApiError::internal)?;
        match stream_parts(&storage, &key, &upload_id, &mut field, head, total, limit).await {
            Ok(size) => total = size,
            Err(err) => {
                if let Err(abort) = storage.abort_upload(&key, &upload_id).await {
                    tracing::warn!(error = %abort, key, "abandoned upload not aborted");
                }
                return Err(err);
            }
        }
    } else {
        storage.put(&key, content_type, head).await.map_err(ApiError::internal)?;
    }
    let new = NewAttachment {
        id,
        channel_id: channel.id,
        uploader_id: auth.id(),
        filename: &filename,
        content_type,
        size_bytes: i64::try_from(total).map_err(ApiError::internal)?,
        storage_key: &key,
        dimensions,
        thumbnail_key: thumbnail.is_some().then_some(thumbnail_key.as_str()),
    };
    match record_upload(&pool, &new, quota).await {
        Ok(attachment) => Ok((StatusCode::CREATED, Json(attachment))),
        Err(err) => {
            if let Err(delete) = storage.delete(&stored_keys()).await {
                tracing::warn!(error = %delete, key, "unrecorded upload not deleted");
            }
            Err(err.into())
        }
    }
}

#[utoipa::path(get, path = paths::ATTACHMENT, tag = "api", summary = "Download an attachment (if the caller may read its channel now); only PNG, JPEG, GIF and WebP inline", responses((status = 200, description = "the file, as `Content-Type` says", content_type = "application/octet-stream", body = Vec<u8>), (status = 400, description = "invalid input", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible", body = ErrorBody)), security(("bearer" = [])))]
pub async fn download_attachment(
    State(pool): State<PgPool>,
    State(storage): State<Storage>,
    auth: AuthUser,
    Path(id): Path<AttachmentId>,
) -> ApiResult<Response> {
    auth.require_read()?;
    let stored = readable(&pool, auth.id(), id).await?;
    let attachment = &stored.attachment;
    // A sweep deletes the object just before the row: read in between, it is gone too.
    let stream = storage
        .get_stream(&stored.storage_key)
        .await
        .map_err(ApiError::internal)?
        .ok_or(ChatError::AttachmentNotFound)?;
    let kind = if shown_inline(&attachment.content_type) { "inline" } else { "attachment" };
    let header = |value: String| HeaderValue::from_str(&value).map_err(ApiError::internal);
    let mut response = ResponseBody::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, header(attachment.content_type.clone())?);
    headers.insert(header::CONTENT_LENGTH, header(attachment.size_bytes.to_string())?);
    headers.insert(header::CONTENT_DISPOSITION, header(disposition(kind, &attachment.filename))?);
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    Ok(response)
}

#[utoipa::path(get, path = paths::ATTACHMENT_THUMBNAIL, tag = "api", summary = "An image attachment's thumbnail (a PNG within 256×256), under the download's checks", responses((status = 200, description = "the PNG", content_type = "image/png", body = Vec<u8>), (status = 400, description = "invalid input", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 404, description = "not found or not visible (`attachment_not_found`), or no thumbnail (`thumbnail_not_found`)", body = ErrorBody)), security(("bearer" = [])))]
pub async fn download_thumbnail(
    State(pool): State<PgPool>,
    State(storage): State<Storage>,
    auth: AuthUser,
    Path(id): Path<AttachmentId>,
) -> ApiResult<Response> {
    auth.require_read()?;
    let stored = readable(&pool, auth.id(), id).await?;
    let key = stored.thumbnail_key.ok_or(ChatError::ThumbnailNotFound)?;
    let png = storage.get(&key).await.map_err(ApiError::internal)?.ok_or(ChatError::ThumbnailNotFound)?;
    let name = format!("{}.thumbnail.png", stored.attachment.filename);
    let header = |value: String| HeaderValue::from_str(&value).map_err(ApiError::internal);
    let mut response = png.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
    headers.insert(header::CONTENT_DISPOSITION, header(disposition("inline", &name))?);
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_lose_their_paths_and_control_characters() {
        assert_eq!(sanitise_filename("../../etc/passwd"), "passwd");
        assert_eq!(sanitise_filename("C:\\x\\report\r\n.pdf"), "report.pdf");
        assert_eq!(sanitise_filename(".."), "file");
        assert_eq!(key_segment("rapport été.pdf"), "rapport__t_.pdf");
        assert_eq!(
            disposition("attachment", "é\".txt"),
            "attachment; filename=\"__.txt\"; filename*=UTF-8''%C3%A9%22.txt"
        );
    }
}
