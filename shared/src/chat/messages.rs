//! Posting (by a user or a webhook), editing and deleting messages. A post is idempotent:
//! a user's by `client_msg_id`, a webhook's by its `Idempotency-Key`; a retry answers the
//! original message and writes nothing.

use sqlx::PgPool;

use super::access::{ChannelAccess, channel_access, message_access};
use super::{ChatError, Written, events, notifications, rules};
use crate::api::wire::{Channel, ChannelKind, LinkPreview, Message, MessageDeleted, Role};
use crate::db;
use crate::db::messages::{NewMessage, Writer};
use crate::db::webhooks::Webhook;
use crate::domain::ids::{AttachmentId, ChannelId, MessageId, UserId};
use crate::domain::{ClientMsgId, MessageBody};
use crate::events::{EventMessage, EventPayload};
use crate::mentions;

/// Who posts, with what only that kind of poster has.
#[derive(Clone, Copy, Debug)]
pub enum Poster<'a> {
    /// A user, into a channel they are a member of, perhaps as a thread reply, with their
    /// own unattached uploads into that channel.
    User {
        id: UserId,
        channel: ChannelId,
        parent: Option<MessageId>,
        client_msg_id: Option<&'a ClientMsgId>,
        attachments: &'a [AttachmentId],
    },
    /// A webhook (its token already checked), into its own channel, under the payload's
    /// display overrides if any (the message's bot marker stays the webhook's).
    Webhook {
        webhook: &'a Webhook,
        username: Option<&'a str>,
        icon_url: Option<&'a str>,
        idempotency_key: Option<&'a str>,
    },
}

/// A posted message, and whether it is a retry's original (nothing new was written).
#[derive(Debug)]
pub struct Posted {
    pub message: Message,
    pub replayed: bool,
}

/// Posts `body` as `poster`: the channel's rules, then one transaction holding the message
/// with its channel sequence and thread summary, its mentions, its notifications (each on
/// its recipient's subject), its `message.created` event and (for a webhook with a key) its
/// delivery record. A user's post without attachments takes the channel's row lock last,
/// for one statement and the commit (`post_checked`); the others, and a user's post that
/// statement refused, take it first (`post_locked`). A user's `@channel`/`@here` in a channel of more than
/// `broadcast_limit` members needs admin rights (a webhook is its admin creator's).
pub async fn post_message(
    pool: &PgPool,
    poster: Poster<'_>,
    body: &MessageBody,
    broadcast_limit: u32,
) -> Result<Written<Posted>, ChatError> {
    let mentions = mentions::parse(body.as_str());
    let (channel, actor) = match poster {
        Poster::User { id, channel, parent, attachments, .. } => {
            check_attachment_list(attachments)?;
            let access = channel_access(pool, channel, id).await?;
            // Membership and archive first; a mute, a freeze and slow mode are checked
            // under the channel's lock below.
            rules::may_write(&access)?;
            if let Some(parent) = parent {
                check_parent(pool, channel, parent).await?;
            }
            notifications::check_broadcast(pool, &access.channel, id, &mentions, broadcast_limit).await?;
            (access.channel, Some(id))
        }
        Poster::Webhook { webhook, .. } => {
            let channel = db::channels::get(pool, webhook.channel_id).await?.ok_or(ChatError::ChannelNotFound)?;
            let removed = creator_removed(pool, webhook).await?;
            rules::may_post_by_webhook(webhook, &channel, rules::CreatorStanding { removed, mute: None })?;
            // Into a private channel a webhook writes on its creator's behalf: once they
            // have left or been removed, it stops (as if revoked).
            if channel.kind == ChannelKind::Private {
                let creator_in = match webhook.created_by {
                    Some(creator) => db::channels::is_member(pool, channel.id, creator).await?,
                    None => false,
                };
                if !creator_in {
                    return Err(ChatError::WebhookNotFound);
                }
            }
            (channel, None)
        }
    };
    if let Poster::User { id, parent, client_msg_id, attachments: [], .. } = poster {
        // A retry is found by its key's conflict (`post_checked`), not looked up first.
        let send = UserSend { channel: &channel, author: id, parent, client_msg_id, body, mentions: &mentions };
        if let Some(posted) = post_checked(pool, poster, &send).await? {
            return Ok(posted);
        }
        // A rule the statement re-checks refused: a mute, a freeze or slow mode (which
        // the checks above leave to it), or a membership or archive change since. The
        // locked path below finds which, or posts if it no longer applies.
    }
    if let Some(original) = original(pool, poster, body).await? {
        return Ok(Written::without_events(original));
    }
    post_locked(pool, poster, body, channel, actor, &mentions).await
}

