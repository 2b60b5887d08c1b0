//! `GET /tui/events`: the SSE stream of JSON envelopes. Each event's id is
//! `<epoch>.<stream sequence>`. Resuming with `Last-Event-ID`: (1) register with the hub,
//! so live events queue up; (2) replay from the stream after that sequence, filtered to
//! what the connection may see; (3) go live, skipping every event not above the last one
//! sent. A position the stream no longer holds gets an explicit `resync` event.
//!
//! The token behind an open stream is re-checked with the api every
//! `sse_auth_recheck_secs`: once it is refused the stream ends, and a revoked session's
//! (re)connect is answered 204 so clients stop retrying (docs/design.md §5).

use ajet_shared::api::ErrorCode;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use ajet_shared::api::ApiError;
use ajet_shared::api::wire::Me;
use ajet_shared::auth::bearer;
use ajet_shared::client::{ApiClient, ClientError};
use ajet_shared::config::Config;
use ajet_shared::events::bus::{EventBus as _, NatsBus, Replay};
use ajet_shared::events::{StreamPosition, subject};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt as _;
use tokio_util::sync::CancellationToken;

use crate::hub::{Hub, HubEvent};

/// How long a stream may go on without the api confirming the user's access.
const ACCESS_UNCONFIRMED_LIMIT: Duration = Duration::from_secs(5);

/// How long a replay may wait for its next event before giving up.
const REPLAY_STALL: Duration = Duration::from_secs(5);

fn sse_event(event: &HubEvent, epoch: u64) -> Event {
    Event::default().id(StreamPosition { epoch, seq: event.seq }.to_string()).event(&event.event_type).data(&event.data)
}

fn resync(reason: &str) -> Event {
    Event::default().event("resync").data(serde_json::json!({"reason": reason}).to_string())
}

fn upstream_error(err: &ClientError) -> ApiError {
    if err.status() == Some(StatusCode::UNAUTHORIZED) {
        ApiError::unauthorized("this token is unknown, expired or revoked; sign in again")
    } else if err.status() == Some(StatusCode::FORBIDDEN) {
        ApiError::forbidden(ErrorCode::InsufficientScope, "this token may not read events; it needs the `read` scope")
    } else {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::UpstreamUnavailable,
            "the api cannot be reached; retry shortly",
        )
        .with_retry_after(1)
    }
}

/// What a periodic re-check of the stream's token found.
enum Recheck {
    /// The api refuses the token (revoked, expired, its user gone): end the stream.
    Refused,
    /// The subjects the user may see now.
    Allowed(Vec<String>),
    /// The api is unreachable or slow: keep going, the next check decides.
    Unknown,
}

/// Exactly what a user may see: their communities' public events, their own private
/// channels and DMs, and their own notifications.
fn visible_subjects(me: &Me) -> Vec<String> {
    let mut subjects: Vec<String> = me.communities.iter().map(|c| subject::community(c.id)).collect();
    subjects.extend(me.private_channels.iter().map(|c| subject::of_channel(c.id, c.kind, c.community_id)));
    subjects.push(subject::notifications(me.user.id));
    subjects
}

async fn recheck(api: &ApiClient, within: Duration) -> Recheck {
    match tokio::time::timeout(within, api.me()).await {
        Ok(Ok(me)) => Recheck::Allowed(visible_subjects(&me)),
        Ok(Err(err)) if err.status() == Some(StatusCode::UNAUTHORIZED) => Recheck::Refused,
        Ok(Err(_)) | Err(_) => Recheck::Unknown,
    }
}

