//! `ErrorCode`: every machine-readable error code any ajet-chat service answers, in one
//! enum. Handlers, clients and tests name codes through it, never as string literals, so the
//! same condition has the same code everywhere and the OpenAPI description lists them all.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Declares the enum and its `snake_case` wire names together, so they cannot drift.
macro_rules! error_codes {
    ($($(#[doc = $doc:literal])* $variant:ident = $wire:literal,)*) => {
        /// A machine-readable error code (`{"error": {"code": ...}}`), `snake_case` on the wire.
        /// A code this build does not know (from a newer server) reads as `Unknown`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        // The schema derive reads this, not the per-variant renames (the wire names are
        // the variants' names in snake case; a test checks they agree).
        #[serde(rename_all = "snake_case")]
        pub enum ErrorCode {
            $($(#[doc = $doc])* #[serde(rename = $wire)] $variant,)*
            /// A code this client does not know; never sent by a server.
            #[serde(other, rename = "unknown")]
            Unknown,
        }

        impl ErrorCode {
            /// Every code a server may send.
            pub const ALL: &[Self] = &[$(Self::$variant,)*];

            /// The wire name, e.g. `not_a_channel_member`.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $wire,)*
                    Self::Unknown => "unknown",
                }
            }
        }
    };
}

error_codes! {
    // 400: the request is malformed or a field is invalid (the message names the field).
    /// A JSON body names a field the endpoint does not take.
    UnknownField = "unknown_field",
    /// A slash command that does not exist (the message suggests the nearest).
    UnknownCommand = "unknown_command",
    /// A slash command's arguments are wrong (the message says how it is used).
    InvalidCommand = "invalid_command",
    /// The JSON body is malformed or mistyped.
    InvalidBody = "invalid_body",
    /// The body could not be read.
    UnreadableBody = "unreadable_body",
    InvalidPath = "invalid_path",
    InvalidQuery = "invalid_query",
    InvalidCursor = "invalid_cursor",
    InvalidLimit = "invalid_limit",
    InvalidName = "invalid_name",
    /// Text holds control characters (or, in a body, any but newline and tab).
    InvalidCharacters = "invalid_characters",
    EmptyBody = "empty_body",
    InvalidEmoji = "invalid_emoji",
    InvalidClientMsgId = "invalid_client_msg_id",
    InvalidKind = "invalid_kind",
    InvalidParent = "invalid_parent",
    NestedThread = "nested_thread",
    NotAThreadRoot = "not_a_thread_root",
    InvalidUserIds = "invalid_user_ids",
    TooManyUserIds = "too_many_user_ids",
    InvalidScope = "invalid_scope",
    InvalidExpiry = "invalid_expiry",
    /// A moderation reason is empty, too long or holds control characters.
    InvalidReason = "invalid_reason",
    /// Only `admin` and `member` can be given; ownership is not transferred this way.
    InvalidRole = "invalid_role",
    /// A duration (a mute's, a ban's, slow mode's) is out of range.
    InvalidDuration = "invalid_duration",
    /// A moderator cannot ban, kick, mute or change the role of themselves.
    CannotModerateSelf = "cannot_moderate_self",
    /// `attachment_ids` names an upload that does not exist, is not the caller's or was
    /// uploaded into another channel, names one twice, or names more than 10.
    InvalidAttachment = "invalid_attachment",
    InvalidMaxUses = "invalid_max_uses",
    /// A purge's `count` is not 1 to 1000.
    InvalidCount = "invalid_count",
    InvalidUsername = "invalid_username",
    InvalidAvatarUrl = "invalid_avatar_url",
    InvalidIconUrl = "invalid_icon_url",
    InvalidIdempotencyKey = "invalid_idempotency_key",
    MalformedPayload = "malformed_payload",
    InvalidPort = "invalid_port",
    InvalidState = "invalid_state",
    InvalidUri = "invalid_uri",
    InvalidMessage = "invalid_message",
    NotACommunityChannel = "not_a_community_channel",
    NotPrivate = "not_private",
    /// `@channel`/`@everyone`/`@here` in a channel larger than the configured size, by
    /// someone who is not an admin.
    BroadcastNeedsAdmin = "broadcast_needs_admin",
    /// A notification read request names none or several of `ids`, `all`, `channel_id`.
    InvalidReadRequest = "invalid_read_request",
    /// A search query is malformed (unbalanced quote, unknown operator, bad value); the
    /// message names the problem.
    InvalidSearch = "invalid_search",
    /// A time zone is not an IANA name this server knows.
    InvalidTimeZone = "invalid_time_zone",
    /// The user named in the request is not in the channel's community (adding a member).
    UserNotInCommunity = "user_not_in_community",
    CannotLeaveDm = "cannot_leave_dm",
    OauthStateMissing = "oauth_state_missing",
    OauthStateMismatch = "oauth_state_mismatch",
    OauthStateExpired = "oauth_state_expired",
    OauthCodeMissing = "oauth_code_missing",
    OauthDenied = "oauth_denied",
    OauthCodeRejected = "oauth_code_rejected",
    OauthIdTokenInvalid = "oauth_id_token_invalid",
    CliCodeInvalid = "cli_code_invalid",
    CliCodeExpired = "cli_code_expired",
    CliStateMismatch = "cli_state_mismatch",
    // 401: who the caller is could not be established.
    /// No usable credentials.
    Unauthenticated = "unauthenticated",
    TokenExpired = "token_expired",
    TokenRevoked = "token_revoked",
    // 403: known caller, not allowed.
    InsufficientScope = "insufficient_scope",
    NotAChannelMember = "not_a_channel_member",
    NotACommunityMember = "not_a_community_member",
    NotAuthor = "not_author",
    /// Only the author or an admin of the community may do this (delete a message).
    NotAuthorOrAdmin = "not_author_or_admin",
    AdminOnly = "admin_only",
    OwnerProtected = "owner_protected",
    /// An admin may be banned, kicked, muted or demoted only by the owner.
    AdminProtected = "admin_protected",
    Banned = "banned",
    /// The caller is muted in the community: no posts or reactions until the mute ends.
    Muted = "muted",
    /// An incoming webhook whose creator is no longer an admin of its community (demoted,
    /// kicked, banned, gone): it posts again once they are an admin again; otherwise an
    /// admin creates a new one.
    WebhookCreatorRemoved = "webhook_creator_removed",
    /// The channel is frozen: only admins may post or react.
    ChannelFrozen = "channel_frozen",
    CrossSiteRequest = "cross_site_request",
    InviteOnly = "invite_only",
    InviteRequired = "invite_required",
    NotASession = "not_a_session",
    // 404: absent, or not visible to the caller (never an existence oracle).
    NotFound = "not_found",
    CommunityNotFound = "community_not_found",
    ChannelNotFound = "channel_not_found",
    MessageNotFound = "message_not_found",
    InviteNotFound = "invite_not_found",
    TokenNotFound = "token_not_found",
    /// No such attachment, or the caller may not read its channel now.
    AttachmentNotFound = "attachment_not_found",
    /// The user has no uploaded avatar, or the caller shares no community with them.
    AvatarNotFound = "avatar_not_found",
    /// The attachment has no thumbnail (not a PNG, JPEG, GIF or WebP small enough to render).
    ThumbnailNotFound = "thumbnail_not_found",
    WebhookNotFound = "webhook_not_found",
    /// The user named is not banned from the community (lifting a ban).
    BanNotFound = "ban_not_found",
    /// The user named is not muted in the community (lifting a mute).
    MuteNotFound = "mute_not_found",
    UnknownUser = "unknown_user",
    /// The user named in the request is not in the channel (removing a member).
    UserNotInChannel = "user_not_in_channel",
    UnknownProvider = "unknown_provider",
    // 409: the state forbids it.
    NoOpenStream = "no_open_stream",
    /// A slash command that cannot run here (one about a community, typed in a DM).
    CommandUnavailable = "command_unavailable",
    ChannelArchived = "channel_archived",
    MessageDeleted = "message_deleted",
    ChannelNameTaken = "channel_name_taken",
    SlugTaken = "slug_taken",
    TokenNameTaken = "token_name_taken",
    ClientMsgIdReused = "client_msg_id_reused",
    InviteInvalid = "invite_invalid",
    TooManyMembers = "too_many_members",
    TooManyTokens = "too_many_tokens",
    TooManyInvites = "too_many_invites",
    /// `attachment_ids` names an upload another message already carries.
    AttachmentInUse = "attachment_in_use",
    // 410: gone for good.
    /// A sync cursor too old to catch up from: refetch everything, then sync from a new one.
    SyncCursorExpired = "sync_cursor_expired",
    // 413, 415, 422: size and type.
    PayloadTooLarge = "payload_too_large",
    /// An upload larger than the `attachment_max_bytes` the api accepts.
    AttachmentTooLarge = "attachment_too_large",
    /// An upload larger than what is left of the uploader's `attachment_quota_bytes`.
    AttachmentQuotaExceeded = "attachment_quota_exceeded",
    /// An upload that is not a `multipart/form-data` body with one `file` field.
    InvalidUpload = "invalid_upload",
    UnsupportedMediaType = "unsupported_media_type",
    /// A webhook delivery of an event (or an action of one) this server does not render,
    /// e.g. a GitHub `issues` event or a `pull_request` that was `labeled`.
    UnsupportedEvent = "unsupported_event",
    MessageTooLong = "message_too_long",
    TopicTooLong = "topic_too_long",
    DescriptionTooLong = "description_too_long",
    // 429: slow down (with Retry-After).
    RateLimited = "rate_limited",
    /// The channel's slow mode: the message says how long to wait (also in Retry-After).
    SlowMode = "slow_mode",
    TooManyStreams = "too_many_streams",
    // 5xx: ours or a dependency's.
    /// Logged with its cause; the client sees only this.
    InternalError = "internal_error",
    DatabaseUnavailable = "database_unavailable",
    EventsUnavailable = "events_unavailable",
    UpstreamUnavailable = "upstream_unavailable",
    UpstreamTimeout = "upstream_timeout",
    /// The gateway is at its bound of requests or streams in flight (`gateway_max_requests`,
    /// `gateway_max_streams`): retry after `Retry-After`.
    Overloaded = "overloaded",
    ProviderUnavailable = "provider_unavailable",
    // Made by the typed client, never sent by a server.
    /// The server's answer was not the JSON the client expected.
    UnexpectedResponse = "unexpected_response",
    /// The event stream broke or could not be parsed.
    BadEventStream = "bad_event_stream",
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    #[test]
    fn wire_names_are_unique_snake_case_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for &code in ErrorCode::ALL {
            let wire = code.as_str();
            assert!(seen.insert(wire), "{wire} twice");
            assert!(wire.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{wire}");
            let json = serde_json::to_string(&code).expect("serialise");
            assert_eq!(json, format!("\"{wire}\""));
            assert_eq!(serde_json::from_str::<ErrorCode>(&json).expect("parse"), code);
        }
    }

    #[test]
    fn wire_names_are_the_variant_names_in_snake_case() {
        for &code in ErrorCode::ALL {
            let mut snake = String::new();
            for (i, c) in format!("{code:?}").chars().enumerate() {
                if c.is_ascii_uppercase() && i > 0 {
                    snake.push('_');
                }
                snake.push(c.to_ascii_lowercase());
            }
            assert_eq!(snake, code.as_str());
        }
    }

    #[test]
    fn a_code_from_a_newer_server_reads_as_unknown() {
        let code: ErrorCode = serde_json::from_str("\"invented_later\"").expect("parse");
        assert_eq!(code, ErrorCode::Unknown);
    }
}
