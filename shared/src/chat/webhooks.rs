//! Managing incoming webhooks under their channel's rules: a webhook is about its channel,
//! so an admin who cannot read a private channel can neither create, see nor revoke its
//! webhooks (it does not exist for them). Each change is audited in its transaction.
//! Posting through a webhook is `messages::post_message` with `Poster::Webhook`.

use sqlx::PgPool;

use super::access::{channel_access, community_role, require_admin};
use super::{Actor, ChatError, rules};
use crate::api::wire::WebhookDelivery;
use crate::db;
use crate::db::audit::AuditEntry;
use crate::db::webhook_log::NewDelivery;
use crate::db::webhooks::{NewWebhook, Webhook};
use crate::domain::ids::{ChannelId, CommunityId, UserId, WebhookId};

/// A webhook to create, with the SHA-256 of its token (the caller shows the token once).
#[derive(Debug)]
pub struct WebhookSpec<'a> {
    pub channel: ChannelId,
    pub name: &'a str,
    pub avatar_url: Option<&'a str>,
    pub token_hash: &'a [u8; 32],
}

/// `actor`, an admin of the channel's community who can read the channel, creates a
/// webhook posting into an open community channel.
pub async fn create_webhook(pool: &PgPool, actor: Actor<'_>, spec: &WebhookSpec<'_>) -> Result<Webhook, ChatError> {
    let user = actor.user;
    // The channel's own visibility first: a private channel the caller is not in does
    // not exist for them, admin or not.
    let channel = channel_access(pool, spec.channel, user).await?.channel;
    let community = channel.community_id.ok_or(ChatError::WebhookIntoDm)?;
    require_admin(community_role(pool, community, user).await?)?;
    rules::channel_open(&channel)?;
    let mut tx = pool.begin().await?;
    let new = NewWebhook {
        community,
        channel: channel.id,
        name: spec.name,
        avatar_url: spec.avatar_url,
        token_hash: spec.token_hash,
        created_by: Some(user),
    };
    let webhook = db::webhooks::insert(&mut *tx, &new).await?;
    let entry = AuditEntry {
        community_id: Some(community),
        actor_id: Some(user),
        action: "webhook.create",
        target: Some(("webhook", webhook.id.as_uuid())),
        details: serde_json::json!({"name": webhook.name, "channel_id": channel.id}),
        ip: actor.ip,
        trace_id: actor.trace_id,
    };
    db::audit::record(&mut *tx, &entry).await?;
    tx.commit().await?;
    Ok(webhook)
}

/// The live webhooks of `community` for `user`, an admin: only those of channels `user`
/// can read, newest first.
pub async fn list_webhooks(pool: &PgPool, user: UserId, community: CommunityId) -> Result<Vec<Webhook>, ChatError> {
    require_admin(community_role(pool, community, user).await?)?;
    Ok(db::webhooks::list_visible(pool, community, user).await?)
}

/// `actor`, an admin who can read the webhook's channel, revokes webhook `id`; its
/// messages stay, its token stops working.
pub async fn revoke_webhook(pool: &PgPool, actor: Actor<'_>, id: WebhookId) -> Result<(), ChatError> {
    let user = actor.user;
    let webhook = may_manage(pool, user, id).await?;
    let mut tx = pool.begin().await?;
    if !db::webhooks::revoke(&mut *tx, id).await? {
        return Err(ChatError::WebhookNotFound);
    }
    let entry = AuditEntry {
        community_id: Some(webhook.community_id),
        actor_id: Some(user),
        action: "webhook.revoke",
        target: Some(("webhook", id.as_uuid())),
        details: serde_json::json!({"name": webhook.name, "channel_id": webhook.channel_id}),
        ip: actor.ip,
        trace_id: actor.trace_id,
    };
    db::audit::record(&mut *tx, &entry).await?;
    tx.commit().await?;
    Ok(())
}

/// The last deliveries of webhook `id` (live or revoked), newest first, for `user`, an
/// admin of its community who can read its channel.
pub async fn list_deliveries(pool: &PgPool, user: UserId, id: WebhookId) -> Result<Vec<WebhookDelivery>, ChatError> {
    may_manage(pool, user, id).await?;
    Ok(db::webhook_log::list(pool, id).await?)
}

