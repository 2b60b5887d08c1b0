//! The channel rules writes pass, in one place so every writer (a user through the api, a
//! webhook through the gateway, later slash commands and bots) meets the same ones: a
//! member, in an open (not archived) channel; not muted in the community (`may_post`,
//! `may_react`; a webhook stops while its creator is muted, and for good once they are
//! banned); in a frozen channel only admins post or react and webhooks are refused; slow
//! mode spaces a member's posts (`slow_mode`; admins, and so their webhooks, are exempt).
//! A ban needs no rule for the banned user: it removes them from the community.

use sqlx::PgConnection;

use super::ChatError;
use super::access::ChannelAccess;
use crate::api::wire::{Channel, Mute, Role};
use crate::db;
use crate::db::webhooks::Webhook;
use crate::domain::ids::UserId;

/// A writer's standing in the channel's community, beyond channel membership.
#[derive(Clone, Debug, Default)]
pub struct Standing {
    /// An owner or admin: exempt from slow mode and freeze.
    pub is_admin: bool,
    /// A mute in force.
    pub muted: Option<Mute>,
}

/// Reads `user`'s standing in `channel`'s community (a DM has none to read).
pub async fn standing(db: &mut PgConnection, channel: &Channel, user: UserId) -> Result<Standing, ChatError> {
    let Some(community) = channel.community_id else {
        return Ok(Standing::default());
    };
    let role = db::communities::role_of(&mut *db, community, user).await?;
    let muted = db::moderation::mute_in_force(&mut *db, community, user).await?;
    Ok(Standing { is_admin: matches!(role, Some(Role::Owner | Role::Admin)), muted })
}

/// Not muted, and the channel not frozen unless an admin writes.
fn may_speak(channel: &Channel, standing: &Standing) -> Result<(), ChatError> {
    if let Some(mute) = &standing.muted {
        return Err(ChatError::Muted { until: mute.muted_until });
    }
    if channel.frozen_at.is_some() && !standing.is_admin {
        return Err(ChatError::ChannelFrozen);
    }
    Ok(())
}

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

/// A user may post a message in the channel: may write, is not muted, and the channel is
/// not frozen (unless they are an admin). Slow mode is `slow_mode`, checked under the
/// channel's lock.
pub fn may_post(access: &ChannelAccess, standing: &Standing) -> Result<(), ChatError> {
    may_write(access)?;
    may_speak(&access.channel, standing)
}

/// A user may react (or take a reaction back): as for posting, without slow mode.
pub fn may_react(access: &ChannelAccess, standing: &Standing) -> Result<(), ChatError> {
    may_post(access, standing)
}

/// Slow mode: a member (not an admin) who posted `secs_since_last` seconds ago waits until
/// the channel's interval has passed; the refusal says how long.
pub fn slow_mode(channel: &Channel, standing: &Standing, secs_since_last: Option<f64>) -> Result<(), ChatError> {
    let every = channel.slow_mode_secs;
    if every == 0 || standing.is_admin {
        return Ok(());
    }
    match secs_since_last {
        Some(since) if since < f64::from(every) => {
            let wait = (f64::from(every) - since.max(0.0)).ceil();
            // In (0, every], so the conversion is exact.
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "a positive whole number of seconds below 21601"
            )]
            let retry_after = (wait as u64).max(1);
            Err(ChatError::SlowMode { every, retry_after })
        }
        _ => Ok(()),
    }
}

/// What a webhook's creator (on whose behalf it writes) stands under in its community.
#[derive(Clone, Copy, Debug, Default)]
pub struct CreatorStanding<'a> {
    /// No longer an admin (or the owner) of the community: demoted, kicked, banned, left,
    /// or their account is gone. The webhook is refused until they are an admin again.
    pub removed: bool,
    /// Muted: the webhook is refused until the mute ends.
    pub mute: Option<&'a Mute>,
}

