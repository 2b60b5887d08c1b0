//! The `notifications` table: a message's recipients chosen and inserted in one statement,
//! invites, the inbox page, and marking read.

use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;

use crate::api::wire::{ChannelKind, Notification, NotificationChannel, NotificationKind, User};
use crate::domain::ids::{ChannelId, CommunityId, MessageId, NotificationId, UserId};

/// How much of a message's text a notification shows, in characters.
pub const SNIPPET_CHARS: usize = 200;

/// Which recipients a message may notify, besides the users it mentions by name (read
/// from the message's recorded mentions).
#[derive(Clone, Copy, Debug)]
pub struct Recipients {
    /// `@channel` or `@everyone`: every member of the channel.
    pub channel: bool,
    /// `@here`: the members seen within the last two minutes.
    pub here: bool,
    /// An edit: only mentions notify (DM and thread notifications belong to the post).
    pub only_mentions: bool,
}

/// One notification a statement created.
#[derive(Debug, sqlx::FromRow)]
pub struct Created {
    pub id: NotificationId,
    pub user_id: UserId,
    pub kind: String,
    pub created_at: OffsetDateTime,
}

/// Creates the notifications of `message` (by `author`, `None` for a webhook) in `channel`,
/// a thread reply under `parent`, in one `INSERT … SELECT`: the users it mentions by name,
/// the channel's members for `@channel`, the online ones for `@here`, everyone in a DM,
/// and a thread's root author and earlier repliers. Each user gets at most one, of the
/// first kind that applies (mention, dm, thread reply); never the author, never someone
/// who cannot read the channel, never against the user's preferences (`none`, or a mute
/// that has not ended; `mentions` keeps only mentions). A user already notified of the
/// message is skipped, so an edit notifies only the newly mentioned.
pub async fn for_message(
    tx: &mut PgConnection,
    message: MessageId,
    channel: ChannelId,
    author: Option<UserId>,
    parent: Option<MessageId>,
    recipients: Recipients,
) -> Result<Vec<Created>, sqlx::Error> {
    sqlx::query_as(
        "WITH here AS (SELECT kind, community_id FROM channels WHERE id = $2),
         candidates (user_id, kind, rank) AS (
             SELECT t.user_id, 'mention', 1 FROM mentions t
             WHERE t.message_id = $1 AND t.kind = 'user' AND t.user_id IS NOT NULL
             UNION ALL
             SELECT cm.user_id, 'mention', 1 FROM channel_members cm WHERE cm.channel_id = $2 AND $4
             UNION ALL
             SELECT cm.user_id, 'mention', 1 FROM channel_members cm JOIN presence p ON p.user_id = cm.user_id
             WHERE cm.channel_id = $2 AND $5 AND p.last_seen_at > now() - interval '2 minutes'
             UNION ALL
             SELECT cm.user_id, 'dm', 2 FROM channel_members cm JOIN here ON here.kind IN ('dm', 'group_dm')
             WHERE cm.channel_id = $2 AND NOT $7
             UNION ALL
             SELECT r.author_id, 'thread_reply', 3 FROM messages r
             WHERE $6::uuid IS NOT NULL AND NOT $7 AND r.channel_id = $2 AND r.author_id IS NOT NULL
               AND (r.id = $6 OR (r.parent_id = $6 AND r.id < $1))
         ),
         chosen AS (
             SELECT DISTINCT ON (c.user_id) c.user_id, c.kind FROM candidates c ORDER BY c.user_id, c.rank
         )
         INSERT INTO notifications (id, user_id, kind, message_id, channel_id, community_id, actor_id)
         SELECT uuid_v7(), chosen.user_id, chosen.kind, $1, $2, here.community_id, $3
         FROM chosen CROSS JOIN here
         LEFT JOIN channel_members pref ON pref.channel_id = $2 AND pref.user_id = chosen.user_id
         WHERE chosen.user_id IS DISTINCT FROM $3
           AND (pref.user_id IS NOT NULL OR (here.kind = 'public' AND EXISTS (
               SELECT 1 FROM community_members m WHERE m.community_id = here.community_id AND m.user_id = chosen.user_id)))
           AND (pref.muted_until IS NULL OR pref.muted_until <= now())
           AND CASE COALESCE(pref.notify_level, 'all')
                   WHEN 'all' THEN true
                   WHEN 'mentions' THEN chosen.kind = 'mention'
                   ELSE false
               END
         ORDER BY chosen.user_id
         ON CONFLICT (user_id, message_id) WHERE message_id IS NOT NULL DO NOTHING
         RETURNING id, user_id, kind, created_at",
    )
    .bind(message)
    .bind(channel)
    .bind(author)
    .bind(recipients.channel)
    .bind(recipients.here)
    .bind(parent)
    .bind(recipients.only_mentions)
    .fetch_all(tx)
    .await
}

