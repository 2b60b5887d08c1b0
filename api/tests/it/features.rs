//! Threads, reactions, pins, DMs, read state and unread/mention counts, as a user sees
//! them through the api.

use ajet_shared::api::ErrorCode;
use ajet_shared::api::wire::{
    Channel, ChannelListItem, CreateChannelRequest, CreateCommunityRequest, CreateInviteRequest, CreateMessageRequest,
    HistoryQuery, Message, Page,
};
use ajet_shared::client::ApiClient;
use ajet_shared::domain::ids::MessageId;
use reqwest::{Method, StatusCode};

use crate::harness::Api;

async fn send(client: &ApiClient, channel: &Channel, body: &str, parent: Option<MessageId>) -> Message {
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
        .expect("sent")
}

async fn call(client: &ApiClient, method: Method, path: &str, body: Option<serde_json::Value>) -> reqwest::Response {
    let mut request = client.request(method, path);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.expect("answers")
}

/// Alice owns community `acme` with `#dev`; Bob is in both.
async fn setup(api: &Api) -> (ApiClient, ApiClient, Channel) {
    let alice = api.user("alice").await;
    let bob = api.user("bob").await;
    let community = alice
        .create_community(&CreateCommunityRequest { name: "Acme".into(), slug: "acme".into(), description: None })
        .await
        .expect("community");
    let invite = alice.create_invite(community.id, &CreateInviteRequest::default()).await.expect("invite");
    bob.accept_invite(&invite.code).await.expect("accepted");
    let channel = alice
        .create_channel(community.id, &CreateChannelRequest { name: "dev".into(), topic: None, kind: None })
        .await
        .expect("channel");
    bob.join_channel(channel.id).await.expect("joined");
    (alice, bob, channel)
}

#[tokio::test]
async fn threads_are_one_level_deep_with_a_maintained_summary() {
    let api = Api::start().await;
    let (alice, bob, channel) = setup(&api).await;
    let root = send(&alice, &channel, "root", None).await;
    let reply = send(&bob, &channel, "reply", Some(root.id)).await;
    send(&alice, &channel, "second reply", Some(root.id)).await;
    let nested = alice
        .send_message(
            channel.id,
            &CreateMessageRequest {
                body_md: "deeper".into(),
                parent_id: Some(reply.id),
                client_msg_id: None,
                attachment_ids: Vec::new(),
            },
        )
        .await
        .expect_err("threads are one level deep");
    assert_eq!(nested.code(), Some(ErrorCode::NestedThread));

    let root_now: Message =
        call(&bob, Method::GET, &format!("/api/messages/{}", root.id), None).await.json().await.expect("json");
    assert_eq!(root_now.reply_count, 2);
    assert!(root_now.last_reply_at.is_some());
    let replies: Page<Message> =
        call(&bob, Method::GET, &format!("/api/messages/{}/replies", root.id), None).await.json().await.expect("json");
    assert_eq!(replies.data.iter().map(|m| m.body_md.as_str()).collect::<Vec<_>>(), ["reply", "second reply"]);

    let history = bob.history(channel.id, &HistoryQuery::default()).await.expect("history");
    assert_eq!(history.data.len(), 1, "replies are not in the channel's history");
    let around = bob
        .history(channel.id, &HistoryQuery { around: Some(reply.id), ..HistoryQuery::default() })
        .await
        .expect("around a reply");
    assert_eq!(around.data.iter().map(|m| m.id).collect::<Vec<_>>(), [root.id], "around a reply centres on its root");

    let deleted = call(&bob, Method::DELETE, &format!("/api/messages/{}", reply.id), None).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let root_now: Message =
        call(&bob, Method::GET, &format!("/api/messages/{}", root.id), None).await.json().await.expect("json");
    assert_eq!(root_now.reply_count, 1, "a deleted reply leaves the summary");
    let tombstone: Message =
        call(&alice, Method::GET, &format!("/api/messages/{}", reply.id), None).await.json().await.expect("json");
    assert_eq!(tombstone.body_md, "", "a deleted message's body is gone");
    assert!(tombstone.deleted_at.is_some());
    let edit = call(
        &alice,
        Method::PATCH,
        &format!("/api/messages/{}", root_now.id),
        Some(serde_json::json!({"body_md": "mine"})),
    )
    .await;
    assert_eq!(edit.status(), StatusCode::OK, "the author edits");
    let edited: Message = edit.json().await.expect("json");
    assert!(edited.edited_at.is_some());
    let edit = call(
        &bob,
        Method::PATCH,
        &format!("/api/messages/{}", root.id),
        Some(serde_json::json!({"body_md": "not mine"})),
    )
    .await;
    assert_eq!(edit.status(), StatusCode::FORBIDDEN, "others do not");
}

