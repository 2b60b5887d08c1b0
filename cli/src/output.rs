//! Where results go: `--json` documents (escaped, one per command or one line per event),
//! or human text styled on a TTY and plain when piped; and how a message, a channel or a
//! time looks as text.

use std::collections::HashMap;
use std::io::IsTerminal as _;

use ajet_shared::api::wire::{
    Attachment, Author, ChannelKind, ChannelListItem, ChannelPreferences, LinkPreview, Message, NotifyLevel,
};
use ajet_shared::domain::human_size;
use ajet_shared::domain::ids::ChannelId;
use ajet_shared::events::EventMessage;
use serde::Serialize;
use time::OffsetDateTime;
use time::macros::format_description;

use crate::escape;
use crate::failure::Failure;
use crate::render::{self, Style};

#[derive(Clone, Copy, Debug)]
pub struct Output {
    pub json: bool,
    pub style: Style,
}

impl Output {
    /// JSON if asked; styles only when stdout is a terminal (and `NO_COLOR` is unset).
    #[must_use]
    pub fn detect(json: bool) -> Self {
        let terminal = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        Self { json, style: if terminal { Style::Terminal } else { Style::Plain } }
    }

    /// Prints `value` as one line of JSON.
    pub fn json<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), Failure> {
        let text = serde_json::to_string(value).map_err(|err| Failure::Io(format!("cannot write JSON: {err}")))?;
        println!("{}", escape::json(&text));
        Ok(())
    }
}

/// `2026-11-26 14:05` in UTC.
#[must_use]
pub fn time(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(format_description!("[year]-[month]-[day] [hour]:[minute]"))
        .unwrap_or_else(|_| at.to_string())
}

/// Muting "until unmuted" sets a mute this far ahead (as the browser does); a mute ending
/// more than a century on is shown without its end.
pub const MUTE_FOREVER: time::Duration = time::Duration::days(365_242);

/// A channel's preferences as text marks (`★ starred`, `muted` or `muted until …`,
/// `notify: mentions`), none for the defaults; a mute already over is not one.
#[must_use]
pub fn preference_marks(
    notify_level: NotifyLevel,
    muted_until: Option<OffsetDateTime>,
    starred: bool,
    now: OffsetDateTime,
) -> Vec<String> {
    let mut marks = Vec::new();
    if starred {
        marks.push("★ starred".to_owned());
    }
    match muted_until {
        Some(until) if until > now + time::Duration::days(36_500) => marks.push("muted".to_owned()),
        Some(until) if until > now => marks.push(format!("muted until {} UTC", time(until))),
        _ => {}
    }
    if notify_level != NotifyLevel::All {
        marks.push(format!("notify: {}", notify_level.as_str()));
    }
    marks
}

/// Every preference of a channel, defaults too, so it answers "what now":
/// `★ starred · muted until 2026-11-26 14:05 UTC · notify: mentions`.
#[must_use]
pub fn preference_summary(preferences: &ChannelPreferences, now: OffsetDateTime) -> String {
    let starred = if preferences.starred { "★ starred" } else { "not starred" };
    let muted = preference_marks(NotifyLevel::All, preferences.muted_until, false, now)
        .pop()
        .unwrap_or_else(|| "not muted".to_owned());
    format!("{starred} · {muted} · notify: {}", preferences.notify_level.as_str())
}

/// `Alice (@alice)`, with a `[bot]` tag for bot posts.
#[must_use]
pub fn author(author: &Author) -> String {
    let mut shown = escape::line(&author.display_name).into_owned();
    if let Some(username) = &author.username {
        shown.push_str(&format!(" (@{})", escape::line(username)));
    }
    if author.bot.is_some() {
        shown.push_str(" [bot]");
    }
    shown
}

/// How a channel is named in text: `#general`, or `@bob, @carol` for a DM.
#[must_use]
pub fn channel_label(item: &ChannelListItem) -> String {
    match (item.channel.kind, &item.channel.name) {
        (ChannelKind::Dm | ChannelKind::GroupDm, _) | (_, None) => {
            let members: Vec<String> =
                item.members.iter().map(|user| format!("@{}", escape::line(&user.username))).collect();
            if members.is_empty() { "(dm)".to_owned() } else { members.join(", ") }
        }
        (_, Some(name)) => format!("#{}", escape::line(name)),
    }
}

/// Channel labels by id, for naming where a message was posted.
pub type Labels = HashMap<ChannelId, String>;

