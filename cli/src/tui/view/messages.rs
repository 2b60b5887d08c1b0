//! The message pane: the header (channel or thread, topic) and the messages, newest at the
//! bottom: grouped by author within five minutes, Markdown rendered, reactions, edited and
//! deleted markers, bot tags, thread summaries, the "new" divider, pending and failed sends
//! and command replies only I see. An open thread replaces the channel, or on a wide
//! terminal sits in a panel beside it.

use ajet_shared::domain::ids::MessageId;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::wrap::{truncate, wrap};
use crate::escape::inert;
use crate::tui::app::{App, Entry, EntryState, Focus};
use crate::tui::markdown;

/// Messages closer than this by the same author share one header.
const GROUP_SECS: i64 = 5 * 60;

/// One column of messages: which, whether it is a thread, its scroll and selection.
struct Column<'a> {
    entries: Vec<&'a Entry>,
    in_thread: bool,
    scroll: usize,
    selected: Option<MessageId>,
}

impl<'a> Column<'a> {
    /// What the keys act on: the thread when one is open, else the channel.
    fn focused(app: &'a App) -> Self {
        Self {
            entries: app.visible_entries(),
            in_thread: app.thread.is_some(),
            scroll: app.scroll,
            selected: app.selected,
        }
    }

    /// The channel, left of a thread panel: at its newest, without a selection.
    fn channel(app: &'a App) -> Self {
        let entries = app.current.and_then(|c| app.timelines.get(&c)).map(|t| t.iter().collect()).unwrap_or_default();
        Self { entries, in_thread: false, scroll: 0, selected: None }
    }
}

/// The width of the thread panel beside a channel `width` columns wide.
pub fn thread_panel_width(width: u16) -> u16 {
    (width / 2).min(64)
}

pub fn header(frame: &mut Frame<'_>, area: Rect, app: &App, thread_panel: bool) {
    let theme = &app.theme;
    let Some(channel) = app.current else {
        frame.render_widget(Paragraph::new(Span::styled("no channel open", theme.dim)), area);
        return;
    };
    let label = inert(&app.channel_label(channel));
    let in_thread = app.thread.is_some() && !thread_panel;
    let item = app.list_item(channel);
    let mut spans = if in_thread {
        vec![Span::styled("Thread", theme.header), Span::styled(format!(" in {label} · Esc back"), theme.dim)]
    } else {
        let starred = item.is_some_and(|item| item.starred);
        vec![Span::styled(if starred { format!("★ {label}") } else { label }, theme.header)]
    };
    // My preferences when not the defaults: muted (until when), the notify level.
    if let (Some(item), false) = (item, in_thread) {
        let marks = crate::output::preference_marks(
            item.notify_level,
            item.muted_until,
            false,
            time::OffsetDateTime::now_utc(),
        );
        for mark in marks {
            spans.push(Span::styled(format!(" · {mark}"), theme.warn));
        }
    }
    let topic = app.list_item(channel).and_then(|item| item.channel.topic.as_deref()).filter(|t| !t.is_empty());
    if let (Some(topic), false) = (topic, in_thread) {
        let used: usize = spans.iter().map(Span::width).sum();
        let room = usize::from(area.width).saturating_sub(used + 3);
        spans.push(Span::styled(format!(" · {}", truncate(&inert(topic), room)), theme.dim));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)).style(Style::new().add_modifier(Modifier::BOLD)), area);
}

pub fn draw(frame: &mut Frame<'_>, area: Rect, app: &App, thread_panel: bool) {
    if !thread_panel {
        draw_column(frame, area, app, &Column::focused(app));
        return;
    }
    let [left, rule, right] = Layout::horizontal([
        Constraint::Fill(1),
        Constraint::Length(1),
        Constraint::Length(thread_panel_width(area.width)),
    ])
    .areas(area);
    draw_column(frame, left, app, &Column::channel(app));
    frame.render_widget(Block::new().borders(Borders::LEFT).border_style(app.theme.dim), rule);
    // One blank column after the rule.
    let right = Rect { x: right.x + 1, width: right.width.saturating_sub(1), ..right };
    let [title, thread] = Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(right);
    let title_text =
        Line::from(vec![Span::styled("Thread", app.theme.header), Span::styled(" · Esc closes", app.theme.dim)]);
    frame.render_widget(Paragraph::new(title_text), title);
    draw_column(frame, thread, app, &Column::focused(app));
}