#[tokio::test]
async fn reactions_aggregate_per_emoji_and_pins_list() {
    let api = Api::start().await;
    let (alice, bob, channel) = setup(&api).await;
    let message = send(&alice, &channel, "react to me", None).await;
    let thumbs = format!("/api/messages/{}/reactions/%F0%9F%91%8D", message.id);
    let tada = format!("/api/messages/{}/reactions/:tada:", message.id);
    for (client, path) in [(&alice, &thumbs), (&alice, &thumbs), (&bob, &thumbs), (&alice, &tada)] {
        assert_eq!(call(client, Method::PUT, path, None).await.status(), StatusCode::NO_CONTENT);
    }
    let bad = call(&alice, Method::PUT, &format!("/api/messages/{}/reactions/notanemoji", message.id), None).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);

    let seen_by_bob: Message =
        call(&bob, Method::GET, &format!("/api/messages/{}", message.id), None).await.json().await.expect("json");
    let summary: Vec<(&str, i64, bool)> =
        seen_by_bob.reactions.iter().map(|r| (r.emoji.as_str(), r.count, r.reacted_by_me)).collect();
    assert_eq!(summary, [("👍", 2, true), (":tada:", 1, false)]);
    assert_eq!(call(&alice, Method::DELETE, &thumbs, None).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(call(&alice, Method::DELETE, &thumbs, None).await.status(), StatusCode::NO_CONTENT, "idempotent");
    let history = alice.history(channel.id, &HistoryQuery::default()).await.expect("history");
    let summary: Vec<(&str, i64, bool)> =
        history.data[0].reactions.iter().map(|r| (r.emoji.as_str(), r.count, r.reacted_by_me)).collect();
    assert_eq!(summary, [("👍", 1, false), (":tada:", 1, true)], "history carries the same aggregate");

    assert_eq!(
        call(&bob, Method::PUT, &format!("/api/messages/{}/pin", message.id), None).await.status(),
        StatusCode::NO_CONTENT
    );
    let pins: Page<Message> = call(&alice, Method::GET, &format!("/api/channels/{}/pins", channel.id), None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(pins.data.len(), 1);
    assert_eq!(pins.data[0].pinned_by, bob.me().await.expect("me").user.id.into());
}

#[tokio::test]
async fn dms_are_found_by_their_exact_member_set() {
    let api = Api::start().await;
    let alice = api.user("alice").await;
    let bob = api.user("bob").await;
    let carol = api.user("carol").await;
    let bob_id = bob.me().await.expect("me").user.id;
    let alice_id = alice.me().await.expect("me").user.id;
    let carol_id = carol.me().await.expect("me").user.id;

    let first = call(&alice, Method::POST, "/api/dms", Some(serde_json::json!({"user_ids": [bob_id]}))).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Channel = first.json().await.expect("json");
    assert_eq!(first.community_id, None);
    let again = call(&bob, Method::POST, "/api/dms", Some(serde_json::json!({"user_ids": [alice_id, bob_id]}))).await;
    assert_eq!(again.status(), StatusCode::OK, "the same set is the same DM");
    assert_eq!(again.json::<Channel>().await.expect("json").id, first.id);
    let group: Channel =
        call(&alice, Method::POST, "/api/dms", Some(serde_json::json!({"user_ids": [bob_id, carol_id]})))
            .await
            .json()
            .await
            .expect("json");
    assert_ne!(group.id, first.id);
    let unknown = call(
        &alice,
        Method::POST,
        "/api/dms",
        Some(serde_json::json!({"user_ids": [ajet_shared::UserId::generate()]})),
    )
    .await;
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);

    send(&alice, &first, "psst", None).await;
    let listed: Page<ChannelListItem> = call(&bob, Method::GET, "/api/dms", None).await.json().await.expect("json");
    assert_eq!(listed.data.len(), 2);
    let dm = listed.data.iter().find(|d| d.channel.id == first.id).expect("listed");
    assert_eq!(dm.unread_count, 1);
    assert_eq!(dm.members.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(), ["alice"]);
    let carols: Page<ChannelListItem> = call(&carol, Method::GET, "/api/dms", None).await.json().await.expect("json");
    assert_eq!(carols.data.len(), 1, "carol sees only the group DM");
}

