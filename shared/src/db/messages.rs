//! The `messages` table: sending (with its channel sequence, by a user or a webhook),
//! editing, soft deletion, reactions, pins and history pages.

use sea_query::{Alias, Expr, ExprTrait as _, JoinType, Order, PostgresQueryBuilder, Query};
use sea_query_sqlx::SqlxBinder as _;
use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;

use std::collections::HashMap;

use crate::api::wire::{Attachment, Author, Bot, LinkPreview, Message, PageInfo, ReactionSummary};
use crate::db::attachments::message_attachments;
use crate::domain::ids::{ChannelId, MessageId, UserId, WebhookId};
use crate::domain::names::{ClientMsgId, Emoji, MessageBody};

#[derive(sqlx::FromRow)]
struct MessageRow {
    id: MessageId,
    channel_id: ChannelId,
    channel_seq: i64,
    author_id: Option<UserId>,
    username: Option<String>,
    webhook_id: Option<WebhookId>,
    webhook_name: Option<String>,
    display_name: String,
    avatar_url: Option<String>,
    body_md: String,
    parent_id: Option<MessageId>,
    client_msg_id: Option<String>,
    created_at: OffsetDateTime,
    edited_at: Option<OffsetDateTime>,
    deleted_at: Option<OffsetDateTime>,
    reply_count: i32,
    last_reply_at: Option<OffsetDateTime>,
    pinned_at: Option<OffsetDateTime>,
    pinned_by: Option<UserId>,
    link_previews: sqlx::types::Json<Vec<LinkPreview>>,
    attachments: sqlx::types::Json<Vec<Attachment>>,
}

impl From<MessageRow> for Message {
    fn from(row: MessageRow) -> Self {
        Self {
            id: row.id,
            channel_id: row.channel_id,
            channel_seq: row.channel_seq,
            author: Author {
                user_id: row.author_id,
                username: row.username,
                display_name: row.display_name,
                avatar_url: row.avatar_url,
                bot: row.webhook_id.zip(row.webhook_name).map(|(webhook_id, name)| Bot { webhook_id, name }),
            },
            body_md: row.body_md,
            parent_id: row.parent_id,
            client_msg_id: row.client_msg_id,
            created_at: row.created_at,
            edited_at: row.edited_at,
            deleted_at: row.deleted_at,
            reply_count: row.reply_count,
            last_reply_at: row.last_reply_at,
            pinned_at: row.pinned_at,
            pinned_by: row.pinned_by,
            reactions: Vec::new(),
            link_previews: row.link_previews.0,
            attachments: row.attachments.0,
        }
    }
}

/// The message columns as clients see them: author display data resolved (a webhook's
/// overrides win, its own name is the bot marker), and a deleted message's body gone.
/// Every query selecting them joins `users u` and `webhooks w` (`FROM`).
const SELECT: &str = concat!(
    "m.id, m.channel_id, m.channel_seq, m.author_id, u.username,
    m.webhook_id, w.name AS webhook_name,
    COALESCE(m.display_name, u.display_name, w.name, 'unknown') AS display_name,
    COALESCE(m.avatar_url, u.avatar_url, w.avatar_url) AS avatar_url,
    CASE WHEN m.deleted_at IS NULL THEN m.body_md ELSE '' END AS body_md,
    m.parent_id, m.client_msg_id, m.created_at, m.edited_at, m.deleted_at, m.reply_count, m.last_reply_at,
    m.pinned_at, m.pinned_by,
    CASE WHEN m.deleted_at IS NULL THEN m.link_previews ELSE '[]'::jsonb END AS link_previews, ",
    message_attachments!()
);

/// The tables the message columns come from.
const FROM: &str =
    "FROM messages m LEFT JOIN users u ON u.id = m.author_id LEFT JOIN webhooks w ON w.id = m.webhook_id";

/// Who writes a message to insert.
#[derive(Clone, Copy, Debug)]
pub enum Writer<'a> {
    User(UserId),
    /// A webhook, shown under `display_name` and `avatar_url` (`None`: its own).
    Webhook {
        id: WebhookId,
        display_name: Option<&'a str>,
        avatar_url: Option<&'a str>,
    },
}

