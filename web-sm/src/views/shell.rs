//! The app shell: the community rail, the channel and DM sidebar (public or private icon,
//! unread badge, a form to create a channel), the header, the message list, the notice line
//! and the composer. The main column opens the tab's one live stream (`/sse`) with
//! Datastar, resuming from the stream position the page was rendered at so nothing sent in
//! between is missed.

use super::NO_SIGNALS;
use ajet_shared::api::paths;
use ajet_shared::api::wire::{Channel, ChannelKind, ChannelListItem, CommandInfo, Community, User};
use ajet_shared::domain::ids::{AttachmentId, ChannelId, CommunityId, MessageId, UserId};
use maud::{Markup, html};

use super::layout::{Theme, themed_document};
use super::message::{ListView, message_list};
use super::pending::pending_template;
use super::people::{notification_count, presence_dot, presence_key};
use super::search::{OPEN_SEARCH, search_overlay};
use super::{MessageView, ThreadView, badge_dom_id, channel_dom_id, mentions_dom_id, thread_panel};

/// Everything the shell shows.
pub struct ShellView<'a> {
    pub me: &'a User,
    pub communities: &'a [Community],
    /// The community whose channels the sidebar lists (none when viewing a DM of a user
    /// without communities).
    pub community: Option<&'a Community>,
    pub channels: &'a [ChannelListItem],
    pub dms: &'a [ChannelListItem],
    pub channel: &'a Channel,
    pub messages: &'a [MessageView<'a>],
    /// The composer's idempotency key for its next send.
    pub client_msg_id: &'a str,
    /// The stream position the page's data is as of (`<epoch>.<seq>`), if known.
    pub stream_from: Option<String>,
    /// The highest `channel_seq` the list holds: the stream does not append these again.
    pub last_seq: i64,
    /// Whether the viewer is a member (else a public channel offers to join instead of a composer).
    pub joined: bool,
    /// The open thread (`?thread=`), shown in the right panel.
    pub thread: Option<ThreadView<'a>>,
    /// The channel's pinned messages, newest pin first.
    pub pins: &'a [MessageView<'a>],
    /// The slash commands the viewer may run here, for the composer's hints.
    pub commands: &'a [CommandInfo],
    /// The newest message the viewer has not read, if the list holds one: the tab marks it
    /// read once it is visible.
    pub unread: Option<MessageId>,
    /// The message the list was opened around (`?around=`), highlighted.
    pub around: Option<MessageId>,
    /// The oldest message listed when older ones exist, and the newest when newer ones
    /// exist (a page opened around a message): scrolling to either end loads more.
    pub older: Option<MessageId>,
    pub newer: Option<MessageId>,
    /// The first message the viewer had not read as the page opened: the "New" divider.
    pub first_unread: Option<MessageId>,
    /// Who is online among the people the sidebar shows (DM partners).
    pub presence: &'a [(UserId, bool)],
    /// The viewer's unread notifications.
    pub unread_notifications: usize,
    /// The colour theme the viewer chose (none: the system's).
    pub theme: Option<Theme>,
}

/// The theme switch: system, light or dark, applied at once and remembered (a cookie,
/// which the pages read to render in that theme).
#[must_use]
pub fn theme_switch(theme: Option<Theme>) -> Markup {
    let choice = |name: &str, apply: &str| {
        format!("$_theme = '{name}', {apply}, @post('/theme?theme={name}', {{{NO_SIGNALS}}})")
    };
    let options = [
        ("system", "System", choice("system", "document.documentElement.removeAttribute('data-theme')")),
        ("light", "Light", choice("light", "document.documentElement.dataset.theme = 'light'")),
        ("dark", "Dark", choice("dark", "document.documentElement.dataset.theme = 'dark'")),
    ];
    let current = theme.map_or("system", Theme::as_str);
    html! {
        div.theme-switch role="group" aria-label="Theme" data-signals=(serde_json::json!({ "_theme": current }).to_string()) {
            @for (name, label, action) in options {
                button.quiet type="button" aria-pressed=(if name == current { "true" } else { "false" })
                    "data-attr:aria-pressed"=(format!("$_theme === '{name}' ? 'true' : 'false'")) "data-on:click"=(action) { (label) }
            }
        }
    }
}

/// The main column's read marking: `_unread` (local) holds the newest message the viewer
/// has not seen (the page's, then each new one the stream brings); once a second, if the
/// tab is visible, it is marked read and cleared — so a hidden tab never advances the read
/// cursor, and a burst of messages costs one request.
#[must_use]
pub fn read_marking(channel: ChannelId) -> String {
    format!(
        "$_unread && document.visibilityState === 'visible' && \
         (@post('/channels/{channel}/read?message=' + $_unread, {{{NO_SIGNALS}}}), $_unread = '')"
    )
}

/// How a channel is called in headings: `#name`, or a DM's other members.
#[must_use]
pub fn channel_label(channel: &Channel, members: &[User], me: &User) -> String {
    match channel.kind {
        ChannelKind::Dm | ChannelKind::GroupDm => {
            let others: Vec<&str> =
                members.iter().filter(|user| user.id != me.id).map(|user| user.display_name.as_str()).collect();
            if others.is_empty() { me.display_name.clone() } else { others.join(", ") }
        }
        _ => format!("#{}", channel.name.as_deref().unwrap_or("unnamed")),
    }
}

/// Where a channel's page is.
#[must_use]
pub fn channel_href(channel: &Channel, community: Option<&Community>) -> String {
    match (channel.kind, community, &channel.name) {
        (ChannelKind::Public | ChannelKind::Private, Some(community), Some(name)) => {
            format!("/c/{}/{}", community.slug, name)
        }
        _ => format!("/dm/{}", channel.id),
    }
}