/// A user's post, its rules partly checked (membership, archive, parent, broadcast).
struct UserSend<'a> {
    channel: &'a Channel,
    author: UserId,
    parent: Option<MessageId>,
    client_msg_id: Option<&'a ClientMsgId>,
    body: &'a MessageBody,
    mentions: &'a mentions::Mentions,
}

/// Posts a user's message without attachments with the channel's lock taken last: one
/// statement re-checks the rules, bumps the sequence, inserts the message and its event
/// (`db::messages::send_checked`); in the common case (no mentions, no notification to
/// make) that statement is the whole write, committed on its own. Mentions and
/// notifications, when there are any, follow it in its transaction. `None` when a rule
/// refused: nothing was written.
async fn post_checked(
    pool: &PgPool,
    poster: Poster<'_>,
    send: &UserSend<'_>,
) -> Result<Option<Written<Posted>>, ChatError> {
    let UserSend { channel, author, parent, client_msg_id, body, mentions } = *send;
    let id = MessageId::generate();
    let event = crate::events::Event::new(
        // Filled in by the statement from the row it inserts: the sequence, the time, the author.
        EventPayload::MessageCreated(EventMessage::posted_by(
            id,
            channel.id,
            author,
            body.as_str().to_owned(),
            parent,
            client_msg_id.map(|key| key.as_str().to_owned()),
        )),
        channel.community_id,
        Some(channel.id),
        Some(author),
    );
    let subject = crate::events::subject::for_channel(channel);
    let checked = db::messages::CheckedSend {
        id,
        channel: channel.id,
        author,
        body,
        parent,
        client_msg_id,
        subject: &subject,
        event: &event,
    };
    let has_mentions = !mentions.users.is_empty()
        || !mentions.channels.is_empty()
        || mentions.channel
        || mentions.here
        || mentions.everyone;
    // Who a post notifies: those it mentions, a DM's members, a thread's participants.
    let notifies = has_mentions || parent.is_some() || matches!(channel.kind, ChannelKind::Dm | ChannelKind::GroupDm);
    let sent = if notifies {
        let mut tx = pool.begin().await?;
        let sent = db::messages::send_checked(&mut *tx, &checked).await;
        if let Ok(Some(message)) = &sent {
            db::mentions::record(&mut tx, message.id, channel.id, mentions).await?;
            notifications::for_message(&mut tx, message, channel, mentions, false).await?;
            tx.commit().await?;
        }
        sent
    } else {
        db::messages::send_checked(pool, &checked).await
    };
    match sent {
        Ok(Some(message)) => Ok(Some(Written::with_events(Posted { message, replayed: false }))),
        Ok(None) => Ok(None),
        Err(err) if db::violated_constraint(&err) == Some("messages_client_msg_id_unique") => {
            // A concurrent retry won the race: answer as for any retry.
            raced(pool, poster, body).await.map(Some)
        }
        Err(err) => Err(err.into()),
    }
}

