//! web-sm's tabs share the work of an event (`ajet_web_sm::fanout`): with several tabs of
//! several users open on one channel, a message is rendered once per audience (its author,
//! and everyone else) and a reaction costs one api read for the whole process and one
//! render per distinct HTML — while each tab still gets its own viewer's page: the author's
//! actions only for the author, "you reacted" only for those who reacted.

use ajet_shared::api::wire::{CreateCommunityRequest, CreateInviteRequest, CreateMessageRequest};
use ajet_shared::client::{ApiClient, ClientError, SseEvent};
use futures::stream::BoxStream;

use crate::stack::Stack;
use crate::web::{Browser, next_patch, stream_path};

type Events = BoxStream<'static, Result<SseEvent, ClientError>>;

/// The sum of the process's `metric` lines (every service of the stack shares one
/// recorder; the gateway's `/metrics` shows it).
async fn metric(stack: &Stack, metric: &str) -> u64 {
    let text = reqwest::get(format!("{}/metrics", stack.gateway.base_url()))
        .await
        .expect("answers")
        .text()
        .await
        .expect("metrics");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tabs_of_several_viewers_share_one_render_per_audience_and_one_read_per_reaction() {
    let stack = Stack::start().await;
    let (alice, alice_api) = Browser::login(&stack, "alice").await;
    let community = alice_api
        .create_community(&CreateCommunityRequest { name: "Acme".into(), slug: "acme".into(), description: None })
        .await
        .expect("community");
    let invite = alice_api.create_invite(community.id, &CreateInviteRequest::default()).await.expect("invite");
    let channels = alice_api.list_channels(community.id).await.expect("channels").data;
    let general = channels.iter().find(|item| item.channel.name.as_deref() == Some("general")).expect("general");
    let mut others = Vec::new();
    for name in ["bob", "carol", "dave"] {
        let (browser, api) = Browser::login(&stack, name).await;
        api.accept_invite(&invite.code).await.expect("joined");
        api.join_channel(general.channel.id).await.expect("joined #general");
        others.push((browser, api));
    }
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
            general.channel.id,
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
