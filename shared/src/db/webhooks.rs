//! The `webhooks` table (incoming webhooks bound to one channel) and their deliveries: a
//! webhook message (inserted by `messages::insert`) has `webhook_id` set, no author, and
//! the display overrides it was posted under; `webhook_deliveries` remembers each
//! `Idempotency-Key`.

use sqlx::{PgConnection, PgExecutor, PgPool};
use time::OffsetDateTime;

use crate::api::wire::{Message, WebhookInfo};
use crate::db::messages;
use crate::domain::ids::{ChannelId, CommunityId, MessageId, UserId, WebhookId};

/// A webhook as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Webhook {
    pub id: WebhookId,
    pub community_id: CommunityId,
    pub channel_id: ChannelId,
    pub name: String,
    pub avatar_url: Option<String>,
    pub token_hash: Vec<u8>,
    pub created_by: Option<UserId>,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

impl From<Webhook> for WebhookInfo {
    fn from(webhook: Webhook) -> Self {
        Self {
            id: webhook.id,
            community_id: webhook.community_id,
            channel_id: webhook.channel_id,
            name: webhook.name,
            avatar_url: webhook.avatar_url,
            created_by: webhook.created_by,
            created_at: webhook.created_at,
            last_used_at: webhook.last_used_at,
        }
    }
}

const COLUMNS: &str =
    "id, community_id, channel_id, name, avatar_url, token_hash, created_by, created_at, last_used_at, revoked_at";

/// A webhook to create; the caller generated the token and keeps only its SHA-256.
#[derive(Debug)]
pub struct NewWebhook<'a> {
    pub community: CommunityId,
    pub channel: ChannelId,
    pub name: &'a str,
    pub avatar_url: Option<&'a str>,
    pub token_hash: &'a [u8; 32],
    pub created_by: Option<UserId>,
}

/// Creates a webhook bound to `new.channel`.
pub async fn insert(db: impl PgExecutor<'_>, new: &NewWebhook<'_>) -> Result<Webhook, sqlx::Error> {
    sqlx::query_as(&format!(
        "INSERT INTO webhooks (id, community_id, channel_id, name, avatar_url, token_hash, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {COLUMNS}"
    ))
    .bind(WebhookId::generate())
    .bind(new.community)
    .bind(new.channel)
    .bind(new.name)
    .bind(new.avatar_url)
    .bind(new.token_hash.as_slice())
    .bind(new.created_by)
    .fetch_one(db)
    .await
}

/// The webhook `id`, revoked or not.
pub async fn get(db: impl PgExecutor<'_>, id: WebhookId) -> Result<Option<Webhook>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM webhooks WHERE id = $1")).bind(id).fetch_optional(db).await
}

/// The live webhooks of `community` that post into channels `viewer` can read (public
/// ones, and private ones `viewer` is in), newest first: a list never names a channel its
/// reader cannot see.
pub async fn list_visible(
    db: impl PgExecutor<'_>,
    community: CommunityId,
    viewer: UserId,
) -> Result<Vec<Webhook>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM webhooks
         WHERE community_id = $1 AND revoked_at IS NULL AND EXISTS (
             SELECT 1 FROM channels c WHERE c.id = webhooks.channel_id AND (c.kind = 'public'
                 OR EXISTS (SELECT 1 FROM channel_members cm WHERE cm.channel_id = c.id AND cm.user_id = $2)))
         ORDER BY id DESC"
    ))
    .bind(community)
    .bind(viewer)
    .fetch_all(db)
    .await
}

/// Revokes a webhook (its messages keep referring to it). False if it was not live.
pub async fn revoke(db: impl PgExecutor<'_>, id: WebhookId) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query("UPDATE webhooks SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL")
        .bind(id)
        .execute(db)
        .await?;
    Ok(updated.rows_affected() == 1)
}

/// Marks a webhook used, in the transaction of its post.
pub async fn touch(tx: &mut PgConnection, id: WebhookId) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE webhooks SET last_used_at = now() WHERE id = $1").bind(id).execute(tx).await?;
    Ok(())
}

/// Remembers that `key` created `message`. False if the key was already taken (a
/// concurrent retry won): the caller rolls back and answers with `delivered`.
pub async fn record_delivery(
    tx: &mut PgConnection,
    webhook: WebhookId,
    key: &str,
    message: MessageId,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO webhook_deliveries (webhook_id, idempotency_key, message_id) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING",
    )
    .bind(webhook)
    .bind(key)
    .bind(message)
    .execute(tx)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// The message an earlier post with `key` created, if any.
pub async fn delivered(pool: &PgPool, webhook: WebhookId, key: &str) -> Result<Option<Message>, sqlx::Error> {
    let message: Option<MessageId> =
        sqlx::query_scalar("SELECT message_id FROM webhook_deliveries WHERE webhook_id = $1 AND idempotency_key = $2")
            .bind(webhook)
            .bind(key)
            .fetch_optional(pool)
            .await?;
    match message {
        Some(id) => messages::get(pool, id).await,
        None => Ok(None),
    }
}

/// Sets a webhook's own `avatar_url`.
pub async fn set_avatar_url(db: impl PgExecutor<'_>, id: WebhookId, url: &str) -> Result<Option<Webhook>, sqlx::Error> {
    let row: Option<Webhook> =
        sqlx::query_as(&format!("UPDATE webhooks SET avatar_url = $2 WHERE id = $1 RETURNING {COLUMNS}"))
            .bind(id)
            .bind(url)
            .fetch_optional(db)
            .await?;
    Ok(row)
}

/// Clears a webhook's own `avatar_url`: the webhook as it is now, or `None` when it had no
/// avatar (or does not exist) — so of two removals at once only one changes anything.
pub async fn clear_avatar_url(db: impl PgExecutor<'_>, id: WebhookId) -> Result<Option<Webhook>, sqlx::Error> {
    let row: Option<Webhook> = sqlx::query_as(&format!(
        "UPDATE webhooks SET avatar_url = NULL WHERE id = $1 AND avatar_url IS NOT NULL RETURNING {COLUMNS}"
    ))
    .bind(id)
    .fetch_optional(db)
    .await?;
    Ok(row)
}
