//! A page's preview: its OpenGraph and Twitter-card title, description, site name and
//! image URL (falling back to `<title>` and `<meta name="description">`), read with
//! html5ever's tokenizer. Text is cleaned of control characters and cut to a bounded
//! length; the image is kept as an absolute http(s) URL only, for a later image proxy:
//! clients must not load it directly.

use std::cell::RefCell;
use std::collections::HashMap;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts};
use reqwest::Url;

use crate::api::wire::LinkPreview as Preview;

/// Characters kept of a title or site name.
const MAX_TITLE_CHARS: usize = 200;
/// Characters kept of a description.
const MAX_DESCRIPTION_CHARS: usize = 500;

#[derive(Default)]
struct Collected {
    meta: HashMap<String, String>,
    title: Option<String>,
    in_title: bool,
}

struct Sink(RefCell<Collected>);

impl TokenSink for Sink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let mut collected = self.0.borrow_mut();
        match token {
            Token::TagToken(tag) if &*tag.name == "title" => {
                collected.in_title = tag.kind == TagKind::StartTag && !tag.self_closing;
            }
            Token::TagToken(tag) if tag.kind == TagKind::StartTag && &*tag.name == "meta" => {
                let attr = |name: &str| tag.attrs.iter().find(|a| &*a.name.local == name).map(|a| a.value.to_string());
                if let (Some(key), Some(content)) = (attr("property").or_else(|| attr("name")), attr("content")) {
                    // The first of each key wins, as for the crawlers that define these tags.
                    collected.meta.entry(key.to_ascii_lowercase()).or_insert(content);
                }
            }
            Token::CharacterTokens(text) if collected.in_title => {
                collected.title.get_or_insert_with(String::new).push_str(&text);
            }
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

/// Collapses whitespace, drops control and bidi characters, cuts to `max` characters.
fn clean(text: &str, max: usize) -> Option<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let joined: String = words
        .join(" ")
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}'))
        .collect();
    if joined.is_empty() {
        return None;
    }
    if joined.chars().count() <= max {
        return Some(joined);
    }
    let mut cut: String = joined.chars().take(max - 1).collect();
    cut.push('…');
    Some(cut)
}

/// The preview of the page at `page_url` (where it was finally served from) for the link
/// `link`, or `None` if the page names neither a title nor a description.
#[must_use]
pub fn preview(link: &Url, page_url: &Url, html: &str) -> Option<Preview> {
    let tokenizer = Tokenizer::new(Sink(RefCell::new(Collected::default())), TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    let collected = tokenizer.sink.0.into_inner();
    let first = |keys: &[&str]| keys.iter().find_map(|k| collected.meta.get(*k)).map(String::as_str);
    let title =
        first(&["og:title", "twitter:title"]).or(collected.title.as_deref()).and_then(|t| clean(t, MAX_TITLE_CHARS));
    let description =
        first(&["og:description", "twitter:description", "description"]).and_then(|d| clean(d, MAX_DESCRIPTION_CHARS));
    if title.is_none() && description.is_none() {
        return None;
    }
    let site_name = first(&["og:site_name"]).and_then(|s| clean(s, MAX_TITLE_CHARS));
    let image_url = first(&["og:image:secure_url", "og:image", "og:image:url", "twitter:image", "twitter:image:src"])
        .and_then(|src| page_url.join(src.trim()).ok())
        .filter(|url| matches!(url.scheme(), "http" | "https") && url.as_str().len() <= 2048)
        .map(String::from);
    Some(Preview { url: link.to_string(), title, description, site_name, image_url })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).expect("test URL")
    }

    #[test]
    fn opengraph_tags_make_the_preview() {
        let html = r#"<!doctype html><html><head><title>Fallback</title>
            <meta property="og:title" content="The  Title">
            <meta property="og:description" content="What it is about.">
            <meta property="og:site_name" content="Example">
            <meta property="og:image" content="/img/card.png">
            </head><body><p>text</p></body></html>"#;
        let preview = preview(&url("https://a.example/x"), &url("https://www.a.example/x/y"), html).expect("preview");
        assert_eq!(
            preview,
            Preview {
                url: "https://a.example/x".to_owned(),
                title: Some("The Title".to_owned()),
                description: Some("What it is about.".to_owned()),
                site_name: Some("Example".to_owned()),
                image_url: Some("https://www.a.example/img/card.png".to_owned()),
            }
        );
    }

    #[test]
    fn twitter_cards_and_the_title_element_are_fallbacks() {
        let html = r#"<head><title>Page &amp; title</title><meta name="twitter:description" content="Card text">
            <meta name="twitter:image" content="javascript:alert(1)"></head>"#;
        let preview = preview(&url("https://a.example/"), &url("https://a.example/"), html).expect("preview");
        assert_eq!(preview.title.as_deref(), Some("Page & title"));
        assert_eq!(preview.description.as_deref(), Some("Card text"));
        assert_eq!(preview.image_url, None, "only http(s) images are kept");
    }

    #[test]
    fn control_characters_are_dropped_and_long_text_cut() {
        let long = "word ".repeat(400);
        let html = format!(
            "<meta property=\"og:title\" content=\"evil\u{1b}[31m\u{202e}title\"><meta property=\"og:description\" content=\"{long}\">"
        );
        let preview = preview(&url("https://a.example/"), &url("https://a.example/"), &html).expect("preview");
        assert_eq!(preview.title.as_deref(), Some("evil[31mtitle"));
        let description = preview.description.expect("description");
        assert_eq!(description.chars().count(), MAX_DESCRIPTION_CHARS);
        assert!(description.ends_with('…'));
    }

    #[test]
    fn a_page_without_title_or_description_has_no_preview() {
        assert_eq!(preview(&url("https://a.example/"), &url("https://a.example/"), "<p>just text</p>"), None);
    }
}
