//! Request and response bodies of the API, shared by the servers, the typed client and tests.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::domain::ids::{
    ApiTokenId, AttachmentId, ChannelId, CommunityId, MessageId, NotificationId, UserId, WebhookId,
};

mod moderation;
mod webhooks;

pub use moderation::{
    AuditQuery, AuditRecord, Ban, ChannelModerationRequest, CreateBanRequest, CreateKickRequest, CreateMuteRequest,
    Mute, MutedMember, UpdateMemberRequest,
};
pub use webhooks::{SecurityEvent, WebhookDelivery, WebhookFormat};

/// A list answer: `{"data": [...], "page": {...}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub data: Vec<T>,
    pub page: PageInfo,
}

/// Cursors of a page. `before` fetches older items, `after` newer ones; each is null when
/// that end of the list has been reached.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PageInfo {
    pub before: Option<String>,
    pub after: Option<String>,
    pub has_more: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub avatar_url: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DevLoginRequest {
    pub username: String,
}

/// `POST /auth/cli/exchange`: the one-time code the CLI's loopback received, and the state
/// it started the login with.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CliExchangeRequest {
    pub code: String,
    pub state: String,
}

/// A successful login: the session token for `Authorization: Bearer` use.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginResponse {
    pub token: String,
    pub user: User,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Admin,
    Member,
}

impl Role {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Member => "member",
        }
    }

    #[must_use]
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "owner" => Some(Self::Owner),
            "admin" => Some(Self::Admin),
            "member" => Some(Self::Member),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateCommunityRequest {
    pub name: String,
    pub slug: String,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Community {
    pub id: CommunityId,
    pub name: String,
    pub slug: String,
    pub description: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Whether links posted in its channels get previews (admins switch it off with
    /// `PATCH /api/communities/{id}`).
    #[serde(default = "previews_on")]
    pub link_previews: bool,
    /// The caller's role in it.
    pub role: Role,
}

/// A community answered by a server that predates the switch previews links.
fn previews_on() -> bool {
    true
}

/// The caller, the communities they belong to, the private channels and DMs they are in
/// (session managers subscribe to those channels' own subjects) and the public channels
/// they have joined (session managers deliver only those channels' traffic).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    pub user: User,
    pub communities: Vec<Community>,
    /// The private channels, DMs and group DMs the caller is in.
    #[serde(default)]
    pub private_channels: Vec<ChannelRef>,
    /// The public channels the caller has joined.
    #[serde(default)]
    pub public_channels: Vec<ChannelRef>,
}

/// Enough of a channel to know its event subject.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChannelRef {
    pub id: ChannelId,
    pub kind: ChannelKind,
    pub community_id: Option<CommunityId>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateMeRequest {
    #[serde(default)]
    pub display_name: Option<String>,
}

/// `POST /api/commands`: run a slash command typed in a channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RunCommandRequest {
    pub channel_id: ChannelId,
    /// The line as typed, starting with `/`.
    pub text: String,
}

/// What a command did: its ephemeral reply (also pushed to the caller's own streams as
/// `command.replied`), and the message it posted, if it posted one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommandOutcome {
    pub reply: Option<String>,
    pub message: Option<Message>,
}

/// One command a caller may run (`GET /api/commands`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommandInfo {
    pub name: String,
    pub aliases: Vec<String>,
    pub usage: String,
    pub summary: String,
    /// Only community admins may run it.
    pub admin: bool,
}

/// `GET /api/commands?channel_id=`: with a channel, admin commands are listed only if the
/// caller is an admin of its community.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[serde(deny_unknown_fields)]
pub struct CommandQuery {
    pub channel_id: Option<ChannelId>,
}

/// tui-sm's `POST /tui/typing`: the caller started (`true`) or stopped typing in a channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypingRequest {
    pub channel_id: ChannelId,
    pub typing: bool,
}

/// tui-sm's `POST /tui/focus`: the channel the caller's client shows (`null`: none).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FocusRequest {
    pub channel_id: Option<ChannelId>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    Public,
    Private,
    Dm,
    GroupDm,
}

