//! Notifications: created with the message (or membership) write that causes them, in its
//! transaction, and each published on its recipient's own subject; marked read from the
//! inbox or by moving a read cursor, and every read change published so all of the user's
//! clients update their badges at once.

use sqlx::{PgConnection, PgPool};

use super::{ChatError, Written, events};
use crate::api::wire::{
    Channel, Message, Notification, NotificationChannel, NotificationKind, NotificationsRead, User,
};
use crate::db;
use crate::db::notifications::{Created, ReadScope, Recipients};
use crate::domain::ids::{ChannelId, CommunityId, MessageId, NotificationId, UserId};
use crate::events::{Event, EventPayload, subject};
use crate::mentions::Mentions;

/// Most ids one read request may name.
pub const READ_IDS_MAX: usize = 1000;

/// What `mentions` asks of the channel's members beyond those named.
fn recipients(mentions: &Mentions, only_mentions: bool) -> Recipients {
    Recipients { channel: mentions.channel || mentions.everyone, here: mentions.here, only_mentions }
}

/// `@channel`, `@everyone` and `@here` in a channel of more than `limit` members are for the
/// community's admins (a DM has none, and is never that large).
pub(crate) async fn check_broadcast(
    pool: &PgPool,
    channel: &Channel,
    user: UserId,
    mentions: &Mentions,
    limit: u32,
) -> Result<(), ChatError> {
    if !(mentions.channel || mentions.everyone || mentions.here) {
        return Ok(());
    }
    if db::notifications::channel_size(pool, channel.id).await? <= i64::from(limit) {
        return Ok(());
    }
    let is_admin = match channel.community_id {
        Some(community) => matches!(
            db::communities::role_of(pool, community, user).await?,
            Some(crate::api::wire::Role::Owner | crate::api::wire::Role::Admin)
        ),
        None => false,
    };
    if is_admin { Ok(()) } else { Err(ChatError::BroadcastNeedsAdmin { limit }) }
}

/// Creates the notifications of `message` (just inserted or edited, its mentions already
/// recorded) and records a `notification.created` for each recipient, all in `tx`. An edit
/// (`only_mentions`) notifies only users it newly mentions.
pub(crate) async fn for_message(
    tx: &mut PgConnection,
    message: &Message,
    channel: &Channel,
    mentions: &Mentions,
    only_mentions: bool,
) -> Result<(), sqlx::Error> {
    let created = db::notifications::for_message(
        tx,
        message.id,
        channel.id,
        message.author.user_id,
        message.parent_id,
        recipients(mentions, only_mentions),
    )
    .await?;
    let actor = message.author.user_id.map(|id| User {
        id,
        username: message.author.username.clone().unwrap_or_default(),
        display_name: message.author.display_name.clone(),
        avatar_url: message.author.avatar_url.clone(),
    });
    // No text in the event: the stream keeps message text only in message events, which the
    // relay scrubs when the message is edited or deleted (a snippet here would outlive
    // them in every replay). Clients read the snippet from the inbox.
    let notifications = created.into_iter().map(|created| {
        let notification = Notification {
            message_id: Some(message.id),
            parent_id: message.parent_id,
            actor: actor.clone(),
            snippet: None,
            ..notification(&created, channel)
        };
        (created.user_id, notification)
    });
    publish(tx, notifications, message.author.user_id).await
}

/// Tells `user` that `actor` added them to `channel` (a private channel).
pub(crate) async fn invite(
    tx: &mut PgConnection,
    user: UserId,
    channel: &Channel,
    actor: UserId,
) -> Result<(), sqlx::Error> {
    let created = db::notifications::invite(tx, user, channel.id, channel.community_id, actor).await?;
    let by = db::users::get(&mut *tx, actor).await?;
    let notification = Notification { actor: by, ..notification(&created, channel) };
    publish(tx, std::iter::once((user, notification)), Some(actor)).await
}

