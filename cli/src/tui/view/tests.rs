//! Rendering tests on ratatui's `TestBackend`: whole screens at 80×24 and 120×32 compared
//! with the expected text, row by row, and the styles that carry meaning checked apart.

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use ajet_shared::api::wire::{ChannelKind, ChannelPreferences, NotificationChannel, NotifyLevel, SearchHit};
use ratatui::crossterm::event::{KeyCode, KeyModifiers};
use ratatui::style::Modifier;
use time::OffsetDateTime;

use crate::tui::app::tests::{chord, fixture, key, message, type_text, user};
use crate::tui::app::{App, Connection, LiveItem, Msg};
use crate::tui::input::KEYS;

/// The screen's rows as text (trailing spaces trimmed).
fn screen(app: &App, width: u16, height: u16) -> Vec<String> {
    columns(app, width, height, 0)
}

/// The message pane's rows at 80×24 (right of the sidebar and its gap).
fn pane_rows(app: &App) -> Vec<String> {
    columns(app, 80, 24, 23)
}

/// The rows from column `from` on.
fn columns(app: &App, width: u16, height: u16, from: u16) -> Vec<String> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("a test terminal");
    terminal.draw(|frame| super::draw(frame, app)).expect("draws");
    let buffer = terminal.backend().buffer();
    (0..height)
        .map(|y| {
            let mut row = String::new();
            let mut skip = 0;
            for x in from..width {
                if skip > 0 {
                    skip -= 1;
                    continue;
                }
                let symbol = buffer[(x, y)].symbol();
                skip = unicode_width::UnicodeWidthStr::width(symbol).saturating_sub(1);
                row.push_str(symbol);
            }
            row.trim_end().to_owned()
        })
        .collect()
}

fn assert_screen(actual: &[String], expected: &str) {
    let expected: Vec<&str> = expected.lines().map(|line| line.strip_prefix('|').unwrap_or(line)).collect();
    let actual: Vec<&str> = actual.iter().map(String::as_str).collect();
    assert_eq!(actual, expected, "\nactual screen:\n{}", actual.join("\n"));
}

