//! Word-wrapping styled lines to a width, so the message pane knows how many rows each
//! message takes (for scrolling and keeping the selection in view) before it draws.

use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthChar as _;
use unicode_width::UnicodeWidthStr as _;

/// Splits `line` into rows of at most `width` columns, breaking at spaces where it can and
/// inside a word only when the word alone is wider; every row starts with `indent`.
pub fn wrap(line: &Line<'static>, width: usize, indent: &str) -> Vec<Line<'static>> {
    let indent_width = indent.width();
    let room = width.saturating_sub(indent_width).max(1);
    let mut rows: Vec<Vec<Span<'static>>> = vec![Vec::new()];
    let mut used = 0;
    for span in &line.spans {
        for word in split_keeping_spaces(&span.content) {
            let word_width = word.width();
            if used + word_width > room && used > 0 {
                if word.trim().is_empty() {
                    continue;
                }
                rows.push(Vec::new());
                used = 0;
            }
            if word_width <= room {
                push(&mut rows, Span::styled(word.to_owned(), span.style));
                used += word_width;
                continue;
            }
            // A word wider than the row: cut it by characters.
            let mut piece = String::new();
            for c in word.chars() {
                let w = c.width().unwrap_or(0);
                if used + w > room {
                    push(&mut rows, Span::styled(std::mem::take(&mut piece), span.style));
                    rows.push(Vec::new());
                    used = 0;
                }
                piece.push(c);
                used += w;
            }
            push(&mut rows, Span::styled(piece, span.style));
        }
    }
    rows.into_iter()
        .map(|mut spans| {
            if !indent.is_empty() {
                spans.insert(0, Span::raw(indent.to_owned()));
            }
            Line::from(spans).style(line.style)
        })
        .collect()
}

fn push(rows: &mut [Vec<Span<'static>>], span: Span<'static>) {
    if let Some(row) = rows.last_mut()
        && !span.content.is_empty()
    {
        row.push(span);
    }
}

/// `text` as words and the runs of spaces between them, in order.
fn split_keeping_spaces(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut in_space = None;
    for (i, c) in text.char_indices() {
        let space = c == ' ';
        if in_space.is_some_and(|was| was != space) {
            parts.push(&text[start..i]);
            start = i;
        }
        in_space = Some(space);
    }
    if start < text.len() {
        parts.push(&text[start..]);
    }
    parts
}

/// Display width of `text`, in columns.
pub fn width(text: &str) -> usize {
    text.width()
}

/// `text` cut to `max` columns, with `…` if it was cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.width() <= max {
        return text.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > max {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(lines: &[Line<'_>]) -> Vec<String> {
        lines.iter().map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect()).collect()
    }

    #[test]
    fn long_lines_break_at_spaces_and_overlong_words_by_characters() {
        let line = Line::from(vec![Span::raw("hello wide "), Span::raw("world abcdefghij")]);
        assert_eq!(texts(&wrap(&line, 8, "  ")), ["  hello ", "  wide ", "  world ", "  abcdef", "  ghij"]);
    }

    #[test]
    fn wide_characters_count_two_columns_and_truncation_marks_the_cut() {
        let line = Line::from("世界世界世界");
        assert_eq!(texts(&wrap(&line, 4, "")), ["世界", "世界", "世界"]);
        assert_eq!(truncate("general-discussion", 8), "general…");
        assert_eq!(truncate("short", 8), "short");
    }
}
