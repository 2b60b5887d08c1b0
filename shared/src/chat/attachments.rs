//! Attachments: who may upload into a channel (whoever may post there, by the same rules)
//! within their quota, who may download (whoever may read the channel now, while its
//! message stands; to anyone else an attachment does not exist), and the sweep that
//! deletes the files nobody may read any more; and users' avatars (stored the same way,
//! shown to whoever shares a community or a conversation with them). The bytes themselves are the api's, in
//! object storage.

use std::future::Future;

use sqlx::PgPool;

use super::ChatError;
use super::access::channel_access;
use super::rules;
use crate::api::wire::{Attachment, Channel, User};
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

/// What is left of `user`'s `quota` bytes of uploads.
pub async fn quota_left(pool: &PgPool, user: UserId, quota: u64) -> Result<u64, ChatError> {
    let used = u64::try_from(db::attachments::used_bytes(pool, user).await?).unwrap_or(0);
    Ok(quota.saturating_sub(used))
}

/// Records an upload whose object is stored, unattached until a message references it;
/// refused (`AttachmentQuotaExceeded`, nothing recorded: the caller deletes the object)
/// when it does not fit in what is left of the uploader's `quota`, checked under a lock
/// so two uploads finishing at once cannot share one remainder.
pub async fn record_upload(pool: &PgPool, new: &NewAttachment<'_>, quota: u64) -> Result<Attachment, ChatError> {
    let mut tx = pool.begin().await?;
    db::attachments::lock_quota(&mut tx, new.uploader_id).await?;
    let used = u64::try_from(db::attachments::used_bytes(&mut *tx, new.uploader_id).await?).unwrap_or(0);
    let remaining = quota.saturating_sub(used);
    if u64::try_from(new.size_bytes).unwrap_or(u64::MAX) > remaining {
        return Err(ChatError::AttachmentQuotaExceeded { quota, remaining });
    }
    let attachment = db::attachments::insert(&mut *tx, new).await?.attachment;
    tx.commit().await?;
    Ok(attachment)
}

/// Deletes up to `batch` attachments nobody may read any more (their message deleted, or
/// never attached for `unattached_secs`): `delete_objects` removes each one's object keys
/// from the store while its row is locked (a post cannot claim it meanwhile), then the
/// rows go. A failing store leaves the rows for the next sweep. Answers how many went.
pub async fn sweep<F, Fut, E>(
    pool: &PgPool,
    unattached_secs: u64,
    batch: i64,
    delete_objects: F,
) -> Result<usize, SweepError<E>>
where
    F: Fn(Vec<String>) -> Fut,
    Fut: Future<Output = Result<(), E>>,
{
    let mut tx = pool.begin().await.map_err(SweepError::Database)?;
    let age = i64::try_from(unattached_secs).unwrap_or(i64::MAX);
    let doomed = db::attachments::doomed(&mut tx, age, batch).await.map_err(SweepError::Database)?;
    if doomed.is_empty() {
        return Ok(0);
    }
    let keys =
        doomed.iter().flat_map(|d| std::iter::once(d.storage_key.clone()).chain(d.thumbnail_key.clone())).collect();
    delete_objects(keys).await.map_err(SweepError::Store)?;
    let ids: Vec<AttachmentId> = doomed.iter().map(|d| d.id).collect();
    db::attachments::delete(&mut tx, &ids).await.map_err(SweepError::Database)?;
    tx.commit().await.map_err(SweepError::Database)?;
    Ok(ids.len())
}

/// Points `user`'s avatar at `url` (an uploaded avatar's address) or clears it.
pub async fn set_avatar(pool: &PgPool, user: UserId, url: Option<&str>) -> Result<User, ChatError> {
    db::users::set_avatar_url(pool, user, url).await?.ok_or(ChatError::AccountGone)
}

/// Whether `viewer` may see `user`'s avatar: themselves, or anyone sharing a community or
/// a conversation with them (`AvatarNotFound` otherwise, as for one never uploaded).
pub async fn avatar_visible(pool: &PgPool, viewer: UserId, user: UserId) -> Result<(), ChatError> {
    if db::users::may_see(pool, viewer, user).await? { Ok(()) } else { Err(ChatError::AvatarNotFound) }
}

/// Why a sweep stopped.
#[derive(Debug, thiserror::Error)]
pub enum SweepError<E> {
    #[error("database: {0}")]
    Database(sqlx::Error),
    #[error("object storage: {0}")]
    Store(E),
}

/// The attachment `id` if `user` may read its channel now and its message is not deleted
/// (`AttachmentNotFound` for a missing one, one of a deleted message and one in a channel
/// they cannot see alike).
pub async fn readable(pool: &PgPool, user: UserId, id: AttachmentId) -> Result<StoredAttachment, ChatError> {
    let stored = db::attachments::get(pool, id)
        .await?
        .filter(|stored| !stored.message_deleted)
        .ok_or(ChatError::AttachmentNotFound)?;
    channel_access(pool, stored.attachment.channel_id, user).await.map_err(|err| match err {
        ChatError::Database(_) => err,
        _ => ChatError::AttachmentNotFound,
    })?;
    Ok(stored)
}
