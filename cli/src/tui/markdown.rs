//! Message Markdown as terminal text: **bold**, *italic*, `code`, ~~strike~~, code blocks,
//! quotes, headings and lists as styles and prefixes, and links as their text followed by
//! the URL (a terminal cannot hide a link target, and the reader should see where it goes).
//! The input is made inert first (`crate::escape`, as the one-shots do; tabs then become a
//! space, since the layout counts columns), so nothing in a body reaches the terminal raw.

use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::theme::Theme;

/// `body` as one `Line` per source line (not yet wrapped to a width).
pub fn render(body: &str, theme: &Theme) -> Vec<Line<'static>> {
    let body = crate::escape::text(body).replace('\t', " ");
    let mut lines = Vec::new();
    let mut in_code_block = false;
    for raw in body.lines() {
        let trimmed = raw.trim_start();
        if trimmed.starts_with("```") {
            in_code_block = !in_code_block;
            continue;
        }
        if in_code_block {
            lines.push(Line::from(Span::styled(format!("  {raw}"), theme.code)));
            continue;
        }
        if let Some(quoted) = trimmed.strip_prefix('>') {
            let mut spans = vec![Span::styled("│ ", theme.dim)];
            spans.extend(inline(quoted.strip_prefix(' ').unwrap_or(quoted), theme, theme.quote));
            lines.push(Line::from(spans));
        } else if let Some(heading) = heading(trimmed) {
            lines.push(Line::from(inline(heading, theme, Style::new().add_modifier(Modifier::BOLD))));
        } else if let Some(item) = trimmed.strip_prefix("- ").or_else(|| trimmed.strip_prefix("* ")) {
            let indent = " ".repeat(raw.len() - trimmed.len());
            let mut spans = vec![Span::raw(format!("{indent}• "))];
            spans.extend(inline(item, theme, Style::new()));
            lines.push(Line::from(spans));
        } else {
            lines.push(Line::from(inline(raw, theme, Style::new())));
        }
    }
    if lines.is_empty() {
        lines.push(Line::default());
    }
    lines
}

fn heading(line: &str) -> Option<&str> {
    let rest = line.trim_start_matches('#');
    let level = line.len() - rest.len();
    ((1..=6).contains(&level) && rest.starts_with(' ')).then(|| rest.trim_start())
}

/// The inline spans of one line, on top of `base`.
fn inline(text: &str, theme: &Theme, base: Style) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    let mut plain = String::new();
    let mut bold = false;
    let mut italic = false;
    let mut strike = false;
    let style = |bold: bool, italic: bool, strike: bool| {
        let mut style = base;
        if bold {
            style = style.add_modifier(Modifier::BOLD);
        }
        if italic {
            style = style.add_modifier(Modifier::ITALIC);
        }
        if strike {
            style = style.add_modifier(Modifier::CROSSED_OUT);
        }
        style
    };
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    macro_rules! flush {
        () => {
            if !plain.is_empty() {
                spans.push(Span::styled(std::mem::take(&mut plain), style(bold, italic, strike)));
            }
        };
    }
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let rest: String = chars[i..].iter().collect();
        if c == '\\' && next.is_some_and(|n| "*_`~[]\\".contains(n)) {
            plain.push(chars[i + 1]);
            i += 2;
        } else if c == '`' {
            if let Some(len) = chars[i + 1..].iter().position(|&n| n == '`') {
                flush!();
                let code: String = chars[i + 1..i + 1 + len].iter().collect();
                spans.push(Span::styled(code, theme.code));
                i += len + 2;
            } else {
                plain.push(c);
                i += 1;
            }
        } else if (c == '*' || c == '_') && next == Some(c) && (bold || closes_pair(&chars[i + 2..], c)) {
            flush!();
            bold = !bold;
            i += 2;
        } else if c == '~' && next == Some('~') && (strike || closes_pair(&chars[i + 2..], '~')) {
            flush!();
            strike = !strike;
            i += 2;
        } else if matches!(c, '*' | '_' | '~') && next == Some(c) {
            // A doubled marker that opens nothing is text.
            plain.push(c);
            plain.push(c);
            i += 2;
        } else if (c == '*' || c == '_') && (italic || closes(&chars[i + 1..], c)) && !mid_word(&chars, i, c) {
            flush!();
            italic = !italic;
            i += 1;
        } else if c == '[' {
            if let Some((label, url, used)) = link(&chars[i..]) {
                flush!();
                spans.push(Span::styled(label.clone(), style(bold, italic, strike).patch(theme.link)));
                if label != url {
                    spans.push(Span::styled(format!(" ({url})"), theme.dim));
                }
                i += used;
            } else {
                plain.push(c);
                i += 1;
            }
        } else if rest.starts_with("https://") || rest.starts_with("http://") {
            flush!();
            let len = chars[i..].iter().position(|c| c.is_whitespace() || *c == '>').unwrap_or(chars.len() - i);
            let url: String = chars[i..i + len].iter().collect();
            spans.push(Span::styled(url, theme.link));
            i += len;
        } else {
            plain.push(c);
            i += 1;
        }
    }
    flush!();
    spans
}