/// A message to insert.
#[derive(Debug)]
pub struct NewMessage<'a> {
    pub channel: ChannelId,
    pub writer: Writer<'a>,
    pub body: &'a MessageBody,
    pub parent: Option<MessageId>,
    pub client_msg_id: Option<&'a ClientMsgId>,
}

/// Inserts a message with the channel's next sequence and keeps its thread's summary, in
/// one statement for a top-level message: the sequence bump, the insert and the message as
/// clients see it (the insert's own row, joined with its author) in one round trip. The
/// bump locks the channel's row until the transaction ends, so sequences are gapless and
/// in commit order.
/// Fails on `messages_client_msg_id_unique` when the author already sent that client id.
pub async fn insert(tx: &mut PgConnection, new: &NewMessage<'_>) -> Result<Message, sqlx::Error> {
    let id = MessageId::generate();
    let (author, webhook, display_name, avatar_url) = match new.writer {
        Writer::User(user) => (Some(user), None, None, None),
        Writer::Webhook { id, display_name, avatar_url } => (None, Some(id), display_name, avatar_url),
    };
    let row: MessageRow = sqlx::query_as(&format!(
        "WITH seq AS (
             UPDATE channels SET last_seq = last_seq + 1, last_message_at = now() WHERE id = $2 RETURNING last_seq
         ), m AS (
             INSERT INTO messages
                 (id, channel_id, channel_seq, author_id, webhook_id, display_name, avatar_url, parent_id, body_md, client_msg_id)
             SELECT $1, $2, seq.last_seq, $3, $4, $5, $6, $7, $8, $9 FROM seq
             RETURNING *
         )
         SELECT {SELECT} FROM m LEFT JOIN users u ON u.id = m.author_id LEFT JOIN webhooks w ON w.id = m.webhook_id"
    ))
    .bind(id)
    .bind(new.channel)
    .bind(author)
    .bind(webhook)
    .bind(display_name)
    .bind(avatar_url)
    .bind(new.parent)
    .bind(new.body.as_str())
    .bind(new.client_msg_id.map(ClientMsgId::as_str))
    .fetch_one(&mut *tx)
    .await?;
    if let Some(parent) = new.parent {
        // The thread summary is written with the reply, never computed per read.
        sqlx::query("UPDATE messages SET reply_count = reply_count + 1, last_reply_at = now() WHERE id = $1")
            .bind(parent)
            .execute(&mut *tx)
            .await?;
    }
    Ok(Message::from(row))
}

/// A user's message to send in one statement, with the event announcing it.
#[derive(Debug)]
pub struct CheckedSend<'a> {
    pub id: MessageId,
    pub channel: ChannelId,
    pub author: UserId,
    pub body: &'a MessageBody,
    pub parent: Option<MessageId>,
    pub client_msg_id: Option<&'a ClientMsgId>,
    /// The outbox subject of the channel.
    pub subject: &'a str,
    /// The `message.created` event; the statement fills in its message's `channel_seq`,
    /// `created_at` and `author` from the row it inserts.
    pub event: &'a crate::events::Event,
}

