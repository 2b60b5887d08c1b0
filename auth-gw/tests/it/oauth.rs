//! OAuth login through the real gateway against the stand-in provider: GitHub, Gitea and
//! OpenID Connect logins create (then reuse) the user and start a session; every failure
//! — missing or wrong state, a provider error page, a PKCE mismatch, a replayed code, an ID
//! token with the wrong nonce or signature — is refused with a JSON error and no session.
//! The login page offers the bootstrap until a community exists; after that, sign-up needs
//! an invite opened at `/invite/{code}` (its landing page is tested in `pages`).

use ajet_shared::api::ErrorCode;
use ajet_shared::api::wire::{CreateCommunityRequest, CreateInviteRequest, LoginResponse};
use ajet_shared::config::{OAuthProvider, ProviderKind, Secret};
use reqwest::StatusCode;

use crate::gateway::error_code;
use crate::provider::{CLIENT_ID, CLIENT_SECRET, Person, Quirk, StandIn};
use crate::stack::Stack;

fn provider(id: &str, kind: ProviderKind, url: &str) -> OAuthProvider {
    OAuthProvider {
        id: id.into(),
        kind,
        name: None,
        client_id: CLIENT_ID.into(),
        client_secret: Secret::new(CLIENT_SECRET),
        scopes: Vec::new(),
        url: Some(url.into()),
        api_url: (kind == ProviderKind::Github).then(|| url.to_owned()),
    }
}

/// A stack whose gateway logs in through `stand_in` as `github`, `corp` (OIDC) and `forge`.
pub(crate) async fn provider_stack(stand_in: &StandIn) -> Stack {
    let url = stand_in.url.clone();
    Stack::start_with(move |config| {
        config.oauth_providers = vec![
            provider("github", ProviderKind::Github, &url),
            provider("corp", ProviderKind::Oidc, &url),
            provider("forge", ProviderKind::Gitea, &url),
        ];
        config.login_rate_limit_per_minute = 1000;
    })
    .await
}

pub(crate) fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().expect("ascii").to_owned()
}

/// The login attempt the browser holds between start and callback.
struct Started {
    cookie: String,
    authorize_url: String,
}

async fn start(stack: &Stack, provider: &str) -> Started {
    start_holding(stack, provider, None).await
}

/// Starts a login in a browser that already holds `cookie` (an opened invite).
async fn start_holding(stack: &Stack, provider: &str, cookie: Option<&str>) -> Started {
    let mut request = no_redirects().get(format!("{}/auth/{provider}/start", stack.gateway.base_url()));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await.expect("start");
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "start redirects to the provider");
    let set_cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().expect("ascii"))
        .find(|value| value.starts_with("ajet_oauth="))
        .expect("the attempt cookie")
        .to_owned();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    let cookie = set_cookie.split(';').next().expect("a cookie").to_owned();
    Started { cookie, authorize_url: location(&response) }
}

/// Follows the provider's authorize step; returns the callback URL it redirects to.
pub(crate) async fn authorize(authorize_url: &str) -> String {
    let response = no_redirects().get(authorize_url).send().await.expect("authorize");
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "the stand-in approves at once");
    location(&response)
}

async fn callback(callback_url: &str, cookie: Option<&str>) -> reqwest::Response {
    let mut request = no_redirects().get(callback_url).header("accept", "application/json");
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.send().await.expect("callback")
}

async fn log_in(stack: &Stack, provider: &str) -> LoginResponse {
    let started = start(stack, provider).await;
    let callback_url = authorize(&started.authorize_url).await;
    let response = callback(&callback_url, Some(&started.cookie)).await;
    assert_eq!(response.status(), StatusCode::OK, "login through {provider}");
    response.json().await.expect("a login response")
}

fn replace_param(url: &str, name: &str, value: &str) -> String {
    let (base, query) = url.split_once('?').expect("a query");
    let params: Vec<String> = query
        .split('&')
        .map(|pair| if pair.starts_with(&format!("{name}=")) { format!("{name}={value}") } else { pair.to_owned() })
        .collect();
    format!("{base}?{}", params.join("&"))
}

