//! Incoming webhooks, `POST /hook/{id}/{token}`: the one public write. The token is
//! checked in constant time against the webhook's stored SHA-256, each webhook has its own
//! allowance, and the payload is parsed: Slack-style, or GitHub's when the request carries
//! `X-GitHub-Event` (`github.rs`; a GitHub delivery's `X-GitHub-Delivery` is its
//! idempotency key unless it sends one); the post itself is
//! `ajet_shared::chat::messages::post_message`, the same use case as a user's post (the
//! channel's rules, one transaction with the outbox event; see ARCHITECTURE.md for why
//! the gateway calls it). An `Idempotency-Key` makes a retry answer the first post's message.
//! Wrong ids and tokens draw on the client address's allowance, and a spent address is
//! refused (429) before any lookup. Every delivery past the token check, accepted or
//! refused, is logged for the webhook's admins (`chat::webhooks::record_delivery`).

use ajet_shared::api::ErrorCode;
use std::sync::Arc;

use ajet_shared::api::ApiError;
use ajet_shared::api::wire::{Message, WebhookFormat};
use ajet_shared::auth::hash_token;
use ajet_shared::chat::messages::{Poster, post_message};
use ajet_shared::chat::webhooks::record_delivery;
use ajet_shared::config::Config;
use ajet_shared::db::webhook_log::NewDelivery;
use ajet_shared::db::webhooks::Webhook;
use ajet_shared::db::{self, PgPool};
use ajet_shared::domain::MessageBody;
use ajet_shared::domain::ids::{MessageId, WebhookId};
use ajet_shared::domain::names::check_label;
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq as _;

use crate::extract::ClientIp;
use crate::github::{self, GithubPost};
use crate::rate_limit::BucketKey;
use crate::slack::{self, SlackPost};
use crate::state::GatewayState;

const NAME_MAX_CHARS: usize = 80;
const ICON_URL_MAX_CHARS: usize = 2048;
const IDEMPOTENCY_KEY_MAX: usize = 200;
/// The delivery log keeps this much of a refusal's message.
const LOGGED_MESSAGE_MAX_CHARS: usize = 500;
/// The header naming a GitHub event; its presence makes a delivery GitHub's.
const GITHUB_EVENT: &str = "x-github-event";
/// Keeps GitHub's delivery ids apart from keys a sender chose.
const GITHUB_KEY_PREFIX: &str = "github:";

fn not_found() -> ApiError {
    ApiError::not_found(ErrorCode::WebhookNotFound, "no such webhook, or a wrong token (it may have been revoked)")
}

fn too_large(max: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::PayloadTooLarge,
        format!("the webhook payload is larger than the {max} bytes accepted"),
    )
}

/// The live webhook `id` whose token is `token`. A wrong token is answered as an unknown or
/// revoked id is (404), so the answer never tells whether an id is live.
async fn authenticate(pool: &PgPool, id: &str, token: &str) -> Result<Webhook, ApiError> {
    let id = id.parse().map(WebhookId).map_err(|_| not_found())?;
    let webhook =
        db::webhooks::get(pool, id).await?.filter(|webhook| webhook.revoked_at.is_none()).ok_or_else(not_found)?;
    let presented = hash_token(token);
    if !bool::from(presented.as_slice().ct_eq(&webhook.token_hash)) {
        return Err(not_found());
    }
    Ok(webhook)
}