impl ChannelKind {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Private => "private",
            Self::Dm => "dm",
            Self::GroupDm => "group_dm",
        }
    }

    #[must_use]
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "public" => Some(Self::Public),
            "private" => Some(Self::Private),
            "dm" => Some(Self::Dm),
            "group_dm" => Some(Self::GroupDm),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateChannelRequest {
    pub name: String,
    #[serde(default)]
    pub topic: Option<String>,
    /// `public` (default) or `private`.
    #[serde(default)]
    pub kind: Option<ChannelKind>,
}

/// `PATCH /api/channels/{id}`: each present field changes; an empty topic clears it.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateChannelRequest {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub topic: Option<String>,
    #[serde(default)]
    pub archived: Option<bool>,
}

/// A channel as listed for the caller, with their unread state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChannelListItem {
    #[serde(flatten)]
    pub channel: Channel,
    pub is_member: bool,
    /// Unread top-level messages by others, capped at `UNREAD_CAP` (show "99+" then).
    pub unread_count: i64,
    /// The caller's unread notifications in the channel (mentions, and in DMs and threads
    /// also the messages addressed to them), capped like `unread_count`. Notifications
    /// honour the caller's preferences, so a muted channel or `none` adds nothing.
    pub mention_count: i64,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_message_at: Option<OffsetDateTime>,
    /// The caller's preferences in the channel (the defaults when not a member).
    #[serde(default)]
    pub notify_level: NotifyLevel,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub muted_until: Option<OffsetDateTime>,
    #[serde(default)]
    pub starred: bool,
    /// For DMs and group DMs: the other members.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<User>,
}

