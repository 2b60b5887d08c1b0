//! Message Markdown for the terminal: on a TTY, comrak's tree printed with terminal styles
//! (bold, italic, strikethrough, code, quotes with a bar, lists, links as their text plus
//! the URL); piped, the body exactly as written. Either way every character from the server
//! goes through `escape` first, and styles are added only around escaped text. Pure.

use std::fmt::Write as _;

use comrak::nodes::{AstNode, ListType, NodeValue};

use crate::escape;

const BOLD: &str = "\u{1b}[1m";
const DIM: &str = "\u{1b}[2m";
const ITALIC: &str = "\u{1b}[3m";
const UNDERLINE: &str = "\u{1b}[4m";
const STRIKE: &str = "\u{1b}[9m";
const CODE: &str = "\u{1b}[36m";
const RESET: &str = "\u{1b}[0m";

fn options() -> comrak::Options<'static> {
    let mut options = comrak::Options::default();
    options.extension.autolink = true;
    options.extension.strikethrough = true;
    options.extension.spoiler = true;
    options.extension.shortcodes = true;
    options
}

/// Whether output gets terminal styles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// A TTY: styles on.
    Terminal,
    /// Piped or redirected: no escape sequences at all.
    Plain,
}

impl Style {
    /// Wraps already-escaped `text` in `code` on a terminal.
    #[must_use]
    pub fn paint(self, code: &str, text: &str) -> String {
        match self {
            Self::Terminal => format!("{code}{text}{RESET}"),
            Self::Plain => text.to_owned(),
        }
    }

    #[must_use]
    pub fn bold(self, text: &str) -> String {
        self.paint(BOLD, text)
    }

    #[must_use]
    pub fn dim(self, text: &str) -> String {
        self.paint(DIM, text)
    }
}

/// A reaction's emoji as a terminal shows it: a `:shortcode:` as its emoji (the same table
/// as bodies), anything else as sent; escaped either way. For the one-shots on a TTY and
/// for the TUI.
#[must_use]
pub fn emoji(emoji: &str) -> String {
    let arena = comrak::Arena::new();
    let root = comrak::parse_document(&arena, emoji.trim(), &options());
    let code = root.descendants().find_map(|node| match &node.data.borrow().value {
        NodeValue::ShortCode(code) if code.code == emoji.trim().trim_matches(':') => Some(code.emoji.clone()),
        _ => None,
    });
    escape::line(code.as_deref().unwrap_or(emoji)).into_owned()
}

const REVERSE: &str = "\u{1b}[7m";

/// A search snippet (HTML-escaped text, hits in `<mark>`) for the terminal: hits in
/// reverse video on a TTY, the plain text when piped.
#[must_use]
pub fn snippet(html: &str, style: Style) -> String {
    let mut out = String::new();
    for (text, hit) in snippet_parts(html) {
        if hit {
            out.push_str(&style.paint(REVERSE, &text));
        } else {
            out.push_str(&text);
        }
    }
    out
}

/// A search snippet's pieces in order, as inert text, each with whether it is a hit: the
/// one reading of snippets, painted by `snippet` here and by the TUI's search view.
#[must_use]
pub fn snippet_parts(html: &str) -> Vec<(String, bool)> {
    let mut parts = Vec::new();
    for (i, piece) in html.split("<mark>").enumerate() {
        let (hit, rest) = if i == 0 { ("", piece) } else { piece.split_once("</mark>").unwrap_or((piece, "")) };
        for (text, is_hit) in [(hit, true), (rest, false)] {
            if !text.is_empty() {
                parts.push((escape::line(&unescape_html(text)).into_owned(), is_hit));
            }
        }
    }
    parts
}

/// The text of HTML-escaped text (the five escapes the server writes).
fn unescape_html(text: &str) -> String {
    text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&")
}

/// A message body for the terminal (no trailing newline).
#[must_use]
pub fn markdown(body_md: &str, style: Style) -> String {
    if style == Style::Plain {
        return escape::text(body_md).into_owned();
    }
    let arena = comrak::Arena::new();
    let root = comrak::parse_document(&arena, body_md, &options());
    let mut printer = Printer { out: String::new(), styles: Vec::new(), quote: 0 };
    printer.block_children(root, true);
    printer.out.trim_end_matches('\n').to_owned()
}

