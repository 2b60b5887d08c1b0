//! Events: the envelope of docs/design.md §4, the subjects they travel on, stream positions, and the
//! bus that carries them.

#[cfg(feature = "bus")]
pub mod bus;
pub mod community;
pub mod message;
pub mod subject;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::api::wire::{
    Channel, ChannelPreferences, Member, MessageDeleted, MessagesPurged, Notification, NotificationsRead, PinChange,
    ReactionChange, ReadCursor,
};
use crate::domain::ids::{ApiTokenId, ChannelId, CommunityId, EventId, MessageId, SessionId, UserId};

pub use community::EventCommunity;
pub use message::{EventMessage, ReactionCount};

/// The envelope every persisted event travels in. Evolves additively only.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: EventId,
    #[serde(flatten)]
    pub payload: EventPayload,
    pub community_id: Option<CommunityId>,
    pub channel_id: Option<ChannelId>,
    pub actor_id: Option<UserId>,
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
}

/// `type` and `data` of an event; `data` is enough to render the common case. Every
/// receiver gets the same `data`, so it never holds a per-viewer field (`EventMessage`,
/// not the API's `Message`; `EventCommunity`, not `Community` with its viewer's role).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum EventPayload {
    #[serde(rename = "message.created")]
    MessageCreated(EventMessage),
    #[serde(rename = "message.updated")]
    MessageUpdated(EventMessage),
    #[serde(rename = "message.deleted")]
    MessageDeleted(MessageDeleted),
    /// Several messages of one channel deleted at once (a purge): one tombstone per id.
    #[serde(rename = "messages.purged")]
    MessagesPurged(MessagesPurged),
    #[serde(rename = "reaction.added")]
    ReactionAdded(ReactionChange),
    #[serde(rename = "reaction.removed")]
    ReactionRemoved(ReactionChange),
    #[serde(rename = "pin.added")]
    PinAdded(PinChange),
    #[serde(rename = "pin.removed")]
    PinRemoved(PinChange),
    #[serde(rename = "channel.created")]
    ChannelCreated(Channel),
    #[serde(rename = "channel.updated")]
    ChannelUpdated(Channel),
    #[serde(rename = "channel.archived")]
    ChannelArchived(Channel),
    #[serde(rename = "member.joined")]
    MemberJoined(Member),
    #[serde(rename = "member.left")]
    MemberLeft(Member),
    #[serde(rename = "member.removed")]
    MemberRemoved(Member),
    #[serde(rename = "community.updated")]
    CommunityUpdated(EventCommunity),
    #[serde(rename = "read.updated")]
    ReadUpdated(ReadCursor),
    /// On the user's own subject: a new entry in their inbox.
    #[serde(rename = "notification.created")]
    NotificationCreated(Notification),
    /// On the user's own subject: notifications became read (on any of their clients).
    #[serde(rename = "notifications.read")]
    NotificationsRead(NotificationsRead),
    /// On the user's own subject: their preferences in a channel changed.
    #[serde(rename = "preferences.updated")]
    PreferencesUpdated(ChannelPreferences),
    /// On the user's own subject: one of their sessions or API tokens was revoked. Session
    /// managers re-check the credential behind each of the user's streams at once (the
    /// streams of the revoked one end); it is not forwarded to clients.
    #[serde(rename = "access.revoked")]
    AccessRevoked(AccessRevoked),
    /// On the user's own subject: a slash command's reply, for the user's eyes only (all of
    /// their clients show it under the channel it was typed in).
    #[serde(rename = "command.replied")]
    CommandReplied(CommandReply),
}

/// A slash command's ephemeral reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandReply {
    pub channel_id: ChannelId,
    /// What the command said, as Markdown.
    pub text: String,
    /// True if the command was refused (the text says why).
    pub error: bool,
}

/// Which credential was revoked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRevoked {
    pub session_id: Option<SessionId>,
    pub token_id: Option<ApiTokenId>,
}

impl EventPayload {
    /// The `type` string, e.g. `message.created`.
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::MessageCreated(_) => "message.created",
            Self::MessageUpdated(_) => "message.updated",
            Self::MessageDeleted(_) => "message.deleted",
            Self::MessagesPurged(_) => "messages.purged",
            Self::ReactionAdded(_) => "reaction.added",
            Self::ReactionRemoved(_) => "reaction.removed",
            Self::PinAdded(_) => "pin.added",
            Self::PinRemoved(_) => "pin.removed",
            Self::ChannelCreated(_) => "channel.created",
            Self::ChannelUpdated(_) => "channel.updated",
            Self::ChannelArchived(_) => "channel.archived",
            Self::MemberJoined(_) => "member.joined",
            Self::MemberLeft(_) => "member.left",
            Self::MemberRemoved(_) => "member.removed",
            Self::CommunityUpdated(_) => "community.updated",
            Self::ReadUpdated(_) => "read.updated",
            Self::NotificationCreated(_) => "notification.created",
            Self::NotificationsRead(_) => "notifications.read",
            Self::PreferencesUpdated(_) => "preferences.updated",
            Self::AccessRevoked(_) => "access.revoked",
            Self::CommandReplied(_) => "command.replied",
        }
    }
}

