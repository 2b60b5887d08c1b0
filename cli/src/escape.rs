//! Escaping of every string the server sends before it reaches the terminal: control
//! characters (C0 but newline and tab where a body allows them, DEL, C1) and the Unicode
//! bidirectional controls become visible `\xNN` / `\u{NNNN}` text, so nothing the API lets
//! through can move the cursor, retitle the window or reorder what is shown. One behaviour
//! for the one-shots and the TUI: bidirectional controls are shown as escapes in bodies
//! too (a Trojan Source reordering stays visible; terminals do not apply them anyway).

use std::borrow::Cow;

/// True for a character that must never reach a terminal raw.
fn dangerous(c: char) -> bool {
    c.is_control() || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn escaped(text: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !text.chars().any(|c| dangerous(c) && !keep(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !dangerous(c) || keep(c) {
            out.push(c);
        } else if (c as u32) < 0x80 {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
    }
    Cow::Owned(out)
}

/// A one-line string (a name, a topic, a username): every control character escaped,
/// newlines and tabs too.
#[must_use]
pub fn line(text: &str) -> Cow<'_, str> {
    escaped(text, |_| false)
}

/// [`line`], owned: for the TUI's widgets, which keep what they draw.
#[must_use]
pub fn inert(text: &str) -> String {
    line(text).into_owned()
}

/// A multi-line text (a message body): newlines and tabs kept, every other control
/// character escaped.
#[must_use]
pub fn text(text: &str) -> Cow<'_, str> {
    escaped(text, |c| matches!(c, '\n' | '\t'))
}

/// JSON text with the characters serde leaves raw (DEL, C1, bidirectional controls) written
/// as `\uXXXX` escapes: they can only occur inside strings, so the JSON means the same.
#[must_use]
pub fn json(json: &str) -> Cow<'_, str> {
    if !json.chars().any(dangerous) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 8);
    for c in json.chars() {
        if dangerous(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_escape_sequences_become_visible_text() {
        assert_eq!(line("\u{1b}]0;pwned\u{7}title"), "\\x1b]0;pwned\\x07title");
        assert_eq!(text("a\u{1b}[2Jb\nc\td"), "a\\x1b[2Jb\nc\td");
        assert_eq!(line("two\nlines"), "two\\x0alines");
        assert_eq!(line("csi\u{9b}31m del\u{7f}"), "csi\\u{9b}31m del\\x7f");
        assert_eq!(line("abc\u{202e}fed"), "abc\\u{202e}fed");
    }

    #[test]
    fn bodies_keep_their_lines_and_show_bidirectional_controls_like_names_do() {
        assert_eq!(text("abc \u{202b}שלום\u{202c}\nnext"), "abc \\u{202b}שלום\\u{202c}\nnext");
        assert_eq!(text("cr\rlf"), "cr\\x0dlf");
        assert_eq!(inert("tab\there"), "tab\\x09here");
        assert_eq!(inert("héllo 👋 世界"), "héllo 👋 世界");
    }

    #[test]
    fn ordinary_text_is_borrowed_unchanged() {
        assert!(matches!(text("héllo 🎉 **world**\n"), Cow::Borrowed(_)));
        assert!(matches!(line("日本語"), Cow::Borrowed(_)));
    }

    #[test]
    fn json_keeps_its_meaning_without_raw_controls() {
        let raw = serde_json::to_string(&"x\u{9b}y\u{1b}z\u{202e}").expect("json");
        let safe = json(&raw);
        assert!(!safe.chars().any(dangerous), "{safe}");
        let back: String = serde_json::from_str(&safe).expect("still JSON");
        assert_eq!(back, "x\u{9b}y\u{1b}z\u{202e}");
    }
}
