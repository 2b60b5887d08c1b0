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

/// Text in parts (each with whether it is a search hit) fitted to one row of `max`
/// columns: when too wide, cut at the end with `…`, and also at the start (`…` there too)
/// when the first hit would begin past the row's first third, so the hit stays in view.
pub fn fit_parts(parts: &[(String, bool)], max: usize) -> Vec<(String, bool)> {
    let total: usize = parts.iter().map(|(text, _)| text.width()).sum();
    if total <= max {
        return parts.to_vec();
    }
    let lead = max / 3;
    let hit_at: usize = parts.iter().take_while(|(_, hit)| !hit).map(|(text, _)| text.width()).sum();
    // Columns to leave out before the hit: it then starts at `lead`, after a `…`.
    let drop = if lead >= 2 && hit_at > lead && hit_at < total { hit_at - (lead - 1) } else { 0 };
    let mut front = Vec::new();
    if drop > 0 {
        front.push(("…".to_owned(), false));
    }
    let mut skipped = 0;
    for (text, hit) in parts {
        let kept: String = text
            .chars()
            .filter(|c| {
                let keep = skipped >= drop;
                if !keep {
                    skipped += c.width().unwrap_or(0);
                }
                keep
            })
            .collect();
        if !kept.is_empty() {
            front.push((kept, *hit));
        }
    }
    let mut out = Vec::new();
    let mut used = 0;
    let front_width: usize = front.iter().map(|(text, _)| text.width()).sum();
    if front_width <= max {
        return front;
    }
    for (text, hit) in front {
        let mut piece = String::new();
        for c in text.chars() {
            let w = c.width().unwrap_or(0);
            if used + w + 1 > max {
                if !piece.is_empty() {
                    out.push((piece, hit));
                }
                if max > 0 {
                    out.push(("…".to_owned(), false));
                }
                return out;
            }
            piece.push(c);
            used += w;
        }
        out.push((piece, hit));
    }
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

    fn parts(raw: &[(&str, bool)]) -> Vec<(String, bool)> {
        raw.iter().map(|(text, hit)| ((*text).to_owned(), *hit)).collect()
    }

    #[test]
    fn a_long_snippet_fits_its_row_with_the_hit_in_view() {
        let short = parts(&[("see the ", false), ("docs", true)]);
        assert_eq!(fit_parts(&short, 40), short, "what fits stays as it is");
        let long =
            parts(&[("a long run of words before ", false), ("needle", true), (" and after it comes more", false)]);
        let fitted = fit_parts(&long, 30);
        let expected = [("…", false), ("s before ", false), ("needle", true), (" and after it", false), ("…", false)];
        assert_eq!(fitted, parts(&expected), "the hit starts a third in");
        let width: usize = fitted.iter().map(|(text, _)| text.width()).sum();
        assert_eq!(width, 30, "exactly the row");
        let early = parts(&[("a ", false), ("needle", true), (" then a great many more words", false)]);
        assert_eq!(fit_parts(&early, 12), parts(&[("a ", false), ("needle", true), (" th", false), ("…", false)]));
        // Wide characters count two columns and are never split.
        let wide = parts(&[("世界世界", false), ("針", true), ("世界世界世界", false)]);
        let fitted = fit_parts(&wide, 9);
        let width: usize = fitted.iter().map(|(text, _)| text.width()).sum();
        assert!(width <= 9 && fitted.iter().any(|(text, hit)| *hit && text == "針"), "{fitted:?}");
        for max in 0..12 {
            let width: usize = fit_parts(&long, max).iter().map(|(text, _)| text.width()).sum();
            assert!(width <= max, "{max}: {width}");
        }
    }
}
