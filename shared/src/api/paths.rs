//! The API's paths, written once: a template constant per route (used in the api's route
//! annotations, from which its router and OpenAPI description are built) and a builder per
//! template that fills it from typed ids (used by the typed client and tests). `TEMPLATES`
//! lists every api template; a test checks it equals the paths of the OpenAPI description.
//! The gateway's own paths (login, the CLI exchange, webhooks) and the session managers'
//! streams are here too, for clients, outside `TEMPLATES`, which holds only the api's (those
//! routers declare their few paths as literals, which the gateway's route-table test reads).

use crate::domain::ids::{ApiTokenId, AttachmentId, ChannelId, CommunityId, MessageId, UserId, WebhookId};

/// `GET`/`PATCH`: the caller.
pub const ME: &str = "/api/me";
/// `GET`: my security log (logins, logouts, API tokens).
pub const ME_SECURITY_LOG: &str = "/api/me/security-log";
/// `PUT` (multipart `file`, a PNG/JPEG/GIF/WebP) / `DELETE`: my avatar.
pub const ME_AVATAR: &str = "/api/me/avatar";
/// `GET`: a user's uploaded avatar (whoever shares a community or a conversation with them).
pub const USER_AVATAR: &str = "/api/users/{id}/avatar";
/// `GET`/`POST`: my communities.
pub const COMMUNITIES: &str = "/api/communities";
/// `GET`/`PATCH`: a community (by id or slug).
pub const COMMUNITY: &str = "/api/communities/{id}";
/// `GET`: a community's members.
pub const COMMUNITY_MEMBERS: &str = "/api/communities/{id}/members";
/// `PATCH`: a member's role (admins).
pub const COMMUNITY_MEMBER: &str = "/api/communities/{id}/members/{user_id}";
/// `GET`/`POST`: a community's bans (admins).
pub const COMMUNITY_BANS: &str = "/api/communities/{id}/bans";
/// `DELETE`: lift a ban (admins).
pub const COMMUNITY_BAN: &str = "/api/communities/{id}/bans/{user_id}";
/// `POST`: kick a member (admins).
pub const COMMUNITY_KICKS: &str = "/api/communities/{id}/kicks";
/// `POST`: mute a member (admins).
pub const COMMUNITY_MUTES: &str = "/api/communities/{id}/mutes";
/// `DELETE`: lift a mute (admins).
pub const COMMUNITY_MUTE: &str = "/api/communities/{id}/mutes/{user_id}";
/// `GET`: a community's audit log (admins).
pub const COMMUNITY_AUDIT: &str = "/api/communities/{id}/audit";
/// `GET`/`POST`: a community's channels.
pub const COMMUNITY_CHANNELS: &str = "/api/communities/{id}/channels";
/// `GET`/`POST`: a community's invites.
pub const COMMUNITY_INVITES: &str = "/api/communities/{id}/invites";
/// `DELETE`: one invite of a community.
pub const COMMUNITY_INVITE: &str = "/api/communities/{id}/invites/{code}";
/// `POST`: accept an invite.
pub const INVITE_ACCEPT: &str = "/api/invites/{code}/accept";
/// `GET`/`PATCH`/`DELETE`: a channel.
pub const CHANNEL: &str = "/api/channels/{id}";
/// `PATCH`: a channel's slow mode and freeze (admins).
pub const CHANNEL_MODERATION: &str = "/api/channels/{id}/moderation";
/// `POST`: soft-delete a channel's newest messages (admins).
pub const CHANNEL_PURGE: &str = "/api/channels/{id}/purge";
/// `POST`: join a channel.
pub const CHANNEL_JOIN: &str = "/api/channels/{id}/join";
/// `POST`: leave a channel.
pub const CHANNEL_LEAVE: &str = "/api/channels/{id}/leave";
/// `POST`: add a member to a channel.
pub const CHANNEL_MEMBERS: &str = "/api/channels/{id}/members";
/// `DELETE`: remove a member from a channel.
pub const CHANNEL_MEMBER: &str = "/api/channels/{id}/members/{user_id}";
/// `POST`: move my read cursor.
pub const CHANNEL_READ: &str = "/api/channels/{id}/read";
/// `PATCH`: my preferences in a channel.
pub const CHANNEL_PREFERENCES: &str = "/api/channels/{id}/preferences";
/// `GET`/`POST`: a channel's history; send a message.
pub const CHANNEL_MESSAGES: &str = "/api/channels/{id}/messages";
/// `GET`: a channel's pins.
pub const CHANNEL_PINS: &str = "/api/channels/{id}/pins";
/// `POST`: upload a file into a channel (multipart, field `file`).
pub const CHANNEL_ATTACHMENTS: &str = "/api/channels/{id}/attachments";
/// `GET`: download an attachment.
pub const ATTACHMENT: &str = "/api/attachments/{id}";
/// `GET`: an image attachment's small PNG rendering (whoever may download it).
pub const ATTACHMENT_THUMBNAIL: &str = "/api/attachments/{id}/thumbnail";
/// `GET`/`PATCH`/`DELETE`: a message.
pub const MESSAGE: &str = "/api/messages/{id}";
/// `GET`: a thread's replies.
pub const MESSAGE_REPLIES: &str = "/api/messages/{id}/replies";
/// `PUT`/`DELETE`: my reaction with one emoji.
pub const MESSAGE_REACTION: &str = "/api/messages/{id}/reactions/{emoji}";
/// `PUT`/`DELETE`: a message's pin.
pub const MESSAGE_PIN: &str = "/api/messages/{id}/pin";
/// `GET`/`POST`: my DMs; open one.
pub const DMS: &str = "/api/dms";
/// `POST`: I am here.
pub const HEARTBEAT: &str = "/api/heartbeat";
/// `GET`: who is online.
pub const PRESENCE: &str = "/api/presence";
/// `GET`: my notifications.
pub const NOTIFICATIONS: &str = "/api/notifications";
/// `POST`: mark notifications read.
pub const NOTIFICATIONS_READ: &str = "/api/notifications/read";
/// `GET`: the slash commands I may run; `POST`: run one.
pub const COMMANDS: &str = "/api/commands";
/// `GET`: what changed since a cursor (catch-up).
pub const SYNC: &str = "/api/sync";
/// `GET`: search the messages I may read.
pub const SEARCH: &str = "/api/search";
/// `GET`/`POST`: my API tokens.
pub const TOKENS: &str = "/api/tokens";
/// `DELETE`: one of my API tokens.
pub const TOKEN: &str = "/api/tokens/{id}";
/// `GET`/`POST`: incoming webhooks.
pub const WEBHOOKS: &str = "/api/webhooks";
/// `DELETE`: an incoming webhook.
pub const WEBHOOK: &str = "/api/webhooks/{id}";
/// `GET`: an incoming webhook's last deliveries.
pub const WEBHOOK_DELIVERIES: &str = "/api/webhooks/{id}/deliveries";
/// `PUT` (admins; multipart `file`, a PNG/JPEG/GIF/WebP) / `DELETE` (admins) / `GET` (its
/// community's members): a webhook's avatar.
pub const WEBHOOK_AVATAR: &str = "/api/webhooks/{id}/avatar";
/// `GET`: the api's OpenAPI description.
pub const OPENAPI: &str = "/api/openapi.json";

