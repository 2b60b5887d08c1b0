//! The typed client's streamed upload: a file sent from disk chunk by chunk (never whole in
//! memory) as the same `multipart/form-data` body as `upload_attachment`, reporting how many
//! of its bytes went out so a terminal can draw progress.

use futures::StreamExt as _;
use reqwest::Method;
use tokio_util::io::ReaderStream;

use crate::api::paths;
use crate::api::wire::Attachment;
use crate::client::{ApiClient, ClientError};
use crate::domain::ids::ChannelId;

/// Bytes read from the file per chunk.
const CHUNK: usize = 64 * 1024;

impl ApiClient {
    /// `POST /api/channels/{id}/attachments` streamed from `file` (`len` bytes long) as the
    /// file `filename`; `progress` is called with the file's bytes sent so far after each
    /// chunk. Its type is sniffed by the server.
    pub async fn upload_attachment_streamed(
        &self,
        channel: ChannelId,
        filename: &str,
        file: tokio::fs::File,
        len: u64,
        progress: impl Fn(u64) + Send + Sync + 'static,
    ) -> Result<Attachment, ClientError> {
        let boundary = format!("ajet-{}", uuid::Uuid::now_v7().simple());
        let name: String = filename.chars().map(|c| if c == '"' || c.is_control() { '_' } else { c }).collect();
        let head = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        );
        let tail = format!("\r\n--{boundary}--\r\n");
        let total = head.len() as u64 + len + tail.len() as u64;
        let mut sent = 0u64;
        let chunks = ReaderStream::with_capacity(file, CHUNK).map(move |chunk| {
            if let Ok(bytes) = &chunk {
                sent += bytes.len() as u64;
                progress(sent);
            }
            chunk
        });
        let body = futures::stream::once(async move { Ok(bytes::Bytes::from(head)) })
            .chain(chunks)
            .chain(futures::stream::once(async move { Ok(bytes::Bytes::from(tail)) }));
        let builder = self
            .request(Method::POST, &paths::channel_attachments(channel))
            .header(reqwest::header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
            .header(reqwest::header::CONTENT_LENGTH, total)
            .body(reqwest::Body::wrap_stream(body));
        self.send(builder).await
    }
}