/// Sends a user's message in one statement, which re-checks the posting rules in the
/// `WHERE` of the channel's sequence bump: the channel is not archived, the author is a
/// member and not muted in its community, and the channel is neither frozen nor in slow
/// mode unless the author is an owner or admin of its community. The bump takes the
/// channel's row lock (sequences stay gapless and in commit order); the same statement
/// inserts the message, keeps its thread's summary, writes the event to the outbox and
/// returns the message as clients see it, so the lock is held for this statement and the
/// commit only. A freeze, archive or slow mode committed while the statement waited for
/// the lock is re-checked on the locked row itself.
///
/// `None` when a rule refused (or the channel is gone): nothing was written, and the caller
/// finds out which rule with the locks taken first. Fails on
/// `messages_client_msg_id_unique` when the author already sent that client id.
pub async fn send_checked(db: impl PgExecutor<'_>, send: &CheckedSend<'_>) -> Result<Option<Message>, sqlx::Error> {
    let row: Option<MessageRow> = sqlx::query_as(&format!(
        "WITH seq AS (
             UPDATE channels c SET last_seq = c.last_seq + 1, last_message_at = now()
             WHERE c.id = $2 AND c.archived_at IS NULL
               AND EXISTS (SELECT 1 FROM channel_members cm WHERE cm.channel_id = c.id AND cm.user_id = $3)
               AND NOT EXISTS (
                   SELECT 1 FROM mutes mu WHERE mu.community_id = c.community_id AND mu.user_id = $3
                     AND (mu.muted_until IS NULL OR mu.muted_until > now()))
               AND ((c.frozen_at IS NULL AND c.slow_mode_secs = 0) OR EXISTS (
                   SELECT 1 FROM community_members a WHERE a.community_id = c.community_id AND a.user_id = $3
                     AND a.role IN ('owner', 'admin')))
             RETURNING c.last_seq
         ), m AS (
             INSERT INTO messages (id, channel_id, channel_seq, author_id, parent_id, body_md, client_msg_id)
             SELECT $1, $2, seq.last_seq, $3, $4, $5, $6 FROM seq
             RETURNING *
         ), thread AS (
             UPDATE messages SET reply_count = reply_count + 1, last_reply_at = now()
             WHERE id = (SELECT m.parent_id FROM m)
         ), answer AS (
             SELECT {SELECT} FROM m LEFT JOIN users u ON u.id = m.author_id LEFT JOIN webhooks w ON w.id = m.webhook_id
         ), event AS (
             INSERT INTO outbox (event_id, subject, payload)
             SELECT $7, $8, jsonb_set(jsonb_set(jsonb_set($9::jsonb,
                 '{{data,channel_seq}}', to_jsonb(a.channel_seq)),
                 '{{data,created_at}}', to_jsonb(a.created_at)),
                 '{{data,author}}', jsonb_build_object('user_id', a.author_id, 'username', a.username,
                     'display_name', a.display_name, 'avatar_url', a.avatar_url, 'bot', NULL))
             FROM answer a
         )
         SELECT * FROM answer"
    ))
    .bind(send.id)
    .bind(send.channel)
    .bind(send.author)
    .bind(send.parent)
    .bind(send.body.as_str())
    .bind(send.client_msg_id.map(ClientMsgId::as_str))
    .bind(send.event.id)
    .bind(send.subject)
    .bind(sqlx::types::Json(send.event))
    .fetch_optional(db)
    .await?;
    Ok(row.map(Message::from))
}

/// Replaces a message's body and marks it edited; `None` if it is deleted (a delete that
/// committed first wins: the row lock orders them, and the condition is re-checked).
pub async fn update_body(
    tx: &mut PgConnection,
    id: MessageId,
    body: &MessageBody,
) -> Result<Option<Message>, sqlx::Error> {
    let updated =
        sqlx::query("UPDATE messages SET body_md = $2, edited_at = now(), link_previews = '[]' WHERE id = $1 AND deleted_at IS NULL")
            .bind(id)
            .bind(body.as_str())
            .execute(&mut *tx)
            .await?;
    if updated.rows_affected() == 0 {
        return Ok(None);
    }
    get(&mut *tx, id).await
}

/// Stores the link previews of message `id`, if it is not deleted and its body is still
/// `body_md` (an edit since the fetch started clears them and starts its own fetch).
pub async fn set_link_previews(
    tx: &mut PgConnection,
    id: MessageId,
    body_md: &str,
    previews: &[LinkPreview],
) -> Result<Option<Message>, sqlx::Error> {
    let updated =
        sqlx::query("UPDATE messages SET link_previews = $3 WHERE id = $1 AND body_md = $2 AND deleted_at IS NULL")
            .bind(id)
            .bind(body_md)
            .bind(sqlx::types::Json(previews))
            .execute(&mut *tx)
            .await?;
    if updated.rows_affected() == 0 {
        return Ok(None);
    }
    get(&mut *tx, id).await
}

