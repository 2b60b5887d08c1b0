//! The logs a terminal user can read: the community's audit log and a webhook's deliveries
//! (admins), and my own security log. One line per row, newest first; `--json` prints the
//! API's rows. `webhook avatar` is handed to `commands/avatars.rs`.

use std::collections::HashMap;

use ajet_shared::api::wire::{AuditQuery, AuditRecord, SecurityEvent, WebhookDelivery};
use ajet_shared::domain::ids::{UserId, WebhookId};

use crate::args::{AuditArgs, WebhookCommand};
use crate::escape;
use crate::failure::Failure;
use crate::output::{self, Output};
use crate::session::{Session, parse_id};

/// Usernames by id, for naming actors and targets.
type Names = HashMap<UserId, String>;

pub async fn audit(session: &Session, args: AuditArgs, out: Output) -> Result<(), Failure> {
    let community = session.community().await?;
    let actor = match &args.actor {
        Some(actor) => Some(session.member(actor).await?),
        None => None,
    };
    let before = args.before.as_deref().map(|raw| parse_id(raw, "audit record")).transpose()?;
    let query = AuditQuery { action: args.action, actor, before, limit: args.limit };
    let records = session.client.audit_log(community.id, &query).await?.data;
    if out.json {
        return out.json(&records);
    }
    let names: Names = session
        .client
        .list_community_members(community.id)
        .await?
        .data
        .into_iter()
        .map(|member| (member.user.id, member.user.username))
        .collect();
    for record in &records {
        println!("{}", audit_line(record, &names));
    }
    if records.is_empty() {
        eprintln!("No audit records.");
    }
    Ok(())
}

/// `time  @actor  action  target  reason or details  trace T  (id)`, escaped.
fn audit_line(record: &AuditRecord, names: &Names) -> String {
    let actor = record.actor_id.map_or_else(
        || "(system)".to_owned(),
        |id| names.get(&id).map_or_else(|| id.to_string(), |name| format!("@{}", escape::line(name))),
    );
    let target = match (&record.target_type, record.target_id) {
        (Some(kind), Some(id)) => {
            let named = names.get(&UserId::from(id)).filter(|_| kind == "user");
            named.map_or_else(|| format!("{} {id}", escape::line(kind)), |name| format!("@{}", escape::line(name)))
        }
        (Some(kind), None) => escape::line(kind).into_owned(),
        (None, Some(id)) => id.to_string(),
        (None, None) => "-".to_owned(),
    };
    let mut line = format!("{}  {actor}  {}  {target}", output::time(record.created_at), escape::line(&record.action));
    if let Some(details) = details(&record.details) {
        line.push_str(&format!("  {details}"));
    }
    if let Some(trace) = &record.trace_id {
        line.push_str(&format!("  trace {}", escape::line(trace)));
    }
    line.push_str(&format!("  ({})", record.id));
    line
}

/// A record's details: its reason when it has one, else its fields as compact JSON;
/// nothing for an empty object.
fn details(details: &serde_json::Value) -> Option<String> {
    if let Some(reason) = details.get("reason").and_then(serde_json::Value::as_str) {
        return Some(format!("reason: {}", escape::line(reason)));
    }
    match details {
        serde_json::Value::Null => None,
        serde_json::Value::Object(fields) if fields.is_empty() => None,
        other => Some(escape::line(&other.to_string()).into_owned()),
    }
}

pub async fn webhook(session: &Session, command: WebhookCommand, out: Output) -> Result<(), Failure> {
    match command {
        WebhookCommand::Deliveries { webhook } => {
            let webhook: WebhookId = parse_id(&webhook, "webhook")?;
            let deliveries = session.client.list_webhook_deliveries(webhook).await?.data;
            if out.json {
                return out.json(&deliveries);
            }
            for delivery in &deliveries {
                println!("{}", delivery_line(delivery));
            }
            if deliveries.is_empty() {
                eprintln!("No deliveries.");
            }
            Ok(())
        }
        WebhookCommand::Avatar { webhook, avatar } => super::avatars::webhook(session, &webhook, avatar, out).await,
    }
}

/// `time  status  code or ok  size  format[/event]  message id or refusal`, escaped.
fn delivery_line(delivery: &WebhookDelivery) -> String {
    let code = delivery.code.map_or_else(|| "ok".to_owned(), |code| code.as_str().to_owned());
    let mut format = delivery.format.as_str().to_owned();
    if let Some(event) = &delivery.event {
        format.push_str(&format!("/{}", escape::line(event)));
    }
    let mut line = format!(
        "{}  {}  {code}  {}  {format}",
        output::time(delivery.received_at),
        delivery.status,
        ajet_shared::domain::human_size(i64::try_from(delivery.payload_bytes).unwrap_or(i64::MAX)),
    );
    if let Some(message) = &delivery.message {
        line.push_str(&format!("  {}", escape::line(message)));
    }
    if let Some(posted) = delivery.message_id {
        line.push_str(&format!("  message {posted}"));
    }
    line
}