fn draw_column(frame: &mut Frame<'_>, area: Rect, app: &App, column: &Column<'_>) {
    let width = usize::from(area.width);
    let height = usize::from(area.height);
    if width == 0 || height == 0 {
        return;
    }
    let (lines, spans) = timeline(app, column, width);
    let total = lines.len();
    // Rows [top, bottom) are shown: the bottom scrolled up by `scroll`, moved to keep the
    // selected message in view.
    let mut bottom = total.saturating_sub(column.scroll).max(height.min(total));
    if let Some((start, end)) =
        column.selected.and_then(|id| spans.iter().find(|(sid, _, _)| *sid == id)).map(|s| (s.1, s.2))
    {
        if end > bottom {
            bottom = end;
        } else if start < bottom.saturating_sub(height) {
            bottom = (start + height).min(total);
        }
    }
    let top = bottom.saturating_sub(height);
    let mut shown: Vec<Line<'static>> = lines[top..bottom].to_vec();
    let detached = !column.in_thread && app.current.is_some_and(|c| app.detached.contains(&c));
    let below = if bottom < total {
        Some(format!(" ↓ {} more rows below (PgDn)", total - bottom))
    } else if detached {
        Some(" ↓ newer messages: PgDn at the bottom or Esc".to_owned())
    } else {
        None
    };
    // The hint takes a row of its own: the oldest row shown gives way, never the newest (at
    // a search hit, the hit's own text).
    if let Some(below) = below.filter(|_| !shown.is_empty()) {
        if shown.len() >= height {
            shown.remove(0);
        }
        shown.push(Line::from(Span::styled(below, app.theme.warn)));
    }
    // Newest at the bottom: pad above when there is little to show.
    let pad = height.saturating_sub(shown.len());
    let mut padded = vec![Line::default(); pad];
    padded.extend(shown);
    frame.render_widget(Paragraph::new(padded), area);
}

/// How many rows the messages the keys act on take at `width`.
pub fn rows(app: &App, width: usize) -> usize {
    timeline(app, &Column::focused(app), width).0.len()
}

/// All rows of the visible messages at `width`, and each message's row range.
fn timeline(app: &App, column: &Column<'_>, width: usize) -> (Vec<Line<'static>>, Vec<(MessageId, usize, usize)>) {
    let theme = &app.theme;
    let entries = &column.entries;
    let mut lines = Vec::new();
    let mut spans = Vec::new();
    if entries.is_empty() {
        if let Some(channel) = app.current {
            let label = inert(&app.channel_label(channel));
            lines.extend(wrap(
                &Line::from(Span::styled(format!("This is the very beginning of {label}."), theme.header)),
                width,
                " ",
            ));
            if let Some(topic) = app.list_item(channel).and_then(|item| item.channel.topic.clone()) {
                lines.extend(wrap(&Line::from(Span::styled(inert(&topic), theme.dim)), width, " "));
            }
        }
        return (lines, spans);
    }
    let new_from = app.current.and_then(|c| app.new_from.get(&c)).filter(|_| !column.in_thread);
    let mut previous: Option<&Entry> = None;
    for (index, entry) in entries.iter().enumerate() {
        if new_from == Some(&entry.id) {
            let rule = "─".repeat(width.saturating_sub(7) / 2);
            lines.push(Line::from(Span::styled(format!("{rule} new {rule}"), theme.error)));
        }
        let is_thread_root = column.in_thread && index == 0;
        let mut start = lines.len();
        let grouped = previous.is_some_and(|p| groups_with(p, entry)) && !is_thread_root && new_from != Some(&entry.id);
        if !grouped {
            // A blank row between authors (not right under a thread's root and its rule).
            if index > 0 && !(column.in_thread && index == 1) {
                lines.push(Line::default());
            }
            start = lines.len();
            lines.push(author_line(app, entry));
        }
        lines.extend(body(app, entry, width, column.in_thread));
        if is_thread_root && entries.len() > 1 {
            lines.push(Line::from(Span::styled("─".repeat(width), theme.dim)));
        }
        let end = lines.len();
        if column.selected == Some(entry.id) {
            let style = if app.focus == Focus::Messages { theme.selected } else { theme.dim };
            for line in &mut lines[start..end] {
                *line = std::mem::take(line).patch_style(style);
            }
        }
        spans.push((entry.id, start, end));
        previous = Some(entry);
    }
    (lines, spans)
}

