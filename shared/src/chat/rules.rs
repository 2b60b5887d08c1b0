//! The channel rules writes pass, in one place so every writer (a user through the api, a
//! webhook through the gateway, later slash commands and bots) meets the same ones. New
//! rules land here: bans and mutes (`may_post` by a user, `may_post_by_webhook` for the
//! webhook's creator), slow mode (`may_post`), a freeze (`channel_open`).

use super::ChatError;
use super::access::ChannelAccess;
use crate::api::wire::Channel;

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

/// A webhook may post into its channel: the channel is open. Its authority is its token,
/// checked by its caller; there is no member to check.
pub fn may_post_by_webhook(channel: &Channel) -> Result<(), ChatError> {
    channel_open(channel)
}