/// The other member of a one-to-one DM, whose presence its entry shows.
#[must_use]
pub fn dm_partner(item: &ChannelListItem, viewer: UserId) -> Option<UserId> {
    match (item.channel.kind, item.members.as_slice()) {
        (ChannelKind::Dm, members) => members.iter().find(|user| user.id != viewer).map(|user| user.id),
        _ => None,
    }
}

/// Whether the viewer muted the channel (until a time still to come).
#[must_use]
pub fn is_muted(item: &ChannelListItem, now: time::OffsetDateTime) -> bool {
    item.muted_until.is_some_and(|until| until > now)
}

/// The sidebar's order of a list (the api's: community channels by name, DMs by last
/// activity) with the viewer's starred channels first; stable, so each part keeps the
/// api's order.
pub fn starred_first<T>(items: &mut [T], item: impl Fn(&T) -> &ChannelListItem) {
    items.sort_by_key(|entry| !item(entry).starred);
}

/// One sidebar entry, with its unread badge and its mention pill (each empty, and hidden,
/// at zero or when current); a one-to-one DM shows the other member's presence dot. A
/// starred entry carries a star, a muted one (`muted`: `is_muted` as of the caller's
/// clock, so that its render key says the same) is dimmed and shows no pills (`.muted`).
#[must_use]
pub fn channel_entry(
    item: &ChannelListItem,
    href: &str,
    label: &str,
    current: bool,
    muted: bool,
    viewer: UserId,
) -> Markup {
    let partner = dm_partner(item, viewer);
    let unread = if current { 0 } else { item.unread_count };
    let mentions = if current { 0 } else { item.mention_count };
    let icon = match item.channel.kind {
        ChannelKind::Public => "#",
        ChannelKind::Private => "🔒",
        _ => "●",
    };
    let kind = match item.channel.kind {
        ChannelKind::Private => "private channel",
        ChannelKind::Public => "channel",
        _ => "direct message",
    };
    let class = match (item.starred, muted) {
        (true, true) => Some("starred muted"),
        (true, false) => Some("starred"),
        (false, true) => Some("muted"),
        (false, false) => None,
    };
    html! {
        li id=(channel_dom_id(item.channel.id)) class=[class] {
            a href=(href) class=[(unread > 0).then_some("unread")] aria-current=[current.then_some("page")] {
                @if let Some(partner) = partner {
                    span.icon aria-label=(kind) { (presence_dot(partner)) }
                } @else {
                    span.icon aria-label=(kind) { (icon) }
                }
                span.name { (label) }
                @if item.starred { span.star aria-label="starred" { "★" } }
                span.badge id=(badge_dom_id(item.channel.id)) aria-label="unread messages" {
                    @if unread > 0 { (unread) }
                }
                span.mentions id=(mentions_dom_id(item.channel.id)) aria-label="mentions of you" {
                    @if mentions > 0 { "@" (mentions) }
                }
            }
        }
    }
}

/// The notice line under the list (errors of the last action); empty hides it.
#[must_use]
pub fn notice(message: Option<&str>) -> Markup {
    html! { div #notice .notice role="alert" { @if let Some(message) = message { (message) } } }
}

/// What a composer is for: the channel's (`thread` none) or the thread panel's. One
/// composer serves both, with its own element ids and signals (the page holds both).
pub struct ComposerSpec<'a> {
    pub me: &'a User,
    pub channel: ChannelId,
    pub community: Option<CommunityId>,
    /// The root replied to, for the thread panel's composer.
    pub thread: Option<MessageId>,
    /// The channel's label (`#general`), for the placeholder.
    pub label: &'a str,
    /// The idempotency key of its next send.
    pub client_msg_id: &'a str,
    /// The slash commands it offers (the channel's composer only).
    pub commands: &'a [CommandInfo],
}

/// A composer's element ids and signal names.
#[derive(Clone, Copy)]
struct Names {
    form: &'static str,
    text: &'static str,
    cmid_input: &'static str,
    uploads: &'static str,
    completion: &'static str,
    file: &'static str,
    list: &'static str,
    body: &'static str,
    cmid: &'static str,
    typed_at: &'static str,
    busy: &'static str,
}

const CHANNEL_NAMES: Names = Names {
    form: "composer",
    text: "composer-body",
    cmid_input: "composer-cmid",
    uploads: "uploads",
    completion: "completion",
    file: "file-input",
    list: "messages",
    body: "body",
    cmid: "cmid",
    typed_at: "_typedAt",
    busy: "_sending",
};

const THREAD_NAMES: Names = Names {
    form: "reply-composer",
    text: "reply-body",
    cmid_input: "reply-cmid",
    uploads: "reply-uploads",
    completion: "reply-completion",
    file: "reply-file-input",
    list: "replies",
    body: "rbody",
    cmid: "rcmid",
    typed_at: "_rtypedAt",
    busy: "_replying",
};

