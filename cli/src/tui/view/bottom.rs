//! The rows under the messages: who is typing, the composer (with what it is doing: a new
//! message, an edit, a reaction), the completion list above it, and the status line with
//! the connection's state, the last notice and the unread notifications.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::wrap::{truncate, width};
use crate::escape::inert;
use crate::tui::app::{App, ComposeMode, Connection};

pub fn typing(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let names: Vec<String> = app
        .current
        .and_then(|c| app.typing.get(&c))
        .map(|typists| typists.iter().map(|(_, name)| inert(name)).collect())
        .unwrap_or_default();
    let text = match names.as_slice() {
        [] => String::new(),
        [one] => format!("{one} is typing…"),
        [one, two] => format!("{one} and {two} are typing…"),
        _ => "several people are typing…".to_owned(),
    };
    let text = truncate(&text, usize::from(area.width));
    frame.render_widget(Paragraph::new(Span::styled(text, app.theme.dim)), area);
}

pub fn composer(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let title = match app.compose {
        ComposeMode::New => String::new(),
        ComposeMode::Edit(_) => " editing ".to_owned(),
        ComposeMode::React(_) => " react ".to_owned(),
    };
    let block =
        Block::new().borders(Borders::TOP).border_style(app.theme.dim).title(Span::styled(title, app.theme.warn));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    frame.render_widget(&app.composer, inner);
}

/// The completion list, drawn over the bottom of the message pane.
pub fn completion(frame: &mut Frame<'_>, pane: Rect, app: &App) {
    let Some(completion) = &app.completion else {
        return;
    };
    let rows = u16::try_from(completion.items.len()).unwrap_or(u16::MAX).min(pane.height);
    let area = Rect { x: pane.x, y: pane.y + pane.height - rows, width: pane.width, height: rows };
    let room = usize::from(area.width);
    let lines: Vec<Line<'_>> = completion
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let text = inert(&item.text);
            let hint = truncate(&inert(&item.hint), room.saturating_sub(width(&text) + 3));
            let line = Line::from(vec![
                Span::raw(" "),
                Span::styled(text, app.theme.header),
                Span::raw(" "),
                Span::styled(hint, app.theme.dim),
            ]);
            if i == completion.selected { line.style(app.theme.selected) } else { line }
        })
        .collect();
    frame.render_widget(Clear, area);
    frame.render_widget(Paragraph::new(lines), area);
}

pub fn status(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let theme = &app.theme;
    let (state, style) = match &app.connection {
        Connection::Connecting => ("◌ connecting…".to_owned(), theme.warn),
        Connection::Live => ("● live".to_owned(), theme.ok),
        Connection::Reconnecting { in_secs, .. } => (format!("◌ reconnecting in {in_secs}s"), theme.warn),
        Connection::SignedOut(reason) => (format!("✕ signed out: {}", inert(reason)), theme.error),
    };
    let unread = app.unread_notifications();
    let right = if unread > 0 { format!("🔔 {unread} · F1 help ") } else { "F1 help ".to_owned() };
    let mut spans = vec![Span::raw(" "), Span::styled(state.clone(), style)];
    let room = usize::from(area.width).saturating_sub(width(&state) + width(&right) + 4);
    let notice = match (&app.notice, &app.connection) {
        (Some(notice), _) => Some((inert(&notice.text), if notice.error { theme.error } else { theme.dim })),
        (None, Connection::Reconnecting { reason, .. }) => Some((inert(reason), theme.dim)),
        (None, _) => None,
    };
    let mut used = 1 + width(&state);
    if let Some((text, style)) = notice {
        let text = truncate(&text, room);
        used += 3 + width(&text);
        spans.push(Span::styled(" · ", theme.dim));
        spans.push(Span::styled(text, style));
    }
    spans.push(Span::raw(" ".repeat(usize::from(area.width).saturating_sub(used + width(&right)))));
    spans.push(Span::styled(right, if unread > 0 { theme.unread } else { theme.dim }));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
