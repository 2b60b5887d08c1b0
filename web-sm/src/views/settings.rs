//! The settings screens, as pure maud functions: the viewer's own (profile with avatar and
//! theme, API tokens, security log) and, for a community's admins, its name and link
//! previews, its channels (name, topic, archive, freeze, slow mode), its members and roles,
//! invites, webhooks with their avatar and delivery log, and the audit log (mutes and a
//! channel's purge in `settings/moderation.rs`). Every screen is a page
//! of its own at a shareable URL (`/settings/…`, `/c/{slug}/settings/…`) with the same
//! navigation; its forms are plain POSTs answered with a redirect (Post/Redirect/Get), or,
//! when the api refused, with the same screen showing the api's message and the form as it
//! was filled. A secret the api shows once (a token, a webhook's URL) is shown on the page
//! that answers its creation, and never again.

use ajet_shared::api::wire::{
    ApiToken, AuditRecord, Ban, Channel, Community, CommunityMember, CreatedToken, CreatedWebhook, Invite, Role,
    SecurityEvent, User, WebhookDelivery, WebhookInfo,
};
use ajet_shared::domain::ids::UserId;
use maud::{Markup, html};
use time::OffsetDateTime;

use super::layout::{Theme, themed_document};
use super::shell::{Icon, icon, theme_switch};

mod moderation;

pub use moderation::{MUTE_DURATIONS, MuteForm, PurgeForm, mutes, purge};

/// A date and time as the screens show it (UTC).
#[must_use]
pub fn when(at: OffsetDateTime) -> String {
    at.format(time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC")).unwrap_or_default()
}

/// Whether `role` may see a community's admin screens.
#[must_use]
pub fn is_admin(role: Role) -> bool {
    matches!(role, Role::Owner | Role::Admin)
}

/// Where each screen is.
pub mod href {
    /// `/settings/profile`.
    pub const PROFILE: &str = "/settings/profile";
    /// `/settings/tokens`.
    pub const TOKENS: &str = "/settings/tokens";
    /// `/settings/security`.
    pub const SECURITY: &str = "/settings/security";

    /// `/c/{slug}/settings/{screen}`.
    #[must_use]
    pub fn community(slug: &str, screen: &str) -> String {
        format!("/c/{slug}/settings/{screen}")
    }
}

/// What every settings screen shows around its content.
pub struct Frame<'a> {
    /// The screen's heading (and the document's title).
    pub title: &'a str,
    /// The screen's path, marked current in the navigation.
    pub current: &'a str,
    /// The viewer's communities: those they administer get their screens in the navigation.
    pub communities: &'a [Community],
    /// The api's refusal of the last action, shown above the content.
    pub error: Option<&'a str>,
    /// What the last action did, shown above the content.
    pub done: Option<&'a str>,
    pub theme: Option<Theme>,
}

/// A whole settings page: the navigation, the heading, the error or confirmation line and
/// `content`.
#[must_use]
pub fn settings_page(frame: &Frame<'_>, content: &Markup) -> Markup {
    let link = |path: &str, label: &str| {
        html! { li { a href=(path) aria-current=[(path == frame.current).then_some("page")] { (label) } } }
    };
    let body = html! {
        div.settings {
            nav.settings-nav aria-label="Settings" {
                a.back href="/" { "← Back to chat" }
                h2 { "Your account" }
                ul {
                    (link(href::PROFILE, "Profile"))
                    (link(href::TOKENS, "API tokens"))
                    (link(href::SECURITY, "Security log"))
                }
                @for community in frame.communities.iter().filter(|c| is_admin(c.role)) {
                    h2 { (community.name) }
                    ul {
                        (link(&href::community(&community.slug, "community"), "Community"))
                        (link(&href::community(&community.slug, "channels"), "Channels"))
                        (link(&href::community(&community.slug, "members"), "Members and roles"))
                        (link(&href::community(&community.slug, "mutes"), "Mutes"))
                        (link(&href::community(&community.slug, "invites"), "Invites"))
                        (link(&href::community(&community.slug, "webhooks"), "Webhooks"))
                        (link(&href::community(&community.slug, "audit"), "Audit log"))
                    }
                }
            }
            main.settings-main {
                h1 { (frame.title) }
                @if let Some(error) = frame.error { p.form-error role="alert" { (error) } }
                @if let Some(done) = frame.done { p.form-done role="status" { (done) } }
                (content)
            }
        }
    };
    themed_document(frame.title, frame.theme, &body)
}

