//! The audit log: who did what to which target, from where, in which request. Rows are only
//! ever appended.

use std::net::IpAddr;

use sqlx::PgExecutor;
use time::OffsetDateTime;

use crate::api::wire::{AuditRecord, SecurityEvent};
use crate::domain::ids::{CommunityId, UserId};

/// One audited action. `action` is dotted lowercase (`auth.login`, `token.revoke`);
/// `target` is a type name and id (`("session", id)`); `trace_id` the request's
/// `X-Trace-Id`.
#[derive(Clone, Debug)]
pub struct AuditEntry<'a> {
    pub community_id: Option<CommunityId>,
    pub actor_id: Option<UserId>,
    pub action: &'a str,
    pub target: Option<(&'a str, uuid::Uuid)>,
    pub details: serde_json::Value,
    pub ip: Option<IpAddr>,
    pub trace_id: Option<&'a str>,
}

pub async fn record(db: impl PgExecutor<'_>, entry: &AuditEntry<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (id, community_id, actor_id, action, target_type, target_id, details, ip, trace_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::inet, $9)",
    )
    .bind(uuid::Uuid::now_v7())
    .bind(entry.community_id)
    .bind(entry.actor_id)
    .bind(entry.action)
    .bind(entry.target.map(|(kind, _)| kind))
    .bind(entry.target.map(|(_, id)| id))
    .bind(&entry.details)
    .bind(entry.ip.map(|ip| ip.to_string()))
    .bind(entry.trace_id)
    .execute(db)
    .await?;
    Ok(())
}

/// Which rows of a community's log `reader` reads: optionally one action and one actor,
/// older than the row `before` (the paging cursor), at most `limit`.
#[derive(Clone, Copy, Debug)]
pub struct AuditQuery<'a> {
    pub community: CommunityId,
    pub reader: UserId,
    pub action: Option<&'a str>,
    pub actor: Option<UserId>,
    pub before: Option<uuid::Uuid>,
    pub limit: i64,
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: uuid::Uuid,
    community_id: Option<CommunityId>,
    actor_id: Option<UserId>,
    action: String,
    target_type: Option<String>,
    target_id: Option<uuid::Uuid>,
    details: serde_json::Value,
    trace_id: Option<String>,
    created_at: OffsetDateTime,
}

/// A page of a community's log, newest first (ids are UUIDv7, so id order is time order).
/// A row about a private channel (its target, or the `channel_id` in its details) that the
/// reader is not in is left out: to them that channel does not exist.
pub async fn list(db: impl PgExecutor<'_>, query: &AuditQuery<'_>) -> Result<Vec<AuditRecord>, sqlx::Error> {
    let rows: Vec<AuditRow> = sqlx::query_as(
        "SELECT id, community_id, actor_id, action, target_type, target_id, details, trace_id, created_at
         FROM audit_log
         WHERE community_id = $1
           AND ($2::text IS NULL OR action = $2)
           AND ($3::uuid IS NULL OR actor_id = $3)
           AND ($4::uuid IS NULL OR id < $4)
           AND NOT EXISTS (
               SELECT 1 FROM channels c
               WHERE c.kind = 'private'
                 AND c.id = COALESCE(CASE WHEN target_type = 'channel' THEN target_id END,
                                     (details->>'channel_id')::uuid)
                 AND NOT EXISTS (SELECT 1 FROM channel_members cm WHERE cm.channel_id = c.id AND cm.user_id = $6))
         ORDER BY id DESC LIMIT $5",
    )
    .bind(query.community)
    .bind(query.action)
    .bind(query.actor)
    .bind(query.before)
    .bind(query.limit)
    .bind(query.reader)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| AuditRecord {
            id: row.id,
            community_id: row.community_id,
            actor_id: row.actor_id,
            action: row.action,
            target_type: row.target_type,
            target_id: row.target_id,
            details: row.details,
            trace_id: row.trace_id,
            created_at: row.created_at,
        })
        .collect())
}

/// How many rows a security log shows.
pub const SECURITY_LOG_ROWS: i64 = 100;

#[derive(sqlx::FromRow)]
struct SecurityRow {
    id: uuid::Uuid,
    action: String,
    target_type: Option<String>,
    target_id: Option<uuid::Uuid>,
    details: serde_json::Value,
    ip: Option<String>,
    trace_id: Option<String>,
    created_at: OffsetDateTime,
}

/// `user`'s own instance-level rows (no community: logins, logouts, API tokens), newest
/// first, the last `SECURITY_LOG_ROWS`.
pub async fn security_log(db: impl PgExecutor<'_>, user: UserId) -> Result<Vec<SecurityEvent>, sqlx::Error> {
    let rows: Vec<SecurityRow> = sqlx::query_as(
        "SELECT id, action, target_type, target_id, details, host(ip) AS ip, trace_id, created_at
         FROM audit_log WHERE community_id IS NULL AND actor_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(user)
    .bind(SECURITY_LOG_ROWS)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| SecurityEvent {
            id: row.id,
            action: row.action,
            target_type: row.target_type,
            target_id: row.target_id,
            details: row.details,
            ip: row.ip,
            trace_id: row.trace_id,
            created_at: row.created_at,
        })
        .collect())
}
