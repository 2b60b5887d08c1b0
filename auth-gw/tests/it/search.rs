//! Search through the gateway: a table of queries and the hits they must find over a fixture
//! corpus (every operator, phrases, negation, OR, prefixes, partial words, CJK, dates in a
//! time zone), ranking, escaped snippets, paging, clear refusals of malformed queries, and
//! access: only what the caller may read now, never a deleted message or an edit's
//! earlier text.

use std::collections::{BTreeMap, BTreeSet};

use ajet_shared::api::ErrorCode;
use ajet_shared::api::wire::{
    Channel, ChannelKind, CreateChannelRequest, CreateCommunityRequest, CreateInviteRequest, CreateMessageRequest,
    Message, SearchHit, SearchQuery, SearchSort,
};
use ajet_shared::client::ApiClient;
use ajet_shared::domain::ids::MessageId;
use reqwest::Method;

use crate::stack::Stack;

async fn post(client: &ApiClient, channel: &Channel, body: &str, parent: Option<MessageId>) -> Message {
    client
        .send_message(
            channel.id,
            &CreateMessageRequest {
                body_md: body.into(),
                parent_id: parent,
                client_msg_id: None,
                attachment_ids: Vec::new(),
            },
        )
        .await
        .unwrap_or_else(|err| panic!("{body:?} is sent: {err}"))
}

/// Every hit of `q` for `client` (all pages of `limit`), in order.
async fn search_all(client: &ApiClient, q: &str, tz: Option<&str>, sort: SearchSort, limit: u32) -> Vec<SearchHit> {
    let mut hits = Vec::new();
    let mut before = None;
    loop {
        let query = SearchQuery {
            q: q.into(),
            before: before.clone(),
            limit: Some(limit),
            sort: Some(sort),
            tz: tz.map(str::to_owned),
        };
        let page = client.search(&query).await.unwrap_or_else(|err| panic!("{q:?} is searched: {err}"));
        hits.extend(page.data);
        if !page.page.has_more {
            return hits;
        }
        before = page.page.before;
        assert!(before.is_some(), "{q:?}: has_more without a cursor");
        assert!(hits.len() < 500, "{q:?}: paging does not end");
    }
}

/// A community with alice (owner), bob and carol; #dev and #ops public, #secret private to
/// alice and bob; DMs alice–bob and alice–carol.
struct Fixture {
    stack: Stack,
    alice: ApiClient,
    bob: ApiClient,
    carol: ApiClient,
    dev: Channel,
    ops: Channel,
    secret: Channel,
    dm_bob: Channel,
    dm_carol: Channel,
}

async fn fixture() -> Fixture {
    let stack = Stack::start().await;
    let alice = stack.login("alice").await;
    let bob = stack.login("bob").await;
    let carol = stack.login("carol").await;
    let community = alice
        .create_community(&CreateCommunityRequest { name: "Acme".into(), slug: "acme".into(), description: None })
        .await
        .expect("community");
    for client in [&bob, &carol] {
        let invite = alice.create_invite(community.id, &CreateInviteRequest::default()).await.expect("invite");
        client.accept_invite(&invite.code).await.expect("joins the community");
    }
    let channel = |name: &str, kind| CreateChannelRequest { name: name.into(), topic: None, kind };
    let dev = alice.create_channel(community.id, &channel("dev", None)).await.expect("dev");
    let ops = alice.create_channel(community.id, &channel("ops", None)).await.expect("ops");
    let secret =
        alice.create_channel(community.id, &channel("secret", Some(ChannelKind::Private))).await.expect("secret");
    let bob_id = bob.me().await.expect("me").user.id;
    let carol_id = carol.me().await.expect("me").user.id;
    alice.add_channel_member(secret.id, bob_id).await.expect("bob in secret");
    for client in [&bob, &carol] {
        client.join_channel(dev.id).await.expect("joined dev");
        client.join_channel(ops.id).await.expect("joined ops");
    }
    let dm_bob = alice.open_dm(&[bob_id]).await.expect("dm with bob");
    let dm_carol = alice.open_dm(&[carol_id]).await.expect("dm with carol");
    Fixture { stack, alice, bob, carol, dev, ops, secret, dm_bob, dm_carol }
}