/// Logs a delivery to a webhook whose id and token were right, accepted or refused, and
/// keeps only its last `db::webhook_log::KEPT`, in one transaction.
pub async fn record_delivery(pool: &PgPool, delivery: &NewDelivery<'_>) -> Result<(), ChatError> {
    let mut tx = pool.begin().await?;
    db::webhook_log::record(&mut tx, delivery).await?;
    tx.commit().await?;
    Ok(())
}

/// Points webhook `id`'s avatar at `url` (its uploaded image's address), by an admin of
/// its community who can see its channel (as for a revoke), audited as `webhook.avatar`.
pub async fn set_webhook_avatar(
    pool: &PgPool,
    actor: Actor<'_>,
    id: WebhookId,
    url: &str,
) -> Result<Webhook, ChatError> {
    let user = actor.user;
    may_manage(pool, user, id).await?;
    let mut tx = pool.begin().await?;
    let webhook = db::webhooks::set_avatar_url(&mut *tx, id, url).await?.ok_or(ChatError::WebhookNotFound)?;
    audit_avatar(&mut tx, &actor, &webhook, "webhook.avatar").await?;
    tx.commit().await?;
    Ok(webhook)
}

/// Removes webhook `id`'s avatar, by whoever may set it: the webhook, and whether it had
/// an avatar. Only a removal that changed something is audited (`webhook.avatar_removed`),
/// so a repeated removal (a double click) records nothing.
pub async fn remove_webhook_avatar(
    pool: &PgPool,
    actor: Actor<'_>,
    id: WebhookId,
) -> Result<(Webhook, bool), ChatError> {
    let mut webhook = may_manage(pool, actor.user, id).await?;
    let mut tx = pool.begin().await?;
    let Some(cleared) = db::webhooks::clear_avatar_url(&mut *tx, id).await? else {
        webhook.avatar_url = None;
        return Ok((webhook, false));
    };
    audit_avatar(&mut tx, &actor, &cleared, "webhook.avatar_removed").await?;
    tx.commit().await?;
    Ok((cleared, true))
}

/// Records `action` on `webhook`'s avatar by `actor`.
async fn audit_avatar(
    tx: &mut sqlx::PgConnection,
    actor: &Actor<'_>,
    webhook: &Webhook,
    action: &'static str,
) -> Result<(), ChatError> {
    let entry = AuditEntry {
        community_id: Some(webhook.community_id),
        actor_id: Some(actor.user),
        action,
        target: Some(("webhook", webhook.id.as_uuid())),
        details: serde_json::json!({"name": webhook.name}),
        ip: actor.ip,
        trace_id: actor.trace_id,
    };
    db::audit::record(tx, &entry).await?;
    Ok(())
}

/// The webhook `id` if `user` may change it: an admin of its community who can see its
/// channel (`WebhookNotFound` to anyone who cannot see it, `AdminOnly` to other members).
pub async fn may_manage(pool: &PgPool, user: UserId, id: WebhookId) -> Result<Webhook, ChatError> {
    let webhook = db::webhooks::get(pool, id).await?.ok_or(ChatError::WebhookNotFound)?;
    channel_access(pool, webhook.channel_id, user).await.map_err(|err| match err {
        ChatError::ChannelNotFound | ChatError::NotCommunityMember => ChatError::WebhookNotFound,
        _ => err,
    })?;
    require_admin(community_role(pool, webhook.community_id, user).await?)?;
    Ok(webhook)
}

/// Whether `user` may see webhook `id`'s avatar: it has one set, and they are a member of
/// its community (`AvatarNotFound` otherwise, as for one never uploaded).
pub async fn avatar_visible(pool: &PgPool, user: UserId, id: WebhookId) -> Result<(), ChatError> {
    let webhook = db::webhooks::get(pool, id).await?.ok_or(ChatError::AvatarNotFound)?;
    match db::communities::role_of(pool, webhook.community_id, user).await? {
        Some(_) if webhook.avatar_url.is_some() => Ok(()),
        _ => Err(ChatError::AvatarNotFound),
    }
}
