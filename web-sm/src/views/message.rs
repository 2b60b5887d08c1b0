//! A message in the list: avatar (initials on a colour from the author's id), name, BOT
//! tag, time, the sanitised Markdown body, reactions, the thread summary of a root (reply
//! count and last reply, a link opening the thread panel), and a toolbar: an emoji picker,
//! "Reply in thread", pin or unpin, and for the viewer's own messages edit and delete
//! (Datastar POSTs). Reactions are pills (emoji and count, marked when the viewer reacted)
//! that toggle the viewer's reaction on click. A pinned message carries a marker; a deleted
//! message is a tombstone. A thread reply is the same item without thread links.

use super::NO_SIGNALS;
use ajet_shared::api::paths;
use ajet_shared::api::wire::{Attachment, Author, LinkPreview, Message};
use ajet_shared::domain::human_size;
use ajet_shared::domain::ids::{ChannelId, MessageId, UserId};
use ajet_shared::events::EventMessage;
use maud::{Markup, PreEscaped, html};
use time::OffsetDateTime;
use time::macros::format_description;

use super::{message_dom_id, thread_summary_dom_id};
use crate::markdown;

/// What a message shows, from the api's `Message` or an event's `EventMessage`.
pub struct MessageView<'a> {
    pub id: MessageId,
    pub author: &'a Author,
    pub body_md: &'a str,
    pub created_at: OffsetDateTime,
    pub edited: bool,
    pub deleted: bool,
    /// Emoji, count, and whether the viewer is among those who reacted (unknown from an
    /// event: `false`).
    pub reactions: Vec<(&'a str, i64, bool)>,
    /// The thread's root, for a reply.
    pub parent_id: Option<MessageId>,
    pub reply_count: i32,
    pub last_reply_at: Option<OffsetDateTime>,
    pub pinned: bool,
    /// Its files: raster images with a thumbnail show it (its size reserved), others as a
    /// chip; all link to the download, which re-checks access.
    pub files: &'a [Attachment],
    /// Its links' previews (title, description, site; never a third-party image).
    pub previews: &'a [LinkPreview],
}

/// The emoji picker's fixed set.
pub const PICKER: [(&str, &str); 8] = [
    ("👍", "thumbs up"),
    ("❤️", "heart"),
    ("😂", "laughing"),
    ("🎉", "party"),
    ("😮", "surprised"),
    ("😢", "sad"),
    ("👀", "eyes"),
    ("✅", "done"),
];

/// `s` with every byte but ASCII letters and digits percent-encoded: safe in a URL's query
/// and inside a quoted Datastar expression (an emoji comes from other users).
fn percent_encode(s: &str) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(s.len() * 3);
    for byte in s.bytes() {
        if byte.is_ascii_alphanumeric() {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// The Datastar action adding (`add`) or removing the viewer's `emoji` on a message.
#[must_use]
pub fn react_action(message: MessageId, emoji: &str, add: bool) -> String {
    format!("@post('/messages/{message}/react?emoji={}&add={add}', {{{NO_SIGNALS}}})", percent_encode(emoji))
}

impl<'a> From<&'a Message> for MessageView<'a> {
    fn from(message: &'a Message) -> Self {
        Self {
            id: message.id,
            author: &message.author,
            body_md: &message.body_md,
            created_at: message.created_at,
            edited: message.edited_at.is_some(),
            deleted: message.deleted_at.is_some(),
            reactions: message.reactions.iter().map(|r| (r.emoji.as_str(), r.count, r.reacted_by_me)).collect(),
            parent_id: message.parent_id,
            reply_count: message.reply_count,
            last_reply_at: message.last_reply_at,
            pinned: message.pinned_at.is_some(),
            files: &message.attachments,
            previews: &message.link_previews,
        }
    }
}

impl<'a> From<&'a EventMessage> for MessageView<'a> {
    fn from(message: &'a EventMessage) -> Self {
        Self {
            id: message.id,
            author: &message.author,
            body_md: &message.body_md,
            created_at: message.created_at,
            edited: message.edited_at.is_some(),
            deleted: message.deleted_at.is_some(),
            reactions: message.reactions.iter().map(|r| (r.emoji.as_str(), r.count, false)).collect(),
            parent_id: message.parent_id,
            reply_count: message.reply_count,
            last_reply_at: message.last_reply_at,
            pinned: message.pinned_at.is_some(),
            files: &message.attachments,
            previews: &message.link_previews,
        }
    }
}