/// Waits until the api's search indexer has taken everything queued.
async fn indexed(stack: &Stack) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let queued: i64 =
            sqlx::query_scalar("SELECT count(*) FROM search_pending").fetch_one(&stack.db.pool).await.expect("counted");
        if queued == 0 {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "the indexer empties its queue within 10 s ({queued} left)");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Sets a message's time (for dates and recency), as if it had been posted then.
async fn backdate(stack: &Stack, message: &Message, at: &str) {
    sqlx::query("UPDATE messages SET created_at = $2::timestamptz WHERE id = $1")
        .bind(message.id)
        .bind(at)
        .execute(&stack.db.pool)
        .await
        .expect("backdated");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operator_phrase_negation_prefix_partial_word_and_cjk_finds_exactly_its_messages() {
    let Fixture { stack, alice, bob, dev, ops, secret, dm_bob, .. } = fixture().await;
    let mut corpus: BTreeMap<&str, Message> = BTreeMap::new();
    let mut add = |label, message| {
        corpus.insert(label, message);
    };
    add("deploy", post(&alice, &dev, "Deploy finished for the api", None).await);
    add("redeployed", post(&bob, &ops, "redeployed the web frontend", None).await);
    add("deployment", post(&bob, &dev, "deployment of the db is scheduled tomorrow", None).await);
    add("phrase", post(&alice, &dev, "the production database is down", None).await);
    add("phrase-apart", post(&bob, &dev, "a database for production", None).await);
    add("tokyo", post(&bob, &dev, "私は東京に住んでいます", None).await);
    add("kyoto", post(&alice, &dev, "京都の天気は晴れ", None).await);
    add("link", post(&alice, &dev, "see https://example.com/runbook first", None).await);
    add("mention", post(&alice, &dev, "@bob can you check the runbook", None).await);
    let lunch = post(&bob, &dev, "lunch at noon", None).await;
    alice.add_reaction(lunch.id, "👍").await.expect("reacted");
    add("reaction", lunch);
    let file = post(&alice, &dev, "screenshot attached", None).await;
    let alice_id = alice.me().await.expect("me").user.id;
    // An uploaded file, as the attachment upload writes it.
    sqlx::query(
        "INSERT INTO attachments (id, channel_id, message_id, uploader_id, filename, content_type, size_bytes, storage_key)
         VALUES (gen_random_uuid(), $1, $2, $3, 'shot.png', 'image/png', 10, 'k/shot.png')",
    )
    .bind(dev.id)
    .bind(file.id)
    .bind(alice_id)
    .execute(&stack.db.pool)
    .await
    .expect("attachment");
    add("file", file);
    let root = post(&alice, &dev, "thread about caching", None).await;
    add("reply", post(&bob, &dev, "caching works now", Some(root.id)).await);
    add("root", root);
    let pinned = post(&alice, &dev, "pinned rules of the channel", None).await;
    alice.pin_message(pinned.id).await.expect("pinned");
    add("pinned", pinned);
    add("secret", post(&alice, &secret, "secret launch codes", None).await);
    add("dm", post(&alice, &dm_bob, "launch party in the dm", None).await);
    let january = post(&alice, &dev, "quarterly report draft", None).await;
    backdate(&stack, &january, "2026-01-15 10:00Z").await;
    add("january", january);
    // 23:30 UTC on the 15th is already the 16th in Paris.
    let february = post(&alice, &dev, "quarterly report final", None).await;
    backdate(&stack, &february, "2026-02-15 23:30Z").await;
    add("february", february);

    let none: &[&str] = &[];
    let table: &[(&str, Option<&str>, &[&str])] = &[
        // A whole word, and the longer words holding it (partial words).
        ("deploy ", None, &["deploy", "redeployed", "deployment"]),
        ("ploy", None, &["deploy", "redeployed", "deployment"]),
        ("deploy*", None, &["deploy", "redeployed", "deployment"]),
        // The last word typed is a prefix.
        ("deploym", None, &["deployment"]),
        ("schedul", None, &["deployment"]),
        ("\"production database\"", None, &["phrase"]),
        ("production database ", None, &["phrase", "phrase-apart"]),
        ("database -production ", None, none),
        ("launch -party ", None, &["secret"]),
        ("lunch OR party ", None, &["reaction", "dm"]),
        ("東京", None, &["tokyo"]),
        ("京都", None, &["kyoto"]),
        ("住んでい", None, &["tokyo"]),
        ("in:#ops", None, &["redeployed"]),
        ("deploy in:#dev", None, &["deploy", "deployment"]),
        ("in:#secret", None, &["secret"]),
        ("in:@alice", None, &["dm"]),
        ("from:@bob deploy", None, &["redeployed", "deployment"]),
        ("from:@bob in:#dev deploy", None, &["deployment"]),
        ("has:link", None, &["link"]),
        ("has:mention", None, &["mention"]),
        ("has:reaction", None, &["reaction"]),
        ("has:file", None, &["file"]),
        ("is:thread", None, &["root", "reply"]),
        ("is:thread caching from:@bob", None, &["reply"]),
        ("is:pinned", None, &["pinned"]),
        ("quarterly before:2026-02-01", None, &["january"]),
        ("quarterly after:2026-01-31", None, &["february"]),
        ("quarterly on:2026-02-15", None, &["february"]),
        ("quarterly on:2026-02-15", Some("Europe/Paris"), none),
        ("quarterly on:2026-02-16", Some("Europe/Paris"), &["february"]),
        ("quarterly on:2026-01-15", Some("Asia/Tokyo"), &["january"]),
        ("nothing-like-this", None, none),
    ];
    let label_of: BTreeMap<MessageId, &str> = corpus.iter().map(|(label, m)| (m.id, *label)).collect();
    let mut failures = Vec::new();
    for (q, tz, expected) in table {
        let expected: BTreeSet<&str> = expected.iter().copied().collect();
        for sort in [SearchSort::Relevance, SearchSort::Recent] {
            let hits = search_all(&bob, q, *tz, sort, 100).await;
            let found: BTreeSet<&str> = hits
                .iter()
                .map(|hit| label_of.get(&hit.message.id).copied().unwrap_or("(not in the corpus)"))
                .collect();
            if found != expected || found.len() != hits.len() {
                failures.push(format!("{q:?} tz {tz:?} {sort:?}: expected {expected:?}, found {found:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {} searches differ:\n{}", failures.len(), table.len() * 2, failures.join("\n"));

    // Each hit says where it is and how to open the history there.
    let reply = &corpus["reply"];
    let hit = &search_all(&bob, "caching works", None, SearchSort::Relevance, 10).await[0];
    assert_eq!(hit.message.id, reply.id);
    assert_eq!(
        (hit.channel.id, hit.channel.name.as_deref(), hit.channel.kind),
        (dev.id, Some("dev"), ChannelKind::Public)
    );
    assert_eq!(hit.message.author.username.as_deref(), Some("bob"));
    assert_eq!(hit.message.created_at, reply.created_at);
    assert_eq!(hit.around, corpus["root"].id, "a reply opens the history at its thread's root");
    assert_eq!(hit.snippet, "<mark>caching</mark> <mark>works</mark> now");
    let page = bob
        .history(dev.id, &ajet_shared::api::wire::HistoryQuery { around: Some(hit.around), ..Default::default() })
        .await
        .expect("history around the hit");
    assert!(page.data.iter().any(|m| m.id == corpus["root"].id), "the around cursor opens the history at the hit");
    let reaction = &search_all(&bob, "lunch", None, SearchSort::Relevance, 10).await[0];
    assert_eq!(reaction.message.reactions.first().map(|r| (r.emoji.as_str(), r.count)), Some(("👍", 1)));
    let tokyo = &search_all(&bob, "東京", None, SearchSort::Relevance, 10).await[0];
    assert_eq!(tokyo.snippet, "私は<mark>東京</mark>に住んでいます");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snippet_is_escaped_html_whose_only_tags_are_marks() {
    let Fixture { stack, alice, bob, dev, .. } = fixture().await;
    post(&alice, &dev, "<script>alert('pwned')</script> & <b>bold</b> alert", None).await;
    let hits = search_all(&bob, "alert", None, SearchSort::Relevance, 10).await;
    assert_eq!(hits.len(), 1);
    assert_eq!(
        hits[0].snippet,
        "&lt;script&gt;<mark>alert</mark>(&#39;pwned&#39;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt; <mark>alert</mark>"
    );
    let tags: BTreeSet<&str> = hits[0].snippet.split('<').skip(1).filter_map(|rest| rest.split('>').next()).collect();
    assert_eq!(tags, BTreeSet::from(["mark", "/mark"]));
    // Searching for the tag itself finds it (by substring) and still escapes it.
    let hits = search_all(&bob, "<script> ", None, SearchSort::Relevance, 10).await;
    assert_eq!(hits.len(), 1);
    assert!(hits[0].snippet.starts_with("<mark>&lt;script&gt;</mark>"), "{}", hits[0].snippet);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exact_recent_hit_ranks_above_an_old_partial_one_and_recent_sorts_by_time() {
    let Fixture { stack, alice, bob, dev, ops, .. } = fixture().await;
    let old_partial = post(&alice, &ops, "the kubernetesupgrade broke staging", None).await;
    backdate(&stack, &old_partial, "2025-01-01 12:00Z").await;
    let old_exact = post(&alice, &ops, "upgrade postponed", None).await;
    backdate(&stack, &old_exact, "2025-06-01 12:00Z").await;
    let new_exact = post(&bob, &dev, "the upgrade is done", None).await;
    let new_partial = post(&bob, &dev, "reupgraded the runners", None).await;
    let ids = |hits: Vec<SearchHit>| hits.into_iter().map(|hit| hit.message.id).collect::<Vec<_>>();
    let ranked = ids(search_all(&bob, "upgrade ", None, SearchSort::Relevance, 10).await);
    assert_eq!(ranked[0], new_exact.id, "the exact recent hit comes first");
    let position = |id| ranked.iter().position(|found| *found == id);
    assert!(position(new_exact.id) < position(old_partial.id), "an exact recent hit ranks above an old partial one");
    assert!(position(old_exact.id) < position(new_partial.id), "a whole word ranks above a partial one");
    assert_eq!(ranked.len(), 4);
    let recent = ids(search_all(&bob, "upgrade ", None, SearchSort::Recent, 10).await);
    assert_eq!(recent, [new_partial.id, new_exact.id, old_exact.id, old_partial.id]);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_follow_each_other_without_gaps_or_repeats_in_both_orders() {
    let Fixture { stack, alice, bob, dev, .. } = fixture().await;
    let mut posted = BTreeSet::new();
    for n in 0..7 {
        let body = if n % 2 == 0 { format!("rollout step {n}") } else { format!("rollout rollout step {n}") };
        posted.insert(post(&alice, &dev, &body, None).await.id);
    }
    for sort in [SearchSort::Relevance, SearchSort::Recent] {
        let hits = search_all(&bob, "rollout", None, sort, 2).await;
        let found: Vec<MessageId> = hits.iter().map(|hit| hit.message.id).collect();
        let unique: BTreeSet<MessageId> = found.iter().copied().collect();
        assert_eq!(unique.len(), found.len(), "{sort:?}: a hit repeats across pages");
        assert_eq!(unique, posted, "{sort:?}: pages of 2 find all 7");
    }
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_query_is_refused_naming_the_problem() {
    let Fixture { stack, bob, .. } = fixture().await;
    let cases: &[(&str, &str, ErrorCode, &str)] = &[
        ("q=%22unclosed%20phrase", "unbalanced quote", ErrorCode::InvalidSearch, "an unbalanced quote"),
        ("q=colour:red", "unknown operator `colour:`", ErrorCode::InvalidSearch, "an unknown operator"),
        ("q=has:banana", "has:banana", ErrorCode::InvalidSearch, "a bad has: value"),
        ("q=on:2026-02-30", "YYYY-MM-DD", ErrorCode::InvalidSearch, "an impossible date"),
        ("q=a%20OR", "OR", ErrorCode::InvalidSearch, "a dangling OR"),
        ("q=", "at least one", ErrorCode::InvalidSearch, "an empty query"),
        ("q=x&tz=Mars/Olympus", "Mars/Olympus", ErrorCode::InvalidTimeZone, "an unknown time zone"),
        ("q=x&before=garbage", "before", ErrorCode::InvalidCursor, "a garbled cursor"),
        ("q=x&limit=0", "limit", ErrorCode::InvalidLimit, "a zero limit"),
        ("q=x&sort=best", "best", ErrorCode::InvalidQuery, "an unknown sort"),
        ("q=x&page=2", "page", ErrorCode::InvalidQuery, "an unknown parameter"),
        ("limit=5", "q", ErrorCode::InvalidQuery, "no q"),
    ];
    for (query, says, code, what) in cases {
        let response = bob
            .request(Method::GET, &format!("/api/search?{query}"))
            .send()
            .await
            .unwrap_or_else(|err| panic!("{what}: {err}"));
        assert_eq!(response.status(), 400, "{what}");
        let body: serde_json::Value = response.json().await.expect("an error body");
        assert_eq!(body["error"]["code"], code.as_str(), "{what}: {body}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{what}: {message:?} does not name {says:?}");
    }
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_what_the_caller_may_read_now_is_found_never_deleted_messages_or_earlier_text() {
    let Fixture { stack, alice, bob, carol, dev, secret, dm_bob, dm_carol, .. } = fixture().await;
    let in_secret = post(&alice, &secret, "launch codes are 1234", None).await;
    let in_dm_bob = post(&alice, &dm_bob, "launch party friday", None).await;
    let in_dm_carol = post(&carol, &dm_carol, "launch lunch with carol", None).await;
    let public = post(&bob, &dev, "launch checklist", None).await;
    let deleted = post(&alice, &dev, "launch plan obsolete", None).await;
    alice.delete_message(deleted.id).await.expect("deleted");
    let edited = post(&alice, &dev, "original wording zebra", None).await;
    alice.update_message(edited.id, "revised wording giraffe").await.expect("edited");

    let found = |client: ApiClient, q: &'static str| async move {
        let mut ids = BTreeSet::new();
        for sort in [SearchSort::Relevance, SearchSort::Recent] {
            ids.extend(search_all(&client, q, None, sort, 50).await.into_iter().map(|hit| hit.message.id));
        }
        ids
    };
    let set = |messages: &[&Message]| messages.iter().map(|m| m.id).collect::<BTreeSet<_>>();
    assert_eq!(found(alice.clone(), "launch").await, set(&[&in_secret, &in_dm_bob, &in_dm_carol, &public]));
    assert_eq!(found(bob.clone(), "launch").await, set(&[&in_secret, &in_dm_bob, &public]));
    assert_eq!(found(carol.clone(), "launch").await, set(&[&in_dm_carol, &public]));
    // Naming the channel does not open it.
    assert_eq!(found(carol.clone(), "in:#secret").await, BTreeSet::new());
    assert_eq!(found(carol.clone(), "in:@bob").await, BTreeSet::new());
    assert_eq!(found(carol.clone(), "codes").await, BTreeSet::new());
    // Deleted: never; edited: only the current text.
    assert_eq!(found(alice.clone(), "obsolete").await, BTreeSet::new());
    assert_eq!(found(alice.clone(), "zebra").await, BTreeSet::new());
    assert_eq!(found(alice.clone(), "original").await, BTreeSet::new());
    assert_eq!(found(alice.clone(), "wording").await, set(&[&edited]));
    assert_eq!(found(alice.clone(), "giraffe").await, set(&[&edited]));
    let hit = &search_all(&alice, "giraffe", None, SearchSort::Relevance, 5).await[0];
    assert_eq!(hit.message.body_md, "revised wording giraffe");
    assert!(!hit.snippet.contains("zebra"));
    // The same once the api's indexer has moved everything into the text indexes (the
    // answers above may have come from either side: migration 0020), which then hold the
    // edited text and nothing of the deleted message.
    indexed(&stack).await;
    assert_eq!(found(alice.clone(), "launch").await, set(&[&in_secret, &in_dm_bob, &in_dm_carol, &public]));
    assert_eq!(found(carol.clone(), "launch").await, set(&[&in_dm_carol, &public]));
    assert_eq!(found(alice.clone(), "obsolete").await, BTreeSet::new());
    assert_eq!(found(alice.clone(), "zebra").await, BTreeSet::new());
    assert_eq!(found(alice.clone(), "giraffe").await, set(&[&edited]));
    let indexed_text = |id: MessageId| {
        sqlx::query_scalar::<_, String>("SELECT body_md FROM message_search WHERE id = $1")
            .bind(id)
            .fetch_optional(&stack.db.pool)
    };
    assert_eq!(indexed_text(edited.id).await.expect("read").as_deref(), Some("revised wording giraffe"));
    assert_eq!(indexed_text(deleted.id).await.expect("read"), None);
    // Access is what it is now: removed from #secret, bob no longer finds its messages.
    let bob_id = bob.me().await.expect("me").user.id;
    alice.remove_channel_member(secret.id, bob_id).await.expect("bob removed");
    assert_eq!(found(bob.clone(), "launch").await, set(&[&in_dm_bob, &public]));
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_common_word_ranks_its_newest_two_hundred_matches_and_recent_pages_through_all() {
    let Fixture { stack, alice, bob, dev, .. } = fixture().await;
    let alice_id = alice.me().await.expect("me").user.id;
    // 300 messages in one statement (as if posted one after the other, a second apart), so
    // the word is common among the newest messages. Ids made here, in order (the
    // database's uuid_v7() orders ids within a millisecond at random).
    let mut ids: Vec<uuid::Uuid> = (0..300).map(|_| MessageId::generate().as_uuid()).collect();
    ids.sort_unstable();
    sqlx::query(
        "INSERT INTO messages (id, channel_id, channel_seq, author_id, body_md, created_at)
         SELECT t.id, $1, t.n, $2, 'common word number ' || t.n, now() - (300 - t.n) * interval '1 second'
         FROM unnest($3::uuid[]) WITH ORDINALITY AS t(id, n)",
    )
    .bind(dev.id)
    .bind(alice_id)
    .bind(&ids)
    .execute(&stack.db.pool)
    .await
    .expect("inserted");
    sqlx::query("UPDATE channels SET last_seq = 300 WHERE id = $1")
        .bind(dev.id)
        .execute(&stack.db.pool)
        .await
        .expect("seq");
    let numbers = |hits: &[SearchHit]| -> Vec<u32> {
        hits.iter().filter_map(|hit| hit.message.body_md.rsplit(' ').next().and_then(|n| n.parse().ok())).collect()
    };
    let ranked = search_all(&bob, "common ", None, SearchSort::Relevance, 50).await;
    let expected: Vec<u32> = (101..=300).rev().collect();
    assert_eq!(numbers(&ranked), expected, "relevance: the newest 200, the newest first (equal text)");
    let recent = search_all(&bob, "common ", None, SearchSort::Recent, 100).await;
    let expected: Vec<u32> = (1..=300).rev().collect();
    assert_eq!(numbers(&recent), expected, "by time: every match");
    stack.stop().await;
}
