//! Wire types of moderation (bans, kicks, mutes, role changes, slow mode and freeze) and of
//! the audit log.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{Role, User};
use crate::domain::ids::{CommunityId, UserId};

/// `POST /api/communities/{id}/bans`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateBanRequest {
    pub user_id: UserId,
    /// Why, shown to the banned user and kept in the audit log (1 to 512 characters).
    #[serde(default)]
    pub reason: Option<String>,
    /// Seconds until the ban ends by itself; none means until lifted.
    #[serde(default)]
    pub expires_in_secs: Option<u32>,
}

/// A ban as listed to admins.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Ban {
    pub community_id: CommunityId,
    pub user: User,
    pub reason: Option<String>,
    pub banned_by: Option<UserId>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Null: until lifted.
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
}

/// `POST /api/communities/{id}/kicks`: out of the community now; an invite brings them back.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateKickRequest {
    pub user_id: UserId,
    #[serde(default)]
    pub reason: Option<String>,
}

/// `POST /api/communities/{id}/mutes`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateMuteRequest {
    pub user_id: UserId,
    /// Seconds the mute lasts; none means until lifted.
    #[serde(default)]
    pub duration_secs: Option<u32>,
    #[serde(default)]
    pub reason: Option<String>,
}

/// A community-wide mute: the member reads but cannot post or react until `muted_until`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Mute {
    pub community_id: CommunityId,
    pub user_id: UserId,
    pub reason: Option<String>,
    pub muted_by: Option<UserId>,
    /// Null: until lifted.
    #[serde(with = "time::serde::rfc3339::option")]
    pub muted_until: Option<OffsetDateTime>,
}

/// A mute in force as listed to admins (`GET /api/communities/{id}/mutes`): who, by whom,
/// why and until when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MutedMember {
    pub community_id: CommunityId,
    pub user: User,
    pub reason: Option<String>,
    /// Null when the admin who muted them no longer has an account.
    pub muted_by: Option<User>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Null: until lifted.
    #[serde(with = "time::serde::rfc3339::option")]
    pub muted_until: Option<OffsetDateTime>,
}

/// `PATCH /api/communities/{id}/members/{user_id}`: `admin` or `member`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateMemberRequest {
    pub role: Role,
    #[serde(default)]
    pub reason: Option<String>,
}

/// `PATCH /api/channels/{id}/moderation` (admins): the present fields change.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChannelModerationRequest {
    /// Minimum seconds between one member's posts (0 turns slow mode off; at most 21600).
    /// Admins are exempt.
    #[serde(default)]
    pub slow_mode_secs: Option<u32>,
    /// True: only admins may post or react (webhooks are refused too).
    #[serde(default)]
    pub frozen: Option<bool>,
    #[serde(default)]
    pub reason: Option<String>,
}

/// One row of a community's audit log, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditRecord {
    pub id: uuid::Uuid,
    pub community_id: Option<CommunityId>,
    pub actor_id: Option<UserId>,
    /// Dotted, e.g. `member.ban`, `member.role`, `channel.freeze`, `webhook.create`.
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<uuid::Uuid>,
    /// Action-specific: the reason, the expiry, the new role.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub details: serde_json::Value,
    /// The `X-Trace-Id` of the request that did it.
    pub trace_id: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// `GET /api/communities/{id}/audit` query: newest first; `before` is the last id of the
/// previous page.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct AuditQuery {
    /// Only this action (e.g. `member.ban`).
    pub action: Option<String>,
    /// Only this actor's actions.
    pub actor: Option<UserId>,
    pub before: Option<uuid::Uuid>,
    /// 1 to 100 (default 50).
    pub limit: Option<u32>,
}