/// What an event says about one message's text, for keeping old text out of the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageRevision {
    /// The event carries the message's full current body (`message.created`,
    /// `message.updated`): it supersedes the message's earlier events and is itself
    /// superseded by the next one.
    Current(MessageId),
    /// The message is deleted (`message.deleted`, or one of a `messages.purged`: tombstones
    /// without text): it supersedes every earlier event of the message.
    Deleted(MessageId),
}

impl MessageRevision {
    #[must_use]
    pub fn message_id(self) -> MessageId {
        match self {
            Self::Current(id) | Self::Deleted(id) => id,
        }
    }
}

impl EventPayload {
    /// The messages whose text this event replaces: one for a message event, each purged
    /// one for `messages.purged`, none for the rest. Reactions and pins carry no text and
    /// name the message only by id, so they stay in the stream.
    #[must_use]
    pub fn message_revisions(&self) -> Vec<MessageRevision> {
        match self {
            Self::MessageCreated(message) | Self::MessageUpdated(message) => vec![MessageRevision::Current(message.id)],
            Self::MessageDeleted(deleted) => vec![MessageRevision::Deleted(deleted.id)],
            Self::MessagesPurged(purged) => purged.ids.iter().copied().map(MessageRevision::Deleted).collect(),
            _ => Vec::new(),
        }
    }
}

impl Event {
    /// A new event happening now.
    #[must_use]
    pub fn new(
        payload: EventPayload,
        community_id: Option<CommunityId>,
        channel_id: Option<ChannelId>,
        actor_id: Option<UserId>,
    ) -> Self {
        Self {
            id: EventId::generate(),
            payload,
            community_id,
            channel_id,
            actor_id,
            timestamp: OffsetDateTime::now_utc(),
        }
    }
}

/// A point in the event stream: `<epoch>.<sequence>`, the SSE event id. The epoch identifies
/// the stream (its creation time), so a position in a recreated stream is recognisably stale.
///
/// ```
/// use ajet_shared::events::StreamPosition;
///
/// let position: StreamPosition = "1763900000123456.42".parse().expect("an SSE event id");
/// assert_eq!(position.seq, 42);
/// assert_eq!(position.to_string(), "1763900000123456.42");
/// assert!("42".parse::<StreamPosition>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamPosition {
    pub epoch: u64,
    pub seq: u64,
}

impl fmt::Display for StreamPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.epoch, self.seq)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("a stream position looks like `<epoch>.<sequence>`")]
pub struct BadPosition;

impl FromStr for StreamPosition {
    type Err = BadPosition;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (epoch, seq) = s.trim().split_once('.').ok_or(BadPosition)?;
        Ok(Self { epoch: epoch.parse().map_err(|_| BadPosition)?, seq: seq.parse().map_err(|_| BadPosition)? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::wire::{ChannelKind, User};

    #[test]
    fn the_envelope_has_the_documented_flat_shape() {
        let channel = Channel {
            id: ChannelId::generate(),
            community_id: Some(CommunityId::generate()),
            kind: ChannelKind::Public,
            name: Some("general".into()),
            topic: None,
            created_at: OffsetDateTime::UNIX_EPOCH,
            archived_at: None,
            slow_mode_secs: 0,
            frozen_at: None,
        };
        let event =
            Event::new(EventPayload::ChannelCreated(channel.clone()), channel.community_id, Some(channel.id), None);
        let json = serde_json::to_value(&event).expect("serializes");
        assert_eq!(json["type"], "channel.created");
        assert_eq!(json["data"]["name"], "general");
        assert_eq!(json["id"], event.id.to_string());
        for key in ["community_id", "channel_id", "actor_id", "timestamp"] {
            assert!(json.get(key).is_some(), "{key} missing");
        }
        let back: Event = serde_json::from_value(json).expect("deserializes");
        assert_eq!(back, event);
        let user = User { id: UserId::generate(), username: "a".into(), display_name: "A".into(), avatar_url: None };
        let joined = EventPayload::MemberJoined(Member { user, channel_id: None });
        assert_eq!(serde_json::to_value(&joined).expect("json")["type"], joined.type_name());
    }

    #[test]
    fn stream_positions_round_trip_and_reject_garbage() {
        let position: StreamPosition = "1700000000.42".parse().expect("parses");
        assert_eq!(position, StreamPosition { epoch: 1_700_000_000, seq: 42 });
        assert_eq!(position.to_string(), "1700000000.42");
        for bad in ["", "42", "a.b", "1.", ".1", "1.2.3"] {
            assert!(bad.parse::<StreamPosition>().is_err(), "{bad}");
        }
    }
}
