//! The browser client (web-sm) through the gateway, as a browser would use it: the session
//! cookie, same-origin form and Datastar POSTs, the tab's live stream. Checks content, not
//! only statuses.

use std::time::Duration;

use ajet_shared::api::wire::{CreateCommunityRequest, CreateInviteRequest, CreateMessageRequest};
use ajet_shared::client::ApiClient;
use ajet_shared::client::SseEvent;
use futures::StreamExt;
use reqwest::StatusCode;
use reqwest::header;

use crate::stack::Stack;

/// A signed-in browser: the session cookie, never a bearer token (the settings' tests use
/// it too).
pub(crate) struct Browser {
    pub(crate) http: reqwest::Client,
    pub(crate) base: String,
    pub(crate) cookie: String,
}

impl Browser {
    pub(crate) async fn login(stack: &Stack, username: &str) -> (Self, ApiClient) {
        let login = stack.gateway.dev_login(username).await.expect("dev login");
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        let browser =
            Self { http, base: stack.gateway.base_url().to_owned(), cookie: format!("ajet_session={}", login.token) };
        (browser, stack.gateway.with_token(login.token))
    }

    pub(crate) async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .header(header::COOKIE, &self.cookie)
            .header(header::ACCEPT, "text/html")
            .send()
            .await
            .expect("answers")
    }

    /// The page at `path`, which must answer `status`.
    pub(crate) async fn page(&self, path: &str, status: StatusCode) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), status, "GET {path}");
        response.text().await.expect("html")
    }

    /// A POST as a page of `site` (`same-origin`, or another's) sends it.
    pub(crate) async fn post(&self, path: &str, site: &str, content_type: &str, body: Vec<u8>) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .header(header::COOKIE, &self.cookie)
            .header("sec-fetch-site", site)
            .header(header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .expect("answers")
    }

    pub(crate) async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.post(path, "same-origin", "application/x-www-form-urlencoded", form_body(form).into_bytes()).await
    }

    pub(crate) async fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .header(header::COOKIE, &self.cookie)
            .header("sec-fetch-site", "same-origin")
            .header("datastar-request", "true")
            .json(body)
            .send()
            .await
            .expect("answers")
    }
}

