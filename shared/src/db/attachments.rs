//! The `attachments` table: uploaded files, each in one channel, attached to at most one
//! message once it is sent.

use sqlx::PgExecutor;
use time::OffsetDateTime;

use crate::api::wire::Attachment;
use crate::domain::ids::{AttachmentId, ChannelId, UserId};

/// An attachment with what only the server needs: its object key and uploader.
#[derive(Clone, Debug)]
pub struct StoredAttachment {
    pub attachment: Attachment,
    pub uploader_id: UserId,
    pub storage_key: String,
}

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
                created_at: row.created_at,
            },
            uploader_id: row.uploader_id,
            storage_key: row.storage_key,
        }
    }
}

const COLUMNS: &str =
    "id, channel_id, uploader_id, filename, content_type, size_bytes, storage_key, width, height, created_at";

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
}

pub async fn insert(db: impl PgExecutor<'_>, new: &NewAttachment<'_>) -> Result<StoredAttachment, sqlx::Error> {
    let row: AttachmentRow = sqlx::query_as(&format!(
        "INSERT INTO attachments (id, channel_id, uploader_id, filename, content_type, size_bytes, storage_key, width, height)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {COLUMNS}"
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
    .fetch_one(db)
    .await?;
    Ok(row.into())
}

pub async fn get(db: impl PgExecutor<'_>, id: AttachmentId) -> Result<Option<StoredAttachment>, sqlx::Error> {
    let row: Option<AttachmentRow> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM attachments WHERE id = $1")).bind(id).fetch_optional(db).await?;
    Ok(row.map(Into::into))
}