/// `authenticate`, with wrong ids and tokens charged to the client's address (the same
/// allowance as other requests without a valid credential): an address that has spent it
/// is refused before any lookup, so guessing tokens costs the database nothing.
async fn authenticate_limited(
    state: &GatewayState,
    client: ClientIp,
    id: &str,
    token: &str,
) -> Result<Webhook, ApiError> {
    let key = BucketKey::Ip(client.bucket());
    if let Some(refusal) = state.limits.requests.spent(key) {
        return Err(refusal.error());
    }
    authenticate(&state.pool, id, token).await.inspect_err(|err| {
        if err.status.is_client_error() {
            state.limits.requests.check(key);
        }
    })
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else { return Ok(None) };
    match value.to_str() {
        Ok(key) if (1..=IDEMPOTENCY_KEY_MAX).contains(&key.len()) && key.chars().all(|c| c.is_ascii_graphic()) => {
            Ok(Some(key.to_owned()))
        }
        _ => Err(ApiError::bad_request(
            ErrorCode::InvalidIdempotencyKey,
            format!("Idempotency-Key: 1 to {IDEMPOTENCY_KEY_MAX} visible ASCII characters"),
        )),
    }
}

async fn read_body(body: Body, headers: &HeaderMap, max: u64) -> Result<bytes::Bytes, ApiError> {
    if declared_length(headers).is_some_and(|length| length > max) {
        return Err(too_large(max));
    }
    axum::body::to_bytes(body, usize::try_from(max).unwrap_or(usize::MAX)).await.map_err(|err| {
        let over = std::error::Error::source(&err)
            .is_some_and(|source| source.downcast_ref::<http_body_util::LengthLimitError>().is_some());
        if over {
            too_large(max)
        } else {
            ApiError::bad_request(ErrorCode::UnreadableBody, "the request body could not be read")
        }
    })
}

/// The payload's overrides, checked against the limits the messages table holds; like every
/// name they hold no control or bidi characters (`check_label`).
fn overrides(post: &SlackPost) -> Result<(), ApiError> {
    if let Some(name) = &post.username {
        if name.chars().count() > NAME_MAX_CHARS {
            return Err(ApiError::bad_request(
                ErrorCode::InvalidUsername,
                format!("username: at most {NAME_MAX_CHARS} characters"),
            ));
        }
        check_label("username", name)?;
    }
    if let Some(url) = &post.icon_url {
        check_label("icon_url", url)?;
    }
    if let Some(url) = &post.icon_url
        && (url.chars().count() > ICON_URL_MAX_CHARS || !(url.starts_with("https://") || url.starts_with("http://")))
    {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidIconUrl,
            format!("icon_url: an http(s) URL of at most {ICON_URL_MAX_CHARS} characters"),
        ));
    }
    Ok(())
}

pub async fn receive_webhook(
    State(state): State<GatewayState>,
    Path((id, token)): Path<(String, String)>,
    client: ClientIp,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    // Deliveries with a wrong id or token are not the webhook's: never logged.
    let webhook = authenticate_limited(&state, client, &id, &token).await?;
    let format = if headers.contains_key(GITHUB_EVENT) { WebhookFormat::Github } else { WebhookFormat::Slack };
    let mut payload_bytes = declared_length(&headers).unwrap_or(0);
    let decision = state.limits.webhooks.check(BucketKey::Webhook(webhook.id));
    let outcome = if decision.allowed {
        deliver(&state, &webhook, &decision, format, &headers, body, &mut payload_bytes).await
    } else {
        Err(decision.error())
    };
    let (status, error, message) = match &outcome {
        Ok(delivered) => (delivered.response.status(), None, delivered.message),
        Err(err) => (err.status, Some((err.code, err.message.as_str())), None),
    };
    let error_message = error.map(|(_, message)| truncate(message, LOGGED_MESSAGE_MAX_CHARS));
    let entry = NewDelivery {
        webhook: webhook.id,
        status: status.as_u16(),
        error: error.zip(error_message.as_deref()).map(|((code, _), message)| (code, message)),
        payload_bytes,
        format,
        event: github_event(&headers),
        message,
    };
    // The answer stands whether or not it could be logged: a post that was written must
    // not look failed (the sender would post it again).
    if let Err(err) = record_delivery(&state.pool, &entry).await {
        tracing::warn!(webhook = %webhook.id.as_uuid(), error = %err, "a webhook delivery could not be logged");
    }
    match outcome {
        Ok(delivered) => Ok(delivered.response),
        Err(_) if !decision.allowed => Ok(decision.refusal()),
        Err(err) => Err(err),
    }
}

