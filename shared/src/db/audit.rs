//! The audit log: who did what to which target, from where. Rows are only ever appended.

use std::net::IpAddr;

use sqlx::PgExecutor;

use crate::domain::ids::{CommunityId, UserId};

/// One audited action. `action` is dotted lowercase (`auth.login`, `token.revoke`);
/// `target` is a type name and id (`("session", id)`).
#[derive(Clone, Debug)]
pub struct AuditEntry<'a> {
    pub community_id: Option<CommunityId>,
    pub actor_id: Option<UserId>,
    pub action: &'a str,
    pub target: Option<(&'a str, uuid::Uuid)>,
    pub details: serde_json::Value,
    pub ip: Option<IpAddr>,
}

pub async fn record(db: impl PgExecutor<'_>, entry: &AuditEntry<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (id, community_id, actor_id, action, target_type, target_id, details, ip)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::inet)",
    )
    .bind(uuid::Uuid::now_v7())
    .bind(entry.community_id)
    .bind(entry.actor_id)
    .bind(entry.action)
    .bind(entry.target.map(|(kind, _)| kind))
    .bind(entry.target.map(|(_, id)| id))
    .bind(&entry.details)
    .bind(entry.ip.map(|ip| ip.to_string()))
    .execute(db)
    .await?;
    Ok(())
}
