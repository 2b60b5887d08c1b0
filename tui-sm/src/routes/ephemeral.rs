//! `POST /tui/typing` and `POST /tui/focus`: the terminal clients' ephemeral signals.
//!
//! Typing is checked against what the caller may see — a channel they are a member of, as
//! their open stream here knows it (or, without one, as the api says) — and published on
//! the channel's typing subject on core NATS, never persisted; the stream core routes it to
//! the channel's other members and sends the stop itself after `typing_expiry_secs` of
//! silence. Each user may signal at most `TYPING_BURST` times per `TYPING_WINDOW` (clients
//! send a start at most every 3 s while typing). Focus names the channel the credential's
//! client shows; its streams then carry typing for that channel only.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ajet_shared::api::wire::{FocusRequest, TypingRequest};
use ajet_shared::api::{ApiError, ErrorCode};
use ajet_shared::auth::bearer;
use ajet_shared::domain::ids::{ChannelId, UserId};
use ajet_shared::events::bus::NatsBus;
use ajet_shared::stream::{OpenError, Streams, TypingSignal, Visible};
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, StatusCode, header};
use tokio::time::Instant;

const TYPING_WINDOW: Duration = Duration::from_secs(10);
const TYPING_BURST: u32 = 20;

/// Typing signals per user in the current window; cheap to clone.
#[derive(Clone, Default)]
pub struct TypingLimiter(Arc<Mutex<HashMap<UserId, (Instant, u32)>>>);

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

fn token(headers: &HeaderMap) -> Result<&str, ApiError> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer)
        .ok_or_else(|| ApiError::unauthorized("sign in first: send `Authorization: Bearer <token>`"))
}

fn not_visible(channel: ChannelId) -> ApiError {
    ApiError::not_found(ErrorCode::ChannelNotFound, format!("no channel {channel} that you are a member of"))
}

/// The typing subject of `channel` for the caller, from their open stream here or the api.
async fn typing_subject(
    streams: &Streams<NatsBus>,
    token: &str,
    channel: ChannelId,
) -> Result<(UserId, Option<String>), ApiError> {
    if let Some(user) = streams.checks.user_of(token) {
        return Ok((user, streams.hub.typing_subject(user, channel)));
    }
    let me = streams.api.with_token(token).me().await.map_err(|err| OpenError::Api(err).api_error())?;
    let visible = Visible::of(&me);
    let subject =
        visible.routes().into_iter().find(|s| ajet_shared::events::subject::typing_channel(s) == Some(channel));
    Ok((me.user.id, subject))
}

pub async fn typing(
    State(streams): State<Streams<NatsBus>>,
    State(limiter): State<TypingLimiter>,
    headers: HeaderMap,
    body: Result<Json<TypingRequest>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let token = token(&headers)?;
    let Json(request) = body?;
    let (user, subject) = typing_subject(&streams, token, request.channel_id).await?;
    let subject = subject.ok_or_else(|| not_visible(request.channel_id))?;
    if !limiter.allow(user) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            format!("at most {TYPING_BURST} typing signals per {} s", TYPING_WINDOW.as_secs()),
        )
        .with_retry_after(TYPING_WINDOW.as_secs()));
    }
    let signal = TypingSignal { channel_id: request.channel_id, user_id: user, typing: request.typing };
    let payload = serde_json::to_vec(&signal).map_err(|err| {
        ApiError::unavailable(ErrorCode::EventsUnavailable, "typing cannot be sent now; retry shortly", err)
    })?;
    streams.bus.client().publish(subject, payload.into()).await.map_err(|err| {
        ApiError::unavailable(ErrorCode::EventsUnavailable, "typing cannot be sent now; retry shortly", err)
    })?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn focus(
    State(streams): State<Streams<NatsBus>>,
    headers: HeaderMap,
    body: Result<Json<FocusRequest>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let token = token(&headers)?;
    let Json(request) = body?;
    let Some(user) = streams.checks.user_of(token) else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::NoOpenStream,
            "open `GET /tui/events` with this token first: focus applies to its streams",
        ));
    };
    if let Some(channel) = request.channel_id
        && streams.hub.typing_subject(user, channel).is_none()
    {
        return Err(not_visible(channel));
    }
    streams.checks.set_focus(token, request.channel_id);
    Ok(StatusCode::NO_CONTENT)
}
