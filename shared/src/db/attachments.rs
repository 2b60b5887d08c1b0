//! The `attachments` table: uploaded files, each in one channel, attached to at most one
//! message once it is sent; what a message lists of them (one mapping for every reader);
//! the uploader's quota; and the sweep of files whose message is deleted or that were
//! never attached.

use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;

use crate::api::wire::Attachment;
use crate::domain::ids::{AttachmentId, ChannelId, MessageId, UserId};

/// An attachment with what only the server needs: its object keys, uploader, message.
#[derive(Clone, Debug)]
pub struct StoredAttachment {
    pub attachment: Attachment,
    pub uploader_id: UserId,
    pub storage_key: String,
    pub thumbnail_key: Option<String>,
    pub message_id: Option<MessageId>,
    /// Its message is deleted: the file is gone for readers and awaits the sweeper.
    pub message_deleted: bool,
}

/// The attachments of the message `m` as a JSON array of `Attachment`, in upload order,
/// empty once it is deleted: the one mapping every reader of messages (history, one
/// message, events, sync, search) selects, decoded as `Json<Vec<Attachment>>`. A macro so
/// the message columns can `concat!` it.
macro_rules! message_attachments {
    () => {
        "CASE WHEN m.deleted_at IS NULL THEN COALESCE((
            SELECT jsonb_agg(jsonb_build_object(
                'id', a.id, 'channel_id', a.channel_id, 'filename', a.filename,
                'content_type', a.content_type, 'size_bytes', a.size_bytes, 'width', a.width,
                'height', a.height, 'has_thumbnail', a.thumbnail_key IS NOT NULL,
                'created_at', a.created_at) ORDER BY a.id)
            FROM attachments a WHERE a.message_id = m.id), '[]'::jsonb) ELSE '[]'::jsonb END AS attachments"
    };
}
pub(crate) use message_attachments;

/// `message_attachments!()` for statements built at run time.
pub(crate) const MESSAGE_ATTACHMENTS: &str = message_attachments!();

#[derive(sqlx::FromRow)]
struct AttachmentRow {
    id: AttachmentId,
    channel_id: ChannelId,
    uploader_id: UserId,
    filename: String,
    content_type: String,
    size_bytes: i64,
    storage_key: String,
    width: Option<i32>,
    height: Option<i32>,
    thumbnail_key: Option<String>,
    message_id: Option<MessageId>,
    message_deleted: bool,
    created_at: OffsetDateTime,
}

impl From<AttachmentRow> for StoredAttachment {
    fn from(row: AttachmentRow) -> Self {
        Self {
            attachment: Attachment {
                id: row.id,
                channel_id: row.channel_id,
                filename: row.filename,
                content_type: row.content_type,
                size_bytes: row.size_bytes,
                width: row.width,
                height: row.height,
                has_thumbnail: row.thumbnail_key.is_some(),
                created_at: row.created_at,
            },
            uploader_id: row.uploader_id,
            storage_key: row.storage_key,
            thumbnail_key: row.thumbnail_key,
            message_id: row.message_id,
            message_deleted: row.message_deleted,
        }
    }
}

const COLUMNS: &str = "id, channel_id, uploader_id, filename, content_type, size_bytes, storage_key, width, height,
    thumbnail_key, message_id, false AS message_deleted, created_at";

/// A new, unattached upload.
#[derive(Clone, Debug)]
pub struct NewAttachment<'a> {
    pub id: AttachmentId,
    pub channel_id: ChannelId,
    pub uploader_id: UserId,
    pub filename: &'a str,
    pub content_type: &'a str,
    pub size_bytes: i64,
    pub storage_key: &'a str,
    pub dimensions: Option<(i32, i32)>,
    pub thumbnail_key: Option<&'a str>,
}