/// Soft-deletes a message: its row stays as a tombstone (history order, thread shape),
/// its body is never read again, its reactions and pin go. A deleted reply leaves its
/// thread's summary. False if it was already deleted (a concurrent delete won).
pub async fn soft_delete(tx: &mut PgConnection, message: &Message) -> Result<bool, sqlx::Error> {
    let deleted = sqlx::query(
        "UPDATE messages SET deleted_at = now(), pinned_at = NULL, pinned_by = NULL WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind(message.id)
    .execute(&mut *tx)
    .await?;
    if deleted.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query("DELETE FROM reactions WHERE message_id = $1").bind(message.id).execute(&mut *tx).await?;
    if let Some(parent) = message.parent_id {
        sqlx::query(
            "UPDATE messages SET reply_count = GREATEST(reply_count - 1, 0),
                 last_reply_at = (SELECT max(r.created_at) FROM messages r WHERE r.parent_id = $1 AND r.deleted_at IS NULL)
             WHERE id = $1",
        )
        .bind(parent)
        .execute(&mut *tx)
        .await?;
    }
    Ok(true)
}

/// Soft-deletes the `count` newest live messages of `channel` (thread replies included)
/// as `soft_delete` does each one: tombstones kept, reactions and pins gone, the thread
/// summaries of surviving roots recomputed. Answers their ids, oldest first. The rows are
/// locked as an update that keeps their key does (as `soft_delete`'s UPDATE does): a full
/// `FOR UPDATE` would conflict with the search indexer's foreign-key check on a message it
/// is indexing while the purge's re-queueing waits for the indexer, a deadlock.
pub async fn purge_latest(
    tx: &mut PgConnection,
    channel: ChannelId,
    count: i64,
) -> Result<Vec<MessageId>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Purged {
        id: MessageId,
        parent_id: Option<MessageId>,
    }
    let purged: Vec<Purged> = sqlx::query_as(
        "WITH doomed AS (
             SELECT id FROM messages WHERE channel_id = $1 AND deleted_at IS NULL ORDER BY id DESC LIMIT $2
             FOR NO KEY UPDATE
         )
         UPDATE messages m SET deleted_at = now(), pinned_at = NULL, pinned_by = NULL
         FROM doomed WHERE m.id = doomed.id
         RETURNING m.id, m.parent_id",
    )
    .bind(channel)
    .bind(count)
    .fetch_all(&mut *tx)
    .await?;
    let mut ids: Vec<MessageId> = purged.iter().map(|row| row.id).collect();
    ids.sort_unstable();
    let raw: Vec<uuid::Uuid> = ids.iter().map(|id| id.as_uuid()).collect();
    sqlx::query("DELETE FROM reactions WHERE message_id = ANY($1)").bind(&raw).execute(&mut *tx).await?;
    let mut parents: Vec<uuid::Uuid> = purged.iter().filter_map(|row| row.parent_id).map(MessageId::as_uuid).collect();
    parents.sort_unstable();
    parents.dedup();
    if !parents.is_empty() {
        sqlx::query(
            "UPDATE messages p SET
                 reply_count = (SELECT count(*) FROM messages r WHERE r.parent_id = p.id AND r.deleted_at IS NULL),
                 last_reply_at = (SELECT max(r.created_at) FROM messages r WHERE r.parent_id = p.id AND r.deleted_at IS NULL)
             WHERE p.id = ANY($1)",
        )
        .bind(&parents)
        .execute(&mut *tx)
        .await?;
    }
    Ok(ids)
}

/// Sets (`by` given) or clears a message's pin. False if nothing changed.
pub async fn set_pin(tx: &mut PgConnection, id: MessageId, by: Option<UserId>) -> Result<bool, sqlx::Error> {
    let changed = match by {
        Some(user) => {
            sqlx::query("UPDATE messages SET pinned_at = now(), pinned_by = $2 WHERE id = $1 AND pinned_at IS NULL")
                .bind(id)
                .bind(user)
                .execute(tx)
                .await?
        }
        None => {
            sqlx::query(
                "UPDATE messages SET pinned_at = NULL, pinned_by = NULL WHERE id = $1 AND pinned_at IS NOT NULL",
            )
            .bind(id)
            .execute(tx)
            .await?
        }
    };
    Ok(changed.rows_affected() == 1)
}

