//! Search over the messages a user may read now: a parsed `search::ParsedQuery` turned
//! into SQL (every value bound, never spliced), and the snippet of each hit. A page is two
//! or three statements: the scope (channels, authors), then the candidates found by one of
//! two plans (`statement`).
//!
//! A term matches a message by its words (`tsv`, GIN) or, for a partial word, by substring:
//! `ILIKE` through the trigram index for three characters or more, the CJK bigram index
//! (migration 0012) for a two-character CJK word. Relevance ranks the newest
//! `RELEVANCE_WINDOW` matches: exact words 2, a prefix 1, a substring 0.5, plus `ts_rank`,
//! times 1 + a recency factor that halves in a week; `recent` pages through every match by
//! id.
//!
//! The text indexes are on `message_search`, filled after the send's commit by
//! `index_pending` (migration 0020): a send only queues its message in `search_pending`.
//! A search reads both (an indexed row counts while its message is not queued again), so
//! it is exact whether or not the indexer has caught up.

use std::fmt::Write as _;

use sqlx::postgres::PgArguments;
use sqlx::{Arguments as _, PgExecutor, PgPool};
use time::OffsetDateTime;

use crate::api::wire::{
    Attachment, Author, Bot, ChannelKind, LinkPreview, Message, NotificationChannel, SearchHit, SearchSort,
};
use crate::domain::ids::{ChannelId, CommunityId, MessageId, UserId, WebhookId};
use crate::search::{Has, Is, ParsedQuery, Term};

/// How many of the newest matches relevance ranks.
pub const RELEVANCE_WINDOW: i64 = 200;
/// How many of the newest messages are looked through first (see `statement`).
const PROBE: i64 = 10_000;
/// Characters of context kept before the first hit in a snippet.
const SNIPPET_BEFORE: usize = 60;
/// Characters a snippet holds at most.
const SNIPPET_CHARS: usize = 200;
const MARK_OPEN: &str = "<mark>";
const MARK_CLOSE: &str = "</mark>";

/// Where a page starts: after the last hit of the previous page.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct After {
    /// The relevance score of the last hit (0 when sorting by time).
    pub score: f64,
    pub id: MessageId,
}

/// One search, as the endpoint asks it.
#[derive(Debug)]
pub struct Search<'a> {
    pub user: UserId,
    pub query: &'a ParsedQuery,
    pub sort: SearchSort,
    /// The time the first page was asked at: relevance ranks what was posted until then, and
    /// measures recency from it, so pages stay consistent.
    pub at: OffsetDateTime,
    pub after: Option<After>,
    pub limit: u16,
}

/// A statement being built: text with `$n` placeholders and their values.
struct Sql {
    text: String,
    args: PgArguments,
    count: usize,
}

impl Sql {
    fn new() -> Self {
        Self { text: String::new(), args: PgArguments::default(), count: 0 }
    }

    /// Binds `value` and answers its placeholder.
    fn bind<T>(&mut self, value: T) -> Result<String, sqlx::Error>
    where
        T: for<'q> sqlx::Encode<'q, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + 'static,
    {
        self.args.add(value).map_err(sqlx::Error::Encode)?;
        self.count += 1;
        Ok(format!("${}", self.count))
    }
}

/// `text` as one quoted tsquery operand: its words (split by the text-search parser) in
/// order, `:*` for a prefix.
fn ts_operand(term: &Term, exact: bool) -> String {
    let quoted = format!("'{}'", term.text().replace('\\', "\\\\").replace('\'', "''"));
    match term {
        Term::Word { prefix: true, .. } if !exact => format!("{quoted}:*"),
        _ => quoted,
    }
}

/// The whole query as tsquery text: clauses joined by `&`, alternatives by `|`; `exact`
/// leaves out the prefix of a word that was only being typed.
fn ts_query(query: &ParsedQuery, exact: bool) -> String {
    query
        .clauses
        .iter()
        .map(|clause| {
            format!("({})", clause.iter().map(|term| ts_operand(term, exact)).collect::<Vec<_>>().join(" | "))
        })
        .collect::<Vec<_>>()
        .join(" & ")
}

