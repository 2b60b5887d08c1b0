//! Search's text indexes are filled after the send, by the indexer (migration 0020), and a
//! search is exact whichever side holds a message: still queued, indexed, indexed and
//! then edited (its indexed text outdated), deleted.

use ajet_shared::api::wire::SearchSort;
use ajet_shared::db::messages::purge_latest;
use ajet_shared::db::search::{Search, index_pending, search};
use ajet_shared::domain::ids::{MessageId, UserId};
use ajet_shared::search::parse;
use ajet_shared::testing::fresh_database;
use sqlx::PgPool;
use time::OffsetDateTime;

const ALICE: &str = "00000000-0000-7000-8000-000000000001";
const GENERAL: &str = "00000000-0000-7000-8000-0000000000a1";

async fn seed(pool: &PgPool) {
    sqlx::raw_sql(&format!(
        "INSERT INTO users (id, username, display_name) VALUES ('{ALICE}', 'alice', 'Alice');
         INSERT INTO communities (id, name, slug, created_by) VALUES
            ('00000000-0000-7000-8000-0000000000c1', 'Acme', 'acme', '{ALICE}');
         INSERT INTO community_members (community_id, user_id, role) VALUES
            ('00000000-0000-7000-8000-0000000000c1', '{ALICE}', 'owner');
         INSERT INTO channels (id, community_id, kind, name, created_by) VALUES
            ('{GENERAL}', '00000000-0000-7000-8000-0000000000c1', 'public', 'general', '{ALICE}');"
    ))
    .execute(pool)
    .await
    .expect("seeded");
}

/// Posts `bodies` to #general in one statement, as the send does row by row.
async fn post(pool: &PgPool, bodies: &[&str]) -> Vec<MessageId> {
    let ids: Vec<MessageId> = bodies.iter().map(|_| MessageId::generate()).collect();
    sqlx::query(
        "INSERT INTO messages (id, channel_id, channel_seq, author_id, body_md)
         SELECT t.id, $1::uuid, t.n, $2::uuid, t.body FROM unnest($3::uuid[], $4::text[]) WITH ORDINALITY AS t(id, body, n)",
    )
    .bind(GENERAL)
    .bind(ALICE)
    .bind(&ids)
    .bind(bodies)
    .execute(pool)
    .await
    .expect("posted");
    ids
}

/// The bodies alice finds for `q`, in both orders (which must agree as sets).
async fn found(pool: &PgPool, q: &str) -> Vec<String> {
    let query = parse(q, &jiff::tz::TimeZone::UTC).expect("a valid query");
    let user: UserId = ALICE.parse().expect("an id");
    let mut answers = Vec::new();
    for sort in [SearchSort::Relevance, SearchSort::Recent] {
        let request = Search { user, query: &query, sort, at: OffsetDateTime::now_utc(), after: None, limit: 50 };
        let (hits, more) = search(pool, &request).await.expect("searched");
        assert!(!more);
        let mut bodies: Vec<String> = hits.into_iter().map(|(hit, _)| hit.message.body_md).collect();
        bodies.sort();
        answers.push(bodies);
    }
    assert_eq!(answers[0], answers[1], "{q}: relevance and recent find the same");
    answers.swap_remove(0)
}

async fn count(pool: &PgPool, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}")).fetch_one(pool).await.expect("counted")
}

/// Asserts what alice finds for each query.
async fn expect(pool: &PgPool, when: &str, cases: &[(&str, &[&str])]) {
    for (q, bodies) in cases {
        assert_eq!(found(pool, q).await, bodies.to_vec(), "{when}: {q}");
    }
}

