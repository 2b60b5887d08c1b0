//! Notifications through the gateway: who a message notifies (kind × notify level × mute ×
//! author × access × `@here`/`@channel`, thread participants, edits), what the inbox shows,
//! read changes reaching the user's other streams, and per-channel preferences.

use std::collections::BTreeMap;
use std::time::Duration;

use ajet_shared::api::ErrorCode;
use ajet_shared::api::wire::{
    Channel, ChannelKind, CreateChannelRequest, CreateCommunityRequest, CreateInviteRequest, CreateMessageRequest,
    Message, Notification, NotificationKind, NotificationQuery, NotifyLevel, ReadNotificationsRequest,
    UpdatePreferencesRequest,
};
use ajet_shared::client::{ApiClient, ClientError, SseEvent};
use ajet_shared::domain::ids::{CommunityId, MessageId, NotificationId};
use ajet_shared::events::{Event, EventPayload};
use futures::StreamExt as _;
use futures::stream::BoxStream;
use time::OffsetDateTime;

use crate::skeleton::two_users;
use crate::stack::Stack;

type Sse = BoxStream<'static, Result<SseEvent, ClientError>>;

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

/// Every notification of `client`, newest first (all pages).
async fn inbox(client: &ApiClient) -> Vec<Notification> {
    let mut all = Vec::new();
    let mut before = None;
    loop {
        let query = NotificationQuery { unread: None, before, limit: Some(100) };
        let page = client.list_notifications(&query).await.expect("the inbox");
        all.extend(page.data);
        if !page.page.has_more {
            return all;
        }
        before = all.last().map(|n: &Notification| n.id);
    }
}

/// Who `message` notified, and how: username → kind, over `users`.
async fn notified(users: &[(&str, ApiClient)], message: MessageId) -> BTreeMap<String, NotificationKind> {
    let mut found = BTreeMap::new();
    for (name, client) in users {
        let mine: Vec<Notification> =
            inbox(client).await.into_iter().filter(|n| n.message_id == Some(message)).collect();
        assert!(mine.len() <= 1, "{name} has {} notifications of one message", mine.len());
        if let Some(notification) = mine.first() {
            found.insert((*name).to_owned(), notification.kind);
        }
    }
    found
}

fn expect(pairs: &[(&str, NotificationKind)]) -> BTreeMap<String, NotificationKind> {
    pairs.iter().map(|(name, kind)| ((*name).to_owned(), *kind)).collect()
}

/// Records a failure if `got` is not `want`.
fn check(
    failures: &mut Vec<String>,
    what: &str,
    got: &BTreeMap<String, NotificationKind>,
    want: &[(&str, NotificationKind)],
) {
    if *got != expect(want) {
        failures.push(format!("{what}: expected {:?}, got {got:?}", expect(want)));
    }
}

