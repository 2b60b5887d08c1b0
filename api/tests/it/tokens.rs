//! API tokens: scoped, shown once, listed without secrets, last use recorded, revocable,
//! expiring, audited.

use ajet_shared::api::wire::{CreateCommunityRequest, CreateTokenRequest};
use ajet_shared::api::{ErrorCode, paths};
use reqwest::{Method, StatusCode};

use crate::harness::Api;

fn token_request(name: &str, scopes: &[&str], expires_in_days: Option<u32>) -> CreateTokenRequest {
    CreateTokenRequest { name: name.into(), scopes: scopes.iter().map(|&s| s.into()).collect(), expires_in_days }
}

#[tokio::test]
async fn tokens_are_scoped_listed_revocable_and_expire() {
    let api = Api::start().await;
    let alice = api.user("alice").await;

    let reader = alice.create_token(&token_request("reader", &["read"], None)).await.expect("created");
    assert!(reader.token.starts_with("ajt_"));
    assert_eq!((reader.info.name.as_str(), reader.info.scopes.as_slice()), ("reader", ["read".to_owned()].as_slice()));
    let reader_client = api.client.with_token(&reader.token);
    assert_eq!(reader_client.me().await.expect("reads").user.username, "alice");
    let err = reader_client
        .create_community(&CreateCommunityRequest { name: "X".into(), slug: "xx".into(), description: None })
        .await
        .expect_err("cannot write");
    assert_eq!((err.status(), err.code()), (Some(StatusCode::FORBIDDEN), Some(ErrorCode::InsufficientScope)));
    let escalate =
        reader_client.create_token(&token_request("more", &["write"], None)).await.expect_err("no admin scope");
    assert_eq!(escalate.status(), Some(StatusCode::FORBIDDEN), "a token cannot mint tokens without admin");

    for (request, status) in [
        (token_request("reader", &["read"], None), StatusCode::CONFLICT),
        (token_request("bad", &["root"], None), StatusCode::BAD_REQUEST),
        (token_request("none", &[], None), StatusCode::BAD_REQUEST),
        (token_request(" ", &["read"], None), StatusCode::BAD_REQUEST),
    ] {
        let err = alice.create_token(&request).await.expect_err("refused");
        assert_eq!(err.status(), Some(status), "{request:?}");
    }

    let listed = alice.list_tokens().await.expect("list");
    assert_eq!(listed.data.len(), 1);
    assert_eq!(listed.data[0].id, reader.info.id);
    assert!(listed.data[0].last_used_at.is_some(), "the use was recorded");
    // The raw answer, as any client would see it.
    let raw: serde_json::Value =
        alice.request(Method::GET, paths::TOKENS).send().await.expect("list").json().await.expect("json");
    assert!(raw["data"][0].get("token").is_none(), "secrets are shown only once");

    alice.revoke_token(reader.info.id).await.expect("revoked");
    let err = reader_client.me().await.expect_err("revoked");
    assert_eq!((err.status(), err.code()), (Some(StatusCode::UNAUTHORIZED), Some(ErrorCode::TokenRevoked)));
    let again = alice.revoke_token(reader.info.id).await.expect_err("already revoked");
    assert_eq!(again.status(), Some(StatusCode::NOT_FOUND));

    let expiring = alice.create_token(&token_request("short", &["read"], Some(1))).await.expect("created");
    assert!(expiring.info.expires_at.is_some(), "it expires");
    sqlx::query("UPDATE api_tokens SET created_at = now() - interval '2 days', expires_at = now() - interval '1 day' WHERE id = $1")
        .bind(expiring.info.id)
        .execute(&api.db.pool)
        .await
        .expect("age the token");
    let err = api.client.with_token(&expiring.token).me().await.expect_err("expired");
    assert_eq!((err.status(), err.code()), (Some(StatusCode::UNAUTHORIZED), Some(ErrorCode::TokenExpired)));

    let audited: Vec<String> =
        sqlx::query_scalar("SELECT action FROM audit_log WHERE target_type = 'api_token' ORDER BY id")
            .fetch_all(&api.db.pool)
            .await
            .expect("audit");
    assert_eq!(audited, ["token.create", "token.revoke", "token.create"]);
}