pub async fn security_log(session: &Session, out: Output) -> Result<(), Failure> {
    let events = session.client.security_log().await?.data;
    if out.json {
        return out.json(&events);
    }
    for event in &events {
        println!("{}", security_line(event));
    }
    if events.is_empty() {
        eprintln!("No security events.");
    }
    Ok(())
}

/// `time  action  ip  user agent`, escaped (`-` for what is unknown).
fn security_line(event: &SecurityEvent) -> String {
    let ip = event.ip.as_deref().map_or_else(|| "-".to_owned(), |ip| escape::line(ip).into_owned());
    let agent = event
        .details
        .get("user_agent")
        .and_then(serde_json::Value::as_str)
        .map_or_else(|| "-".to_owned(), |agent| escape::line(agent).into_owned());
    format!("{}  {}  {ip}  {agent}", output::time(event.created_at), escape::line(&event.action))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ajet_shared::api::ErrorCode;
    use ajet_shared::api::wire::WebhookFormat;
    use serde_json::json;
    use time::macros::datetime;

    fn uuid(n: u8) -> uuid::Uuid {
        let Ok(id) = format!("0190a5b0-0000-7000-8000-0000000000{n:02x}").parse() else { panic!("an id") };
        id
    }

    #[test]
    fn an_audit_record_names_its_actor_and_user_target_and_shows_its_reason_inert() {
        let alice = UserId::from(uuid(1));
        let bob = UserId::from(uuid(2));
        let names = Names::from([(alice, "alice".to_owned()), (bob, "b\u{1b}[8mob".to_owned())]);
        let record = AuditRecord {
            id: uuid(9),
            community_id: None,
            actor_id: Some(alice),
            action: "member.mute".into(),
            target_type: Some("user".into()),
            target_id: Some(bob.as_uuid()),
            details: json!({"reason": "spam\u{9b}31m", "duration_secs": 600}),
            trace_id: Some("t\u{7}1".into()),
            created_at: datetime!(2026-11-26 14:05:09 UTC),
        };
        assert_eq!(
            audit_line(&record, &names),
            format!(
                "2026-11-26 14:05  @alice  member.mute  @b\\x1b[8mob  reason: spam\\u{{9b}}31m  trace t\\x071  ({})",
                uuid(9)
            )
        );
        let channel = AuditRecord {
            actor_id: None,
            target_type: Some("channel".into()),
            details: json!({"frozen": true}),
            trace_id: None,
            ..record
        };
        assert_eq!(
            audit_line(&channel, &names),
            format!(
                "2026-11-26 14:05  (system)  member.mute  channel {}  {{\"frozen\":true}}  ({})",
                bob.as_uuid(),
                uuid(9)
            )
        );
    }

    #[test]
    fn a_delivery_shows_its_status_code_size_and_format_and_a_refusal_its_message() {
        let delivery = WebhookDelivery {
            id: 3,
            received_at: datetime!(2026-11-26 14:05:09 UTC),
            status: 403,
            code: Some(ErrorCode::ChannelFrozen),
            message: Some("frozen\u{1b}]0;x".into()),
            payload_bytes: 2048,
            format: WebhookFormat::Github,
            event: Some("push".into()),
            message_id: None,
        };
        assert_eq!(
            delivery_line(&delivery),
            "2026-11-26 14:05  403  channel_frozen  2.0 KiB  github/push  frozen\\x1b]0;x"
        );
    }

    #[test]
    fn a_security_event_shows_its_address_and_user_agent_inert() {
        let event = SecurityEvent {
            id: uuid(4),
            action: "auth.login".into(),
            target_type: None,
            target_id: None,
            details: json!({"provider": "dev", "user_agent": "curl\u{1b}[2J"}),
            ip: Some("127.0.0.1".into()),
            trace_id: None,
            created_at: datetime!(2026-11-26 14:05:09 UTC),
        };
        assert_eq!(security_line(&event), "2026-11-26 14:05  auth.login  127.0.0.1  curl\\x1b[2J");
        let bare = SecurityEvent { details: json!({}), ip: None, action: "token.create".into(), ..event };
        assert_eq!(security_line(&bare), "2026-11-26 14:05  token.create  -  -");
    }
}