/// A composer: Enter sends, Shift+Enter makes a new line; the body and the send's
/// `client_msg_id` are Datastar signals (`body`, `cmid`; in a thread `rbody`, `rcmid`),
/// sent as JSON. While a send is under way (`_sending` / `_replying`, never sent) the text
/// is read-only, so the next message cannot be typed under the same key; pressing Enter
/// again repeats the same send, which the api answers with the original message. Typing
/// is signalled to the channel's members: a start at most every 3 s while the text is not
/// empty (`_typedAt` / `_rtypedAt`, local), a stop when it is cleared (a send stops it on
/// the server). In the channel's composer, text starting with `/` runs a command (the
/// server tells them apart); while the text starts with `/`, the commands whose names
/// start with what is typed are listed with their usage.
///
/// The rest is `app.js`'s, the same for both composers, reading the form's `data-*`:
/// files (`#uploads` / `#reply-uploads`: picked with the 📎 button, pasted, or dropped on
/// the column) upload at once, each a chip with its progress, a remove button and the
/// api's refusal; a send waits until none is still uploading and names the uploaded ones
/// (`?files=`, their ids as `app.js` wrote them on the chips). `@`/`#` completion
/// (`data-members`, `data-channels`), Up to edit the viewer's last message in its list
/// (`data-list`), and a draft per channel or thread kept across reloads (`data-draft`).
/// A send shows at once (`app.js` adds `me`'s row from the form's pending template, named
/// by the key it reads from the hidden input bound to the `cmid` signal), and is replaced
/// by the message, or marked failed with Retry and Discard (`views::pending`). A lost
/// connection is retried twice, quickly, with the same key, before the row says it was
/// not sent.
#[must_use]
pub fn composer(spec: &ComposerSpec<'_>) -> Markup {
    let names = if spec.thread.is_some() { &THREAD_NAMES } else { &CHANNEL_NAMES };
    let Names { form, text, cmid_input, uploads, completion, file, list, body, cmid, typed_at, busy } = *names;
    let channel = spec.channel;
    let signals = serde_json::json!({ body: "", cmid: spec.client_msg_id, typed_at: 0 }).to_string();
    let (target, draft) = match spec.thread {
        // Drafts are the viewer's: another account signed in on the same browser never
        // sees them, nor resumes a send left in flight.
        Some(root) => (format!("/channels/{channel}/threads/{root}"), format!("{}:{channel}:{root}", spec.me.id)),
        None => (format!("/channels/{channel}/messages"), format!("{}:{channel}", spec.me.id)),
    };
    let send = format!(
        "document.querySelector('#{uploads} .uploading') || @post('{target}?files=' + \
         [...document.querySelectorAll('#{uploads} li[data-id]')].map((li) => li.dataset.id).join(','), \
         {{filterSignals: {{include: /^({body}|{cmid})$/}}, {SEND_RETRIES}}})"
    );
    let on_enter =
        format!("evt.key === 'Enter' && !evt.shiftKey && !evt.isComposing && (evt.preventDefault(), {send})");
    let on_input = typing_on_input(channel, text, typed_at);
    let (label, placeholder) = match spec.thread {
        Some(_) => ("Reply in thread".to_owned(), "Reply…".to_owned()),
        None => (format!("Message {}", spec.label), format!("Message {}", spec.label)),
    };
    let community = spec.community;
    html! {
        form id=(form) .composer data-signals=(signals) "data-on:submit"=(send) data-indicator=(busy)
            data-channel=(channel) data-draft=(draft) data-list=(list) data-upload=(paths::channel_attachments(channel))
            data-members=[community.map(paths::community_members)] data-channels=[community.map(paths::community_channels)]
            data-commands=[(!spec.commands.is_empty()).then_some("true")] {
            (pending_template(spec.me))
            input id=(cmid_input) type="hidden" value=(spec.client_msg_id) data-bind=(cmid);
            ul id=(uploads) .uploads aria-label="Files to send" aria-live="polite" {}
            ul id=(completion) .completion role="listbox" aria-label="Suggestions" hidden {}
            @if !spec.commands.is_empty() {
                ul #command-hints .command-hints aria-label="Commands" "data-class:open"="$body.startsWith('/')" {
                    @for command in spec.commands {
                        // The name is data, never part of the expression.
                        li data-command=(command.name)
                            "data-class:match"="$body.startsWith('/') && el.dataset.command.startsWith($body.slice(1).split(' ')[0])" {
                            code { (command.usage) }
                            " — " (command.summary)
                            @if command.admin { " " span.admin-tag { "admin" } }
                        }
                    }
                }
            }
            label.visually-hidden for=(text) { (label) }
            div.composer-row "data-on:input"=(on_input) {
                label.attach-button for=(file) title="Attach files" {
                    (icon(Icon::Clip)) span.visually-hidden { "Attach files" }
                }
                input id=(file) .visually-hidden type="file" multiple;
                textarea id=(text) rows="1" data-bind=(body) placeholder=(placeholder)
                    "data-on:keydown"=(on_enter) data-indicator=(busy) "data-attr:readonly"=(format!("${busy}"))
                    aria-autocomplete="list" aria-controls=(completion) {}
            }
        }
    }
}

/// A send's retries when the connection fails (Datastar's default is ten, over minutes):
/// two, quickly, then the row says it was not sent and offers Retry. Each repeats the same
/// `client_msg_id`, so none can duplicate.
pub const SEND_RETRIES: &str = "retryMaxCount: 2, retryInterval: 300";

/// The element id of an uploaded file's chip in the composer (`app.js` sets it).
#[must_use]
pub fn upload_dom_id(attachment: AttachmentId) -> String {
    format!("up-{attachment}")
}

/// How often the composer repeats "typing" while the text is not empty (the stream core
/// expires a typist silent for longer than its expiry, 15 s by default).
pub const TYPING_EVERY_MS: u64 = 3000;

/// A composer's typing signal, for the `data-on:input` of the row around its text
/// (`text_id`), with `typed_at` the local signal holding when it last said so: a start at
/// most every `TYPING_EVERY_MS` while the text is not empty, a stop when it is cleared.
/// Only the viewer's own keystrokes are typing: a draft restored or a completion accepted
/// (`app.js`) is not. It is heard on the row, not the text, so its request does not count
/// as a send (the send's indicator makes the text read-only, dropping the next keystroke).
#[must_use]
pub fn typing_on_input(channel: ChannelId, text_id: &str, typed_at: &str) -> String {
    let typing = |on: bool| format!("@post('/channels/{channel}/typing?typing={on}', {{{NO_SIGNALS}}})");
    format!(
        "evt.isTrusted && evt.target.id === '{text_id}' && (evt.target.value.trim() \
         ? (Date.now() - ${typed_at} > {TYPING_EVERY_MS} && (${typed_at} = Date.now(), {start})) \
         : (${typed_at} > 0 && (${typed_at} = 0, {stop})))",
        start = typing(true),
        stop = typing(false),
    )
}