/// Up to two initials of a display name.
pub(crate) fn initials(name: &str) -> String {
    let mut letters = name.split_whitespace().filter_map(|word| word.chars().find(|c| c.is_alphanumeric()));
    let first = letters.next().unwrap_or('?');
    let second = letters.next();
    first.to_uppercase().chain(second.into_iter().flat_map(char::to_uppercase)).collect()
}

/// One of eight avatar colours (`.hue-0`…`.hue-7`), stable per author.
pub(crate) fn hue(author: &Author) -> u8 {
    let key = author.user_id.map(|id| id.as_uuid().as_u128()).unwrap_or_default();
    u8::try_from(key % 8).unwrap_or(0)
}

/// Where a thread opens: the current page with `?thread=` (a channel or a DM alike).
#[must_use]
pub fn thread_href(root: MessageId) -> String {
    format!("?thread={root}")
}

/// A root's thread summary ("3 replies · last reply 14:05", a link opening the thread);
/// always present under a root, empty (and hidden) without replies, so a live reply has an
/// element to patch.
#[must_use]
pub fn thread_summary(root: MessageId, reply_count: i32, last_reply_at: Option<OffsetDateTime>) -> Markup {
    let full_format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    let short_format = format_description!("[hour]:[minute]");
    html! {
        div.thread-summary id=(thread_summary_dom_id(root)) {
            @if reply_count > 0 {
                a href=(thread_href(root)) {
                    (reply_count) @if reply_count == 1 { " reply" } @else { " replies" }
                }
                @if let Some(last) = last_reply_at {
                    span.last-reply {
                        " · last reply "
                        time datetime=(last.format(full_format).unwrap_or_default()) { (last.format(short_format).unwrap_or_default()) }
                    }
                }
            }
        }
    }
}

/// A deleted message: only that it was there.
#[must_use]
pub fn tombstone(id: MessageId) -> Markup {
    html! {
        li.message.deleted id=(message_dom_id(id)) {
            p.body.tombstone { "This message was deleted." }
        }
    }
}

/// One message as a list item; `viewer` decides whether its own actions show.
#[must_use]
pub fn message_item(message: &MessageView<'_>, viewer: UserId) -> Markup {
    if message.deleted {
        return tombstone(message.id);
    }
    let time_format = format_description!("[hour]:[minute]");
    let full_format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    let short = message.created_at.format(time_format).unwrap_or_default();
    let full = message.created_at.format(full_format).unwrap_or_default();
    let own = message.author.user_id == Some(viewer) && message.author.bot.is_none();
    let name = message.author.bot.as_ref().map_or(message.author.display_name.as_str(), |bot| bot.name.as_str());
    html! {
        li.message id=(message_dom_id(message.id)) data-author=(author_key(message.author)) data-at=(message.created_at.unix_timestamp()) {
            span class={ "avatar hue-" (hue(message.author)) } aria-hidden="true" { (initials(name)) }
            div.meta {
                span.author { (name) }
                @if message.author.bot.is_some() { span.bot-tag { "BOT" } }
                time datetime=(full) title=(full) { (short) }
                @if message.edited { span.edited { "(edited)" } }
                @if message.pinned { span.pinned { "📌 Pinned" } }
            }
            div.body { (PreEscaped(markdown::render(message.body_md))) }
            (files(message.files))
            (previews(message.previews))
            @if !message.reactions.is_empty() {
                ul.reactions aria-label="Reactions" {
                    @for (emoji, count, mine) in &message.reactions {
                        li {
                            button type="button" class=@if *mine { "reaction mine" } @else { "reaction" }
                                aria-pressed=(if *mine { "true" } else { "false" })
                                title=@if *mine { "You reacted with " (emoji) " (click to remove)" } @else { "React with " (emoji) }
                                "data-on:click"=(react_action(message.id, emoji, !*mine)) {
                                (emoji) " " span.count { (count) }
                            }
                        }
                    }
                }
            }
            @if message.parent_id.is_none() {
                (thread_summary(message.id, message.reply_count, message.last_reply_at))
            }
            div.actions {
                details.emoji-picker {
                    summary.quiet aria-label="Add a reaction" { "React" }
                    div.picker role="group" aria-label="Emoji" {
                        @for (emoji, name) in PICKER {
                            button.quiet type="button" aria-label=(name) "data-on:click"=(react_action(message.id, emoji, true)) { (emoji) }
                        }
                    }
                }
                @if message.parent_id.is_none() {
                    a.quiet href=(thread_href(message.id)) { "Reply in thread" }
                }
                @if message.pinned {
                    button.quiet type="button" "data-on:click"=(format!("@post('/messages/{}/unpin', {{{NO_SIGNALS}}})", message.id)) { "Unpin" }
                } @else {
                    button.quiet type="button" "data-on:click"=(format!("@post('/messages/{}/pin', {{{NO_SIGNALS}}})", message.id)) { "Pin" }
                }
                @if own {
                    button.quiet.edit-button type="button" "data-on:click"=(format!("@get('/messages/{}/edit', {{{NO_SIGNALS}}})", message.id)) { "Edit" }
                    button.quiet type="button" "data-on:click"=(format!("@post('/messages/{}/delete')", message.id)) { "Delete" }
                }
            }
        }
    }
}

