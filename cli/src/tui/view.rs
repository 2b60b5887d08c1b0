//! Drawing the state: pure functions of `&App` onto a ratatui `Frame`, no I/O, tested on
//! ratatui's `TestBackend` at 80×24 and at a wide size. Layout: the sidebar (community,
//! channels, DMs) on the left, the message pane (header, messages or an overlay, typing
//! line, composer) on the right, one status line at the bottom.

mod bottom;
mod messages;
mod overlay;
mod sidebar;
pub mod wrap;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};

use super::app::{App, Overlay};

/// The sidebar's width for a terminal `width` columns wide (none when very narrow).
fn sidebar_width(width: u16) -> u16 {
    match width {
        0..60 => 0,
        60..120 => 22,
        _ => 28,
    }
}

/// Terminals at least this wide show an open thread beside the channel, not instead of it.
const THREAD_PANEL_MIN_WIDTH: u16 = 120;

/// The size (columns, rows) of the messages the keys act on, on a terminal of `app.size`.
fn pane_size(app: &App) -> (usize, usize) {
    let (columns, rows) = app.size;
    let mut width = columns.saturating_sub(sidebar_width(columns) + 1);
    if app.thread.is_some() && columns >= THREAD_PANEL_MIN_WIDTH {
        width = messages::thread_panel_width(width).saturating_sub(1);
    }
    let composer_rows = u16::try_from(app.composer.lines().len().clamp(1, 5)).unwrap_or(5);
    // Status, header, typing line, the composer and its rule (and the thread panel's title).
    let height =
        rows.saturating_sub(4 + composer_rows + u16::from(app.thread.is_some() && columns >= THREAD_PANEL_MIN_WIDTH));
    (usize::from(width), usize::from(height))
}

/// How many rows the shown messages take at the current size, and how many fit.
pub fn message_rows(app: &App) -> (usize, usize) {
    let (width, height) = pane_size(app);
    (messages::rows(app, width), height)
}

/// Draws the whole screen.
pub fn draw(frame: &mut Frame<'_>, app: &App) {
    let [main, status] = Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(frame.area());
    bottom::status(frame, status, app);
    if app.overlay == Some(Overlay::Help) {
        overlay::help(frame, main, app);
        return;
    }
    // One blank column between the sidebar's border and the pane.
    let [side, _, pane] =
        Layout::horizontal([Constraint::Length(sidebar_width(main.width)), Constraint::Length(1), Constraint::Fill(1)])
            .areas(main);
    sidebar::draw(frame, side, app);
    let composer_rows = u16::try_from(app.composer.lines().len().clamp(1, 5)).unwrap_or(5);
    let [header, body, typing, composer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
        Constraint::Length(composer_rows + 1),
    ])
    .areas(pane);
    let thread_panel = app.thread.is_some() && frame.area().width >= THREAD_PANEL_MIN_WIDTH;
    messages::header(frame, header, app, thread_panel);
    match &app.overlay {
        Some(Overlay::Search(search)) => overlay::search(frame, body, app, search),
        Some(Overlay::Notifications { selected }) => overlay::notifications(frame, body, app, *selected),
        Some(Overlay::Switcher { query, selected }) => overlay::switcher(frame, body, app, query, *selected),
        Some(Overlay::Help) | None => messages::draw(frame, body, app, thread_panel),
    }
    bottom::typing(frame, typing, app);
    bottom::composer(frame, composer, app);
    bottom::completion(frame, body, app);
}

#[cfg(test)]
mod tests;