struct Printer {
    out: String,
    /// The styles open at this point, re-applied after a reset.
    styles: Vec<&'static str>,
    /// How many quotes deep: each line starts with that many bars.
    quote: usize,
}

impl Printer {
    fn text(&mut self, text: &str) {
        let mut first = true;
        for piece in text.split('\n') {
            if !first {
                self.newline();
            }
            first = false;
            self.out.push_str(&escape::line(piece));
        }
    }

    fn newline(&mut self) {
        self.out.push('\n');
        self.bars();
    }

    fn bars(&mut self) {
        for _ in 0..self.quote {
            let _ = write!(self.out, "{DIM}│{RESET} ");
            for style in &self.styles {
                self.out.push_str(style);
            }
        }
    }

    fn styled<'a>(&mut self, style: &'static str, node: &'a AstNode<'a>) {
        self.styles.push(style);
        self.out.push_str(style);
        self.inline_children(node);
        self.styles.pop();
        self.out.push_str(RESET);
        for style in &self.styles {
            self.out.push_str(style);
        }
    }

    /// The blocks under `node`, a blank line between paragraphs (`spaced`) or none (a
    /// list item's).
    fn block_children<'a>(&mut self, node: &'a AstNode<'a>, spaced: bool) {
        let mut first = true;
        for child in node.children() {
            if !first {
                self.newline();
                if spaced {
                    self.newline();
                }
            }
            first = false;
            self.block(child);
        }
    }

    fn block<'a>(&mut self, node: &'a AstNode<'a>) {
        let value = node.data().value.clone();
        match value {
            NodeValue::BlockQuote | NodeValue::MultilineBlockQuote(_) => {
                self.quote += 1;
                self.bars();
                self.block_children(node, true);
                self.quote -= 1;
            }
            NodeValue::List(list) => {
                let mut number = list.start;
                let mut first = true;
                for item in node.children() {
                    if !first {
                        self.newline();
                    }
                    first = false;
                    match list.list_type {
                        ListType::Bullet => self.out.push_str("• "),
                        ListType::Ordered => {
                            let _ = write!(self.out, "{number}. ");
                            number += 1;
                        }
                    }
                    self.block_children(item, false);
                }
            }
            NodeValue::CodeBlock(code) => {
                let literal = code.literal.trim_end_matches('\n');
                let mut first = true;
                for line in literal.split('\n') {
                    if !first {
                        self.newline();
                    }
                    first = false;
                    let _ = write!(self.out, "{CODE}  {}{RESET}", escape::line(line));
                }
            }
            NodeValue::Heading(_) => self.styled(BOLD, node),
            NodeValue::ThematicBreak => self.out.push_str("───"),
            NodeValue::HtmlBlock(html) => self.text(html.literal.trim_end_matches('\n')),
            _ => self.inline_children(node),
        }
    }

    fn inline_children<'a>(&mut self, node: &'a AstNode<'a>) {
        for child in node.children() {
            self.inline(child);
        }
    }

    fn inline<'a>(&mut self, node: &'a AstNode<'a>) {
        let value = node.data().value.clone();
        match value {
            NodeValue::Text(text) => self.text(&text),
            NodeValue::Code(code) => {
                let _ = write!(self.out, "{CODE}{}{RESET}", escape::line(&code.literal));
                for style in &self.styles {
                    self.out.push_str(style);
                }
            }
            NodeValue::SoftBreak | NodeValue::LineBreak => self.newline(),
            NodeValue::Strong => self.styled(BOLD, node),
            NodeValue::Emph => self.styled(ITALIC, node),
            NodeValue::Strikethrough => self.styled(STRIKE, node),
            NodeValue::SpoileredText => self.styled(DIM, node),
            NodeValue::Link(link) | NodeValue::Image(link) => {
                let mut label = String::new();
                collect_text(node, &mut label);
                self.styled(UNDERLINE, node);
                if label != link.url && label != link.url.trim_start_matches("mailto:") {
                    let _ = write!(self.out, " <{}>", escape::line(&link.url));
                }
            }
            NodeValue::ShortCode(code) => self.out.push_str(&escape::line(&code.emoji)),
            NodeValue::HtmlInline(html) | NodeValue::Raw(html) => self.text(&html),
            NodeValue::Paragraph | NodeValue::Heading(_) => self.inline_children(node),
            _ => self.block(node),
        }
    }
}

