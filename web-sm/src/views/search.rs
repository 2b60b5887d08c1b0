//! The search overlay and quick switcher (Ctrl/Cmd+K or the header's button; Esc closes
//! it): a query box with the operators it understands; the channels and conversations
//! whose name matches come first (a jump to them), then the messages, each a link that
//! opens the message's channel (or thread) around it, highlighted. The api's snippets are HTML with
//! `<mark>` around the hits; they are sanitised again to exactly that.

use std::collections::HashSet;
use std::sync::LazyLock;

use maud::{Markup, PreEscaped, html};

/// Keeps `<mark>` and text, nothing else.
static SNIPPET: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::empty();
    builder.tags(HashSet::from(["mark"]));
    builder
});

/// Opens the overlay and focuses its box (it must be shown before it can take focus),
/// naming this opening (`qo`): its queries share one read of the switcher's directory
/// (`crate::switcher`).
pub const OPEN_SEARCH: &str =
    "$_search = true, $qo = Date.now(), setTimeout(() => document.getElementById('search-q').focus())";

/// One result as shown.
pub struct HitView<'a> {
    /// Where the hit opens: its channel's page around it (with its thread for a reply).
    pub href: String,
    /// `#general`, or "Direct message".
    pub place: String,
    pub author: &'a str,
    pub time: String,
    /// The api's snippet (HTML with `<mark>`).
    pub snippet: &'a str,
}

/// A channel or conversation whose name matches the query (the quick switcher).
pub struct PlaceView {
    /// Its page.
    pub href: String,
    /// `#general`, or a conversation's members.
    pub label: String,
    /// Its community's name, or "Direct message".
    pub detail: String,
}

/// The overlay, closed; `#search-results` is what a search patches.
#[must_use]
pub fn search_overlay() -> Markup {
    let search = "@get('/search', {filterSignals: {include: /^(q|qo)$/}})";
    html! {
        div #search .search-overlay role="dialog" aria-modal="true" aria-label="Search or jump to a channel"
            data-signals="{\"q\": \"\", \"qo\": 0, \"_search\": false}" "data-class:open"="$_search"
            "data-on:keydown"="evt.key === 'Escape' && ($_search = false)" {
            div.search-box {
                form role="search" "data-on:submit"=(search) {
                    label.visually-hidden for="search-q" { "Search messages or jump to a channel" }
                    input #search-q type="search" "data-bind:q" placeholder="Search messages or jump to a channel" autocomplete="off"
                        "data-on:input__debounce.300ms"=(search);
                }
                p.search-hints {
                    "Narrow it: " code { "from:@user" } " " code { "in:#channel" } " " code { "has:link" } " "
                    code { "is:pinned" } " " code { "before:2026-01-31" } " " code { "\"a phrase\"" } " " code { "-word" }
                }
                (search_results(None, &[], &[]))
                button.quiet type="button" "data-on:click"="$_search = false" { "Close" }
            }
        }
    }
}

/// The results (none before a search; `error` says why a search was refused): the
/// matching places first, then the messages.
#[must_use]
pub fn search_results(error: Option<&str>, places: &[PlaceView], hits: &[HitView<'_>]) -> Markup {
    html! {
        ol #search-results .search-results aria-live="polite" aria-label="Search results" {
            @if let Some(error) = error {
                li.search-error role="alert" { (error) }
            }
            @for place in places {
                li.place {
                    a href=(place.href) {
                        span.where { (place.label) } " "
                        span.author { (place.detail) }
                    }
                }
            }
            @for hit in hits {
                li {
                    a href=(hit.href) {
                        span.where { (hit.place) } " "
                        span.author { (hit.author) } " "
                        time { (hit.time) }
                        div.snippet { (PreEscaped(SNIPPET.clean(hit.snippet).to_string())) }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_link_to_their_place_and_keep_only_the_marks_of_a_snippet() {
        let hit = HitView {
            href: "/c/acme/general?around=1".into(),
            place: "#general".into(),
            author: "<b>bob</b>",
            time: "2026-11-26 02:00".into(),
            snippet: "say <mark>hello</mark> <script>x</script><img src=x onerror=alert(1)>",
        };
        let html = search_results(None, &[], std::slice::from_ref(&hit)).into_string();
        assert!(html.contains("<a href=\"/c/acme/general?around=1\"><span class=\"where\">#general</span>"), "{html}");
        assert!(html.contains("<span class=\"author\">&lt;b&gt;bob&lt;/b&gt;</span>"), "{html}");
        assert!(html.contains("<div class=\"snippet\">say <mark>hello</mark> </div>"), "{html}");
        let refused = search_results(Some("in: <no such channel>"), &[], &[]).into_string();
        assert!(refused.contains("<li class=\"search-error\" role=\"alert\">in: &lt;no such channel&gt;</li>"));
    }

    #[test]
    fn matching_places_come_first_as_jumps_with_their_names_as_text() {
        let place = PlaceView {
            href: "/c/acme/random".into(),
            label: "#random".into(),
            detail: "Acme <img src=x onerror=alert(1)>".into(),
        };
        let hit = HitView {
            href: "/c/acme/general?around=1".into(),
            place: "#general".into(),
            author: "bob",
            time: "2026-11-26 02:00".into(),
            snippet: "random thoughts",
        };
        let html = search_results(None, std::slice::from_ref(&place), std::slice::from_ref(&hit)).into_string();
        assert!(
            html.contains("<li class=\"place\"><a href=\"/c/acme/random\"><span class=\"where\">#random</span>"),
            "{html}"
        );
        assert!(html.contains("Acme &lt;img src=x onerror=alert(1)&gt;"), "{html}");
        assert!(html.find("/c/acme/random") < html.find("around=1"), "places before messages: {html}");
    }

    #[test]
    fn the_overlay_searches_as_one_types_with_only_its_query_and_opening() {
        let html = search_overlay().into_string();
        assert!(
            html.contains("data-on:input__debounce.300ms=\"@get('/search', {filterSignals: {include: /^(q|qo)$/}})\"")
        );
        assert!(html.contains("data-class:open=\"$_search\""));
        assert!(html.contains("<code>from:@user</code>"));
    }
}