/// Every api path template, each once (several methods may share one).
pub const TEMPLATES: &[&str] = &[
    ME,
    ME_SECURITY_LOG,
    ME_AVATAR,
    USER_AVATAR,
    COMMUNITIES,
    COMMUNITY,
    COMMUNITY_MEMBERS,
    COMMUNITY_MEMBER,
    COMMUNITY_BANS,
    COMMUNITY_BAN,
    COMMUNITY_KICKS,
    COMMUNITY_MUTES,
    COMMUNITY_MUTE,
    COMMUNITY_AUDIT,
    COMMUNITY_CHANNELS,
    COMMUNITY_INVITES,
    COMMUNITY_INVITE,
    INVITE_ACCEPT,
    CHANNEL,
    CHANNEL_MODERATION,
    CHANNEL_PURGE,
    CHANNEL_JOIN,
    CHANNEL_LEAVE,
    CHANNEL_MEMBERS,
    CHANNEL_MEMBER,
    CHANNEL_READ,
    CHANNEL_PREFERENCES,
    CHANNEL_MESSAGES,
    CHANNEL_PINS,
    CHANNEL_ATTACHMENTS,
    ATTACHMENT,
    ATTACHMENT_THUMBNAIL,
    MESSAGE,
    MESSAGE_REPLIES,
    MESSAGE_REACTION,
    MESSAGE_PIN,
    DMS,
    HEARTBEAT,
    PRESENCE,
    NOTIFICATIONS,
    NOTIFICATIONS_READ,
    COMMANDS,
    SYNC,
    SEARCH,
    TOKENS,
    TOKEN,
    WEBHOOKS,
    WEBHOOK,
    WEBHOOK_DELIVERIES,
    WEBHOOK_AVATAR,
    OPENAPI,
];