#[tokio::test]
async fn unread_and_mention_counts_follow_the_read_cursor() {
    let api = Api::start().await;
    let (alice, bob, channel) = setup(&api).await;
    let community = channel.community_id.expect("community");
    // Mentions count from bob's notifications: `@here` notifies only members seen lately.
    bob.heartbeat().await.expect("bob is online");
    let first = send(&alice, &channel, "one", None).await;
    send(&alice, &channel, "two @bob", None).await;
    let last = send(&alice, &channel, "three @here", None).await;
    send(&bob, &channel, "my own message does not count", None).await;

    let counts = |client: ApiClient| async move {
        let list: Page<ChannelListItem> =
            call(&client, Method::GET, &format!("/api/communities/{community}/channels"), None)
                .await
                .json()
                .await
                .expect("json");
        let dev = list.data.into_iter().find(|c| c.channel.name.as_deref() == Some("dev")).expect("dev listed");
        (dev.unread_count, dev.mention_count)
    };
    assert_eq!(counts(bob.clone()).await, (3, 2));
    let read = call(
        &bob,
        Method::POST,
        &format!("/api/channels/{}/read", channel.id),
        Some(serde_json::json!({"message_id": last.id})),
    )
    .await;
    assert_eq!(read.status(), StatusCode::OK);
    assert_eq!(counts(bob.clone()).await, (0, 0));
    call(
        &bob,
        Method::POST,
        &format!("/api/channels/{}/read", channel.id),
        Some(serde_json::json!({"message_id": first.id})),
    )
    .await;
    assert_eq!(counts(bob.clone()).await, (2, 0), "marking unread moves the cursor back; read notifications stay read");
    let foreign = call(
        &bob,
        Method::POST,
        &format!("/api/channels/{}/read", channel.id),
        Some(serde_json::json!({"message_id": MessageId::generate()})),
    )
    .await;
    assert_eq!(foreign.status(), StatusCode::BAD_REQUEST);

    let carol = api.user("carol").await;
    let invite = alice.create_invite(community, &CreateInviteRequest::default()).await.expect("invite");
    carol.accept_invite(&invite.code).await.expect("accepted");
    carol.join_channel(channel.id).await.expect("joined");
    assert_eq!(counts(carol.clone()).await, (0, 0), "joining starts at the latest message");
}

