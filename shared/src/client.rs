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

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Once};

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
///
/// A session manager's client knows every api instance (`ApiClient::over`): it sticks to
/// one and, when that one refuses a connection (nothing reached it, so nothing was acted
/// on), moves to the next for that request and those after it.
#[derive(Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    bases: Arc<Bases>,
    token: Option<String>,
}

/// The base URLs a client may use (at least one), and which it uses now.
struct Bases {
    urls: Vec<String>,
    current: AtomicUsize,
}

impl Bases {
    fn current(&self) -> &str {
        &self.urls[self.current.load(Ordering::Relaxed) % self.urls.len()]
    }

    /// After `failed` refused a connection: the next base (the one to use from now on,
    /// unless another request moved on already), if there is another.
    fn after(&self, failed: &str) -> Option<&str> {
        let at = self.urls.iter().position(|url| url == failed)?;
        if self.urls.len() < 2 {
            return None;
        }
        let next = (at + 1) % self.urls.len();
        let _ = self.current.compare_exchange(at, next, Ordering::Relaxed, Ordering::Relaxed);
        Some(&self.urls[next])
    }
}

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiClient")
            .field("base_urls", &self.bases.urls)
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .finish_non_exhaustive()
    }
}

impl ApiClient {
    pub fn new(base_url: impl Into<String>) -> Result<Self, ClientError> {
        Self::over(base_url.into(), Vec::new())
    }

    /// A client of `first` that moves on to `others` in turn (and round again) whenever the
    /// one it uses refuses a connection.
    pub fn over(first: String, others: Vec<String>) -> Result<Self, ClientError> {
        install_crypto_provider();
        // Idle connections are dropped before our servers close them (30 s without a request
        // head): at equal times a request could be written into a closing connection.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(std::time::Duration::from_secs(20))
            .build()?;
        let urls = std::iter::once(first).chain(others).map(|url| url.trim_end_matches('/').to_owned()).collect();
        Ok(Self { http, bases: Arc::new(Bases { urls, current: AtomicUsize::new(0) }), token: None })
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

    /// The base URL requests go to now.
    #[must_use]
    pub fn base_url(&self) -> &str {
        self.bases.current()
    }

    /// A request to `path` (starting with `/`), carrying the token.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let builder = self.http.request(method, format!("{}{path}", self.base_url()));
        match &self.token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    /// Sends `builder` and reads a JSON answer, or the error body of a refusal.
    async fn send<T: DeserializeOwned>(&self, builder: RequestBuilder) -> Result<T, ClientError> {
        let response = checked(self.execute(builder).await?).await?;
        Ok(response.json().await?)
    }

    /// Sends `builder` for an answer without a body (204), or the error body of a refusal.
    async fn send_empty(&self, builder: RequestBuilder) -> Result<(), ClientError> {
        checked(self.execute(builder).await?).await.map(drop)
    }

    /// Whether `GET /healthz` answers 2xx (at the next base, if this one refuses the
    /// connection): a session manager's readiness check of its api.
    pub async fn is_healthy(&self) -> bool {
        self.execute(self.request(Method::GET, "/healthz")).await.is_ok_and(|r| r.status().is_success())
    }

    /// Sends `builder`; if its base refused the connection and the client knows others,
    /// the same request goes to each of them in turn until one takes the connection.
    async fn execute(&self, builder: RequestBuilder) -> Result<reqwest::Response, ClientError> {
        let mut request = builder.build()?;
        let mut tried = 1;
        loop {
            let retry = if tried < self.bases.urls.len() { request.try_clone() } else { None };
            let failed_base = self.bases.urls.iter().find(|url| request.url().as_str().starts_with(url.as_str()));
            match self.http.execute(request).await {
                Err(err) if err.is_connect() => {
                    let (Some(mut again), Some(failed)) = (retry, failed_base) else { return Err(err.into()) };
                    let Some(next) = self.bases.after(failed) else { return Err(err.into()) };
                    let rest = &again.url().as_str()[failed.len()..];
                    let Ok(url) = format!("{next}{rest}").parse() else { return Err(err.into()) };
                    tracing::info!(failed, next, "api instance refused the connection; trying the next");
                    *again.url_mut() = url;
                    request = again;
                    tried += 1;
                }
                answered => return Ok(answered?),
            }
        }
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
        self.send(self.http.post(format!("{}{}", self.base_url(), paths::hook(webhook, token))).json(payload)).await
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
