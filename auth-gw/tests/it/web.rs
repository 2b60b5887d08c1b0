//! The browser client (web-sm) through the gateway, as a browser would use it: the session
//! cookie, same-origin form and Datastar POSTs. Checks content, not only statuses.

use ajet_shared::api::wire::CreateCommunityRequest;
use ajet_shared::client::ApiClient;
use reqwest::StatusCode;
use reqwest::header;

use crate::stack::Stack;

/// A signed-in browser: the session cookie, never a bearer token.
struct Browser {
    http: reqwest::Client,
    base: String,
    cookie: String,
}

impl Browser {
    async fn login(stack: &Stack, username: &str) -> (Self, ApiClient) {
        let login = stack.gateway.dev_login(username).await.expect("dev login");
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        let browser =
            Self { http, base: stack.gateway.base_url().to_owned(), cookie: format!("ajet_session={}", login.token) };
        (browser, stack.gateway.with_token(login.token))
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .header(header::COOKIE, &self.cookie)
            .header(header::ACCEPT, "text/html")
            .send()
            .await
            .expect("answers")
    }

    async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .header(header::COOKIE, &self.cookie)
            .header("sec-fetch-site", "same-origin")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form_body(form))
            .send()
            .await
            .expect("answers")
    }

    async fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
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
fn form_body(fields: &[(&str, &str)]) -> String {
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

fn location(response: &reqwest::Response) -> &str {
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
    assert!(!html.contains(" style=") && !html.contains("<style") && !html.contains(" on"), "nothing inline");
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
            patch.starts_with("event: datastar-patch-signals\ndata: signals {\"body\":\"\",\"cmid\":\""),
            "the composer is cleared and gets a new key: {patch}"
        );
        assert!(!patch.contains("\"cmid\":\"k-1\""), "{patch}");
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
