//! Avatars from the terminal: an admin sets a webhook's avatar from a file (the API then
//! serves those very bytes) and removes it (then it is gone), a member is refused and
//! nothing changes, a file that is missing or not an image is refused before anything is
//! sent; and one's own avatar the same way.

use std::path::{Path, PathBuf};

use ajet_shared::api::ErrorCode;
use ajet_shared::api::wire::CreateWebhookRequest;
use ajet_shared::client::{ApiClient, ClientError};
use ajet_shared::domain::ids::{UserId, WebhookId};

use crate::cli::{Cli, acme};
use crate::stack::Stack;

/// A PNG signature and header chunk saying 3×2 pixels.
fn png() -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    png.extend_from_slice(&3u32.to_be_bytes());
    png.extend_from_slice(&2u32.to_be_bytes());
    png.extend_from_slice(b"\x08\x06\0\0\0\x12\x34\x56\x78");
    png
}

/// A GIF header of a 1×1 image.
const GIF: &[u8] =
    b"GIF89a\x01\0\x01\0\x80\0\0\xff\xff\xff\0\0\0!\xf9\x04\0\0\0\0\0,\0\0\0\0\x01\0\x01\0\0\x02\x02D\x01\0;";

/// Writes `bytes` as `name` in the CLI's directory; answers its path.
fn file(cli: &Cli, name: &str, bytes: &[u8]) -> PathBuf {
    let path = cli.dir.join(name);
    std::fs::write(&path, bytes).expect("file written");
    path
}

fn arg(path: &Path) -> &str {
    path.to_str().expect("UTF-8")
}

/// The content type and bytes `client` is served for the answer `download` gives, or the
/// refusal's code.
async fn served(download: Result<reqwest::Response, ClientError>) -> Result<(String, Vec<u8>), ErrorCode> {
    match download {
        Ok(response) => {
            let content_type = response
                .headers()
                .get("content-type")
                .and_then(|value| value.to_str().ok())
                .expect("a content type")
                .to_owned();
            Ok((content_type, response.bytes().await.expect("the body").to_vec()))
        }
        Err(ClientError::Api { body, .. }) => Err(body.error.code),
        Err(err) => panic!("the avatar answers: {err}"),
    }
}

async fn webhook_avatar(client: &ApiClient, webhook: WebhookId) -> Result<(String, Vec<u8>), ErrorCode> {
    served(client.download_webhook_avatar(webhook).await).await
}

async fn user_avatar(client: &ApiClient, user: UserId) -> Result<(String, Vec<u8>), ErrorCode> {
    served(client.download_avatar(user).await).await
}

