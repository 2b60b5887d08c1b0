//! The typed API client: the one way our own programs (session managers, the CLI, tests)
//! talk HTTP to ajet-chat, so the SDK is exercised by every integration test.

use crate::api::ErrorCode;
use std::sync::Once;

use futures::StreamExt as _;
use futures::stream::BoxStream;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::api::wire::{
    Channel, Community, CreateChannelRequest, CreateCommunityRequest, CreateInviteRequest, CreateMessageRequest,
    DevLoginRequest, HistoryQuery, LoginResponse, Me, Message, Page,
};
use crate::api::wire::{Invite, Member};
use crate::api::{ErrorBody, ErrorDetail};
use crate::domain::ids::{ChannelId, CommunityId};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error body.
    #[error("{status}: {} ({})", .body.error.message, .body.error.code)]
    Api { status: StatusCode, body: ErrorBody },
    #[error("request failed: {0}")]
    Transport(#[from] reqwest::Error),
}

impl ClientError {
    /// The HTTP status, if the server answered.
    #[must_use]
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Api { status, .. } => Some(*status),
            Self::Transport(err) => err.status(),
        }
    }

    /// The machine-readable error code, if the server answered with one.
    #[must_use]
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Self::Api { body, .. } => Some(body.error.code),
            Self::Transport(_) => None,
        }
    }
}

/// One server-sent event as received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SseEvent {
    pub id: String,
    pub event: String,
    pub data: String,
}

/// Installs ring as the process's rustls provider (reqwest is built without one); idempotent.
pub fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Fails only if a provider is installed already, which is what we want anyway.
        drop(rustls::crypto::ring::default_provider().install_default());
    });
}

/// A client of one ajet-chat deployment (normally the gateway's URL), optionally
/// authenticated with a session or API token. Its `Debug` never shows the token.
#[derive(Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    base_url: String,
    token: Option<String>,
}

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiClient")
            .field("base_url", &self.base_url)
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .finish_non_exhaustive()
    }
}

impl ApiClient {
    pub fn new(base_url: impl Into<String>) -> Result<Self, ClientError> {
        install_crypto_provider();
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
        Ok(Self { http, base_url: base_url.into().trim_end_matches('/').to_owned(), token: None })
    }

    /// The same client acting with `token`.
    #[must_use]
    pub fn with_token(&self, token: impl Into<String>) -> Self {
        Self { token: Some(token.into()), ..self.clone() }
    }

    #[must_use]
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// A request to `path` (starting with `/`), carrying the token.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let builder = self.http.request(method, format!("{}{path}", self.base_url));
        match &self.token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    async fn send<T: DeserializeOwned>(&self, builder: RequestBuilder) -> Result<T, ClientError> {
        let response = builder.send().await?;
        let status = response.status();
        if status.is_success() {
            return Ok(response.json().await?);
        }
        let text = response.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or_else(|_| ErrorBody {
            error: ErrorDetail { code: ErrorCode::UnexpectedResponse, message: text.chars().take(200).collect() },
        });
        Err(ClientError::Api { status, body })
    }

    async fn post<B: Serialize + ?Sized, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T, ClientError> {
        self.send(self.request(Method::POST, path).json(body)).await
    }

    /// `POST /auth/dev-login` (dev deployments only).
    pub async fn dev_login(&self, username: &str) -> Result<LoginResponse, ClientError> {
        self.post("/auth/dev-login", &DevLoginRequest { username: username.to_owned() }).await
    }

    pub async fn me(&self) -> Result<Me, ClientError> {
        self.send(self.request(Method::GET, "/api/me")).await
    }

    pub async fn create_community(&self, request: &CreateCommunityRequest) -> Result<Community, ClientError> {
        self.post("/api/communities", request).await
    }

    pub async fn create_invite(
        &self,
        community: CommunityId,
        request: &CreateInviteRequest,
    ) -> Result<Invite, ClientError> {
        self.post(&format!("/api/communities/{community}/invites"), request).await
    }

    pub async fn accept_invite(&self, code: &str) -> Result<Member, ClientError> {
        self.post(&format!("/api/invites/{code}/accept"), &serde_json::json!({})).await
    }

    pub async fn create_channel(
        &self,
        community: CommunityId,
        request: &CreateChannelRequest,
    ) -> Result<Channel, ClientError> {
        self.post(&format!("/api/communities/{community}/channels"), request).await
    }

    pub async fn join_channel(&self, channel: ChannelId) -> Result<Channel, ClientError> {
        self.post(&format!("/api/channels/{channel}/join"), &serde_json::json!({})).await
    }

    pub async fn send_message(
        &self,
        channel: ChannelId,
        request: &CreateMessageRequest,
    ) -> Result<Message, ClientError> {
        self.post(&format!("/api/channels/{channel}/messages"), request).await
    }

    pub async fn history(&self, channel: ChannelId, query: &HistoryQuery) -> Result<Page<Message>, ClientError> {
        self.send(self.request(Method::GET, &format!("/api/channels/{channel}/messages")).query(query)).await
    }

    /// Opens an SSE stream at `path` (e.g. `/tui/events`), resuming after `last_event_id`.
    /// Ends when the server ends the stream.
    pub async fn sse(
        &self,
        path: &str,
        last_event_id: Option<&str>,
    ) -> Result<BoxStream<'static, Result<SseEvent, ClientError>>, ClientError> {
        let mut builder = self.request(Method::GET, path).header("accept", "text/event-stream");
        if let Some(id) = last_event_id {
            builder = builder.header("last-event-id", id);
        }
        let response = builder.send().await?;
        let status = response.status();
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            let body = serde_json::from_str(&text).unwrap_or_else(|_| ErrorBody {
                error: ErrorDetail { code: ErrorCode::UnexpectedResponse, message: text.chars().take(200).collect() },
            });
            return Err(ClientError::Api { status, body });
        }
        let events = eventsource_stream::EventStream::new(response.bytes_stream()).map(|item| match item {
            Ok(event) => Ok(SseEvent { id: event.id, event: event.event, data: event.data }),
            Err(eventsource_stream::EventStreamError::Transport(err)) => Err(ClientError::Transport(err)),
            Err(err) => Err(ClientError::Api {
                status: StatusCode::BAD_GATEWAY,
                body: ErrorBody { error: ErrorDetail { code: ErrorCode::BadEventStream, message: err.to_string() } },
            }),
        });
        Ok(events.boxed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_token() {
        let token = "ajs_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        let client = ApiClient::new("http://chat.example").expect("client").with_token(token);
        let shown = format!("{client:?} {client:#?}");
        assert!(!shown.contains(token), "{shown}");
        assert!(shown.contains("[redacted]") && shown.contains("http://chat.example"), "{shown}");
    }
}