/// With several api instances a message's id (a UUIDv7) carries the clock of the instance
/// that wrote it, so a later message may get a smaller id. History must follow the order
/// the channel gave its messages (`channel_seq`), or a reader paging forward would skip it.
#[tokio::test]
async fn history_pages_follow_the_channels_order_even_when_an_instances_clock_is_behind() {
    let api = Api::start().await;
    let (alice, bob, channel) = setup(&api).await;
    let first = send(&alice, &channel, "first", None).await;
    let second = send(&alice, &channel, "second", None).await;
    let third = send(&bob, &channel, "third, written by an instance whose clock is years behind", None).await;
    outbox_drained(&api).await;
    // The id `third` would have had on that instance: a UUIDv7 of 2022, below the others.
    let behind: uuid::Uuid = "017f22e2-79b0-7cc3-98c4-dc0c0c07398f".parse().expect("uuid");
    sqlx::query("DELETE FROM message_stream_events WHERE message_id = $1")
        .bind(third.id.as_uuid())
        .execute(&api.db.pool)
        .await
        .expect("stream bookkeeping of the message");
    sqlx::query("DELETE FROM message_search WHERE id = $1")
        .bind(third.id.as_uuid())
        .execute(&api.db.pool)
        .await
        .expect("search's copy of the message");
    sqlx::query("UPDATE messages SET id = $2 WHERE id = $1")
        .bind(third.id.as_uuid())
        .bind(behind)
        .execute(&api.db.pool)
        .await
        .expect("the message as that instance would have written it");
    let third = MessageId::from(behind);
    let bodies = |page: &Page<Message>| page.data.iter().map(|m| m.body_md.clone()).collect::<Vec<_>>();
    let page = |query: HistoryQuery| {
        let bob = bob.clone();
        async move { bob.history(channel.id, &query).await.expect("page") }
    };

    let latest = page(HistoryQuery { limit: Some(2), ..HistoryQuery::default() }).await;
    assert_eq!(latest.data.iter().map(|m| m.id).collect::<Vec<_>>(), [second.id, third]);
    assert_eq!(latest.page.before.as_deref(), Some(second.id.to_string().as_str()));
    let older = page(HistoryQuery { before: Some(second.id), ..HistoryQuery::default() }).await;
    assert_eq!(bodies(&older), ["first"]);
    let newer = page(HistoryQuery { after: Some(second.id), ..HistoryQuery::default() }).await;
    assert_eq!(newer.data.iter().map(|m| m.id).collect::<Vec<_>>(), [third], "paging forward finds the late id");
    let before_third = page(HistoryQuery { before: Some(third), ..HistoryQuery::default() }).await;
    assert_eq!(bodies(&before_third), ["first", "second"]);
    let around = page(HistoryQuery { around: Some(first.id), limit: Some(4), ..HistoryQuery::default() }).await;
    assert_eq!(around.data.iter().map(|m| m.id).collect::<Vec<_>>(), [first.id, second.id, third]);

    // A cursor that is not a message of this channel is refused, not read as a position.
    let unknown = MessageId::from(uuid::Uuid::now_v7());
    let refused = bob
        .history(channel.id, &HistoryQuery { after: Some(unknown), ..HistoryQuery::default() })
        .await
        .expect_err("not a message of the channel");
    assert_eq!(refused.code(), Some(ErrorCode::InvalidCursor));
    let replies = bob
        .list_replies(first.id, &HistoryQuery { before: Some(second.id), ..HistoryQuery::default() })
        .await
        .expect_err("not a message of the thread");
    assert_eq!(replies.code(), Some(ErrorCode::InvalidCursor));
}

/// Statements this database has run that touch `messages` or `reactions`, from
/// `pg_stat_statements`, leaving out the outbox relay's bookkeeping and the search
/// indexer's (they run in the background after writes, so they would land in whichever
/// measurement is running).
async fn message_statements(api: &Api) -> i64 {
    sqlx::query_scalar(
        "SELECT COALESCE(sum(calls), 0)::bigint FROM pg_stat_statements
         WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND (query ILIKE '%messages%' OR query ILIKE '%reactions%') AND query NOT ILIKE '%pg_stat_statements%' AND query NOT ILIKE '%message_stream_events%'
           AND query NOT ILIKE '%message_search%'",
    )
    .fetch_one(&api.db.pool)
    .await
    .expect("pg_stat_statements is loaded by the test infrastructure")
}