/// `%text%` for ILIKE, its wildcards escaped.
fn like_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{3040}'..='\u{30ff}' | '\u{3400}'..='\u{4dbf}' | '\u{4e00}'..='\u{9fff}' | '\u{ac00}'..='\u{d7af}' | '\u{f900}'..='\u{faff}')
}

/// The SQL condition for one term over the text of `t` (the alias of `messages` or of
/// `message_search`, which both have `tsv` and `body_md`): its words, or its text as a
/// substring where an index can find it.
fn term_condition(sql: &mut Sql, term: &Term, t: &str) -> Result<String, sqlx::Error> {
    let words = sql.bind(ts_operand(term, false))?;
    let mut condition = format!("{t}.tsv @@ to_tsquery('simple', {words})");
    let text = term.text();
    let length = text.chars().count();
    if length >= 3 {
        let pattern = sql.bind(like_pattern(text))?;
        let _ = write!(condition, " OR {t}.body_md ILIKE {pattern}");
    } else if length == 2 && text.chars().all(is_cjk) {
        let pattern = sql.bind(like_pattern(text))?;
        let bigram = sql.bind(vec![text.to_owned()])?;
        // ILIKE first: where rows are filtered one by one, it fails faster than the bigrams.
        let _ = write!(condition, " OR ({t}.body_md ILIKE {pattern} AND cjk_bigrams({t}.body_md) @> {bigram}::text[])");
    }
    Ok(format!("({condition})"))
}

/// Every condition a hit meets besides its channel and author: its clauses (over the text
/// of `t`, see `term_condition`), no negated term, the other operators, not deleted.
///
/// Over `messages` (`t` = `m`) a hit must not be deleted; a `message_search` row never is
/// (see `statement`), and what it lacks (thread and pin state) is read from its message.
fn conditions(sql: &mut Sql, search: &Search<'_>, t: &str) -> Result<Vec<String>, sqlx::Error> {
    let query = search.query;
    let filters = &query.filters;
    let of_message = |condition: &str| {
        if t == "m" {
            condition.to_owned()
        } else {
            format!("EXISTS (SELECT 1 FROM messages m WHERE m.id = {t}.id AND {condition})")
        }
    };
    let mut all = Vec::new();
    if t == "m" {
        all.push("m.deleted_at IS NULL".to_owned());
    }
    for clause in &query.clauses {
        let alternatives = clause.iter().map(|term| term_condition(sql, term, t)).collect::<Result<Vec<_>, _>>()?;
        all.push(format!("({})", alternatives.join(" OR ")));
    }
    for term in &query.negated {
        let words = sql.bind(ts_operand(term, false))?;
        all.push(format!("NOT ({t}.tsv @@ to_tsquery('simple', {words}))"));
    }
    for has in &filters.has {
        all.push(match has {
            Has::Link => format!("{t}.body_md ~* 'https?://'"),
            Has::File => format!("EXISTS (SELECT 1 FROM attachments a WHERE a.message_id = {t}.id)"),
            Has::Mention => format!("EXISTS (SELECT 1 FROM mentions n WHERE n.message_id = {t}.id)"),
            Has::Reaction => format!("EXISTS (SELECT 1 FROM reactions r WHERE r.message_id = {t}.id)"),
        });
    }
    for is in &filters.is {
        all.push(match is {
            Is::Thread => of_message("(m.parent_id IS NOT NULL OR m.reply_count > 0)"),
            Is::Pinned => of_message("m.pinned_at IS NOT NULL"),
        });
    }
    if let Some(after) = filters.after {
        let at = sql.bind(after)?;
        all.push(format!("{t}.created_at >= {at}"));
    }
    if let Some(before) = filters.before {
        let at = sql.bind(before)?;
        all.push(format!("{t}.created_at < {at}"));
    }
    Ok(all)
}