/// Unread counts stop here: "99+" needs no exact figure, and counting stays cheap.
pub const UNREAD_CAP: i64 = 100;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AddMemberRequest {
    pub user_id: UserId,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReadRequest {
    pub message_id: MessageId,
}

/// The caller's read cursor in a channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReadCursor {
    pub channel_id: ChannelId,
    pub message_id: MessageId,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateDmRequest {
    /// The other participants (the caller is added).
    pub user_ids: Vec<UserId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Channel {
    pub id: ChannelId,
    pub community_id: Option<CommunityId>,
    pub kind: ChannelKind,
    pub name: Option<String>,
    pub topic: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub archived_at: Option<OffsetDateTime>,
    /// Minimum seconds between one member's posts; 0 is off. Admins are exempt.
    #[serde(default)]
    pub slow_mode_secs: u32,
    /// Since when only admins may post or react; null when open.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub frozen_at: Option<OffsetDateTime>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateMessageRequest {
    pub body_md: String,
    #[serde(default)]
    pub parent_id: Option<MessageId>,
    #[serde(default)]
    pub client_msg_id: Option<String>,
    /// Uploads to attach (at most 10): each the caller's own, into this channel, not yet
    /// attached to a message.
    #[serde(default)]
    pub attachment_ids: Vec<AttachmentId>,
}

/// An uploaded file (`POST /api/channels/{id}/attachments`), downloadable at
/// `GET /api/attachments/{id}` by whoever may read its channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attachment {
    pub id: AttachmentId,
    pub channel_id: ChannelId,
    /// The uploader's file name, sanitised (no path, no control characters).
    pub filename: String,
    /// Sniffed from the file's first bytes, never taken from the client.
    pub content_type: String,
    pub size_bytes: i64,
    /// Pixel size, for images whose header says it.
    pub width: Option<i32>,
    pub height: Option<i32>,
    /// A small PNG rendering exists at `GET /api/attachments/{id}/thumbnail`.
    #[serde(default)]
    pub has_thumbnail: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// Who a message is shown as: a user, or a webhook under its display overrides.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Author {
    pub user_id: Option<UserId>,
    pub username: Option<String>,
    pub display_name: String,
    pub avatar_url: Option<String>,
    /// Set when a bot wrote the message (today: an incoming webhook), null for people.
    /// Clients show a BOT tag from it; a payload's `username` override changes
    /// `display_name`, never this.
    #[serde(default)]
    pub bot: Option<Bot>,
}

/// The bot marker of an `Author`: which integration posted, under its configured name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Bot {
    pub webhook_id: WebhookId,
    /// The webhook's own name, as its admins created it (not the post's override).
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Message {
    pub id: MessageId,
    pub channel_id: ChannelId,
    /// Position in the channel: 1, 2, 3… with no gaps, so order and loss are checkable.
    pub channel_seq: i64,
    pub author: Author,
    /// Empty once deleted.
    pub body_md: String,
    pub parent_id: Option<MessageId>,
    pub client_msg_id: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub edited_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub deleted_at: Option<OffsetDateTime>,
    pub reply_count: i32,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_reply_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub pinned_at: Option<OffsetDateTime>,
    pub pinned_by: Option<UserId>,
    /// Aggregated per emoji, in order of first use.
    pub reactions: Vec<ReactionSummary>,
    /// Previews of up to 3 of its links, added by the unfurl worker after the post (or an
    /// edit, which clears them first) as a `message.updated`.
    #[serde(default)]
    pub link_previews: Vec<LinkPreview>,
    /// Its files, in upload order; empty once deleted.
    #[serde(default)]
    pub attachments: Vec<Attachment>,
}

/// What a linked page says about itself (OpenGraph / Twitter card), fetched behind the
/// SSRF guard. `image_url` is always null for now: the unfurl worker drops the page's
/// image, since a client must never load a third party's URL (no hot-linking) and there is
/// no image proxy yet; a proxy would put our own URL here.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LinkPreview {
    /// The link as written in the message.
    pub url: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub site_name: Option<String>,
    pub image_url: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReactionSummary {
    pub emoji: String,
    pub count: i64,
    pub reacted_by_me: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateMessageRequest {
    pub body_md: String,
}

/// `GET /api/channels/{id}/messages` query.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct HistoryQuery {
    pub before: Option<MessageId>,
    pub after: Option<MessageId>,
    /// A page centred on this message (jump to unread, a pin, a search hit).
    pub around: Option<MessageId>,
    pub limit: Option<u32>,
}

/// A member of a community or channel, for `member.*` events.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Member {
    pub user: User,
    pub channel_id: Option<ChannelId>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateInviteRequest {
    /// Seconds until the invite stops working; none means it does not expire.
    #[serde(default)]
    pub expires_in_secs: Option<u32>,
    /// How many people may use it; none means unlimited.
    #[serde(default)]
    pub max_uses: Option<i32>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Invite {
    pub code: String,
    pub community_id: CommunityId,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    pub max_uses: Option<i32>,
    pub uses: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A reaction added or removed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReactionChange {
    pub message_id: MessageId,
    pub channel_id: ChannelId,
    pub user_id: UserId,
    pub emoji: String,
}

/// A message pinned or unpinned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PinChange {
    pub message_id: MessageId,
    pub channel_id: ChannelId,
    pub by: UserId,
}

/// `POST /api/channels/{id}/purge`: soft-delete the channel's latest messages (admins).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PurgeRequest {
    /// How many of the newest messages (thread replies included) to delete: 1 to 1000.
    pub count: u32,
    /// For the audit log.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Messages purged at once (`messages.purged`, and the purge's answer): clients replace
/// each with a tombstone, as for `message.deleted`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessagesPurged {
    pub channel_id: ChannelId,
    /// Oldest first; empty when the channel had nothing left to delete.
    pub ids: Vec<MessageId>,
}

/// A message deleted: clients replace it with a tombstone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageDeleted {
    pub id: MessageId,
    pub channel_id: ChannelId,
    pub parent_id: Option<MessageId>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateCommunityRequest {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// False: links posted in the community's channels get no previews (nothing is fetched).
    #[serde(default)]
    pub link_previews: Option<bool>,
}

/// A community member as listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommunityMember {
    pub user: User,
    pub role: Role,
    pub nickname: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub joined_at: OffsetDateTime,
}

/// Online if seen within the last two minutes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Presence {
    pub user_id: UserId,
    pub online: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_seen_at: Option<OffsetDateTime>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    pub name: String,
    /// Any of `read`, `write`, `admin`; at most the scopes of the caller's own credential.
    pub scopes: Vec<String>,
    /// Days until it stops working; none means it does not expire.
    #[serde(default)]
    pub expires_in_days: Option<u32>,
}