/// One message as text: a header line (author, time, channel, id, markers) and the body
/// indented below it, reactions and replies after it.
#[must_use]
pub fn message(message: &EventMessage, labels: &Labels, style: Style) -> String {
    let mut header = format!("{} · {}", style.bold(&author(&message.author)), time(message.created_at));
    if let Some(label) = labels.get(&message.channel_id) {
        header.push_str(&format!(" · {label}"));
    }
    let mut meta = format!("id {}", message.id);
    if let Some(parent) = message.parent_id {
        meta.push_str(&format!(" · reply in thread {parent}"));
    }
    if message.edited_at.is_some() {
        meta.push_str(" · edited");
    }
    header.push_str(&format!(" {}", style.dim(&format!("({meta})"))));
    let body =
        if message.deleted_at.is_some() { style.dim("[deleted]") } else { render::markdown(&message.body_md, style) };
    let mut out = header;
    for line in body.split('\n') {
        out.push_str("\n  ");
        out.push_str(line);
    }
    for file in &message.attachments {
        out.push_str("\n  ");
        out.push_str(&attachment(file, style));
    }
    for preview in &message.link_previews {
        let mark = match style {
            Style::Terminal => "↗",
            Style::Plain => "[link]",
        };
        out.push_str("\n  ");
        out.push_str(&style.dim(&format!("{mark} {}", link_preview(preview))));
    }
    let mut footer = Vec::new();
    if !message.reactions.is_empty() {
        let reactions: Vec<String> = message
            .reactions
            .iter()
            .map(|reaction| format!("{} {}", emoji(&reaction.emoji, style), reaction.count))
            .collect();
        footer.push(reactions.join("  "));
    }
    if message.reply_count > 0 {
        footer.push(format!("{} repl{}", message.reply_count, if message.reply_count == 1 { "y" } else { "ies" }));
    }
    if !footer.is_empty() {
        out.push_str("\n  ");
        out.push_str(&style.dim(&footer.join(" · ")));
    }
    out
}

/// A file on a message, one line: `📎 name (type, size, WxH) id` (`[file]` when piped).
#[must_use]
pub fn attachment(file: &Attachment, style: Style) -> String {
    let mark = match style {
        Style::Terminal => "📎",
        Style::Plain => "[file]",
    };
    format!("{mark} {} {}", escape::line(&file.filename), style.dim(&format!("({}) {}", file_facts(file), file.id)))
}

/// What a linked page says, escaped, on one line: `Title: description — site (url)`
/// (the description cut to [`PREVIEW_DESCRIPTION_CHARS`]); just the URL when the page said
/// nothing.
#[must_use]
pub fn link_preview(preview: &LinkPreview) -> String {
    let description = preview.description.as_deref().map(|text| {
        let mut cut: String = text.chars().take(PREVIEW_DESCRIPTION_CHARS).collect();
        if cut.len() < text.len() {
            cut.push('…');
        }
        cut
    });
    let said: Vec<String> = [preview.title.as_deref(), description.as_deref()]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| escape::line(part).into_owned())
        .collect();
    let mut shown = said.join(": ");
    if let Some(site) = preview.site_name.as_deref().map(str::trim).filter(|site| !site.is_empty()) {
        shown.push_str(&format!(" — {}", escape::line(site)));
    }
    let url = escape::line(&preview.url);
    if shown.is_empty() { url.into_owned() } else { format!("{shown} ({url})") }
}

/// How much of a page's description a preview line shows.
const PREVIEW_DESCRIPTION_CHARS: usize = 120;

/// What a file is, escaped: `image/png, 3.5 KiB, 640×480`.
#[must_use]
pub fn file_facts(file: &Attachment) -> String {
    let mut facts = vec![escape::line(&file.content_type).into_owned(), human_size(file.size_bytes)];
    if let (Some(width), Some(height)) = (file.width, file.height) {
        facts.push(format!("{width}×{height}"));
    }
    facts.join(", ")
}

/// A reaction: a `:shortcode:` shown as its emoji on a terminal, as sent when piped.
fn emoji(emoji: &str, style: Style) -> String {
    match style {
        Style::Terminal => render::emoji(emoji),
        Style::Plain => escape::line(emoji).into_owned(),
    }
}

