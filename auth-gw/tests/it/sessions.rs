//! Sessions end when asked: logout revokes at once through this gateway, a session revoked
//! elsewhere stops working within 5 s (the gateway's token cache is bounded, and so is the
//! api's: straight at the api within `auth_cache_secs`), an open
//! terminal stream of a revoked session ends, and its reconnect is told 204. They end by
//! themselves too: a used session's expiry rolls forward, an unused one expires, and none
//! outlives its absolute lifetime. The session cookie's flags are checked over HTTP and HTTPS.

use ajet_shared::api::ErrorCode;
use ajet_shared::api::wire::CreateTokenRequest;
use std::time::{Duration, Instant};

use ajet_shared::db;
use futures::StreamExt as _;
use reqwest::StatusCode;

use crate::gateway::{echo_server, error_code};
use crate::stack::Stack;

/// Polls `GET path` through the gateway with `token` until it answers `wanted`; returns
/// how long that took, or panics after `limit`.
async fn until_status(stack: &Stack, path: &str, token: &str, wanted: StatusCode, limit: Duration) -> Duration {
    until_status_at(stack.gateway.base_url(), path, token, wanted, limit).await
}

/// `until_status` against the service at `base`.
async fn until_status_at(base: &str, path: &str, token: &str, wanted: StatusCode, limit: Duration) -> Duration {
    let http = reqwest::Client::new();
    let started = Instant::now();
    loop {
        let response = http.get(format!("{base}{path}")).bearer_auth(token).send().await.expect("answers");
        if response.status() == wanted {
            return started.elapsed();
        }
        assert!(started.elapsed() < limit, "{path} still answers {} after {limit:?}", response.status());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn audit_actions(stack: &Stack) -> Vec<String> {
    sqlx::query_scalar("SELECT action FROM audit_log ORDER BY id").fetch_all(&stack.db.pool).await.expect("audit rows")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_revokes_the_session_everywhere_and_ends_its_open_stream() {
    let stack = Stack::start().await;
    let alice = stack.login("alice").await;
    let token = alice.token().expect("token").to_owned();
    alice.me().await.expect("the session works");
    let mut stream = alice.sse("/tui/events", None).await.expect("stream opens");

    let logout = alice.request(reqwest::Method::POST, "/auth/logout").send().await.expect("answers");
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    let cookie = logout.headers()["set-cookie"].to_str().expect("ascii");
    assert!(cookie.starts_with("ajet_session=;") && cookie.contains("Max-Age=0"), "the cookie is cleared: {cookie}");
    let logged_out = Instant::now();

    let err = alice.me().await.expect_err("refused right after logout");
    assert_eq!(err.status(), Some(StatusCode::UNAUTHORIZED));
    assert_eq!(err.code(), Some(ErrorCode::TokenRevoked));
    let err = alice.sse("/tui/events", None).await.err().expect("a new stream is refused");
    assert_eq!(err.status(), Some(StatusCode::UNAUTHORIZED));

    // The stream that was open ends, with no further events.
    let end = tokio::time::timeout(Duration::from_secs(5), stream.next()).await;
    match end {
        Ok(None | Some(Err(_))) => {}
        Ok(Some(Ok(event))) => panic!("no event after logout, got {event:?}"),
        Err(_) => panic!("the stream of a revoked session is still open 5 s after logout"),
    }
    assert!(logged_out.elapsed() < Duration::from_secs(5));

    // Logging out again is harmless; a revoked token straight at tui-sm gets 204 (stop
    // retrying), a token that never existed 401.
    let again = alice.request(reqwest::Method::POST, "/auth/logout").send().await.expect("answers");
    assert_eq!(again.status(), StatusCode::NO_CONTENT);
    let http = reqwest::Client::new();
    let direct =
        http.get(format!("{}/tui/events", stack.config.tui_url)).bearer_auth(&token).send().await.expect("answers");
    assert_eq!(direct.status(), StatusCode::NO_CONTENT);
    let bogus = format!("ajs_{}", "A".repeat(43));
    let direct =
        http.get(format!("{}/tui/events", stack.config.tui_url)).bearer_auth(&bogus).send().await.expect("answers");
    assert_eq!(direct.status(), StatusCode::UNAUTHORIZED);

    assert_eq!(audit_actions(&stack).await, ["auth.login", "auth.logout"], "one row each, the repeat logs nothing");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_revoked_elsewhere_stops_working_through_the_gateway_within_5_s() {
    let echo = echo_server().await;
    let stack = Stack::start_with(|config| config.web_url = echo).await;
    let alice = stack.login("alice").await;
    let token = alice.token().expect("token").to_owned();
    // The gateway validates and caches the token; the echo upstream checks nothing itself.
    until_status(&stack, "/anything", &token, StatusCode::OK, Duration::ZERO).await;
    let mut stream = alice.sse("/tui/events", None).await.expect("stream opens");

    // As another gateway instance (or an admin) would.
    db::auth::revoke_session(&stack.db.pool, &token).await.expect("revoke").expect("a live session");
    let took = until_status(&stack, "/anything", &token, StatusCode::UNAUTHORIZED, Duration::from_secs(5)).await;
    println!("a session revoked elsewhere was refused by the gateway after {took:?}");
    until_status(&stack, "/api/me", &token, StatusCode::UNAUTHORIZED, Duration::ZERO).await;
    let response = alice.request(reqwest::Method::GET, "/tui/events").send().await.expect("answers");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(response).await, ErrorCode::TokenRevoked);
    let end = tokio::time::timeout(Duration::from_secs(5), stream.next()).await;
    assert!(matches!(end, Ok(None | Some(Err(_)))), "the open stream ended within 5 s: {end:?}");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_trusts_a_validated_token_for_at_most_its_cache_time_and_forgets_one_it_revokes_at_once() {
    let stack = Stack::start().await;
    let api = stack.config.api_url.clone();
    let bound = stack.config.auth_cache_ttl();
    let alice = stack.login("alice").await;
    let token = alice.token().expect("token").to_owned();
    // Straight at the api, as a session manager calls it: validated, then cached.
    until_status_at(&api, "/api/communities", &token, StatusCode::OK, Duration::ZERO).await;

    // Logged out at the gateway: the api hears nothing, so its cached validation may answer
    // until it expires, never longer; a fresh check (`me`, as the session managers' access
    // checks ask) is refused at once.
    let logout = alice.request(reqwest::Method::POST, "/auth/logout").send().await.expect("answers");
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    let straight = ajet_shared::client::ApiClient::new(api.clone()).expect("client").with_token(&token);
    let err = straight.me().await.expect_err("a fresh check");
    assert_eq!(err.code(), Some(ErrorCode::TokenRevoked));
    let took =
        until_status_at(&api, "/api/communities", &token, StatusCode::UNAUTHORIZED, bound + Duration::from_millis(500))
            .await;
    println!("a session revoked at the gateway was refused by the api after {took:?} (bound {bound:?})");

    // An API token revoked through the api stops working there at once.
    let bob = stack.login("bob").await;
    let request = CreateTokenRequest { name: "ci".into(), scopes: vec!["read".into()], expires_in_days: None };
    let created = bob.create_token(&request).await.expect("created");
    until_status_at(&api, "/api/communities", &created.token, StatusCode::OK, Duration::ZERO).await;
    bob.revoke_token(created.info.id).await.expect("revoked");
    until_status_at(&api, "/api/communities", &created.token, StatusCode::UNAUTHORIZED, Duration::ZERO).await;
    stack.stop().await;
}

#[tokio::test]
async fn cookie_logout_clears_the_cookie_and_refuses_other_sites() {
    let stack = Stack::start().await;
    let login = stack.gateway.dev_login("alice").await.expect("login");
    let http = reqwest::Client::new();
    let logout = |origin: &'static str| {
        http.post(format!("{}/auth/logout", stack.gateway.base_url()))
            .header("cookie", format!("ajet_session={}", login.token))
            .header("origin", origin)
            .send()
    };
    let refused = logout("https://evil.example").await.expect("answers");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(refused).await, ErrorCode::CrossSiteRequest);
    stack.gateway.with_token(&login.token).me().await.expect("still logged in");

    let ours: &'static str = String::leak(stack.config.public_url.clone());
    let done = logout(ours).await.expect("answers");
    assert_eq!(done.status(), StatusCode::NO_CONTENT);
    let err = stack.gateway.with_token(&login.token).me().await.expect_err("logged out");
    assert_eq!(err.status(), Some(StatusCode::UNAUTHORIZED));

    let nothing = http.post(format!("{}/auth/logout", stack.gateway.base_url())).send().await.expect("answers");
    assert_eq!(nothing.status(), StatusCode::UNAUTHORIZED);
    stack.stop().await;
}

async fn me_status_with_cookie(stack: &Stack, cookie: &str) -> StatusCode {
    reqwest::Client::new()
        .get(format!("{}/api/me", stack.gateway.base_url()))
        .header("cookie", cookie)
        .send()
        .await
        .expect("answers")
        .status()
}

#[tokio::test]
async fn a_session_ends_at_its_absolute_lifetime_however_recently_it_was_used() {
    let stack = Stack::start().await;
    let old = stack.gateway.dev_login("alice").await.expect("login");
    let recent = stack.gateway.dev_login("bob").await.expect("login");
    // Both were used a moment ago (so their rolling expiry is far away); alice logged in
    // 91 days ago, bob 89 days ago, with the default 90-day absolute lifetime.
    for (token, days) in [(&old.token, 91), (&recent.token, 89)] {
        sqlx::query(
            "UPDATE sessions SET created_at = now() - make_interval(days => $2),
                 last_used_at = now() - interval '2 minutes', expires_at = now() + interval '30 days'
             WHERE token_hash = $1",
        )
        .bind(ajet_shared::auth::hash_token(token).as_slice())
        .bind(days)
        .execute(&stack.db.pool)
        .await
        .expect("backdate the login");
    }
    let err = stack.gateway.with_token(&old.token).me().await.expect_err("past its absolute lifetime");
    assert_eq!(err.status(), Some(StatusCode::UNAUTHORIZED));
    assert_eq!(err.code(), Some(ErrorCode::TokenExpired));
    let status = me_status_with_cookie(&stack, &format!("ajet_session={}", old.token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "by cookie too");

    stack.gateway.with_token(&recent.token).me().await.expect("within its absolute lifetime");
    let (expires_at, limit): (time::OffsetDateTime, time::OffsetDateTime) =
        sqlx::query_as("SELECT expires_at, created_at + interval '90 days' FROM sessions WHERE token_hash = $1")
            .bind(ajet_shared::auth::hash_token(&recent.token).as_slice())
            .fetch_one(&stack.db.pool)
            .await
            .expect("session row");
    assert!(expires_at <= limit, "use rolls the expiry forward, but not past the absolute limit");
    assert!(expires_at > time::OffsetDateTime::now_utc(), "and the session still works until then");
    stack.stop().await;
}

/// `expires_at` of the session of `token`.
async fn session_expiry(stack: &Stack, token: &str) -> time::OffsetDateTime {
    sqlx::query_scalar("SELECT expires_at FROM sessions WHERE token_hash = $1")
        .bind(ajet_shared::auth::hash_token(token).as_slice())
        .fetch_one(&stack.db.pool)
        .await
        .expect("session row")
}

#[tokio::test]
async fn a_used_session_rolls_its_expiry_forward_and_an_unused_one_expires() {
    let stack = Stack::start().await;
    let used = stack.gateway.dev_login("alice").await.expect("login");
    let unused = stack.gateway.dev_login("bob").await.expect("login");
    // Both logged in 40 days ago and were last used 28 days ago, with the default 30-day
    // rolling lifetime: alice's session has two days left, bob's ran out a second ago.
    for (token, expires_in) in [(&used.token, "2 days"), (&unused.token, "-1 second")] {
        sqlx::query(
            "UPDATE sessions SET created_at = now() - interval '40 days', last_used_at = now() - interval '28 days',
                 expires_at = now() + $2::interval
             WHERE token_hash = $1",
        )
        .bind(ajet_shared::auth::hash_token(token).as_slice())
        .bind(expires_in)
        .execute(&stack.db.pool)
        .await
        .expect("backdate the login");
    }

    let before = time::OffsetDateTime::now_utc();
    stack.gateway.with_token(&used.token).me().await.expect("a session with time left works");
    let rolled = session_expiry(&stack, &used.token).await;
    let rolling = time::Duration::days(30);
    assert!(
        rolled >= before + rolling - time::Duration::minutes(1) && rolled <= time::OffsetDateTime::now_utc() + rolling,
        "use moves the expiry to 30 days from now, got {rolled}"
    );
    stack.gateway.with_token(&used.token).me().await.expect("and it keeps working");

    let err = stack.gateway.with_token(&unused.token).me().await.expect_err("an unused session expired");
    assert_eq!(err.status(), Some(StatusCode::UNAUTHORIZED));
    assert_eq!(err.code(), Some(ErrorCode::TokenExpired));
    let status = me_status_with_cookie(&stack, &format!("ajet_session={}", unused.token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "by cookie too");
    assert!(
        session_expiry(&stack, &unused.token).await < time::OffsetDateTime::now_utc(),
        "a refusal does not revive it"
    );
    stack.stop().await;
}

fn set_cookie(response: &reqwest::Response) -> String {
    response.headers()["set-cookie"].to_str().expect("ascii").to_owned()
}

#[tokio::test]
async fn with_secure_cookies_the_session_cookie_is_host_prefixed_and_only_that_name_is_read() {
    let stack = Stack::start_with(|config| config.cookie_secure = true).await;
    let response = stack
        .gateway
        .request(reqwest::Method::POST, "/auth/dev-login")
        .json(&serde_json::json!({"username": "alice"}))
        .send()
        .await
        .expect("answers");
    let cookie = set_cookie(&response);
    let login: ajet_shared::api::wire::LoginResponse = response.json().await.expect("login");
    let attributes: Vec<&str> = cookie.split("; ").collect();
    assert_eq!(attributes[0], format!("__Host-ajet_session={}", login.token), "{cookie}");
    for wanted in ["Path=/", "HttpOnly", "SameSite=Strict", "Secure"] {
        assert!(attributes.contains(&wanted), "{wanted} in {cookie}");
    }
    assert!(!cookie.to_ascii_lowercase().contains("domain="), "no Domain: {cookie}");

    let host_cookie = format!("__Host-ajet_session={}", login.token);
    assert_eq!(me_status_with_cookie(&stack, &host_cookie).await, StatusCode::OK);
    let plain = format!("ajet_session={}", login.token);
    assert_eq!(
        me_status_with_cookie(&stack, &plain).await,
        StatusCode::UNAUTHORIZED,
        "a prefix-less cookie may have been planted by another subdomain"
    );

    let logout = reqwest::Client::new()
        .post(format!("{}/auth/logout", stack.gateway.base_url()))
        .header("cookie", &host_cookie)
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .expect("answers");
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    let cleared = set_cookie(&logout);
    assert!(cleared.starts_with("__Host-ajet_session=;") && cleared.contains("Max-Age=0"), "{cleared}");
    assert!(cleared.contains("Path=/") && cleared.contains("Secure"), "{cleared}");
    stack.stop().await;
}

#[tokio::test]
async fn over_plain_http_the_session_cookie_keeps_its_plain_name() {
    let stack = Stack::start().await;
    let response = stack
        .gateway
        .request(reqwest::Method::POST, "/auth/dev-login")
        .json(&serde_json::json!({"username": "alice"}))
        .send()
        .await
        .expect("answers");
    let cookie = set_cookie(&response);
    assert!(cookie.starts_with("ajet_session=ajs_") && !cookie.contains("Secure"), "{cookie}");
    let attributes: Vec<&str> = cookie.split("; ").collect();
    for wanted in ["Path=/", "HttpOnly", "SameSite=Strict"] {
        assert!(attributes.contains(&wanted), "{wanted} in {cookie}");
    }
    let max_age: u64 = attributes
        .iter()
        .find_map(|attribute| attribute.strip_prefix("Max-Age="))
        .and_then(|seconds| seconds.parse().ok())
        .unwrap_or_else(|| panic!("a Max-Age in {cookie}"));
    let day = 24 * 3600;
    assert!(
        (30 * day..=90 * day).contains(&max_age),
        "the cookie lives at least the rolling lifetime and at most the absolute one: {cookie}"
    );
    assert!(!cookie.to_ascii_lowercase().contains("domain="), "no Domain: {cookie}");
    let login: ajet_shared::api::wire::LoginResponse = response.json().await.expect("login");
    assert_eq!(me_status_with_cookie(&stack, &format!("ajet_session={}", login.token)).await, StatusCode::OK);
    stack.stop().await;
}
