//! Attachments through the gateway: an upload comes back byte for byte with the type read
//! from its bytes (and an image's size from its header), a file over `attachment_max_bytes`
//! or the uploader's quota is refused with 413, a muted member may not upload, markup is
//! never served inline whatever its name claims, and a caller who may not read the
//! channel now gets the same 404 as for a file that never was. A message carries its
//! uploads (in its answer, history, threads, search, sync and on the stream), each at most
//! once and only its author's own; deleting it deletes the objects from the bucket, and
//! an upload no message took is deleted after `attachment_unattached_secs`.

use std::time::Duration;

use ajet_api::storage::Storage;
use ajet_shared::api::ErrorCode;
use ajet_shared::api::wire::{
    Attachment, AuditQuery, Channel, ChannelKind, CreateChannelRequest, CreateMessageRequest, CreateMuteRequest,
    CreateWebhookRequest, HistoryQuery, Message, SearchQuery,
};
use ajet_shared::client::{ApiClient, ClientError};
use ajet_shared::domain::ids::{AttachmentId, MessageId};
use ajet_shared::events::{Event, EventPayload};
use futures::StreamExt as _;
use reqwest::StatusCode;
use tokio::time::Instant;

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
    let long = CreateMessageRequest {
        body_md: "x".repeat(2000),
        parent_id: None,
        client_msg_id: None,
        attachment_ids: Vec::new(),
    };
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

fn with_files(body: &str, parent_id: Option<MessageId>, attachment_ids: Vec<AttachmentId>) -> CreateMessageRequest {
    CreateMessageRequest { body_md: body.into(), parent_id, client_msg_id: None, attachment_ids }
}

/// The object key of `file` (uploaded under `filename`, a plain ASCII name) in `channel`.
fn object_key(channel: &Channel, file: &Attachment, filename: &str) -> String {
    let scope = channel.community_id.map_or_else(|| "dm".to_owned(), |community| community.to_string());
    format!("{scope}/{}/{}/{filename}", channel.id, file.id)
}