#[tokio::test]
async fn search_finds_the_same_whether_a_message_is_queued_indexed_or_indexed_and_since_changed() {
    let db = fresh_database().await;
    let pool = &db.pool;
    seed(pool).await;
    let ids = post(pool, &["deploy finished", "私は東京に住んでいます", "partial redeployed"]).await;
    let before: &[(&str, &[&str])] = &[
        ("deploy", &["deploy finished", "partial redeployed"]),
        ("東京", &["私は東京に住んでいます"]),
        ("finished", &["deploy finished"]),
        ("rollout", &[]),
    ];
    assert_eq!((count(pool, "search_pending").await, count(pool, "message_search").await), (3, 0));
    expect(pool, "queued", before).await;
    assert_eq!(index_pending(pool, 500).await.expect("indexed"), 3);
    assert_eq!((count(pool, "search_pending").await, count(pool, "message_search").await), (0, 3));
    expect(pool, "indexed", before).await;

    // An edit queues the message again; its indexed text is outdated and finds nothing.
    edit(pool, ids[0], "rollout finished").await.expect("edited");
    let edited: &[(&str, &[&str])] =
        &[("deploy", &["partial redeployed"]), ("finished", &["rollout finished"]), ("rollout", &["rollout finished"])];
    assert_eq!(count(pool, "search_pending").await, 1);
    expect(pool, "edited, queued", edited).await;
    assert_eq!(index_pending(pool, 500).await.expect("indexed"), 1);
    expect(pool, "edited, indexed", edited).await;

    // A link preview or a pin does not queue it; a delete does, and indexing drops its text.
    sqlx::query("UPDATE messages SET pinned_at = now(), pinned_by = $2, link_previews = '[]' WHERE id = $1")
        .bind(ids[2])
        .bind(ALICE.parse::<UserId>().expect("an id"))
        .execute(pool)
        .await
        .expect("pinned");
    assert_eq!(count(pool, "search_pending").await, 0);
    // Filters the index side does not copy are read from the message.
    expect(pool, "pinned, indexed", &[("partial is:pinned", &["partial redeployed"]), ("finished is:pinned", &[])])
        .await;
    // A message's time is copied, and changing it queues the message.
    sqlx::query("UPDATE messages SET created_at = '2020-06-01' WHERE id = $1")
        .bind(ids[2])
        .execute(pool)
        .await
        .expect("backdated");
    let backdated: &[(&str, &[&str])] =
        &[("partial before:2021-01-01", &["partial redeployed"]), ("finished before:2021-01-01", &[])];
    expect(pool, "backdated, queued", backdated).await;
    assert_eq!(index_pending(pool, 500).await.expect("indexed"), 1);
    expect(pool, "backdated, indexed", backdated).await;
    sqlx::query("UPDATE messages SET deleted_at = now() WHERE id = $1")
        .bind(ids[2])
        .execute(pool)
        .await
        .expect("deleted");
    expect(pool, "deleted, queued", &[("deploy", &[]), ("partial", &[])]).await;
    assert_eq!(index_pending(pool, 500).await.expect("indexed"), 1);
    expect(pool, "deleted, indexed", &[("deploy", &[]), ("partial", &[])]).await;
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM message_search WHERE id = $1")
        .bind(ids[2])
        .fetch_one(pool)
        .await
        .expect("counted");
    assert_eq!(kept, 0, "a deleted message's text leaves the index");
}

/// Waits until some session of this database waits for a lock.
async fn someone_waits_for_a_lock(pool: &PgPool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(pool)
        .await
        .expect("counted");
        if waiting > 0 {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "no session came to wait for a lock");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// Replaces a message's text, as an edit does.
async fn edit<'e>(db: impl sqlx::PgExecutor<'e>, id: MessageId, body: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE messages SET body_md = $2, edited_at = now() WHERE id = $1")
        .bind(id)
        .bind(body)
        .execute(db)
        .await
        .map(drop)
}

/// The indexer's second step for one message, in `tx`: the text it sees written to the index.
async fn index_by_hand(tx: &mut sqlx::PgConnection, id: MessageId) {
    sqlx::query(
        "INSERT INTO message_search (id, channel_id, author_id, created_at, body_md, tsv)
         SELECT id, channel_id, author_id, created_at, body_md, tsv FROM messages WHERE id = $1",
    )
    .bind(id)
    .execute(&mut *tx)
    .await
    .expect("the indexer's write is not blocked");
}

