//! The channel rules writes pass, in one place so every writer (a user through the api, a
//! webhook through the gateway, later slash commands and bots) meets the same ones. New
//! rules land here: bans and mutes (`may_post` by a user, `may_post_by_webhook` for the
//! webhook's creator), slow mode (`may_post`), a freeze (`channel_open`).

use super::ChatError;
use super::access::ChannelAccess;
use crate::api::wire::Channel;
use crate::db::webhooks::Webhook;

/// Anything may change in the channel: it is not archived (later: nor frozen).
pub fn channel_open(channel: &Channel) -> Result<(), ChatError> {
    if channel.archived_at.is_some() {
        return Err(ChatError::ChannelArchived);
    }
    Ok(())
}

/// A user may write in the channel (post, edit, react, pin, add members): a member, in an
/// open channel.
pub fn may_write(access: &ChannelAccess) -> Result<(), ChatError> {
    if !access.is_member {
        return Err(ChatError::NotChannelMember);
    }
    channel_open(&access.channel)
}

/// A user may post a message in the channel.
pub fn may_post(access: &ChannelAccess) -> Result<(), ChatError> {
    may_write(access)
}

/// A webhook may post into its channel: it is live and the channel is open. Its
/// authority is its token, checked by its caller; there is no member to check.
pub fn may_post_by_webhook(webhook: &Webhook, channel: &Channel) -> Result<(), ChatError> {
    if webhook.revoked_at.is_some() {
        return Err(ChatError::WebhookNotFound);
    }
    channel_open(channel)
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;

    use super::*;
    use crate::api::wire::ChannelKind;
    use crate::domain::ids::{ChannelId, CommunityId, WebhookId};

    fn channel(archived: bool) -> Channel {
        Channel {
            id: ChannelId::generate(),
            community_id: Some(CommunityId::generate()),
            kind: ChannelKind::Public,
            name: Some("dev".into()),
            topic: None,
            created_at: OffsetDateTime::UNIX_EPOCH,
            archived_at: archived.then_some(OffsetDateTime::UNIX_EPOCH),
        }
    }

    fn webhook(channel: &Channel, revoked: bool) -> Webhook {
        Webhook {
            id: WebhookId::generate(),
            community_id: channel.community_id.unwrap_or_else(CommunityId::generate),
            channel_id: channel.id,
            name: "CI".into(),
            avatar_url: None,
            token_hash: vec![0; 32],
            created_by: None,
            created_at: OffsetDateTime::UNIX_EPOCH,
            last_used_at: None,
            revoked_at: revoked.then_some(OffsetDateTime::UNIX_EPOCH),
        }
    }

    #[test]
    fn users_and_webhooks_meet_the_same_archive_rule() {
        let cases = [
            (true, false, None),
            (false, false, Some("NotChannelMember")),
            (true, true, Some("ChannelArchived")),
            (false, true, Some("NotChannelMember")),
        ];
        for (is_member, archived, refusal) in cases {
            let access = ChannelAccess { channel: channel(archived), is_member };
            let got = may_post(&access).err().map(|err| format!("{err:?}"));
            assert_eq!(got.as_deref(), refusal, "member {is_member}, archived {archived}");
        }
        for (archived, revoked, refusal) in
            [(false, false, None), (true, false, Some("ChannelArchived")), (false, true, Some("WebhookNotFound"))]
        {
            let channel = channel(archived);
            let got = may_post_by_webhook(&webhook(&channel, revoked), &channel).err().map(|err| format!("{err:?}"));
            assert_eq!(got.as_deref(), refusal, "archived {archived}, revoked {revoked}");
        }
    }
}
