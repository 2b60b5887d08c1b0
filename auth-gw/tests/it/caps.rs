//! Caps on what one user or community may hold, through the gateway: active API tokens per
//! user and open invites per community (409 beyond, free again after a revocation), open
//! event streams per user (429 `too_many_streams`, free again when a stream ends), new group
//! DMs per user and hour (429 `rate_limited` with `Retry-After`), heartbeats need the
//! `write` scope, and the gateway's own bounds on streams and requests in flight (503
//! `overloaded` with `Retry-After` at once, free again when one ends).

use ajet_shared::api::{ErrorCode, paths};
use std::time::{Duration, Instant};

use ajet_shared::api::wire::{
    CreateCommunityRequest, CreateDmRequest, CreateInviteRequest, CreateTokenRequest, CreatedToken, Invite,
};
use ajet_shared::client::{ApiClient, ClientError};
use futures::StreamExt as _;
use reqwest::{Method, StatusCode};

use crate::stack::Stack;

async fn create_token(client: &ApiClient, name: &str, scopes: &[&str]) -> Result<CreatedToken, ClientError> {
    let request = CreateTokenRequest {
        name: name.into(),
        scopes: scopes.iter().map(|&s| s.into()).collect(),
        expires_in_days: None,
    };
    client.create_token(&request).await
}

async fn error_of(response: reqwest::Response) -> (StatusCode, String, String) {
    let status = response.status();
    let body: serde_json::Value = response.json().await.expect("a JSON error");
    let code = body["error"]["code"].as_str().expect("code").to_owned();
    let message = body["error"]["message"].as_str().expect("message").to_owned();
    (status, code, message)
}

#[tokio::test]
async fn heartbeats_need_the_write_scope() {
    let stack = Stack::start().await;
    let alice = stack.login("alice").await;
    let reader = create_token(&alice, "reader", &["read"]).await.expect("token");
    let refused = stack.gateway.with_token(&reader.token).heartbeat().await.expect_err("read only");
    assert_eq!((refused.status(), refused.code()), (Some(StatusCode::FORBIDDEN), Some(ErrorCode::InsufficientScope)));
    let presence: i64 =
        sqlx::query_scalar("SELECT count(*) FROM presence").fetch_one(&stack.db.pool).await.expect("count");
    assert_eq!(presence, 0, "a refused heartbeat does not make anyone look online");
    alice.heartbeat().await.expect("a session may");
    let presence = alice.get_presence(&[alice.me().await.expect("me").user.id]).await.expect("presence");
    assert!(presence.data[0].online, "the heartbeat made alice online");
    stack.stop().await;
}

#[tokio::test]
async fn a_user_holds_at_most_the_configured_number_of_active_api_tokens() {
    let stack = Stack::start_with(|config| config.max_api_tokens_per_user = 2).await;
    let alice = stack.login("alice").await;
    let first = create_token(&alice, "one", &["read"]).await.expect("first");
    create_token(&alice, "two", &["read"]).await.expect("second");
    let err = create_token(&alice, "three", &["read"]).await.expect_err("third");
    assert_eq!((err.status(), err.code()), (Some(StatusCode::CONFLICT), Some(ErrorCode::TooManyTokens)));
    let message = err.message().expect("a message");
    assert!(message.contains('2') && message.contains("revoke"), "{message}");
    let bob = stack.login("bob").await;
    create_token(&bob, "one", &["read"]).await.expect("the cap is per user");

    alice.revoke_token(first.info.id).await.expect("revoked");
    create_token(&alice, "three", &["read"]).await.expect("a revoked one is free");
    stack.stop().await;
}

#[tokio::test]
async fn a_community_has_at_most_the_configured_number_of_open_invites() {
    let stack = Stack::start_with(|config| config.max_open_invites_per_community = 2).await;
    let alice = stack.login("alice").await;
    let community = alice
        .create_community(&CreateCommunityRequest { name: "Acme".into(), slug: "acme".into(), description: None })
        .await
        .expect("community");
    let request = CreateInviteRequest { expires_in_secs: None, max_uses: None };
    let first: Invite = alice.create_invite(community.id, &request).await.expect("first");
    alice.create_invite(community.id, &request).await.expect("second");
    let err = alice.create_invite(community.id, &request).await.expect_err("third");
    assert_eq!((err.status(), err.code()), (Some(StatusCode::CONFLICT), Some(ErrorCode::TooManyInvites)));

    alice.revoke_invite(community.id, &first.code).await.expect("revoked");
    alice.create_invite(community.id, &request).await.expect("a revoked invite is no longer open");
    stack.stop().await;
}

