//! Attachments: who may upload into a channel (whoever may post there, by the same rules)
//! and who may download (whoever may read the channel now; to anyone else an attachment
//! does not exist). The bytes themselves are the api's, in object storage.

use sqlx::PgPool;

use super::ChatError;
use super::access::channel_access;
use super::rules;
use crate::api::wire::{Attachment, Channel};
use crate::db;
use crate::db::attachments::{NewAttachment, StoredAttachment};
use crate::domain::ids::{AttachmentId, ChannelId, UserId};

/// The channel `user` may upload into: they may post there (a member, not muted, the
/// channel open and not frozen unless they are an admin).
pub async fn may_upload(pool: &PgPool, user: UserId, channel: ChannelId) -> Result<Channel, ChatError> {
    let access = channel_access(pool, channel, user).await?;
    let mut db = pool.acquire().await?;
    let standing = rules::standing(&mut db, &access.channel, user).await?;
    rules::may_post(&access, &standing)?;
    Ok(access.channel)
}

/// Records an upload whose object is stored, unattached until a message references it.
pub async fn record_upload(pool: &PgPool, new: &NewAttachment<'_>) -> Result<Attachment, ChatError> {
    Ok(db::attachments::insert(pool, new).await?.attachment)
}

/// The attachment `id` if `user` may read its channel now (`AttachmentNotFound` both for a
/// missing one and for one in a channel they cannot see).
pub async fn readable(pool: &PgPool, user: UserId, id: AttachmentId) -> Result<StoredAttachment, ChatError> {
    let stored = db::attachments::get(pool, id).await?.ok_or(ChatError::AttachmentNotFound)?;
    channel_access(pool, stored.attachment.channel_id, user).await.map_err(|err| match err {
        ChatError::Database(_) => err,
        _ => ChatError::AttachmentNotFound,
    })?;
    Ok(stored)
}