#[tokio::test]
async fn a_history_page_and_a_channel_list_cost_the_same_statements_whatever_their_size() {
    let api = Api::start().await;
    let (alice, bob, channel) = setup(&api).await;
    let small = channel.community_id.expect("community");
    for n in 0..60 {
        let message = send(&alice, &channel, &format!("m{n} @bob"), None).await;
        call(&bob, Method::PUT, &format!("/api/messages/{}/reactions/:eyes:", message.id), None).await;
    }
    // A second community with ten times the channels, each with a mention of Bob unread.
    let large = alice
        .create_community(&CreateCommunityRequest { name: "Large".into(), slug: "large".into(), description: None })
        .await
        .expect("community")
        .id;
    let invite = alice.create_invite(large, &CreateInviteRequest::default()).await.expect("invite");
    bob.accept_invite(&invite.code).await.expect("accepted");
    for n in 1..20 {
        let extra = alice
            .create_channel(large, &CreateChannelRequest { name: format!("extra-{n}"), topic: None, kind: None })
            .await
            .expect("channel");
        bob.join_channel(extra.id).await.expect("joined");
        send(&alice, &extra, "@bob something to count", None).await;
    }

    outbox_drained(&api).await;
    let mut costs = Vec::new();
    for (limit, community, channels) in [(5, small, 2), (50, large, 20)] {
        let before = message_statements(&api).await;
        let page = bob
            .history(channel.id, &HistoryQuery { limit: Some(limit), ..HistoryQuery::default() })
            .await
            .expect("page");
        costs.push(message_statements(&api).await - before);
        assert_eq!(page.data.len(), limit as usize);
        assert!(page.data.iter().all(|m| m.reactions.len() == 1 && m.reactions[0].reacted_by_me));
        let before = message_statements(&api).await;
        let list = channel_list(&bob, community).await;
        costs.push(message_statements(&api).await - before);
        assert_eq!(list.data.len(), channels, "the list holds every channel of the community");
        assert!(
            list.data
                .iter()
                .filter(|c| c.channel.name.as_deref().is_some_and(|name| name.starts_with("extra-")))
                .all(|c| (c.unread_count, c.mention_count) == (1, 1)),
            "each listed channel carries its own unread and mention counts"
        );
    }
    println!(
        "statements touching messages/reactions: page of 5 {}, list of 2 {}, page of 50 {}, list of 20 {}",
        costs[0], costs[1], costs[2], costs[3]
    );
    assert_eq!(costs[0], costs[2], "no statement per message in a history page");
    assert_eq!(costs[1], costs[3], "no statement per channel in the channel list");
    assert!(costs[0] <= 3, "a page is a handful of statements, got {}", costs[0]);
}