/// How many members `channel` has.
pub async fn channel_size(db: impl PgExecutor<'_>, channel: ChannelId) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM channel_members WHERE channel_id = $1").bind(channel).fetch_one(db).await
}

/// `user` was added to `channel` by `actor`.
pub async fn invite(
    tx: &mut PgConnection,
    user: UserId,
    channel: ChannelId,
    community: Option<CommunityId>,
    actor: UserId,
) -> Result<Created, sqlx::Error> {
    sqlx::query_as(
        "INSERT INTO notifications (id, user_id, kind, channel_id, community_id, actor_id)
         VALUES (uuid_v7(), $1, 'invite', $2, $3, $4) RETURNING id, user_id, kind, created_at",
    )
    .bind(user)
    .bind(channel)
    .bind(community)
    .bind(actor)
    .fetch_one(tx)
    .await
}

/// A system notification to `user` about `community` (a ban, a kick, a mute, a role change),
/// `data` saying which.
pub async fn system(
    tx: &mut PgConnection,
    user: UserId,
    community: CommunityId,
    actor: UserId,
    data: &serde_json::Value,
) -> Result<Created, sqlx::Error> {
    sqlx::query_as(
        "INSERT INTO notifications (id, user_id, kind, community_id, actor_id, data)
         VALUES (uuid_v7(), $1, 'system', $2, $3, $4) RETURNING id, user_id, kind, created_at",
    )
    .bind(user)
    .bind(community)
    .bind(actor)
    .bind(data)
    .fetch_one(tx)
    .await
}

#[derive(sqlx::FromRow)]
struct Row {
    id: NotificationId,
    kind: String,
    message_id: Option<MessageId>,
    parent_id: Option<MessageId>,
    community_id: Option<CommunityId>,
    channel_id: Option<ChannelId>,
    channel_kind: Option<String>,
    channel_name: Option<String>,
    channel_community_id: Option<CommunityId>,
    actor_id: Option<UserId>,
    actor_username: Option<String>,
    actor_display_name: Option<String>,
    actor_avatar_url: Option<String>,
    snippet: Option<String>,
    data: sqlx::types::Json<serde_json::Value>,
    created_at: OffsetDateTime,
    read_at: Option<OffsetDateTime>,
}

impl From<Row> for Notification {
    fn from(row: Row) -> Self {
        let channel = row.channel_id.map(|id| NotificationChannel {
            id,
            kind: row.channel_kind.as_deref().and_then(ChannelKind::parse).unwrap_or(ChannelKind::Private),
            name: row.channel_name,
            community_id: row.channel_community_id,
        });
        let actor = row.actor_id.map(|id| User {
            id,
            username: row.actor_username.unwrap_or_default(),
            display_name: row.actor_display_name.unwrap_or_default(),
            avatar_url: row.actor_avatar_url,
        });
        Self {
            id: row.id,
            kind: NotificationKind::parse(&row.kind).unwrap_or(NotificationKind::System),
            channel,
            community_id: row.community_id,
            message_id: row.message_id,
            parent_id: row.parent_id,
            actor,
            snippet: row.snippet,
            data: row.data.0,
            created_at: row.created_at,
            read_at: row.read_at,
        }
    }
}

/// A notification with its context, for `user` ($1), snippets of $5 characters: only those
/// the inbox shows (not of deleted messages, not of channels the user can no longer read).
const LIST_SELECT: &str = "SELECT n.id, n.kind, n.message_id, m.parent_id, n.community_id, n.channel_id,
        c.kind AS channel_kind, c.name AS channel_name, c.community_id AS channel_community_id,
        n.actor_id, a.username AS actor_username, a.display_name AS actor_display_name,
        a.avatar_url AS actor_avatar_url, left(m.body_md, $5) AS snippet, n.data, n.created_at, n.read_at
    FROM notifications n
    LEFT JOIN channels c ON c.id = n.channel_id
    LEFT JOIN messages m ON m.id = n.message_id
    LEFT JOIN users a ON a.id = n.actor_id
    WHERE n.user_id = $1 AND m.deleted_at IS NULL
      AND (n.channel_id IS NULL
           OR EXISTS (SELECT 1 FROM channel_members cm WHERE cm.channel_id = n.channel_id AND cm.user_id = $1)
           OR (c.kind = 'public' AND EXISTS (
               SELECT 1 FROM community_members cm WHERE cm.community_id = c.community_id AND cm.user_id = $1)))";