/// The community screen (admins): its name, and whether links posted in its channels get
/// previews. `name` and `link_previews` are as last submitted (the community's own at first).
#[must_use]
pub fn community_settings(slug: &str, name: &str, link_previews: bool) -> Markup {
    html! {
        section aria-labelledby="community-about" {
            h2 #community-about { "About" }
            p.hint { "Its address stays " strong { "/c/" (slug) } "." }
            form.settings-form method="post" action=(href::community(slug, "community")) {
                label for="community-name" { "Name" }
                input #community-name name="name" required maxlength="100" value=(name);
                label.check {
                    input type="checkbox" name="link_previews" value="on" checked[link_previews];
                    " Show previews of links posted in its channels (the server fetches each page's title)"
                }
                button type="submit" { "Save" }
            }
        }
    }
}

/// A channel's settings as a form holds them (the channel's own, or as last submitted).
#[derive(Clone, Debug, Default)]
pub struct ChannelEdit {
    pub name: String,
    pub topic: String,
    pub archived: bool,
    pub frozen: bool,
    pub slow_mode_secs: String,
}

impl ChannelEdit {
    /// The channel as it is.
    #[must_use]
    pub fn of(channel: &Channel) -> Self {
        Self {
            name: channel.name.clone().unwrap_or_default(),
            topic: channel.topic.clone().unwrap_or_default(),
            archived: channel.archived_at.is_some(),
            frozen: channel.frozen_at.is_some(),
            slow_mode_secs: channel.slow_mode_secs.to_string(),
        }
    }
}

/// The channels screen (admins): per channel a form with its name, topic, archived,
/// frozen (only admins may post) and slow mode. `edits` are the forms as they are shown
/// (the one the api refused as it was filled).
#[must_use]
pub fn channels(slug: &str, edits: &[(&Channel, ChannelEdit)]) -> Markup {
    html! {
        @if edits.is_empty() { p { "No channels yet." } }
        @for (channel, edit) in edits {
            @let id = channel.id;
            section.channel-settings aria-labelledby=(format!("cs-{id}")) {
                h2 id=(format!("cs-{id}")) {
                    @if matches!(channel.kind, ajet_shared::api::wire::ChannelKind::Private) { "🔒 " } @else { "# " }
                    (channel.name.as_deref().unwrap_or("unnamed"))
                    @if channel.archived_at.is_some() { " " span.hint { "(archived)" } }
                }
                form.settings-form method="post" action=(href::community(slug, &format!("channels/{id}"))) {
                    label for=(format!("name-{id}")) { "Name" }
                    input id=(format!("name-{id}")) name="name" required maxlength="80" value=(edit.name);
                    label for=(format!("topic-{id}")) { "Topic" }
                    input id=(format!("topic-{id}")) name="topic" maxlength="250" value=(edit.topic);
                    label for=(format!("slow-{id}")) { "Slow mode (seconds between one member's posts; 0 is off)" }
                    input id=(format!("slow-{id}")) name="slow_mode_secs" type="number" min="0" max="21600" value=(edit.slow_mode_secs);
                    label.check { input type="checkbox" name="frozen" value="on" checked[edit.frozen]; " Frozen: only admins may post or react" }
                    label.check { input type="checkbox" name="archived" value="on" checked[edit.archived]; " Archived: hidden from the sidebar, history kept" }
                    button type="submit" { "Save #" (channel.name.as_deref().unwrap_or("unnamed")) }
                }
                p { a href=(href::community(slug, &format!("channels/{id}/purge"))) { "Delete the newest messages of #" (channel.name.as_deref().unwrap_or("unnamed")) "…" } }
            }
        }
    }
}