/// A webhook may post into its channel: it is live, its creator is still an admin of the
/// community and not muted, and the channel is open and not frozen. Slow mode does not apply: a webhook is an
/// admin's, and admins are exempt. Its authority is its token, checked by its caller;
/// there is no member to check.
pub fn may_post_by_webhook(
    webhook: &Webhook,
    channel: &Channel,
    creator: CreatorStanding<'_>,
) -> Result<(), ChatError> {
    if webhook.revoked_at.is_some() {
        return Err(ChatError::WebhookNotFound);
    }
    if creator.removed {
        return Err(ChatError::WebhookCreatorRemoved);
    }
    let creator_mute = creator.mute;
    channel_open(channel)?;
    if let Some(mute) = creator_mute {
        return Err(ChatError::Muted { until: mute.muted_until });
    }
    if channel.frozen_at.is_some() {
        return Err(ChatError::ChannelFrozen);
    }
    Ok(())
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
            slow_mode_secs: 0,
            frozen_at: None,
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
            let got = may_post(&access, &Standing::default()).err().map(|err| format!("{err:?}"));
            assert_eq!(got.as_deref(), refusal, "member {is_member}, archived {archived}");
        }
        for (archived, revoked, refusal) in
            [(false, false, None), (true, false, Some("ChannelArchived")), (false, true, Some("WebhookNotFound"))]
        {
            let channel = channel(archived);
            let got = may_post_by_webhook(&webhook(&channel, revoked), &channel, CreatorStanding::default())
                .err()
                .map(|err| format!("{err:?}"));
            assert_eq!(got.as_deref(), refusal, "archived {archived}, revoked {revoked}");
        }
    }

    #[test]
    fn mutes_and_freezes_stop_members_and_webhooks_but_a_freeze_not_admins() {
        let mute = Mute {
            community_id: CommunityId::generate(),
            user_id: UserId::generate(),
            reason: None,
            muted_by: None,
            muted_until: None,
        };
        let mut frozen = channel(false);
        frozen.frozen_at = Some(OffsetDateTime::UNIX_EPOCH);
        let cases = [
            (channel(false), false, false, None),
            (channel(false), false, true, Some("Muted")),
            (channel(false), true, true, Some("Muted")),
            (frozen.clone(), false, false, Some("ChannelFrozen")),
            (frozen.clone(), true, false, None),
        ];
        for (channel, is_admin, muted, refusal) in cases {
            let standing = Standing { is_admin, muted: muted.then(|| mute.clone()) };
            let access = ChannelAccess { channel, is_member: true };
            let got = may_post(&access, &standing).err().map(|err| format!("{err:?}"));
            let name = got.as_deref().map(|g| g.split([' ', '{']).next().unwrap_or_default().to_owned());
            assert_eq!(name.as_deref(), refusal, "admin {is_admin}, muted {muted}");
            let reacted = may_react(&access, &standing).err().map(|err| format!("{err:?}"));
            assert_eq!(reacted, got, "reactions meet the same rules");
        }
        let open = channel(false);
        let hook = webhook(&frozen, false);
        let clean = CreatorStanding::default();
        assert!(matches!(may_post_by_webhook(&hook, &frozen, clean), Err(ChatError::ChannelFrozen)));
        let muted = CreatorStanding { removed: false, mute: Some(&mute) };
        assert!(matches!(may_post_by_webhook(&hook, &open, muted), Err(ChatError::Muted { until: None })));
        let removed = CreatorStanding { removed: true, mute: None };
        assert!(matches!(may_post_by_webhook(&hook, &open, removed), Err(ChatError::WebhookCreatorRemoved)));
        assert!(may_post_by_webhook(&hook, &open, clean).is_ok());
    }

    #[test]
    fn slow_mode_says_how_long_to_wait_and_spares_admins() {
        let mut slow = channel(false);
        slow.slow_mode_secs = 30;
        let member = Standing::default();
        let admin = Standing { is_admin: true, muted: None };
        let cases = [
            (&member, None, None),
            (&member, Some(31.0), None),
            (&member, Some(10.2), Some(20)),
            (&member, Some(29.9), Some(1)),
            (&member, Some(-1.0), Some(30)),
            (&admin, Some(1.0), None),
        ];
        for (standing, since, wait) in cases {
            let got = match slow_mode(&slow, standing, since) {
                Ok(()) => None,
                Err(ChatError::SlowMode { every, retry_after }) => {
                    assert_eq!(every, 30);
                    Some(retry_after)
                }
                Err(other) => panic!("unexpected {other:?}"),
            };
            assert_eq!(got, wait, "since {since:?}");
        }
        assert!(slow_mode(&channel(false), &member, Some(0.0)).is_ok(), "0 is off");
    }
}
