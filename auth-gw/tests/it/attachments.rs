//! Attachments through the gateway: an upload comes back byte for byte with the type read
//! from its bytes (and an image's size from its header), a file over `attachment_max_bytes`
//! is refused with 413, a muted member may not upload, markup is never served inline whatever its name claims, and a
//! caller who may not read the channel now gets the same 404 as for a file that never was.

use ajet_shared::api::ErrorCode;
use ajet_shared::api::wire::{ChannelKind, CreateChannelRequest, CreateMessageRequest, CreateMuteRequest};
use ajet_shared::client::{ApiClient, ClientError};
use ajet_shared::domain::ids::AttachmentId;
use reqwest::StatusCode;

use crate::skeleton::two_users;
use crate::stack::Stack;

/// A PNG signature and header chunk saying 3×2 pixels (enough for the size to be read).
fn png_3x2() -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    png.extend_from_slice(&3u32.to_be_bytes());
    png.extend_from_slice(&2u32.to_be_bytes());
    png.extend_from_slice(b"\x08\x06\0\0\0\x12\x34\x56\x78");
    png
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response.headers().get(name).unwrap_or_else(|| panic!("no {name}")).to_str().expect("ascii").to_owned()
}

/// Downloads `id` as `client`, checking the headers every download carries; answers the
/// response's `Content-Disposition` and body.
async fn download(client: &ApiClient, id: AttachmentId) -> (String, String, Vec<u8>) {
    let response = client.download_attachment(id).await.expect("downloads");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "x-content-type-options"), "nosniff");
    assert_eq!(header(&response, "content-security-policy"), "default-src 'none'; sandbox");
    let (content_type, disposition) = (header(&response, "content-type"), header(&response, "content-disposition"));
    (content_type, disposition, response.bytes().await.expect("body").to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_comes_back_byte_for_byte_with_the_type_its_bytes_show() {
    let stack = Stack::start().await;
    let (alice, bob, dev) = two_users(&stack).await;

    let png = png_3x2();
    let image = bob.upload_attachment(dev.id, "dir/../pic.bin", &png).await.expect("uploaded");
    assert_eq!(image.filename, "pic.bin");
    assert_eq!(image.content_type, "image/png");
    assert_eq!(
        (image.size_bytes, image.width, image.height),
        (i64::try_from(png.len()).expect("small"), Some(3), Some(2))
    );
    assert_eq!(image.channel_id, dev.id);
    let (content_type, disposition, body) = download(&alice, image.id).await;
    assert_eq!(content_type, "image/png");
    assert!(disposition.starts_with("inline;"), "{disposition}");
    assert_eq!(body, png);

    // Larger than one 5 MiB part: stored as a multipart upload, read back whole.
    let big: Vec<u8> = (0..6 * 1024 * 1024 + 17).map(|i: u32| (i % 251) as u8).collect();
    let file = bob.upload_attachment(dev.id, "data \"v2\".bin", &big).await.expect("uploaded");
    assert_eq!(file.content_type, "application/octet-stream");
    assert_eq!(file.size_bytes, i64::try_from(big.len()).expect("fits"));
    assert_eq!((file.width, file.height), (None, None));
    let (content_type, disposition, body) = download(&alice, file.id).await;
    assert_eq!(content_type, "application/octet-stream");
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(body == big, "the 6 MiB download differs from the upload");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_over_the_limit_is_refused_with_413_and_one_at_it_is_kept() {
    let stack = Stack::start_with(|config| config.attachment_max_bytes = 1024).await;
    let (alice, bob, dev) = two_users(&stack).await;
    let err = bob.upload_attachment(dev.id, "big.txt", &[b'a'; 1025]).await.expect_err("too large");
    assert_eq!(err.status(), Some(StatusCode::PAYLOAD_TOO_LARGE));
    assert_eq!(err.code(), Some(ErrorCode::AttachmentTooLarge));
    assert!(err.message().is_some_and(|message| message.contains("1024")), "{err:?}");

    let kept = bob.upload_attachment(dev.id, "fits.txt", &[b'a'; 1024]).await.expect("at the limit");
    assert_eq!(kept.content_type, "text/plain");
    assert_eq!(download(&alice, kept.id).await.2, vec![b'a'; 1024]);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_lets_an_upload_up_to_the_attachment_limit_through_and_nothing_else() {
    let stack = Stack::start_with(|config| {
        config.max_body_bytes = 1024;
        config.attachment_max_bytes = 4096;
    })
    .await;
    let (alice, bob, dev) = two_users(&stack).await;
    let bytes = [b'z'; 3000];
    let file = bob.upload_attachment(dev.id, "over-the-body-limit.txt", &bytes).await.expect("uploaded");
    assert_eq!(download(&alice, file.id).await.2, bytes);
    let err = bob.upload_attachment(dev.id, "huge.txt", &[b'z'; 4097]).await.expect_err("over the attachment limit");
    assert_eq!(err.code(), Some(ErrorCode::AttachmentTooLarge));
    // Any other body keeps the gateway's own limit.
    let long = CreateMessageRequest { body_md: "x".repeat(2000), parent_id: None, client_msg_id: None };
    let err = bob.send_message(dev.id, &long).await.expect_err("over max_body_bytes");
    assert_eq!(err.code(), Some(ErrorCode::PayloadTooLarge));
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_muted_member_may_not_upload_until_the_mute_is_lifted() {
    let stack = Stack::start().await;
    let (alice, bob, dev) = two_users(&stack).await;
    let community = dev.community_id.expect("a community channel");
    let bob_id = bob.me().await.expect("me").user.id;
    alice
        .mute(community, &CreateMuteRequest { user_id: bob_id, duration_secs: None, reason: None })
        .await
        .expect("muted");
    let err = bob.upload_attachment(dev.id, "a.txt", b"a").await.expect_err("muted");
    assert_eq!((err.status(), err.code()), (Some(StatusCode::FORBIDDEN), Some(ErrorCode::Muted)));
    alice.unmute(community, bob_id).await.expect("unmuted");
    let file = bob.upload_attachment(dev.id, "a.txt", b"a").await.expect("may upload again");
    assert_eq!(download(&alice, file.id).await.2, b"a");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_named_png_and_svg_are_served_as_attachments_never_inline() {
    let stack = Stack::start().await;
    let (alice, bob, dev) = two_users(&stack).await;
    let html = b"<!DOCTYPE html><script>alert(document.cookie)</script>";
    let svg = b"<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>";
    for (name, bytes, sniffed) in [("cat.png", &html[..], "text/html"), ("logo.svg", &svg[..], "image/svg+xml")] {
        let uploaded = bob.upload_attachment(dev.id, name, bytes).await.expect("uploaded");
        assert_eq!(uploaded.content_type, sniffed, "{name}: the type comes from the bytes");
        assert_eq!((uploaded.width, uploaded.height), (None, None));
        let (content_type, disposition, body) = download(&alice, uploaded.id).await;
        assert_eq!(content_type, sniffed);
        assert!(disposition.starts_with("attachment;"), "{name}: {disposition}");
        assert!(disposition.contains(name), "{name}: {disposition}");
        assert_eq!(body, bytes);
    }
    stack.stop().await;
}

/// The status and body of a refused download.
async fn refusal(result: Result<reqwest::Response, ClientError>) -> (Option<StatusCode>, Option<ErrorCode>, String) {
    let err = result.expect_err("refused");
    (err.status(), err.code(), err.message().unwrap_or_default().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outsiders_and_removed_members_get_the_404_of_a_file_that_never_was() {
    let stack = Stack::start().await;
    let (alice, bob, _) = two_users(&stack).await;
    let carol = stack.login("carol").await;
    let community = alice.list_communities().await.expect("communities").data[0].id;
    let secret = alice
        .create_channel(
            community,
            &CreateChannelRequest { name: "secret".into(), topic: None, kind: Some(ChannelKind::Private) },
        )
        .await
        .expect("private channel");
    let bob_id = bob.me().await.expect("me").user.id;
    alice.add_channel_member(secret.id, bob_id).await.expect("bob added");
    let file = bob.upload_attachment(secret.id, "plan.txt", b"the plan").await.expect("uploaded");
    assert_eq!(download(&alice, file.id).await.2, b"the plan");

    let missing = refusal(carol.download_attachment(AttachmentId::generate()).await).await;
    assert_eq!((missing.0, missing.1), (Some(StatusCode::NOT_FOUND), Some(ErrorCode::AttachmentNotFound)));
    assert_eq!(refusal(carol.download_attachment(file.id).await).await, missing, "an outsider");
    let err = carol.upload_attachment(secret.id, "x.txt", b"x").await.expect_err("an outsider may not upload");
    assert_eq!(err.code(), Some(ErrorCode::ChannelNotFound));

    alice.remove_channel_member(secret.id, bob_id).await.expect("bob removed");
    assert_eq!(refusal(bob.download_attachment(file.id).await).await, missing, "a removed member, at once");
    let err = bob.upload_attachment(secret.id, "y.txt", b"y").await.expect_err("nor upload");
    assert_eq!(err.code(), Some(ErrorCode::ChannelNotFound));
    stack.stop().await;
}