/// What an authenticated delivery came to: the answer, and the message it posted.
struct Delivered {
    response: Response,
    message: Option<MessageId>,
}

/// Everything after authentication and the webhook's allowance: the payload, the post.
/// `payload_bytes` is set to the size of the body once read.
async fn deliver(
    state: &GatewayState,
    webhook: &Webhook,
    decision: &crate::rate_limit::Decision,
    format: WebhookFormat,
    headers: &HeaderMap,
    body: Body,
    payload_bytes: &mut u64,
) -> Result<Delivered, ApiError> {
    let config: &Arc<Config> = &state.config;
    let key = match idempotency_key(headers)? {
        Some(key) => Some(key),
        // GitHub names each delivery, and a redelivery carries the same name.
        None if format == WebhookFormat::Github => github_delivery(headers),
        None => None,
    };
    let bytes = read_body(body, headers, config.webhook_max_body_bytes).await?;
    *payload_bytes = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let post = match format {
        WebhookFormat::Slack => {
            let post = slack::parse(content_type, &bytes)
                .map_err(|malformed| ApiError::bad_request(ErrorCode::MalformedPayload, malformed.0))?;
            overrides(&post)?;
            post
        }
        WebhookFormat::Github => {
            let Some(event) = github_event(headers) else {
                return Err(ApiError::bad_request(
                    ErrorCode::MalformedPayload,
                    "X-GitHub-Event: an event name of 1 to 64 visible ASCII characters",
                ));
            };
            match github::parse(event, content_type, &bytes) {
                Ok(GithubPost::Message(body_md)) => SlackPost { body_md, username: None, icon_url: None },
                Ok(GithubPost::Ping) => {
                    return Ok(Delivered { response: StatusCode::NO_CONTENT.into_response(), message: None });
                }
                Err(github::Refused::Malformed(message)) => {
                    return Err(ApiError::bad_request(ErrorCode::MalformedPayload, message));
                }
                Err(github::Refused::Unsupported(message)) => {
                    return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::UnsupportedEvent, message));
                }
            }
        }
    };
    let body_md = MessageBody::parse("text", &post.body_md, config.message_max_chars)?;
    let poster = Poster::Webhook {
        webhook,
        username: post.username.as_deref(),
        icon_url: post.icon_url.as_deref(),
        idempotency_key: key.as_deref(),
    };
    // No relay runs in this process: the api's publishes the event on its next sweep.
    let posted = post_message(&state.pool, poster, &body_md, config.broadcast_mention_max_members).await?.unwoken();
    let message = posted.message.id;
    Ok(Delivered { response: answer(decision, posted.message), message: Some(message) })
}

/// The request's `Content-Length`, when it has a readable one.
fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok())
}

/// GitHub's event name as logged: printable ASCII of at most 64 characters, else nothing.
fn github_event(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(GITHUB_EVENT)
        .and_then(|v| v.to_str().ok())
        .filter(|event| (1..=64).contains(&event.len()) && event.chars().all(|c| c.is_ascii_graphic()))
}

/// GitHub's `X-GitHub-Delivery`, the delivery's id (the same on a redelivery), when it is
/// fit to be an idempotency key.
fn github_delivery(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-github-delivery")
        .and_then(|v| v.to_str().ok())
        .map(|key| format!("{GITHUB_KEY_PREFIX}{key}"))
        .filter(|key| key.len() <= IDEMPOTENCY_KEY_MAX && key.chars().all(|c| c.is_ascii_graphic()))
}

/// At most `max` characters of `text`.
fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// 200 with the message (Slack integrations check for 200), with the allowance headers.
fn answer(decision: &crate::rate_limit::Decision, message: Message) -> Response {
    let mut response = Json(message).into_response();
    decision.annotate(response.headers_mut());
    response
}
