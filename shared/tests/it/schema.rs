//! The migrations apply, and the schema's constraints reject bad states.

use ajet_shared::db::violated_constraint;
use ajet_shared::testing::fresh_database;
use sqlx::PgPool;

/// Runs `sql` and returns the name of the constraint it violated.
async fn rejected_by(pool: &PgPool, sql: &str) -> String {
    let err = sqlx::raw_sql(sql).execute(pool).await.expect_err(sql);
    violated_constraint(&err).map_or_else(|| format!("no constraint: {err}"), str::to_owned)
}

async fn seed(pool: &PgPool) {
    sqlx::raw_sql(
        "INSERT INTO users (id, username, display_name) VALUES
            ('00000000-0000-7000-8000-000000000001', 'alice', 'Alice'),
            ('00000000-0000-7000-8000-000000000002', 'bob', 'Bob');
         INSERT INTO communities (id, name, slug, created_by) VALUES
            ('00000000-0000-7000-8000-0000000000c1', 'Acme', 'acme', '00000000-0000-7000-8000-000000000001');
         INSERT INTO community_members (community_id, user_id, role) VALUES
            ('00000000-0000-7000-8000-0000000000c1', '00000000-0000-7000-8000-000000000001', 'owner');
         INSERT INTO channels (id, community_id, kind, name, created_by) VALUES
            ('00000000-0000-7000-8000-0000000000a1', '00000000-0000-7000-8000-0000000000c1', 'public', 'general', '00000000-0000-7000-8000-000000000001');
         INSERT INTO messages (id, channel_id, channel_seq, author_id, body_md, client_msg_id) VALUES
            ('00000000-0000-7000-8000-0000000000e1', '00000000-0000-7000-8000-0000000000a1', 1, '00000000-0000-7000-8000-000000000001', 'hi', 'k1');
         INSERT INTO reactions (message_id, user_id, emoji) VALUES
            ('00000000-0000-7000-8000-0000000000e1', '00000000-0000-7000-8000-000000000001', '👍');",
    )
    .execute(pool)
    .await
    .expect("valid rows are accepted");
}

#[tokio::test]
async fn constraints_reject_bad_rows_by_name() {
    let db = fresh_database().await;
    seed(&db.pool).await;
    let cases = [
        (
            "a DM channel has no community",
            "INSERT INTO channels (id, community_id, kind, dm_key) VALUES ('00000000-0000-7000-8000-0000000000a2', '00000000-0000-7000-8000-0000000000c1', 'dm', 'x')",
            "channels_community_check",
        ),
        (
            "channel names are unique per community",
            "INSERT INTO channels (id, community_id, kind, name) VALUES ('00000000-0000-7000-8000-0000000000a3', '00000000-0000-7000-8000-0000000000c1', 'public', 'general')",
            "channels_name_unique",
        ),
        (
            "a reaction is unique per user and emoji",
            "INSERT INTO reactions (message_id, user_id, emoji) VALUES ('00000000-0000-7000-8000-0000000000e1', '00000000-0000-7000-8000-000000000001', '👍')",
            "reactions_pkey",
        ),
        (
            "a client_msg_id is unique per author",
            "INSERT INTO messages (id, channel_id, channel_seq, author_id, body_md, client_msg_id) VALUES ('00000000-0000-7000-8000-0000000000e2', '00000000-0000-7000-8000-0000000000a1', 2, '00000000-0000-7000-8000-000000000001', 'again', 'k1')",
            "messages_client_msg_id_unique",
        ),
        (
            "a channel sequence is used once",
            "INSERT INTO messages (id, channel_id, channel_seq, author_id, body_md) VALUES ('00000000-0000-7000-8000-0000000000e3', '00000000-0000-7000-8000-0000000000a1', 1, '00000000-0000-7000-8000-000000000001', 'dup')",
            "messages_channel_seq_unique",
        ),
        (
            "a message has an author or a webhook",
            "INSERT INTO messages (id, channel_id, channel_seq, body_md) VALUES ('00000000-0000-7000-8000-0000000000e4', '00000000-0000-7000-8000-0000000000a1', 3, 'nobody')",
            "messages_author_xor_webhook",
        ),
        (
            "roles are owner, admin or member",
            "INSERT INTO community_members (community_id, user_id, role) VALUES ('00000000-0000-7000-8000-0000000000c1', '00000000-0000-7000-8000-000000000002', 'god')",
            "community_members_role_check",
        ),
        (
            "usernames are lowercase handles",
            "INSERT INTO users (id, username, display_name) VALUES ('00000000-0000-7000-8000-000000000003', 'Bad Name', 'x')",
            "users_username_format",
        ),
        (
            "a channel member must belong to the community",
            "INSERT INTO channel_members (channel_id, user_id) VALUES ('00000000-0000-7000-8000-0000000000a1', '00000000-0000-7000-8000-000000000002')",
            "channel_members_community_member_fkey",
        ),
    ];
    for (what, sql, constraint) in cases {
        assert_eq!(rejected_by(&db.pool, sql).await, constraint, "{what}");
    }
}

#[tokio::test]
async fn search_indexes_exist() {
    let db = fresh_database().await;
    let indexes = |table: &'static str| {
        sqlx::query_scalar::<_, String>("SELECT indexdef FROM pg_indexes WHERE tablename = $1")
            .bind(table)
            .fetch_all(&db.pool)
    };
    let messages = indexes("messages").await.expect("indexes");
    assert!(messages.iter().any(|d| d.contains("(channel_id, id)")), "{messages:?}");
    // The text indexes are on message_search (migration 0020), none on messages, which
    // every send writes under its channel's lock.
    assert!(!messages.iter().any(|d| d.contains("USING gin")), "{messages:?}");
    let search = indexes("message_search").await.expect("indexes");
    assert!(search.iter().any(|d| d.contains("USING gin") && d.contains("(tsv)")), "{search:?}");
    assert!(search.iter().any(|d| d.contains("gin_trgm_ops")), "{search:?}");
    assert!(search.iter().any(|d| d.contains("cjk_bigrams(body_md)")), "{search:?}");
}