/// The plain text under `node`.
fn collect_text<'a>(node: &'a AstNode<'a>, out: &mut String) {
    for child in node.children() {
        match &child.data().value {
            NodeValue::Text(text) => out.push_str(text),
            NodeValue::Code(code) => out.push_str(&code.literal),
            _ => collect_text(child, out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(body: &str) -> String {
        markdown(body, Style::Terminal)
    }

    #[test]
    fn emphasis_and_code_get_terminal_styles() {
        assert_eq!(shown("**bold** and *it*"), format!("{BOLD}bold{RESET} and {ITALIC}it{RESET}"));
        assert_eq!(shown("run `ls -l`"), format!("run {CODE}ls -l{RESET}"));
        assert_eq!(shown("~~gone~~"), format!("{STRIKE}gone{RESET}"));
        assert_eq!(shown("***both***"), format!("{ITALIC}{BOLD}both{RESET}{ITALIC}{RESET}"));
    }

    #[test]
    fn links_show_their_text_and_their_url() {
        assert_eq!(
            shown("see [the docs](https://example.com/d)"),
            format!("see {UNDERLINE}the docs{RESET} <https://example.com/d>")
        );
        assert_eq!(shown("https://example.com"), format!("{UNDERLINE}https://example.com{RESET}"));
    }

    #[test]
    fn quotes_lists_and_code_blocks_keep_their_shape() {
        assert_eq!(shown("> quoted\n> twice"), format!("{DIM}│{RESET} quoted\n{DIM}│{RESET} twice"));
        assert_eq!(shown("- a\n- b"), "• a\n• b");
        assert_eq!(shown("3. x\n4. y"), "3. x\n4. y");
        assert_eq!(shown("```\nfn f() {}\n```"), format!("{CODE}  fn f() {{}}{RESET}"));
        assert_eq!(shown("one\n\ntwo"), "one\n\ntwo");
        assert_eq!(shown(":tada:"), "🎉");
    }

    #[test]
    fn escape_sequences_in_a_body_are_printed_inert_styled_or_plain() {
        let body = "hi \u{1b}[31mred\u{1b}]0;title\u{7} `\u{1b}[2J` [x\u{1b}c](https://e.com/\u{9b})";
        for style in [Style::Terminal, Style::Plain] {
            let out = markdown(body, style);
            assert!(!out.contains("\u{1b}[31m") && !out.contains("\u{1b}]") && !out.contains('\u{7}'), "{out:?}");
            assert!(!out.contains("\u{1b}c") && !out.contains('\u{9b}') && !out.contains("\u{1b}[2J"), "{out:?}");
            assert!(out.contains("\\x1b[31mred"), "{out:?}");
        }
    }

    #[test]
    fn reaction_shortcodes_become_their_emoji_and_anything_else_stays_as_sent_escaped() {
        assert_eq!(emoji(":tada:"), "🎉");
        assert_eq!(emoji("🎉"), "🎉");
        assert_eq!(emoji(":no_such_code:"), ":no_such_code:");
        assert_eq!(emoji(":tada: and more"), ":tada: and more");
        assert_eq!(emoji("\u{1b}[2J"), "\\x1b[2J");
    }

    #[test]
    fn search_snippets_show_their_hits_and_their_text_unescaped() {
        let html = "…the &lt;b&gt; <mark>rocket</mark> &amp; <mark>fuel</mark>&#39;s\u{1b}[2J";
        assert_eq!(
            snippet(html, Style::Terminal),
            format!("…the <b> {REVERSE}rocket{RESET} & {REVERSE}fuel{RESET}'s\\x1b[2J")
        );
        assert_eq!(snippet(html, Style::Plain), "…the <b> rocket & fuel's\\x1b[2J");
        assert_eq!(snippet("&amp;lt;", Style::Plain), "&lt;", "unescaped once");
    }

    #[test]
    fn piped_output_is_the_body_as_written() {
        assert_eq!(markdown("**bold** `x`\n> q", Style::Plain), "**bold** `x`\n> q");
    }
}