/// `user`'s notifications, newest first: `limit` of them older than `before`, only unread
/// ones if `unread`. Those of deleted messages and of channels the user can no longer read
/// are left out. Returns whether more follow.
pub async fn list(
    db: impl PgExecutor<'_>,
    user: UserId,
    unread: bool,
    before: Option<NotificationId>,
    limit: u16,
) -> Result<(Vec<Notification>, bool), sqlx::Error> {
    let mut rows: Vec<Row> = sqlx::query_as(&format!(
        "{LIST_SELECT} AND ($2::uuid IS NULL OR n.id < $2) AND (NOT $3 OR n.read_at IS NULL) ORDER BY n.id DESC LIMIT $4"
    ))
    .bind(user)
    .bind(before)
    .bind(unread)
    .bind(i64::from(limit) + 1)
    .bind(i32::try_from(SNIPPET_CHARS).unwrap_or(i32::MAX))
    .fetch_all(db)
    .await?;
    let more = rows.len() > usize::from(limit);
    rows.truncate(usize::from(limit));
    Ok((rows.into_iter().map(Notification::from).collect(), more))
}

/// Which of `user`'s unread notifications to mark read.
#[derive(Clone, Copy, Debug)]
pub enum ReadScope<'a> {
    Ids(&'a [NotificationId]),
    All,
    Channel(ChannelId),
    /// A channel's, up to and including those of `message` (a read cursor moved there).
    UpTo(ChannelId, MessageId),
}

/// Marks the notifications of `scope` read; returns those that were unread.
pub async fn mark_read(
    db: impl PgExecutor<'_>,
    user: UserId,
    scope: ReadScope<'_>,
) -> Result<Vec<NotificationId>, sqlx::Error> {
    let (ids, channel, up_to): (Option<Vec<uuid::Uuid>>, Option<ChannelId>, Option<MessageId>) = match scope {
        ReadScope::Ids(ids) => (Some(ids.iter().map(|id| id.as_uuid()).collect()), None, None),
        ReadScope::All => (None, None, None),
        ReadScope::Channel(channel) => (None, Some(channel), None),
        ReadScope::UpTo(channel, message) => (None, Some(channel), Some(message)),
    };
    sqlx::query_scalar(
        "UPDATE notifications SET read_at = now()
         WHERE user_id = $1 AND read_at IS NULL
           AND ($2::uuid[] IS NULL OR id = ANY($2))
           AND ($3::uuid IS NULL OR channel_id = $3)
           AND ($4::uuid IS NULL OR message_id <= $4)
         RETURNING id",
    )
    .bind(user)
    .bind(ids)
    .bind(channel)
    .bind(up_to)
    .fetch_all(db)
    .await
}

/// `user`'s notifications created after `since` that the inbox would show, newest first,
/// at most `limit`; and whether more follow.
pub async fn created_since(
    db: impl PgExecutor<'_>,
    user: UserId,
    since: OffsetDateTime,
    limit: u16,
) -> Result<(Vec<Notification>, bool), sqlx::Error> {
    let mut rows: Vec<Row> =
        sqlx::query_as(&format!("{LIST_SELECT} AND n.id > $2 AND n.created_at > $3 ORDER BY n.id DESC LIMIT $4"))
            .bind(user)
            .bind(crate::db::messages::id_floor(since))
            .bind(since)
            .bind(i64::from(limit) + 1)
            .bind(i32::try_from(SNIPPET_CHARS).unwrap_or(i32::MAX))
            .fetch_all(db)
            .await?;
    let more = rows.len() > usize::from(limit);
    rows.truncate(usize::from(limit));
    Ok((rows.into_iter().map(Notification::from).collect(), more))
}

/// The ids of `user`'s notifications that became read after `since`.
pub async fn read_since(
    db: impl PgExecutor<'_>,
    user: UserId,
    since: OffsetDateTime,
) -> Result<Vec<NotificationId>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM notifications WHERE user_id = $1 AND read_at > $2 ORDER BY id")
        .bind(user)
        .bind(since)
        .fetch_all(db)
        .await
}
