//! Wire types of the logs a user reads: an incoming webhook's delivery log, and their own
//! security log.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::api::ErrorCode;
use crate::domain::ids::MessageId;

/// The payload format a delivery came in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum WebhookFormat {
    /// Slack-compatible JSON, or a form with a `payload` field.
    Slack,
    /// A GitHub event (the request carried `X-GitHub-Event`).
    Github,
}

impl WebhookFormat {
    /// The wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Slack => "slack",
            Self::Github => "github",
        }
    }
}

/// One delivery to an incoming webhook (its id and token were right), accepted or refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookDelivery {
    /// Increasing: a later delivery has a larger id.
    pub id: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// The HTTP status the sender was answered.
    pub status: u16,
    /// A refusal's error code; null when accepted.
    pub code: Option<ErrorCode>,
    /// A refusal's error message, as the sender got it; null when accepted.
    pub message: Option<String>,
    /// The size of the body read, in bytes (or the declared size of one refused as too large).
    pub payload_bytes: u64,
    pub format: WebhookFormat,
    /// GitHub's `X-GitHub-Event`, when sent.
    pub event: Option<String>,
    /// The message an accepted delivery posted (null once deleted).
    pub message_id: Option<MessageId>,
}

/// One row of my security log (`GET /api/me/security-log`): a login, a logout, an API
/// token created or revoked; with the address and, for logins, the user agent it came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SecurityEvent {
    pub id: uuid::Uuid,
    /// `auth.login`, `auth.logout`, `token.create`, `token.revoke`.
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<uuid::Uuid>,
    /// Action-specific: a login's `provider` and `user_agent`, a token's name and scopes.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub details: serde_json::Value,
    /// The client's address as the gateway saw it.
    pub ip: Option<String>,
    pub trace_id: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}
