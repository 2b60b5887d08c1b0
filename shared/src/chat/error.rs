//! Why a write (or a permission check) was refused, as one enum, and the one place it
//! becomes an HTTP error: the same condition answers the same status, code and message
//! wherever it arises (api routes and the gateway's webhook ingress alike).

use crate::api::ErrorCode;
use http::StatusCode;

use crate::api::ApiError;

/// A refused or failed chat operation. The message is the human sentence clients see.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error("there is no such community")]
    CommunityNotFound,
    #[error("you are not a member of this community")]
    NotCommunityMember,
    #[error("there is no such channel, or you cannot see it")]
    ChannelNotFound,
    #[error("there is no such message, or you cannot see it")]
    MessageNotFound,
    #[error("there is no such attachment, or you cannot see it")]
    AttachmentNotFound,
    #[error("count: purge 1 to 1000 messages at a time")]
    InvalidPurgeCount,
    #[error("there is no such avatar, or you cannot see it")]
    AvatarNotFound,
    #[error("this attachment has no thumbnail")]
    ThumbnailNotFound,
    #[error("attachment_ids: {0}")]
    InvalidAttachment(String),
    #[error("attachment_ids: {0} is already attached to another message; upload the file again")]
    AttachmentInUse(crate::domain::ids::AttachmentId),
    #[error(
        "file: larger than the {remaining} bytes left of your {quota}-byte attachment quota; delete old files first"
    )]
    AttachmentQuotaExceeded { quota: u64, remaining: u64 },
    #[error("join the channel first")]
    NotChannelMember,
    #[error("this channel is archived; nothing can change in it")]
    ChannelArchived,
    #[error("only the community's admins and owner may do this")]
    AdminOnly,
    #[error("only the author may edit a message")]
    NotAuthor,
    #[error("only the author or an admin may delete a message")]
    NotAuthorOrAdmin,
    #[error("this message was deleted; it can no longer change")]
    MessageDeleted,
    #[error("parent_id: threads are one level deep; reply to the thread's root")]
    NestedThread,
    #[error("parent_id: not a message of this channel")]
    InvalidParent,
    #[error("client_msg_id: this id was already used for a different message")]
    ClientMsgIdReused,
    #[error("this channel can only be joined by invitation")]
    InviteOnly,
    #[error("DM membership is fixed: DMs cannot be left and take no members")]
    DmMembershipFixed,
    #[error("DMs have no name, topic or archive")]
    NotCommunityChannel,
    #[error("only private channels take members this way; public ones are joined")]
    NotPrivate,
    #[error("user_id: that user is not a member of this community")]
    TargetNotCommunityMember,
    #[error("user_id: no such user")]
    UnknownUser,
    #[error("user_ids: some of these users do not exist")]
    UnknownUsers,
    #[error("that user is not in this channel")]
    TargetNotChannelMember,
    #[error("the owner cannot be removed by an admin")]
    OwnerProtected,
    #[error("name: #{0} already exists in this community")]
    ChannelNameTaken(String),
    #[error("this account no longer exists")]
    AccountGone,
    #[error("slug: `{0}` is already taken; choose another")]
    SlugTaken(String),
    #[error("you are banned from this community")]
    Banned,
    #[error("only the owner may ban, kick, mute or change the role of an admin")]
    AdminProtected,
    #[error("user_id: you cannot ban, kick, mute or change the role of yourself")]
    CannotModerateSelf,
    #[error("that user is not banned from this community")]
    BanNotFound,
    #[error("that user is not muted in this community")]
    MuteNotFound,
    #[error("role: only admin or member can be given")]
    InvalidRole,
    #[error("{}", muted_sentence(*.until))]
    Muted { until: Option<time::OffsetDateTime> },
    #[error("this channel is frozen: only the community's admins may post or react")]
    ChannelFrozen,
    #[error("slow mode: this channel allows one message every {every} s; wait {retry_after} s")]
    SlowMode { every: u32, retry_after: u64 },
    #[error("this invite does not exist, has expired or is used up")]
    InviteInvalid,
    #[error("message_id: the read cursor follows the channel, not a thread reply")]
    ReadCursorOnReply,
    #[error("message_id: not a message of this channel")]
    MessageNotInChannel,
    #[error("there is no such webhook")]
    WebhookNotFound,
    #[error(
        "this webhook's creator is no longer an admin of its community (demoted, kicked, banned or gone): it \
         posts again once they are an admin again; otherwise an admin must create a new webhook"
    )]
    WebhookCreatorRemoved,
    #[error("channel_id: webhooks post into channels, not DMs")]
    WebhookIntoDm,
    #[error("user_ids: you may create at most {limit} group DMs an hour; retry in {retry_after} s")]
    GroupDmsPerHour { limit: u32, retry_after: u64 },
    #[error("@channel, @everyone and @here in a channel of more than {limit} members are for the community's admins")]
    BroadcastNeedsAdmin { limit: u32 },
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// A state the schema should make impossible; logged, answered opaquely.
    #[error("inconsistent state: {0}")]
    Inconsistent(&'static str),
}

