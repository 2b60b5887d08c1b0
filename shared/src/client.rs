//! The typed API client: the one way our own programs (session managers, the CLI, tests)
//! talk HTTP to ajet-chat, so the SDK is exercised by every integration test. It has a
//! method per api endpoint (by resource in `client/`), built on the path builders of
//! `api::paths` that the api's routes are declared with, plus the gateway's JSON endpoints
//! (dev login, logout, the CLI code exchange, webhook posts) and the event streams.

mod account;
mod channels;
mod communities;
mod messages;
mod moderation;
mod notifications;
mod search;
mod uploads;

use std::sync::Once;

use futures::StreamExt as _;
use futures::stream::BoxStream;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::api::paths;
use crate::api::wire::{CliExchangeRequest, DevLoginRequest, FocusRequest, LoginResponse, Message, TypingRequest};
use crate::api::{ErrorBody, ErrorCode, ErrorDetail};
use crate::domain::ids::{ChannelId, WebhookId};

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

    /// The error body's human message, if the server answered with one.
    #[must_use]
    pub fn message(&self) -> Option<&str> {
        match self {
            Self::Api { body, .. } => Some(&body.error.message),
            Self::Transport(_) => None,
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

    /// Sends `builder` and reads a JSON answer, or the error body of a refusal.
    async fn send<T: DeserializeOwned>(&self, builder: RequestBuilder) -> Result<T, ClientError> {
        let response = checked(builder.send().await?).await?;
        Ok(response.json().await?)
    }

    /// Sends `builder` for an answer without a body (204), or the error body of a refusal.
    async fn send_empty(&self, builder: RequestBuilder) -> Result<(), ClientError> {
        checked(builder.send().await?).await.map(drop)
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        self.send(self.request(Method::GET, path)).await
    }

    async fn post<B: Serialize + ?Sized, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T, ClientError> {
        self.send(self.request(Method::POST, path).json(body)).await
    }

    async fn patch<B: Serialize + ?Sized, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T, ClientError> {
        self.send(self.request(Method::PATCH, path).json(body)).await
    }

    /// `POST /auth/dev-login` at the gateway (dev deployments only): a new session.
    pub async fn dev_login(&self, username: &str) -> Result<LoginResponse, ClientError> {
        self.post(paths::DEV_LOGIN, &DevLoginRequest { username: username.to_owned() }).await
    }

    /// `POST /auth/logout` at the gateway: ends this client's session (an API token is
    /// refused: revoke it with [`ApiClient::revoke_token`]). Ending one already ended is fine.
    pub async fn logout(&self) -> Result<(), ClientError> {
        self.send_empty(self.request(Method::POST, paths::LOGOUT)).await
    }

    /// `POST /auth/cli/exchange` at the gateway: trades the one-time code the CLI's loopback
    /// received (with the state the login started with) for a session.
    pub async fn exchange_cli_code(&self, request: &CliExchangeRequest) -> Result<LoginResponse, ClientError> {
        self.post(paths::CLI_EXCHANGE, request).await
    }

    /// `POST /hook/{id}/{token}` at the gateway: posts through an incoming webhook as an
    /// integration would (needs no token of this client). `payload` is Slack-shaped JSON
    /// (`text`, and optionally `username`, `icon_url`, `attachments`, `blocks`).
    pub async fn post_webhook<B: Serialize + ?Sized>(
        &self,
        webhook: WebhookId,
        token: &str,
        payload: &B,
    ) -> Result<Message, ClientError> {
        self.send(self.http.post(format!("{}{}", self.base_url, paths::hook(webhook, token))).json(payload)).await
    }

    /// `GET /api/openapi.json`: the api's OpenAPI description.
    pub async fn openapi(&self) -> Result<serde_json::Value, ClientError> {
        self.get(paths::OPENAPI).await
    }

    /// `GET /tui/events` (tui-sm, through the gateway): the terminal clients' live events,
    /// resuming after `last_event_id`.
    pub async fn tui_events(
        &self,
        last_event_id: Option<&str>,
    ) -> Result<BoxStream<'static, Result<SseEvent, ClientError>>, ClientError> {
        self.sse(paths::TUI_EVENTS, last_event_id).await
    }

    /// `POST /tui/typing`: I started (`true`) or stopped typing in `channel` (needs an
    /// open `/tui/events` stream of this credential on the same tui-sm, or answers from the api).
    pub async fn tui_typing(&self, channel: ChannelId, typing: bool) -> Result<(), ClientError> {
        let request = TypingRequest { channel_id: channel, typing };
        self.send_empty(self.request(Method::POST, paths::TUI_TYPING).json(&request)).await
    }

    /// `POST /tui/focus`: my client shows `channel` (typing is then only for it).
    pub async fn tui_focus(&self, channel: Option<ChannelId>) -> Result<(), ClientError> {
        let request = FocusRequest { channel_id: channel };
        self.send_empty(self.request(Method::POST, paths::TUI_FOCUS).json(&request)).await
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
        let response = checked(builder.send().await?).await?;
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

/// `response` if it is a success, otherwise its error body as a `ClientError` (an answer
/// that is not an error body, e.g. a proxy's HTML, becomes `unexpected_response`).
/// A `multipart/form-data` body with one `file` field holding `bytes` named `filename`, and
/// its `Content-Type`.
fn multipart_file(filename: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = format!("ajet-{}", uuid::Uuid::now_v7().simple());
    let name: String = filename.chars().map(|c| if c == '"' || c.is_control() { '_' } else { c }).collect();
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn checked(response: reqwest::Response) -> Result<reqwest::Response, ClientError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let text = response.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or_else(|_| ErrorBody {
        error: ErrorDetail { code: ErrorCode::UnexpectedResponse, message: text.chars().take(200).collect() },
    });
    Err(ClientError::Api { status, body })
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