#[tokio::test]
async fn github_login_creates_the_user_once_and_starts_a_session() {
    let stand_in = StandIn::start().await;
    let stack = provider_stack(&stand_in).await;

    let options: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/auth/login", stack.gateway.base_url()))
        .header("accept", "application/json")
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("json");
    let ids: Vec<&str> =
        options["providers"].as_array().expect("list").iter().filter_map(|p| p["id"].as_str()).collect();
    assert_eq!(ids, ["github", "corp", "forge"]);

    let first = log_in(&stack, "github").await;
    assert_eq!(first.user.username, "octocat");
    assert_eq!(first.user.display_name, "The Octocat");
    let me = stack.gateway.with_token(&first.token).me().await.expect("the session works through the gateway");
    assert_eq!(me.user.id, first.user.id);

    // The same GitHub account logs in as the same user, even after renaming itself.
    stand_in.approve_as(Person { id: 583_231, login: "octo-renamed".into(), name: "Octo".into() });
    let again = log_in(&stack, "github").await;
    assert_eq!(again.user.id, first.user.id);
    // Another account whose login is taken gets a username of its own.
    stand_in.approve_as(Person { id: 9, login: "octocat".into(), name: "Impostor".into() });
    let other = log_in(&stack, "github").await;
    assert_ne!(other.user.id, first.user.id);
    assert_eq!(other.user.username, "octocat-2");

    // A browser (no JSON asked) gets the session cookie and a page that moves on.
    let started = start(&stack, "github").await;
    let callback_url = authorize(&started.authorize_url).await;
    let page = no_redirects().get(&callback_url).header("cookie", &started.cookie).send().await.expect("callback");
    assert_eq!(page.status(), StatusCode::OK);
    let cookies: Vec<&str> = page.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).collect();
    assert!(cookies.iter().any(|c| c.starts_with("ajet_session=ajs_") && c.contains("SameSite=Strict")), "{cookies:?}");
    assert!(cookies.iter().any(|c| c.starts_with("ajet_oauth=") && c.contains("Max-Age=0")), "attempt cookie removed");
    assert!(page.headers().contains_key("content-security-policy"));

    let logins: Vec<serde_json::Value> =
        sqlx::query_scalar("SELECT details FROM audit_log WHERE action = 'auth.login' ORDER BY id")
            .fetch_all(&stack.db.pool)
            .await
            .expect("audit");
    assert_eq!(logins.len(), 4);
    assert_eq!(logins[0]["provider"], "github");
    assert_eq!(logins[0]["new_user"], true);
    assert_eq!(logins[1]["new_user"], false);
    stack.stop().await;
}

#[tokio::test]
async fn gitea_login_links_its_accounts_apart_from_githubs() {
    let stand_in = StandIn::start().await;
    let stack = provider_stack(&stand_in).await;
    let github = log_in(&stack, "github").await;
    // The same numeric id at another provider is another person.
    let gitea = log_in(&stack, "forge").await;
    assert_ne!(gitea.user.id, github.user.id);
    assert_eq!(gitea.user.username, "octocat-2");
    assert_eq!(gitea.user.display_name, "The Octocat", "from Gitea's full_name");
    assert_eq!(log_in(&stack, "forge").await.user.id, gitea.user.id);
    stack.stop().await;
}

#[tokio::test]
async fn oidc_login_checks_the_id_token_and_its_nonce() {
    let stand_in = StandIn::start().await;
    let stack = provider_stack(&stand_in).await;
    stand_in.approve_as(Person { id: 42, login: "Grace.Hopper".into(), name: "Grace Hopper".into() });
    let login = log_in(&stack, "corp").await;
    assert_eq!(login.user.username, "grace.hopper");
    assert_eq!(login.user.avatar_url.as_deref(), Some("https://avatars.example/42.png"));
    stack.gateway.with_token(&login.token).me().await.expect("the session works");

    for quirk in [Quirk::WrongNonce, Quirk::BadSignature] {
        stand_in.set_quirk(quirk);
        let started = start(&stack, "corp").await;
        let callback_url = authorize(&started.authorize_url).await;
        let refused = callback(&callback_url, Some(&started.cookie)).await;
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "{quirk:?}");
        assert_eq!(error_code(refused).await, ErrorCode::OauthIdTokenInvalid, "{quirk:?}");
    }
    stack.stop().await;
}