/// Tells `user` that `actor` did something to them in `community` (banned, kicked, muted,
/// changed their role): `data` holds `action` and its particulars (reason, end, role).
pub(crate) async fn system(
    tx: &mut PgConnection,
    user: UserId,
    community: CommunityId,
    actor: UserId,
    data: serde_json::Value,
) -> Result<(), sqlx::Error> {
    let created = db::notifications::system(tx, user, community, actor, &data).await?;
    let by = db::users::get(&mut *tx, actor).await?;
    let notification = Notification {
        id: created.id,
        kind: NotificationKind::System,
        channel: None,
        community_id: Some(community),
        message_id: None,
        parent_id: None,
        actor: by,
        snippet: None,
        data,
        created_at: created.created_at,
        read_at: None,
    };
    publish(tx, std::iter::once((user, notification)), Some(actor)).await
}

/// A notification about `channel` as just created, without message context.
fn notification(created: &Created, channel: &Channel) -> Notification {
    Notification {
        id: created.id,
        kind: NotificationKind::parse(&created.kind).unwrap_or(NotificationKind::System),
        channel: Some(NotificationChannel {
            id: channel.id,
            kind: channel.kind,
            name: channel.name.clone(),
            community_id: channel.community_id,
        }),
        community_id: channel.community_id,
        message_id: None,
        parent_id: None,
        actor: None,
        snippet: None,
        data: serde_json::Value::Object(serde_json::Map::new()),
        created_at: created.created_at,
        read_at: None,
    }
}

/// Records a `notification.created` on each recipient's own subject, in one statement.
async fn publish(
    tx: &mut PgConnection,
    notifications: impl Iterator<Item = (UserId, Notification)>,
    actor: Option<UserId>,
) -> Result<(), sqlx::Error> {
    let events: Vec<(String, Event)> = notifications
        .map(|(user, notification)| {
            let channel = notification.channel.as_ref().map(|c| c.id);
            let community = notification.community_id;
            let event = Event::new(EventPayload::NotificationCreated(notification), community, channel, actor);
            (subject::notifications(user), event)
        })
        .collect();
    db::outbox::enqueue_many(tx, &events).await
}

/// Which notifications a read request names.
#[derive(Clone, Copy, Debug)]
pub enum ReadRequest<'a> {
    Ids(&'a [NotificationId]),
    All,
    Channel(ChannelId),
}

/// Marks `user`'s notifications of `request` read and tells all their clients which.
pub async fn mark_read(
    pool: &PgPool,
    user: UserId,
    request: ReadRequest<'_>,
) -> Result<Written<NotificationsRead>, ChatError> {
    let scope = match request {
        ReadRequest::Ids(ids) => ReadScope::Ids(ids),
        ReadRequest::All => ReadScope::All,
        ReadRequest::Channel(channel) => ReadScope::Channel(channel),
    };
    let mut tx = pool.begin().await?;
    let ids = db::notifications::mark_read(&mut *tx, user, scope).await?;
    let read = NotificationsRead { ids };
    if read.ids.is_empty() {
        return Ok(Written::without_events(read));
    }
    events::for_user(&mut tx, user, EventPayload::NotificationsRead(read.clone())).await?;
    tx.commit().await?;
    Ok(Written::with_events(read))
}

/// Reading `channel` up to `message` reads its notifications up to there too; true if any
/// changed (their event is recorded in `tx`).
pub(crate) async fn read_up_to(
    tx: &mut PgConnection,
    user: UserId,
    channel: ChannelId,
    message: MessageId,
) -> Result<bool, sqlx::Error> {
    let ids = db::notifications::mark_read(&mut *tx, user, ReadScope::UpTo(channel, message)).await?;
    if ids.is_empty() {
        return Ok(false);
    }
    events::for_user(tx, user, EventPayload::NotificationsRead(NotificationsRead { ids })).await?;
    Ok(true)
}