/// The pinned messages of a channel, most recently pinned first.
pub async fn pinned(db: impl PgExecutor<'_>, channel: ChannelId) -> Result<Vec<Message>, sqlx::Error> {
    let rows: Vec<MessageRow> = sqlx::query_as(&format!(
        "SELECT {SELECT} {FROM}
         WHERE m.channel_id = $1 AND m.pinned_at IS NOT NULL AND m.deleted_at IS NULL ORDER BY m.pinned_at DESC LIMIT 200"
    ))
    .bind(channel)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Message::from).collect())
}

/// Adds a reaction; false if the user had already reacted so.
pub async fn add_reaction(
    tx: &mut PgConnection,
    message: MessageId,
    user: UserId,
    emoji: &Emoji,
) -> Result<bool, sqlx::Error> {
    let inserted =
        sqlx::query("INSERT INTO reactions (message_id, user_id, emoji) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(message)
            .bind(user)
            .bind(emoji.as_str())
            .execute(tx)
            .await?;
    Ok(inserted.rows_affected() == 1)
}

/// Removes a reaction; false if there was none.
pub async fn remove_reaction(
    tx: &mut PgConnection,
    message: MessageId,
    user: UserId,
    emoji: &Emoji,
) -> Result<bool, sqlx::Error> {
    let deleted = sqlx::query("DELETE FROM reactions WHERE message_id = $1 AND user_id = $2 AND emoji = $3")
        .bind(message)
        .bind(user)
        .bind(emoji.as_str())
        .execute(tx)
        .await?;
    Ok(deleted.rows_affected() == 1)
}

#[derive(sqlx::FromRow)]
struct ReactionRow {
    message_id: MessageId,
    emoji: String,
    count: i64,
    reacted_by_me: bool,
}

/// Fills in the aggregated reactions of `messages` as `viewer` sees them, with one query
/// for the whole page.
pub async fn attach_reactions(
    db: impl PgExecutor<'_>,
    messages: &mut [Message],
    viewer: UserId,
) -> Result<(), sqlx::Error> {
    if messages.is_empty() {
        return Ok(());
    }
    let ids: Vec<uuid::Uuid> = messages.iter().map(|m| m.id.as_uuid()).collect();
    let rows: Vec<ReactionRow> = sqlx::query_as(
        "SELECT message_id, emoji, count(*) AS count, bool_or(user_id = $2) AS reacted_by_me
         FROM reactions WHERE message_id = ANY($1) GROUP BY message_id, emoji ORDER BY message_id, min(created_at)",
    )
    .bind(&ids)
    .bind(viewer)
    .fetch_all(db)
    .await?;
    let mut by_message: HashMap<MessageId, Vec<ReactionSummary>> = HashMap::new();
    for row in rows {
        by_message.entry(row.message_id).or_default().push(ReactionSummary {
            emoji: row.emoji,
            count: row.count,
            reacted_by_me: row.reacted_by_me,
        });
    }
    for message in messages {
        message.reactions = by_message.remove(&message.id).unwrap_or_default();
    }
    Ok(())
}

pub async fn get(db: impl PgExecutor<'_>, id: MessageId) -> Result<Option<Message>, sqlx::Error> {
    let row: Option<MessageRow> =
        sqlx::query_as(&format!("SELECT {SELECT} {FROM} WHERE m.id = $1")).bind(id).fetch_optional(db).await?;
    Ok(row.map(Message::from))
}

/// The message `author` already sent with `client_msg_id`, for idempotent retries.
pub async fn find_by_client_msg_id(
    db: impl PgExecutor<'_>,
    author: UserId,
    client_msg_id: &ClientMsgId,
) -> Result<Option<Message>, sqlx::Error> {
    let row: Option<MessageRow> =
        sqlx::query_as(&format!("SELECT {SELECT} {FROM} WHERE m.author_id = $1 AND m.client_msg_id = $2"))
            .bind(author)
            .bind(client_msg_id.as_str())
            .fetch_optional(db)
            .await?;
    Ok(row.map(Message::from))
}

/// Which messages a page lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// A channel's top-level messages (replies are listed under their root).
    Channel(ChannelId),
    /// The replies of one thread root.
    Thread(MessageId),
}