#[tokio::test]
async fn a_member_cannot_use_up_the_communitys_invites() {
    let stack = Stack::start_with(|config| config.max_open_invites_per_community = 20).await;
    let (alice, bob, public) = crate::skeleton::two_users(&stack).await;
    let community = public.community_id.expect("a community channel");
    let request = CreateInviteRequest { expires_in_secs: None, max_uses: None };
    // A member's share is a tenth of the allowance: two of twenty.
    bob.create_invite(community, &request).await.expect("bob's first");
    bob.create_invite(community, &request).await.expect("bob's second");
    let err = bob.create_invite(community, &request).await.expect_err("bob's third");
    assert_eq!((err.status(), err.code()), (Some(StatusCode::CONFLICT), Some(ErrorCode::TooManyInvites)));
    for n in 0..3 {
        alice.create_invite(community, &request).await.unwrap_or_else(|err| panic!("the owner's invite {n}: {err}"));
    }
    stack.stop().await;
}

/// `POST /api/dms` sent by hand: the test tells a new DM (201) from an existing one (200)
/// and reads `Retry-After`, which the typed client does not show.
async fn open_dm(client: &ApiClient, users: &[&ajet_shared::api::wire::User]) -> reqwest::Response {
    let request = CreateDmRequest { user_ids: users.iter().map(|user| user.id).collect() };
    client.request(Method::POST, paths::DMS).json(&request).send().await.expect("answers")
}