#[tokio::test]
async fn failed_logins_are_refused_without_a_session() {
    let stand_in = StandIn::start().await;
    let stack = provider_stack(&stand_in).await;

    // No attempt cookie: the login was not started in this browser.
    let started = start(&stack, "github").await;
    let callback_url = authorize(&started.authorize_url).await;
    let response = callback(&callback_url, None).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(response).await, ErrorCode::OauthStateMissing);

    // A state other than the one started.
    let started = start(&stack, "github").await;
    let callback_url = authorize(&started.authorize_url).await;
    let response = callback(&replace_param(&callback_url, "state", "forged"), Some(&started.cookie)).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(response).await, ErrorCode::OauthStateMismatch);
    let response = callback(&replace_param(&callback_url, "state", "forged"), None).await;
    assert_eq!(error_code(response).await, ErrorCode::OauthStateMissing);

    // An attempt cookie that is not ours (not decryptable) counts as missing.
    let response = callback(&callback_url, Some("ajet_oauth=tampered")).await;
    assert_eq!(error_code(response).await, ErrorCode::OauthStateMissing);

    // A PKCE mismatch: the provider saw another challenge than our verifier's.
    let started = start(&stack, "github").await;
    let tampered =
        replace_param(&started.authorize_url, "code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    let callback_url = authorize(&tampered).await;
    let response = callback(&callback_url, Some(&started.cookie)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(response).await, ErrorCode::OauthCodeRejected);

    // A replayed code (with the attempt cookie it came with) is refused by the provider.
    let started = start(&stack, "corp").await;
    let callback_url = authorize(&started.authorize_url).await;
    assert_eq!(callback(&callback_url, Some(&started.cookie)).await.status(), StatusCode::OK);
    let replayed = callback(&callback_url, Some(&started.cookie)).await;
    assert_eq!(replayed.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(replayed).await, ErrorCode::OauthCodeRejected);

    // The provider's error page.
    stand_in.set_quirk(Quirk::Deny);
    let started = start(&stack, "github").await;
    let callback_url = authorize(&started.authorize_url).await;
    let response = callback(&callback_url, Some(&started.cookie)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["error"]["code"], ErrorCode::OauthDenied.as_str());
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("access_denied")));

    // A provider nobody configured.
    let response =
        no_redirects().get(format!("{}/auth/gitlab/start", stack.gateway.base_url())).send().await.expect("x");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions").fetch_one(&stack.db.pool).await.expect("n");
    assert_eq!(sessions, 1, "only the one successful login made a session");
    stack.stop().await;
}

/// An attempt cookie encrypted with `key`, as the gateway would have set it.
fn sealed_attempt(key: &[u8], attempt: &serde_json::Value) -> String {
    use axum::response::IntoResponse as _;
    use axum_extra::extract::cookie::{Cookie, Key, PrivateCookieJar};
    let jar = PrivateCookieJar::new(Key::from(key)).add(Cookie::new("ajet_oauth", attempt.to_string()));
    let response = (jar, ()).into_response();
    let set_cookie = response.headers()["set-cookie"].to_str().expect("ascii");
    set_cookie.split(';').next().expect("a cookie").to_owned()
}

#[tokio::test]
async fn an_expired_attempt_or_one_for_another_provider_is_refused() {
    use base64::Engine as _;
    let stand_in = StandIn::start().await;
    let key = [7u8; 64];
    let url = stand_in.url.clone();
    let stack = Stack::start_with(move |config| {
        config.oauth_providers =
            vec![provider("github", ProviderKind::Github, &url), provider("corp", ProviderKind::Oidc, &url)];
        config.cookie_key = Some(Secret::new(base64::engine::general_purpose::STANDARD.encode(key)));
    })
    .await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let callback_url = format!("{}/auth/github/callback?code=abc&state=s1", stack.gateway.base_url());
    let cases = [
        ("github", now - 1, ErrorCode::OauthStateExpired),
        ("corp", now + 600, ErrorCode::OauthStateMismatch),
        // A well-formed, live attempt gets as far as the provider, which does not know the code.
        ("github", now + 600, ErrorCode::OauthCodeRejected),
    ];
    for (provider, expires_at, code) in cases {
        let attempt = serde_json::json!({
            "provider": provider, "state": "s1", "verifier": "v".repeat(43), "nonce": null,
            "redirect": "/", "expires_at": expires_at,
        });
        let response = callback(&callback_url, Some(&sealed_attempt(&key, &attempt))).await;
        assert_eq!(error_code(response).await, code, "{provider} expiring at {expires_at}");
    }
    stack.stop().await;
}