#[test]
fn a_channel_at_80x24_shows_the_sidebar_the_messages_the_composer_and_the_status() {
    let f = fixture();
    assert_screen(
        &screen(&f.app, 80, 24),
        "|Acme (1/2)           │ #general · Company-wide news
|Channels             │
| # general           │
| # random          3 │
| 🔒secret         @1 │
| # alerts            │
|Direct messages      │
| ● Bob Builder       │ 10:42 Bob Builder
| ○ Carol             │   Hello team, see the docs (https://example.com/docs)
|                     │   👍 2  🎉 1
|                     │   ↳ 3 replies
|                     │   and a second thought (edited)
|                     │
|                     │ 10:50 Deploy  BOT  via CI
|                     │   │ shipped v1.2
|                     │   all green
|                     │
|                     │ 10:51 Alice
|                     │   This message was deleted.
|                     │   my last word
|                     │
|                     │ ─────────────────────────────────────────────────────────
|                     │  Message #general
| ◌ connecting…                                                          F1 help",
    );
}

#[test]
fn a_wide_terminal_gets_a_wider_sidebar_and_the_messages_sit_at_the_bottom() {
    let mut f = fixture();
    f.app.update(Msg::Connection(Connection::Live));
    assert_screen(
        &screen(&f.app, 120, 32),
        &format!(
            "|Acme (1/2)                 │ #general · Company-wide news
|Channels                   │
| # general                 │
| # random                3 │
| 🔒secret               @1 │
| # alerts                  │
|Direct messages            │
| ● Bob Builder             │
| ○ Carol                   │
{blank}
{blank}
{blank}
{blank}
{blank}
{blank}
|                           │ 10:42 Bob Builder
|                           │   Hello team, see the docs (https://example.com/docs)
|                           │   👍 2  🎉 1
|                           │   ↳ 3 replies
|                           │   and a second thought (edited)
{blank}
|                           │ 10:50 Deploy  BOT  via CI
|                           │   │ shipped v1.2
|                           │   all green
{blank}
|                           │ 10:51 Alice
|                           │   This message was deleted.
|                           │   my last word
{blank}
|                           │ {rule}
|                           │  Message #general
| ● live{gap}F1 help",
            blank = "|                           │",
            rule = "─".repeat(91),
            gap = " ".repeat(105),
        ),
    );
}

#[test]
fn unread_channels_are_bold_mentions_stand_out_and_the_open_channel_is_reversed() {
    let f = fixture();
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("a test terminal");
    terminal.draw(|frame| super::draw(frame, &f.app)).expect("draws");
    let buffer = terminal.backend().buffer();
    assert!(buffer[(3, 3)].modifier.contains(Modifier::BOLD), "random has unread messages");
    assert!(buffer[(3, 2)].modifier.contains(Modifier::REVERSED), "general is open");
    assert!(buffer[(18, 4)].modifier.contains(Modifier::REVERSED), "the mention count is a pill");
    assert!(buffer[(3, 5)].modifier.contains(Modifier::DIM), "alerts is muted");
    assert!(!buffer[(3, 5)].modifier.contains(Modifier::BOLD), "a muted channel is not bold");
}

#[test]
fn help_lists_every_key_at_80x24() {
    let mut f = fixture();
    f.app.update(key(KeyCode::Char('?')));
    let text = screen(&f.app, 80, 24).join("\n");
    for (keys, what) in KEYS {
        assert!(text.contains(keys), "{keys} missing:\n{text}");
        assert!(text.contains(what), "{what} missing:\n{text}");
    }
}

#[test]
fn the_thread_view_shows_the_root_then_its_replies_and_the_composer_replies_there() {
    let mut f = fixture();
    f.app.update(key(KeyCode::Tab));
    for _ in 0..4 {
        f.app.update(key(KeyCode::Up));
    }
    f.app.update(chord(KeyCode::Char('t'), KeyModifiers::CONTROL));
    let mut reply =
        message(f.general, crate::tui::app::tests::author_of(&f.alice), "count me in", OffsetDateTime::now_utc());
    reply.parent_id = Some(f.messages[0]);
    f.app.update(Msg::Replies { root: f.messages[0], messages: vec![reply] });
    let rows = screen(&f.app, 80, 24);
    assert!(rows[0].ends_with("│ Thread in #general · Esc back"), "{rows:?}");
    let pane = pane_rows(&f.app);
    let from = pane.iter().position(|row| row.contains("10:42 Bob Builder")).expect("the root");
    assert_eq!(pane[from + 1], "  Hello team, see the docs (https://example.com/docs)");
    assert!(pane[from + 3].starts_with("────"), "{pane:?}");
    assert!(pane[from + 4].ends_with("Alice") && pane[from + 5] == "  count me in", "{pane:?}");
    assert_eq!(pane[22], " Reply in thread");
}

#[test]
fn the_typing_line_the_completion_list_and_a_lost_connection_show() {
    let mut f = fixture();
    let bob = f.bob.clone();
    f.app.update(Msg::Live(LiveItem::Typing {
        channel_id: f.general,
        user_id: bob.id,
        display_name: bob.display_name,
        typing: true,
    }));
    f.app.update(Msg::Connection(Connection::Reconnecting { in_secs: 4, reason: "cannot reach the server".into() }));
    type_text(&mut f.app, "/t");
    let rows = screen(&f.app, 80, 24);
    assert!(rows[19].contains("/topic  /topic <text> — Set the channel topic"), "{rows:?}");
    assert_eq!(rows[20], format!("{}│ Bob Builder is typing…", " ".repeat(21)));
    assert!(rows[23].starts_with(" ◌ reconnecting in 4s · cannot reach the server"), "{rows:?}");
}

#[test]
fn escape_sequences_in_names_topics_and_bodies_reach_the_screen_inert() {
    let mut f = fixture();
    let evil = user("mallory", "Mal\u{1b}[2Jlory");
    let mut author = crate::tui::app::tests::author_of(&evil);
    author.display_name = evil.display_name.clone();
    let body = "hi \u{1b}]0;pwned\u{7} \u{9b}31m";
    f.app.update(Msg::History {
        channel: f.general,
        messages: vec![message(f.general, author, body, OffsetDateTime::now_utc())],
        around: None,
    });
    let rows = screen(&f.app, 80, 24);
    let text = rows.join("\n");
    assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "{text:?}");
    assert!(text.contains("Mal\\x1b[2Jlory") && text.contains("hi \\x1b]0;pwned\\x07 \\u{9b}31m"), "{text}");
}

#[test]
fn link_previews_show_under_the_body_wrapped_and_hostile_pages_stay_inert() {
    let mut f = fixture();
    let mallory = user("mallory", "Mallory");
    let mut posted = message(
        f.general,
        crate::tui::app::tests::author_of(&mallory),
        "see https://example.com/a",
        OffsetDateTime::now_utc(),
    );
    posted.link_previews = vec![ajet_shared::api::wire::LinkPreview {
        url: "https://example.com/a".into(),
        title: Some("Evil\u{1b}[2J title".into()),
        description: Some("a description long enough to wrap \u{1b}]0;pwned\u{7} onto the next row".into()),
        site_name: Some("Example".into()),
        image_url: None,
    }];
    f.app.update(Msg::History { channel: f.general, messages: vec![posted], around: None });
    let rows = pane_rows(&f.app);
    let text = rows.join("\n");
    assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "{text:?}");
    let at = rows.iter().position(|row| row.contains("see https://example.com/a")).expect("the body's row");
    assert_eq!(
        rows[at..at + 4],
        [
            "  see https://example.com/a",
            "  ↗ Evil\\x1b[2J title: a description long enough to wrap",
            "  \\x1b]0;pwned\\x07 onto the next row — Example",
            "  (https://example.com/a)",
        ],
        "{text}"
    );
}