#[tokio::test]
async fn group_dm_creation_is_limited_per_user_and_hour() {
    let stack = Stack::start_with(|config| config.group_dms_per_hour = 2).await;
    let alice = stack.login("alice").await;
    let mut users = Vec::new();
    for name in ["bob", "carol", "dave", "erin"] {
        users.push(stack.gateway.dev_login(name).await.expect("login").user);
    }
    let [bob, carol, dave, erin] = [&users[0], &users[1], &users[2], &users[3]];
    assert_eq!(open_dm(&alice, &[bob, carol]).await.status(), StatusCode::CREATED);
    assert_eq!(open_dm(&alice, &[bob, dave]).await.status(), StatusCode::CREATED);
    let refused = open_dm(&alice, &[carol, dave]).await;
    let retry_after: u64 = refused.headers()["retry-after"].to_str().expect("ascii").parse().expect("seconds");
    assert!((3500..=3600).contains(&retry_after), "until the oldest of the hour's group DMs ages out: {retry_after}");
    let (status, code, message) = error_of(refused).await;
    assert_eq!((status, code.as_str()), (StatusCode::TOO_MANY_REQUESTS, ErrorCode::RateLimited.as_str()));
    assert!(message.contains("group DMs"), "{message}");
    let group_dms: i64 = sqlx::query_scalar("SELECT count(*) FROM channels WHERE kind = 'group_dm'")
        .fetch_one(&stack.db.pool)
        .await
        .expect("count");
    assert_eq!(group_dms, 2, "the refused one was not created");

    assert_eq!(open_dm(&alice, &[carol, bob]).await.status(), StatusCode::OK, "opening an existing one is free");
    assert_eq!(open_dm(&alice, &[erin]).await.status(), StatusCode::CREATED, "one-to-one DMs are not limited");
    let carols = stack.gateway.dev_login("carol").await.expect("login").token;
    let carol_client = stack.gateway.with_token(carols);
    assert_eq!(open_dm(&carol_client, &[dave, erin]).await.status(), StatusCode::CREATED, "the limit is per user");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_streams_per_user_are_capped_and_a_closed_stream_frees_its_slot() {
    let stack = Stack::start_with(|config| {
        config.max_streams_per_user = 2;
        config.sse_keepalive_secs = 1;
    })
    .await;
    let alice = stack.login("alice").await;
    let first = alice.tui_events(None).await.expect("first stream");
    let _second = alice.tui_events(None).await.expect("second stream");
    let err = alice.tui_events(None).await.err().expect("a third is refused");
    assert_eq!((err.status(), err.code()), (Some(StatusCode::TOO_MANY_REQUESTS), Some(ErrorCode::TooManyStreams)));
    let bob = stack.login("bob").await;
    let _bobs = bob.tui_events(None).await.expect("the cap is per user");
    alice.me().await.expect("other requests are not streams and are not capped");

    drop(first);
    // The gateway notices the closed connection at the stream's next keep-alive.
    let started = Instant::now();
    let _third = loop {
        match alice.tui_events(None).await {
            Ok(stream) => break stream,
            Err(err) => {
                assert_eq!(err.code(), Some(ErrorCode::TooManyStreams), "{err:?}");
                assert!(started.elapsed() < Duration::from_secs(10), "the closed stream's slot is still held");
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    stack.stop().await;
}

/// Sends `PATCH /api/me` as `token` with a body that never ends: the gateway forwards it
/// and waits for the api's answer, which waits for the body, so the request stays in
/// flight until the returned task is aborted. A request that gets an answer did not take
/// the gateway's permit (another request held it at that moment, so it was refused at
/// once): it is sent again until one stays.
fn hold_a_request(base_url: &str, token: &str) -> tokio::task::JoinHandle<()> {
    let client = reqwest::Client::new();
    let url = format!("{base_url}{}", paths::ME);
    let token = token.to_owned();
    tokio::spawn(async move {
        loop {
            let endless = futures::stream::once(async { Ok::<_, std::io::Error>(bytes::Bytes::from_static(b"{")) })
                .chain(futures::stream::pending());
            let answer = client
                .patch(&url)
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body(reqwest::Body::wrap_stream(endless))
                .send()
                .await;
            let status = answer.as_ref().map(reqwest::Response::status);
            assert_eq!(status.ok(), Some(StatusCode::SERVICE_UNAVAILABLE), "the held request ended: {answer:?}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
}

/// The code of a JSON error answer.
async fn code_of(response: reqwest::Response) -> ErrorCode {
    let body: serde_json::Value = response.json().await.expect("a JSON error");
    serde_json::from_value(body["error"]["code"].clone()).expect("an error code")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_its_bounds_the_gateway_refuses_streams_and_requests_at_once_with_retry_after() {
    let stack = Stack::start_with(|config| {
        config.gateway_max_streams = 1;
        config.gateway_max_requests = 1;
        config.sse_keepalive_secs = 1;
    })
    .await;
    let alice = stack.login("alice").await;
    let bob = stack.login("bob").await;
    let base = stack.gateway.base_url().to_owned();
    let http = reqwest::Client::new();
    let bobs_stream = || http.get(format!("{base}{}", paths::TUI_EVENTS)).bearer_auth(bob.token().expect("a token"));

    // Streams: the gateway's bound is over all users (bob has none open).
    let first = alice.tui_events(None).await.expect("the first stream");
    let refused = bobs_stream().send().await.expect("answers");
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("5"));
    assert_eq!(code_of(refused).await, ErrorCode::Overloaded);
    drop(first);
    // The gateway notices the closed connection at the stream's next keep-alive.
    let started = Instant::now();
    loop {
        let response = bobs_stream().send().await.expect("answers");
        if response.status() == StatusCode::OK {
            break;
        }
        assert_eq!(code_of(response).await, ErrorCode::Overloaded);
        assert!(started.elapsed() < Duration::from_secs(10), "the closed stream's permit is still held");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Requests: one in flight fills the bound, and the next is refused without waiting.
    let held = hold_a_request(&base, alice.token().expect("a token"));
    let started = Instant::now();
    let refused = loop {
        let response = http.get(format!("{base}{}", paths::ME)).bearer_auth(bob.token().expect("a token")).send().await;
        let response = response.expect("answers");
        if response.status() == StatusCode::SERVICE_UNAVAILABLE {
            break response;
        }
        assert_eq!(response.status(), StatusCode::OK, "until the held request reaches the gateway");
        if held.is_finished() {
            panic!("the held request's task ended: {:?}", held.await);
        }
        assert!(started.elapsed() < Duration::from_secs(10), "the held request never filled the bound");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(refused.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("1"));
    assert_eq!(code_of(refused).await, ErrorCode::Overloaded);
    held.abort();
    let started = Instant::now();
    while bob.me().await.is_err() {
        assert!(started.elapsed() < Duration::from_secs(10), "the aborted request's permit is still held");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stack.stop().await;
}