/// The gateway's `POST`: log in on a dev deployment.
pub const DEV_LOGIN: &str = "/auth/dev-login";
/// The gateway's `POST`: end the session presented.
pub const LOGOUT: &str = "/auth/logout";
/// The gateway's `GET`/`POST`: the CLI loopback login's confirmation page.
pub const CLI_LOGIN: &str = "/auth/cli";
/// The gateway's `POST`: trade a CLI login code for a session.
pub const CLI_EXCHANGE: &str = "/auth/cli/exchange";
/// The gateway's `GET`/`POST`: an invite's landing page (what you join; sign in, or join).
pub const INVITE_PAGE: &str = "/invite/{code}";
/// The gateway's `POST`: an incoming webhook's post.
pub const HOOK: &str = "/hook/{id}/{token}";
/// tui-sm's `GET`: the terminal clients' event stream.
pub const TUI_EVENTS: &str = "/tui/events";
/// tui-sm's `POST`: I started or stopped typing.
pub const TUI_TYPING: &str = "/tui/typing";
/// tui-sm's `POST`: the channel my client shows.
pub const TUI_FOCUS: &str = "/tui/focus";

/// Fills `template`'s `{name}` parameters, in order, with `values` percent-encoded as one
/// path segment each.
fn fill(template: &str, values: &[&str]) -> String {
    let mut path = String::with_capacity(template.len() + 40);
    let mut values = values.iter();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        path.push_str(&rest[..start]);
        let end = rest[start..].find('}').map_or(rest.len(), |end| start + end + 1);
        if let Some(value) = values.next() {
            push_segment(&mut path, value);
        }
        rest = &rest[end..];
    }
    path.push_str(rest);
    path
}

/// Appends `value` as one path segment: everything but RFC 3986's unreserved characters
/// (and `:`, for emoji shortcodes) is percent-encoded, so a `/`, `?`, `#` or `%` in an emoji or code stays inside it.
fn push_segment(path: &mut String, value: &str) {
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b':') {
            path.push(char::from(byte));
        } else {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            path.push('%');
            path.push(char::from(HEX[usize::from(byte >> 4)]));
            path.push(char::from(HEX[usize::from(byte & 0x0F)]));
        }
    }
}

/// `/api/communities/{id}`.
#[must_use]
pub fn community(id: CommunityId) -> String {
    fill(COMMUNITY, &[&id.to_string()])
}

/// `/api/communities/{slug}`: the same resource named by its slug.
#[must_use]
pub fn community_by_slug(slug: &str) -> String {
    fill(COMMUNITY, &[slug])
}

/// `/api/communities/{id}/members`.
#[must_use]
pub fn community_members(id: CommunityId) -> String {
    fill(COMMUNITY_MEMBERS, &[&id.to_string()])
}

/// `/api/communities/{id}/members/{user_id}`.
#[must_use]
pub fn community_member(id: CommunityId, user: UserId) -> String {
    fill(COMMUNITY_MEMBER, &[&id.to_string(), &user.to_string()])
}

