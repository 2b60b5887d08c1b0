//! `GET /tui/events`: the SSE stream of JSON envelopes, a thin adapter over
//! `ajet_shared::stream::StreamSession` (register → replay → live, dedupe by sequence,
//! access re-checks; see there). Each event's id is `<epoch>.<stream sequence>` and its
//! frame is built once and shared by every connection it goes to. A position the stream
//! no longer holds gets an explicit `resync` event.
//!
//! What the token behind an open stream may see is re-checked with the api at once after
//! an access event and every `sse_access_check_secs` as a safety net, once for all of this
//! process's streams of that token: once it is refused the stream ends, and a revoked session's
//! (re)connect is answered 204 so clients stop retrying (docs/design.md §5).

use std::convert::Infallible;

use ajet_shared::auth::bearer;
use ajet_shared::events::bus::NatsBus;
use ajet_shared::stream::{End, Item, OpenError, Streams};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use ajet_shared::api::ApiError;

/// A comment line, so proxies and clients see the connection is alive.
const KEEP_ALIVE: &[u8] = b":\n\n";

/// Sent as the stream ends for a restart: reconnect after a second.
const RESTARTING: &[u8] = b": server restarting\nretry: 1000\n\n";

fn resync(reason: &str) -> Bytes {
    Bytes::from(format!("event: resync\ndata: {}\n\n", serde_json::json!({ "reason": reason })))
}

pub async fn stream_events(State(streams): State<Streams<NatsBus>>, headers: HeaderMap) -> Result<Response, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer)
        .ok_or_else(|| ApiError::unauthorized("sign in first: send `Authorization: Bearer <token>`"))?;
    let resume = headers.get("last-event-id").and_then(|v| v.to_str().ok());
    let mut session = match streams.open(token, resume).await {
        Ok(session) => session,
        Err(OpenError::Revoked) => return Ok(StatusCode::NO_CONTENT.into_response()),
        Err(err) => return Err(err.api_error()),
    };
    let body = async_stream::stream! {
        loop {
            let frame = match session.next().await {
                Item::Event(event) => event.sse_frame(),
                Item::Typing(typing) => typing.sse_frame(),
                Item::Presence(diff) => diff.sse_frame(),
                Item::Resync(reason) => resync(reason),
                Item::Idle => Bytes::from_static(KEEP_ALIVE),
                Item::End(End::Shutdown) => {
                    yield Ok::<_, Infallible>(Bytes::from_static(RESTARTING));
                    return;
                }
                // Overflow, a failed replay, a refused or unconfirmed token: the stream ends
                // and the client resumes from its last id (or learns it must sign in).
                Item::End(_) => return,
            };
            yield Ok(frame);
        }
    };
    let mut response = Body::from_stream(body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // Tell any buffering proxy (nginx) to pass events through as they come.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}
