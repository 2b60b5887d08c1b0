//! The typed client's message calls: sending, history, threads, edits, reactions and pins;
//! uploading and downloading attachments.

use crate::api::paths;
use crate::api::wire::{Attachment, CreateMessageRequest, HistoryQuery, Message, Page, UpdateMessageRequest};
use crate::client::{ApiClient, ClientError};
use crate::domain::ids::{AttachmentId, ChannelId, MessageId};
use reqwest::Method;

impl ApiClient {
    /// `POST /api/channels/{id}/messages`: a message or thread reply; a retry with the same
    /// `client_msg_id` answers the original.
    pub async fn send_message(
        &self,
        channel: ChannelId,
        request: &CreateMessageRequest,
    ) -> Result<Message, ClientError> {
        self.post(&paths::channel_messages(channel), request).await
    }

    /// `GET /api/channels/{id}/messages`: a page of history, oldest first.
    pub async fn history(&self, channel: ChannelId, query: &HistoryQuery) -> Result<Page<Message>, ClientError> {
        self.send(self.request(Method::GET, &paths::channel_messages(channel)).query(query)).await
    }

    /// `POST /api/channels/{id}/attachments`: uploads `bytes` as the file `filename` (a
    /// `multipart/form-data` body with one `file` field); its type is sniffed by the server.
    pub async fn upload_attachment(
        &self,
        channel: ChannelId,
        filename: &str,
        bytes: &[u8],
    ) -> Result<Attachment, ClientError> {
        let (content_type, body) = super::multipart_file(filename, bytes);
        let builder = self
            .request(Method::POST, &paths::channel_attachments(channel))
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body);
        self.send(builder).await
    }

    /// `GET /api/attachments/{id}`: the file's answer, its headers (type, disposition) and
    /// body for the caller to read.
    pub async fn download_attachment(&self, attachment: AttachmentId) -> Result<reqwest::Response, ClientError> {
        super::checked(self.request(Method::GET, &paths::attachment(attachment)).send().await?).await
    }

    /// `GET /api/attachments/{id}/thumbnail`: the small PNG of an image attachment.
    pub async fn download_thumbnail(&self, attachment: AttachmentId) -> Result<reqwest::Response, ClientError> {
        super::checked(self.request(Method::GET, &paths::attachment_thumbnail(attachment)).send().await?).await
    }

    /// `GET /api/channels/{id}/pins`: most recently pinned first.
    pub async fn list_pins(&self, channel: ChannelId) -> Result<Page<Message>, ClientError> {
        self.get(&paths::channel_pins(channel)).await
    }

    /// `GET /api/messages/{id}`.
    pub async fn get_message(&self, message: MessageId) -> Result<Message, ClientError> {
        self.get(&paths::message(message)).await
    }

    /// `PATCH /api/messages/{id}`: edit my message.
    pub async fn update_message(&self, message: MessageId, body_md: &str) -> Result<Message, ClientError> {
        self.patch(&paths::message(message), &UpdateMessageRequest { body_md: body_md.to_owned() }).await
    }

    /// `DELETE /api/messages/{id}` (its author, or an admin): a tombstone stays.
    pub async fn delete_message(&self, message: MessageId) -> Result<(), ClientError> {
        self.send_empty(self.request(Method::DELETE, &paths::message(message))).await
    }

    /// `GET /api/messages/{id}/replies`: a page of the thread's replies, oldest first.
    pub async fn list_replies(&self, message: MessageId, query: &HistoryQuery) -> Result<Page<Message>, ClientError> {
        self.send(self.request(Method::GET, &paths::message_replies(message)).query(query)).await
    }

    /// `PUT /api/messages/{id}/reactions/{emoji}` (idempotent): `emoji` is a Unicode emoji
    /// or a `:shortcode:`, encoded here.
    pub async fn add_reaction(&self, message: MessageId, emoji: &str) -> Result<(), ClientError> {
        self.send_empty(self.request(Method::PUT, &paths::message_reaction(message, emoji))).await
    }

    /// `DELETE /api/messages/{id}/reactions/{emoji}` (idempotent).
    pub async fn remove_reaction(&self, message: MessageId, emoji: &str) -> Result<(), ClientError> {
        self.send_empty(self.request(Method::DELETE, &paths::message_reaction(message, emoji))).await
    }

    /// `PUT /api/messages/{id}/pin` (idempotent).
    pub async fn pin_message(&self, message: MessageId) -> Result<(), ClientError> {
        self.send_empty(self.request(Method::PUT, &paths::message_pin(message))).await
    }

    /// `DELETE /api/messages/{id}/pin` (idempotent).
    pub async fn unpin_message(&self, message: MessageId) -> Result<(), ClientError> {
        self.send_empty(self.request(Method::DELETE, &paths::message_pin(message))).await
    }
}