/// The largest side of an attachment's thumbnail (the api renders within 256×256).
const THUMBNAIL_SIDE: i32 = 256;

/// A message's files: a thumbnail for an image that has one, with its width and height
/// reserved so nothing moves when it loads, which opens the original in the viewer; a chip with name, type and size otherwise.
#[must_use]
pub fn files(files: &[Attachment]) -> Markup {
    html! {
        @if !files.is_empty() {
            ul.files aria-label="Files" {
                @for file in files {
                    @let href = paths::attachment(file.id);
                    li {
                        @if let (true, Some(width), Some(height)) = (file.has_thumbnail, file.width, file.height) {
                            @let (w, h) = fit(width, height);
                            a.image href=(href) title=(file.filename) "data-on:click"=(OPEN_VIEWER) {
                                img src=(paths::attachment_thumbnail(file.id)) width=(w) height=(h) alt=(file.filename) loading="lazy";
                            }
                        } @else {
                            a.file-chip href=(href) download=(file.filename) {
                                span aria-hidden="true" { "📎 " }
                                span.name { (file.filename) }
                                span.facts { " · " (file.content_type) " · " (human_size(file.size_bytes)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A thumbnail's click: the full-size image in the shell's viewer (`#viewer`) instead of
/// leaving the page (the link still works without script, or opened in a new tab).
pub const OPEN_VIEWER: &str = "evt.preventDefault(), $_viewerAlt = el.title, $_viewer = el.getAttribute('href')";

/// `width`×`height` scaled down to fit the thumbnail's square (never up).
fn fit(width: i32, height: i32) -> (i32, i32) {
    let side = width.max(height).max(1);
    if side <= THUMBNAIL_SIDE {
        return (width.max(1), height.max(1));
    }
    let scale = |n: i32| (i64::from(n) * i64::from(THUMBNAIL_SIDE) / i64::from(side)).max(1);
    (i32::try_from(scale(width)).unwrap_or(1), i32::try_from(scale(height)).unwrap_or(1))
}

/// A message's link previews: a card per http(s) link with its site, title and
/// description, linking out with the same `rel` as links in bodies.
#[must_use]
pub fn previews(previews: &[LinkPreview]) -> Markup {
    let shown: Vec<&LinkPreview> = previews
        .iter()
        .filter(|p| p.url.starts_with("https://") || p.url.starts_with("http://"))
        .filter(|p| p.title.is_some() || p.description.is_some())
        .collect();
    html! {
        @if !shown.is_empty() {
            div.previews {
                @for preview in shown {
                    a.preview href=(preview.url) rel="noopener noreferrer nofollow" target="_blank" {
                        @if let Some(site) = &preview.site_name { span.site { (site) } }
                        @if let Some(title) = &preview.title { span.title { (title) } }
                        @if let Some(description) = &preview.description { span.description { (description) } }
                    }
                }
            }
        }
    }
}

/// The thread panel's copy of its root: no thread links or actions, and its own id
/// (`tr-{id}`), so the list's copy keeps the one `m-{id}` that live patches target.
#[must_use]
pub fn thread_root_item(message: &MessageView<'_>) -> Markup {
    if message.deleted {
        return thread_root_tombstone(message.id);
    }
    let time_format = format_description!("[hour]:[minute]");
    let full_format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    let name = message.author.bot.as_ref().map_or(message.author.display_name.as_str(), |bot| bot.name.as_str());
    html! {
        li.message id={ "tr-" (message.id) } {
            span class={ "avatar hue-" (hue(message.author)) } aria-hidden="true" { (initials(name)) }
            div.meta {
                span.author { (name) }
                @if message.author.bot.is_some() { span.bot-tag { "BOT" } }
                time datetime=(message.created_at.format(full_format).unwrap_or_default()) { (message.created_at.format(time_format).unwrap_or_default()) }
                @if message.edited { span.edited { "(edited)" } }
            }
            div.body { (PreEscaped(markdown::render(message.body_md))) }
        }
    }
}

/// The thread panel's root, deleted.
#[must_use]
pub fn thread_root_tombstone(id: MessageId) -> Markup {
    html! { li.message.deleted id={ "tr-" (id) } { p.body.tombstone { "This message was deleted." } } }
}

/// A slash command's reply, shown only to its sender (`eph-{event id}`, so a replayed one
/// replaces itself); an error reply is marked as one.
#[must_use]
pub fn ephemeral_item(id: &str, text: &str, error: bool) -> Markup {
    html! {
        li.message.ephemeral id={ "eph-" (id) } {
            span.avatar.hue-7 aria-hidden="true" { "/" }
            div.meta {
                span.author { "ajet-chat" }
                span.bot-tag { "BOT" }
                span.only-you { "Only visible to you" }
            }
            div class=@if error { "body command-error" } @else { "body" } { (PreEscaped(markdown::render(text))) }
        }
    }
}

/// The edit form that replaces a message's body while it is being edited: focused as it
/// appears; Esc or Cancel puts the message back.
#[must_use]
pub fn edit_form(message: &MessageView<'_>) -> Markup {
    let cancel = format!("@get('/messages/{}', {{{NO_SIGNALS}}})", message.id);
    html! {
        li.message id=(message_dom_id(message.id)) {
            span.avatar aria-hidden="true" { (initials(&message.author.display_name)) }
            form.edit-form "data-on:submit"=(format!("@post('/messages/{}/edit', {{contentType: 'form'}})", message.id)) {
                label.visually-hidden for=(format!("edit-{}", message.id)) { "Edit message" }
                textarea id=(format!("edit-{}", message.id)) name="body" required "data-init"="el.focus()"
                    "data-on:keydown"=(format!("evt.key === 'Escape' && (evt.stopPropagation(), {cancel})")) { (message.body_md) }
                div {
                    button type="submit" { "Save" }
                    " "
                    button.quiet type="button" "data-on:click"=(cancel) { "Cancel" }
                }
            }
        }
    }
}

/// Consecutive messages by one author within this long are grouped: the later ones show
/// neither avatar nor name (`app.js` groups the ones that arrive later the same way, from
/// `data-author` and `data-at`).
pub const GROUP_WITHIN_SECS: i64 = 5 * 60;

/// Who wrote a message, as grouping compares it: a user, or a webhook (whatever name it
/// posted under); empty for neither, which never groups.
#[must_use]
pub fn author_key(author: &Author) -> String {
    match (&author.bot, author.user_id) {
        (Some(bot), _) => format!("b-{}", bot.webhook_id),
        (None, Some(user)) => format!("u-{user}"),
        (None, None) => String::new(),
    }
}

/// Whether `message` is grouped under `previous` (the one just above it).
#[must_use]
pub fn grouped_with(previous: &MessageView<'_>, message: &MessageView<'_>) -> bool {
    let key = author_key(message.author);
    let gap = (message.created_at - previous.created_at).whole_seconds();
    !previous.deleted
        && !message.deleted
        && !key.is_empty()
        && key == author_key(previous.author)
        && (0..GROUP_WITHIN_SECS).contains(&gap)
}

/// The first message the viewer has not read, given the channel's unread count (unread
/// top-level messages by others, as the sidebar counts them): counted back from the newest
/// message by someone else; the oldest listed when the count reaches past the page.
#[must_use]
pub fn first_unread(messages: &[MessageView<'_>], viewer: UserId, unread_count: i64) -> Option<MessageId> {
    if unread_count <= 0 {
        return None;
    }
    let mut left = unread_count;
    let mut first = None;
    for message in messages.iter().rev() {
        if message.author.user_id == Some(viewer) && message.author.bot.is_none() {
            continue;
        }
        first = Some(message.id);
        left -= 1;
        if left == 0 {
            return first;
        }
    }
    messages.first().map(|message| message.id).or(first)
}

/// What the message list shows: a page of a channel's messages, oldest first.
pub struct ListView<'a> {
    pub messages: &'a [MessageView<'a>],
    pub viewer: UserId,
    pub channel: ChannelId,
    /// `#general`, or a DM's names (for the empty state).
    pub channel_label: &'a str,
    /// The oldest message listed, when older ones exist (scrolling up loads them); none
    /// when the list starts at the channel's beginning.
    pub older: Option<MessageId>,
    /// The newest message listed, when newer ones exist (a page opened at `?around=`:
    /// scrolling down loads them).
    pub newer: Option<MessageId>,
    /// Where the "New" divider goes: before this message.
    pub first_unread: Option<MessageId>,
    /// The message the list was opened around, highlighted and scrolled to.
    pub highlight: Option<MessageId>,
}

/// The top of the list (`#older`): when older messages exist, a row that loads them once
/// it scrolls into view (and is replaced by them and the next such row); else where the
/// channel begins.
#[must_use]
pub fn older_row(channel: ChannelId, older: Option<MessageId>, channel_label: &str) -> Markup {
    html! {
        @if let Some(oldest) = older {
            li #older .loader "data-on-intersect"=(format!("@get('/channels/{channel}/history?before={oldest}', {{{NO_SIGNALS}}})")) {
                "Loading older messages…"
            }
        } @else {
            li #older .empty { "This is the very beginning of " (channel_label) "." }
        }
    }
}

/// The bottom of a list opened in the past (`#newer`): a row that loads newer messages
/// once it scrolls into view; nothing once the list reaches the present.
#[must_use]
pub fn newer_row(channel: ChannelId, newer: Option<MessageId>) -> Markup {
    html! {
        @if let Some(newest) = newer {
            li #newer .loader "data-on-intersect"=(format!("@get('/channels/{channel}/history?after={newest}', {{{NO_SIGNALS}}})")) {
                "Loading newer messages…"
            }
        }
    }
}

/// The messages of a list, each grouped under the one above when it may be, with the
/// "New" divider before the first unread one (which also breaks a group).
#[must_use]
pub fn list_items(messages: &[MessageView<'_>], viewer: UserId, first_unread: Option<MessageId>) -> Markup {
    html! {
        @for (index, message) in messages.iter().enumerate() {
            @let divider = first_unread == Some(message.id);
            @if divider {
                li #new-divider .new-divider { span { "New" } }
            }
            @let grouped = !divider && index > 0 && grouped_with(&messages[index - 1], message);
            @if grouped { (grouped_item(message, viewer)) } @else { (message_item(message, viewer)) }
        }
    }
}

/// A message grouped under the one above: the same item, marked, so the stylesheet hides
/// its avatar and name (the time shows on hover).
fn grouped_item(message: &MessageView<'_>, viewer: UserId) -> Markup {
    let item = message_item(message, viewer).into_string();
    PreEscaped(item.replacen("<li class=\"message\"", "<li class=\"message grouped\"", 1))
}

/// The whole list (`#messages`): the top row, the messages, the bottom row; a highlighted
/// message is scrolled to once the page is up.
#[must_use]
pub fn message_list(list: &ListView<'_>) -> Markup {
    html! {
        ol #messages .messages aria-live="polite" aria-label="Messages" {
            (older_row(list.channel, list.older, list.channel_label))
            (list_items(list.messages, list.viewer, list.first_unread))
            (newer_row(list.channel, list.newer))
        }
        @if let Some(id) = list.highlight {
            div.jump hidden "data-init"=(format!(
                "document.getElementById('m-{id}')?.classList.add('highlight'), \
                 document.getElementById('m-{id}')?.scrollIntoView({{block: 'center'}})"
            )) {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ajet_shared::api::wire::Bot;
    use ajet_shared::domain::ids::WebhookId;

    fn author(id: UserId, name: &str) -> Author {
        Author {
            user_id: Some(id),
            username: Some("alice".into()),
            display_name: name.into(),
            avatar_url: None,
            bot: None,
        }
    }

    fn view<'a>(author: &'a Author, body: &'a str) -> MessageView<'a> {
        MessageView {
            id: MessageId::generate(),
            author,
            body_md: body,
            created_at: OffsetDateTime::UNIX_EPOCH,
            edited: false,
            deleted: false,
            reactions: vec![],
            parent_id: None,
            reply_count: 0,
            last_reply_at: None,
            pinned: false,
            files: &[],
            previews: &[],
        }
    }

    fn file(name: &str, content_type: &str, dims: Option<(i32, i32)>, thumbnail: bool) -> Attachment {
        Attachment {
            id: ajet_shared::domain::ids::AttachmentId::generate(),
            channel_id: ChannelId::generate(),
            filename: name.into(),
            content_type: content_type.into(),
            size_bytes: 3 * 1024 + 512,
            width: dims.map(|d| d.0),
            height: dims.map(|d| d.1),
            has_thumbnail: thumbnail,
            created_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn files_show_as_reserved_thumbnails_or_chips_and_previews_as_cards_all_escaped() {
        let author = author(UserId::generate(), "Alice");
        let photo = file("cat\"><script>.png", "image/png", Some((1024, 512)), true);
        let notes = file("<b>notes</b>.txt", "text/plain", None, false);
        let files = [photo.clone(), notes.clone()];
        let previews = [
            LinkPreview {
                url: "https://example.com/a?b=1&c=2".into(),
                title: Some("<img src=x onerror=alert(1)>".into()),
                description: Some("A page".into()),
                site_name: Some("Example".into()),
                image_url: None,
            },
            LinkPreview {
                url: "javascript:alert(1)".into(),
                title: Some("evil".into()),
                description: None,
                site_name: None,
                image_url: None,
            },
        ];
        let mut message = view(&author, "see");
        message.files = &files;
        message.previews = &previews;
        let html = message_item(&message, UserId::generate()).into_string();
        assert!(
            html.contains(&format!(
                "<img src=\"/api/attachments/{}/thumbnail\" width=\"256\" height=\"128\" alt=\"cat&quot;&gt;&lt;script&gt;.png\"",
                photo.id
            )),
            "the thumbnail's box is reserved at its scaled size: {html}"
        );
        assert!(
            html.contains(&format!(
                "<a class=\"image\" href=\"/api/attachments/{}\" title=\"cat&quot;&gt;&lt;script&gt;.png\" \
                 data-on:click=\"evt.preventDefault(), $_viewerAlt = el.title, $_viewer = el.getAttribute('href')\">",
                photo.id
            )),
            "a thumbnail opens the original in the viewer, its name never part of the expression: {html}"
        );
        assert!(html.contains(&format!("<a class=\"file-chip\" href=\"/api/attachments/{}\"", notes.id)), "{html}");
        assert!(html.contains("&lt;b&gt;notes&lt;/b&gt;.txt") && html.contains("text/plain · 3.5 KiB"), "{html}");
        assert!(html.contains("href=\"https://example.com/a?b=1&amp;c=2\" rel=\"noopener noreferrer nofollow\""));
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;") && !html.contains("<img src=x"), "{html}");
        assert!(!html.contains("javascript:") && !html.contains("evil"), "only http(s) previews: {html}");
    }

    #[test]
    fn a_message_shows_its_author_time_and_sanitised_body() {
        let alice = UserId::generate();
        let author = author(alice, "Alice <Admin>");
        let message = view(&author, "hi <script>alert(1)</script> **there**");
        let html = message_item(&message, UserId::generate()).into_string();
        assert!(
            html.starts_with(&format!(
                "<li class=\"message\" id=\"m-{}\" data-author=\"u-{alice}\" data-at=\"0\">",
                message.id
            )),
            "{html}"
        );
        assert!(html.contains(">AA</span>"), "{html}");
        assert!(html.contains("<span class=\"author\">Alice &lt;Admin&gt;</span>"));
        assert!(html.contains("<time datetime=\"1970-01-01T00:00:00Z\" title=\"1970-01-01T00:00:00Z\">00:00</time>"));
        assert!(
            html.contains(
                "<div class=\"body\"><p>hi &lt;script&gt;alert(1)&lt;/script&gt; <strong>there</strong></p>\n</div>"
            ),
            "{html}"
        );
        assert!(!html.contains("Edit"), "only the author may edit");
    }

    #[test]
    fn the_authors_own_message_has_edit_and_delete_actions() {
        let alice = UserId::generate();
        let author = author(alice, "Alice");
        let message = view(&author, "mine");
        let html = message_item(&message, alice).into_string();
        assert!(
            html.contains(&format!(
                "data-on:click=\"@get('/messages/{}/edit', {{filterSignals: {{include: /^$/}}}})\"",
                message.id
            )),
            "{html}"
        );
        assert!(html.contains(&format!("data-on:click=\"@post('/messages/{}/delete')\"", message.id)));
    }

    #[test]
    fn bots_carry_their_own_name_and_a_tag_and_deleted_messages_are_tombstones() {
        let mut author = author(UserId::generate(), "chosen by payload");
        author.bot = Some(Bot { webhook_id: WebhookId::generate(), name: "CI".into() });
        let html = message_item(&view(&author, "build ok"), UserId::generate()).into_string();
        assert!(html.contains("<span class=\"author\">CI</span><span class=\"bot-tag\">BOT</span>"), "{html}");
        let mut deleted = view(&author, "gone");
        deleted.deleted = true;
        let html = message_item(&deleted, UserId::generate()).into_string();
        assert_eq!(
            html,
            format!(
                "<li class=\"message deleted\" id=\"m-{}\"><p class=\"body tombstone\">This message was deleted.</p></li>",
                deleted.id
            )
        );
    }

    #[test]
    fn a_root_has_a_thread_summary_and_a_reply_link_and_a_reply_has_neither() {
        let author = author(UserId::generate(), "Alice");
        let mut root = view(&author, "root");
        let html = message_item(&root, UserId::generate()).into_string();
        assert!(html.contains(&format!("<div class=\"thread-summary\" id=\"ts-{}\"></div>", root.id)), "{html}");
        assert!(html.contains(&format!("<a class=\"quiet\" href=\"?thread={}\">Reply in thread</a>", root.id)));
        root.reply_count = 3;
        root.last_reply_at = Some(OffsetDateTime::UNIX_EPOCH + time::Duration::minutes(65));
        let html = message_item(&root, UserId::generate()).into_string();
        assert!(
            html.contains(&format!(
                "<div class=\"thread-summary\" id=\"ts-{id}\"><a href=\"?thread={id}\">3 replies</a><span class=\"last-reply\"> · last reply \
                 <time datetime=\"1970-01-01T01:05:00Z\">01:05</time></span></div>",
                id = root.id
            )),
            "{html}"
        );
        assert!(thread_summary(root.id, 1, None).into_string().contains(">1 reply</a>"));
        let mut reply = view(&author, "reply");
        reply.parent_id = Some(root.id);
        let html = message_item(&reply, UserId::generate()).into_string();
        assert!(!html.contains("thread"), "{html}");
    }

    #[test]
    fn a_command_reply_is_marked_as_only_for_its_reader_and_its_text_is_sanitised() {
        let html = ephemeral_item("e1", "Topic set. <script>x</script>", true).into_string();
        assert!(html.starts_with("<li class=\"message ephemeral\" id=\"eph-e1\">"), "{html}");
        assert!(html.contains("<span class=\"only-you\">Only visible to you</span>"), "{html}");
        assert!(
            html.contains("<div class=\"body command-error\"><p>Topic set. &lt;script&gt;x&lt;/script&gt;</p>"),
            "{html}"
        );
    }

    #[test]
    fn the_edit_form_holds_the_body_as_escaped_text() {
        let alice = UserId::generate();
        let author = author(alice, "Alice");
        let message = view(&author, "</textarea><script>x</script>");
        let html = edit_form(&message).into_string();
        assert!(
            html.contains(&format!(
                "data-on:keydown=\"evt.key === 'Escape' &amp;&amp; (evt.stopPropagation(), @get('/messages/{}', \
                 {{filterSignals: {{include: /^$/}}}}))\">&lt;/textarea&gt;&lt;script&gt;x&lt;/script&gt;</textarea>",
                message.id
            )),
            "Esc cancels, and the body is text: {html}"
        );
        assert!(html.contains("required data-init=\"el.focus()\""), "{html}");
    }

    fn list<'a>(messages: &'a [MessageView<'a>], viewer: UserId, channel: ChannelId) -> ListView<'a> {
        ListView {
            messages,
            viewer,
            channel,
            channel_label: "#general",
            older: None,
            newer: None,
            first_unread: None,
            highlight: None,
        }
    }

    #[test]
    fn an_empty_list_says_where_the_channel_begins() {
        let html = message_list(&list(&[], UserId::generate(), ChannelId::generate())).into_string();
        assert_eq!(
            html,
            "<ol class=\"messages\" id=\"messages\" aria-live=\"polite\" aria-label=\"Messages\">\
             <li class=\"empty\" id=\"older\">This is the very beginning of #general.</li></ol>"
        );
    }

    #[test]
    fn a_list_with_more_history_loads_it_when_its_ends_scroll_into_view() {
        let author = author(UserId::generate(), "Alice");
        let messages = [view(&author, "a"), view(&author, "b")];
        let channel = ChannelId::generate();
        let mut shown = list(&messages, UserId::generate(), channel);
        shown.older = Some(messages[0].id);
        shown.newer = Some(messages[1].id);
        let html = message_list(&shown).into_string();
        assert!(
            html.contains(&format!(
                "<li class=\"loader\" id=\"older\" data-on-intersect=\"@get('/channels/{channel}/history?before={}', \
                 {{filterSignals: {{include: /^$/}}}})\">Loading older messages…</li>",
                messages[0].id
            )),
            "{html}"
        );
        assert!(!html.contains("very beginning"), "older messages exist: {html}");
        assert!(
            html.ends_with(&format!(
                "<li class=\"loader\" id=\"newer\" data-on-intersect=\"@get('/channels/{channel}/history?after={}', \
                 {{filterSignals: {{include: /^$/}}}})\">Loading newer messages…</li></ol>",
                messages[1].id
            )),
            "{html}"
        );
    }

    #[test]
    fn consecutive_messages_by_one_author_within_five_minutes_are_grouped() {
        let alice = author(UserId::generate(), "Alice");
        let bob = author(UserId::generate(), "Bob");
        fn at(minutes: i64, message: MessageView<'_>) -> MessageView<'_> {
            MessageView { created_at: OffsetDateTime::UNIX_EPOCH + time::Duration::minutes(minutes), ..message }
        }
        let messages = [
            at(0, view(&alice, "one")),
            at(1, view(&alice, "two")),
            at(2, view(&bob, "three")),
            at(3, view(&bob, "four")),
            at(9, view(&bob, "five")),
        ];
        let html = list_items(&messages, UserId::generate(), None).into_string();
        let grouped: Vec<bool> = messages
            .iter()
            .map(|message| html.contains(&format!("<li class=\"message grouped\" id=\"m-{}\"", message.id)))
            .collect();
        assert_eq!(grouped, [false, true, false, true, false], "{html}");
        assert!(
            html.contains(&format!("data-author=\"u-{}\" data-at=\"60\"", alice.user_id.expect("a user"))),
            "{html}"
        );
        let mut bot = bob.clone();
        bot.bot = Some(Bot { webhook_id: WebhookId::generate(), name: "CI".into() });
        assert_ne!(author_key(&bot), author_key(&bob), "a webhook posting as someone is not them");
    }

    #[test]
    fn the_new_divider_sits_before_the_first_unread_message_by_someone_else_and_breaks_a_group() {
        let me = UserId::generate();
        let mine = author(me, "Me");
        let other = author(UserId::generate(), "Bob");
        let messages =
            [view(&other, "read"), view(&other, "unread 1"), view(&mine, "my reply"), view(&other, "unread 2")];
        assert_eq!(first_unread(&messages, me, 2), Some(messages[1].id));
        assert_eq!(first_unread(&messages, me, 0), None);
        assert_eq!(first_unread(&messages, me, 100), Some(messages[0].id), "past the page: its top");
        let html = list_items(&messages, me, Some(messages[1].id)).into_string();
        assert!(
            html.contains(&format!(
                "<li class=\"new-divider\" id=\"new-divider\"><span>New</span></li>\
                 <li class=\"message\" id=\"m-{}\"",
                messages[1].id
            )),
            "the divider, and the message after it is not grouped: {html}"
        );
    }
}
