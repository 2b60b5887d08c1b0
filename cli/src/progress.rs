//! The upload progress bar: drawn on stderr, in place, only when stderr is a terminal, and
//! redrawn only when the shown percentage changes.

use std::io::{IsTerminal as _, Write as _};
use std::sync::{Arc, Mutex};

use ajet_shared::domain::human_size;

const WIDTH: usize = 30;

/// A bar of `total` bytes; a no-op when stderr is not a terminal.
#[derive(Clone, Debug)]
pub struct Bar {
    total: u64,
    /// The percentage last drawn, or `None` when not drawing at all.
    drawn: Option<Arc<Mutex<Option<u64>>>>,
}

impl Bar {
    #[must_use]
    pub fn on_terminal(total: u64) -> Self {
        let drawing = std::io::stderr().is_terminal();
        Self { total, drawn: drawing.then(Arc::default) }
    }

    /// `sent` of the total bytes went out.
    pub fn update(&self, sent: u64) {
        let Some(drawn) = &self.drawn else { return };
        let percent = percent(sent, self.total);
        let Ok(mut last) = drawn.lock() else { return };
        if *last != Some(percent) {
            *last = Some(percent);
            let mut stderr = std::io::stderr().lock();
            // A progress line that cannot be drawn is no reason to stop the upload.
            let _ = write!(stderr, "\r{}", line(sent, self.total));
            let _ = stderr.flush();
        }
    }

    /// Ends the line the bar was drawn on, if any.
    pub fn finish(&self) {
        if self.drawn.as_ref().is_some_and(|drawn| drawn.lock().is_ok_and(|last| last.is_some())) {
            eprintln!();
        }
    }
}

fn percent(sent: u64, total: u64) -> u64 {
    (sent.min(total) * 100).checked_div(total).unwrap_or(100)
}

/// `[#########.....................]  30%  1.2 MiB of 4.0 MiB`
fn line(sent: u64, total: u64) -> String {
    let percent = percent(sent, total);
    let filled = usize::try_from(percent).unwrap_or(100) * WIDTH / 100;
    format!("[{}{}] {percent:>3}%  {} of {}", "#".repeat(filled), ".".repeat(WIDTH - filled), size(sent), size(total))
}

fn size(bytes: u64) -> String {
    human_size(i64::try_from(bytes).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_fills_with_the_bytes_sent() {
        assert_eq!(line(0, 2048), "[..............................]   0%  0 B of 2.0 KiB");
        assert_eq!(line(1024, 2048), "[###############...............]  50%  1.0 KiB of 2.0 KiB");
        assert_eq!(line(3 * 1024 * 1024, 3 * 1024 * 1024), format!("[{}] 100%  3.0 MiB of 3.0 MiB", "#".repeat(30)));
        assert_eq!(line(0, 0), format!("[{}] 100%  0 B of 0 B", "#".repeat(30)), "an empty file is done at once");
    }
}