#[test]
fn search_hits_show_where_and_who_and_notifications_list_unread_first() {
    let mut f = fixture();
    f.app.update(chord(KeyCode::Char('f'), KeyModifiers::CONTROL));
    type_text(&mut f.app, "docs");
    let hit_message = message(
        f.general,
        crate::tui::app::tests::author_of(&f.bob),
        "see the docs",
        time::macros::datetime!(2026-11-20 9:05 UTC),
    );
    let hit = SearchHit {
        around: hit_message.id,
        channel: NotificationChannel {
            id: f.general,
            kind: ChannelKind::Public,
            name: Some("general".into()),
            community_id: Some(f.acme),
        },
        snippet: "see the <mark>docs</mark> &amp; more".into(),
        message: hit_message,
    };
    f.app.update(Msg::SearchResults { query: "docs".into(), hits: vec![hit] });
    let pane = pane_rows(&f.app);
    assert_eq!(pane[1], " Search: docs▏");
    assert_eq!(pane[2], " 1 hits · ↑↓ choose · Enter jumps");
    assert_eq!(pane[3], " #general · Bob Builder · 2026-11-20 09:05");
    assert_eq!(pane[4], "   see the docs & more");

    f.app.update(key(KeyCode::Esc));
    f.app.update(chord(KeyCode::Char('n'), KeyModifiers::CONTROL));
    let pane = pane_rows(&f.app);
    assert_eq!(pane[1], " Notifications");
    assert_eq!(pane[3], " Nothing here.");
}

#[test]
fn the_switcher_lists_channels_with_their_community_and_dms() {
    let mut f = fixture();
    f.app.update(chord(KeyCode::Char('k'), KeyModifiers::CONTROL));
    type_text(&mut f.app, "ob");
    let pane = pane_rows(&f.app);
    assert_eq!(pane[1], " Go to: ob▏");
    assert_eq!(&pane[3..6], [" Beta #lobby", " DM Bob Builder", ""]);
}

#[test]
fn every_view_draws_without_panicking_from_tiny_to_huge_terminals() {
    let mut f = fixture();
    type_text(&mut f.app, "@");
    let overlays = [
        None,
        Some(crate::tui::app::Overlay::Help),
        Some(crate::tui::app::Overlay::Notifications { selected: 3 }),
        Some(crate::tui::app::Overlay::Switcher { query: String::new(), selected: 99 }),
        Some(crate::tui::app::Overlay::Search(crate::tui::app::SearchView {
            query: "x".into(),
            searched: Some("x".into()),
            hits: Vec::new(),
            selected: 0,
        })),
    ];
    for overlay in overlays {
        f.app.overlay = overlay;
        for (width, height) in [(1, 1), (2, 3), (10, 4), (30, 8), (59, 12), (60, 24), (80, 24), (200, 60)] {
            f.app.size = (width, height);
            screen(&f.app, width, height);
        }
    }
    f.app.overlay = None;
    f.app.scroll = 1_000;
    f.app.selected = Some(f.messages[0]);
    screen(&f.app, 80, 24);
}

#[test]
fn a_wide_terminal_shows_the_thread_beside_the_channel() {
    let mut f = fixture();
    f.app.update(key(KeyCode::Tab));
    for _ in 0..4 {
        f.app.update(key(KeyCode::Up));
    }
    f.app.update(chord(KeyCode::Char('t'), KeyModifiers::CONTROL));
    let mut reply =
        message(f.general, crate::tui::app::tests::author_of(&f.alice), "count me in", OffsetDateTime::now_utc());
    reply.parent_id = Some(f.messages[0]);
    f.app.update(Msg::Replies { root: f.messages[0], messages: vec![reply] });
    let rows = screen(&f.app, 120, 32);
    assert!(rows[0].ends_with("│ #general · Company-wide news"), "{rows:?}");
    let channel_col = 29;
    let panel_col = channel_col + (91 - 46) + 2;
    let left: Vec<String> = rows.iter().map(|r| r.chars().skip(channel_col).take(44).collect::<String>()).collect();
    let right: Vec<String> = rows.iter().map(|r| r.chars().skip(panel_col).collect::<String>()).collect();
    assert!(left.iter().any(|r| r.contains("my last word")), "the channel stays: {rows:#?}");
    assert!(right[1].starts_with("Thread · Esc closes"), "{rows:#?}");
    assert!(right.iter().any(|r| r.contains("count me in")), "{rows:#?}");
}