/// "You are muted … until <when>", the end in RFC 3339 (UTC) so every client can show it.
fn muted_sentence(until: Option<time::OffsetDateTime>) -> String {
    match until.and_then(|at| at.format(&time::format_description::well_known::Rfc3339).ok()) {
        Some(at) => format!("you are muted in this community until {at}: you may read but not post or react"),
        None => "you are muted in this community until an admin lifts it: you may read but not post or react".into(),
    }
}

impl ChatError {
    /// The status and `snake_case` code answered for it (`Database` has its own mapping).
    fn status_and_code(&self) -> (StatusCode, ErrorCode) {
        match self {
            Self::CommunityNotFound => (StatusCode::NOT_FOUND, ErrorCode::CommunityNotFound),
            Self::NotCommunityMember => (StatusCode::FORBIDDEN, ErrorCode::NotACommunityMember),
            Self::ChannelNotFound => (StatusCode::NOT_FOUND, ErrorCode::ChannelNotFound),
            Self::MessageNotFound => (StatusCode::NOT_FOUND, ErrorCode::MessageNotFound),
            Self::AttachmentNotFound => (StatusCode::NOT_FOUND, ErrorCode::AttachmentNotFound),
            Self::InvalidPurgeCount => (StatusCode::BAD_REQUEST, ErrorCode::InvalidCount),
            Self::AvatarNotFound => (StatusCode::NOT_FOUND, ErrorCode::AvatarNotFound),
            Self::ThumbnailNotFound => (StatusCode::NOT_FOUND, ErrorCode::ThumbnailNotFound),
            Self::InvalidAttachment(_) => (StatusCode::BAD_REQUEST, ErrorCode::InvalidAttachment),
            Self::AttachmentInUse(_) => (StatusCode::CONFLICT, ErrorCode::AttachmentInUse),
            Self::AttachmentQuotaExceeded { .. } => (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::AttachmentQuotaExceeded),
            Self::NotChannelMember => (StatusCode::FORBIDDEN, ErrorCode::NotAChannelMember),
            Self::ChannelArchived => (StatusCode::CONFLICT, ErrorCode::ChannelArchived),
            Self::AdminOnly => (StatusCode::FORBIDDEN, ErrorCode::AdminOnly),
            Self::NotAuthor => (StatusCode::FORBIDDEN, ErrorCode::NotAuthor),
            Self::NotAuthorOrAdmin => (StatusCode::FORBIDDEN, ErrorCode::NotAuthorOrAdmin),
            Self::MessageDeleted => (StatusCode::CONFLICT, ErrorCode::MessageDeleted),
            Self::NestedThread => (StatusCode::BAD_REQUEST, ErrorCode::NestedThread),
            Self::InvalidParent => (StatusCode::BAD_REQUEST, ErrorCode::InvalidParent),
            Self::ClientMsgIdReused => (StatusCode::CONFLICT, ErrorCode::ClientMsgIdReused),
            Self::InviteOnly => (StatusCode::FORBIDDEN, ErrorCode::InviteOnly),
            Self::DmMembershipFixed => (StatusCode::CONFLICT, ErrorCode::CannotLeaveDm),
            Self::NotCommunityChannel | Self::WebhookIntoDm => {
                (StatusCode::BAD_REQUEST, ErrorCode::NotACommunityChannel)
            }
            Self::NotPrivate => (StatusCode::BAD_REQUEST, ErrorCode::NotPrivate),
            Self::TargetNotCommunityMember => (StatusCode::BAD_REQUEST, ErrorCode::UserNotInCommunity),
            Self::UnknownUser | Self::UnknownUsers => (StatusCode::BAD_REQUEST, ErrorCode::UnknownUser),
            Self::TargetNotChannelMember => (StatusCode::NOT_FOUND, ErrorCode::UserNotInChannel),
            Self::OwnerProtected => (StatusCode::FORBIDDEN, ErrorCode::OwnerProtected),
            Self::ChannelNameTaken(_) => (StatusCode::CONFLICT, ErrorCode::ChannelNameTaken),
            Self::AccountGone => (StatusCode::UNAUTHORIZED, ErrorCode::Unauthenticated),
            Self::SlugTaken(_) => (StatusCode::CONFLICT, ErrorCode::SlugTaken),
            Self::Banned => (StatusCode::FORBIDDEN, ErrorCode::Banned),
            Self::AdminProtected => (StatusCode::FORBIDDEN, ErrorCode::AdminProtected),
            Self::CannotModerateSelf => (StatusCode::BAD_REQUEST, ErrorCode::CannotModerateSelf),
            Self::BanNotFound => (StatusCode::NOT_FOUND, ErrorCode::BanNotFound),
            Self::MuteNotFound => (StatusCode::NOT_FOUND, ErrorCode::MuteNotFound),
            Self::InvalidRole => (StatusCode::BAD_REQUEST, ErrorCode::InvalidRole),
            Self::Muted { .. } => (StatusCode::FORBIDDEN, ErrorCode::Muted),
            Self::ChannelFrozen => (StatusCode::FORBIDDEN, ErrorCode::ChannelFrozen),
            Self::SlowMode { .. } => (StatusCode::TOO_MANY_REQUESTS, ErrorCode::SlowMode),
            Self::InviteInvalid => (StatusCode::NOT_FOUND, ErrorCode::InviteInvalid),
            Self::ReadCursorOnReply | Self::MessageNotInChannel => (StatusCode::BAD_REQUEST, ErrorCode::InvalidMessage),
            Self::WebhookNotFound => (StatusCode::NOT_FOUND, ErrorCode::WebhookNotFound),
            Self::WebhookCreatorRemoved => (StatusCode::FORBIDDEN, ErrorCode::WebhookCreatorRemoved),
            Self::BroadcastNeedsAdmin { .. } => (StatusCode::BAD_REQUEST, ErrorCode::BroadcastNeedsAdmin),
            Self::GroupDmsPerHour { .. } => (StatusCode::TOO_MANY_REQUESTS, ErrorCode::RateLimited),
            Self::Database(_) | Self::Inconsistent(_) => (StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::InternalError),
        }
    }
}

impl From<ChatError> for ApiError {
    fn from(err: ChatError) -> Self {
        match err {
            ChatError::Database(source) => return source.into(),
            ChatError::Inconsistent(_) => return Self::internal(err),
            _ => {}
        }
        let (status, code) = err.status_and_code();
        let retry_after = match err {
            ChatError::GroupDmsPerHour { retry_after, .. } | ChatError::SlowMode { retry_after, .. } => {
                Some(retry_after)
            }
            _ => None,
        };
        let error = Self::new(status, code, err.to_string());
        match retry_after {
            Some(seconds) => error.with_retry_after(seconds),
            None => error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_keeps_its_status_code_and_sentence_as_an_api_error() {
        let err = ApiError::from(ChatError::ChannelArchived);
        assert_eq!((err.status, err.code), (StatusCode::CONFLICT, ErrorCode::ChannelArchived));
        assert_eq!(err.message, "this channel is archived; nothing can change in it");
        let err = ApiError::from(ChatError::Database(sqlx::Error::PoolTimedOut));
        assert_eq!(err.status, StatusCode::SERVICE_UNAVAILABLE, "database errors keep their own mapping");
    }
}