fn groups_with(previous: &Entry, entry: &Entry) -> bool {
    previous.author == entry.author
        && !matches!(previous.state, EntryState::Ephemeral { .. })
        && !matches!(entry.state, EntryState::Ephemeral { .. })
        && (entry.created_at - previous.created_at).whole_seconds() < GROUP_SECS
}

fn author_line(app: &App, entry: &Entry) -> Line<'static> {
    let theme = &app.theme;
    let at = entry.created_at.to_offset(app.offset);
    let time = format!("{:02}:{:02} ", at.hour(), at.minute());
    let mut spans = vec![Span::styled(time, theme.dim), Span::styled(inert(&entry.author.display_name), theme.name)];
    if let Some(bot) = &entry.author.bot {
        spans.push(Span::raw(" "));
        spans.push(Span::styled(" BOT ", theme.bot));
        if bot.name != entry.author.display_name {
            spans.push(Span::styled(format!(" via {}", inert(&bot.name)), theme.dim));
        }
    }
    if let EntryState::Ephemeral { .. } = entry.state {
        spans.push(Span::styled(" · only visible to you", theme.dim));
    }
    Line::from(spans)
}

fn body(app: &App, entry: &Entry, width: usize, in_thread: bool) -> Vec<Line<'static>> {
    let theme = &app.theme;
    let mut logical = if entry.deleted {
        vec![Line::from(Span::styled("This message was deleted.", theme.dim.add_modifier(Modifier::ITALIC)))]
    } else {
        markdown::render(&entry.body, theme)
    };
    let suffix = match &entry.state {
        EntryState::Pending => Some(Span::styled(" (sending…)", theme.dim)),
        EntryState::Failed(reason) => Some(Span::styled(format!(" — Not sent: {}", inert(reason)), theme.error)),
        EntryState::Ephemeral { error: true } => None,
        EntryState::Sent | EntryState::Ephemeral { .. } => {
            (entry.edited && !entry.deleted).then(|| Span::styled(" (edited)", theme.dim))
        }
    };
    if let (Some(suffix), Some(last)) = (suffix, logical.last_mut()) {
        last.spans.push(suffix);
    }
    if let EntryState::Ephemeral { error: true } = entry.state {
        for line in &mut logical {
            *line = std::mem::take(line).patch_style(theme.error);
        }
    }
    let mut rows: Vec<Line<'static>> = logical.iter().flat_map(|line| wrap(line, width, "  ")).collect();
    for file in entry.files.iter().filter(|_| !entry.deleted) {
        let line = Line::from(vec![
            Span::styled(format!("📎 {}", inert(&file.filename)), theme.link),
            Span::styled(format!(" ({})", crate::output::file_facts(file)), theme.dim),
        ]);
        rows.extend(wrap(&line, width, "  "));
    }
    for preview in entry.previews.iter().filter(|_| !entry.deleted) {
        let line = Line::from(Span::styled(format!("↗ {}", crate::output::link_preview(preview)), theme.dim));
        rows.extend(wrap(&line, width, "  "));
    }
    if !entry.reactions.is_empty() && !entry.deleted {
        let mut spans = Vec::new();
        for reaction in &entry.reactions {
            let style = if reaction.mine { theme.selected } else { theme.dim };
            spans.push(Span::styled(format!("{} {}", crate::render::emoji(&reaction.emoji), reaction.count), style));
            spans.push(Span::raw("  "));
        }
        rows.extend(wrap(&Line::from(spans), width, "  "));
    }
    if entry.reply_count > 0 && !in_thread {
        let noun = if entry.reply_count == 1 { "reply" } else { "replies" };
        rows.push(Line::from(vec![
            Span::raw("  "),
            Span::styled(format!("↳ {} {noun}", entry.reply_count), theme.link),
        ]));
    }
    rows
}