/// The channels searched: those `user` may read now (public channels of their communities,
/// channels and DMs they are in), narrowed by `in:`; and the authors of `from:` (`None`:
/// anyone). Read first, so the search's plan sees the actual lists (one channel for `in:`
/// reads that channel's newest messages; every channel, the newest messages).
async fn scope(
    db: impl PgExecutor<'_>,
    search: &Search<'_>,
) -> Result<(Vec<ChannelId>, Option<Vec<UserId>>), sqlx::Error> {
    let filters = &search.query.filters;
    let narrowed = !filters.in_channels.is_empty() || !filters.in_dms.is_empty();
    let (channels, authors): (Vec<ChannelId>, Option<Vec<UserId>>) = sqlx::query_as(
        "SELECT ARRAY(
             SELECT c.id FROM channels c LEFT JOIN channel_members cm ON cm.channel_id = c.id AND cm.user_id = $1
             WHERE ((c.kind IN ('dm', 'group_dm') AND cm.user_id IS NOT NULL)
                 OR (c.community_id IN (SELECT community_id FROM community_members WHERE user_id = $1)
                     AND (c.kind = 'public' OR cm.user_id IS NOT NULL)))
               AND (NOT $2
                   OR (c.community_id IS NOT NULL AND c.name = ANY($3))
                   OR (c.kind = 'dm' AND EXISTS (
                       SELECT 1 FROM channel_members o JOIN users ou ON ou.id = o.user_id
                       WHERE o.channel_id = c.id AND o.user_id <> $1 AND ou.username = ANY($4))))
             ORDER BY c.id),
             CASE WHEN $5 THEN ARRAY(SELECT id FROM users WHERE username = ANY($6) ORDER BY id) END",
    )
    .bind(search.user)
    .bind(narrowed)
    .bind(&filters.in_channels)
    .bind(&filters.in_dms)
    .bind(!filters.from.is_empty())
    .bind(&filters.from)
    .fetch_one(db)
    .await?;
    Ok((channels, authors))
}

#[derive(sqlx::FromRow)]
struct HitRow {
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
    reply_count: i32,
    last_reply_at: Option<OffsetDateTime>,
    pinned_at: Option<OffsetDateTime>,
    pinned_by: Option<UserId>,
    link_previews: sqlx::types::Json<Vec<LinkPreview>>,
    attachments: sqlx::types::Json<Vec<Attachment>>,
    channel_kind: String,
    channel_name: Option<String>,
    community_id: Option<CommunityId>,
    score: f64,
    /// How many candidates the statement found.
    found: i64,
}