/// `/api/communities/{id}/bans`.
#[must_use]
pub fn community_bans(id: CommunityId) -> String {
    fill(COMMUNITY_BANS, &[&id.to_string()])
}

/// `/api/communities/{id}/bans/{user_id}`.
#[must_use]
pub fn community_ban(id: CommunityId, user: UserId) -> String {
    fill(COMMUNITY_BAN, &[&id.to_string(), &user.to_string()])
}

/// `/api/communities/{id}/kicks`.
#[must_use]
pub fn community_kicks(id: CommunityId) -> String {
    fill(COMMUNITY_KICKS, &[&id.to_string()])
}

/// `/api/communities/{id}/mutes`.
#[must_use]
pub fn community_mutes(id: CommunityId) -> String {
    fill(COMMUNITY_MUTES, &[&id.to_string()])
}

/// `/api/communities/{id}/mutes/{user_id}`.
#[must_use]
pub fn community_mute(id: CommunityId, user: UserId) -> String {
    fill(COMMUNITY_MUTE, &[&id.to_string(), &user.to_string()])
}

/// `/api/communities/{id}/audit`.
#[must_use]
pub fn community_audit(id: CommunityId) -> String {
    fill(COMMUNITY_AUDIT, &[&id.to_string()])
}

/// `/api/channels/{id}/moderation`.
#[must_use]
pub fn channel_moderation(id: ChannelId) -> String {
    fill(CHANNEL_MODERATION, &[&id.to_string()])
}

/// `/api/channels/{id}/purge`.
#[must_use]
pub fn channel_purge(id: ChannelId) -> String {
    fill(CHANNEL_PURGE, &[&id.to_string()])
}

/// `/api/communities/{id}/channels`.
#[must_use]
pub fn community_channels(id: CommunityId) -> String {
    fill(COMMUNITY_CHANNELS, &[&id.to_string()])
}

/// `/api/communities/{id}/invites`.
#[must_use]
pub fn community_invites(id: CommunityId) -> String {
    fill(COMMUNITY_INVITES, &[&id.to_string()])
}

/// `/api/communities/{id}/invites/{code}`.
#[must_use]
pub fn community_invite(id: CommunityId, code: &str) -> String {
    fill(COMMUNITY_INVITE, &[&id.to_string(), code])
}

/// `/invite/{code}`: the invite's page at the gateway, the link people share.
#[must_use]
pub fn invite_page(code: &str) -> String {
    fill(INVITE_PAGE, &[code])
}

/// `/api/invites/{code}/accept`.
#[must_use]
pub fn invite_accept(code: &str) -> String {
    fill(INVITE_ACCEPT, &[code])
}

/// `/api/channels/{id}`.
#[must_use]
pub fn channel(id: ChannelId) -> String {
    fill(CHANNEL, &[&id.to_string()])
}

/// `/api/channels/{id}/join`.
#[must_use]
pub fn channel_join(id: ChannelId) -> String {
    fill(CHANNEL_JOIN, &[&id.to_string()])
}

/// `/api/channels/{id}/leave`.
#[must_use]
pub fn channel_leave(id: ChannelId) -> String {
    fill(CHANNEL_LEAVE, &[&id.to_string()])
}

/// `/api/channels/{id}/members`.
#[must_use]
pub fn channel_members(id: ChannelId) -> String {
    fill(CHANNEL_MEMBERS, &[&id.to_string()])
}

/// `/api/channels/{id}/members/{user_id}`.
#[must_use]
pub fn channel_member(id: ChannelId, user: UserId) -> String {
    fill(CHANNEL_MEMBER, &[&id.to_string(), &user.to_string()])
}

/// `/api/channels/{id}/read`.
#[must_use]
pub fn channel_read(id: ChannelId) -> String {
    fill(CHANNEL_READ, &[&id.to_string()])
}

/// `/api/channels/{id}/preferences`.
#[must_use]
pub fn channel_preferences(id: ChannelId) -> String {
    fill(CHANNEL_PREFERENCES, &[&id.to_string()])
}

/// `/api/channels/{id}/messages`.
#[must_use]
pub fn channel_messages(id: ChannelId) -> String {
    fill(CHANNEL_MESSAGES, &[&id.to_string()])
}

