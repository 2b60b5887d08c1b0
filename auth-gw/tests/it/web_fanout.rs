//! web-sm's tabs share the work of an event (`ajet_web_sm::fanout`): with several tabs of
//! several users open on one channel, a message is rendered once per audience (its author,
//! and everyone else) and a reaction costs one api read for the whole process and one
//! render per distinct HTML — while each tab still gets its own viewer's page: the author's
//! actions only for the author, "you reacted" only for those who reacted. A thread
//! summary and a sidebar entry are each rendered once for every tab that shows the same; a
//! deletion's tombstone (a constant string) costs no shared render and no read, and a
//! reply's deletion costs one read of its root for all of them.

use ajet_shared::api::wire::{CreateCommunityRequest, CreateInviteRequest, CreateMessageRequest};
use ajet_shared::client::{ApiClient, ClientError, SseEvent};
use ajet_shared::domain::ids::{ChannelId, CommunityId};
use futures::stream::BoxStream;

use crate::stack::Stack;
use crate::web::{Browser, metrics_text, next_patch, stream_path};

type Events = BoxStream<'static, Result<SseEvent, ClientError>>;

/// The sum of the process's `metric` lines (every service of the stack shares one
/// recorder; the gateway's `/metrics` shows it).
async fn metric(stack: &Stack, metric: &str) -> u64 {
    let text = metrics_text(stack).await;
    text.lines()
        .filter(|line| line.starts_with(metric))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|count| count as u64)
        .sum()
}

/// Messages rendered by web-sm so far, and the api's reads of one message.
async fn work(stack: &Stack) -> (u64, u64) {
    let renders = metric(stack, "web_sm_renders_total{fragment=\"message\"}").await;
    let reads = stack.api_requests("/api/messages/{id}", Some("GET")).await;
    (renders, reads)
}

/// A tab of `user` on `#general`: its live stream, opened as its page says.
async fn tab(browser: &Browser, api: &ApiClient) -> Events {
    let page = browser.page("/c/acme/general", reqwest::StatusCode::OK).await;
    api.sse(&stream_path(&page), None).await.expect("a stream")
}

/// Alice's community `acme`, with the users `others` in it and in its `#general`.
struct Acme {
    alice: Browser,
    alice_api: ApiClient,
    community: CommunityId,
    general: ChannelId,
    /// Each other user's browser and client, in the order named.
    others: Vec<(Browser, ApiClient)>,
}