/// The shell's way into the settings: a link with the settings icon.
#[must_use]
pub fn settings_link() -> Markup {
    html! { a.settings-link href=(href::PROFILE) { (icon(Icon::Settings)) " Settings" } }
}

/// The profile screen: display name, avatar (upload or remove), theme.
#[must_use]
pub fn profile(user: &User, display_name: &str, theme: Option<Theme>) -> Markup {
    html! {
        section aria-labelledby="profile-name" {
            h2 #profile-name { "Name" }
            p.hint { "Your username is " strong { (user.username) } "; others see your display name." }
            form.settings-form method="post" action=(href::PROFILE) {
                label for="display_name" { "Display name" }
                input #display_name name="display_name" required maxlength="100" value=(display_name);
                button type="submit" { "Save name" }
            }
        }
        section aria-labelledby="profile-avatar" {
            h2 #profile-avatar { "Avatar" }
            @if let Some(url) = &user.avatar_url {
                img.avatar-preview src=(url) alt="Your avatar" width="64" height="64";
            } @else {
                p.hint { "You have no avatar: others see your initials." }
            }
            form.settings-form method="post" action="/settings/avatar" enctype="multipart/form-data" {
                label for="avatar" { "Image (PNG, JPEG, GIF or WebP, at most 1 MiB)" }
                input #avatar type="file" name="avatar" required accept="image/png,image/jpeg,image/gif,image/webp";
                button type="submit" { "Upload avatar" }
            }
            @if user.avatar_url.is_some() {
                form.settings-form method="post" action="/settings/avatar/delete" {
                    button.danger type="submit" { "Remove avatar" }
                }
            }
        }
        section aria-labelledby="profile-theme" {
            h2 #profile-theme { "Theme" }
            p.hint { "System follows your device; the choice is remembered in this browser." }
            (theme_switch(theme))
        }
    }
}

/// What the token form held.
#[derive(Default)]
pub struct TokenForm {
    pub name: String,
    pub read: bool,
    pub write: bool,
    pub admin: bool,
    pub expires_in_days: String,
}

/// A secret shown once, with a way to copy it.
fn secret_once(label: &str, id: &str, secret: &str) -> Markup {
    html! {
        div.secret role="status" {
            label for=(id) { (label) }
            div.copy-row {
                input #(id) readonly value=(secret);
                button type="button" data-copy=(secret) "data-on:click"="navigator.clipboard.writeText(el.dataset.copy)" {
                    "Copy"
                }
            }
            p.hint { "Copy it now: it is shown only this once." }
        }
    }
}