/// `/api/channels/{id}/pins`.
#[must_use]
pub fn channel_pins(id: ChannelId) -> String {
    fill(CHANNEL_PINS, &[&id.to_string()])
}

/// `/api/messages/{id}`.
#[must_use]
pub fn message(id: MessageId) -> String {
    fill(MESSAGE, &[&id.to_string()])
}

/// `/api/messages/{id}/replies`.
#[must_use]
pub fn message_replies(id: MessageId) -> String {
    fill(MESSAGE_REPLIES, &[&id.to_string()])
}

/// `/api/messages/{id}/reactions/{emoji}`, the emoji percent-encoded.
#[must_use]
pub fn message_reaction(id: MessageId, emoji: &str) -> String {
    fill(MESSAGE_REACTION, &[&id.to_string(), emoji])
}

/// `/api/messages/{id}/pin`.
#[must_use]
pub fn message_pin(id: MessageId) -> String {
    fill(MESSAGE_PIN, &[&id.to_string()])
}

/// `/api/tokens/{id}`.
#[must_use]
pub fn token(id: ApiTokenId) -> String {
    fill(TOKEN, &[&id.to_string()])
}

/// `/api/webhooks/{id}`.
#[must_use]
pub fn webhook(id: WebhookId) -> String {
    fill(WEBHOOK, &[&id.to_string()])
}

/// `/api/webhooks/{id}/deliveries`.
#[must_use]
pub fn webhook_deliveries(id: WebhookId) -> String {
    fill(WEBHOOK_DELIVERIES, &[&id.to_string()])
}

/// `/hook/{id}/{token}`: where an incoming webhook posts (the token is its secret).
#[must_use]
pub fn hook(id: WebhookId, token: &str) -> String {
    fill(HOOK, &[&id.to_string(), token])
}

/// `/api/channels/{id}/attachments`.
#[must_use]
pub fn channel_attachments(id: ChannelId) -> String {
    fill(CHANNEL_ATTACHMENTS, &[&id.to_string()])
}

/// `/api/attachments/{id}`.
#[must_use]
pub fn attachment(id: AttachmentId) -> String {
    fill(ATTACHMENT, &[&id.to_string()])
}

/// `/api/webhooks/{id}/avatar`.
#[must_use]
pub fn webhook_avatar(id: WebhookId) -> String {
    fill(WEBHOOK_AVATAR, &[&id.to_string()])
}

/// `/api/users/{id}/avatar`.
#[must_use]
pub fn user_avatar(id: UserId) -> String {
    fill(USER_AVATAR, &[&id.to_string()])
}

/// `/api/attachments/{id}/thumbnail`.
#[must_use]
pub fn attachment_thumbnail(id: AttachmentId) -> String {
    fill(ATTACHMENT_THUMBNAIL, &[&id.to_string()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builders_fill_their_templates_with_encoded_segments() {
        let message = MessageId::generate();
        assert_eq!(message_reaction(message, "🎉"), format!("/api/messages/{message}/reactions/%F0%9F%8E%89"));
        assert_eq!(message_reaction(message, ":tada:"), format!("/api/messages/{message}/reactions/:tada:"));
        assert_eq!(invite_accept("a/b?c#d%"), "/api/invites/a%2Fb%3Fc%23d%25/accept");
        let (channel_id, user) = (ChannelId::generate(), UserId::generate());
        assert_eq!(channel_member(channel_id, user), format!("/api/channels/{channel_id}/members/{user}"));
        assert_eq!(community_by_slug("acme"), "/api/communities/acme");
    }

    #[test]
    fn every_template_is_listed_once_and_has_a_builder_shape() {
        let mut seen = std::collections::BTreeSet::new();
        for template in TEMPLATES {
            assert!(template.starts_with("/api/"), "{template}");
            assert!(seen.insert(*template), "{template} is listed twice");
            let filled = fill(template, &["x", "y"]);
            assert!(!filled.contains(['{', '}']), "{template} fills to {filled}");
        }
    }
}
