//! Opening one connection's stream for a bearer token, and taking its client's typing and
//! focus signals: the steps every session manager
//! takes, in an order that loses nothing — note the hub's position, read what the token
//! may see through the api (`GET /api/me`), share the credential's periodic check,
//! register and replay. The refusals come back as one `OpenError` the session manager turns
//! into its response (`OpenError::api_error`, except `Revoked`, which clients must see as
//! "stop retrying": tui-sm answers 204).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use http::StatusCode;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::api::wire::Me;
use crate::api::{ApiError, ErrorCode};
use crate::client::{ApiClient, ClientError};
use crate::domain::ids::{ChannelId, UserId};
use crate::events::bus::{BusError, EventBus, NatsBus};
use crate::events::subject;
use crate::stream::access::AccessChecks;
use crate::stream::ephemeral::TypingSignal;
use crate::stream::hub::Hub;
use crate::stream::session::{Opening, SessionConfig, StartError, StreamSession, Visible};

/// Everything a session manager needs to open streams and take its clients' typing and
/// focus signals; cheap to clone.
pub struct Streams<B> {
    /// The api, without a token (each stream uses its own).
    pub api: ApiClient,
    pub bus: Arc<B>,
    pub hub: Hub,
    pub checks: AccessChecks,
    pub config: SessionConfig,
    pub shutdown: CancellationToken,
    typing: TypingLimiter,
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
            typing: self.typing.clone(),
        }
    }
}

impl<B> Streams<B> {
    #[must_use]
    pub fn new(
        api: ApiClient,
        bus: Arc<B>,
        hub: Hub,
        checks: AccessChecks,
        config: SessionConfig,
        shutdown: CancellationToken,
    ) -> Self {
        Self { api, bus, hub, checks, config, shutdown, typing: TypingLimiter::default() }
    }
}

/// Typing signals per user in the current window; cheap to clone.
#[derive(Clone, Default)]
struct TypingLimiter(Arc<Mutex<HashMap<UserId, (Instant, u32)>>>);

/// The window of the per-user typing allowance.
pub const TYPING_WINDOW: Duration = Duration::from_secs(10);
/// Typing signals a user may send per `TYPING_WINDOW` (clients send a start at most every
/// 3 s while typing, and a stop).
pub const TYPING_BURST: u32 = 20;

impl TypingLimiter {
    /// True if `user` may signal now.
    fn allow(&self, user: UserId) -> bool {
        let now = Instant::now();
        let mut users = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if users.len() > 10_000 {
            users.retain(|_, (start, _)| now.duration_since(*start) < TYPING_WINDOW);
        }
        let (start, count) = users.entry(user).or_insert((now, 0));
        if now.duration_since(*start) >= TYPING_WINDOW {
            (*start, *count) = (now, 0);
        }
        *count += 1;
        *count <= TYPING_BURST
    }
}

/// Why a typing or focus signal was refused.
#[derive(Debug, thiserror::Error)]
pub enum SignalError {
    /// Not a channel the caller is a member of (or no such channel).
    #[error("no channel {0} that you are a member of")]
    NotVisible(ChannelId),
    /// Focus applies to the credential's open streams, and it has none here.
    #[error("no open stream")]
    NoOpenStream,
    #[error("too many typing signals")]
    RateLimited,
    /// The api refused the token or could not be asked.
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error("typing cannot be sent now")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl SignalError {
    /// The answer to give the client.
    #[must_use]
    pub fn api_error(&self) -> ApiError {
        match self {
            Self::NotVisible(channel) => ApiError::not_found(
                ErrorCode::ChannelNotFound,
                format!("no channel {channel} that you are a member of"),
            ),
            Self::NoOpenStream => ApiError::new(
                StatusCode::CONFLICT,
                ErrorCode::NoOpenStream,
                "open an event stream with this credential first: focus applies to its streams",
            ),
            Self::RateLimited => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::RateLimited,
                format!("at most {TYPING_BURST} typing signals per {} s", TYPING_WINDOW.as_secs()),
            )
            .with_retry_after(TYPING_WINDOW.as_secs()),
            Self::Open(err) => err.api_error(),
            Self::Unavailable(_) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::EventsUnavailable,
                "typing cannot be sent now; retry shortly",
            )
            .with_retry_after(1),
        }
    }
}