/// The indexer's first step for one message, in `tx`: its queue row taken.
async fn take_off_the_queue(tx: &mut sqlx::PgConnection, id: MessageId) {
    let taken = sqlx::query("DELETE FROM search_pending WHERE message_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await
        .expect("taken");
    assert_eq!(taken.rows_affected(), 1);
}

#[tokio::test]
async fn a_queued_message_edited_in_flight_is_left_by_the_indexer_and_indexed_with_its_new_text() {
    let db = fresh_database().await;
    let pool = &db.pool;
    seed(pool).await;
    let ids = post(pool, &["first words"]).await;
    // The edit re-queues the message that is still queued: that takes its queue row's lock.
    let mut editing = pool.begin().await.expect("began");
    edit(&mut *editing, ids[0], "second words").await.expect("edited");
    assert_eq!(index_pending(pool, 500).await.expect("nothing to take"), 0, "the indexer skips the locked row");
    editing.commit().await.expect("committed");
    expect(pool, "edit committed, queued", &[("first", &[]), ("second", &["second words"])]).await;
    assert_eq!(index_pending(pool, 500).await.expect("indexed"), 1);
    expect(pool, "edit indexed", &[("first", &[]), ("second", &["second words"])]).await;
}

#[tokio::test]
async fn an_edit_behind_the_indexers_hold_waits_for_it_and_queues_the_message_again() {
    let db = fresh_database().await;
    let pool = &db.pool;
    seed(pool).await;
    let ids = post(pool, &["first words"]).await;
    // The indexer has taken the message off the queue and read its text (statement one and
    // two of `index_pending`, by hand), when an edit comes.
    let mut indexer = pool.begin().await.expect("began");
    take_off_the_queue(&mut indexer, ids[0]).await;
    let editing = tokio::spawn({
        let pool = pool.clone();
        let id = ids[0];
        async move { edit(&pool, id, "second words").await }
    });
    someone_waits_for_a_lock(pool).await;
    index_by_hand(&mut indexer, ids[0]).await;
    indexer.commit().await.expect("committed");
    editing.await.expect("joined").expect("the edit went through after the indexer");
    assert_eq!(count(pool, "search_pending").await, 1, "the edit queued the message again");
    expect(pool, "edited, queued", &[("first", &[]), ("second", &["second words"])]).await;
    assert_eq!(index_pending(pool, 500).await.expect("indexed"), 1);
    expect(pool, "edited, indexed", &[("first", &[]), ("second", &["second words"])]).await;
}

#[tokio::test]
async fn a_purge_while_the_indexer_holds_a_message_neither_deadlocks_nor_leaves_its_text() {
    let db = fresh_database().await;
    let pool = &db.pool;
    seed(pool).await;
    let ids = post(pool, &["spam spam spam"]).await;
    let mut indexer = pool.begin().await.expect("began");
    take_off_the_queue(&mut indexer, ids[0]).await;
    let purge = tokio::spawn({
        let pool = pool.clone();
        async move {
            let mut tx = pool.begin().await?;
            let purged = purge_latest(&mut tx, GENERAL.parse().expect("an id"), 10).await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(purged)
        }
    });
    // The purge has locked the message and waits to queue it again; the indexer's write
    // checks the message's key, which the purge's lock must not block.
    someone_waits_for_a_lock(pool).await;
    index_by_hand(&mut indexer, ids[0]).await;
    indexer.commit().await.expect("committed");
    assert_eq!(purge.await.expect("joined").expect("purged"), ids);
    expect(pool, "purged, queued", &[("spam", &[])]).await;
    assert_eq!(index_pending(pool, 500).await.expect("indexed"), 1);
    assert_eq!(count(pool, "message_search").await, 0, "the purged text left the index");
}
