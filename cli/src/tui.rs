//! `ajet-chat tui`: the full-screen terminal client. A pure state machine (`app`: `App`
//! and `update(Msg) -> Vec<Effect>`) drawn by pure views (`view`); keys come from a reader
//! thread (`input`), network work runs in tasks (`net`) that answer with messages, so a
//! slow or absent server never blocks a frame. The terminal is restored on exit, on
//! Ctrl-C, SIGTERM and SIGHUP, and on panic (ratatui's hook).

mod app;
mod input;
mod last_viewed;
mod markdown;
mod net;
mod theme;
mod view;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use ajet_shared::client::ApiClient;
use ajet_shared::domain::ids::ChannelId;
use ratatui::Terminal;
use ratatui::backend::Backend;
use ratatui::crossterm::event::{DisableBracketedPaste, EnableBracketedPaste, Event};
use ratatui::crossterm::execute;
use tokio::sync::mpsc;

use app::{App, Msg, Open};
use theme::Theme;

/// The local time zone's offset, read by `remember_local_offset` before any thread starts.
static LOCAL_OFFSET: std::sync::OnceLock<time::UtcOffset> = std::sync::OnceLock::new();

/// Reads the local time zone's offset (`TZ`, else the system's), which the `time` crate only
/// does while the process has a single thread: call it first thing in `main`. Without it
/// (or if it cannot be read) the TUI shows times in UTC.
pub fn remember_local_offset() {
    // A second call keeps the first reading.
    let _ = LOCAL_OFFSET.set(time::UtcOffset::current_local_offset().unwrap_or(time::UtcOffset::UTC));
}

/// At most this many waiting answers are applied between two turns of the loop.
const BATCH: usize = 64;

/// Restores the terminal when dropped, whichever way `run` ends.
struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        drop(execute!(std::io::stdout(), DisableBracketedPaste));
        ratatui::restore();
    }
}

/// Runs the TUI against the deployment `client` points at (with its token) until the user
/// quits. `channel` names a channel to open first (`general` or `#general`); without it,
/// the one shown when the TUI last quit (for this server), else the first.
pub async fn run(client: ApiClient, channel: Option<String>) -> anyhow::Result<()> {
    let server = client.base_url().to_owned();
    let open = channel.map(Open::Name).or_else(|| last_viewed::load(&server).map(Open::Id));
    let mut terminal = ratatui::try_init()?;
    let restore = Restore;
    execute!(std::io::stdout(), EnableBracketedPaste)?;
    let (keys_tx, keys) = mpsc::channel::<Event>(256);
    let stop = Arc::new(AtomicBool::new(false));
    let reader = input::spawn_reader(keys_tx, Arc::clone(&stop));
    let result = drive(&mut terminal, client, open, keys, Theme::from_env()).await;
    stop.store(true, Ordering::Relaxed);
    drop(restore);
    // The reader notices `stop` within its poll interval; it is waited for (so it reads no
    // key meant for the shell) but never for long: a read that does not come back must not
    // keep the process from exiting.
    let waited = std::time::Instant::now();
    while !reader.is_finished() && waited.elapsed() < std::time::Duration::from_millis(500) {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    if reader.is_finished() {
        drop(reader.join());
    }
    if let Ok(Some(channel)) = result {
        last_viewed::save(&server, channel);
    }
    result.map(drop)
}

/// The loop: draw, wait for a key or a network answer, update, run the effects. Drawing
/// never waits for the network: answers arrive as messages whenever they come. Answers
/// the channel open at the end.
async fn drive<B: Backend>(
    terminal: &mut Terminal<B>,
    client: ApiClient,
    open: Option<Open>,
    mut keys: mpsc::Receiver<Event>,
    theme: Theme,
) -> anyhow::Result<Option<ChannelId>> {
    let (answers, mut msgs) = mpsc::channel::<Msg>(1024);
    let stream = tokio::spawn(net::follow(client.clone(), answers.clone()));
    let heartbeat = tokio::spawn(net::heartbeat(client.clone()));
    let mut net = net::Net::new(client, answers);
    let nonce = format!("tui-{}-{}", std::process::id(), time::OffsetDateTime::now_utc().unix_timestamp_nanos());
    let mut app = App::new(theme, nonce, open);
    app.offset = LOCAL_OFFSET.get().copied().unwrap_or(time::UtcOffset::UTC);
    if let Ok(size) = terminal.size() {
        app.update(Msg::Resize(size.width, size.height));
    }
    for effect in App::start() {
        net.run(effect);
    }
    // Created once, so a signal between two turns of the loop is not missed.
    let stopped = stop_signal();
    tokio::pin!(stopped);
    let result = loop {
        if let Err(err) = terminal.draw(|frame| view::draw(frame, &app)) {
            break Err(anyhow::anyhow!("cannot draw: {err}"));
        }
        let msg = tokio::select! {
            event = keys.recv() => match event {
                Some(Event::Key(key)) => Msg::Key(key),
                Some(Event::Paste(text)) => Msg::Paste(text),
                // The terminal's input is gone: nothing more can be typed.
                None => break Ok(()),
                Some(Event::Resize(columns, rows)) => Msg::Resize(columns, rows),
                // Anything else (focus, mouse) only needs the redraw above.
                Some(_) => continue,
            },
            Some(msg) = msgs.recv() => msg,
            () = &mut stopped => break Ok(()),
        };
        for effect in app.update(msg) {
            net.run(effect);
        }
        // Apply what else is already waiting before drawing again, but a bounded batch:
        // answers that keep arriving must never starve the keys (Ctrl-C) or the screen.
        for _ in 0..BATCH {
            let Ok(msg) = msgs.try_recv() else { break };
            for effect in app.update(msg) {
                net.run(effect);
            }
        }
        if app.quit {
            break Ok(());
        }
    };
    stream.abort();
    heartbeat.abort();
    result.map(|()| app.current)
}

/// Resolves on SIGINT, SIGTERM or SIGHUP (the terminal went away), so the loop ends and
/// the terminal is restored. (In raw mode Ctrl-C arrives as a key, handled by the reducer.)
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let (Ok(mut terminate), Ok(mut hangup)) = (signal(SignalKind::terminate()), signal(SignalKind::hangup())) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
                _ = hangup.recv() => {}
            }
            return;
        }
    }
    // Without those signals, Ctrl-C alone; if even that cannot be watched, never.
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

#[cfg(test)]
mod tests;
