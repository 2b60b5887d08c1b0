//! The `messages` table: sending (with its channel sequence) and history pages.

use sea_query::{Alias, Expr, ExprTrait as _, JoinType, Order, PostgresQueryBuilder, Query};
use sea_query_sqlx::SqlxBinder as _;
use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;

use crate::api::wire::{Author, Message, PageInfo};
use crate::db::channels;
use crate::domain::ids::{ChannelId, MessageId, UserId};
use crate::domain::names::{ClientMsgId, MessageBody};

#[derive(sqlx::FromRow)]
struct MessageRow {
    id: MessageId,
    channel_id: ChannelId,
    channel_seq: i64,
    author_id: Option<UserId>,
    username: Option<String>,
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
            },
            body_md: row.body_md,
            parent_id: row.parent_id,
            client_msg_id: row.client_msg_id,
            created_at: row.created_at,
            edited_at: row.edited_at,
            deleted_at: row.deleted_at,
            reply_count: row.reply_count,
            last_reply_at: row.last_reply_at,
        }
    }
}

/// The message columns as clients see them: author display data resolved (a webhook's
/// overrides win), and a deleted message's body gone.
const SELECT: &str = "m.id, m.channel_id, m.channel_seq, m.author_id, u.username,
    COALESCE(m.display_name, u.display_name, 'unknown') AS display_name,
    COALESCE(m.avatar_url, u.avatar_url) AS avatar_url,
    CASE WHEN m.deleted_at IS NULL THEN m.body_md ELSE '' END AS body_md,
    m.parent_id, m.client_msg_id, m.created_at, m.edited_at, m.deleted_at, m.reply_count, m.last_reply_at";

/// A message to insert.
#[derive(Debug)]
pub struct NewMessage<'a> {
    pub channel: ChannelId,
    pub author: UserId,
    pub body: &'a MessageBody,
    pub parent: Option<MessageId>,
    pub client_msg_id: Option<&'a ClientMsgId>,
}

/// Inserts a message with the channel's next sequence. Fails on
/// `messages_client_msg_id_unique` when the author already sent that client id.
pub async fn insert(tx: &mut PgConnection, new: &NewMessage<'_>) -> Result<Message, sqlx::Error> {
    let seq = channels::next_seq(&mut *tx, new.channel).await?;
    let id = MessageId::generate();
    sqlx::query(
        "INSERT INTO messages (id, channel_id, channel_seq, author_id, parent_id, body_md, client_msg_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(new.channel)
    .bind(seq)
    .bind(new.author)
    .bind(new.parent)
    .bind(new.body.as_str())
    .bind(new.client_msg_id.map(ClientMsgId::as_str))
    .execute(&mut *tx)
    .await?;
    get(&mut *tx, id).await?.ok_or(sqlx::Error::RowNotFound)
}

pub async fn get(db: impl PgExecutor<'_>, id: MessageId) -> Result<Option<Message>, sqlx::Error> {
    let row: Option<MessageRow> = sqlx::query_as(&format!(
        "SELECT {SELECT} FROM messages m LEFT JOIN users u ON u.id = m.author_id WHERE m.id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(Message::from))
}

/// The message `author` already sent with `client_msg_id`, for idempotent retries.
pub async fn find_by_client_msg_id(
    db: impl PgExecutor<'_>,
    author: UserId,
    client_msg_id: &ClientMsgId,
) -> Result<Option<Message>, sqlx::Error> {
    let row: Option<MessageRow> = sqlx::query_as(&format!(
        "SELECT {SELECT} FROM messages m LEFT JOIN users u ON u.id = m.author_id WHERE m.author_id = $1 AND m.client_msg_id = $2"
    ))
    .bind(author)
    .bind(client_msg_id.as_str())
    .fetch_optional(db)
    .await?;
    Ok(row.map(Message::from))
}

/// Where a history page starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cursor {
    /// The newest messages.
    Latest,
    /// Messages older than this one.
    Before(MessageId),
    /// Messages newer than this one.
    After(MessageId),
}

/// One page of a channel's top-level messages (thread replies are listed under their
/// root), oldest first, using the `(channel_id, id)` index.
pub async fn history(
    db: impl PgExecutor<'_>,
    channel: ChannelId,
    cursor: Cursor,
    limit: u16,
) -> Result<(Vec<Message>, PageInfo), sqlx::Error> {
    let m = Alias::new("m");
    let column = |name: &str| Expr::col((m.clone(), Alias::new(name)));
    let mut query = Query::select();
    query
        .expr(Expr::cust(SELECT))
        .from_as(Alias::new("messages"), m.clone())
        .join_as(JoinType::LeftJoin, Alias::new("users"), Alias::new("u"), Expr::cust("u.id = m.author_id"))
        .and_where(column("channel_id").eq(channel.as_uuid()))
        .and_where(column("parent_id").is_null())
        .limit(u64::from(limit) + 1);
    match cursor {
        Cursor::Latest => query.order_by((m.clone(), Alias::new("id")), Order::Desc),
        Cursor::Before(id) => {
            query.and_where(column("id").lt(id.as_uuid())).order_by((m.clone(), Alias::new("id")), Order::Desc)
        }
        Cursor::After(id) => {
            query.and_where(column("id").gt(id.as_uuid())).order_by((m.clone(), Alias::new("id")), Order::Asc)
        }
    };
    let (sql, values) = query.build_sqlx(PostgresQueryBuilder);
    let rows: Vec<MessageRow> = sqlx::query_as_with(&sql, values).fetch_all(db).await?;
    let has_more = rows.len() > usize::from(limit);
    let mut messages: Vec<Message> = rows.into_iter().take(usize::from(limit)).map(Message::from).collect();
    if !matches!(cursor, Cursor::After(_)) {
        messages.reverse();
    }
    let first = messages.first().map(|m| m.id.to_string());
    let last = messages.last().map(|m| m.id.to_string());
    let page = match cursor {
        Cursor::Latest => PageInfo { before: if has_more { first } else { None }, after: None, has_more },
        Cursor::Before(id) => {
            PageInfo { before: if has_more { first } else { None }, after: last.or(Some(id.to_string())), has_more }
        }
        Cursor::After(id) => {
            PageInfo { before: first.or(Some(id.to_string())), after: if has_more { last } else { None }, has_more }
        }
    };
    Ok((messages, page))
}
