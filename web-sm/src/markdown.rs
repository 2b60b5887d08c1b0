//! Message Markdown to safe HTML: comrak renders CommonMark with GitHub's extensions
//! (autolinks, strikethrough, tables), spoilers and emoji shortcodes, with raw HTML escaped;
//! ammonia then keeps only harmless tags and attributes, only `http`, `https` and `mailto`
//! links (anything else, `javascript:` or `data:`, loses its URL), and gives every link
//! `rel="noopener noreferrer nofollow"`. Pure: no I/O.

use std::collections::HashSet;
use std::sync::LazyLock;

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::default();
    builder
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .link_rel(Some("noopener noreferrer nofollow"))
        .url_relative(ammonia::UrlRelative::Deny)
        .add_allowed_classes("span", &["spoiler"])
        .add_tag_attributes("span", &["tabindex"]);
    builder
});

fn options() -> comrak::Options<'static> {
    let mut options = comrak::Options::default();
    options.extension.autolink = true;
    options.extension.strikethrough = true;
    options.extension.table = true;
    options.extension.spoiler = true;
    options.extension.shortcodes = true;
    // Raw HTML in a message is text, shown as typed (ammonia would drop it anyway).
    options.render.escape = true;
    options
}

/// The HTML of a message body.
#[must_use]
pub fn render(body_md: &str) -> String {
    let html = comrak::markdown_to_html(body_md, &options());
    SANITIZER.clean(&html).to_string()
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn markdown_becomes_html() {
        assert_eq!(render("**bold** and `code`"), "<p><strong>bold</strong> and <code>code</code></p>\n");
        assert_eq!(render(":tada:"), "<p>🎉</p>\n");
        assert!(render("```\nfn main() {}\n```").contains("<pre><code>fn main() {}\n</code></pre>"));
        assert!(render("> quoted").contains("<blockquote>"));
    }

    #[test]
    fn links_get_rel_and_only_web_and_mail_schemes_survive() {
        let html = render("see https://example.com/x?a=1&b=2");
        assert!(
            html.contains(r#"<a href="https://example.com/x?a=1&amp;b=2" rel="noopener noreferrer nofollow">"#),
            "{html}"
        );
        assert!(render("[m](mailto:a@example.com)").contains(r#"href="mailto:a@example.com""#));
        for hostile in [
            "[x](javascript:alert(1))",
            "[x](JaVaScRiPt:alert(1))",
            "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
            "[x](vbscript:msgbox(1))",
            "![x](javascript:alert(1))",
            "[x](/relative)",
        ] {
            let html = render(hostile);
            assert!(!html.contains("href=\"javascript") && !html.contains("src=\"javascript"), "{hostile}: {html}");
            assert!(!html.to_lowercase().contains("javascript:alert") || !html.contains("href"), "{hostile}: {html}");
            assert!(!html.contains("data:text"), "{hostile}: {html}");
            assert!(!html.contains("/relative\""), "{hostile}: {html}");
        }
    }

    /// The markup tags of `html` (what follows each `<` up to its `>`).
    fn tags(html: &str) -> Vec<&str> {
        html.split('<').skip(1).map(|rest| rest.split_once('>').map_or(rest, |(tag, _)| tag)).collect()
    }

    #[test]
    fn raw_html_is_shown_as_text_never_as_markup() {
        for hostile in [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<svg onload=alert(1)>",
            "<iframe src=https://evil.example></iframe>",
            "[x](https://a.example \"\" onmouseover=\"alert(1))",
            "![x\" onerror=\"alert(1)](https://a.example/i.png)",
        ] {
            let html = render(hostile);
            for tag in tags(&html) {
                let name = tag.trim_start_matches('/').split([' ', '>']).next().unwrap_or_default();
                assert!(
                    ["p", "a", "img", "code", "pre", "em", "strong"].contains(&name),
                    "{hostile}: <{tag} in {html}"
                );
                // Attribute names: what is outside the quoted values.
                let names: String = tag.split('"').step_by(2).collect();
                assert!(!names.contains(" on"), "{hostile}: <{tag} in {html}");
                assert!(!tag.contains("javascript:"), "{hostile}: <{tag} in {html}");
            }
        }
        assert_eq!(render("<b>hi</b>"), "<p>&lt;b&gt;hi&lt;/b&gt;</p>\n");
    }

    #[test]
    fn spoilers_keep_their_class() {
        assert!(render("||secret||").contains(r#"<span class="spoiler">secret</span>"#), "{}", render("||secret||"));
    }
}