/// Waits until the outbox relay has published every event and the search indexer has
/// indexed every message, so no background work of the set-up lands in a measurement.
async fn outbox_drained(api: &Api) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let pending: i64 = sqlx::query_scalar(
            "SELECT (SELECT count(*) FROM outbox WHERE published_at IS NULL) + (SELECT count(*) FROM search_pending)",
        )
        .fetch_one(&api.db.pool)
        .await
        .expect("pending outbox and search rows");
        if pending == 0 {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{pending} outbox or search rows still pending after 10 s");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

async fn channel_list(client: &ApiClient, community: ajet_shared::domain::ids::CommunityId) -> Page<ChannelListItem> {
    call(client, Method::GET, &format!("/api/communities/{community}/channels"), None).await.json().await.expect("json")
}

#[tokio::test]
async fn deleted_messages_at_page_borders_keep_their_place() {
    let api = Api::start().await;
    let (alice, _bob, channel) = setup(&api).await;
    let mut ids = Vec::new();
    for n in 0..4 {
        ids.push(send(&alice, &channel, &format!("m{n}"), None).await.id);
    }
    for id in [ids[1], ids[2]] {
        assert_eq!(
            call(&alice, Method::DELETE, &format!("/api/messages/{id}"), None).await.status(),
            StatusCode::NO_CONTENT
        );
    }
    let newest =
        alice.history(channel.id, &HistoryQuery { limit: Some(2), ..HistoryQuery::default() }).await.expect("page");
    assert_eq!(newest.data.iter().map(|m| m.id).collect::<Vec<_>>(), ids[2..]);
    assert_eq!(
        (newest.data[0].body_md.as_str(), newest.data[1].body_md.as_str()),
        ("", "m3"),
        "a tombstone holds its place"
    );
    let before = newest.page.before.expect("older").parse().expect("id");
    let older = alice
        .history(channel.id, &HistoryQuery { before: Some(before), limit: Some(2), ..HistoryQuery::default() })
        .await
        .expect("page");
    assert_eq!(older.data.iter().map(|m| m.id).collect::<Vec<_>>(), ids[..2]);
    assert!(older.data[1].deleted_at.is_some());
    assert!(!older.page.has_more);
}

#[tokio::test]
async fn a_heartbeat_makes_a_user_online() {
    let api = Api::start().await;
    let (alice, bob, _channel) = setup(&api).await;
    let carol = api.user("carol").await;
    let alice_id = alice.me().await.expect("me").user.id;
    let bob_id = bob.me().await.expect("me").user.id;
    assert_eq!(call(&alice, Method::POST, "/api/heartbeat", None).await.status(), StatusCode::NO_CONTENT);
    let stranger: serde_json::Value = call(&carol, Method::GET, &format!("/api/presence?user_ids={alice_id}"), None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        stranger["data"][0]["online"], false,
        "presence is shared only with people who share a community or channel"
    );
    let presence: serde_json::Value =
        call(&bob, Method::GET, &format!("/api/presence?user_ids={alice_id},{bob_id}"), None)
            .await
            .json()
            .await
            .expect("json");
    assert_eq!(presence["data"][0]["user_id"], alice_id.to_string());
    assert_eq!(presence["data"][0]["online"], true);
    assert!(presence["data"][0]["last_seen_at"].is_string());
    assert_eq!(presence["data"][1]["online"], false, "bob never sent a heartbeat");
    let bad = call(&bob, Method::GET, "/api/presence?user_ids=nope", None).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_private_channel_records_mentions_only_of_its_members() {
    let api = Api::start().await;
    let (alice, bob, _public) = setup(&api).await;
    let community = alice.me().await.expect("me").communities[0].id;
    let secret = alice
        .create_channel(
            community,
            &CreateChannelRequest {
                name: "secret".into(),
                topic: None,
                kind: Some(ajet_shared::api::wire::ChannelKind::Private),
            },
        )
        .await
        .expect("private");
    send(&alice, &secret, "hey @bob and @alice", None).await;
    drop(bob);
    let mentioned: Vec<String> =
        sqlx::query_scalar("SELECT u.username FROM mentions m JOIN users u ON u.id = m.user_id ORDER BY u.username")
            .fetch_all(&api.db.pool)
            .await
            .expect("mentions");
    assert_eq!(mentioned, ["alice"], "bob is not in the channel, so nothing about it reaches him");
}

/// Calls of statements writing notifications or outbox rows, from `pg_stat_statements`.
async fn notification_statements(api: &Api) -> i64 {
    sqlx::query_scalar(
        "SELECT COALESCE(sum(calls), 0)::bigint FROM pg_stat_statements
         WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND (query ILIKE '%INSERT INTO notifications%' OR query ILIKE '%INSERT INTO outbox%')
           AND query NOT ILIKE '%pg_stat_statements%'",
    )
    .fetch_one(&api.db.pool)
    .await
    .expect("pg_stat_statements is loaded by the test infrastructure")
}

#[tokio::test]
async fn an_at_channel_to_thirty_members_costs_the_statements_of_one_to_two() {
    let api = Api::start().await;
    // bob is small's other member.
    let (alice, _bob, small) = setup(&api).await;
    let community = small.community_id.expect("community");
    let big = alice
        .create_channel(community, &CreateChannelRequest { name: "big".into(), topic: None, kind: None })
        .await
        .expect("channel");
    for n in 0..30 {
        let member = api.user(&format!("member{n}")).await;
        let invite = alice.create_invite(community, &CreateInviteRequest::default()).await.expect("invite");
        member.accept_invite(&invite.code).await.expect("accepted");
        member.join_channel(big.id).await.expect("joined");
    }
    let mut costs = Vec::new();
    for channel in [&small, &big] {
        let before = notification_statements(&api).await;
        let message = send(&alice, channel, "@channel heads up", None).await;
        costs.push(notification_statements(&api).await - before);
        let notified: i64 = sqlx::query_scalar("SELECT count(*) FROM notifications WHERE message_id = $1")
            .bind(message.id)
            .fetch_one(&api.db.pool)
            .await
            .expect("count");
        let expected = if channel.id == big.id { 30 } else { 1 };
        assert_eq!(notified, expected, "everyone in #{} but the author", channel.name.as_deref().unwrap_or_default());
    }
    assert_eq!(costs[0], costs[1], "the fan-out is one insert and one outbox insert, whatever the audience");
    assert_eq!(costs[0], 3, "the message's event, its notifications, and their events");
}