/// An API token as listed (never with its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiToken {
    pub id: ApiTokenId,
    pub name: String,
    pub scopes: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
}

/// A new token: the secret is shown this once.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedToken {
    pub token: String,
    #[serde(flatten)]
    pub info: ApiToken,
}

/// An incoming webhook as listed (never with its token).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookInfo {
    pub id: WebhookId,
    pub community_id: CommunityId,
    pub channel_id: ChannelId,
    pub name: String,
    pub avatar_url: Option<String>,
    pub created_by: Option<UserId>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookRequest {
    /// The channel it posts into (a community channel, not a DM).
    pub channel_id: ChannelId,
    pub name: String,
    #[serde(default)]
    pub avatar_url: Option<String>,
}

/// A new webhook: its URL (holding the token) is shown this once.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedWebhook {
    pub url: String,
    pub token: String,
    #[serde(flatten)]
    pub info: WebhookInfo,
}

/// `GET /api/webhooks?community_id=`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct WebhookQuery {
    pub community_id: CommunityId,
}

/// How much of a channel notifies a member.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NotifyLevel {
    /// Mentions, every DM message, and replies in threads the member wrote in.
    #[default]
    All,
    /// Only messages that mention the member (by name, or `@channel`/`@here`/`@everyone`).
    Mentions,
    /// Nothing.
    None,
}

impl NotifyLevel {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Mentions => "mentions",
            Self::None => "none",
        }
    }

    #[must_use]
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "all" => Some(Self::All),
            "mentions" => Some(Self::Mentions),
            "none" => Some(Self::None),
            _ => None,
        }
    }
}

/// `PATCH /api/channels/{id}/preferences`: each present field changes; `muted_until: null`
/// unmutes.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdatePreferencesRequest {
    #[serde(default)]
    pub notify_level: Option<NotifyLevel>,
    /// Silence the channel's notifications until then (RFC 3339); `null` unmutes.
    #[serde(default, with = "double_option_rfc3339", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub muted_until: Option<Option<OffsetDateTime>>,
    #[serde(default)]
    pub starred: Option<bool>,
}

/// `Option<Option<timestamp>>`: absent (no change), `null` (clear) or a time.
mod double_option_rfc3339 {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::OffsetDateTime;

    pub fn serialize<S: Serializer>(value: &Option<Option<OffsetDateTime>>, serializer: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(inner) => time::serde::rfc3339::option::serialize(inner, serializer),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Option<OffsetDateTime>>, D::Error> {
        #[derive(Deserialize)]
        struct Wrapped(#[serde(with = "time::serde::rfc3339::option")] Option<OffsetDateTime>);
        Wrapped::deserialize(deserializer).map(|Wrapped(inner)| Some(inner))
    }
}

/// A member's preferences in one channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChannelPreferences {
    pub channel_id: ChannelId,
    pub notify_level: NotifyLevel,
    #[serde(with = "time::serde::rfc3339::option")]
    pub muted_until: Option<OffsetDateTime>,
    pub starred: bool,
}

/// What a notification is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// The message mentions the user (`@user`, `@channel`, `@here`, `@everyone`).
    Mention,
    /// A message in one of the user's DMs or group DMs.
    Dm,
    /// A reply in a thread the user started or replied in.
    ThreadReply,
    /// The user was added to a private channel.
    Invite,
    /// A moderation or account event (role change, ban, kick); `data` says which.
    System,
}

impl NotificationKind {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mention => "mention",
            Self::Dm => "dm",
            Self::ThreadReply => "thread_reply",
            Self::Invite => "invite",
            Self::System => "system",
        }
    }

    #[must_use]
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "mention" => Some(Self::Mention),
            "dm" => Some(Self::Dm),
            "thread_reply" => Some(Self::ThreadReply),
            "invite" => Some(Self::Invite),
            "system" => Some(Self::System),
            _ => None,
        }
    }
}

/// The channel a notification points into, enough to render "in #dev" or "in a DM".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationChannel {
    pub id: ChannelId,
    pub kind: ChannelKind,
    pub name: Option<String>,
    pub community_id: Option<CommunityId>,
}

