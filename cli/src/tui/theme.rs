//! The TUI's styles: 16-colour-safe, and without any colour when `NO_COLOR` is set (then
//! bold, dim, italic and reverse video carry the meaning alone).

use ratatui::style::{Color, Modifier, Style};

/// Every style the views use, in one place.
#[derive(Clone, Debug)]
pub struct Theme {
    pub dim: Style,
    pub code: Style,
    pub quote: Style,
    pub link: Style,
    pub name: Style,
    pub bot: Style,
    pub selected: Style,
    pub unread: Style,
    pub mention: Style,
    pub error: Style,
    pub ok: Style,
    pub warn: Style,
    pub header: Style,
}

impl Theme {
    /// Colours unless `NO_COLOR` is set (https://no-color.org).
    pub fn from_env() -> Self {
        if std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty()) {
            Self::plain()
        } else {
            Self::colored()
        }
    }

    pub fn colored() -> Self {
        Self {
            dim: Style::new().fg(Color::DarkGray),
            code: Style::new().fg(Color::Yellow),
            quote: Style::new().fg(Color::Gray).add_modifier(Modifier::ITALIC),
            link: Style::new().fg(Color::Cyan).add_modifier(Modifier::UNDERLINED),
            name: Style::new().fg(Color::LightBlue).add_modifier(Modifier::BOLD),
            bot: Style::new().fg(Color::Black).bg(Color::Blue).add_modifier(Modifier::BOLD),
            selected: Style::new().add_modifier(Modifier::REVERSED),
            unread: Style::new().fg(Color::White).add_modifier(Modifier::BOLD),
            mention: Style::new().fg(Color::White).bg(Color::Red).add_modifier(Modifier::BOLD),
            error: Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            ok: Style::new().fg(Color::Green),
            warn: Style::new().fg(Color::Yellow),
            header: Style::new().add_modifier(Modifier::BOLD),
        }
    }

    pub fn plain() -> Self {
        Self {
            dim: Style::new().add_modifier(Modifier::DIM),
            code: Style::new(),
            quote: Style::new().add_modifier(Modifier::ITALIC),
            link: Style::new().add_modifier(Modifier::UNDERLINED),
            name: Style::new().add_modifier(Modifier::BOLD),
            bot: Style::new().add_modifier(Modifier::REVERSED),
            selected: Style::new().add_modifier(Modifier::REVERSED),
            unread: Style::new().add_modifier(Modifier::BOLD),
            mention: Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED),
            error: Style::new().add_modifier(Modifier::BOLD),
            ok: Style::new(),
            warn: Style::new().add_modifier(Modifier::BOLD),
            header: Style::new().add_modifier(Modifier::BOLD),
        }
    }
}