#[tokio::test]
async fn an_admin_sets_and_removes_a_webhooks_avatar_and_a_member_cannot() {
    let stack = Stack::start().await;
    let acme = acme(&stack).await;
    let request = CreateWebhookRequest { channel_id: acme.dev.id, name: "CI".into(), avatar_url: None };
    let webhook = acme.alice.create_webhook(&request).await.expect("created").info;
    let id = webhook.id.to_string();
    let alice = Cli::signed_in(&stack, &acme.alice).await;
    let bob = Cli::signed_in(&stack, &acme.bob).await;
    let png_path = file(&alice, "ci.png", &png());

    let set = alice.run(&["webhook", "avatar", &id, arg(&png_path)]).await.ok();
    assert_eq!(set.stdout, format!("webhook CI ({id}): avatar set\n"), "{set:?}");
    assert_eq!(
        webhook_avatar(&acme.bob, webhook.id).await,
        Ok(("image/png".to_owned(), png())),
        "a member of the community is served the very image"
    );
    let listed = acme.alice.list_webhooks(acme.community.id).await.expect("listed").data;
    let url = listed[0].avatar_url.clone().expect("the webhook has an avatar");
    assert!(url.contains(&format!("/api/webhooks/{id}/avatar")), "{url}");

    // A member is refused, whether setting or removing, and the image stays.
    let bob_gif = file(&bob, "bob.gif", GIF);
    bob.run(&["webhook", "avatar", &id, arg(&bob_gif)]).await.fails(3, ErrorCode::AdminOnly.as_str());
    bob.run(&["webhook", "avatar", &id, "--remove"]).await.fails(3, ErrorCode::AdminOnly.as_str());
    assert_eq!(webhook_avatar(&acme.alice, webhook.id).await, Ok(("image/png".to_owned(), png())));

    // What is not an image, or not there, is refused before anything is sent.
    let notes = file(&alice, "notes.txt", b"release notes\n");
    alice
        .run(&["webhook", "avatar", &id, arg(&notes)])
        .await
        .fails(2, &format!("{} is not a PNG, JPEG, GIF or WebP image", notes.display()));
    let svg = file(&alice, "logo.png", b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>");
    alice.run(&["webhook", "avatar", &id, arg(&svg)]).await.fails(2, "is not a PNG, JPEG, GIF or WebP image");
    alice.run(&["webhook", "avatar", &id, "/no/such/file.png"]).await.fails(1, "cannot read /no/such/file.png");
    alice.run(&["webhook", "avatar", &id, arg(&alice.dir)]).await.fails(2, "is not a file");
    let big = file(&alice, "big.png", &[png(), vec![0; 1024 * 1024]].concat());
    alice
        .run(&["webhook", "avatar", &id, arg(&big)])
        .await
        .fails(2, &format!("is {} bytes; an avatar is at most 1 MiB", 1024 * 1024 + png().len()));
    assert_eq!(webhook_avatar(&acme.alice, webhook.id).await, Ok(("image/png".to_owned(), png())), "unchanged");

    // Exactly one of a file and --remove; a webhook that is not there is the API's refusal.
    alice.run(&["webhook", "avatar", &id]).await.fails(2, "required arguments were not provided:\n  <FILE|--remove>");
    alice
        .run(&["webhook", "avatar", &id, arg(&png_path), "--remove"])
        .await
        .fails(2, "the argument '[FILE]' cannot be used with '--remove'");
    alice.run(&["webhook", "avatar", "nope", arg(&png_path)]).await.fails(2, "webhook: \"nope\" is not an id");
    let unknown = WebhookId::generate().to_string();
    alice.run(&["webhook", "avatar", &unknown, arg(&png_path)]).await.fails(4, ErrorCode::WebhookNotFound.as_str());

    // Another image replaces it; --json prints the API's webhook.
    let gif = file(&alice, "ci.gif", GIF);
    let json = alice.run(&["webhook", "avatar", &id, arg(&gif), "--json"]).await.ok().json();
    assert_eq!(json["id"], id.as_str(), "{json}");
    assert_eq!(json["name"], "CI", "{json}");
    assert!(
        json["avatar_url"].as_str().is_some_and(|url| url.contains(&format!("/api/webhooks/{id}/avatar"))),
        "{json}"
    );
    assert_eq!(webhook_avatar(&acme.bob, webhook.id).await, Ok(("image/gif".to_owned(), GIF.to_vec())));

    let removed = alice.run(&["webhook", "avatar", &id, "--remove"]).await.ok();
    assert_eq!(removed.stdout, format!("webhook CI ({id}): avatar removed\n"), "{removed:?}");
    assert_eq!(webhook_avatar(&acme.bob, webhook.id).await, Err(ErrorCode::AvatarNotFound), "gone");
    let listed = acme.alice.list_webhooks(acme.community.id).await.expect("listed").data;
    assert_eq!(listed[0].avatar_url, None);
    let json = alice.run(&["webhook", "avatar", &id, "--remove", "--json"]).await.ok().json();
    assert_eq!(json["avatar_url"], serde_json::Value::Null, "removing again is no error: {json}");
    stack.stop().await;
}

#[tokio::test]
async fn i_set_and_remove_my_own_avatar_from_a_file() {
    let stack = Stack::start().await;
    let acme = acme(&stack).await;
    let alice_id = acme.alice.me().await.expect("alice").user.id;
    let alice = Cli::signed_in(&stack, &acme.alice).await;
    let png_path = file(&alice, "me.png", &png());

    let set = alice.run(&["avatar", arg(&png_path)]).await.ok();
    assert_eq!(set.stdout, "@alice: avatar set\n", "{set:?}");
    assert_eq!(user_avatar(&acme.bob, alice_id).await, Ok(("image/png".to_owned(), png())));

    let notes = file(&alice, "notes.txt", b"not a picture\n");
    alice.run(&["avatar", arg(&notes)]).await.fails(2, "is not a PNG, JPEG, GIF or WebP image");
    assert_eq!(user_avatar(&acme.bob, alice_id).await, Ok(("image/png".to_owned(), png())), "unchanged");

    let json = alice.run(&["avatar", "--remove", "--json"]).await.ok().json();
    assert_eq!(json["id"], alice_id.to_string().as_str(), "{json}");
    assert_eq!(json["avatar_url"], serde_json::Value::Null, "{json}");
    assert_eq!(user_avatar(&acme.bob, alice_id).await, Err(ErrorCode::AvatarNotFound), "gone");
    stack.stop().await;
}