/// Posts with the channel's row lock taken first and every rule checked under it: a
/// webhook's post, a post with attachments, and a user's post the one-statement path
/// refused (to find which rule, or post if none applies any more).
async fn post_locked(
    pool: &PgPool,
    poster: Poster<'_>,
    body: &MessageBody,
    channel: Channel,
    actor: Option<UserId>,
    mentions: &mentions::Mentions,
) -> Result<Written<Posted>, ChatError> {
    let (writer, parent, client_msg_id) = match poster {
        Poster::User { id, parent, client_msg_id, .. } => (Writer::User(id), parent, client_msg_id),
        Poster::Webhook { webhook, username, icon_url, .. } => {
            (Writer::Webhook { id: webhook.id, display_name: username, avatar_url: icon_url }, None, None)
        }
    };
    let new = NewMessage { channel: channel.id, writer, body, parent, client_msg_id };
    let mut tx = pool.begin().await?;
    // Checked under the channel's row lock: an archive or a freeze committed since the
    // checks above wins over this post, and two posts of one member cannot both pass slow
    // mode (posts to a channel take this lock one at a time).
    let locked = db::channels::get_for_update(&mut tx, channel.id).await?.ok_or(ChatError::ChannelNotFound)?;
    match poster {
        Poster::User { id, .. } => {
            let standing = rules::standing(&mut tx, &locked, id).await?;
            rules::may_post(&ChannelAccess { channel: locked.clone(), is_member: true }, &standing)?;
            if locked.slow_mode_secs > 0 && !standing.is_admin {
                let since = db::channels::secs_since_last_post(&mut *tx, locked.id, id).await?;
                rules::slow_mode(&locked, &standing, since)?;
            }
        }
        Poster::Webhook { webhook, .. } => {
            // Again under the lock: a demotion, kick or ban committed since wins.
            let removed = creator_removed(&mut *tx, webhook).await?;
            let mute = match (webhook.created_by, locked.community_id) {
                (Some(creator), Some(community)) => db::moderation::mute_in_force(&mut *tx, community, creator).await?,
                _ => None,
            };
            rules::may_post_by_webhook(webhook, &locked, rules::CreatorStanding { removed, mute: mute.as_ref() })?;
        }
    }
    let mut message = match db::messages::insert(&mut tx, &new).await {
        Ok(message) => message,
        Err(err) if db::violated_constraint(&err) == Some("messages_client_msg_id_unique") => {
            // A concurrent retry won the race: answer as for any retry.
            drop(tx);
            return raced(pool, poster, body).await;
        }
        Err(err) => return Err(err.into()),
    };
    if let Poster::Webhook { webhook, idempotency_key, .. } = poster {
        db::webhooks::touch(&mut tx, webhook.id).await?;
        if let Some(key) = idempotency_key
            && !db::webhooks::record_delivery(&mut tx, webhook.id, key, message.id).await?
        {
            drop(tx);
            return raced(pool, poster, body).await;
        }
    }
    if let Poster::User { id, attachments, .. } = poster
        && !attachments.is_empty()
    {
        claim_attachments(&mut tx, id, channel.id, message.id, attachments).await?;
        message =
            db::messages::get(&mut *tx, message.id).await?.ok_or(ChatError::Inconsistent("a message just sent"))?;
    }
    db::mentions::record(&mut tx, message.id, channel.id, mentions).await?;
    let payload = EventPayload::MessageCreated(EventMessage::from(message.clone()));
    events::in_channel(&mut tx, &channel, actor, payload).await?;
    // After the message's own event, so a client hears of the message first.
    notifications::for_message(&mut tx, &message, &channel, mentions, false).await?;
    tx.commit().await?;
    Ok(Written::with_events(Posted { message, replayed: false }))
}

/// True when the webhook's creator, on whose behalf it writes, is no longer an admin or
/// the owner of its community (demoted, kicked, banned, left, or their account is gone).
async fn creator_removed(db: impl sqlx::PgExecutor<'_>, webhook: &Webhook) -> Result<bool, ChatError> {
    let Some(creator) = webhook.created_by else { return Ok(true) };
    let role = db::communities::role_of(db, webhook.community_id, creator).await?;
    Ok(!matches!(role, Some(Role::Admin | Role::Owner)))
}

/// At most this many files on one message.
pub const MAX_ATTACHMENTS: usize = 10;