/// The statement of one page over `channels` (and `authors`, if given). Its candidates are
/// the newest matches (`window` of them), found one of two ways with the same answer:
/// `probe` looks through the newest `PROBE` messages in scope, which is enough when the
/// words are common (reading the text index of a million messages would cost more);
/// otherwise every match is found through the text indexes, cheap precisely because the
/// words were rare among the newest messages. The planner cannot make this choice from its
/// own estimates: they are wrong by orders of magnitude for prefixes and substrings.
fn statement(
    search: &Search<'_>,
    channels: Vec<ChannelId>,
    authors: Option<Vec<UserId>>,
    probe: bool,
) -> Result<Sql, sqlx::Error> {
    let mut sql = Sql::new();
    let matching = conditions(&mut sql, search, "m")?;
    // Where to look: the channels, the authors, the time of the first page (and, by time,
    // below the previous page), all on index columns of the newest-first scan. Each is a
    // column and its comparison, for `messages` and `message_search` alike.
    let mut scope: Vec<(&str, String)> = Vec::new();
    // One channel or author is compared with `=`, so its index gives the newest first.
    if let [channel] = channels[..] {
        let channel = sql.bind(channel)?;
        scope.push(("channel_id", format!("= {channel}")));
    } else {
        let channels = sql.bind(channels)?;
        scope.push(("channel_id", format!("= ANY({channels})")));
    }
    match authors.as_deref() {
        None => {}
        Some([author]) => {
            let author = sql.bind(*author)?;
            scope.push(("author_id", format!("= {author}")));
        }
        Some(_) => {
            let authors = sql.bind(authors)?;
            scope.push(("author_id", format!("= ANY({authors})")));
        }
    }
    let at = sql.bind(search.at)?;
    scope.push(("created_at", format!("<= {at}")));
    let limit = sql.bind(i64::from(search.limit) + 1)?;
    let relevance = search.sort == SearchSort::Relevance && !search.query.clauses.is_empty();
    let (score, window, page) = if relevance {
        let words = sql.bind(ts_query(search.query, false))?;
        let exact = sql.bind(ts_query(search.query, true))?;
        let window = sql.bind(RELEVANCE_WINDOW)?;
        let score = format!(
            "(CASE WHEN m.tsv @@ to_tsquery('simple', {exact}) THEN 2.0
                   WHEN m.tsv @@ to_tsquery('simple', {words}) THEN 1.0 ELSE 0.5 END
              + ts_rank(m.tsv, to_tsquery('simple', {words})))::float8
             * (1.0 + 1.0 / (1.0 + extract(epoch FROM ({at} - m.created_at))::float8 / 604800.0))"
        );
        let page = match search.after {
            None => "true".to_owned(),
            Some(after) => {
                let score = sql.bind(after.score)?;
                let id = sql.bind(after.id)?;
                format!("(x.score < {score} OR (x.score = {score} AND x.id < {id}))")
            }
        };
        (score, window, page)
    } else {
        // By time, the page itself is the candidate set.
        if let Some(after) = search.after {
            let id = sql.bind(after.id)?;
            scope.push(("id", format!("< {id}")));
        }
        ("0::float8".to_owned(), limit.clone(), "true".to_owned())
    };
    let matching = matching.join(" AND ");
    let scope_of =
        |t: &str| scope.iter().map(|(column, test)| format!("{t}.{column} {test}")).collect::<Vec<_>>().join(" AND ");
    let scope = scope_of("m");
    let candidates = if probe {
        let probe = sql.bind(PROBE)?;
        format!(
            "SELECT m.id, {score} AS score FROM (
                 SELECT m.* FROM messages m WHERE {scope} ORDER BY m.id DESC LIMIT {probe}
             ) m
             WHERE {matching}
             ORDER BY m.id DESC LIMIT {window}"
        )
    } else if search.query.clauses.is_empty() {
        // No words to look up: the scope's own indexes on messages find the newest.
        format!(
            "SELECT m.id, {score} AS score FROM messages m WHERE {scope} AND {matching}
             ORDER BY m.id DESC LIMIT {window}"
        )
    } else {
        // What is indexed is found through message_search's text indexes, on its own
        // columns; a row counts only while its message is not queued again (an edit or a
        // delete queues it in its own transaction, and the indexer takes it off the queue
        // in the one that rewrites the row). What is queued (a few rows at most) is read
        // straight from messages. The OFFSET 0 fence keeps the planner from reading the
        // newest messages backwards in the hope of meeting the words soon: they are rare,
        // so the text indexes win.
        let indexed = conditions(&mut sql, search, "s")?.join(" AND ");
        let indexed_scope = scope_of("s");
        format!(
            "SELECT m.id, {score} AS score FROM (
                 SELECT e.id FROM (
                     (SELECT s.id FROM message_search s
                      WHERE {indexed_scope} AND {indexed}
                        AND NOT EXISTS (SELECT 1 FROM search_pending p WHERE p.message_id = s.id)
                      OFFSET 0)
                     UNION ALL
                     SELECT m.id FROM search_pending p JOIN messages m ON m.id = p.message_id
                     WHERE {scope} AND {matching}
                 ) e
                 ORDER BY e.id DESC LIMIT {window}
             ) newest JOIN messages m ON m.id = newest.id"
        )
    };
    sql.text = format!(
        "WITH candidates AS MATERIALIZED ({candidates}),
         page AS MATERIALIZED (
             SELECT x.id, x.score FROM candidates x WHERE {page} ORDER BY x.score DESC, x.id DESC LIMIT {limit}
         )
         SELECT m.id, m.channel_id, m.channel_seq, m.author_id, u.username,
             m.webhook_id, w.name AS webhook_name,
             COALESCE(m.display_name, u.display_name, w.name, 'unknown') AS display_name,
             COALESCE(m.avatar_url, u.avatar_url, w.avatar_url) AS avatar_url,
             m.body_md, m.parent_id, m.client_msg_id, m.created_at, m.edited_at, m.reply_count,
             m.last_reply_at, m.pinned_at, m.pinned_by, m.link_previews, {attachments},
             c.kind AS channel_kind, c.name AS channel_name, c.community_id, s.score,
             (SELECT count(*) FROM candidates) AS found
         FROM page s JOIN messages m ON m.id = s.id JOIN channels c ON c.id = m.channel_id
         LEFT JOIN users u ON u.id = m.author_id LEFT JOIN webhooks w ON w.id = m.webhook_id
         -- Every side already left deleted messages out; checked again where it costs a
         -- page's rows, so no broken invariant could ever show a deleted message's text.
         WHERE m.deleted_at IS NULL
         ORDER BY s.score DESC, m.id DESC",
        attachments = super::attachments::MESSAGE_ATTACHMENTS,
    );
    Ok(sql)
}

