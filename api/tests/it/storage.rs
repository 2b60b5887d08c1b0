//! Object storage against the real S3-compatible server: round trips, presigned URLs, and a
//! tampered signature refused.

use std::time::Duration;

use ajet_api::storage::Storage;
use ajet_shared::testing::config;
use bytes::Bytes;

#[tokio::test]
async fn objects_round_trip_and_presigned_urls_work_only_untampered() {
    let config = config("postgres://unused@127.0.0.1/unused", "nats://127.0.0.1:1");
    let storage = Storage::new(&config);
    storage.ensure_bucket().await.expect("bucket created");
    storage.ensure_bucket().await.expect("creating it again is fine");
    assert!(storage.is_ready().await);

    let body = Bytes::from_static(b"hello, attachments \xF0\x9F\x93\x8E");
    storage.put("a/b/report.txt", "text/plain", body.clone()).await.expect("put");
    assert_eq!(storage.get("a/b/report.txt").await.expect("get"), Some(body.clone()));

    let url = storage
        .presigned_get("a/b/report.txt", "report \"final\".txt", Duration::from_secs(60))
        .await
        .expect("presign");
    let response = reqwest::get(&url).await.expect("download");
    assert_eq!(response.status(), 200);
    let disposition =
        response.headers().get("content-disposition").expect("disposition").to_str().expect("ascii").to_owned();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert_eq!(response.bytes().await.expect("body"), body);

    // Changing one character of the signature must be refused.
    let (head, signature) = url.rsplit_once("X-Amz-Signature=").expect("a SigV4 URL");
    let flipped = if signature.starts_with('0') { "1" } else { "0" };
    let tampered = format!("{head}X-Amz-Signature={flipped}{}", &signature[1..]);
    assert_eq!(reqwest::get(&tampered).await.expect("answers").status(), 403);
    // So must a request for another key under the same signature.
    let other = url.replace("report.txt", "other.txt");
    assert_eq!(reqwest::get(&other).await.expect("answers").status(), 403);

    assert_eq!(storage.get("nope").await.expect("a missing object is no error"), None);
    assert!(storage.get_stream("nope").await.expect("nor as a stream").is_none());
}
