//! Views drawn instead of the messages: help (every key, over the whole screen), search
//! (the query and its hits, Enter jumps), the notifications inbox and the channel switcher.

use ajet_shared::api::wire::NotificationKind;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::wrap::truncate;
use crate::escape::inert;
use crate::tui::app::{App, SearchView};
use crate::tui::input::KEYS;

pub fn help(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let theme = &app.theme;
    let block = Block::new()
        .borders(Borders::BOTTOM)
        .border_style(theme.dim)
        .title(Span::styled(" Keys — Esc closes ", theme.header));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let rows = usize::from(inner.height.max(1));
    let columns = KEYS.len().div_ceil(rows).max(1);
    let column_areas = Layout::horizontal(vec![Constraint::Fill(1); columns]).split(inner);
    for (column, keys) in KEYS.chunks(rows).enumerate() {
        let Some(area) = column_areas.get(column) else {
            break;
        };
        let key_width = keys.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 1;
        let room = usize::from(area.width).saturating_sub(key_width + 2);
        let lines: Vec<Line<'_>> = keys
            .iter()
            .map(|(key, what)| {
                Line::from(vec![
                    Span::styled(format!(" {key:<key_width$}"), theme.header),
                    Span::raw(truncate(what, room)),
                ])
            })
            .collect();
        frame.render_widget(Paragraph::new(lines), *area);
    }
}

pub fn search(frame: &mut Frame<'_>, area: Rect, app: &App, search: &SearchView) {
    let theme = &app.theme;
    let room = usize::from(area.width);
    let mut lines = vec![Line::from(vec![
        Span::styled(" Search: ", theme.header),
        Span::raw(inert(&search.query)),
        Span::styled("▏", theme.dim),
    ])];
    let status = match &search.searched {
        None => "Enter searches · Esc closes · in:#channel from:@user \"phrase\"".to_owned(),
        Some(query) if query != search.query.trim() => "Enter searches again".to_owned(),
        Some(_) if search.hits.is_empty() => "no messages match".to_owned(),
        Some(_) => format!("{} hits · ↑↓ choose · Enter jumps", search.hits.len()),
    };
    lines.push(Line::from(Span::styled(format!(" {}", truncate(&status, room.saturating_sub(1))), theme.dim)));
    let height = usize::from(area.height);
    let per_hit = 2;
    let first = (search.selected + 1).saturating_sub(height.saturating_sub(2) / per_hit);
    for (i, hit) in search.hits.iter().enumerate().skip(first) {
        let place = match &hit.channel.name {
            Some(name) => format!("#{}", inert(name)),
            None => "DM".to_owned(),
        };
        let when = hit.message.created_at.to_offset(app.offset);
        let head = format!(
            " {place} · {} · {}-{:02}-{:02} {:02}:{:02}",
            inert(&hit.message.author.display_name),
            when.year(),
            u8::from(when.month()),
            when.day(),
            when.hour(),
            when.minute()
        );
        // One row, cut cleanly (the hit kept in view) rather than clipped at the edge.
        let mut snippet = vec![Span::raw("   ")];
        snippet.extend(marked(&hit.snippet, room.saturating_sub(3), theme));
        let mut head = Line::from(Span::styled(truncate(&head, room), theme.dim));
        let mut body = Line::from(snippet);
        if i == search.selected {
            head = head.style(theme.selected);
            body = body.style(theme.selected);
        }
        lines.push(head);
        lines.push(body);
    }
    frame.render_widget(Paragraph::new(lines), area);
}

/// A search snippet (HTML-escaped, hits in `<mark>`) as spans with the hits highlighted,
/// fitted to `room` columns.
fn marked(snippet: &str, room: usize, theme: &crate::tui::theme::Theme) -> Vec<Span<'static>> {
    super::wrap::fit_parts(&crate::render::snippet_parts(snippet), room)
        .into_iter()
        .map(|(text, hit)| if hit { Span::styled(text, theme.unread.patch(theme.warn)) } else { Span::raw(text) })
        .collect()
}

pub fn notifications(frame: &mut Frame<'_>, area: Rect, app: &App, selected: usize) {
    let theme = &app.theme;
    let room = usize::from(area.width);
    let mut lines = vec![
        Line::from(Span::styled(" Notifications", theme.header)),
        Line::from(Span::styled(" ↑↓ choose · Enter opens · a marks all read · Esc closes", theme.dim)),
    ];
    if app.notifications.is_empty() {
        lines.push(Line::from(Span::styled(" Nothing here.", theme.dim)));
    }
    let height = usize::from(area.height).saturating_sub(2);
    let first = (selected + 1).saturating_sub(height);
    for (i, notification) in app.notifications.iter().enumerate().skip(first) {
        let kind = match notification.kind {
            NotificationKind::Mention => "mention",
            NotificationKind::Dm => "DM",
            NotificationKind::ThreadReply => "reply",
            NotificationKind::Invite => "invite",
            NotificationKind::System => "system",
        };
        let place = notification.channel.as_ref().and_then(|c| c.name.as_deref()).map(|n| format!(" #{}", inert(n)));
        let who = notification.actor.as_ref().map(|u| format!(" {}", inert(&u.display_name))).unwrap_or_default();
        let snippet = notification.snippet.as_deref().map(|s| format!(": {}", inert(s))).unwrap_or_default();
        let marker = if notification.read_at.is_none() { "●" } else { " " };
        let text = format!(" {marker} {kind}{}{who}{snippet}", place.unwrap_or_default());
        let style = if notification.read_at.is_none() { theme.unread } else { theme.dim };
        let mut line = Line::from(Span::styled(truncate(&text, room), style));
        if i == selected {
            line = line.style(theme.selected);
        }
        lines.push(line);
    }
    frame.render_widget(Paragraph::new(lines), area);
}

pub fn switcher(frame: &mut Frame<'_>, area: Rect, app: &App, query: &str, selected: usize) {
    let theme = &app.theme;
    let room = usize::from(area.width);
    let choices = app.switcher_choices(query);
    let selected = selected.min(choices.len().saturating_sub(1));
    let mut lines = vec![
        Line::from(vec![Span::styled(" Go to: ", theme.header), Span::raw(inert(query)), Span::styled("▏", theme.dim)]),
        Line::from(Span::styled(" type part of a name · ↑↓ choose · Enter opens · Esc closes", theme.dim)),
    ];
    if choices.is_empty() {
        lines.push(Line::from(Span::styled(" No channel matches.", theme.dim)));
    }
    let height = usize::from(area.height).saturating_sub(2);
    let first = (selected + 1).saturating_sub(height);
    for (i, (_, label)) in choices.iter().enumerate().skip(first) {
        let mut line = Line::from(format!(" {}", truncate(&inert(label), room.saturating_sub(1))));
        if i == selected {
            line = line.style(theme.selected);
        }
        lines.push(line);
    }
    frame.render_widget(Paragraph::new(lines), area);
}
