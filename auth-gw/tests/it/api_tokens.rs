//! API tokens through the gateway: a scoped token is judged the same by the gateway, the
//! api and tui-sm; a wrong scope, an expired or a revoked token is refused with its reason.

use ajet_shared::api::ErrorCode;
use std::time::{Duration, Instant};

use ajet_shared::api::wire::{CreateCommunityRequest, CreateTokenRequest, CreatedToken};
use ajet_shared::client::ApiClient;
use reqwest::StatusCode;

use crate::stack::Stack;

async fn create_token(client: &ApiClient, name: &str, scopes: &[&str]) -> CreatedToken {
    let request = CreateTokenRequest {
        name: name.into(),
        scopes: scopes.iter().map(|&s| s.into()).collect(),
        expires_in_days: None,
    };
    client.create_token(&request).await.expect("created")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_tokens_work_everywhere_within_their_scope_until_revoked_or_expired() {
    let stack = Stack::start().await;
    let alice = stack.login("alice").await;
    let reader = create_token(&alice, "reader", &["read"]).await;
    let bot = stack.gateway.with_token(&reader.token);
    let direct = ApiClient::new(stack.config.api_url.clone()).expect("client").with_token(&reader.token);

    assert_eq!(bot.me().await.expect("through the gateway").user.username, "alice");
    assert_eq!(direct.me().await.expect("straight to the api").user.username, "alice");
    let stream = bot.tui_events(None).await.expect("tui-sm accepts it too");
    drop(stream);
    for client in [&bot, &direct] {
        let err = client
            .create_community(&CreateCommunityRequest { name: "X".into(), slug: "xx".into(), description: None })
            .await
            .expect_err("read-only");
        assert_eq!((err.status(), err.code()), (Some(StatusCode::FORBIDDEN), Some(ErrorCode::InsufficientScope)));
    }

    let expiring = create_token(&alice, "expiring", &["read", "write"]).await;
    sqlx::query("UPDATE api_tokens SET created_at = now() - interval '2 days', expires_at = now() - interval '1 day' WHERE id = $1")
        .bind(expiring.info.id)
        .execute(&stack.db.pool)
        .await
        .expect("age it");
    let err = stack.gateway.with_token(&expiring.token).me().await.expect_err("expired");
    assert_eq!((err.status(), err.code()), (Some(StatusCode::UNAUTHORIZED), Some(ErrorCode::TokenExpired)));

    alice.revoke_token(reader.info.id).await.expect("revoked");
    let started = Instant::now();
    loop {
        match bot.me().await {
            Err(err) if err.status() == Some(StatusCode::UNAUTHORIZED) => {
                assert_eq!(err.code(), Some(ErrorCode::TokenRevoked));
                break;
            }
            _ => assert!(started.elapsed() < Duration::from_secs(5), "a revoked token still works after 5 s"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stack.stop().await;
}
