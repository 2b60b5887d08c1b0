//! NATS subject names (docs/design.md §4). Subjects are built only here.

use crate::api::wire::{Channel, ChannelKind};
use crate::domain::ids::{ChannelId, CommunityId, UserId};

/// Community-wide and public-channel events (persisted).
#[must_use]
pub fn community(id: CommunityId) -> String {
    format!("chat.events.{id}")
}

/// Events of one private channel (persisted), kept off the community subject so neither
/// their content nor their timing reaches non-members.
#[must_use]
pub fn private_channel(id: ChannelId) -> String {
    format!("chat.private.{id}")
}

/// Events of one DM or group DM (persisted).
#[must_use]
pub fn dm(id: ChannelId) -> String {
    format!("chat.dm.{id}")
}

/// Per-user notifications and read-state updates (persisted).
#[must_use]
pub fn notifications(id: UserId) -> String {
    format!("chat.notifications.{id}")
}

/// Typing in a community channel (core NATS, ephemeral).
#[must_use]
pub fn typing(community: CommunityId, channel: ChannelId) -> String {
    format!("chat.typing.{community}.{channel}")
}

/// Typing in a DM (core NATS, ephemeral).
#[must_use]
pub fn typing_dm(channel: ChannelId) -> String {
    format!("chat.typing.dm.{channel}")
}

/// Heartbeats of a community's members (core NATS, ephemeral).
#[must_use]
pub fn presence(community: CommunityId) -> String {
    format!("chat.presence.{community}")
}

/// The subject carrying the events of a channel: public channels share their community's
/// subject; private channels and DMs each have their own.
#[must_use]
pub fn for_channel(channel: &Channel) -> String {
    of_channel(channel.id, channel.kind, channel.community_id)
}

/// `for_channel` from the channel's id, kind and community.
#[must_use]
pub fn of_channel(id: ChannelId, kind: ChannelKind, community_id: Option<CommunityId>) -> String {
    match (kind, community_id) {
        (ChannelKind::Public, Some(community_id)) => community(community_id),
        (ChannelKind::Dm | ChannelKind::GroupDm, _) => dm(id),
        // A public channel always has a community; the private subject is the safe answer.
        (ChannelKind::Private | ChannelKind::Public, _) => private_channel(id),
    }
}

/// True for a community's subject, which carries its public channels' events (so a
/// stream filters them down to the channels its user has joined).
#[must_use]
pub fn is_community(subject: &str) -> bool {
    subject.starts_with("chat.events.")
}

/// The channel a typing subject is about.
#[must_use]
pub fn typing_channel(subject: &str) -> Option<ChannelId> {
    let rest = subject.strip_prefix("chat.typing.")?;
    let (_scope, channel) = rest.split_once('.')?;
    channel.parse().ok()
}

/// The community a presence subject is about.
#[must_use]
pub fn presence_community(subject: &str) -> Option<CommunityId> {
    subject.strip_prefix("chat.presence.")?.parse().ok()
}

/// The community of a community subject (`community`).
#[must_use]
pub fn community_of(subject: &str) -> Option<CommunityId> {
    subject.strip_prefix("chat.events.")?.parse().ok()
}

/// Every subject the JetStream stream persists.
pub const PERSISTED: [&str; 4] = ["chat.events.>", "chat.private.>", "chat.dm.>", "chat.notifications.>"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_follow_the_design() {
        let community_id = CommunityId::generate();
        let channel_id = ChannelId::generate();
        assert_eq!(community(community_id), format!("chat.events.{community_id}"));
        assert_eq!(private_channel(channel_id), format!("chat.private.{channel_id}"));
        assert_eq!(dm(channel_id), format!("chat.dm.{channel_id}"));
        assert_eq!(typing(community_id, channel_id), format!("chat.typing.{community_id}.{channel_id}"));
        assert_eq!(typing_dm(channel_id), format!("chat.typing.dm.{channel_id}"));
    }

    #[test]
    fn ephemeral_and_community_subjects_name_what_they_are_about() {
        let (community_id, channel_id) = (CommunityId::generate(), ChannelId::generate());
        assert_eq!(typing_channel(&typing(community_id, channel_id)), Some(channel_id));
        assert_eq!(typing_channel(&typing_dm(channel_id)), Some(channel_id));
        assert_eq!(typing_channel(&format!("chat.typing.{channel_id}")), None);
        assert_eq!(presence_community(&presence(community_id)), Some(community_id));
        assert_eq!(community_of(&community(community_id)), Some(community_id));
        assert_eq!(community_of(&private_channel(channel_id)), None);
    }
}
