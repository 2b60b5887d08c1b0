//! The sidebar: the community (with its place among mine), the starred channels and DMs,
//! the other joined channels with unread and mention counts (muted ones dimmed and without
//! counts), then the other DMs with presence.

use ajet_shared::api::wire::{ChannelKind, ChannelListItem};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::wrap::{truncate, width};
use crate::escape::inert;
use crate::tui::app::App;

pub fn draw(frame: &mut Frame<'_>, area: Rect, app: &App) {
    if area.width == 0 {
        return;
    }
    let theme = &app.theme;
    let block = Block::new().borders(Borders::RIGHT).border_style(theme.dim);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let room = usize::from(inner.width);
    let mut lines = Vec::new();
    let community = match app.current_community() {
        Some(community) if app.communities.len() > 1 => {
            format!("{} ({}/{})", inert(&community.name), app.community + 1, app.communities.len())
        }
        Some(community) => inert(&community.name),
        None => "ajet-chat".to_owned(),
    };
    lines.push(Line::from(Span::styled(truncate(&community, room), theme.header)));
    let mut current_row = 0;
    // The sections in their order; "Channels" is shown even when empty.
    let mut section = None;
    for item in app.sidebar() {
        let dm = matches!(item.channel.kind, ChannelKind::Dm | ChannelKind::GroupDm);
        let this = match (item.starred, dm) {
            (true, _) => Section::Starred,
            (false, false) => Section::Channels,
            (false, true) => Section::Dms,
        };
        if section != Some(this) {
            if this == Section::Dms && section != Some(Section::Channels) {
                lines.push(Line::from(Span::styled(Section::Channels.title(), theme.dim)));
            }
            lines.push(Line::from(Span::styled(this.title(), theme.dim)));
            section = Some(this);
        }
        if app.current == Some(item.channel.id) {
            current_row = lines.len();
        }
        lines.push(entry(app, item, room));
    }
    if matches!(section, None | Some(Section::Starred)) {
        lines.push(Line::from(Span::styled(Section::Channels.title(), theme.dim)));
    }
    // Keep the open channel in view when the list is taller than the sidebar.
    let height = usize::from(inner.height);
    let offset = (current_row + 1).saturating_sub(height);
    let visible: Vec<Line<'_>> = lines.into_iter().skip(offset).take(height).collect();
    frame.render_widget(Paragraph::new(visible), inner);
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Starred,
    Channels,
    Dms,
}

impl Section {
    fn title(self) -> &'static str {
        match self {
            Self::Starred => "★ Starred",
            Self::Channels => "Channels",
            Self::Dms => "Direct messages",
        }
    }
}

fn entry(app: &App, item: &ChannelListItem, room: usize) -> Line<'static> {
    let theme = &app.theme;
    let muted = item.muted_until.is_some_and(|until| until > time::OffsetDateTime::now_utc());
    let (marker, marker_style) = match item.channel.kind {
        ChannelKind::Public => ("# ".to_owned(), theme.dim),
        ChannelKind::Private => ("🔒".to_owned(), theme.dim),
        ChannelKind::Dm | ChannelKind::GroupDm => {
            let me = app.me.as_ref().map(|u| u.id);
            let online =
                item.members.iter().filter(|u| Some(u.id) != me).any(|u| app.presence.get(&u.id) == Some(&true));
            if online { ("● ".to_owned(), theme.ok) } else { ("○ ".to_owned(), theme.dim) }
        }
    };
    let label = inert(app.item_label(item).trim_start_matches('#'));
    let badge = match (muted, item.mention_count, item.unread_count) {
        (false, mentions @ 1.., _) => format!("@{}", count(mentions)),
        (false, 0, unread @ 1..) => count(unread),
        _ => String::new(),
    };
    let name_room = room.saturating_sub(4 + width(&badge));
    let name = truncate(&label, name_room);
    let gap = room.saturating_sub(2 + width(&marker) + width(&name) + width(&badge));
    let name_style = if muted {
        theme.dim
    } else if item.unread_count > 0 || item.mention_count > 0 {
        theme.unread
    } else {
        ratatui::style::Style::new()
    };
    let badge_style = if item.mention_count > 0 { theme.mention } else { theme.dim };
    let mut line = Line::from(vec![
        Span::raw(" "),
        Span::styled(marker, marker_style),
        Span::styled(name, name_style),
        Span::raw(" ".repeat(gap)),
        Span::styled(badge, badge_style),
    ]);
    if app.current == Some(item.channel.id) {
        line = line.style(theme.selected);
    }
    if muted {
        line = line.patch_style(ratatui::style::Style::new().add_modifier(Modifier::DIM));
    }
    line
}

/// A count as the sidebar shows it: capped at the server's cap, as `99+`.
fn count(n: i64) -> String {
    if n >= ajet_shared::api::wire::UNREAD_CAP { "99+".to_owned() } else { n.to_string() }
}