/// Where a page starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cursor {
    /// The newest messages.
    Latest,
    /// Messages older than this one.
    Before(MessageId),
    /// Messages newer than this one.
    After(MessageId),
    /// This message with older ones before it and newer ones after it.
    Around(MessageId),
}

/// Up to `limit` messages of `scope` on one side of a position, oldest first, plus whether
/// more lie beyond. Positions are `channel_seq`s, assigned under the channel's row lock in
/// commit order, never a clock: with several api instances a message's UUIDv7 id carries
/// its instance's clock, so ids of one channel need not follow the order of its messages,
/// and paging by id could skip a message committed after the page was read. Uses the
/// partial `(channel_id, channel_seq)` / `(parent_id, channel_seq)` indexes (migration 0019).
async fn side(
    db: impl PgExecutor<'_>,
    scope: Scope,
    newer_than: Option<(i64, bool)>,
    older_than: Option<(i64, bool)>,
    limit: u16,
) -> Result<(Vec<Message>, bool), sqlx::Error> {
    let m = Alias::new("m");
    let column = |name: &str| Expr::col((m.clone(), Alias::new(name)));
    let mut query = Query::select();
    query
        .expr(Expr::cust(SELECT))
        .from_as(Alias::new("messages"), m.clone())
        .join_as(JoinType::LeftJoin, Alias::new("users"), Alias::new("u"), Expr::cust("u.id = m.author_id"))
        .join_as(JoinType::LeftJoin, Alias::new("webhooks"), Alias::new("w"), Expr::cust("w.id = m.webhook_id"))
        .limit(u64::from(limit) + 1);
    match scope {
        Scope::Channel(channel) => {
            query.and_where(column("channel_id").eq(channel.as_uuid())).and_where(column("parent_id").is_null())
        }
        Scope::Thread(root) => query.and_where(column("parent_id").eq(root.as_uuid())),
    };
    let ascending = newer_than.is_some();
    if let Some((seq, inclusive)) = newer_than {
        query.and_where(if inclusive { column("channel_seq").gte(seq) } else { column("channel_seq").gt(seq) });
    }
    if let Some((seq, inclusive)) = older_than {
        query.and_where(if inclusive { column("channel_seq").lte(seq) } else { column("channel_seq").lt(seq) });
    }
    query.order_by((m.clone(), Alias::new("channel_seq")), if ascending { Order::Asc } else { Order::Desc });
    let (sql, values) = query.build_sqlx(PostgresQueryBuilder);
    let rows: Vec<MessageRow> = sqlx::query_as_with(&sql, values).fetch_all(db).await?;
    let has_more = rows.len() > usize::from(limit);
    let mut messages: Vec<Message> = rows.into_iter().take(usize::from(limit)).map(Message::from).collect();
    if !ascending {
        messages.reverse();
    }
    Ok((messages, has_more))
}

/// The position (`channel_seq`) of `cursor`'s message in `scope`: a message of the
/// channel (a reply too: replies share the channel's sequence), or of the thread (its
/// root or a reply). None when it is not one.
async fn position(db: impl PgExecutor<'_>, scope: Scope, cursor: MessageId) -> Result<Option<i64>, sqlx::Error> {
    match scope {
        Scope::Channel(channel) => {
            sqlx::query_scalar("SELECT channel_seq FROM messages WHERE id = $1 AND channel_id = $2")
                .bind(cursor)
                .bind(channel)
                .fetch_optional(db)
                .await
        }
        Scope::Thread(root) => {
            sqlx::query_scalar("SELECT channel_seq FROM messages WHERE id = $1 AND (id = $2 OR parent_id = $2)")
                .bind(cursor)
                .bind(root)
                .fetch_optional(db)
                .await
        }
    }
}

