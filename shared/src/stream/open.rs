//! Opening one connection's stream for a bearer token: the steps every session manager
//! takes, in an order that loses nothing — note the hub's position, read what the token
//! may see through the api (`GET /api/me`), share the credential's periodic check,
//! register and replay. The refusals come back as one `OpenError` the session manager turns
//! into its response (`OpenError::api_error`, except `Revoked`, which clients must see as
//! "stop retrying": tui-sm answers 204).

use std::sync::Arc;

use http::StatusCode;
use tokio_util::sync::CancellationToken;

use crate::api::{ApiError, ErrorCode};
use crate::client::{ApiClient, ClientError};
use crate::events::bus::{BusError, EventBus};
use crate::stream::access::AccessChecks;
use crate::stream::hub::Hub;
use crate::stream::session::{Opening, SessionConfig, StartError, StreamSession, Visible};

/// Everything a session manager needs to open streams; cheap to clone.
pub struct Streams<B> {
    /// The api, without a token (each stream uses its own).
    pub api: ApiClient,
    pub bus: Arc<B>,
    pub hub: Hub,
    pub checks: AccessChecks,
    pub config: SessionConfig,
    pub shutdown: CancellationToken,
}

impl<B> Clone for Streams<B> {
    fn clone(&self) -> Self {
        Self {
            api: self.api.clone(),
            bus: Arc::clone(&self.bus),
            hub: self.hub.clone(),
            checks: self.checks.clone(),
            config: self.config,
            shutdown: self.shutdown.clone(),
        }
    }
}

/// Why a stream could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The token's session was revoked: the client must stop retrying.
    #[error("the session was revoked")]
    Revoked,
    /// The api refused the token or could not be asked.
    #[error("the api refused or failed: {0}")]
    Api(#[source] ClientError),
    /// The process's feed has not opened yet: a stream now could miss events.
    #[error("the event feed is not open yet")]
    NotReady,
    #[error(transparent)]
    Start(#[from] StartError),
}

impl OpenError {
    /// The answer to give the client (for everything but `Revoked`, which has none).
    #[must_use]
    pub fn api_error(&self) -> ApiError {
        match self {
            Self::Api(err) if err.status() == Some(StatusCode::UNAUTHORIZED) => {
                ApiError::unauthorized("this token is unknown, expired or revoked; sign in again")
            }
            Self::Api(err) if err.status() == Some(StatusCode::FORBIDDEN) => ApiError::forbidden(
                ErrorCode::InsufficientScope,
                "this token may not read events; it needs the `read` scope",
            ),
            Self::Start(StartError::TooManyStreams(too_many)) => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::TooManyStreams,
                format!("at most {} event streams per user; close one first", too_many.0),
            )
            .with_retry_after(5),
            Self::Api(_) | Self::Revoked => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::UpstreamUnavailable,
                "the api cannot be reached; retry shortly",
            )
            .with_retry_after(1),
            Self::NotReady | Self::Start(StartError::Bus(_)) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::EventsUnavailable,
                "the event stream is unavailable; retry shortly",
            )
            .with_retry_after(1),
        }
    }
}

impl From<BusError> for OpenError {
    fn from(err: BusError) -> Self {
        Self::Start(StartError::Bus(err))
    }
}

impl<B: EventBus> Streams<B> {
    /// Opens the stream of `token`, resuming after `resume` (the client's `Last-Event-ID`).
    pub async fn open(&self, token: &str, resume: Option<&str>) -> Result<StreamSession, OpenError> {
        // Before the access is read: what happens after this point is replayed for it.
        let visible_as_of = self.hub.position().ok_or(OpenError::NotReady)?;
        let api = self.api.with_token(token);
        let me = api.me().await.map_err(|err| {
            if err.code() == Some(ErrorCode::TokenRevoked) { OpenError::Revoked } else { OpenError::Api(err) }
        })?;
        // Only a token the api accepted gets a shared check.
        let access = self.checks.feed(token, me.user.id, api);
        let opening = Opening { visible: Visible::of(&me), visible_as_of, resume };
        Ok(StreamSession::start(&self.hub, self.bus.as_ref(), access, opening, self.config, self.shutdown.clone())
            .await?)
    }
}