/// One page of hits, best (or newest) first, each with its score for the next page's
/// cursor, and whether more follow.
pub async fn search(
    db: impl PgExecutor<'_> + Copy,
    search: &Search<'_>,
) -> Result<(Vec<(SearchHit, f64)>, bool), sqlx::Error> {
    let (channels, authors) = scope(db, search).await?;
    if channels.is_empty() || authors.as_ref().is_some_and(Vec::is_empty) {
        return Ok((Vec::new(), false));
    }
    let window = if search.sort == SearchSort::Relevance && !search.query.clauses.is_empty() {
        RELEVANCE_WINDOW
    } else {
        i64::from(search.limit) + 1
    };
    let mut rows = page(db, statement(search, channels.clone(), authors.clone(), true)?).await?;
    if rows.first().is_none_or(|row| row.found < window) {
        rows = page(db, statement(search, channels, authors, false)?).await?;
    }
    let has_more = rows.len() > usize::from(search.limit);
    let marks: Vec<&str> = search.query.clauses.iter().flatten().map(Term::text).collect();
    let hits = rows.into_iter().take(usize::from(search.limit)).map(|row| hit(row, &marks)).collect();
    Ok((hits, has_more))
}

/// Moves up to `batch` queued messages into `message_search` (their current text, or
/// nothing for a deleted or purged message) in one transaction, and answers how many it
/// took from the queue. The pending rows are deleted first and the messages read by a
/// later statement, so a change committed meanwhile is either seen or queued again (see
/// migration 0020). Oldest first, through the queue's key: the queue churns, and its index
/// skips what is dead where a scan of the table would read it. Committed without waiting
/// for the flush: a crash that loses it loses
/// the whole transaction, pending rows included, and the next run redoes it.
pub async fn index_pending(db: &PgPool, batch: i64) -> Result<usize, sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query("SET LOCAL synchronous_commit = off").execute(&mut *tx).await?;
    let taken: Vec<MessageId> = sqlx::query_scalar(
        "DELETE FROM search_pending WHERE message_id IN (
             SELECT message_id FROM search_pending ORDER BY message_id LIMIT $1 FOR UPDATE SKIP LOCKED)
         RETURNING message_id",
    )
    .bind(batch)
    .fetch_all(&mut *tx)
    .await?;
    if taken.is_empty() {
        return Ok(0);
    }
    sqlx::query(
        "WITH gone AS (
             DELETE FROM message_search s WHERE s.id = ANY($1)
               AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = s.id AND m.deleted_at IS NULL))
         INSERT INTO message_search (id, channel_id, author_id, created_at, body_md, tsv)
         SELECT m.id, m.channel_id, m.author_id, m.created_at, m.body_md, m.tsv
         FROM messages m WHERE m.id = ANY($1) AND m.deleted_at IS NULL
         ON CONFLICT (id) DO UPDATE
             SET channel_id = excluded.channel_id, author_id = excluded.author_id,
                 created_at = excluded.created_at, body_md = excluded.body_md, tsv = excluded.tsv",
    )
    .bind(&taken)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(taken.len())
}

/// Runs one page's statement, unprepared: each search gets a plan for its own words.
async fn page(db: impl PgExecutor<'_>, sql: Sql) -> Result<Vec<HitRow>, sqlx::Error> {
    let Sql { text, args, .. } = sql;
    sqlx::query_as_with(&text, args).persistent(false).fetch_all(db).await
}

