//! `POST /tui/typing` and `POST /tui/focus`: the terminal clients' ephemeral signals, taken
//! by the shared stream core (`Streams::typing`, `Streams::focus`; see there): typing is
//! checked against the channels the caller is a member of, limited per user and published
//! on core NATS; focus names the channel the credential's client shows, so its streams
//! carry typing for that channel only.

use ajet_shared::api::ApiError;
use ajet_shared::api::wire::{FocusRequest, TypingRequest};
use ajet_shared::auth::bearer;
use ajet_shared::events::bus::NatsBus;
use ajet_shared::stream::Streams;
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, StatusCode, header};

fn token(headers: &HeaderMap) -> Result<&str, ApiError> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer)
        .ok_or_else(|| ApiError::unauthorized("sign in first: send `Authorization: Bearer <token>`"))
}

pub async fn typing(
    State(streams): State<Streams<NatsBus>>,
    headers: HeaderMap,
    body: Result<Json<TypingRequest>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let token = token(&headers)?;
    let Json(request) = body?;
    streams.typing(token, request.channel_id, request.typing).await.map_err(|err| err.api_error())?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn focus(
    State(streams): State<Streams<NatsBus>>,
    headers: HeaderMap,
    body: Result<Json<FocusRequest>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let token = token(&headers)?;
    let Json(request) = body?;
    streams.focus(token, request.channel_id).map_err(|err| err.api_error())?;
    Ok(StatusCode::NO_CONTENT)
}