/// Polls the bucket until `key` is gone (the sweeper runs after the commit).
async fn wait_gone(storage: &Storage, key: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while storage.exists(key).await.expect("the bucket answers") {
        assert!(Instant::now() < deadline, "{key} still in the bucket after 10 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_lists_its_files_in_its_answer_history_thread_search_sync_and_on_the_stream() {
    let stack = Stack::start().await;
    let (alice, bob, dev) = two_users(&stack).await;
    let cursor = alice.sync(None).await.expect("a sync cursor").cursor;
    let mut stream = alice.tui_events(None).await.expect("stream opens");
    let png = png_3x2();
    let image = bob.upload_attachment(dev.id, "pic.png", &png).await.expect("uploaded");
    let notes = bob.upload_attachment(dev.id, "notes.txt", b"some notes").await.expect("uploaded");
    assert!(!image.has_thumbnail && !notes.has_thumbnail);

    let sent =
        bob.send_message(dev.id, &with_files("zebrafiles here", None, vec![notes.id, image.id])).await.expect("sent");
    let expected = vec![image.clone(), notes.clone()];
    assert_eq!(sent.attachments, expected, "in upload order, as the upload answered them");
    let history = alice.history(dev.id, &HistoryQuery::default()).await.expect("history");
    let listed = history.data.iter().find(|m| m.id == sent.id).expect("in history");
    assert_eq!(listed.attachments, expected);
    assert_eq!(alice.get_message(sent.id).await.expect("the message").attachments, expected);

    let deadline = Instant::now() + Duration::from_secs(5);
    let created = loop {
        let event = tokio::time::timeout_at(deadline, stream.next())
            .await
            .expect("the message arrives within 5 s")
            .expect("the stream stays open")
            .expect("a well-formed event");
        if event.event != "message.created" {
            continue;
        }
        let envelope: Event = serde_json::from_str(&event.data).expect("an envelope");
        let EventPayload::MessageCreated(message) = envelope.payload else { panic!("type and payload disagree") };
        if message.id == sent.id {
            break message;
        }
    };
    assert_eq!(created.attachments, expected, "the stream carries the same listing");

    // A thread reply carries its own files.
    let reply_file = alice.upload_attachment(dev.id, "reply.txt", b"reply").await.expect("uploaded");
    let reply =
        alice.send_message(dev.id, &with_files("answer", Some(sent.id), vec![reply_file.id])).await.expect("reply");
    let replies = bob.list_replies(sent.id, &HistoryQuery::default()).await.expect("replies");
    assert_eq!(replies.data.iter().find(|m| m.id == reply.id).expect("listed").attachments, vec![reply_file]);

    let hits = alice.search(&SearchQuery { q: "zebrafiles".into(), ..SearchQuery::default() }).await.expect("search");
    assert_eq!(hits.data.len(), 1);
    assert_eq!(hits.data[0].message.attachments, expected);

    let changed = alice.sync(Some(&cursor)).await.expect("sync");
    let synced: Vec<&Message> = changed.messages.iter().flat_map(|c| &c.messages).filter(|m| m.id == sent.id).collect();
    assert_eq!(synced.len(), 1);
    assert_eq!(synced[0].attachments, expected);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_goes_on_one_message_only_and_only_on_its_uploaders_in_its_channel() {
    let stack = Stack::start().await;
    let (alice, bob, dev) = two_users(&stack).await;
    let community = dev.community_id.expect("a community channel");
    let other = alice
        .create_channel(community, &CreateChannelRequest { name: "other".into(), topic: None, kind: None })
        .await
        .expect("channel");
    bob.join_channel(other.id).await.expect("joined");
    let file = bob.upload_attachment(dev.id, "a.txt", b"a").await.expect("uploaded");

    let err = alice.send_message(dev.id, &with_files("mine now", None, vec![file.id])).await.expect_err("not hers");
    assert_eq!((err.status(), err.code()), (Some(StatusCode::BAD_REQUEST), Some(ErrorCode::InvalidAttachment)));
    assert!(err.message().is_some_and(|m| m.contains(&file.id.to_string())), "{err:?}");
    let err =
        bob.send_message(other.id, &with_files("elsewhere", None, vec![file.id])).await.expect_err("another channel");
    assert_eq!(err.code(), Some(ErrorCode::InvalidAttachment));
    let err = bob
        .send_message(dev.id, &with_files("made up", None, vec![AttachmentId::generate()]))
        .await
        .expect_err("no such upload");
    assert_eq!(err.code(), Some(ErrorCode::InvalidAttachment));
    let err = bob.send_message(dev.id, &with_files("twice", None, vec![file.id, file.id])).await.expect_err("twice");
    assert_eq!(err.code(), Some(ErrorCode::InvalidAttachment));
    let eleven: Vec<AttachmentId> = (0..11).map(|_| AttachmentId::generate()).collect();
    let err = bob.send_message(dev.id, &with_files("many", None, eleven)).await.expect_err("over 10");
    assert!(
        err.code() == Some(ErrorCode::InvalidAttachment) && err.message().is_some_and(|m| m.contains("at most 10")),
        "{err:?}"
    );

    let first = bob.send_message(dev.id, &with_files("first", None, vec![file.id])).await.expect("sent");
    assert_eq!(first.attachments.len(), 1);
    let err = bob.send_message(dev.id, &with_files("second", None, vec![file.id])).await.expect_err("already used");
    assert_eq!((err.status(), err.code()), (Some(StatusCode::CONFLICT), Some(ErrorCode::AttachmentInUse)));

    // Every refused post wrote nothing.
    let history = alice.history(dev.id, &HistoryQuery::default()).await.expect("history");
    let bodies: Vec<&str> = history.data.iter().map(|m| m.body_md.as_str()).collect();
    assert_eq!(bodies, ["first"]);

    // In a DM the same: the file goes on the message, and the other side reads it.
    let alice_id = alice.me().await.expect("me").user.id;
    let dm = bob.open_dm(&[alice_id]).await.expect("a DM");
    let secret = bob.upload_attachment(dm.id, "dm.txt", b"between us").await.expect("uploaded into the DM");
    let err = bob.send_message(dev.id, &with_files("wrong place", None, vec![secret.id])).await.expect_err("channel");
    assert_eq!(err.code(), Some(ErrorCode::InvalidAttachment));
    let sent = bob.send_message(dm.id, &with_files("for you", None, vec![secret.id])).await.expect("sent");
    assert_eq!(sent.attachments, vec![secret.clone()]);
    let seen = alice.history(dm.id, &HistoryQuery::default()).await.expect("DM history").data;
    assert_eq!(seen[0].attachments, vec![secret.clone()]);
    assert_eq!(download(&alice, secret.id).await.2, b"between us");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_message_deletes_its_files_from_the_bucket() {
    let stack = Stack::start().await;
    let (alice, bob, dev) = two_users(&stack).await;
    let storage = Storage::new(&stack.config);
    let file = bob.upload_attachment(dev.id, "gone.txt", b"soon gone").await.expect("uploaded");
    let key = object_key(&dev, &file, "gone.txt");
    assert!(storage.exists(&key).await.expect("the bucket answers"), "the object is where the key says");
    let sent = bob.send_message(dev.id, &with_files("with a file", None, vec![file.id])).await.expect("sent");
    assert_eq!(download(&alice, file.id).await.2, b"soon gone");

    // An admin deletes it: the file is gone for readers at once, from the bucket soon after.
    alice.delete_message(sent.id).await.expect("deleted");
    let (status, code, _) = refusal(alice.download_attachment(file.id).await).await;
    assert_eq!((status, code), (Some(StatusCode::NOT_FOUND), Some(ErrorCode::AttachmentNotFound)));
    assert!(alice.get_message(sent.id).await.expect("the tombstone").attachments.is_empty());
    wait_gone(&storage, &key).await;
    let (status, _, _) = refusal(bob.download_attachment(file.id).await).await;
    assert_eq!(status, Some(StatusCode::NOT_FOUND));
    stack.stop().await;
}

/// A sweep deletes a file's object just before its row: a reader who comes in between
/// (the row still there, the object gone) gets the 404 of a missing file, not a 500. The
/// object is deleted here by hand, as the sweep's first half would.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_whose_object_is_already_gone_is_a_404_not_a_server_error() {
    let stack = Stack::start().await;
    let (alice, bob, dev) = two_users(&stack).await;
    let storage = Storage::new(&stack.config);
    let png = real_png(600, 300);
    let file = bob.upload_attachment(dev.id, "gone.png", &png).await.expect("uploaded");
    bob.send_message(dev.id, &with_files("soon gone", None, vec![file.id])).await.expect("sent");
    assert_eq!(download(&alice, file.id).await.2, png);
    let key = object_key(&dev, &file, "gone.png");
    let thumbnail: Option<String> = sqlx::query_scalar("SELECT thumbnail_key FROM attachments WHERE id = $1")
        .bind(file.id)
        .fetch_one(&stack.db.pool)
        .await
        .expect("the row");
    let thumbnail = thumbnail.expect("a PNG has a thumbnail");
    storage.delete(&[key, thumbnail]).await.expect("the objects deleted");
    for (what, answer, expected) in [
        ("download", alice.download_attachment(file.id).await, ErrorCode::AttachmentNotFound),
        ("thumbnail", alice.download_thumbnail(file.id).await, ErrorCode::ThumbnailNotFound),
    ] {
        let (status, code, _) = refusal(answer).await;
        assert_eq!((status, code), (Some(StatusCode::NOT_FOUND), Some(expected)), "{what}");
    }
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_no_message_took_is_deleted_once_older_than_the_configured_age() {
    let stack = Stack::start_with(|config| config.attachment_sweep_secs = 1).await;
    let (alice, bob, dev) = two_users(&stack).await;
    let storage = Storage::new(&stack.config);
    let orphan = bob.upload_attachment(dev.id, "orphan.txt", b"nobody").await.expect("uploaded");
    let kept = bob.upload_attachment(dev.id, "kept.txt", b"kept").await.expect("uploaded");
    bob.send_message(dev.id, &with_files("keeps it", None, vec![kept.id])).await.expect("sent");
    // Both files are older than `attachment_unattached_secs` (a day by default).
    sqlx::query("UPDATE attachments SET created_at = now() - interval '2 days'")
        .execute(&stack.db.pool)
        .await
        .expect("aged");

    wait_gone(&storage, &object_key(&dev, &orphan, "orphan.txt")).await;
    let (status, code, _) = refusal(alice.download_attachment(orphan.id).await).await;
    assert_eq!((status, code), (Some(StatusCode::NOT_FOUND), Some(ErrorCode::AttachmentNotFound)));
    assert!(storage.exists(&object_key(&dev, &kept, "kept.txt")).await.expect("answers"), "an attached file stays");
    assert_eq!(download(&alice, kept.id).await.2, b"kept");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_over_the_users_remaining_quota_is_refused_with_413_and_nothing_stored() {
    let stack = Stack::start_with(|config| {
        config.attachment_quota_bytes = 1000;
        config.attachment_sweep_secs = 1;
    })
    .await;
    let (alice, bob, dev) = two_users(&stack).await;
    let stored = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM attachments").fetch_one(&stack.db.pool).await.expect("count")
    };
    let first = bob.upload_attachment(dev.id, "first.txt", &[b'a'; 600]).await.expect("within the quota");
    let err = bob.upload_attachment(dev.id, "second.txt", &[b'b'; 500]).await.expect_err("over the quota");
    assert_eq!(
        (err.status(), err.code()),
        (Some(StatusCode::PAYLOAD_TOO_LARGE), Some(ErrorCode::AttachmentQuotaExceeded))
    );
    assert!(err.message().is_some_and(|m| m.contains("400") && m.contains("1000")), "{err:?}");
    assert_eq!(stored().await, 1, "nothing recorded for the refused upload");
    // Another user's quota is their own; the rest of bob's still fits.
    alice.upload_attachment(dev.id, "hers.txt", &[b'c'; 900]).await.expect("alice's own quota");
    bob.upload_attachment(dev.id, "rest.txt", &[b'd'; 400]).await.expect("exactly the rest");
    let err = bob.upload_attachment(dev.id, "one.txt", b"e").await.expect_err("full");
    assert_eq!(err.code(), Some(ErrorCode::AttachmentQuotaExceeded));

    // Deleting the message that carries a file gives its bytes back once it is swept.
    let sent = bob.send_message(dev.id, &with_files("first", None, vec![first.id])).await.expect("sent");
    bob.delete_message(sent.id).await.expect("deleted");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match bob.upload_attachment(dev.id, "again.txt", &[b'f'; 600]).await {
            Ok(_) => break,
            Err(err) => assert_eq!(err.code(), Some(ErrorCode::AttachmentQuotaExceeded)),
        }
        assert!(Instant::now() < deadline, "the quota was not given back within 10 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stack.stop().await;
}

/// A real `width`×`height` PNG: a red-to-blue gradient.
fn real_png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbaImage::from_fn(width, height, |x, _| {
        let red = u8::try_from(255 * x / width).expect("below 256");
        image::Rgba([red, 0, 255 - red, 255])
    });
    let mut png = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgba8(image).write_to(&mut png, image::ImageFormat::Png).expect("encodes");
    png.into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_gets_a_small_png_thumbnail_served_under_the_downloads_checks() {
    let stack = Stack::start().await;
    let (alice, bob, dev) = two_users(&stack).await;
    let carol = stack.login("carol").await;
    let image = bob.upload_attachment(dev.id, "wide.png", &real_png(600, 300)).await.expect("uploaded");
    assert!(image.has_thumbnail);
    assert_eq!((image.width, image.height), (Some(600), Some(300)));

    let response = alice.download_thumbnail(image.id).await.expect("the thumbnail");
    assert_eq!(header(&response, "content-type"), "image/png");
    assert_eq!(header(&response, "x-content-type-options"), "nosniff");
    let png = response.bytes().await.expect("body");
    let thumbnail = image::load_from_memory_with_format(&png, image::ImageFormat::Png).expect("a PNG");
    assert_eq!((thumbnail.width(), thumbnail.height()), (256, 128), "scaled to fit 256×256, aspect kept");
    let sent = bob.send_message(dev.id, &with_files("look", None, vec![image.id])).await.expect("sent");
    assert!(sent.attachments[0].has_thumbnail, "the message says so too");

    // Same checks as the download: an outsider gets the 404 of a file that never was.
    let (status, code, _) = refusal(carol.download_thumbnail(image.id).await).await;
    assert_eq!((status, code), (Some(StatusCode::NOT_FOUND), Some(ErrorCode::AttachmentNotFound)));
    // Not an image, or a header claiming a size too large to decode safely: no thumbnail,
    // the upload itself kept.
    let text = bob.upload_attachment(dev.id, "a.txt", b"text").await.expect("uploaded");
    assert!(!text.has_thumbnail);
    let (status, code, _) = refusal(alice.download_thumbnail(text.id).await).await;
    assert_eq!((status, code), (Some(StatusCode::NOT_FOUND), Some(ErrorCode::ThumbnailNotFound)));
    let mut bomb = real_png(1, 1);
    bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    let bomb = bob.upload_attachment(dev.id, "bomb.png", &bomb).await.expect("stored as a file");
    assert_eq!((bomb.width, bomb.height, bomb.has_thumbnail), (Some(100_000), Some(100_000), false));
    // A corrupt image whose header is fine.
    let mut broken = real_png(40, 40);
    broken.truncate(60);
    let broken = bob.upload_attachment(dev.id, "broken.png", &broken).await.expect("stored as a file");
    assert!(!broken.has_thumbnail);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_avatar_is_an_uploaded_image_shown_only_to_those_sharing_a_community() {
    let stack = Stack::start().await;
    let (alice, bob, _) = two_users(&stack).await;
    let carol = stack.login("carol").await;
    let bob_id = bob.me().await.expect("me").user.id;
    let png = real_png(32, 32);
    let me = bob.put_avatar(&png).await.expect("uploaded");
    let url = me.avatar_url.expect("an avatar URL");
    assert!(url.contains(&format!("/api/users/{bob_id}/avatar?v=")), "our own endpoint: {url}");
    assert_eq!(bob.me().await.expect("me").user.avatar_url.as_deref(), Some(url.as_str()));
    let members = alice.list_community_members(two_community(&alice).await).await.expect("members").data;
    assert!(members.iter().any(|m| m.user.id == bob_id && m.user.avatar_url.as_deref() == Some(url.as_str())));

    let response = alice.download_avatar(bob_id).await.expect("a community member sees it");
    assert_eq!(header(&response, "content-type"), "image/png");
    assert_eq!(header(&response, "x-content-type-options"), "nosniff");
    assert_eq!(response.bytes().await.expect("body").to_vec(), png);
    let err = carol.download_avatar(bob_id).await.expect_err("shares nothing with bob");
    assert_eq!((err.status(), err.code()), (Some(StatusCode::NOT_FOUND), Some(ErrorCode::AvatarNotFound)));

    // Raster images only, small ones only.
    let err = bob.put_avatar(b"<svg onload=alert(1)>").await.expect_err("markup");
    assert_eq!(
        (err.status(), err.code()),
        (Some(StatusCode::UNSUPPORTED_MEDIA_TYPE), Some(ErrorCode::UnsupportedMediaType))
    );
    let mut big = real_png(8, 8);
    big.resize(1024 * 1024 + 1, 0);
    let err = bob.put_avatar(&big).await.expect_err("over 1 MiB");
    assert_eq!(err.status(), Some(StatusCode::PAYLOAD_TOO_LARGE));
    assert_eq!(alice.download_avatar(bob_id).await.expect("unchanged").bytes().await.expect("body").to_vec(), png);

    // A webhook's avatar: its community's admins set it, its members see it.
    let channel = alice.list_channels(two_community(&alice).await).await.expect("channels").data[0].channel.id;
    let hook = alice
        .create_webhook(&CreateWebhookRequest { channel_id: channel, name: "CI".into(), avatar_url: None })
        .await
        .expect("webhook");
    let err = bob.put_webhook_avatar(hook.info.id, &png).await.expect_err("a member");
    assert_eq!(err.code(), Some(ErrorCode::AdminOnly));
    let info = alice.put_webhook_avatar(hook.info.id, &png).await.expect("an admin");
    let hook_url = info.avatar_url.expect("an avatar URL");
    assert!(hook_url.contains(&format!("/api/webhooks/{}/avatar?v=", hook.info.id)), "{hook_url}");
    let image = bob.download_webhook_avatar(hook.info.id).await.expect("a member sees it");
    assert_eq!(image.bytes().await.expect("body").to_vec(), png);
    let err = carol.download_webhook_avatar(hook.info.id).await.expect_err("an outsider");
    assert_eq!(err.code(), Some(ErrorCode::AvatarNotFound));

    // Removed twice (a double click): the first removal is audited, the second changes
    // nothing and records nothing; the image is no longer served.
    let community = two_community(&alice).await;
    let removals = || async {
        let query =
            AuditQuery { action: Some("webhook.avatar_removed".into()), actor: None, before: None, limit: Some(50) };
        alice.audit_log(community, &query).await.expect("audit").data
    };
    assert!(removals().await.is_empty());
    for _ in 0..2 {
        let info = alice.delete_webhook_avatar(hook.info.id).await.expect("removed");
        assert_eq!(info.avatar_url, None);
    }
    let rows = removals().await;
    assert_eq!(rows.len(), 1, "one removal audited: {rows:?}");
    // A stored image the webhook does not point at (left behind) is not served either.
    let storage = Storage::new(&stack.config);
    let key = format!("avatars/webhooks/{}", hook.info.id);
    storage.put(&key, "image/png", png.clone().into()).await.expect("stored");
    for client in [&alice, &bob] {
        let err = client.download_webhook_avatar(hook.info.id).await.expect_err("no avatar set");
        assert_eq!((err.status(), err.code()), (Some(StatusCode::NOT_FOUND), Some(ErrorCode::AvatarNotFound)));
    }

    let me = bob.delete_avatar().await.expect("removed");
    assert_eq!(me.avatar_url, None);
    let err = alice.download_avatar(bob_id).await.expect_err("gone");
    assert_eq!(err.code(), Some(ErrorCode::AvatarNotFound));
    stack.stop().await;
}

async fn two_community(client: &ApiClient) -> ajet_shared::domain::ids::CommunityId {
    client.list_communities().await.expect("communities").data[0].id
}