#[test]
fn the_hint_of_newer_messages_takes_a_row_of_its_own_below_the_last_message_shown() {
    let mut f = fixture();
    f.app.detached.insert(f.general);
    let pane = pane_rows(&f.app);
    let last = pane.iter().position(|row| row == "  my last word").expect("the newest message shown keeps its text");
    assert_eq!(pane[last + 1], " ↓ newer messages: PgDn at the bottom or Esc", "{pane:?}");
}

#[test]
fn times_are_shown_in_the_local_offset() {
    let mut f = fixture();
    f.app.offset = time::UtcOffset::from_hms(2, 0, 0).expect("an offset");
    let pane = pane_rows(&f.app);
    assert!(pane.iter().any(|row| row == "12:42 Bob Builder"), "10:42 UTC is 12:42 at +02:00: {pane:?}");
    assert!(!pane.iter().any(|row| row.starts_with("10:42")), "{pane:?}");
}

#[test]
fn starred_channels_and_dms_come_first_and_the_header_shows_the_mute_and_the_notify_level() {
    let mut f = fixture();
    let set = |app: &mut App, channel_id, starred, muted_until, notify_level| {
        app.update(Msg::Preferences(ChannelPreferences { channel_id, notify_level, muted_until, starred }));
    };
    set(&mut f.app, f.general, true, None, NotifyLevel::Mentions);
    set(&mut f.app, f.dm_bob, true, None, NotifyLevel::All);
    set(&mut f.app, f.random, false, Some(time::macros::datetime!(2999-01-01 0:00 UTC)), NotifyLevel::All);
    let rows = screen(&f.app, 80, 24);
    let sidebar: Vec<&str> =
        rows.iter().take(11).map(|row| row.split('│').next().unwrap_or_default().trim_end()).collect();
    assert_eq!(
        sidebar,
        [
            "Acme (1/2)",
            "★ Starred",
            " # general",
            " ● Bob Builder",
            "Channels",
            " # random",
            " 🔒secret         @1",
            " # alerts",
            "Direct messages",
            " ○ Carol",
            "",
        ],
        "the muted channel shows no count:\n{}",
        rows.join("\n")
    );
    assert!(rows[0].ends_with("│ ★ #general · notify: mentions · Company-wide news"), "{}", rows[0]);
    f.app.open_channel(f.random);
    let rows = screen(&f.app, 80, 24);
    assert!(rows[0].ends_with("│ #random · muted"), "{}", rows[0]);
    // Nothing starred: no such heading.
    set(&mut f.app, f.general, false, None, NotifyLevel::All);
    set(&mut f.app, f.dm_bob, false, None, NotifyLevel::All);
    let rows = screen(&f.app, 80, 24);
    assert!(rows[1].starts_with("Channels ") && !rows.iter().any(|row| row.contains("Starred")), "{}", rows.join("\n"));
}

#[test]
fn a_long_search_hit_is_cut_to_its_row_with_the_match_in_view() {
    let mut f = fixture();
    f.app.update(chord(KeyCode::Char('f'), KeyModifiers::CONTROL));
    type_text(&mut f.app, "needle");
    let words = "lorem ipsum dolor sit amet ".repeat(4);
    let hit_message = message(
        f.general,
        crate::tui::app::tests::author_of(&f.bob),
        "long",
        time::macros::datetime!(2026-11-20 9:05 UTC),
    );
    let hit = SearchHit {
        around: hit_message.id,
        channel: NotificationChannel {
            id: f.general,
            kind: ChannelKind::Public,
            name: Some("general".into()),
            community_id: Some(f.acme),
        },
        snippet: format!("{words}the <mark>needle</mark> {words}"),
        message: hit_message,
    };
    f.app.update(Msg::SearchResults { query: "needle".into(), hits: vec![hit] });
    let pane = pane_rows(&f.app);
    let row = &pane[4];
    assert!(row.starts_with("   …") && row.ends_with('…'), "cut at both ends: {row:?}");
    assert!(row.contains("the needle lorem"), "the match in view: {row:?}");
    assert_eq!(unicode_width::UnicodeWidthStr::width(row.as_str()), 57, "exactly the pane's width: {row:?}");
    assert_eq!(pane[5], "", "nothing folds onto the next row");
}