/// Whether a single `marker` opening at the start of `rest` is closed later on the line.
fn closes(rest: &[char], marker: char) -> bool {
    rest.first().is_some_and(|c| !c.is_whitespace()) && rest.iter().skip(1).any(|&c| c == marker)
}

/// Whether a doubled `marker` opening at the start of `rest` is closed later on the line.
fn closes_pair(rest: &[char], marker: char) -> bool {
    rest.first().is_some_and(|c| !c.is_whitespace()) && rest.windows(2).any(|pair| pair == [marker, marker])
}

/// `_` inside a word (snake_case) is not emphasis.
fn mid_word(chars: &[char], i: usize, marker: char) -> bool {
    marker == '_' && i > 0 && chars[i - 1].is_alphanumeric() && chars.get(i + 1).is_some_and(|c| c.is_alphanumeric())
}

/// `[label](url)` at the start of `chars`: the label, the URL and how many chars it used.
fn link(chars: &[char]) -> Option<(String, String, usize)> {
    let close = chars.iter().position(|&c| c == ']')?;
    if chars.get(close + 1) != Some(&'(') {
        return None;
    }
    let end = chars[close + 2..].iter().position(|&c| c == ')')? + close + 2;
    let label: String = chars[1..close].iter().collect();
    let url: String = chars[close + 2..end].iter().collect();
    Some((label, url, end + 1))
}

/// The text of `lines` without styles (what tests and plain output compare).
#[cfg(test)]
pub fn plain(lines: &[Line<'_>]) -> Vec<String> {
    lines.iter().map(|line| line.spans.iter().map(|span| span.content.as_ref()).collect()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn styles_of<'a>(lines: &'a [Line<'a>], text: &str) -> Style {
        lines
            .iter()
            .flat_map(|line| line.spans.iter())
            .find(|span| span.content == text)
            .map(|span| span.style)
            .unwrap_or_else(|| panic!("no span {text:?} in {lines:?}"))
    }

    #[test]
    fn emphasis_code_and_strike_become_styles_without_their_markers() {
        let theme = Theme::plain();
        let lines = render("a **bold** and *it* or _it2_ with `x*y` and ~~gone~~", &theme);
        assert_eq!(plain(&lines), ["a bold and it or it2 with x*y and gone"]);
        assert!(styles_of(&lines, "bold").add_modifier.contains(Modifier::BOLD));
        assert!(styles_of(&lines, "it").add_modifier.contains(Modifier::ITALIC));
        assert!(styles_of(&lines, "it2").add_modifier.contains(Modifier::ITALIC));
        assert!(styles_of(&lines, "gone").add_modifier.contains(Modifier::CROSSED_OUT));
    }

    #[test]
    fn markers_without_a_partner_stay_as_typed() {
        let theme = Theme::plain();
        let lines = render("2 ** 3 and a * b and ~~ alone and **open", &theme);
        assert_eq!(plain(&lines), ["2 ** 3 and a * b and ~~ alone and **open"]);
        assert!(lines[0].spans.iter().all(|span| span.style.add_modifier.is_empty()), "{lines:?}");
    }

    #[test]
    fn links_show_their_text_and_then_the_url() {
        let theme = Theme::plain();
        let lines = render("see [the docs](https://example.com/d) or https://x.org/a_b", &theme);
        assert_eq!(plain(&lines), ["see the docs (https://example.com/d) or https://x.org/a_b"]);
    }

    #[test]
    fn quotes_lists_headings_and_code_blocks_get_prefixes() {
        let theme = Theme::plain();
        let lines = render("# Title\n> quoted *x*\n- item\n```\nlet a = 1;\n```\nsnake_case_name", &theme);
        assert_eq!(plain(&lines), ["Title", "│ quoted x", "• item", "  let a = 1;", "snake_case_name"]);
    }

    #[test]
    fn broken_markup_renders_without_panicking_or_control_characters() {
        let theme = Theme::plain();
        let nasty = [
            "",
            "[",
            "[a](",
            "[a]",
            "](",
            "`",
            "``",
            "```",
            "```\n",
            "\\",
            "\\*",
            "*",
            "**",
            "_",
            "__",
            "~~",
            "***x***",
            "*_x_*",
            "> ",
            ">",
            "#",
            "# ",
            "- ",
            "e\u{301}\u{301}",
            "\u{1b}[",
            "\r\n\r",
            "\u{0}",
            "https://",
            "http://x\u{7}y",
            "[\u{1b}](\u{9b})",
            "👍🏽 世界 \u{200d}",
        ];
        for text in nasty {
            for line in plain(&render(text, &theme)) {
                assert!(!line.chars().any(char::is_control), "{text:?} gave {line:?}");
            }
        }
    }

    #[test]
    fn escape_sequences_in_a_body_are_inert() {
        let theme = Theme::plain();
        let lines = render("evil \u{1b}]0;title\u{7} **x**", &theme);
        assert_eq!(plain(&lines), ["evil \\x1b]0;title\\x07 x"]);
    }
}