impl Streams<NatsBus> {
    /// The caller (by `token`) started or stopped typing in `channel`: checked against the
    /// channels they are a member of — as their open stream here knows it, or, without one,
    /// as the api says —, limited per user, published on the channel's typing subject (core
    /// NATS, never persisted).
    pub async fn typing(&self, token: &str, channel: ChannelId, typing: bool) -> Result<(), SignalError> {
        let (user, subject) = match self.checks.user_of(token) {
            Some(user) => {
                let subject = self.hub.typing_subject(user.id, channel);
                (user, subject)
            }
            None => {
                let me = self.api.with_token(token).me().await.map_err(|err| {
                    if err.code() == Some(ErrorCode::TokenRevoked) { OpenError::Revoked } else { OpenError::Api(err) }
                })?;
                let subject =
                    Visible::of(&me).routes().into_iter().find(|s| subject::typing_channel(s) == Some(channel));
                (me.user, subject)
            }
        };
        let subject = subject.ok_or(SignalError::NotVisible(channel))?;
        if !self.typing.allow(user.id) {
            return Err(SignalError::RateLimited);
        }
        let signal =
            TypingSignal { channel_id: channel, user_id: user.id, display_name: user.display_name.clone(), typing };
        let payload = serde_json::to_vec(&signal).map_err(|err| SignalError::Unavailable(Box::new(err)))?;
        self.bus.client().publish(subject, payload.into()).await.map_err(|err| SignalError::Unavailable(Box::new(err)))
    }

    /// The credential `token`'s client shows `channel` (or none): its streams here carry
    /// typing for that channel only.
    pub fn focus(&self, token: &str, channel: Option<ChannelId>) -> Result<(), SignalError> {
        let user = self.checks.user_of(token).ok_or(SignalError::NoOpenStream)?;
        if let Some(channel) = channel
            && self.hub.typing_subject(user.id, channel).is_none()
        {
            return Err(SignalError::NotVisible(channel));
        }
        self.checks.set_focus(token, channel);
        Ok(())
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
        self.open_with_me(token, resume).await.map(|(session, _)| session)
    }

    /// Opens the stream of `token` like `open`, and hands back the `GET /api/me` its access
    /// was read from (read as the stream opened, after the hub's position was noted), so a
    /// session manager that shows the same (the user, their communities) need not read it
    /// again.
    pub async fn open_with_me(&self, token: &str, resume: Option<&str>) -> Result<(StreamSession, Me), OpenError> {
        // Before the access is read: what happens after this point is replayed for it.
        let visible_as_of = self.hub.position().ok_or(OpenError::NotReady)?;
        let api = self.api.with_token(token);
        let me = api.me().await.map_err(|err| {
            if err.code() == Some(ErrorCode::TokenRevoked) { OpenError::Revoked } else { OpenError::Api(err) }
        })?;
        // Only a token the api accepted gets a shared check.
        let access = self.checks.feed(token, me.user.clone(), api);
        let opening = Opening { visible: Visible::of(&me), visible_as_of, resume };
        let session =
            StreamSession::start(&self.hub, self.bus.as_ref(), access, opening, self.config, self.shutdown.clone())
                .await?;
        Ok((session, me))
    }
}

/// Why a session manager's streaming could not start.
#[cfg(feature = "server")]
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot connect to NATS: {0}")]
    Bus(#[from] BusError),
    #[error("cannot build the api client: {0}")]
    Api(#[from] ClientError),
}

/// What every session manager starts with: connects to NATS and the api, runs the
/// process's event feed and its typing and presence followers on `tasks` until
/// `shutdown`, and answers its `Streams` with the readiness checks of what they depend on
/// (the feed, NATS, the api).
#[cfg(feature = "server")]
pub async fn start(
    config: &crate::config::Config,
    tasks: &tokio_util::task::TaskTracker,
    shutdown: &CancellationToken,
) -> Result<(Streams<NatsBus>, crate::server::Readiness), StartupError> {
    use crate::stream::ephemeral::{run_presence, run_typing};
    let bus =
        Arc::new(NatsBus::connect(&config.nats_url, &config.stream_name).await?.with_replicas(config.stream_replicas));
    // Every api instance when there are several (`api_urls`, in the order given: the first
    // is used until it refuses a connection), else the one `api_url`.
    let api = match config.api_urls.split_first() {
        Some((first, others)) => ApiClient::over(first.clone(), others.to_vec())?,
        None => ApiClient::new(config.api_url.clone())?,
    };
    let hub = Hub::default();
    tasks.spawn(hub.clone().run(Arc::clone(&bus), shutdown.clone()));
    tasks.spawn(run_typing(hub.clone(), bus.client().clone(), config.typing_expiry(), shutdown.clone()));
    tasks.spawn(run_presence(hub.clone(), bus.client().clone(), config.presence_interval(), shutdown.clone()));
    let readiness = crate::server::Readiness::new()
        .check("event_feed", {
            let hub = hub.clone();
            move || {
                let live = hub.is_live();
                async move { live }
            }
        })
        .check("nats", {
            let bus = Arc::clone(&bus);
            move || {
                let bus = Arc::clone(&bus);
                async move { bus.is_ready().await }
            }
        })
        .check("api", {
            let api = api.clone();
            move || {
                let api = api.clone();
                async move { api.is_healthy().await }
            }
        });
    let checks = AccessChecks::new(config.sse_access_check(), shutdown.clone());
    let streams = Streams::new(api, bus, hub, checks, SessionConfig::from_config(config), shutdown.clone());
    Ok((streams, readiness))
}