/// `attachment_ids` names at most `MAX_ATTACHMENTS`, each once.
fn check_attachment_list(ids: &[AttachmentId]) -> Result<(), ChatError> {
    if ids.len() > MAX_ATTACHMENTS {
        return Err(ChatError::InvalidAttachment(format!("at most {MAX_ATTACHMENTS} files on one message")));
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(twice) = ids.iter().find(|id| !seen.insert(**id)) {
        return Err(ChatError::InvalidAttachment(format!("{twice} is named twice")));
    }
    Ok(())
}

/// Attaches `ids` to the new `message` of `user` in `channel`: each must be `user`'s own
/// upload into that channel (anything else, including an upload that no longer exists,
/// is the same `InvalidAttachment`, so nobody learns of another's files) and not yet on a
/// message. The rows stay locked until the post commits, so a sweep or a concurrent post
/// cannot take them meanwhile.
async fn claim_attachments(
    tx: &mut sqlx::PgConnection,
    user: UserId,
    channel: ChannelId,
    message: MessageId,
    ids: &[AttachmentId],
) -> Result<(), ChatError> {
    let found = db::attachments::lock_for_claim(&mut *tx, ids).await?;
    for id in ids {
        match found.iter().find(|row| row.id == *id) {
            Some(row) if row.uploader_id == user && row.channel_id == channel => {
                if row.message_id.is_some() {
                    return Err(ChatError::AttachmentInUse(*id));
                }
            }
            _ => {
                return Err(ChatError::InvalidAttachment(format!(
                    "{id} is not an upload of yours into this channel (upload the file to this channel first)"
                )));
            }
        }
    }
    let attached = db::attachments::attach(&mut *tx, ids, message).await?;
    if attached != ids.len() as u64 {
        return Err(ChatError::Inconsistent("locked attachments changed"));
    }
    Ok(())
}

/// A reply's parent must be a live top-level message of the same channel.
async fn check_parent(pool: &PgPool, channel: ChannelId, parent: MessageId) -> Result<(), ChatError> {
    match db::messages::get(pool, parent).await? {
        Some(parent) if parent.channel_id == channel && parent.deleted_at.is_none() => {
            if parent.parent_id.is_some() {
                Err(ChatError::NestedThread)
            } else {
                Ok(())
            }
        }
        _ => Err(ChatError::InvalidParent),
    }
}

/// The message an earlier post with the same idempotency key created, if any. A user's
/// `client_msg_id` reused for a different message is refused.
async fn original(pool: &PgPool, poster: Poster<'_>, body: &MessageBody) -> Result<Option<Posted>, ChatError> {
    let original = match poster {
        Poster::User { id, channel, parent, client_msg_id: Some(key), .. } => {
            match db::messages::find_by_client_msg_id(pool, id, key).await? {
                Some(original)
                    if original.body_md == body.as_str()
                        && original.channel_id == channel
                        && original.parent_id == parent =>
                {
                    Some(original)
                }
                Some(_) => return Err(ChatError::ClientMsgIdReused),
                None => None,
            }
        }
        Poster::Webhook { webhook, idempotency_key: Some(key), .. } => {
            db::webhooks::delivered(pool, webhook.id, key).await?
        }
        Poster::User { .. } | Poster::Webhook { .. } => None,
    };
    Ok(original.map(|message| Posted { message, replayed: true }))
}

/// The answer when a concurrent retry committed first.
async fn raced(pool: &PgPool, poster: Poster<'_>, body: &MessageBody) -> Result<Written<Posted>, ChatError> {
    let original = original(pool, poster, body)
        .await?
        .ok_or(ChatError::Inconsistent("an idempotency conflict without the original"))?;
    Ok(Written::without_events(original))
}

/// Replaces the body of `user`'s own message `id` (a member, in an open channel), with
/// its mentions, notifies only the users it newly mentions, and broadcasts
/// `message.updated`. Returns the message as `user` sees it.
pub async fn edit_message(
    pool: &PgPool,
    user: UserId,
    id: MessageId,
    body: &MessageBody,
    broadcast_limit: u32,
) -> Result<Written<Message>, ChatError> {
    let (message, access) = message_access(pool, id, user).await?;
    if message.author.user_id != Some(user) {
        return Err(ChatError::NotAuthor);
    }
    if message.deleted_at.is_some() {
        return Err(ChatError::MessageDeleted);
    }
    rules::may_write(&access)?;
    let mentions = mentions::parse(body.as_str());
    // Only a broadcast the edit adds needs the right to broadcast (the channel may have
    // grown past the limit since the post).
    let before = mentions::parse(&message.body_md);
    let added = mentions::Mentions {
        channel: mentions.channel && !(before.channel || before.everyone),
        everyone: mentions.everyone && !(before.channel || before.everyone),
        here: mentions.here && !before.here,
        ..mentions::Mentions::default()
    };
    notifications::check_broadcast(pool, &access.channel, user, &added, broadcast_limit).await?;
    let mut tx = pool.begin().await?;
    let Some(mut updated) = db::messages::update_body(&mut tx, id, body).await? else {
        return Err(ChatError::MessageDeleted);
    };
    db::mentions::replace(&mut tx, id, message.channel_id, &mentions).await?;
    db::messages::attach_reactions(&mut *tx, std::slice::from_mut(&mut updated), user).await?;
    let payload = EventPayload::MessageUpdated(EventMessage::from(updated.clone()));
    events::in_channel(&mut tx, &access.channel, Some(user), payload).await?;
    notifications::for_message(&mut tx, &updated, &access.channel, &mentions, true).await?;
    tx.commit().await?;
    Ok(Written::with_events(updated))
}

/// Soft-deletes message `id`: by its author, or by an admin of its channel's community.
/// Deleting a deleted message changes nothing.
pub async fn delete_message(pool: &PgPool, user: UserId, id: MessageId) -> Result<Written<()>, ChatError> {
    let (message, access) = message_access(pool, id, user).await?;
    let is_author = message.author.user_id == Some(user);
    if !is_author && !is_admin(pool, &access.channel, user).await? {
        return Err(ChatError::NotAuthorOrAdmin);
    }
    if message.deleted_at.is_some() {
        return Ok(Written::without_events(()));
    }
    rules::channel_open(&access.channel)?;
    let mut tx = pool.begin().await?;
    if !db::messages::soft_delete(&mut tx, &message).await? {
        return Ok(Written::without_events(()));
    }
    let deleted = MessageDeleted { id, channel_id: message.channel_id, parent_id: message.parent_id };
    events::in_channel(&mut tx, &access.channel, Some(user), EventPayload::MessageDeleted(deleted)).await?;
    tx.commit().await?;
    Ok(Written::with_events(()))
}

/// An owner or admin of the channel's community (DMs have none).
async fn is_admin(pool: &PgPool, channel: &Channel, user: UserId) -> Result<bool, ChatError> {
    Ok(match channel.community_id {
        Some(community) => {
            matches!(db::communities::role_of(pool, community, user).await?, Some(Role::Owner | Role::Admin))
        }
        None => false,
    })
}

/// Stores the link previews the unfurl worker fetched for message `id` whose body was
/// `body_md`, and broadcasts the message with them as `message.updated`. Writes nothing if
/// the message was deleted or edited since (the edit cleared its previews and asked for
/// its own), so previews never belong to another version of the text.
pub async fn set_link_previews(
    pool: &PgPool,
    id: MessageId,
    body_md: &str,
    previews: &[LinkPreview],
) -> Result<Written<()>, ChatError> {
    let mut tx = pool.begin().await?;
    let Some(mut updated) = db::messages::set_link_previews(&mut tx, id, body_md, previews).await? else {
        return Ok(Written::without_events(()));
    };
    let channel = db::channels::get(&mut *tx, updated.channel_id)
        .await?
        .ok_or(ChatError::Inconsistent("a message without its channel"))?;
    // Reaction counts only: the broadcast form has no viewer, so any user id serves.
    let viewer = updated.author.user_id.unwrap_or_else(UserId::generate);
    db::messages::attach_reactions(&mut *tx, std::slice::from_mut(&mut updated), viewer).await?;
    let payload = EventPayload::MessageUpdated(EventMessage::from(updated));
    events::in_channel(&mut tx, &channel, None, payload).await?;
    tx.commit().await?;
    Ok(Written::with_events(()))
}
