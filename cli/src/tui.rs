//! `ajet-chat tui`: the full-screen terminal client. A pure state machine (`app`: `App`
//! and `update(Msg) -> Vec<Effect>`) drawn by pure views (`view`); keys come from a reader
//! thread (`input`), network work runs in tasks (`net`) that answer with messages, so a
//! slow or absent server never blocks a frame. The terminal is restored on exit, on
//! Ctrl-C and on panic (ratatui's hook).

mod app;
mod input;
mod markdown;
mod net;
mod sanitize;
mod theme;
mod view;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use ajet_shared::client::ApiClient;
use ratatui::crossterm::event::{DisableBracketedPaste, EnableBracketedPaste, Event};
use ratatui::crossterm::execute;
use tokio::sync::mpsc;

use app::{App, Msg};
use theme::Theme;

/// Restores the terminal when dropped, whichever way `run` ends.
struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        drop(execute!(std::io::stdout(), DisableBracketedPaste));
        ratatui::restore();
    }
}

/// Runs the TUI against the deployment `client` points at (with its token) until the user
/// quits. `open` names a channel to open first (`general` or `#general`).
pub async fn run(client: ApiClient, open: Option<String>) -> anyhow::Result<()> {
    let mut terminal = ratatui::try_init()?;
    let restore = Restore;
    execute!(std::io::stdout(), EnableBracketedPaste)?;

    let (answers, mut msgs) = mpsc::channel::<Msg>(1024);
    let (keys_tx, mut keys) = mpsc::channel::<Event>(256);
    let stop = Arc::new(AtomicBool::new(false));
    let reader = input::spawn_reader(keys_tx, Arc::clone(&stop));
    let stream = tokio::spawn(net::follow(client.clone(), answers.clone()));
    let mut net = net::Net::new(client, answers);

    let nonce = format!("tui-{}-{}", std::process::id(), time::OffsetDateTime::now_utc().unix_timestamp_nanos());
    let mut app = App::new(Theme::from_env(), nonce, open);
    for effect in App::start() {
        net.run(effect);
    }
    let result = loop {
        if let Err(err) = terminal.draw(|frame| view::draw(frame, &app)) {
            break Err(err.into());
        }
        let msg = tokio::select! {
            Some(event) = keys.recv() => match event {
                Event::Key(key) => Msg::Key(key),
                Event::Paste(text) => Msg::Paste(text),
                // A resize (or anything else) only needs the redraw above.
                _ => continue,
            },
            Some(msg) = msgs.recv() => msg,
            _ = tokio::signal::ctrl_c() => break Ok(()),
        };
        for effect in app.update(msg) {
            net.run(effect);
        }
        // Apply whatever else is already waiting before drawing again.
        while let Ok(msg) = msgs.try_recv() {
            for effect in app.update(msg) {
                net.run(effect);
            }
        }
        if app.quit {
            break Ok(());
        }
    };
    stop.store(true, Ordering::Relaxed);
    stream.abort();
    drop(net);
    drop(restore);
    // The reader notices `stop` within its poll interval.
    drop(reader.join());
    result
}