/// The typing line above the composer (`#typing`): who else is typing in the channel.
#[must_use]
pub fn typing_line(names: &[&str]) -> Markup {
    typing_line_at("typing", names)
}

/// A typing line with the element id `id` (the thread panel has one too, `#thread-typing`).
#[must_use]
pub fn typing_line_at(id: &str, names: &[&str]) -> Markup {
    html! {
        div.typing id=(id) aria-live="polite" {
            @match names {
                [] => {},
                [one] => { strong { (one) } " is typing…" },
                [one, two] => { strong { (one) } " and " strong { (two) } " are typing…" },
                _ => { "Several people are typing…" },
            }
        }
    }
}

/// The viewer's own settings for the channel shown (members only): star, mute, and which
/// messages notify them. Plain POSTs to `/channels/{id}/preferences`; the page comes back
/// with them applied (the sidebar puts starred channels first and dims muted ones).
#[must_use]
pub fn channel_preferences(item: &ChannelListItem, now: time::OffsetDateTime) -> Markup {
    use ajet_shared::api::wire::NotifyLevel;
    let action = format!("/channels/{}/preferences", item.channel.id);
    let muted = is_muted(item, now);
    let levels = [
        (NotifyLevel::All, "all", "Every message"),
        (NotifyLevel::Mentions, "mentions", "Mentions only"),
        (NotifyLevel::None, "none", "Nothing"),
    ];
    html! {
        details.channel-preferences #channel-preferences {
            summary.quiet.topbar-button { "Preferences" }
            div.preferences-menu {
                form method="post" action=(action) {
                    input type="hidden" name="starred" value=(if item.starred { "false" } else { "true" });
                    button.quiet type="submit" { @if item.starred { "Unstar" } @else { "Star" } }
                }
                form method="post" action=(action) {
                    input type="hidden" name="muted" value=(if muted { "false" } else { "true" });
                    button.quiet type="submit" { @if muted { "Unmute" } @else { "Mute" } }
                }
                form method="post" action=(action) {
                    label for="notify-level" { "Notify me of" }
                    select #notify-level name="notify_level" {
                        @for (level, value, text) in levels {
                            option value=(value) selected[item.notify_level == level] { (text) }
                        }
                    }
                    button type="submit" { "Save" }
                }
            }
        }
    }
}

/// The main column's header: the channel's label and topic.
#[must_use]
pub fn channel_header(label: &str, topic: Option<&str>) -> Markup {
    html! {
        header #channel-header .header {
            h1 { (label) }
            @if let Some(topic) = topic { span.topic { (topic) } }
        }
    }
}

/// A short plain excerpt of a message's Markdown, for lists (pins, later search hits).
fn excerpt(body_md: &str) -> String {
    const MAX: usize = 80;
    let flat: String = body_md.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &flat[..at]),
        None => flat,
    }
}