pub async fn insert(db: impl PgExecutor<'_>, new: &NewAttachment<'_>) -> Result<StoredAttachment, sqlx::Error> {
    let row: AttachmentRow = sqlx::query_as(&format!(
        "INSERT INTO attachments
             (id, channel_id, uploader_id, filename, content_type, size_bytes, storage_key, width, height, thumbnail_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {COLUMNS}"
    ))
    .bind(new.id)
    .bind(new.channel_id)
    .bind(new.uploader_id)
    .bind(new.filename)
    .bind(new.content_type)
    .bind(new.size_bytes)
    .bind(new.storage_key)
    .bind(new.dimensions.map(|(width, _)| width))
    .bind(new.dimensions.map(|(_, height)| height))
    .bind(new.thumbnail_key)
    .fetch_one(db)
    .await?;
    Ok(row.into())
}

pub async fn get(db: impl PgExecutor<'_>, id: AttachmentId) -> Result<Option<StoredAttachment>, sqlx::Error> {
    let row: Option<AttachmentRow> = sqlx::query_as(
        "SELECT a.id, a.channel_id, a.uploader_id, a.filename, a.content_type, a.size_bytes, a.storage_key, a.width,
             a.height, a.thumbnail_key, a.message_id, m.deleted_at IS NOT NULL AS message_deleted, a.created_at
         FROM attachments a LEFT JOIN messages m ON m.id = a.message_id WHERE a.id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(Into::into))
}

/// Who uploaded `ids`, where, and what carries them, locked until the transaction ends (a
/// sweep or another message cannot take them meanwhile). Missing ids are simply absent.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Claimable {
    pub id: AttachmentId,
    pub channel_id: ChannelId,
    pub uploader_id: UserId,
    pub message_id: Option<MessageId>,
}

pub async fn lock_for_claim(tx: &mut PgConnection, ids: &[AttachmentId]) -> Result<Vec<Claimable>, sqlx::Error> {
    let ids: Vec<uuid::Uuid> = ids.iter().map(|id| id.as_uuid()).collect();
    sqlx::query_as("SELECT id, channel_id, uploader_id, message_id FROM attachments WHERE id = ANY($1) FOR UPDATE")
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await
}

/// Attaches the (locked, checked) uploads `ids` to `message`.
pub async fn attach(tx: &mut PgConnection, ids: &[AttachmentId], message: MessageId) -> Result<u64, sqlx::Error> {
    let ids: Vec<uuid::Uuid> = ids.iter().map(|id| id.as_uuid()).collect();
    let attached = sqlx::query("UPDATE attachments SET message_id = $2 WHERE id = ANY($1) AND message_id IS NULL")
        .bind(&ids)
        .bind(message)
        .execute(&mut *tx)
        .await?;
    Ok(attached.rows_affected())
}

/// Holds `user`'s uploads' quota until the transaction ends, so two uploads finishing at
/// once cannot both fit in the same remainder (a no-key lock: it does not block the
/// user's posts, whose foreign keys take key-share locks).
pub async fn lock_quota(tx: &mut PgConnection, user: UserId) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE").bind(user).execute(&mut *tx).await?;
    Ok(())
}

/// The bytes `user`'s stored uploads take, attached or not.
pub async fn used_bytes(db: impl PgExecutor<'_>, user: UserId) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COALESCE(sum(size_bytes), 0)::bigint FROM attachments WHERE uploader_id = $1")
        .bind(user)
        .fetch_one(db)
        .await
}

/// An attachment whose objects are to be deleted.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Doomed {
    pub id: AttachmentId,
    pub storage_key: String,
    pub thumbnail_key: Option<String>,
}

/// Up to `limit` attachments nobody may read any more, locked (skipping any a message is
/// claiming right now): those of deleted messages, and uploads never attached (or whose
/// message was hard-deleted) created more than `unattached_secs` ago.
pub async fn doomed(tx: &mut PgConnection, unattached_secs: i64, limit: i64) -> Result<Vec<Doomed>, sqlx::Error> {
    sqlx::query_as(
        "SELECT a.id, a.storage_key, a.thumbnail_key FROM attachments a
         WHERE a.id IN (
             (SELECT d.id FROM attachments d JOIN messages m ON m.id = d.message_id
              WHERE d.message_id IS NOT NULL AND m.deleted_at IS NOT NULL LIMIT $2)
             UNION ALL
             (SELECT u.id FROM attachments u
              WHERE u.message_id IS NULL AND u.created_at < now() - make_interval(secs => $1) LIMIT $2))
         ORDER BY a.id LIMIT $2
         FOR UPDATE OF a SKIP LOCKED",
    )
    .bind(unattached_secs)
    .bind(limit)
    .fetch_all(&mut *tx)
    .await
}

/// Deletes the rows `ids` (their objects already gone).
pub async fn delete(tx: &mut PgConnection, ids: &[AttachmentId]) -> Result<(), sqlx::Error> {
    let ids: Vec<uuid::Uuid> = ids.iter().map(|id| id.as_uuid()).collect();
    sqlx::query("DELETE FROM attachments WHERE id = ANY($1)").bind(&ids).execute(&mut *tx).await?;
    Ok(())
}
