//! API tokens: scoped, shown once, listed without secrets, last use recorded, revocable,
//! expiring, audited.

use ajet_shared::api::ErrorCode;
use ajet_shared::api::wire::{ApiToken, CreateCommunityRequest, CreatedToken, Page};
use reqwest::{Method, StatusCode};

use crate::harness::Api;

#[tokio::test]
async fn tokens_are_scoped_listed_revocable_and_expire() {
    let api = Api::start().await;
    let alice = api.user("alice").await;
    let create = |client: &ajet_shared::client::ApiClient, body: serde_json::Value| {
        let request = client.request(Method::POST, "/api/tokens").json(&body);
        async move { request.send().await.expect("answers") }
    };

    let response = create(&alice, serde_json::json!({"name": "reader", "scopes": ["read"]})).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let reader: CreatedToken = response.json().await.expect("json");
    assert!(reader.token.starts_with("ajt_"));
    let reader_client = api.client.with_token(&reader.token);
    assert_eq!(reader_client.me().await.expect("reads").user.username, "alice");
    let err = reader_client
        .create_community(&CreateCommunityRequest { name: "X".into(), slug: "xx".into(), description: None })
        .await
        .expect_err("cannot write");
    assert_eq!((err.status(), err.code()), (Some(StatusCode::FORBIDDEN), Some(ErrorCode::InsufficientScope)));
    let escalate = create(&reader_client, serde_json::json!({"name": "more", "scopes": ["write"]})).await;
    assert_eq!(escalate.status(), StatusCode::FORBIDDEN, "a token cannot mint tokens without admin");

    for (body, status) in [
        (serde_json::json!({"name": "reader", "scopes": ["read"]}), StatusCode::CONFLICT),
        (serde_json::json!({"name": "bad", "scopes": ["root"]}), StatusCode::BAD_REQUEST),
        (serde_json::json!({"name": "none", "scopes": []}), StatusCode::BAD_REQUEST),
        (serde_json::json!({"name": " ", "scopes": ["read"]}), StatusCode::BAD_REQUEST),
    ] {
        assert_eq!(create(&alice, body.clone()).await.status(), status, "{body}");
    }

    let listed: Page<ApiToken> =
        alice.request(Method::GET, "/api/tokens").send().await.expect("list").json().await.expect("json");
    assert_eq!(listed.data.len(), 1);
    assert_eq!(listed.data[0].id, reader.info.id);
    assert!(listed.data[0].last_used_at.is_some(), "the use was recorded");
    let raw: serde_json::Value =
        alice.request(Method::GET, "/api/tokens").send().await.expect("list").json().await.expect("json");
    assert!(raw["data"][0].get("token").is_none(), "secrets are shown only once");

    let revoked =
        alice.request(Method::DELETE, &format!("/api/tokens/{}", reader.info.id)).send().await.expect("revoke");
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    let err = reader_client.me().await.expect_err("revoked");
    assert_eq!((err.status(), err.code()), (Some(StatusCode::UNAUTHORIZED), Some(ErrorCode::TokenRevoked)));
    let again = alice.request(Method::DELETE, &format!("/api/tokens/{}", reader.info.id)).send().await.expect("revoke");
    assert_eq!(again.status(), StatusCode::NOT_FOUND);

    let expiring: CreatedToken =
        create(&alice, serde_json::json!({"name": "short", "scopes": ["read"], "expires_in_days": 1}))
            .await
            .json()
            .await
            .expect("json");
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