/// The channel's pins (`#pins`, beside the header): a count that opens their list, each a
/// link to the message; empty without pins.
#[must_use]
pub fn pins_bar(pins: &[MessageView<'_>]) -> Markup {
    html! {
        div #pins .pins {
            @if !pins.is_empty() {
                details {
                    summary aria-label={ "Pinned messages: " (pins.len()) } { "📌 " (pins.len()) }
                    ol.pin-list aria-label="Pinned messages" {
                        @for pin in pins {
                            li {
                                a href={ "?around=" (pin.id) } {
                                    span.author { (pin.author.bot.as_ref().map_or(pin.author.display_name.as_str(), |bot| bot.name.as_str())) }
                                    " "
                                    span.excerpt { (excerpt(pin.body_md)) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn community_initials(name: &str) -> String {
    name.split_whitespace().filter_map(|word| word.chars().find(|c| c.is_alphanumeric())).take(2).collect()
}

/// Announces the viewer as online: as the page opens, then every minute (the api counts
/// as online whoever it heard from within two minutes).
const HEARTBEAT: &str = "@post('/api/heartbeat', {filterSignals: {include: /^$/}})";

/// The shell's local signals: presence per user, and which sheets are open.
fn app_signals(presence: &[(UserId, bool)]) -> String {
    let presence: serde_json::Map<String, serde_json::Value> =
        presence.iter().map(|(user, online)| (presence_key(*user), serde_json::Value::Bool(*online))).collect();
    serde_json::json!({
        "_presence": presence, "_inbox": false, "_people": false, "_drawer": false, "_viewer": "", "_viewerAlt": ""
    })
    .to_string()
}

/// The whole page.
#[must_use]
pub fn shell_page(view: &ShellView<'_>) -> Markup {
    let current_members: &[User] = view
        .channels
        .iter()
        .chain(view.dms)
        .find(|item| item.channel.id == view.channel.id)
        .map_or(&[], |item| item.members.as_slice());
    let label = channel_label(view.channel, current_members, view.me);
    let mut stream = format!("/sse?channel={}&seq={}", view.channel.id, view.last_seq);
    if let Some(from) = &view.stream_from {
        stream.push_str("&from=");
        stream.push_str(from);
    }
    if let Some(thread) = &view.thread {
        stream.push_str("&thread=");
        stream.push_str(&thread.root.id.to_string());
    }
    let close_href = channel_href(view.channel, view.community);
    let mut channels: Vec<&ChannelListItem> =
        view.channels.iter().filter(|item| item.channel.archived_at.is_none()).collect();
    starred_first(&mut channels, |item| item);
    let mut dms: Vec<&ChannelListItem> = view.dms.iter().collect();
    starred_first(&mut dms, |item| item);
    let now = time::OffsetDateTime::now_utc();
    let body = html! {
        div class=@if view.thread.is_some() { "app with-thread" } @else { "app" }
            data-signals=(app_signals(view.presence)) "data-class:drawer-open"="$_drawer"
            "data-init"=(HEARTBEAT) "data-on-interval__duration.60s"=(HEARTBEAT)
            "data-on:keydown__window"=(format!("(evt.ctrlKey || evt.metaKey) && evt.key === 'k' && (evt.preventDefault(), {OPEN_SEARCH}), \
                evt.key === 'Escape' && ($_drawer = false)")) {
            nav.rail aria-label="Communities" {
                @for community in view.communities {
                    a href={ "/c/" (community.slug) } title=(community.name)
                        aria-current=[(view.community.map(|c| c.id) == Some(community.id)).then_some("page")] {
                        (community_initials(&community.name))
                    }
                }
            }
            nav.sidebar aria-label="Channels" {
                @if let Some(community) = view.community {
                    h2 { (community.name) }
                    h3 { "Channels" }
                    ul #channels .channels {
                        @for item in channels {
                            (channel_entry(item, &channel_href(&item.channel, Some(community)),
                                &item.channel.name.clone().unwrap_or_default(), item.channel.id == view.channel.id,
                                is_muted(item, now), view.me.id))
                        }
                    }
                    details.new-channel {
                        summary { "Create a channel" }
                        form method="post" action={ "/c/" (community.slug) } {
                            label.visually-hidden for="new-channel-name" { "Channel name" }
                            input #new-channel-name name="name" required maxlength="80" placeholder="new-channel";
                            label { input type="checkbox" name="private" value="true"; " Private" }
                            button type="submit" { "Create channel" }
                        }
                    }
                }
                h3 { "Direct messages" }
                ul #dms .channels {
                    @for item in dms {
                        (channel_entry(item, &channel_href(&item.channel, None),
                            &channel_label(&item.channel, &item.members, view.me), item.channel.id == view.channel.id,
                            is_muted(item, now), view.me.id))
                    }
                }
                (theme_switch(view.theme))
                (super::settings::settings_link())
            }
            div.drawer-backdrop "data-on:click"="$_drawer = false" {}
            main.main "data-init"=(format!("@get('{stream}', {{retry: 'always', {NO_SIGNALS}}})"))
                data-signals=(serde_json::json!({ "_unread": view.unread.map(|id| id.to_string()).unwrap_or_default() }).to_string())
                "data-on-interval__duration.1s"=(read_marking(view.channel.id)) {
                div.topbar {
                    button.quiet.menu-button type="button" aria-label="Channels and communities"
                        "data-attr:aria-expanded"="$_drawer ? 'true' : 'false'" "data-on:click"="$_drawer = !$_drawer" { (icon(Icon::Menu)) }
                    (channel_header(&label, view.channel.topic.as_deref()))
                    (pins_bar(view.pins))
                    @if let (Some(community), Some(_)) = (view.community, view.channel.community_id) {
                        button.quiet.topbar-button #members-button type="button"
                            "data-on:click"=(format!("$_people = true, @get('/communities/{}/members', {{{NO_SIGNALS}}})", community.id)) {
                            (icon(Icon::People)) " Members"
                        }
                    }
                    @if view.joined && let Some(item) = view.channels.iter().chain(view.dms).find(|item| item.channel.id == view.channel.id) {
                        (channel_preferences(item, time::OffsetDateTime::now_utc()))
                    }
                    button.quiet.topbar-button #bell type="button" aria-label="Notifications"
                        "data-on:click"=(format!("$_inbox = true, @get('/notifications', {{{NO_SIGNALS}}})")) {
                        (icon(Icon::Bell)) (notification_count(view.unread_notifications))
                    }
                    button.quiet.search-button type="button" "data-on:click"=(OPEN_SEARCH) aria-keyshortcuts="Control+K Meta+K" { (icon(Icon::Search)) " Search" }
                }
                div.scroller {
                    @if view.around.is_some() {
                        p.older { "You are viewing older messages. " a href=(close_href) { "Jump to the present" } }
                    }
                    (message_list(&ListView {
                        messages: view.messages,
                        viewer: view.me.id,
                        channel: view.channel.id,
                        channel_label: &label,
                        older: view.older,
                        newer: view.newer,
                        first_unread: view.first_unread,
                        highlight: view.around,
                    }))
                }
                (notice(None))
                (typing_line(&[]))
                @if view.joined {
                    (composer(&ComposerSpec {
                        me: view.me,
                        channel: view.channel.id,
                        community: view.community.map(|c| c.id),
                        thread: None,
                        label: &label,
                        client_msg_id: view.client_msg_id,
                        commands: view.commands,
                    }))
                } @else {
                    form.composer method="post" action={ "/channels/" (view.channel.id) "/join" } {
                        button type="submit" { "Join " (label) }
                    }
                }
            }
            @if let Some(thread) = &view.thread {
                (thread_panel(thread, view.me, view.channel.id, view.community.map(|c| c.id), view.joined, &close_href))
            }
            (search_overlay())
            (image_viewer())
            div #people .sheet role="dialog" aria-label="Members" "data-class:open"="$_people"
                "data-on:keydown__window"="evt.key === 'Escape' && ($_people = false)" {
                header.panel-header { h2 { "Members" } button.quiet.close type="button" "data-on:click"="$_people = false" { "Close" } }
                ul #people-list .people-list aria-label="Members" {}
            }
            div #inbox .sheet role="dialog" aria-label="Notifications" "data-class:open"="$_inbox"
                "data-on:keydown__window"="evt.key === 'Escape' && ($_inbox = false)" {
                header.panel-header {
                    h2 { "Notifications" }
                    button.quiet type="button" "data-on:click"=(format!("@post('/notifications/read', {{{NO_SIGNALS}}})")) { "Mark all read" }
                    button.quiet.close type="button" "data-on:click"="$_inbox = false" { "Close" }
                }
                ol #inbox-list .inbox-list aria-label="Notifications" {}
            }
        }
    };
    themed_document(&label, view.theme, &body)
}

/// The full-size image viewer (`#viewer`): a thumbnail's click sets `_viewer` to its
/// original; a click anywhere or Esc closes it. It follows the thread panel in the page,
/// so the panel's Esc handler (which runs first) sees it open and leaves the thread be.
#[must_use]
pub fn image_viewer() -> Markup {
    html! {
        div #viewer .viewer role="dialog" aria-modal="true" aria-label="Image" "data-class:open"="$_viewer"
            "data-on:click"="$_viewer = ''" "data-on:keydown__window"="evt.key === 'Escape' && ($_viewer = '')" {
            img "data-attr:src"="$_viewer || null" "data-attr:alt"="$_viewerAlt";
            button.quiet.close type="button" { "Close" }
        }
    }
}

/// The top bar's icons, drawn as inline SVG in the text colour: an emoji would depend on
/// the reader's fonts (a browser without an emoji font shows empty boxes).
#[derive(Clone, Copy)]
pub enum Icon {
    Menu,
    People,
    Bell,
    Search,
    Settings,
    Clip,
}

/// `which` as a 16 px stroked SVG, hidden from assistive technology (its button is labelled).
#[must_use]
pub fn icon(which: Icon) -> Markup {
    let paths: &[&str] = match which {
        Icon::Menu => &["M3 6h18M3 12h18M3 18h18"],
        Icon::People => &[
            "M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8z",
            "M2 21v-2a5 5 0 0 1 5-5h4a5 5 0 0 1 5 5v2",
            "M16 3.2a4 4 0 0 1 0 7.6M22 21v-2a5 5 0 0 0-4-4.9",
        ],
        Icon::Bell => &["M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9", "M13.7 21a2 2 0 0 1-3.4 0"],
        Icon::Search => &["M11 18a7 7 0 1 0 0-14 7 7 0 0 0 0 14z", "M21 21l-5-5"],
        Icon::Settings => &["M4 21v-7M4 10V3M12 21v-9M12 8V3M20 21v-5M20 12V3", "M1 14h6M9 8h6M17 16h6"],
        Icon::Clip => &["M21 11l-8.5 8.5a5 5 0 0 1-7-7L14 4a3.5 3.5 0 0 1 5 5l-8.5 8.5a2 2 0 0 1-3-3L15 7"],
    };
    html! {
        svg.icon xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="16" height="16" fill="none"
            stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"
            aria-hidden="true" focusable="false" {
            @for d in paths { path d=(d) {} }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ajet_shared::domain::ids::{CommunityId, UserId};
    use time::OffsetDateTime;

    fn channel(name: &str, kind: ChannelKind) -> Channel {
        Channel {
            id: ChannelId::generate(),
            community_id: Some(CommunityId::generate()),
            kind,
            name: Some(name.into()),
            topic: Some("<b>topic</b>".into()),
            created_at: OffsetDateTime::UNIX_EPOCH,
            archived_at: None,
            slow_mode_secs: 0,
            frozen_at: None,
        }
    }

    fn item(channel: Channel, unread: i64) -> ChannelListItem {
        ChannelListItem {
            channel,
            is_member: true,
            unread_count: unread,
            mention_count: 0,
            last_message_at: None,
            members: vec![],
            notify_level: ajet_shared::api::wire::NotifyLevel::All,
            muted_until: None,
            starred: false,
        }
    }

    fn user(name: &str) -> User {
        User { id: UserId::generate(), username: name.into(), display_name: name.into(), avatar_url: None }
    }

    #[test]
    fn a_sidebar_entry_shows_its_kind_and_unread_count_unless_current() {
        let mut entry = item(channel("secret", ChannelKind::Private), 3);
        entry.mention_count = 1;
        let html = channel_entry(&entry, "/c/acme/secret", "secret", false, false, UserId::generate()).into_string();
        let id = entry.channel.id;
        assert_eq!(
            html,
            format!(
                "<li id=\"ch-{id}\"><a href=\"/c/acme/secret\" class=\"unread\"><span class=\"icon\" aria-label=\"private channel\">🔒</span>\
                 <span class=\"name\">secret</span><span class=\"badge\" id=\"badge-{id}\" aria-label=\"unread messages\">3</span>\
                 <span class=\"mentions\" id=\"mentions-{id}\" aria-label=\"mentions of you\">@1</span></a></li>"
            )
        );
        let html = channel_entry(&entry, "/c/acme/secret", "secret", true, false, UserId::generate()).into_string();
        assert!(html.contains("<a href=\"/c/acme/secret\" aria-current=\"page\">"), "{html}");
        assert!(html.contains("aria-label=\"unread messages\"></span>"), "{html}");
        assert!(html.contains("aria-label=\"mentions of you\"></span>"), "{html}");
    }

    #[test]
    fn a_sidebar_entry_is_dimmed_exactly_when_its_caller_says_it_is_muted() {
        // A mute that lapsed a moment ago: the caller's clock (the render key's) decides,
        // not a second reading of the clock inside the view.
        let mut entry = item(channel("quiet", ChannelKind::Public), 0);
        entry.muted_until = Some(OffsetDateTime::now_utc() - time::Duration::seconds(1));
        let muted = channel_entry(&entry, "/c/acme/quiet", "quiet", false, true, UserId::generate()).into_string();
        assert!(muted.starts_with(&format!("<li id=\"ch-{}\" class=\"muted\">", entry.channel.id)), "{muted}");
        entry.muted_until = Some(OffsetDateTime::now_utc() + time::Duration::hours(1));
        let shown = channel_entry(&entry, "/c/acme/quiet", "quiet", false, false, UserId::generate()).into_string();
        assert!(shown.starts_with(&format!("<li id=\"ch-{}\">", entry.channel.id)), "{shown}");
    }

    fn spec<'a>(
        me: &'a User,
        channel: ChannelId,
        community: Option<CommunityId>,
        commands: &'a [CommandInfo],
    ) -> ComposerSpec<'a> {
        ComposerSpec { me, channel, community, thread: None, label: "#general", client_msg_id: "abc", commands }
    }

    #[test]
    fn the_composer_sends_on_enter_with_its_client_msg_id_as_a_signal() {
        let id = ChannelId::generate();
        let help = CommandInfo {
            name: "help\"<x>".into(),
            aliases: vec![],
            usage: "/help [command]".into(),
            summary: "list <commands>".into(),
            admin: false,
        };
        let html = composer(&spec(&user("al"), id, None, std::slice::from_ref(&help))).into_string();
        assert!(
            html.contains(
                "<li data-command=\"help&quot;&lt;x&gt;\" data-class:match=\"$body.startsWith('/') &amp;&amp; \
                 el.dataset.command.startsWith($body.slice(1).split(' ')[0])\"><code>/help [command]</code> — list &lt;commands&gt;</li>"
            ),
            "{html}"
        );
        assert!(
            html.contains(
                "data-signals=\"{&quot;_typedAt&quot;:0,&quot;body&quot;:&quot;&quot;,&quot;cmid&quot;:&quot;abc&quot;}\""
            ),
            "{html}"
        );
        assert!(html.contains(&format!(
            "data-on:submit=\"document.querySelector('#uploads .uploading') || @post('/channels/{id}/messages?files=' + \
             [...document.querySelectorAll('#uploads li[data-id]')].map((li) =&gt; li.dataset.id).join(','), \
             {{filterSignals: {{include: /^(body|cmid)$/}}, retryMaxCount: 2, retryInterval: 300}})\""
        )), "{html}");
        assert!(html.contains("evt.key === 'Enter' &amp;&amp; !evt.shiftKey"), "{html}");
        assert!(html.contains("placeholder=\"Message #general\""));
        assert!(html.contains("data-indicator=\"_sending\" data-attr:readonly=\"$_sending\""), "{html}");
        assert!(
            html.contains(&format!(
                "(Date.now() - $_typedAt &gt; 3000 &amp;&amp; ($_typedAt = Date.now(), \
                 @post('/channels/{id}/typing?typing=true', {{filterSignals: {{include: /^$/}}}})))"
            )),
            "{html}"
        );
        assert!(html.contains(&format!("($_typedAt = 0, @post('/channels/{id}/typing?typing=false'")), "{html}");
        assert!(
            html.contains(
                "<div class=\"composer-row\" data-on:input=\"evt.isTrusted &amp;&amp; evt.target.id === 'composer-body' \
                 &amp;&amp; (evt.target.value.trim()"
            ),
            "{html}"
        );
    }

    #[test]
    fn the_composer_uploads_files_to_the_channels_attachments_and_sends_them_by_id() {
        let id = ChannelId::generate();
        let community = CommunityId::generate();
        let al = user("al");
        let html = composer(&spec(&al, id, Some(community), &[])).into_string();
        assert!(
            html.contains(&format!(
                "data-channel=\"{id}\" data-draft=\"{}:{id}\" data-list=\"messages\" data-upload=\"/api/channels/{id}/attachments\"",
                al.id
            )),
            "app.js finds where to upload: {html}"
        );
        assert!(
            html.contains(
                "<ul class=\"uploads\" id=\"uploads\" aria-label=\"Files to send\" aria-live=\"polite\"></ul>"
            ),
            "{html}"
        );
        assert!(html.contains("<label class=\"attach-button\" for=\"file-input\" title=\"Attach files\">"), "{html}");
        assert!(html.contains("<input class=\"visually-hidden\" id=\"file-input\" type=\"file\" multiple>"), "{html}");
        assert!(
            html.contains(&format!(
                "data-members=\"/api/communities/{community}/members\" data-channels=\"/api/communities/{community}/channels\">"
            )),
            "app.js completes @ and # from the community's members and channels: {html}"
        );
        assert!(
            html.contains(
                "<ul class=\"completion\" id=\"completion\" role=\"listbox\" aria-label=\"Suggestions\" hidden></ul>"
            ),
            "{html}"
        );
        assert!(html.contains("aria-autocomplete=\"list\" aria-controls=\"completion\">"), "{html}");
        let attachment = AttachmentId::generate();
        assert_eq!(upload_dom_id(attachment), format!("up-{attachment}"));
    }

    #[test]
    fn the_image_viewer_opens_on_a_thumbnail_and_closes_on_click_or_escape() {
        let html = image_viewer().into_string();
        assert!(html.starts_with("<div class=\"viewer\" id=\"viewer\" role=\"dialog\" aria-modal=\"true\""), "{html}");
        assert!(html.contains("data-class:open=\"$_viewer\" data-on:click=\"$_viewer = ''\""), "{html}");
        assert!(html.contains("data-on:keydown__window=\"evt.key === 'Escape' &amp;&amp; ($_viewer = '')\""), "{html}");
        assert!(html.contains("<img data-attr:src=\"$_viewer || null\" data-attr:alt=\"$_viewerAlt\">"), "{html}");
    }

    #[test]
    fn the_typing_line_names_one_or_two_typists_and_counts_more() {
        assert_eq!(typing_line(&[]).into_string(), "<div class=\"typing\" id=\"typing\" aria-live=\"polite\"></div>");
        assert!(
            typing_line(&["<b>al</b>"]).into_string().contains("<strong>&lt;b&gt;al&lt;/b&gt;</strong> is typing…")
        );
        assert!(
            typing_line(&["al", "bo"])
                .into_string()
                .contains("<strong>al</strong> and <strong>bo</strong> are typing…")
        );
        assert!(typing_line(&["al", "bo", "cy"]).into_string().contains(">Several people are typing…</div>"));
    }

    #[test]
    fn the_pins_bar_counts_pins_and_links_each_to_its_message() {
        assert_eq!(pins_bar(&[]).into_string(), "<div class=\"pins\" id=\"pins\"></div>");
        let author = ajet_shared::api::wire::Author {
            user_id: None,
            username: None,
            display_name: "Bob".into(),
            avatar_url: None,
            bot: None,
        };
        let body = format!("<b>{}</b>", "long ".repeat(30));
        let pin = MessageView {
            id: MessageId::generate(),
            author: &author,
            body_md: &body,
            created_at: OffsetDateTime::UNIX_EPOCH,
            edited: false,
            deleted: false,
            reactions: vec![],
            parent_id: None,
            reply_count: 0,
            last_reply_at: None,
            pinned: true,
            files: &[],
            previews: &[],
        };
        let html = pins_bar(std::slice::from_ref(&pin)).into_string();
        assert!(html.contains("<summary aria-label=\"Pinned messages: 1\">📌 1</summary>"), "{html}");
        assert!(
            html.contains(&format!(
                "<a href=\"?around={}\"><span class=\"author\">Bob</span> <span class=\"excerpt\">&lt;b&gt;long long",
                pin.id
            )),
            "{html}"
        );
        assert!(html.contains(" lo…</span>"), "long bodies are cut at 80 characters: {html}");
    }

    #[test]
    fn the_theme_switch_marks_the_current_choice_and_remembers_a_new_one() {
        let html = theme_switch(Theme::parse("dark")).into_string();
        assert!(html.contains("data-signals=\"{&quot;_theme&quot;:&quot;dark&quot;}\""), "{html}");
        assert!(
            html.contains("aria-pressed=\"true\" data-attr:aria-pressed=\"$_theme === 'dark' ? 'true' : 'false'\""),
            "{html}"
        );
        assert!(
            html.contains(
                "data-on:click=\"$_theme = 'system', document.documentElement.removeAttribute('data-theme'), \
             @post('/theme?theme=system', {filterSignals: {include: /^$/}})\">System</button>"
            ),
            "{html}"
        );
    }

    #[test]
    fn the_shell_escapes_names_and_opens_the_stream_from_the_pages_position() {
        let me = user("alice");
        let community = Community {
            id: CommunityId::generate(),
            name: "<img src=x onerror=alert(1)>".into(),
            slug: "acme".into(),
            description: None,
            created_at: OffsetDateTime::UNIX_EPOCH,
            link_previews: true,
            role: ajet_shared::api::wire::Role::Owner,
        };
        let general = item(channel("general", ChannelKind::Public), 0);
        let random = item(channel("random", ChannelKind::Public), 2);
        let channels = [general.clone(), random];
        let page = shell_page(&ShellView {
            me: &me,
            communities: std::slice::from_ref(&community),
            community: Some(&community),
            channels: &channels,
            dms: &[],
            channel: &general.channel,
            messages: &[],
            client_msg_id: "k1",
            stream_from: Some("7.42".into()),
            last_seq: 9,
            joined: true,
            thread: None,
            pins: &[],
            commands: &[],
            unread: None,
            around: None,
            older: None,
            newer: None,
            first_unread: None,
            presence: &[],
            unread_notifications: 0,
            theme: None,
        })
        .into_string();
        assert!(!page.contains("<img src"), "names are text: {page}");
        assert!(page.contains("<h2>&lt;img src=x onerror=alert(1)&gt;</h2>"));
        assert!(
            page.contains(&format!(
                "data-init=\"@get('/sse?channel={}&amp;seq=9&amp;from=7.42', {{retry: 'always', filterSignals: {{include: /^$/}}}})\"",
                general.channel.id
            )),
            "{page}"
        );
        assert!(page.contains("<header class=\"header\" id=\"channel-header\"><h1>#general</h1><span class=\"topic\">&lt;b&gt;topic&lt;/b&gt;</span></header>"));
        assert!(page.contains("<form method=\"post\" action=\"/c/acme\">"));
        assert!(page.contains("data-signals=\"{&quot;_unread&quot;:&quot;&quot;}\""), "{page}");
        assert!(
            page.contains(&format!(
                "data-on-interval__duration.1s=\"$_unread &amp;&amp; document.visibilityState === 'visible' &amp;&amp; \
                 (@post('/channels/{}/read?message=' + $_unread, {{filterSignals: {{include: /^$/}}}}), $_unread = '')\"",
                general.channel.id
            )),
            "{page}"
        );
        assert!(page.contains("<span class=\"name\">random</span><span class=\"badge\""), "{page}");
    }

    #[test]
    fn the_top_bar_draws_its_icons_as_svg_not_emoji() {
        let bell = icon(Icon::Bell).into_string();
        assert!(bell.starts_with("<svg class=\"icon\""), "{bell}");
        assert!(bell.contains("aria-hidden=\"true\"") && bell.contains("stroke=\"currentColor\""), "{bell}");
        assert_eq!(bell.matches("<path ").count(), 2);
    }
}