pub async fn stream_events(
    State(api): State<ApiClient>,
    State(bus): State<Arc<NatsBus>>,
    State(hub): State<Hub>,
    State(config): State<Arc<Config>>,
    State(shutdown): State<CancellationToken>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let token = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer)
        .ok_or_else(|| ApiError::unauthorized("sign in first: send `Authorization: Bearer <token>`"))?;
    let api = api.with_token(token);
    let me = match api.me().await {
        Ok(me) => me,
        Err(err) if err.code() == Some(ErrorCode::TokenRevoked) => return Ok(StatusCode::NO_CONTENT.into_response()),
        Err(err) => return Err(upstream_error(&err)),
    };
    let subjects = visible_subjects(&me);
    let own_subject = subject::notifications(me.user.id);
    let mut allowed = subjects.clone();

    // (1) Live events queue up from here on.
    let mut registration = hub.register(subjects.clone(), config.sse_queue_len);
    let unavailable = |err: ajet_shared::events::bus::BusError| {
        ApiError::unavailable(ErrorCode::EventsUnavailable, "the event stream is unavailable; retry shortly", err)
    };
    let state = bus.stream_state().await.map_err(unavailable)?;
    let resume = headers.get("last-event-id").and_then(|v| v.to_str().ok()).filter(|v| !v.trim().is_empty());
    let (replay, mut last_sent) = match resume.map(str::parse::<StreamPosition>) {
        None => (None, 0),
        Some(Err(_)) => (Some(Replay::Gone), 0),
        Some(Ok(position)) => {
            (Some(bus.replay(position.epoch, position.seq, subjects).await.map_err(unavailable)?), position.seq)
        }
    };
    let epoch = state.epoch;
    let recheck_every = config.sse_auth_recheck();
    let body = async_stream::stream! {
        // (2) Replay what was missed.
        match replay {
            Some(Replay::Gone) => {
                last_sent = 0;
                yield Ok::<_, Infallible>(resync("the stream no longer holds that position; refetch and continue"));
            }
            Some(Replay::Events(mut events)) => {
                loop {
                    // A replay that stalls (e.g. messages expiring under it) or outlasts
                    // shutdown ends the stream; the client resumes from the last id.
                    let item = tokio::select! {
                        () = shutdown.cancelled() => return,
                        next = tokio::time::timeout(REPLAY_STALL, events.next()) => match next {
                            Ok(Some(item)) => item,
                            Ok(None) => break,
                            Err(_) => return,
                        },
                    };
                    match item {
                        Ok(delivered) => {
                            if let Some(event) = HubEvent::from_delivered(&delivered) {
                                last_sent = event.seq;
                                yield Ok(sse_event(&event, epoch));
                            }
                        }
                        Err(err) => {
                            // End the stream: the client resumes from the last id it got.
                            tracing::warn!(error = %err, "replay failed");
                            return;
                        }
                    }
                }
            }
            None => {}
        }
        // (3) Live, with the monotonic check as the whole dedupe rule, and only subjects
        // the user may still see (access is re-checked every few seconds, and at once when
        // their own subject says they joined something).
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + recheck_every, recheck_every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_confirmed = tokio::time::Instant::now();
        loop {
            let mut recheck_now = false;
            tokio::select! {
                () = shutdown.cancelled() => {
                    yield Ok(Event::default().retry(Duration::from_secs(1)).comment("server restarting"));
                    return;
                }
                _ = ticks.tick() => recheck_now = true,
                next = registration.events.recv() => match next {
                    Some(event) if event.seq > last_sent && allowed.contains(&event.subject) => {
                        last_sent = event.seq;
                        recheck_now = event.subject == own_subject && event.event_type == "member.joined";
                        yield Ok(sse_event(&event, epoch));
                    }
                    Some(_) => {}
                    // Dropped by the hub for falling behind: end, the client resumes.
                    None => return,
                }
            }
            if recheck_now {
                match recheck(&api, recheck_every).await {
                    Recheck::Refused => return,
                    Recheck::Allowed(now) => {
                        last_confirmed = tokio::time::Instant::now();
                        let gained = now.iter().any(|s| !allowed.contains(s));
                        registration.resubscribe(now.clone());
                        allowed = now;
                        if gained {
                            // Events of the new channel or community from before this
                            // moment are not on this connection: the client refetches.
                            yield Ok(resync("you can see more than before; refetch and continue"));
                        }
                    }
                    // Fail closed: access that cannot be confirmed for long ends the stream.
                    Recheck::Unknown if last_confirmed.elapsed() > ACCESS_UNCONFIRMED_LIMIT => return,
                    Recheck::Unknown => {}
                }
            }
        }
    };
    let mut response = Sse::new(body).keep_alive(KeepAlive::new().interval(config.sse_keepalive())).into_response();
    // Tell any buffering proxy (nginx) to pass events through as they come.
    response.headers_mut().insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}