#[tokio::test]
async fn the_login_page_lists_providers_the_dev_form_and_the_bootstrap_note_until_a_community_exists() {
    let stand_in = StandIn::start().await;
    let stack = provider_stack(&stand_in).await;
    let login_page = || async {
        let response = reqwest::get(format!("{}/auth/login", stack.gateway.base_url())).await.expect("answers");
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers()["content-type"].to_str().expect("ascii").starts_with("text/html"));
        response.text().await.expect("a page")
    };
    let page = login_page().await;
    for expected in
        ["href=\"/auth/github/start\"", "href=\"/auth/corp/start\"", "action=\"/auth/dev-login\"", "first community"]
    {
        assert!(page.contains(expected), "{expected} in {page}");
    }

    // The dev form logs in and moves on to the app with the session cookie.
    let response = no_redirects()
        .post(format!("{}/auth/dev-login", stack.gateway.base_url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("username=alice")
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(response.headers()["set-cookie"].to_str().expect("ascii").starts_with("ajet_session="));

    let alice = stack.login("alice").await;
    alice
        .create_community(&CreateCommunityRequest { name: "Acme".into(), slug: "acme".into(), description: None })
        .await
        .expect("the first user creates the first community");
    assert!(!login_page().await.contains("first community"), "no bootstrap once a community exists");
    let options: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/auth/login", stack.gateway.base_url()))
        .header("accept", "application/json")
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("json");
    assert_eq!(options["bootstrap"], false);
    assert_eq!(options["dev_login"], true);
}

#[tokio::test]
async fn after_the_first_community_new_users_sign_up_only_with_an_invite() {
    let stand_in = StandIn::start().await;
    let stack = provider_stack(&stand_in).await;
    // Bootstrap: the first user signs up without an invite and creates the community.
    let owner = log_in(&stack, "github").await;
    let owner = stack.gateway.with_token(owner.token);
    let community = owner
        .create_community(&CreateCommunityRequest { name: "Acme".into(), slug: "acme".into(), description: None })
        .await
        .expect("community");

    // A stranger without an invite is refused, with no user created.
    stand_in.approve_as(Person { id: 77, login: "stranger".into(), name: "Stranger".into() });
    let started = start(&stack, "github").await;
    let refused = callback(&authorize(&started.authorize_url).await, Some(&started.cookie)).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(refused).await, ErrorCode::InviteRequired);
    let users: i64 =
        sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(&stack.db.pool).await.expect("count users");
    assert_eq!(users, 1);

    // The existing user can always log in again.
    stand_in.approve_as(Person { id: 583_231, login: "octocat".into(), name: "The Octocat".into() });
    log_in(&stack, "github").await;

    // A bad invite link is refused; a good one is remembered and applied after the login.
    let bad = no_redirects()
        .get(format!("{}/invite/nope", stack.gateway.base_url()))
        .header("accept", "application/json")
        .send()
        .await
        .expect("x");
    assert_eq!(bad.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(bad).await, ErrorCode::InviteInvalid);
    let invite = owner
        .create_invite(community.id, &CreateInviteRequest { max_uses: Some(1), ..Default::default() })
        .await
        .expect("invite");
    let opened =
        no_redirects().get(format!("{}/invite/{}", stack.gateway.base_url(), invite.code)).send().await.expect("opens");
    assert_eq!(opened.status(), StatusCode::OK, "the invite landing");
    let invite_cookie =
        opened.headers()["set-cookie"].to_str().expect("ascii").split(';').next().expect("c").to_owned();
    assert!(!invite_cookie.contains(&invite.code), "the invite cookie is encrypted");

    stand_in.approve_as(Person { id: 77, login: "stranger".into(), name: "Stranger".into() });
    let started = start_holding(&stack, "github", Some(&invite_cookie)).await;
    let response = callback(&authorize(&started.authorize_url).await, Some(&started.cookie)).await;
    assert_eq!(response.status(), StatusCode::OK, "an invited sign-up");
    let joined: LoginResponse = response.json().await.expect("a login");
    let communities = stack.gateway.with_token(joined.token).list_communities().await.expect("listed").data;
    assert_eq!(communities.len(), 1);
    assert_eq!(communities[0].slug, "acme");

    // The invite is used up: another stranger holding it is refused.
    stand_in.approve_as(Person { id: 78, login: "late".into(), name: "Late".into() });
    let started = start_holding(&stack, "github", Some(&invite_cookie)).await;
    let refused = callback(&authorize(&started.authorize_url).await, Some(&started.cookie)).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(refused).await, ErrorCode::InviteRequired);
}