async fn acme_in_general(stack: &Stack, names: &[&str]) -> Acme {
    let (alice, alice_api) = Browser::login(stack, "alice").await;
    let community = alice_api
        .create_community(&CreateCommunityRequest { name: "Acme".into(), slug: "acme".into(), description: None })
        .await
        .expect("community");
    let invite = alice_api.create_invite(community.id, &CreateInviteRequest::default()).await.expect("invite");
    let channels = alice_api.list_channels(community.id).await.expect("channels").data;
    let general = channels.iter().find(|item| item.channel.name.as_deref() == Some("general")).expect("general");
    let mut others = Vec::new();
    for name in names {
        let (browser, api) = Browser::login(stack, name).await;
        api.accept_invite(&invite.code).await.expect("joined");
        api.join_channel(general.channel.id).await.expect("joined #general");
        others.push((browser, api));
    }
    Acme { alice, alice_api, community: community.id, general: general.channel.id, others }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tabs_of_several_viewers_share_one_render_per_audience_and_one_read_per_reaction() {
    let stack = Stack::start().await;
    let Acme { alice, alice_api, general, others, .. } = acme_in_general(&stack, &["bob", "carol", "dave"]).await;
    let [(bob, bob_api), (carol, carol_api), (dave, dave_api)] = &others[..] else { unreachable!("three") };
    // Five tabs: alice's, two of bob's, carol's and dave's.
    let mut tabs = vec![
        ("alice", tab(&alice, &alice_api).await),
        ("bob", tab(bob, bob_api).await),
        ("bob", tab(bob, bob_api).await),
        ("carol", tab(carol, carol_api).await),
        ("dave", tab(dave, dave_api).await),
    ];

    let before = work(&stack).await;
    let hello = alice_api
        .send_message(
            general,
            &CreateMessageRequest {
                body_md: "hello **everyone**".into(),
                parent_id: None,
                client_msg_id: None,
                attachment_ids: Vec::new(),
            },
        )
        .await
        .expect("sent");
    for (who, events) in &mut tabs {
        let patch = next_patch(events, "mode append").await;
        assert!(patch.contains(&format!("id=\"m-{}\"", hello.id)), "{who}: {patch}");
        assert!(patch.contains("<p>hello <strong>everyone</strong></p>"), "{who}: {patch}");
        assert_eq!(patch.contains(">Edit<"), *who == "alice", "only the author's tab has the actions: {who}: {patch}");
    }
    let created = work(&stack).await;
    assert_eq!(
        (created.0 - before.0, created.1 - before.1),
        (2, 0),
        "one render for the author, one for the other four tabs, and no read"
    );

    bob_api.add_reaction(hello.id, "🎉").await.expect("reacted");
    let item = format!("id=\"m-{}\"", hello.id);
    for (who, events) in &mut tabs {
        let patch = next_patch(events, "class=\"reactions\"").await;
        assert!(patch.contains(&item) && patch.contains("🎉 <span class=\"count\">1</span>"), "{who}: {patch}");
        assert_eq!(patch.contains("reaction mine"), *who == "bob", "\"you reacted\" is bob's alone: {who}: {patch}");
        assert_eq!(patch.contains(">Edit<"), *who == "alice", "{who}: {patch}");
    }
    let reacted = work(&stack).await;
    assert_eq!(
        (reacted.0 - created.0, reacted.1 - created.1),
        (3, 1),
        "one read for the five tabs; a render each for alice's, bob's two and carol's and dave's"
    );

    // Carol reacts alike: whoever's token made the shared read, each tab marks only its
    // own viewer's reaction — and bob's tabs and carol's now see the same HTML.
    carol_api.add_reaction(hello.id, "🎉").await.expect("reacted");
    for (who, events) in &mut tabs {
        let patch = next_patch(events, "🎉 <span class=\"count\">2</span>").await;
        assert!(patch.contains(&item), "{who}: {patch}");
        let mine = matches!(*who, "bob" | "carol");
        assert_eq!(patch.contains("reaction mine"), mine, "\"you reacted\" is each one's own: {who}: {patch}");
    }
    let again = work(&stack).await;
    assert_eq!(
        (again.0 - reacted.0, again.1 - reacted.1),
        (3, 1),
        "one read; a render for alice's tab, one for bob's and carol's three, one for dave's"
    );
    stack.stop().await;
}

/// The process's renders of one kind of fragment so far.
async fn renders(stack: &Stack, fragment: &str) -> u64 {
    metric(stack, &format!("web_sm_renders_total{{fragment=\"{fragment}\"}}")).await
}

fn say(text: &str, parent: Option<ajet_shared::domain::ids::MessageId>) -> CreateMessageRequest {
    CreateMessageRequest { body_md: text.into(), parent_id: parent, client_msg_id: None, attachment_ids: Vec::new() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deletion_a_thread_reply_and_a_sidebar_badge_are_rendered_once_for_every_tab_that_shows_the_same() {
    let stack = Stack::start().await;
    let Acme { alice, alice_api, community, general, others } =
        acme_in_general(&stack, &["bob", "carol", "dave"]).await;
    let random = alice_api
        .create_channel(
            community,
            &ajet_shared::api::wire::CreateChannelRequest { name: "random".into(), topic: None, kind: None },
        )
        .await
        .expect("random");
    for (_, api) in &others {
        api.join_channel(random.id).await.expect("joined #random");
    }
    let [(bob, bob_api), (carol, carol_api), (dave, dave_api)] = &others[..] else { unreachable!("three") };
    // A root the tabs' lists show as they open.
    let root = alice_api.send_message(general, &say("a topic", None)).await.expect("sent");
    let mut tabs = vec![
        ("alice", tab(&alice, &alice_api).await),
        ("bob", tab(bob, bob_api).await),
        ("bob", tab(bob, bob_api).await),
        ("carol", tab(carol, carol_api).await),
        ("dave", tab(dave, dave_api).await),
    ];

    // A message appears and is deleted: each tab shows its tombstone, rendered by the tab
    // itself (no shared render, so no render of any kind is counted) and with no read.
    let oops = alice_api.send_message(general, &say("oops", None)).await.expect("sent");
    for (who, events) in &mut tabs {
        let patch = next_patch(events, "mode append").await;
        assert!(patch.contains(&format!("id=\"m-{}\"", oops.id)), "{who}: {patch}");
    }
    let (messages, reads) = work(&stack).await;
    alice_api.delete_message(oops.id).await.expect("deleted");
    for (who, events) in &mut tabs {
        let patch = next_patch(events, "This message was deleted.").await;
        assert!(patch.contains(&format!("id=\"m-{}\"", oops.id)), "{who}: {patch}");
        assert!(!patch.contains("oops"), "{who}: {patch}");
    }
    assert_eq!(work(&stack).await, (messages, reads), "no message render and no read");

    // Carol replies under the root: one summary for the five tabs (no read: the tabs
    // count it), then deletes her reply: one read of the root for all of them.
    let summaries = renders(&stack, "thread_summary").await;
    let reply = carol_api.send_message(general, &say("a reply", Some(root.id))).await.expect("replied");
    let summary = format!("id=\"ts-{}\"", root.id);
    for (who, events) in &mut tabs {
        let patch = next_patch(events, &summary).await;
        assert!(patch.contains(">1 reply</a>"), "{who}: {patch}");
    }
    assert_eq!(renders(&stack, "thread_summary").await - summaries, 1, "one summary for every tab");
    assert_eq!(work(&stack).await.1 - reads, 0, "and no read");
    carol_api.delete_message(reply.id).await.expect("deleted");
    let item = format!("id=\"m-{}\"", root.id);
    for (who, events) in &mut tabs {
        let patch = next_patch(events, &item).await;
        assert!(!patch.contains(">1 reply</a>") && patch.contains("a topic"), "{who}: {patch}");
    }
    assert_eq!(work(&stack).await.1 - reads, 1, "one read of the root for every tab");

    // Dave writes in #random: the others' sidebar entries say the same (one unread) and
    // share one render; his own tab shows nothing of it.
    let entries = renders(&stack, "entry").await;
    dave_api.send_message(random.id, &say("over here", None)).await.expect("sent");
    let entry = format!("id=\"ch-{}\"", random.id);
    for (who, events) in tabs.iter_mut().filter(|(who, _)| *who != "dave") {
        let patch = next_patch(events, &entry).await;
        assert!(patch.contains("aria-label=\"unread messages\">1</span>"), "{who}: {patch}");
    }
    assert_eq!(renders(&stack, "entry").await - entries, 1, "one entry for alice's, bob's two and carol's tabs");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_the_tabs_never_read_is_read_once_per_viewer_and_then_once_for_all() {
    let stack = Stack::start().await;
    let Acme { alice_api, general, others, .. } = acme_in_general(&stack, &["bob", "carol"]).await;
    let [(bob, bob_api), (carol, carol_api)] = &others[..] else { unreachable!("two") };
    // The oldest of 55: beyond the 50 the tabs read, so none knows its "you reacted".
    let mut sent = Vec::new();
    for n in 0..55 {
        sent.push(alice_api.send_message(general, &say(&format!("line {n:02}"), None)).await.expect("sent"));
    }
    let old = sent[0].id;
    let mut tabs = vec![
        ("bob", tab(bob, bob_api).await),
        ("bob", tab(bob, bob_api).await),
        ("carol", tab(carol, carol_api).await),
    ];

    // Alice reacts: each viewer's tabs read it once with their own token (bob's two share
    // one read), and no one is marked as having reacted.
    let before = work(&stack).await.1;
    alice_api.add_reaction(old, "👀").await.expect("reacted");
    let item = format!("id=\"m-{old}\"");
    for (who, events) in &mut tabs {
        let patch = next_patch(events, "👀 <span class=\"count\">1</span>").await;
        assert!(patch.contains(&item) && !patch.contains("reaction mine"), "{who}: {patch}");
    }
    let own = work(&stack).await.1;
    assert_eq!(own - before, 2, "one read for bob's two tabs, one for carol's");

    // Now they know it: bob's reaction costs one read for the three tabs, and only his
    // tabs mark it as his.
    bob_api.add_reaction(old, "👀").await.expect("reacted");
    for (who, events) in &mut tabs {
        let patch = next_patch(events, "👀 <span class=\"count\">2</span>").await;
        assert!(patch.contains(&item), "{who}: {patch}");
        assert_eq!(patch.contains("reaction mine"), *who == "bob", "{who}: {patch}");
    }
    assert_eq!(work(&stack).await.1 - own, 1, "one shared read");
    stack.stop().await;
}