/// `application/x-www-form-urlencoded`, as a browser writes it.
pub(crate) fn form_body(fields: &[(&str, &str)]) -> String {
    let encode = |raw: &str| -> String {
        raw.bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => (b as char).to_string(),
                b' ' => "+".to_owned(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    fields.iter().map(|(name, value)| format!("{}={}", encode(name), encode(value))).collect::<Vec<_>>().join("&")
}

pub(crate) fn location(response: &reqwest::Response) -> &str {
    response.headers()[header::LOCATION].to_str().expect("ascii")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_without_a_community_creates_one_and_lands_in_its_general_channel() {
    let stack = Stack::start().await;
    let (alice, _) = Browser::login(&stack, "alice").await;

    let home = alice.get("/").await;
    assert_eq!(home.status(), StatusCode::OK);
    let page = home.text().await.expect("html");
    assert!(page.contains("<h1>Create your community</h1>"), "{page}");
    assert!(page.contains("<form method=\"post\" action=\"/communities\">"));

    let refused = alice.post_form("/communities", &[("name", "Acme"), ("slug", "A!")]).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().await.expect("html").contains("role=\"alert\">slug:"), "the api's reason is shown");

    let created = alice.post_form("/communities", &[("name", "Acme <Inc>"), ("slug", "acme")]).await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&created), "/c/acme");
    let community = alice.get("/c/acme").await;
    assert_eq!(location(&community), "/c/acme/general");
    let general = alice.get("/c/acme/general").await;
    assert_eq!(general.status(), StatusCode::OK);
    let page = general.text().await.expect("html");
    assert!(page.contains("<h2>Acme &lt;Inc&gt;</h2>"), "{page}");
    assert!(page.contains("<h1>#general</h1>"));
    assert!(page.contains("This is the very beginning of #general."));
    assert_eq!(alice.get("/").await.headers()[header::LOCATION], "/c/acme", "home is the first community now");

    let channel = alice.post_form("/c/acme", &[("name", "design"), ("private", "true")]).await;
    assert_eq!(location(&channel), "/c/acme/design");
    let page = alice.get("/c/acme/design").await.text().await.expect("html");
    assert!(page.contains("aria-label=\"private channel\">🔒</span><span class=\"name\">design</span>"), "{page}");
    assert_eq!(alice.get("/c/acme/nope").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(alice.get("/c/other/general").await.status(), StatusCode::NOT_FOUND);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_carry_a_strict_csp_and_assets_are_cached_by_content_hash() {
    let stack = Stack::start().await;
    let (alice, api) = Browser::login(&stack, "alice").await;
    api.create_community(&CreateCommunityRequest { name: "Acme".into(), slug: "acme".into(), description: None })
        .await
        .expect("community");
    let page = alice.get("/c/acme/general").await;
    let csp = page.headers()[header::CONTENT_SECURITY_POLICY].to_str().expect("ascii").to_owned();
    assert_eq!(csp, ajet_web_sm::CONTENT_SECURITY_POLICY, "web-sm's own policy, kept by the gateway");
    assert!(csp.contains("script-src 'self' 'unsafe-eval';") && !csp.contains("unsafe-inline"), "{csp}");
    let html = page.text().await.expect("html");
    for asset in [&ajet_web_sm::assets::ASSETS.css, &ajet_web_sm::assets::ASSETS.datastar] {
        assert!(html.contains(&asset.path()), "the page links {}", asset.name);
        let served = alice.get(&asset.path()).await;
        assert_eq!(served.status(), StatusCode::OK);
        assert_eq!(served.headers()[header::CACHE_CONTROL], "public, max-age=31536000, immutable");
        assert!(!served.bytes().await.expect("bytes").is_empty());
    }
    assert_eq!(alice.get("/assets/app.0000000000000000.css").await.status(), StatusCode::NOT_FOUND);
    // No `on…=` attribute (text such as "only admins" is fine).
    let handler = html.match_indices(" on").any(|(at, _)| {
        let rest = &html[at + 3..];
        let name = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        name > 0 && rest[name..].starts_with('=')
    });
    assert!(!html.contains(" style=") && !html.contains("<style") && !handler, "nothing inline");

    // A browser asking for gzip gets the page and the assets gzipped through the gateway;
    // the page's event stream is never compressed (each frame must go out as written).
    let gzipped = |path: String| {
        let alice = &alice;
        async move {
            alice
                .http
                .get(format!("{}{path}", alice.base))
                .header(header::COOKIE, &alice.cookie)
                .header(header::ACCEPT_ENCODING, "gzip")
                .send()
                .await
                .expect("answers")
        }
    };
    for path in ["/c/acme/general".to_owned(), ajet_web_sm::assets::ASSETS.datastar.path()] {
        let served = gzipped(path.clone()).await;
        assert_eq!(
            served.headers().get(header::CONTENT_ENCODING).map(header::HeaderValue::as_bytes),
            Some(&b"gzip"[..]),
            "{path}"
        );
        let body = served.bytes().await.expect("bytes");
        assert!(body.starts_with(&[0x1f, 0x8b]), "{path} is gzip");
    }
    assert!(html.len() > 4 * gzipped("/c/acme/general".to_owned()).await.bytes().await.expect("bytes").len());
    let stream = gzipped(stream_path(&html)).await;
    assert_eq!(stream.status(), StatusCode::OK);
    assert!(stream.headers().get(header::CONTENT_ENCODING).is_none(), "the stream is sent as written");
    drop(stream);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_composer_posts_once_per_client_msg_id_and_only_from_our_own_pages() {
    let stack = Stack::start().await;
    let (alice, api) = Browser::login(&stack, "alice").await;
    let community = api
        .create_community(&CreateCommunityRequest { name: "Acme".into(), slug: "acme".into(), description: None })
        .await
        .expect("community");
    let channels = api.list_channels(community.id).await.expect("channels").data;
    let general = &channels[0].channel;
    let path = format!("/channels/{}/messages", general.id);
    let body = serde_json::json!({"body": "hi **all**", "cmid": "k-1"});
    for _ in 0..2 {
        let sent = alice.post_json(&path, &body).await;
        assert_eq!(sent.status(), StatusCode::OK);
        let patch = sent.text().await.expect("frames");
        assert!(
            patch.starts_with("event: datastar-patch-signals\ndata: signals {\"_typedAt\":0,\"body\":\"\",\"cmid\":\""),
            "the composer is cleared, gets a new key and may signal typing at once again: {patch}"
        );
        assert!(!patch.contains("\"cmid\":\"k-1\""), "{patch}");
        assert!(
            patch.contains(
                "data: selector #pending-k-1\ndata: mode replace\ndata: elements <li class=\"message\" id=\"m-"
            ),
            "the send's row becomes the message in place: {patch}"
        );
    }
    let history =
        api.history(general.id, &ajet_shared::api::wire::HistoryQuery::default()).await.expect("history").data;
    assert_eq!(history.len(), 1, "the double submit posted once");
    let page = alice.get("/c/acme/general").await.text().await.expect("html");
    assert!(page.contains("<div class=\"body\"><p>hi <strong>all</strong></p>"), "{page}");

    let archived = alice.post_json(&format!("/channels/{}/messages", uuid::Uuid::now_v7()), &body).await;
    let patch = archived.text().await.expect("frames");
    assert!(
        patch.contains("<div class=\"notice\" id=\"notice\" role=\"alert\">Not sent: "),
        "refusals are shown: {patch}"
    );
    assert!(
        patch.contains(
            "data: elements <div class=\"send-status failed\" id=\"send-k-1\" role=\"alert\"><span class=\"reason\">Not sent — "
        ) && patch.contains("<button class=\"quiet retry\" type=\"button\">Retry</button>"),
        "the send's row says why and offers Retry: {patch}"
    );
    let odd_key = alice
        .post_json(
            &format!("/channels/{}/messages", uuid::Uuid::now_v7()),
            &serde_json::json!({"body": "x", "cmid": "a\"] b"}),
        )
        .await
        .text()
        .await
        .expect("frames");
    assert!(odd_key.contains("Not sent: ") && !odd_key.contains("send-status"), "no row for an unsafe key: {odd_key}");

    let unknown = alice.post_json(&path, &serde_json::json!({"body": "x", "cmid": "k", "visibilty": 1})).await;
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    let cross_site = alice
        .http
        .post(format!("{}{path}", alice.base))
        .header(header::COOKIE, &alice.cookie)
        .header("sec-fetch-site", "cross-site")
        .json(&serde_json::json!({"body": "forged", "cmid": "k-2"}))
        .send()
        .await
        .expect("answers");
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN, "the gateway refuses cross-site posts");
    stack.stop().await;
}

/// The `/sse?…` address a page's main column opens.
pub(crate) fn stream_path(page: &str) -> String {
    let start = page.find("@get('").expect("a stream") + "@get('".len();
    page[start..].split('\'').next().expect("a path").replace("&amp;", "&")
}

/// The next Datastar patch whose data contains `needle`, within 5 s.
pub(crate) async fn next_patch(
    events: &mut futures::stream::BoxStream<'static, Result<SseEvent, ajet_shared::client::ClientError>>,
    needle: &str,
) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let event = tokio::time::timeout_at(deadline, events.next())
            .await
            .unwrap_or_else(|_| panic!("a patch with {needle:?} within 5 s"))
            .expect("open")
            .expect("an event");
        if event.event == "datastar-patch-elements" && event.data.contains(needle) {
            return event.data;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_open_channel_page_is_patched_live_with_new_edited_and_deleted_messages_and_other_channels_badges() {
    let stack = Stack::start().await;
    let (alice, alice_api) = Browser::login(&stack, "alice").await;
    let (bob, bob_api) = Browser::login(&stack, "bob").await;
    let community = alice_api
        .create_community(&CreateCommunityRequest { name: "Acme".into(), slug: "acme".into(), description: None })
        .await
        .expect("community");
    let invite = alice_api.create_invite(community.id, &CreateInviteRequest::default()).await.expect("invite");
    bob_api.accept_invite(&invite.code).await.expect("joined");
    let general = alice_api.list_channels(community.id).await.expect("channels").data;
    let general = general.iter().find(|item| item.channel.name.as_deref() == Some("general")).expect("general");
    let page = bob.get("/c/acme/general").await.text().await.expect("html");
    assert!(page.contains("<button type=\"submit\">Join #general</button>"), "not a member yet: {page}");
    let joined = bob.post_form(&format!("/channels/{}/join", general.channel.id), &[]).await;
    assert_eq!(location(&joined), "/c/acme/general");
    let random = alice.post_form("/c/acme", &[("name", "random")]).await;
    assert_eq!(location(&random), "/c/acme/random");
    let random = alice_api.list_channels(community.id).await.expect("channels").data;
    let random = random.iter().find(|item| item.channel.name.as_deref() == Some("random")).expect("random");
    bob_api.join_channel(random.channel.id).await.expect("joined random");

    let page = bob.get("/c/acme/general").await.text().await.expect("html");
    // Sent after bob's page was read, before his stream opens: the stream still brings it.
    let early = alice_api
        .send_message(
            general.channel.id,
            &CreateMessageRequest {
                body_md: "early <b>bird</b>".into(),
                parent_id: None,
                client_msg_id: None,
                attachment_ids: Vec::new(),
            },
        )
        .await
        .expect("sent");
    let mut events = bob_api.sse(&stream_path(&page), None).await.expect("a stream");
    let patch = next_patch(&mut events, "mode append").await;
    assert!(patch.contains("selector #messages"), "{patch}");
    assert!(patch.contains(&format!("<li class=\"message\" id=\"m-{}\" data-author=", early.id)), "{patch}");
    assert!(patch.contains("<p>early &lt;b&gt;bird&lt;/b&gt;</p>"), "{patch}");
    assert!(!patch.contains(">Edit<"), "only the author gets the actions: {patch}");

    let path = format!("/channels/{}/messages", general.channel.id);
    alice
        .post_json(&path, &serde_json::json!({"body": "hi **bob** <img src=x onerror=alert(1)>", "cmid": "k-1"}))
        .await;
    let patch = next_patch(&mut events, "mode append").await;
    assert!(patch.contains("<p>hi <strong>bob</strong> &lt;img src=x onerror=alert(1)&gt;</p>"), "{patch}");

    let edited = alice.post_form(&format!("/messages/{}/edit", early.id), &[("body", "early *worm*")]).await;
    assert!(edited.text().await.expect("frames").contains("<em>worm</em>"), "the editor sees the edit at once");
    let patch = next_patch(&mut events, &format!("id=\"m-{}\"", early.id)).await;
    assert!(patch.contains("<p>early <em>worm</em></p>") && patch.contains("(edited)"), "{patch}");

    alice.post_form(&format!("/messages/{}/delete", early.id), &[]).await;
    let patch = next_patch(&mut events, "This message was deleted.").await;
    assert!(patch.contains(&format!("id=\"m-{}\"", early.id)) && !patch.contains("worm"), "{patch}");

    alice_api
        .send_message(
            random.channel.id,
            &CreateMessageRequest {
                body_md: "elsewhere".into(),
                parent_id: None,
                client_msg_id: None,
                attachment_ids: Vec::new(),
            },
        )
        .await
        .expect("sent");
    let patch = next_patch(&mut events, &format!("id=\"ch-{}\"", random.channel.id)).await;
    assert!(patch.contains("class=\"unread\"") && patch.contains("aria-label=\"unread messages\">1</span>"), "{patch}");
    assert!(!patch.contains("elsewhere"), "another channel's text is not on this page");
    stack.stop().await;
}

/// Alice's community with bob in it, both members of `#general` and `#random`.
struct TwoMembers {
    alice: ApiClient,
    bob: Browser,
    bob_api: ApiClient,
    general: ajet_shared::domain::ids::ChannelId,
    random: ajet_shared::domain::ids::ChannelId,
}

async fn two_members(stack: &Stack) -> TwoMembers {
    let (_, alice) = Browser::login(stack, "alice").await;
    let (bob, bob_api) = Browser::login(stack, "bob").await;
    let community = alice
        .create_community(&CreateCommunityRequest { name: "Acme".into(), slug: "acme".into(), description: None })
        .await
        .expect("community");
    let random = alice
        .create_channel(
            community.id,
            &ajet_shared::api::wire::CreateChannelRequest { name: "random".into(), topic: None, kind: None },
        )
        .await
        .expect("random");
    let invite = alice.create_invite(community.id, &CreateInviteRequest::default()).await.expect("invite");
    bob_api.accept_invite(&invite.code).await.expect("joined");
    let channels = alice.list_channels(community.id).await.expect("channels").data;
    let general = channels.iter().find(|item| item.channel.name.as_deref() == Some("general")).expect("general");
    for channel in [general.channel.id, random.id] {
        bob_api.join_channel(channel).await.expect("joined");
    }
    TwoMembers { alice, bob, bob_api, general: general.channel.id, random: random.id }
}

fn say(text: &str) -> CreateMessageRequest {
    CreateMessageRequest { body_md: text.into(), parent_id: None, client_msg_id: None, attachment_ids: Vec::new() }
}

/// The next patch containing `needle` and the resume position it carries (the last of an
/// event's patches carries the event's id).
async fn patch_and_position(
    events: &mut futures::stream::BoxStream<'static, Result<SseEvent, ajet_shared::client::ClientError>>,
    needle: &str,
) -> (String, String) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let event = tokio::time::timeout_at(deadline, events.next())
            .await
            .unwrap_or_else(|_| panic!("a patch with {needle:?} within 5 s"))
            .expect("open")
            .expect("an event");
        if event.event == "datastar-patch-elements" && event.data.contains(needle) {
            return (event.data, event.id);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_tab_counts_each_missed_message_once_and_sees_reactions() {
    let stack = Stack::start().await;
    let members = two_members(&stack).await;
    let page = members.bob.get("/c/acme/general").await.text().await.expect("html");
    let hello = members.alice.send_message(members.general, &say("hello")).await.expect("sent");
    let mut events = members.bob_api.sse(&stream_path(&page), None).await.expect("a stream");
    next_patch(&mut events, "mode append").await;

    members.alice.add_reaction(hello.id, "🎉").await.expect("reacted");
    let patch = next_patch(&mut events, "class=\"reactions\"").await;
    assert!(
        patch.contains(&format!("id=\"m-{}\"", hello.id)) && patch.contains("🎉 <span class=\"count\">1</span>"),
        "{patch}"
    );

    members.alice.send_message(members.random, &say("one")).await.expect("sent");
    let badge = format!("id=\"badge-{}\"", members.random);
    let (patch, position) = patch_and_position(&mut events, &badge).await;
    assert!(patch.contains("aria-label=\"unread messages\">1</span>"), "{patch}");
    drop(events);
    // Missed while the tab was away (hidden, asleep, disconnected).
    members.alice.send_message(members.random, &say("two")).await.expect("sent");
    members.alice.send_message(members.random, &say("three")).await.expect("sent");
    let mut events = members.bob_api.sse(&stream_path(&page), Some(&position)).await.expect("resumed");
    members.alice.send_message(members.random, &say("four")).await.expect("sent");
    members.alice.send_message(members.general, &say("marker")).await.expect("sent");
    let mut badges = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let event = tokio::time::timeout_at(deadline, events.next())
            .await
            .expect("the marker within 5 s")
            .expect("open")
            .expect("an event");
        if event.data.contains(&badge) {
            badges.push(event.data);
        } else if event.data.contains("<p>marker</p>") {
            break;
        }
    }
    let counts: Vec<&str> = badges
        .iter()
        .filter_map(|patch| patch.split("aria-label=\"unread messages\">").nth(1)?.split('<').next())
        .collect();
    assert_eq!(counts, ["4"], "the missed messages are in the count once, and the live one adds one");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_position_the_stream_no_longer_holds_re_renders_the_list_and_the_sidebar() {
    let stack = Stack::start().await;
    let members = two_members(&stack).await;
    members.alice.send_message(members.general, &say("kept **history**")).await.expect("sent");
    let path = format!("/sse?channel={}&from=1.1", members.general);
    let mut events = members.bob_api.sse(&path, None).await.expect("a stream");
    let list = next_patch(&mut events, "id=\"messages\"").await;
    assert!(list.contains("<p>kept <strong>history</strong></p>"), "{list}");
    let sidebar = next_patch(&mut events, "id=\"channels\"").await;
    let general = sidebar.find("<span class=\"name\">general</span>").expect("general listed");
    let random = sidebar.find("<span class=\"name\">random</span>").expect("random listed");
    assert!(general < random, "sorted: {sidebar}");
    assert!(sidebar.contains("aria-current=\"page\""), "the open channel is marked: {sidebar}");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tabs_count_against_the_stream_cap_but_datastar_actions_do_not() {
    let stack = Stack::start_with(|config| config.max_streams_per_user = 1).await;
    let members = two_members(&stack).await;
    let page = members.bob.get("/c/acme/general").await.text().await.expect("html");
    let _tab = members.bob_api.sse(&stream_path(&page), None).await.expect("one tab");
    let second = members.bob_api.sse(&stream_path(&page), None).await.err().expect("a second tab is refused");
    assert_eq!(second.code(), Some(ajet_shared::api::ErrorCode::TooManyStreams));
    // Datastar asks for an event stream on every action: a send is still not a stream.
    let sent = members
        .bob
        .http
        .post(format!("{}/channels/{}/messages", members.bob.base, members.general))
        .header(header::COOKIE, &members.bob.cookie)
        .header("sec-fetch-site", "same-origin")
        .header(header::ACCEPT, "text/event-stream, text/html, application/json")
        .json(&serde_json::json!({"body": "still sending", "cmid": "k-1"}))
        .send()
        .await
        .expect("answers");
    assert_eq!(sent.status(), StatusCode::OK);
    let history = members.bob_api.history(members.general, &ajet_shared::api::wire::HistoryQuery::default()).await;
    assert_eq!(history.expect("history").data.len(), 1);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_direct_message_has_its_own_page_named_after_the_other_member_and_is_live() {
    let stack = Stack::start().await;
    let members = two_members(&stack).await;
    let bob = members.bob_api.me().await.expect("me").user;
    let dm = members.alice.open_dm(&[bob.id]).await.expect("a DM");
    let empty = members.bob.get(&format!("/dm/{}", dm.id)).await.text().await.expect("html");
    let hello = members.alice.send_message(dm.id, &say("psst <b>bob</b>")).await.expect("sent");
    let page = members.bob.get(&format!("/dm/{}", dm.id)).await;
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.expect("html");
    assert!(page.contains("<h1>alice</h1>"), "{page}");
    assert!(
        page.contains(&format!("<li id=\"ch-{}\"><a href=\"/dm/{}\" aria-current=\"page\">", dm.id, dm.id)),
        "{page}"
    );
    assert!(page.contains(&format!("id=\"m-{}\"", hello.id)) && page.contains("psst &lt;b&gt;bob&lt;/b&gt;"));
    // The worst case of a page read while its first message was still on its way to the
    // stream: the position from before it, the list with it.
    let early_position = stream_path(&empty).split("&from=").nth(1).expect("a position").to_owned();
    let path = format!("{}&from={early_position}", stream_path(&page).split("&from=").next().expect("a path"));
    let mut events = members.bob_api.sse(&path, None).await.expect("a stream");
    members.alice.send_message(dm.id, &say("still there?")).await.expect("sent");
    // The first message, already listed, is not appended again though the replay brings it.
    let patch = next_patch(&mut events, "mode append").await;
    assert!(patch.contains("<p>still there?</p>"), "{patch}");

    let (carol, carol_api) = Browser::login(&stack, "carol").await;
    let _ = carol_api.me().await.expect("carol exists");
    assert_eq!(carol.get(&format!("/dm/{}", dm.id)).await.status(), StatusCode::NOT_FOUND, "not carol's");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thread_reply_reaches_the_open_panel_and_the_roots_summary_and_never_an_element_the_page_lacks() {
    let stack = Stack::start().await;
    let members = two_members(&stack).await;
    let root = members.alice.send_message(members.general, &say("a question")).await.expect("sent");

    // A thread is a page of its channel only, and only of a root.
    let elsewhere = members.bob.get(&format!("/c/acme/random?thread={}", root.id)).await;
    assert_eq!(elsewhere.status(), StatusCode::NOT_FOUND);
    let panel = members.bob.get(&format!("/c/acme/general?thread={}", root.id)).await.text().await.expect("html");
    assert!(panel.contains("<aside class=\"thread-panel\" id=\"thread\""), "{panel}");
    assert!(panel.contains("<p class=\"reply-count\" id=\"thread-count\">0 replies</p>"), "{panel}");
    let list = members.bob.get("/c/acme/general").await.text().await.expect("html");
    assert!(!list.contains("id=\"thread\""), "no panel without ?thread=");
    let mut with_panel = members.bob_api.sse(&stream_path(&panel), None).await.expect("a stream");
    let mut without_panel = members.bob_api.sse(&stream_path(&list), None).await.expect("a stream");

    // Bob replies from the panel's composer; both tabs' summaries count it, only the
    // panel lists it, and the list never gets it as a message of its own.
    let sent = members
        .bob
        .post_json(
            &format!("/channels/{}/threads/{}", members.general, root.id),
            &serde_json::json!({"rbody": "an *answer*", "rcmid": uuid::Uuid::now_v7().to_string()}),
        )
        .await;
    assert_eq!(sent.status(), StatusCode::OK);
    assert!(sent.text().await.expect("frames").contains("\"rbody\":\"\""), "the reply composer is cleared");
    let replies = members.alice.list_replies(root.id, &Default::default()).await.expect("replies").data;
    assert_eq!(replies.len(), 1);
    let reply = &replies[0];
    assert_eq!(reply.body_md, "an *answer*");
    let appended = next_patch(&mut with_panel, "selector #replies").await;
    assert!(appended.contains(&format!("id=\"m-{}\"", reply.id)) && appended.contains("<em>answer</em>"), "{appended}");
    let count = next_patch(&mut with_panel, "id=\"thread-count\"").await;
    assert!(count.contains(">1 reply</p>"), "{count}");
    for events in [&mut with_panel, &mut without_panel] {
        let summary = next_patch(events, &format!("id=\"ts-{}\"", root.id)).await;
        assert!(summary.contains(&format!("<a href=\"?thread={}\">1 reply</a>", root.id)), "{summary}");
    }

    // An edit of the reply patches the panel's copy; the tab without the panel gets nothing
    // for it (its list has no such element), up to the next message it does show.
    members.bob_api.update_message(reply.id, "an edited answer").await.expect("edited");
    let edited = next_patch(&mut with_panel, &format!("id=\"m-{}\"", reply.id)).await;
    assert!(edited.contains("an edited answer"), "{edited}");
    members.alice.send_message(members.general, &say("next topic")).await.expect("sent");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let event = tokio::time::timeout_at(deadline, without_panel.next())
            .await
            .expect("the next message within 5 s")
            .expect("open")
            .expect("an event");
        assert!(!event.data.contains(&reply.id.to_string()), "a patch for an element the page lacks: {}", event.data);
        if event.data.contains("next topic") {
            break;
        }
    }
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_is_read_when_a_visible_tab_says_so_not_when_its_page_loads_and_other_tabs_clear_its_badges() {
    let stack = Stack::start().await;
    let members = two_members(&stack).await;
    let page = members.bob.get("/c/acme/general").await.text().await.expect("html");
    let mut events = members.bob_api.sse(&stream_path(&page), None).await.expect("a stream");
    let hello = members.alice.send_message(members.random, &say("hello @bob")).await.expect("sent");
    let entry = format!("id=\"ch-{}\"", members.random);
    let patch = next_patch(&mut events, "aria-label=\"mentions of you\">@1</span>").await;
    assert!(patch.contains(&entry) && patch.contains("aria-label=\"unread messages\">1</span>"), "{patch}");

    // Loading the page reads nothing: it hands the tab the message to mark once visible.
    let random = members.bob.get("/c/acme/random").await.text().await.expect("html");
    assert!(random.contains(&format!("data-signals=\"{{&quot;_unread&quot;:&quot;{}&quot;}}\"", hello.id)), "{random}");
    let unread = |items: Vec<ajet_shared::api::wire::ChannelListItem>| {
        items
            .into_iter()
            .find(|item| item.channel.id == members.random)
            .map(|item| (item.unread_count, item.mention_count))
    };
    let community = members.alice.list_communities().await.expect("communities").data[0].id;
    assert_eq!(unread(members.bob_api.list_channels(community).await.expect("channels").data), Some((1, 1)));

    // The tab marks it read: the api has it, and the other tab's entry clears.
    let read = members
        .bob
        .post_json(&format!("/channels/{}/read?message={}", members.random, hello.id), &serde_json::json!({}))
        .await;
    assert_eq!(read.status(), StatusCode::OK);
    assert_eq!(read.text().await.expect("frames"), "", "nothing to show");
    assert_eq!(unread(members.bob_api.list_channels(community).await.expect("channels").data), Some((0, 0)));
    let cleared = next_patch(&mut events, &entry).await;
    assert!(
        cleared.contains("aria-label=\"unread messages\"></span>")
            && cleared.contains("aria-label=\"mentions of you\"></span>"),
        "{cleared}"
    );

    // A new message in the open channel hands the tab the next message to mark.
    let next = members.alice.send_message(members.general, &say("and here")).await.expect("sent");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let event = tokio::time::timeout_at(deadline, events.next())
            .await
            .expect("within 5 s")
            .expect("open")
            .expect("an event");
        if event.event == "datastar-patch-signals" {
            assert_eq!(event.data, format!("signals {{\"_unread\":\"{}\"}}", next.id));
            break;
        }
    }
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_loads_older_and_newer_pages_as_it_scrolls_and_only_for_members() {
    let stack = Stack::start().await;
    let members = two_members(&stack).await;
    let mut sent = Vec::new();
    for n in 0..55 {
        sent.push(members.alice.send_message(members.general, &say(&format!("line {n:02}"))).await.expect("sent").id);
    }
    let general = members.general;

    // The page shows the newest 50, with a row that loads what is older.
    let page = members.bob.get("/c/acme/general").await.text().await.expect("html");
    assert!(page.contains(&format!("@get('/channels/{general}/history?before={}'", sent[5])), "{page}");
    assert!(!page.contains("line 04") && page.contains("line 05") && page.contains("line 54"));
    assert!(!page.contains("very beginning"), "older messages exist");

    // Older: the five left, replacing that row, which now says where the channel begins.
    // (As Datastar asks: with the signals parameter, empty.)
    let older = members.bob.get(&format!("/channels/{general}/history?before={}&datastar=%7B%7D", sent[5])).await;
    assert_eq!(older.status(), StatusCode::OK);
    let older = older.text().await.expect("frames");
    assert!(
        older.starts_with("event: datastar-patch-elements\ndata: selector #older\ndata: mode replace\n"),
        "{older}"
    );
    assert!(older.contains("This is the very beginning of #general."), "{older}");
    let shown: Vec<usize> = (0..55).filter(|n| older.contains(&format!("line {n:02}"))).collect();
    assert_eq!(shown, [0, 1, 2, 3, 4], "{older}");
    assert!(older.find("very beginning") < older.find("line 00"), "the beginning comes first");

    // Newer (a page opened in the past): what follows, and no further row at the present.
    let newer = members.bob.get(&format!("/channels/{general}/history?after={}", sent[10])).await;
    let newer = newer.text().await.expect("frames");
    assert!(
        newer.starts_with("event: datastar-patch-elements\ndata: selector #newer\ndata: mode replace\n"),
        "{newer}"
    );
    let shown: Vec<usize> = (0..55).filter(|n| newer.contains(&format!("line {n:02}"))).collect();
    assert_eq!(shown, (11..55).collect::<Vec<_>>());
    assert!(!newer.contains("id=\"newer\""), "the present is reached: {newer}");

    // Exactly one cursor.
    for query in ["", &format!("?before={}&after={}", sent[1], sent[2]), "?before=nonsense"] {
        let refused = members.bob.get(&format!("/channels/{general}/history{query}")).await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{query}");
    }

    // Someone outside the community learns nothing of it.
    let (carol, _) = Browser::login(&stack, "carol").await;
    let outside = carol.get(&format!("/channels/{general}/history?before={}", sent[5])).await;
    let outside = outside.text().await.expect("frames");
    assert!(outside.contains("Could not load more messages"), "{outside}");
    assert!(!outside.contains("line 0"), "{outside}");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_older_than_the_stream_read_are_still_patched_live_once_scrolled_back_to() {
    let stack = Stack::start().await;
    let members = two_members(&stack).await;
    let mut sent = Vec::new();
    for n in 0..55 {
        sent.push(members.alice.send_message(members.general, &say(&format!("line {n:02}"))).await.expect("sent").id);
    }
    // The page (and its stream) read the newest 50; the tab then scrolls back to the rest.
    let page = members.bob.get("/c/acme/general").await.text().await.expect("html");
    let mut events = members.bob_api.sse(&stream_path(&page), None).await.expect("a stream");
    let older = members.bob.get(&format!("/channels/{}/history?before={}", members.general, sent[5])).await;
    assert!(older.text().await.expect("frames").contains("line 00"));

    members.alice.update_message(sent[0], "line zero, *edited*").await.expect("edited");
    let patch = next_patch(&mut events, &format!("id=\"m-{}\"", sent[0])).await;
    assert!(patch.contains("<em>edited</em>") && patch.contains("(edited)"), "{patch}");

    members.alice.add_reaction(sent[1], ":tada:").await.expect("reacted");
    let patch = next_patch(&mut events, &format!("id=\"m-{}\"", sent[1])).await;
    assert!(patch.contains("line 01") && patch.contains("🎉"), "{patch}");

    members
        .alice
        .send_message(members.general, &CreateMessageRequest { parent_id: Some(sent[2]), ..say("a late reply") })
        .await
        .expect("replied");
    let patch = next_patch(&mut events, &format!("id=\"m-{}\"", sent[2])).await;
    assert!(patch.contains("1 reply"), "the old root's summary counts it: {patch}");

    members.alice.delete_message(sent[3]).await.expect("deleted");
    let patch = next_patch(&mut events, "This message was deleted.").await;
    assert!(patch.contains(&format!("id=\"m-{}\"", sent[3])) && !patch.contains("line 03"), "{patch}");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resync_re_renders_the_pins_bar_and_the_open_thread_too() {
    let stack = Stack::start().await;
    let members = two_members(&stack).await;
    let root = members.alice.send_message(members.general, &say("the **root**")).await.expect("sent");
    let reply = CreateMessageRequest { parent_id: Some(root.id), ..say("a reply") };
    members.bob_api.send_message(members.general, &reply).await.expect("replied");
    members.alice.pin_message(root.id).await.expect("pinned");
    // A position the stream no longer holds: the page is re-rendered.
    let path = format!("/sse?channel={}&thread={}&from=1.1", members.general, root.id);
    let mut events = members.bob_api.sse(&path, None).await.expect("a stream");
    let pins = next_patch(&mut events, "id=\"pins\"").await;
    assert!(pins.contains("Pinned messages: 1"), "{pins}");
    let panel_root = next_patch(&mut events, &format!("id=\"tr-{}\"", root.id)).await;
    assert!(panel_root.contains("<p>the <strong>root</strong></p>"), "{panel_root}");
    let count = next_patch(&mut events, "id=\"thread-count\"").await;
    assert!(count.contains(">1 reply</p>"), "{count}");
    let replies = next_patch(&mut events, "id=\"replies\"").await;
    assert!(replies.contains("<p>a reply</p>"), "{replies}");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_composer_sends_its_uploaded_files_and_refuses_files_it_cannot_name() {
    let stack = Stack::start().await;
    let members = two_members(&stack).await;
    let general = members.general;
    let notes = members.bob_api.upload_attachment(general, "notes.txt", b"some notes").await.expect("uploaded");
    let path = format!("/channels/{general}/messages");

    // Sent with the message; the answer removes the file's chip from the composer.
    let sent = members
        .bob
        .post_json(&format!("{path}?files={}", notes.id), &serde_json::json!({"body": "my notes", "cmid": "f-1"}))
        .await;
    assert_eq!(sent.status(), StatusCode::OK);
    let frames = sent.text().await.expect("frames");
    assert!(frames.contains(&format!("data: selector #up-{}\ndata: mode remove", notes.id)), "{frames}");
    let latest = members.bob_api.history(general, &Default::default()).await.expect("history").data;
    let posted = latest.iter().find(|message| message.body_md == "my notes").expect("posted");
    assert_eq!(posted.attachments.iter().map(|file| file.id).collect::<Vec<_>>(), [notes.id]);

    // Not an id: refused, nothing posted.
    let refused = members
        .bob
        .post_json(&format!("{path}?files=nonsense"), &serde_json::json!({"body": "x", "cmid": "f-2"}))
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    // Someone else's upload: the api's refusal in the notice line, nothing posted.
    let alices = members.alice.upload_attachment(general, "hers.txt", b"hers").await.expect("uploaded");
    let taken = members
        .bob
        .post_json(&format!("{path}?files={}", alices.id), &serde_json::json!({"body": "stolen", "cmid": "f-3"}))
        .await;
    let frames = taken.text().await.expect("frames");
    assert!(frames.contains("Not sent: attachment_ids"), "{frames}");
    // Files without words: the api wants words, the notice says so.
    let bare = members
        .bob
        .post_json(&format!("{path}?files={}", alices.id), &serde_json::json!({"body": " ", "cmid": "f-4"}))
        .await;
    assert!(bare.text().await.expect("frames").contains("Add a few words to send with the files."));
    let latest = members.bob_api.history(general, &Default::default()).await.expect("history").data;
    assert!(latest.iter().all(|message| message.body_md != "x" && message.body_md != "stolen"));
    stack.stop().await;
}

/// Every Datastar patch up to and including the first whose data contains `needle`,
/// within 5 s.
async fn patches_until(
    events: &mut futures::stream::BoxStream<'static, Result<SseEvent, ajet_shared::client::ClientError>>,
    needle: &str,
) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let mut seen = Vec::new();
    loop {
        let event = tokio::time::timeout_at(deadline, events.next())
            .await
            .unwrap_or_else(|_| panic!("a patch with {needle:?} within 5 s, after {seen:#?}"))
            .expect("open")
            .expect("an event");
        if event.event == "datastar-patch-elements" {
            let found = event.data.contains(needle);
            seen.push(event.data);
            if found {
                return seen;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_channel_preferences_reach_their_other_tabs_and_no_one_elses() {
    let stack = Stack::start().await;
    let members = two_members(&stack).await;
    let alice_login = stack.gateway.dev_login("alice").await.expect("dev login");
    let alice = Browser {
        http: members.bob.http.clone(),
        base: members.bob.base.clone(),
        cookie: format!("ajet_session={}", alice_login.token),
    };
    let page = members.bob.get("/c/acme/general").await.text().await.expect("html");
    assert!(!page.contains("class=\"starred\""), "nothing starred yet: {page}");
    let mut other_tab = members.bob_api.sse(&stream_path(&page), None).await.expect("bob's other tab");
    let alice_page = alice.get("/c/acme/general").await.text().await.expect("html");
    let mut alices =
        stack.gateway.with_token(alice_login.token).sse(&stream_path(&alice_page), None).await.expect("alice's tab");

    // Bob stars #random in one tab (the page's form): his other tab's sidebar puts it first.
    let starred =
        members.bob.post_form(&format!("/channels/{}/preferences", members.random), &[("starred", "true")]).await;
    assert_eq!(starred.status(), StatusCode::SEE_OTHER);
    let random = format!("<li id=\"ch-{}\" class=\"starred\">", members.random);
    let general = format!("<li id=\"ch-{}\">", members.general);
    let list = next_patch(&mut other_tab, &random).await;
    assert!(list.contains("<ul id=\"channels\" class=\"channels\">"), "the list is rendered again: {list}");
    let (first, second) = (list.find(&random).expect("random"), list.find(&general).expect("general"));
    assert!(first < second, "starred first: {list}");
    assert!(list.contains("<span class=\"star\" aria-label=\"starred\">★</span>"), "{list}");
    let reloaded = members.bob.get("/c/acme/general").await.text().await.expect("html");
    let (first, second) = (reloaded.find(&random).expect("random"), reloaded.find(&general).expect("general"));
    assert!(first < second, "a page puts it first too: {reloaded}");

    // He mutes #general, the channel the tab shows, through the api: the entry dims and
    // the header's menu offers to unmute.
    let forever = time::OffsetDateTime::now_utc() + time::Duration::days(3650);
    let mute =
        ajet_shared::api::wire::UpdatePreferencesRequest { muted_until: Some(Some(forever)), ..Default::default() };
    members.bob_api.update_preferences(members.general, &mute).await.expect("muted");
    let patches = patches_until(&mut other_tab, &format!("<li id=\"ch-{}\" class=\"muted\">", members.general)).await;
    let menu = patches.iter().find(|patch| patch.contains("id=\"channel-preferences\"")).expect("the menu is patched");
    assert!(menu.contains(">Unmute</button>"), "{menu}");
    assert!(menu.contains(">Star</button>"), "#general itself is not starred: {menu}");

    // Alice's tab gets none of it: her stream reaches a later message without a patch of
    // bob's preferences.
    let marker = members.alice.send_message(members.general, &say("after bob's preferences")).await.expect("sent");
    let seen = patches_until(&mut alices, &format!("id=\"m-{}\"", marker.id)).await;
    assert!(
        seen.iter().all(|patch| {
            !patch.contains("channel-preferences")
                && !patch.contains("class=\"starred")
                && !patch.contains("class=\"muted")
        }),
        "{seen:#?}"
    );
    let alice_page = alice.get("/c/acme/general").await.text().await.expect("html");
    assert!(!alice_page.contains("class=\"starred\"") && !alice_page.contains("class=\"muted\""), "{alice_page}");
    stack.stop().await;
}

/// The stack's metrics as the gateway's `/metrics` shows them (its services share one
/// recorder).
pub async fn metrics_text(stack: &Stack) -> String {
    reqwest::get(format!("{}/metrics", stack.gateway.base_url())).await.expect("answers").text().await.expect("metrics")
}

/// The api's answered requests under `/api/` so far (not its health checks), per `METHOD
/// route` (from the gateway's `/metrics`: the stack's services share one recorder).
async fn api_requests_by_route(stack: &Stack) -> std::collections::BTreeMap<String, u64> {
    let text = metrics_text(stack).await;
    let label = |line: &str, name: &str| -> String {
        let start = line.find(&format!("{name}=\"")).map(|at| at + name.len() + 2);
        start.and_then(|start| Some(line[start..].split('"').next()?.to_owned())).unwrap_or_default()
    };
    let mut counts = std::collections::BTreeMap::new();
    for line in text.lines().filter(|line| line.starts_with("http_requests_total{") && line.contains("service=\"api\""))
    {
        let count = line.rsplit(' ').next().and_then(|n| n.parse::<f64>().ok()).unwrap_or(0.0) as u64;
        let route = label(line, "route");
        if route.starts_with("/api/") {
            *counts.entry(format!("{} {route}", label(line, "method"))).or_insert(0) += count;
        }
    }
    counts
}

/// The api requests made between `before` and `after`, per route (none listed at zero).
fn requests_between(
    before: &std::collections::BTreeMap<String, u64>,
    after: &std::collections::BTreeMap<String, u64>,
) -> std::collections::BTreeMap<String, u64> {
    after
        .iter()
        .map(|(route, count)| (route.clone(), count - before.get(route).copied().unwrap_or(0)))
        .filter(|(_, count)| *count > 0)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_a_tabs_stream_reads_each_thing_from_the_api_once() {
    let stack = Stack::start().await;
    let members = two_members(&stack).await;
    let root = members.alice.send_message(members.general, &say("a thread")).await.expect("sent");
    let page = members.bob.get("/c/acme/general").await.text().await.expect("html");

    // The stream core's access read (`me`) is the sidebar's too, and the channel's
    // community comes from it: the viewer, the community's channels, the DMs, the list and
    // the unread notifications, each once.
    let before = api_requests_by_route(&stack).await;
    let mut events = members.bob_api.sse(&stream_path(&page), None).await.expect("a stream");
    let opened = requests_between(&before, &api_requests_by_route(&stack).await);
    use ajet_shared::api::paths;
    let expected: std::collections::BTreeMap<String, u64> =
        [paths::ME, paths::COMMUNITY_CHANNELS, paths::DMS, paths::CHANNEL_MESSAGES, paths::NOTIFICATIONS]
            .into_iter()
            .map(|route| (format!("GET {route}"), 1))
            .collect();
    assert_eq!(opened, expected, "one read of each");

    // With the thread panel open, its replies once more.
    let thread = members.bob.get(&format!("/c/acme/general?thread={}", root.id)).await.text().await.expect("html");
    let before = api_requests_by_route(&stack).await;
    let mut thread_events = members.bob_api.sse(&stream_path(&thread), None).await.expect("a stream");
    let opened = requests_between(&before, &api_requests_by_route(&stack).await);
    let mut with_thread = expected.clone();
    with_thread.insert(format!("GET {}", paths::MESSAGE_REPLIES), 1);
    assert_eq!(opened, with_thread, "one read of each");

    // Both are live on what those reads found.
    let hello = members.alice.send_message(members.general, &say("hello")).await.expect("sent");
    for events in [&mut events, &mut thread_events] {
        let patch = next_patch(events, "mode append").await;
        assert!(patch.contains(&format!("id=\"m-{}\"", hello.id)), "{patch}");
    }
    stack.stop().await;
}

/// The overlay's query as Datastar sends it: its `q` and its opening `qo`.
async fn switch(browser: &Browser, q: &str, opening: u64) -> String {
    let signals = serde_json::json!({ "q": q, "qo": opening }).to_string();
    let response = browser
        .http
        .get(format!("{}/search", browser.base))
        .query(&[("datastar", signals)])
        .header(header::COOKIE, &browser.cookie)
        .header("datastar-request", "true")
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.expect("frames")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quick_switcher_reads_who_one_is_and_ones_channels_once_per_opening_not_per_keystroke() {
    use ajet_shared::api::paths;
    let stack = Stack::start().await;
    let members = two_members(&stack).await;
    let community = members.alice.list_communities().await.expect("communities").data[0].id;
    let secret = ajet_shared::api::wire::CreateChannelRequest {
        name: "secret-plans".into(),
        topic: None,
        kind: Some(ajet_shared::api::wire::ChannelKind::Private),
    };
    members.alice.create_channel(community, &secret).await.expect("alice's private channel");
    let alice_login = stack.gateway.dev_login("alice").await.expect("dev login");
    let alice = Browser {
        http: members.bob.http.clone(),
        base: members.bob.base.clone(),
        cookie: format!("ajet_session={}", alice_login.token),
    };
    let jump = "<a href=\"/c/acme/random\">";

    // Three keystrokes of one opening: the directory once, a message search each.
    let before = api_requests_by_route(&stack).await;
    for q in ["r", "ra", "ran"] {
        let frames = switch(&members.bob, q, 111).await;
        assert!(frames.contains(jump), "{q}: {frames}");
    }
    let typed = requests_between(&before, &api_requests_by_route(&stack).await);
    let expected: std::collections::BTreeMap<String, u64> =
        [(paths::ME, 1), (paths::COMMUNITY_CHANNELS, 1), (paths::DMS, 1), (paths::SEARCH, 3)]
            .into_iter()
            .map(|(route, count)| (format!("GET {route}"), count))
            .collect();
    assert_eq!(typed, expected);

    // Another opening reads it again; a directory is its viewer's alone, whatever the
    // opening is called.
    let before = api_requests_by_route(&stack).await;
    assert!(!switch(&members.bob, "secret", 222).await.contains("secret-plans"));
    assert_eq!(
        requests_between(&before, &api_requests_by_route(&stack).await).get(&format!("GET {}", paths::ME)),
        Some(&1)
    );
    assert!(switch(&alice, "secret", 222).await.contains("<a href=\"/c/acme/secret-plans\">"));
    assert!(!switch(&members.bob, "secret", 222).await.contains("secret-plans"), "not alice's directory");
    stack.stop().await;
}
