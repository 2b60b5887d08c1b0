//! The `webhook_delivery_log` table: what the gateway answered to each delivery of a
//! webhook whose id and token were right, the last 100 per webhook.

use sqlx::PgConnection;
use time::OffsetDateTime;

use crate::api::ErrorCode;
use crate::api::wire::{WebhookDelivery, WebhookFormat};
use crate::domain::ids::{MessageId, WebhookId};

/// How many deliveries of one webhook are kept.
pub const KEPT: i64 = 100;

/// One delivery to log.
#[derive(Clone, Debug)]
pub struct NewDelivery<'a> {
    pub webhook: WebhookId,
    pub status: u16,
    /// The code and message of a refusal.
    pub error: Option<(ErrorCode, &'a str)>,
    pub payload_bytes: u64,
    pub format: WebhookFormat,
    pub event: Option<&'a str>,
    pub message: Option<MessageId>,
}

/// Logs `delivery` and drops the webhook's deliveries older than the last `KEPT`, in the
/// caller's transaction.
pub async fn record(tx: &mut PgConnection, delivery: &NewDelivery<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO webhook_delivery_log
             (webhook_id, status, error_code, error_message, payload_bytes, format, event, message_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(delivery.webhook)
    .bind(i16::try_from(delivery.status).unwrap_or(500))
    .bind(delivery.error.map(|(code, _)| code.as_str()))
    .bind(delivery.error.map(|(_, message)| message))
    .bind(i32::try_from(delivery.payload_bytes).unwrap_or(i32::MAX))
    .bind(delivery.format.as_str())
    .bind(delivery.event)
    .bind(delivery.message)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "DELETE FROM webhook_delivery_log WHERE webhook_id = $1 AND id <= (
             SELECT id FROM webhook_delivery_log WHERE webhook_id = $1 ORDER BY id DESC OFFSET $2 LIMIT 1)",
    )
    .bind(delivery.webhook)
    .bind(KEPT)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: i64,
    received_at: OffsetDateTime,
    status: i16,
    error_code: Option<String>,
    error_message: Option<String>,
    payload_bytes: i32,
    format: String,
    event: Option<String>,
    message_id: Option<MessageId>,
}

/// The logged deliveries of `webhook`, newest first.
pub async fn list(db: impl sqlx::PgExecutor<'_>, webhook: WebhookId) -> Result<Vec<WebhookDelivery>, sqlx::Error> {
    let rows: Vec<DeliveryRow> = sqlx::query_as(
        "SELECT id, received_at, status, error_code, error_message, payload_bytes, format, event, message_id
         FROM webhook_delivery_log WHERE webhook_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(webhook)
    .bind(KEPT)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| WebhookDelivery {
            id: row.id,
            received_at: row.received_at,
            status: u16::try_from(row.status).unwrap_or(0),
            code: row.error_code.as_deref().map(|code| {
                serde_json::from_value(serde_json::Value::String(code.to_owned())).unwrap_or(ErrorCode::Unknown)
            }),
            message: row.error_message,
            payload_bytes: u64::try_from(row.payload_bytes).unwrap_or(0),
            format: if row.format == WebhookFormat::Github.as_str() {
                WebhookFormat::Github
            } else {
                WebhookFormat::Slack
            },
            event: row.event,
            message_id: row.message_id,
        })
        .collect())
}