/// The API tokens screen: the list, the one just created (its secret), the form.
#[must_use]
pub fn tokens(tokens: &[ApiToken], created: Option<&CreatedToken>, form: &TokenForm) -> Markup {
    html! {
        @if let Some(created) = created {
            (secret_once(&format!("Your new token “{}”", created.info.name), "new-token", &created.token))
        }
        section aria-labelledby="tokens-list" {
            h2 #tokens-list { "Your tokens" }
            @if tokens.is_empty() {
                p.hint { "No API tokens yet." }
            } @else {
                table.settings-table {
                    thead { tr { th scope="col" { "Name" } th scope="col" { "Scopes" } th scope="col" { "Created" }
                        th scope="col" { "Last used" } th scope="col" { "Expires" } th scope="col" { span.visually-hidden { "Actions" } } } }
                    tbody {
                        @for token in tokens {
                            tr {
                                td { (token.name) }
                                td { (token.scopes.join(", ")) }
                                td { (when(token.created_at)) }
                                td { (token.last_used_at.map_or_else(|| "never".to_owned(), when)) }
                                td { (token.expires_at.map_or_else(|| "never".to_owned(), when)) }
                                td {
                                    form method="post" action={ "/settings/tokens/" (token.id) "/revoke" } {
                                        button.danger type="submit" aria-label={ "Revoke " (token.name) } { "Revoke" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="tokens-new" {
            h2 #tokens-new { "Create a token" }
            form.settings-form method="post" action=(href::TOKENS) {
                label for="token-name" { "Name" }
                input #token-name name="name" required maxlength="100" value=(form.name) placeholder="deploy bot";
                fieldset {
                    legend { "Scopes" }
                    @for (name, checked, what) in [("read", form.read, "read what you can see"),
                        ("write", form.write, "post and change things as you"), ("admin", form.admin, "administer your communities")] {
                        label.check { input type="checkbox" name=(name) value="on" checked[checked]; " " strong { (name) } " — " (what) }
                    }
                }
                label for="token-expiry" { "Expires after (days; empty: never)" }
                input #token-expiry name="expires_in_days" inputmode="numeric" pattern="[0-9]*" value=(form.expires_in_days);
                button type="submit" { "Create token" }
            }
        }
    }
}

/// The security log: the viewer's logins, logouts and tokens, newest first.
#[must_use]
pub fn security_log(events: &[SecurityEvent]) -> Markup {
    html! {
        @if events.is_empty() {
            p.hint { "Nothing recorded yet." }
        } @else {
            table.settings-table {
                thead { tr { th scope="col" { "When" } th scope="col" { "What" } th scope="col" { "Details" } th scope="col" { "Address" } } }
                tbody {
                    @for event in events {
                        tr {
                            td { (when(event.created_at)) }
                            td { code { (event.action) } }
                            td { (details(&event.details)) }
                            td { (event.ip.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
        }
    }
}

/// An event's details as `key: value` text.
fn details(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(key, value)| match value {
                serde_json::Value::String(text) => format!("{key}: {text}"),
                other => format!("{key}: {other}"),
            })
            .collect::<Vec<_>>()
            .join(" · "),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A member action that failed: whose, and the reason typed, kept in its field.
pub struct MemberFailure {
    pub user: UserId,
    pub reason: String,
}

/// The members screen: each member with their role (changeable but the owner's), kick and
/// ban with a reason, and the bans in force, each liftable.
#[must_use]
pub fn members(
    slug: &str,
    members: &[CommunityMember],
    bans: &[Ban],
    viewer: UserId,
    failed: Option<&MemberFailure>,
) -> Markup {
    let base = href::community(slug, "members");
    html! {
        table.settings-table {
            thead { tr { th scope="col" { "Member" } th scope="col" { "Role" } th scope="col" { "Remove" } } }
            tbody {
                @for member in members {
                    @let id = member.user.id;
                    @let name = &member.user.display_name;
                    @let reason = failed.filter(|f| f.user == id).map_or("", |f| f.reason.as_str());
                    tr id={ "member-" (id) } {
                        td { strong { (name) } " " span.username { "@" (member.user.username) } }
                        td {
                            @if member.role == Role::Owner || id == viewer {
                                (role_name(member.role))
                            } @else {
                                form.inline-form method="post" action={ (base) "/" (id) "/role" } {
                                    label.visually-hidden for={ "role-" (id) } { "Role of " (name) }
                                    select #{ "role-" (id) } name="role" {
                                        option value="member" selected[member.role == Role::Member] { "Member" }
                                        option value="admin" selected[member.role == Role::Admin] { "Admin" }
                                    }
                                    button type="submit" { "Change role" }
                                }
                            }
                        }
                        td {
                            @if member.role != Role::Owner && id != viewer {
                                form.inline-form method="post" action={ (base) "/" (id) "/remove" } {
                                    label.visually-hidden for={ "reason-" (id) } { "Reason for removing " (name) }
                                    input #{ "reason-" (id) } name="reason" maxlength="512" placeholder="Reason" value=(reason);
                                    button.danger type="submit" name="how" value="kick" { "Kick" }
                                    button.danger type="submit" name="how" value="ban" { "Ban" }
                                }
                            }
                        }
                    }
                }
            }
        }
        p.hint { "A kicked member may come back with an invite; a banned one may not until the ban is lifted." }
        section aria-labelledby="bans" {
            h2 #bans { "Bans" }
            @if bans.is_empty() {
                p.hint { "Nobody is banned." }
            } @else {
                table.settings-table {
                    thead { tr { th scope="col" { "Who" } th scope="col" { "Reason" } th scope="col" { "Since" }
                        th scope="col" { "Until" } th scope="col" { span.visually-hidden { "Actions" } } } }
                    tbody {
                        @for ban in bans {
                            tr id={ "ban-" (ban.user.id) } {
                                td { strong { (ban.user.display_name) } " " span.username { "@" (ban.user.username) } }
                                td { (ban.reason.as_deref().unwrap_or("")) }
                                td { (when(ban.created_at)) }
                                td { (ban.expires_at.map_or_else(|| "lifted".to_owned(), when)) }
                                td {
                                    form method="post" action={ (href::community(slug, "bans")) "/" (ban.user.id) "/lift" } {
                                        button type="submit" aria-label={ "Lift the ban of " (ban.user.display_name) } { "Lift ban" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Owner => "Owner",
        Role::Admin => "Admin",
        Role::Member => "Member",
    }
}

/// What the invite form held.
#[derive(Default)]
pub struct InviteForm {
    /// `""` (never), `hour`, `day`, `week`.
    pub expires: String,
    pub max_uses: String,
}

/// The invites screen: the open invites with their links, and the form.
#[must_use]
pub fn invites(slug: &str, origin: &str, invites: &[Invite], form: &InviteForm) -> Markup {
    let base = href::community(slug, "invites");
    html! {
        section aria-labelledby="invites-open" {
            h2 #invites-open { "Open invites" }
            @if invites.is_empty() {
                p.hint { "No open invites." }
            } @else {
                table.settings-table {
                    thead { tr { th scope="col" { "Link" } th scope="col" { "Uses" } th scope="col" { "Expires" }
                        th scope="col" { span.visually-hidden { "Actions" } } } }
                    tbody {
                        @for invite in invites {
                            @let link = format!("{origin}/invite/{}", invite.code);
                            tr {
                                td {
                                    div.copy-row {
                                        label.visually-hidden for={ "invite-" (invite.code) } { "Invite link" }
                                        input #{ "invite-" (invite.code) } readonly value=(link);
                                        button type="button" data-copy=(link) "data-on:click"="navigator.clipboard.writeText(el.dataset.copy)" { "Copy" }
                                    }
                                }
                                td { (invite.uses) @if let Some(max) = invite.max_uses { " of " (max) } }
                                td { (invite.expires_at.map_or_else(|| "never".to_owned(), when)) }
                                td {
                                    form method="post" action={ (base) "/" (invite.code) "/revoke" } {
                                        button.danger type="submit" aria-label={ "Revoke invite " (invite.code) } { "Revoke" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="invites-new" {
            h2 #invites-new { "Create an invite" }
            form.settings-form method="post" action=(base) {
                label for="invite-expires" { "Expires" }
                select #invite-expires name="expires" {
                    @for (value, label) in [("", "Never"), ("hour", "In an hour"), ("day", "In a day"), ("week", "In a week")] {
                        option value=(value) selected[form.expires == value] { (label) }
                    }
                }
                label for="invite-uses" { "Uses (empty: unlimited)" }
                input #invite-uses name="max_uses" inputmode="numeric" pattern="[0-9]*" value=(form.max_uses);
                button type="submit" { "Create invite" }
            }
        }
    }
}

/// What the webhook form held.
#[derive(Default)]
pub struct WebhookForm {
    pub name: String,
    pub channel: String,
}

/// The webhooks screen: the list (each linking to its delivery log), the one just created
/// (its URL), the form.
#[must_use]
pub fn webhooks(
    slug: &str,
    hooks: &[WebhookInfo],
    channels: &[Channel],
    created: Option<&CreatedWebhook>,
    form: &WebhookForm,
) -> Markup {
    let base = href::community(slug, "webhooks");
    let channel_name = |hook: &WebhookInfo| {
        channels.iter().find(|c| c.id == hook.channel_id).and_then(|c| c.name.clone()).unwrap_or_default()
    };
    html! {
        @if let Some(created) = created {
            (secret_once(&format!("The URL of “{}” (it holds its secret token)", created.info.name), "new-webhook", &created.url))
        }
        section aria-labelledby="webhooks-list" {
            h2 #webhooks-list { "Webhooks" }
            @if hooks.is_empty() {
                p.hint { "No webhooks yet." }
            } @else {
                table.settings-table {
                    thead { tr { th scope="col" { "Name" } th scope="col" { "Channel" } th scope="col" { "Created" }
                        th scope="col" { "Last used" } th scope="col" { span.visually-hidden { "Actions" } } } }
                    tbody {
                        @for hook in hooks {
                            tr {
                                td { a href={ (base) "/" (hook.id) } { (hook.name) } }
                                td { "#" (channel_name(hook)) }
                                td { (when(hook.created_at)) }
                                td { (hook.last_used_at.map_or_else(|| "never".to_owned(), when)) }
                                td {
                                    form method="post" action={ (base) "/" (hook.id) "/delete" } {
                                        button.danger type="submit" aria-label={ "Delete webhook " (hook.name) } { "Delete" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="webhooks-new" {
            h2 #webhooks-new { "Create a webhook" }
            form.settings-form method="post" action=(base) {
                label for="webhook-name" { "Name (shown on its posts)" }
                input #webhook-name name="name" required maxlength="80" value=(form.name) placeholder="CI";
                label for="webhook-channel" { "Channel" }
                select #webhook-channel name="channel" required {
                    @for channel in channels {
                        option value=(channel.id) selected[form.channel == channel.id.to_string()] { "#" (channel.name.as_deref().unwrap_or("")) }
                    }
                }
                button type="submit" { "Create webhook" }
            }
        }
    }
}

/// A webhook's page: its avatar (shown, uploaded, removed) and its delivery log, newest
/// first.
#[must_use]
pub fn webhook(slug: &str, hook: &WebhookInfo, deliveries: &[WebhookDelivery]) -> Markup {
    let base = href::community(slug, &format!("webhooks/{}", hook.id));
    html! {
        p { a href=(href::community(slug, "webhooks")) { "← All webhooks" } }
        section aria-labelledby="webhook-avatar" {
            h2 #webhook-avatar { "Avatar" }
            @if let Some(url) = &hook.avatar_url {
                img.avatar-preview src=(url) alt={ "The avatar of " (hook.name) } width="64" height="64";
            } @else {
                p.hint { "No avatar: its posts show its initials." }
            }
            form.settings-form method="post" action={ (base) "/avatar" } enctype="multipart/form-data" {
                label for="webhook-avatar-file" { "Image (PNG, JPEG, GIF or WebP, at most 1 MiB)" }
                input #webhook-avatar-file type="file" name="avatar" required accept="image/png,image/jpeg,image/gif,image/webp";
                button type="submit" { "Upload avatar" }
            }
            @if hook.avatar_url.is_some() {
                form.settings-form method="post" action={ (base) "/avatar/delete" } {
                    button.danger type="submit" { "Remove avatar" }
                }
            }
        }
        h2 { "Deliveries" }
        @if deliveries.is_empty() {
            p.hint { "Nothing delivered yet." }
        } @else {
            table.settings-table {
                thead { tr { th scope="col" { "Received" } th scope="col" { "Status" } th scope="col" { "Event" }
                    th scope="col" { "Size" } th scope="col" { "Result" } } }
                tbody {
                    @for delivery in deliveries {
                        tr {
                            td { (when(delivery.received_at)) }
                            td { (delivery.status) }
                            td { (delivery.event.as_deref().unwrap_or("")) }
                            td { (delivery.payload_bytes) " B" }
                            td { @match &delivery.message { Some(message) => { (message) }, None => { "posted" } } }
                        }
                    }
                }
            }
        }
    }
}

/// A page of the audit log, newest first, with a link to the older page.
#[must_use]
pub fn audit(slug: &str, records: &[AuditRecord], members: &[CommunityMember], older: Option<&str>) -> Markup {
    let actor = |id: Option<UserId>| match id {
        Some(id) => members
            .iter()
            .find(|member| member.user.id == id)
            .map_or_else(|| id.to_string(), |member| member.user.display_name.clone()),
        None => "the system".to_owned(),
    };
    html! {
        @if records.is_empty() {
            p.hint { "Nothing recorded." }
        } @else {
            table.settings-table {
                thead { tr { th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "What" } th scope="col" { "Details" } } }
                tbody {
                    @for record in records {
                        tr {
                            td { (when(record.created_at)) }
                            td { (actor(record.actor_id)) }
                            td { code { (record.action) } }
                            td { (details(&record.details)) }
                        }
                    }
                }
            }
        }
        @if let Some(before) = older {
            p { a href={ (href::community(slug, "audit")) "?before=" (before) } rel="next" { "Older entries →" } }
        }
    }
}

/// A page refusing a non-admin (403), in the settings frame.
#[must_use]
pub fn forbidden() -> Markup {
    html! { p { "Only the community's admins can see this." } }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ajet_shared::api::wire::{ApiToken, CommunityMember};
    use ajet_shared::domain::ids::{ApiTokenId, CommunityId};

    fn community(role: Role) -> Community {
        Community {
            id: CommunityId::generate(),
            name: "<b>Acme</b>".into(),
            slug: "acme".into(),
            description: None,
            created_at: OffsetDateTime::UNIX_EPOCH,
            link_previews: true,
            role,
        }
    }

    fn user(name: &str) -> User {
        User { id: UserId::generate(), username: name.into(), display_name: format!("<i>{name}</i>"), avatar_url: None }
    }

    fn member(name: &str, role: Role) -> CommunityMember {
        CommunityMember { user: user(name), role, nickname: None, joined_at: OffsetDateTime::UNIX_EPOCH }
    }

    #[test]
    fn the_navigation_offers_admin_screens_only_for_communities_the_viewer_administers() {
        let mut other = community(Role::Member);
        other.slug = "other".into();
        let communities = [community(Role::Admin), other];
        let frame = Frame {
            title: "Profile",
            current: href::PROFILE,
            communities: &communities,
            error: Some("<script>no</script>"),
            done: None,
            theme: Theme::parse("dark"),
        };
        let page = settings_page(&frame, &html! {}).into_string();
        assert!(page.contains("<a href=\"/settings/profile\" aria-current=\"page\">Profile</a>"), "{page}");
        assert!(page.contains("<h2>&lt;b&gt;Acme&lt;/b&gt;</h2>"), "{page}");
        assert!(page.contains("href=\"/c/acme/settings/members\""), "{page}");
        assert!(!page.contains("/c/other/settings"), "{page}");
        assert!(page.contains("<p class=\"form-error\" role=\"alert\">&lt;script&gt;no&lt;/script&gt;</p>"), "{page}");
        assert!(page.contains("data-theme=\"dark\""), "{page}");
    }

    #[test]
    fn a_created_token_shows_its_secret_once_and_the_form_keeps_what_was_typed() {
        let info = ApiToken {
            id: ApiTokenId::generate(),
            name: "ci \"bot\"".into(),
            scopes: vec!["read".into(), "write".into()],
            created_at: OffsetDateTime::UNIX_EPOCH,
            last_used_at: None,
            expires_at: None,
        };
        let created = CreatedToken { token: "ajet_secret".into(), info: info.clone() };
        let form = TokenForm { name: "<x>".into(), write: true, expires_in_days: "7".into(), ..TokenForm::default() };
        let html = tokens(std::slice::from_ref(&info), Some(&created), &form).into_string();
        assert!(html.contains("<input id=\"new-token\" readonly value=\"ajet_secret\">"), "{html}");
        assert!(html.contains("Copy it now"), "{html}");
        assert!(html.contains("<td>read, write</td><td>1970-01-01 00:00 UTC</td><td>never</td>"), "{html}");
        assert!(html.contains(&format!("action=\"/settings/tokens/{}/revoke\"", info.id)), "{html}");
        assert!(html.contains("value=\"&lt;x&gt;\""), "{html}");
        assert!(html.contains("name=\"write\" value=\"on\" checked>"), "{html}");
        assert!(html.contains("name=\"read\" value=\"on\">"), "{html}");
        assert!(
            html.contains("name=\"expires_in_days\" inputmode=\"numeric\" pattern=\"[0-9]*\" value=\"7\">"),
            "{html}"
        );
        let again = tokens(std::slice::from_ref(&info), None, &TokenForm::default()).into_string();
        assert!(!again.contains("ajet_secret"), "{again}");
    }

    #[test]
    fn the_members_screen_offers_no_control_over_the_owner_or_oneself_and_keeps_a_failed_reason() {
        let owner = member("olga", Role::Owner);
        let me = member("alice", Role::Admin);
        let bob = member("bob", Role::Member);
        let failed = MemberFailure { user: bob.user.id, reason: "spam <again>".into() };
        let ban = Ban {
            community_id: CommunityId::generate(),
            user: user("eve"),
            reason: Some("<spam>".into()),
            banned_by: None,
            created_at: OffsetDateTime::UNIX_EPOCH,
            expires_at: None,
        };
        let everyone = [owner.clone(), me.clone(), bob.clone()];
        let html = members("acme", &everyone, std::slice::from_ref(&ban), me.user.id, Some(&failed)).into_string();
        assert!(html.contains(&format!("action=\"/c/acme/settings/bans/{}/lift\"", ban.user.id)), "{html}");
        assert!(html.contains("<td>&lt;spam&gt;</td>"), "{html}");
        assert!(html.contains("<strong>&lt;i&gt;olga&lt;/i&gt;</strong>"), "{html}");
        assert!(!html.contains(&format!("/c/acme/settings/members/{}/", owner.user.id)), "{html}");
        assert!(!html.contains(&format!("/c/acme/settings/members/{}/", me.user.id)), "{html}");
        assert!(html.contains(&format!("action=\"/c/acme/settings/members/{}/role\"", bob.user.id)), "{html}");
        assert!(html.contains("<option value=\"member\" selected>Member</option>"), "{html}");
        assert!(html.contains("value=\"spam &lt;again&gt;\""), "{html}");
        assert!(html.contains("name=\"how\" value=\"ban\""), "{html}");
    }

    #[test]
    fn invites_link_to_the_landing_page_on_our_origin() {
        let invite = Invite {
            code: "abc123".into(),
            community_id: CommunityId::generate(),
            expires_at: None,
            max_uses: Some(5),
            uses: 2,
            created_at: OffsetDateTime::UNIX_EPOCH,
        };
        let form = InviteForm { expires: "day".into(), max_uses: "x".into() };
        let html = invites("acme", "https://chat.example", &[invite], &form).into_string();
        assert!(html.contains("value=\"https://chat.example/invite/abc123\""), "{html}");
        assert!(html.contains("<td>2 of 5</td><td>never</td>"), "{html}");
        assert!(html.contains("action=\"/c/acme/settings/invites/abc123/revoke\""), "{html}");
        assert!(html.contains("<option value=\"day\" selected>In a day</option>"), "{html}");
        assert!(html.contains("value=\"x\""), "{html}");
    }

    #[test]
    fn audit_records_name_their_actor_and_link_the_older_page() {
        let alice = member("alice", Role::Owner);
        let record = AuditRecord {
            id: uuid::Uuid::now_v7(),
            community_id: None,
            actor_id: Some(alice.user.id),
            action: "member.ban".into(),
            target_type: Some("user".into()),
            target_id: None,
            details: serde_json::json!({ "reason": "<spam>" }),
            trace_id: None,
            created_at: OffsetDateTime::UNIX_EPOCH,
        };
        let html = audit("acme", &[record], &[alice], Some("0190")).into_string();
        assert!(
            html.contains(
                "<td>&lt;i&gt;alice&lt;/i&gt;</td><td><code>member.ban</code></td><td>reason: &lt;spam&gt;</td>"
            ),
            "{html}"
        );
        assert!(html.contains("href=\"/c/acme/settings/audit?before=0190\" rel=\"next\""), "{html}");
    }
}