/// One page of `scope`, oldest first, in `channel_seq` order. `page.before` /
/// `page.after` are the cursors (message ids) for the next older / newer page, null where
/// that end has been reached. None when the cursor's message is not in `scope`.
pub async fn history(
    db: impl PgExecutor<'_> + Copy,
    scope: Scope,
    cursor: Cursor,
    limit: u16,
) -> Result<Option<(Vec<Message>, PageInfo)>, sqlx::Error> {
    let at = match cursor {
        Cursor::Latest => 0,
        Cursor::Before(id) | Cursor::After(id) | Cursor::Around(id) => match position(db, scope, id).await? {
            Some(seq) => seq,
            None => return Ok(None),
        },
    };
    let (messages, older_more, newer_more) = match cursor {
        Cursor::Latest => {
            let (messages, more) = side(db, scope, None, None, limit).await?;
            (messages, more, false)
        }
        Cursor::Before(_) => {
            let (messages, more) = side(db, scope, None, Some((at, false)), limit).await?;
            (messages, more, true)
        }
        Cursor::After(_) => {
            let (messages, more) = side(db, scope, Some((at, false)), None, limit).await?;
            (messages, true, more)
        }
        Cursor::Around(_) => {
            let older_limit = limit.div_ceil(2);
            let (mut messages, older_more) = side(db, scope, None, Some((at, true)), older_limit).await?;
            let (newer, newer_more) = side(db, scope, Some((at, false)), None, limit - older_limit).await?;
            messages.extend(newer);
            (messages, older_more, newer_more)
        }
    };
    let first = messages.first().map(|m| m.id.to_string());
    let last = messages.last().map(|m| m.id.to_string());
    let (has_more, before, after) = match cursor {
        Cursor::After(_) => (newer_more, first.filter(|_| older_more), last.filter(|_| newer_more)),
        _ => (older_more, first.filter(|_| older_more), last.filter(|_| newer_more)),
    };
    Ok(Some((messages, PageInfo { before, after, has_more })))
}

/// The lower bound of the UUIDv7 ids made at or after `at` (less a minute: an id is made by
/// the application shortly before its transaction stamps `created_at`), so a range scan
/// of `(channel_id, id)` finds every row the exact time condition keeps.
#[must_use]
pub fn id_floor(at: OffsetDateTime) -> uuid::Uuid {
    let millis = (at - time::Duration::MINUTE).unix_timestamp_nanos() / 1_000_000;
    let millis = u64::try_from(millis.max(0)).unwrap_or(0);
    let mut bytes = [0_u8; 16];
    bytes[..6].copy_from_slice(&millis.to_be_bytes()[2..]);
    uuid::Uuid::from_bytes(bytes)
}

/// The messages of the channels `user` is a member of that were posted, edited or deleted
/// after `since` (deleted ones as tombstones), by channel and id, at most `cap` + 1 per
/// channel (a channel with more says so and is refetched).
pub async fn changed_since(
    db: impl PgExecutor<'_>,
    user: UserId,
    since: OffsetDateTime,
    cap: i64,
) -> Result<Vec<Message>, sqlx::Error> {
    let rows: Vec<MessageRow> = sqlx::query_as(&format!(
        "SELECT {SELECT} FROM channel_members cm
         JOIN LATERAL (
             SELECT x.id FROM (
                 (SELECT n.id FROM messages n
                  WHERE n.channel_id = cm.channel_id AND n.id > $2 AND n.created_at > $3 ORDER BY n.id LIMIT $4)
                 UNION
                 (SELECT e.id FROM messages e
                  WHERE e.channel_id = cm.channel_id AND (e.edited_at IS NOT NULL OR e.deleted_at IS NOT NULL)
                    AND GREATEST(e.edited_at, e.deleted_at) > $3
                  ORDER BY e.id LIMIT $4)
             ) x ORDER BY x.id LIMIT $4
         ) changed ON true
         JOIN messages m ON m.id = changed.id
         LEFT JOIN users u ON u.id = m.author_id LEFT JOIN webhooks w ON w.id = m.webhook_id
         WHERE cm.user_id = $1
         ORDER BY m.channel_id, m.id"
    ))
    .bind(user)
    .bind(id_floor(since))
    .bind(since)
    .bind(cap + 1)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Message::from).collect())
}