async fn set_preferences(client: &ApiClient, channel: &Channel, request: UpdatePreferencesRequest) {
    client.update_preferences(channel.id, &request).await.expect("preferences set");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_notifies_exactly_whom_its_kind_their_level_their_mute_and_their_access_allow() {
    let stack = Stack::start_with(|config| config.broadcast_mention_max_members = 5).await;
    let names = ["alice", "bob", "carol", "dave", "erin", "frank", "gina"];
    let mut users = Vec::new();
    for name in names {
        users.push((name, stack.login(name).await));
    }
    let user = |name: &str| users.iter().find(|(n, _)| *n == name).map(|(_, c)| c.clone()).expect("a user");
    let (alice, bob, carol, dave, erin, gina) =
        (user("alice"), user("bob"), user("carol"), user("dave"), user("erin"), user("gina"));
    let community = alice
        .create_community(&CreateCommunityRequest { name: "Acme".into(), slug: "acme".into(), description: None })
        .await
        .expect("community");
    for (name, client) in &users[1..] {
        let invite = alice.create_invite(community.id, &CreateInviteRequest::default()).await.expect("invite");
        client.accept_invite(&invite.code).await.unwrap_or_else(|err| panic!("{name} joins: {err}"));
    }
    let dev = alice
        .create_channel(community.id, &CreateChannelRequest { name: "dev".into(), topic: None, kind: None })
        .await
        .expect("dev");
    // frank stays out of #dev (but may read it, being in the community).
    for client in [&bob, &carol, &dave, &erin, &gina] {
        client.join_channel(dev.id).await.expect("joined dev");
    }
    let secret = alice
        .create_channel(
            community.id,
            &CreateChannelRequest { name: "secret".into(), topic: None, kind: Some(ChannelKind::Private) },
        )
        .await
        .expect("secret");
    let id_of = |client: ApiClient| async move { client.me().await.expect("me").user.id };
    alice.add_channel_member(secret.id, id_of(bob.clone()).await).await.expect("bob in secret");
    let level = |level| UpdatePreferencesRequest { notify_level: Some(level), ..UpdatePreferencesRequest::default() };
    set_preferences(&carol, &dev, level(NotifyLevel::Mentions)).await;
    set_preferences(&dave, &dev, level(NotifyLevel::None)).await;
    let in_an_hour = OffsetDateTime::now_utc() + Duration::from_secs(3600);
    let mute = UpdatePreferencesRequest { muted_until: Some(Some(in_an_hour)), ..UpdatePreferencesRequest::default() };
    set_preferences(&erin, &dev, mute).await;
    // Online for @here: alice and bob; carol, dave, erin, gina are not.
    alice.heartbeat().await.expect("alice online");
    bob.heartbeat().await.expect("bob online");

    use NotificationKind::{Dm, Mention, ThreadReply};
    let mut failures = Vec::new();

    // Direct mentions: level `all` and `mentions` notify, `none` and a mute do not, the
    // author never, a community member outside the public channel does (they may read it).
    let m = post(&alice, &dev, "hi @bob @carol @dave @erin @frank @alice", None).await;
    check(
        &mut failures,
        "direct mentions in a public channel",
        &notified(&users, m.id).await,
        &[("bob", Mention), ("carol", Mention), ("frank", Mention)],
    );
    // @channel: the channel's members only, under the same levels and mutes.
    let m = post(&alice, &dev, "@channel deploy at noon", None).await;
    check(
        &mut failures,
        "@channel",
        &notified(&users, m.id).await,
        &[("bob", Mention), ("carol", Mention), ("gina", Mention)],
    );
    // @here: only the members seen within two minutes (bob; alice is the author).
    let m = post(&alice, &dev, "@here anyone?", None).await;
    check(&mut failures, "@here", &notified(&users, m.id).await, &[("bob", Mention)]);
    // A plain message in a channel notifies nobody.
    let m = post(&alice, &dev, "just chatting", None).await;
    check(&mut failures, "a plain channel message", &notified(&users, m.id).await, &[]);
    // A private channel: a mention of someone outside it notifies no one.
    let m = post(&alice, &secret, "@carol @frank have a look", None).await;
    check(&mut failures, "outsiders mentioned in a private channel", &notified(&users, m.id).await, &[]);
    let m = post(&alice, &secret, "@bob have a look", None).await;
    check(&mut failures, "a member mentioned in a private channel", &notified(&users, m.id).await, &[("bob", Mention)]);
    // DMs: every message notifies the others; `mentions` there keeps only mentions.
    let bob_id = id_of(bob.clone()).await;
    let carol_id = id_of(carol.clone()).await;
    let dm = alice.open_dm(&[bob_id]).await.expect("dm");
    let m = post(&alice, &dm, "psst", None).await;
    check(&mut failures, "a DM", &notified(&users, m.id).await, &[("bob", Dm)]);
    let group = alice.open_dm(&[bob_id, carol_id]).await.expect("group dm");
    let m = post(&alice, &group, "hello both", None).await;
    check(&mut failures, "a group DM", &notified(&users, m.id).await, &[("bob", Dm), ("carol", Dm)]);
    set_preferences(&bob, &dm, level(NotifyLevel::Mentions)).await;
    let m = post(&alice, &dm, "still there?", None).await;
    check(&mut failures, "a DM at level mentions", &notified(&users, m.id).await, &[]);
    let m = post(&alice, &dm, "@bob still there?", None).await;
    check(&mut failures, "a mention in a DM at level mentions", &notified(&users, m.id).await, &[("bob", Mention)]);
    // Threads: the root's author and everyone who replied before; a mention wins over a
    // thread reply; `mentions` (carol) hears only mentions.
    let root = post(&bob, &dev, "root by bob", None).await;
    let m = post(&gina, &dev, "first reply", Some(root.id)).await;
    check(&mut failures, "the first reply", &notified(&users, m.id).await, &[("bob", ThreadReply)]);
    let m = post(&carol, &dev, "carol replies", Some(root.id)).await;
    check(
        &mut failures,
        "the second reply",
        &notified(&users, m.id).await,
        &[("bob", ThreadReply), ("gina", ThreadReply)],
    );
    let m = post(&alice, &dev, "@gina see this", Some(root.id)).await;
    check(
        &mut failures,
        "a reply mentioning a participant",
        &notified(&users, m.id).await,
        &[("bob", ThreadReply), ("gina", Mention)],
    );
    let m = post(&bob, &dev, "thanks all", Some(root.id)).await;
    check(
        &mut failures,
        "the root's author replying",
        &notified(&users, m.id).await,
        &[("alice", ThreadReply), ("gina", ThreadReply)],
    );
    // Edits notify only the newly mentioned; the earlier notification stays the one.
    let m = post(&alice, &dev, "ping @bob", None).await;
    let before: Vec<NotificationId> =
        inbox(&bob).await.into_iter().filter(|n| n.message_id == Some(m.id)).map(|n| n.id).collect();
    alice.update_message(m.id, "ping @bob and @gina").await.expect("edited");
    check(
        &mut failures,
        "an edit adding a mention",
        &notified(&users, m.id).await,
        &[("bob", Mention), ("gina", Mention)],
    );
    let after: Vec<NotificationId> =
        inbox(&bob).await.into_iter().filter(|n| n.message_id == Some(m.id)).map(|n| n.id).collect();
    if before != after {
        failures.push(format!("an edit re-notified bob: {before:?} then {after:?}"));
    }
    // A mute that has ended no longer silences; unmuting is `null`.
    let ended = OffsetDateTime::now_utc() - Duration::from_secs(60);
    let unmute = UpdatePreferencesRequest { muted_until: Some(Some(ended)), ..UpdatePreferencesRequest::default() };
    set_preferences(&erin, &dev, unmute).await;
    let m = post(&alice, &dev, "@erin welcome back", None).await;
    check(&mut failures, "a mute that has ended", &notified(&users, m.id).await, &[("erin", Mention)]);
    // Being added to a private channel is an invite.
    alice.add_channel_member(secret.id, id_of(gina.clone()).await).await.expect("gina in secret");
    let invite = inbox(&gina).await.into_iter().find(|n| n.kind == NotificationKind::Invite);
    match invite {
        Some(n)
            if n.channel.as_ref().and_then(|c| c.name.as_deref()) == Some("secret")
                && n.actor.as_ref().map(|a| a.username.as_str()) == Some("alice") => {}
        other => failures.push(format!("gina's invite to #secret by alice: got {other:?}")),
    }
    assert!(failures.is_empty(), "{} wrong fan-outs:\n{}", failures.len(), failures.join("\n"));

    // What the inbox shows is enough to render it.
    let latest = inbox(&erin).await.into_iter().next().expect("erin has one");
    assert_eq!(latest.kind, Mention);
    assert_eq!(latest.channel.as_ref().and_then(|c| c.name.as_deref()), Some("dev"));
    assert_eq!(latest.channel.as_ref().map(|c| c.id), Some(dev.id));
    assert_eq!(latest.actor.as_ref().map(|a| a.username.as_str()), Some("alice"));
    assert_eq!(latest.snippet.as_deref(), Some("@erin welcome back"));
    assert!(latest.read_at.is_none());

    // @channel and @here in a channel over the size limit (5; #dev has 6) are for admins.
    for body in ["@channel all hands", "@here quick one"] {
        let refused = bob
            .send_message(
                dev.id,
                &CreateMessageRequest {
                    body_md: body.into(),
                    parent_id: None,
                    client_msg_id: None,
                    attachment_ids: Vec::new(),
                },
            )
            .await
            .expect_err("a member may not broadcast to a large channel");
        assert_eq!(refused.status().map(|s| s.as_u16()), Some(400), "{body}");
        assert_eq!(refused.code(), Some(ErrorCode::BroadcastNeedsAdmin), "{body}");
    }
    let plain = post(&bob, &dev, "no broadcast", None).await;
    let refused = bob.update_message(plain.id, "now @channel").await.expect_err("nor by an edit");
    assert_eq!(refused.code(), Some(ErrorCode::BroadcastNeedsAdmin));
    post(&alice, &dev, "@channel from the owner", None).await;
    // A broadcast posted while the channel was small may be edited after it grew; adding
    // one may not.
    let small = post(&bob, &secret, "@channel in secret, tpyo", None).await;
    for client in [&carol, &dave, &erin] {
        alice.add_channel_member(secret.id, id_of(client.clone()).await).await.expect("added to secret");
    }
    bob.update_message(small.id, "@channel in secret, typo fixed").await.expect("the broadcast was there before");
    let refused = bob.update_message(small.id, "@channel @here in secret").await.expect_err("@here is new");
    assert_eq!(refused.code(), Some(ErrorCode::BroadcastNeedsAdmin));
    stack.stop().await;
}

/// The ids of the next `notifications.read` on each stream; both must say the same.
async fn heard_read(first: &mut Sse, second: &mut Sse) -> Vec<NotificationId> {
    let mut heard = Vec::new();
    for stream in [first, second] {
        let EventPayload::NotificationsRead(read) = next_of(stream, "notifications.read").await.payload else {
            panic!("type and payload disagree");
        };
        heard.push(read.ids);
    }
    assert_eq!(heard[0], heard[1], "every client of the user hears the same read change");
    heard.swap_remove(0)
}

/// The next event on `stream` of type `kind`, skipping others.
async fn next_of(stream: &mut Sse, kind: &str) -> Event {
    loop {
        let event = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .unwrap_or_else(|_| panic!("a {kind} event within 10 s"))
            .expect("the stream stays open")
            .expect("a well-formed event");
        if event.event == kind {
            return serde_json::from_str(&event.data).expect("an envelope");
        }
    }
}

async fn mention_count(client: &ApiClient, community: CommunityId, channel: &Channel) -> i64 {
    let list = client.list_channels(community).await.expect("channels");
    list.data.into_iter().find(|c| c.channel.id == channel.id).map(|c| c.mention_count).expect("listed")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notification_and_every_read_change_reach_all_of_the_users_streams() {
    let stack = Stack::start().await;
    let (alice, bob, dev) = two_users(&stack).await;
    let community = dev.community_id.expect("a community channel");
    let mut first = bob.tui_events(None).await.expect("bob's first client");
    let mut second = bob.tui_events(None).await.expect("bob's second client");

    let message = post(&alice, &dev, "@bob look at this", None).await;
    let mut created = Vec::new();
    for stream in [&mut first, &mut second] {
        let EventPayload::NotificationCreated(notification) = next_of(stream, "notification.created").await.payload
        else {
            panic!("type and payload disagree");
        };
        created.push(notification);
    }
    assert_eq!(created[0], created[1], "both clients hear of the same notification");
    let notification = &created[0];
    assert_eq!((notification.kind, notification.message_id), (NotificationKind::Mention, Some(message.id)));
    assert_eq!(notification.snippet, None, "no message text in the stream outside message events");
    assert_eq!(mention_count(&bob, community, &dev).await, 1, "the channel list counts it");

    // Read by id on one client: the other stream is told which.
    let read = bob
        .read_notifications(&ReadNotificationsRequest { ids: Some(vec![notification.id]), ..Default::default() })
        .await
        .expect("read");
    assert_eq!(read.ids, vec![notification.id]);
    assert_eq!(heard_read(&mut first, &mut second).await, vec![notification.id]);
    assert_eq!(mention_count(&bob, community, &dev).await, 0);
    let again = bob
        .read_notifications(&ReadNotificationsRequest { ids: Some(vec![notification.id]), ..Default::default() })
        .await
        .expect("read again");
    assert!(again.ids.is_empty(), "reading a read notification changes nothing");

    // Reading the channel up to a message reads its notifications too, and says so.
    let mut mentions = Vec::new();
    for n in 0..3 {
        mentions.push(post(&alice, &dev, &format!("@bob number {n}"), None).await);
    }
    let unread = bob
        .list_notifications(&NotificationQuery { unread: Some(true), before: None, limit: Some(2) })
        .await
        .expect("unread page");
    assert_eq!(unread.data.len(), 2);
    assert!(unread.page.has_more);
    let rest = bob
        .list_notifications(&NotificationQuery { unread: Some(true), before: unread.data[1].id.into(), limit: Some(2) })
        .await
        .expect("the next page");
    let pages: Vec<Option<MessageId>> = unread.data.iter().chain(&rest.data).map(|n| n.message_id).collect();
    let newest_first: Vec<Option<MessageId>> = mentions.iter().rev().map(|m| Some(m.id)).collect();
    assert_eq!(pages, newest_first, "two pages, newest first, nothing twice");
    assert!(!rest.page.has_more);
    bob.mark_read(dev.id, mentions[1].id).await.expect("read up to the second");
    let heard = heard_read(&mut first, &mut second).await;
    let expected: Vec<NotificationId> = rest.data.iter().chain(unread.data.get(1)).map(|n| n.id).collect();
    let mut sorted = heard.clone();
    sorted.sort();
    let mut expected_sorted = expected.clone();
    expected_sorted.sort();
    assert_eq!(sorted, expected_sorted, "the first two mentions became read");
    let left = bob
        .list_notifications(&NotificationQuery { unread: Some(true), ..NotificationQuery::default() })
        .await
        .expect("unread");
    assert_eq!(left.data.iter().map(|n| n.message_id).collect::<Vec<_>>(), vec![Some(mentions[2].id)]);
    assert_eq!(mention_count(&bob, community, &dev).await, 1);

    // All at once.
    let all = bob
        .read_notifications(&ReadNotificationsRequest { all: Some(true), ..Default::default() })
        .await
        .expect("all read");
    assert_eq!(all.ids, vec![left.data[0].id]);
    assert_eq!(heard_read(&mut first, &mut second).await, all.ids);

    // A request must say exactly one thing.
    for request in [
        ReadNotificationsRequest::default(),
        ReadNotificationsRequest { ids: Some(Vec::new()), all: Some(true), channel_id: None },
        ReadNotificationsRequest { ids: None, all: Some(true), channel_id: Some(dev.id) },
    ] {
        let refused = bob.read_notifications(&request).await.expect_err("ambiguous");
        assert_eq!(refused.code(), Some(ErrorCode::InvalidReadRequest), "{request:?}");
    }
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channel_preferences_are_the_members_own_listed_with_the_channel_and_told_to_their_streams() {
    let stack = Stack::start().await;
    let (alice, bob, dev) = two_users(&stack).await;
    let community = dev.community_id.expect("a community channel");
    let mut stream = bob.tui_events(None).await.expect("bob's stream");
    let until = OffsetDateTime::now_utc().replace_nanosecond(0).expect("whole seconds") + Duration::from_secs(600);
    let request = UpdatePreferencesRequest {
        notify_level: Some(NotifyLevel::Mentions),
        muted_until: Some(Some(until)),
        starred: Some(true),
    };
    let set = bob.update_preferences(dev.id, &request).await.expect("set");
    assert_eq!(
        (set.channel_id, set.notify_level, set.muted_until, set.starred),
        (dev.id, NotifyLevel::Mentions, Some(until), true)
    );
    let EventPayload::PreferencesUpdated(heard) = next_of(&mut stream, "preferences.updated").await.payload else {
        panic!("type and payload disagree");
    };
    assert_eq!(heard, set, "bob's other clients learn of it");

    let listed = |client: ApiClient| async move {
        let list = client.list_channels(community).await.expect("channels");
        let item = list.data.into_iter().find(|c| c.channel.id == dev.id).expect("dev listed");
        (item.notify_level, item.muted_until, item.starred)
    };
    assert_eq!(listed(bob.clone()).await, (NotifyLevel::Mentions, Some(until), true));
    assert_eq!(listed(alice.clone()).await, (NotifyLevel::All, None, false), "they are bob's alone");

    // Only present fields change; null unmutes.
    let unmute = UpdatePreferencesRequest { muted_until: Some(None), ..UpdatePreferencesRequest::default() };
    let set = bob.update_preferences(dev.id, &unmute).await.expect("unmuted");
    assert_eq!((set.notify_level, set.muted_until, set.starred), (NotifyLevel::Mentions, None, true));
    let raw = bob
        .request(reqwest::Method::PATCH, &format!("/api/channels/{}/preferences", dev.id))
        .json(&serde_json::json!({"notify_level": "loud"}))
        .send()
        .await
        .expect("answers");
    assert_eq!(raw.status().as_u16(), 400, "an unknown level is refused");

    // A member of the community outside the channel has no preferences in it.
    let carol = stack.login("carol").await;
    let invite = alice.create_invite(community, &CreateInviteRequest::default()).await.expect("invite");
    carol.accept_invite(&invite.code).await.expect("carol joins");
    let refused = carol.update_preferences(dev.id, &request).await.expect_err("not a member");
    assert_eq!(refused.code(), Some(ErrorCode::NotAChannelMember));
    stack.stop().await;
}
