//! Makes any string from the server safe to put on a terminal: control characters (C0, DEL,
//! C1 — the bytes that start escape sequences) become visible escapes, so no message, name
//! or topic can move the cursor or recolour the screen. The Unicode bidi controls, which
//! names never hold but bodies may (right-to-left writing uses them, and terminals ignore
//! them), are escaped in one-line strings and dropped from bodies, so they cannot reorder
//! what the reader sees or upset the layout.

/// `text` with every control character shown as an inert escape (`\x1b` → `^[`, others as
/// `\u{…}`); tabs become a space. Newlines are the caller's business: this is for one line.
pub fn inert(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        push_inert(&mut out, c);
    }
    out
}

/// Like [`inert`], but keeps line breaks (for message bodies split into lines afterwards).
pub fn inert_multiline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\n' {
            out.push('\n');
        } else if is_bidi_control(c) {
            continue;
        } else {
            push_inert(&mut out, c);
        }
    }
    out
}

fn push_inert(out: &mut String, c: char) {
    match c {
        '\t' => out.push(' '),
        '\u{1b}' => out.push_str("^["),
        c if c.is_control() || is_bidi_control(c) => {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        }
        c => out.push(c),
    }
}

/// The invisible characters that reorder text (Trojan Source).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_and_control_characters_become_visible_text() {
        assert_eq!(inert("a\u{1b}[31mred"), "a^[[31mred");
        assert_eq!(inert("bell\u{7}"), "bell\\u{7}");
        assert_eq!(inert("csi\u{9b}2J"), "csi\\u{9b}2J");
        assert_eq!(inert("cr\rlf\n"), "cr\\u{d}lf\\u{a}");
        assert_eq!(inert("rtl\u{202e}txt"), "rtl\\u{202e}txt");
        assert_eq!(inert("tab\there"), "tab here");
    }

    #[test]
    fn plain_text_and_emoji_pass_unchanged_and_multiline_keeps_newlines() {
        assert_eq!(inert("héllo 👋 世界"), "héllo 👋 世界");
        assert_eq!(inert_multiline("one\ntwo\u{1b}"), "one\ntwo^[");
        assert_eq!(inert_multiline("abc \u{202b}שלום\u{202c}"), "abc שלום");
    }
}