/// [`message`] for the API's per-viewer `Message`.
#[must_use]
pub fn api_message(api: &Message, labels: &Labels, style: Style) -> String {
    message(&EventMessage::from(api.clone()), labels, style)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ajet_shared::api::wire::Bot;
    use ajet_shared::domain::ids::MessageId;
    use ajet_shared::events::ReactionCount;
    use time::macros::datetime;

    fn sample() -> EventMessage {
        EventMessage {
            id: id(1),
            channel_id: id(2),
            channel_seq: 1,
            author: Author {
                user_id: None,
                username: Some("alice".into()),
                display_name: "Alice \u{1b}[8m".into(),
                avatar_url: None,
                bot: None,
            },
            body_md: "**hi**\nthere".into(),
            parent_id: None,
            client_msg_id: None,
            created_at: datetime!(2026-11-26 14:05:09 UTC),
            edited_at: None,
            deleted_at: None,
            reply_count: 2,
            last_reply_at: None,
            pinned_at: None,
            pinned_by: None,
            reactions: vec![ReactionCount { emoji: ":tada:".into(), count: 3 }],
            link_previews: Vec::new(),
            attachments: Vec::new(),
        }
    }

    fn id<T: std::str::FromStr>(n: u8) -> T {
        let Ok(id) = format!("0190a5b0-0000-7000-8000-0000000000{n:02x}").parse() else { panic!("an id") };
        id
    }

    #[test]
    fn a_message_shows_author_time_channel_id_body_and_footer() {
        let message = sample();
        let labels = Labels::from([(message.channel_id, "#dev".to_owned())]);
        let shown = super::message(&message, &labels, Style::Plain);
        assert_eq!(
            shown,
            format!(
                "Alice \\x1b[8m (@alice) · 2026-11-26 14:05 · #dev (id {})\n  **hi**\n  there\n  :tada: 3 · 2 replies",
                message.id
            )
        );
        let styled = super::message(&message, &labels, Style::Terminal);
        assert!(styled.contains("\u{1b}[1mAlice \\x1b[8m (@alice)\u{1b}[0m"), "{styled:?}");
        assert!(styled.contains("🎉 3"), "shortcodes become emoji on a terminal: {styled:?}");
    }

    #[test]
    fn files_show_under_the_body_with_their_type_size_and_id_and_hostile_names_inert() {
        let mut message = sample();
        message.reactions.clear();
        message.reply_count = 0;
        message.attachments = vec![Attachment {
            id: id(5),
            channel_id: message.channel_id,
            filename: "cat\u{1b}]0;x.png".into(),
            content_type: "image/png".into(),
            size_bytes: 3 * 1024 + 512,
            width: Some(640),
            height: Some(480),
            has_thumbnail: true,
            created_at: message.created_at,
        }];
        let shown = super::message(&message, &Labels::new(), Style::Plain);
        let file: ajet_shared::domain::ids::AttachmentId = id(5);
        assert!(
            shown.ends_with(&format!("\n  [file] cat\\x1b]0;x.png (image/png, 3.5 KiB, 640×480) {file}")),
            "{shown:?}"
        );
    }

    #[test]
    fn link_previews_show_under_the_files_one_line_each_and_hostile_pages_stay_inert() {
        let mut message = sample();
        message.reactions.clear();
        message.reply_count = 0;
        message.link_previews = vec![
            LinkPreview {
                url: "https://example.com/a".into(),
                title: Some("Evil\u{1b}]0;pwned\u{7}".into()),
                description: Some("line\none \u{9b}31m".into()),
                site_name: Some("Example".into()),
                image_url: None,
            },
            LinkPreview {
                url: "https://example.com/b".into(),
                title: None,
                description: None,
                site_name: None,
                image_url: None,
            },
        ];
        let shown = super::message(&message, &Labels::new(), Style::Plain);
        assert!(
            shown.ends_with(
                "\n  [link] Evil\\x1b]0;pwned\\x07: line\\x0aone \\u{9b}31m — Example (https://example.com/a)\n  [link] https://example.com/b"
            ),
            "{shown:?}"
        );
        let styled = super::message(&message, &Labels::new(), Style::Terminal);
        assert!(styled.contains("↗ Evil\\x1b]0;pwned"), "{styled:?}");
        assert!(!styled.contains('\u{7}') && !styled.contains('\u{9b}'), "{styled:?}");
    }

    #[test]
    fn a_long_description_is_cut() {
        let preview = LinkPreview {
            url: "u".into(),
            title: None,
            description: Some("x".repeat(500)),
            site_name: None,
            image_url: None,
        };
        assert_eq!(link_preview(&preview), format!("{}… (u)", "x".repeat(PREVIEW_DESCRIPTION_CHARS)));
    }

    #[test]
    fn markers_show_bots_edits_threads_and_deletions() {
        let mut message = sample();
        message.author.bot = Some(Bot { webhook_id: id(3), name: "ci".into() });
        message.edited_at = Some(message.created_at);
        message.parent_id = Some(id(4));
        message.deleted_at = Some(message.created_at);
        message.reactions.clear();
        message.reply_count = 0;
        let shown = super::message(&message, &Labels::new(), Style::Plain);
        let parent: MessageId = id(4);
        assert_eq!(
            shown,
            format!(
                "Alice \\x1b[8m (@alice) [bot] · 2026-11-26 14:05 (id {} · reply in thread {parent} · edited)\n  [deleted]",
                message.id
            )
        );
    }
}