/// One entry of the caller's inbox, with enough context to render it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Notification {
    pub id: NotificationId,
    pub kind: NotificationKind,
    pub channel: Option<NotificationChannel>,
    pub community_id: Option<CommunityId>,
    /// The message it is about (`mention`, `dm`, `thread_reply`).
    pub message_id: Option<MessageId>,
    /// The thread the message replies in, if it is a reply (open the thread there).
    pub parent_id: Option<MessageId>,
    /// Who caused it (the author, the inviter); null for a webhook's post or a system event.
    pub actor: Option<User>,
    /// The start of the message's text, in the inbox; null in `notification.created` events
    /// (the stream carries message text only in message events, which it scrubs on edit or
    /// delete).
    pub snippet: Option<String>,
    /// Kind-specific extras (a system event's text, a new role).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: serde_json::Value,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub read_at: Option<OffsetDateTime>,
}

/// `GET /api/notifications` query: newest first, `before` an id from the previous page.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct NotificationQuery {
    /// Only unread ones.
    pub unread: Option<bool>,
    pub before: Option<NotificationId>,
    pub limit: Option<u32>,
}

/// `POST /api/notifications/read`: exactly one of `ids`, `all: true` or `channel_id`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReadNotificationsRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ids: Option<Vec<NotificationId>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<ChannelId>,
}

/// Notifications that became read (the answer to a read request, and the
/// `notifications.read` event every one of the user's streams receives).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationsRead {
    pub ids: Vec<NotificationId>,
}

/// `GET /api/sync` query.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct SyncQuery {
    /// The `cursor` of an earlier answer; without it, only a cursor (and the channel list)
    /// to start from.
    pub since: Option<String>,
}

/// What changed for the caller since a cursor, and the cursor to pass next time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncResponse {
    /// Pass as `since` next time.
    pub cursor: String,
    /// Channels the caller can see that were created, renamed, re-topicked, (un)archived or
    /// joined since, or whose read cursor or preferences of the caller's changed (every
    /// channel when there was no `since`), with the caller's unread state.
    pub channels: Vec<ChannelListItem>,
    /// Every channel the caller can see now: drop the ones not listed (left, removed).
    pub channel_ids: Vec<ChannelId>,
    /// The caller's read cursors that moved since.
    pub read_cursors: Vec<ReadCursor>,
    /// Per channel the caller is in: messages posted, edited or deleted since (deleted ones
    /// as tombstones), oldest first.
    pub messages: Vec<SyncMessages>,
    /// Notifications created since, newest first.
    pub notifications: Vec<Notification>,
    /// More notifications were created than listed: page the inbox.
    pub notifications_has_more: bool,
    /// Notifications that became read since.
    pub read_notification_ids: Vec<NotificationId>,
}

/// One channel's message changes in a `SyncResponse`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncMessages {
    pub channel_id: ChannelId,
    pub messages: Vec<Message>,
    /// More changed than listed: refetch the channel's history instead.
    pub has_more: bool,
}

/// How search results are ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SearchSort {
    /// Best first: how well the text matches (whole words above partial ones), blended with
    /// how recent the message is; ranks the newest 200 matches.
    #[default]
    Relevance,
    /// Newest first, through every match.
    Recent,
}

/// `GET /api/search` query.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// The query: words (the last one is a prefix unless a space follows), `"phrases"`,
    /// `-negation`, `OR`, `prefix*`, `in:#channel`, `in:@user` (a DM), `from:@user`,
    /// `has:link|file|mention|reaction`, `is:thread|pinned`, `before:`/`after:`/`on:YYYY-MM-DD`.
    pub q: String,
    /// `page.before` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<SearchSort>,
    /// The IANA time zone the dates are days of (e.g. `Europe/Paris`); UTC when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tz: Option<String>,
}

/// One message found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchHit {
    /// The message as history shows it (author, time, thread).
    pub message: Message,
    pub channel: NotificationChannel,
    /// HTML: the text around the first hit, HTML-escaped, every hit in `<mark>` (the only
    /// tag it holds); `…` where it was cut.
    pub snippet: String,
    /// Open the history at the hit: `GET /api/channels/{channel}/messages?around=` this id
    /// (the thread's root for a reply; `message.parent_id` names the thread).
    pub around: MessageId,
}
