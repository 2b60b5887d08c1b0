//! Which links of a message body get a preview: the first `MAX_LINKS` distinct http(s)
//! URLs, except those written in angle brackets (`<https://…>`), the per-link opt-out.

use reqwest::Url;

/// Links unfurled per message at most.
pub const MAX_LINKS: usize = 3;

/// Characters that end a bare URL in text.
fn ends_url(c: char) -> bool {
    c.is_whitespace() || matches!(c, '<' | '>' | '"' | '`')
}

/// The links of `body` to preview, in order of appearance, without duplicates.
#[must_use]
pub fn links(body: &str) -> Vec<Url> {
    let mut found: Vec<Url> = Vec::new();
    let mut rest = body;
    let mut offset = 0;
    while found.len() < MAX_LINKS {
        let Some(start) = ["https://", "http://"].iter().filter_map(|scheme| find_ci(rest, scheme)).min() else {
            break;
        };
        let absolute = offset + start;
        let tail = &body[absolute..];
        let len = tail.find(ends_url).unwrap_or(tail.len());
        let candidate = tail[..len].trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '\'', '*', '_']);
        let in_brackets = body[..absolute].ends_with('<');
        if !in_brackets
            && let Ok(url) = Url::parse(candidate)
            && url.host_str().is_some()
            && !found.contains(&url)
        {
            found.push(url);
        }
        offset = absolute + len.max(1);
        rest = &body[offset..];
    }
    found
}

/// The byte position of `needle` (ASCII) in `haystack`, ignoring ASCII case.
fn find_ci(haystack: &str, needle: &str) -> Option<usize> {
    haystack.as_bytes().windows(needle.len()).position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(body: &str) -> Vec<String> {
        links(body).into_iter().map(String::from).collect()
    }

    #[test]
    fn links_are_found_in_order_trimmed_of_trailing_punctuation() {
        assert_eq!(
            strings("see https://a.example/x, and (http://b.example/y). Also [c](https://c.example/z)!"),
            ["https://a.example/x", "http://b.example/y", "https://c.example/z"]
        );
    }

    #[test]
    fn a_link_in_angle_brackets_is_skipped() {
        assert_eq!(strings("quiet <https://a.example/> but https://b.example/ loud"), ["https://b.example/"]);
        assert!(strings("<https://a.example/page>").is_empty());
    }

    #[test]
    fn at_most_three_distinct_links_are_taken() {
        let body = "https://a.example/ https://a.example/ https://b.example/ https://c.example/ https://d.example/";
        assert_eq!(strings(body), ["https://a.example/", "https://b.example/", "https://c.example/"]);
    }

    #[test]
    fn text_without_http_links_has_none() {
        assert!(strings("ftp://a.example/ mailto:x@y.example https:// plain words").is_empty());
    }
}