fn hit(row: HitRow, marks: &[&str]) -> (SearchHit, f64) {
    let snippet = snippet(&row.body_md, marks);
    let message = Message {
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
        deleted_at: None,
        reply_count: row.reply_count,
        last_reply_at: row.last_reply_at,
        pinned_at: row.pinned_at,
        pinned_by: row.pinned_by,
        reactions: Vec::new(),
        link_previews: row.link_previews.0,
        attachments: row.attachments.0,
    };
    let channel = NotificationChannel {
        id: row.channel_id,
        kind: ChannelKind::parse(&row.channel_kind).unwrap_or(ChannelKind::Private),
        name: row.channel_name,
        community_id: row.community_id,
    };
    let around = message.parent_id.unwrap_or(message.id);
    (SearchHit { message, channel, snippet, around }, row.score)
}

/// `c` lowercased when that keeps it one character (so positions line up with `body`).
fn fold(c: char) -> char {
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(one), None) => one,
        _ => c,
    }
}

/// The text of `body` around the first occurrence of any of `marks` (case-insensitive),
/// HTML-escaped, each occurrence wrapped in `<mark>`; at most `SNIPPET_CHARS` characters
/// of text, `…` where cut. Without an occurrence (a match by words the text spells
/// differently), the start of the body.
#[must_use]
pub fn snippet(body: &str, marks: &[&str]) -> String {
    let chars: Vec<char> = body.chars().collect();
    let folded: Vec<char> = chars.iter().copied().map(fold).collect();
    let needles: Vec<Vec<char>> =
        marks.iter().map(|mark| mark.chars().map(fold).collect::<Vec<char>>()).filter(|n| !n.is_empty()).collect();
    // Where each marked range starts, and its length (the longest needle at a position).
    let mut marked = vec![0_usize; chars.len()];
    for needle in &needles {
        for start in 0..chars.len().saturating_sub(needle.len() - 1) {
            if folded[start..start + needle.len()] == needle[..] {
                marked[start] = marked[start].max(needle.len());
            }
        }
    }
    let first = marked.iter().position(|&n| n > 0).unwrap_or(0);
    let mut start = first.saturating_sub(SNIPPET_BEFORE);
    let end = (start + SNIPPET_CHARS).min(chars.len());
    if end - start < SNIPPET_CHARS {
        start = end.saturating_sub(SNIPPET_CHARS);
    }
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    let mut at = start;
    while at < end {
        let length = marked[at].min(end - at);
        if length > 0 {
            out.push_str(MARK_OPEN);
            escape_into(&mut out, &chars[at..at + length]);
            out.push_str(MARK_CLOSE);
            at += length;
        } else {
            escape_into(&mut out, &chars[at..=at]);
            at += 1;
        }
    }
    if end < chars.len() {
        out.push('…');
    }
    out
}

fn escape_into(out: &mut String, chars: &[char]) {
    for &c in chars {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snippet_escapes_html_and_marks_only_the_hits() {
        assert_eq!(
            snippet("<script>alert('x')</script> & Deploy done", &["deploy"]),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; <mark>Deploy</mark> done"
        );
        assert_eq!(snippet("私は東京に住んでいます", &["東京"]), "私は<mark>東京</mark>に住んでいます");
        // Overlapping needles mark the longer one once.
        assert_eq!(snippet("redeployed", &["ploy", "deploy"]), "re<mark>deploy</mark>ed");
    }

    #[test]
    fn a_long_body_is_cut_around_the_first_hit() {
        let body = format!("{} needle {}", "a".repeat(500), "b".repeat(500));
        let cut = snippet(&body, &["needle"]);
        assert!(cut.starts_with('…') && cut.ends_with('…'), "{cut}");
        assert!(cut.contains("<mark>needle</mark>"));
        assert_eq!(cut.replace("<mark>", "").replace("</mark>", "").chars().count(), SNIPPET_CHARS + 2);
    }

    #[test]
    fn tsquery_operands_are_quoted_so_no_input_is_syntax() {
        let term = Term::Word { text: r"it's\ & | ! (x):*".into(), prefix: true };
        assert_eq!(ts_operand(&term, false), r"'it''s\\ & | ! (x):*':*");
        assert_eq!(ts_operand(&term, true), r"'it''s\\ & | ! (x):*'");
        assert_eq!(like_pattern("50%_a\\"), r"%50\%\_a\\%");
    }
}
