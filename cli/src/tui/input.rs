//! The terminal's input: a thread reading crossterm events (which block) and handing keys,
//! pastes and resizes to the async loop over a bounded channel; and `KEYS`, every binding
//! the reducer knows, which the help overlay lists.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ratatui::crossterm::event::{self, Event};
use tokio::sync::mpsc;

/// Every key binding, as `(keys, what it does)`, in the order help shows them.
pub const KEYS: &[(&str, &str)] = &[
    ("Enter", "send; run a /command"),
    ("Alt+Enter", "new line (also Ctrl+J)"),
    ("Up", "edit my last message"),
    ("Esc", "cancel / back / close"),
    ("Tab", "complete; select messages"),
    ("/ @ #", "commands, people, channels"),
    ("//text", "send text starting with /"),
    ("Alt+arrows", "↑↓ previous/next channel, ←→ community"),
    ("Ctrl+K", "switch to any channel or DM"),
    ("Alt+S/M/N", "channel: star, mute, notify all/mentions/none"),
    ("PgUp/PgDn", "scroll; older load at the top"),
    ("Ctrl+T", "thread of the selection"),
    ("Ctrl+F", "search; Enter jumps"),
    ("Ctrl+N", "notifications; a: all read"),
    ("Up/Down j/k", "selected: move"),
    ("t or Enter", "selected: open its thread"),
    ("r", "selected: react (emoji, Enter)"),
    ("e", "selected: edit (mine)"),
    ("D or Delete", "selected: delete (mine)"),
    ("? or F1", "this help"),
    ("Ctrl+C/Ctrl+Q", "quit"),
];

/// Reads terminal events until `stop` is set, forwarding them to `events`. Runs on its own
/// thread because crossterm's read blocks; polls so it notices `stop` within 100 ms.
pub fn spawn_reader(events: mpsc::Sender<Event>, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            match event::poll(Duration::from_millis(100)) {
                Ok(true) => match event::read() {
                    Ok(event) => {
                        if events.blocking_send(event).is_err() {
                            return;
                        }
                    }
                    Err(_) => return,
                },
                Ok(false) => {}
                Err(_) => return,
            }
        }
    })
}
