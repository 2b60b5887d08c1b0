//! Pages outside the app shell: the first-community bootstrap and errors.

use maud::{Markup, html};

use super::document;

/// Shown to a signed-in user who belongs to no community: create one (the first person on
/// a fresh install becomes its owner; everyone else joins by invite).
#[must_use]
pub fn bootstrap_page(username: &str, error: Option<&str>) -> Markup {
    let body = html! {
        main.page {
            h1 { "Create your community" }
            p { "Welcome, " strong { (username) } ". You are not in any community yet: create one, and invite people to it. "
                "If you were invited, open the invite link instead." }
            @if let Some(error) = error { p.notice role="alert" { (error) } }
            form method="post" action="/communities" {
                label { "Name" input name="name" required maxlength="100" placeholder="Acme"; }
                label { "URL name (lowercase letters, digits, dashes)"
                    input name="slug" required pattern="[a-z0-9][a-z0-9-]{1,39}" placeholder="acme"; }
                button type="submit" { "Create community" }
            }
        }
    };
    document("Create your community", &body)
}

/// An error page with a way back.
#[must_use]
pub fn error_page(title: &str, message: &str) -> Markup {
    let body = html! {
        main.page {
            h1 { (title) }
            p { (message) }
            p { a href="/" { "Back to ajet-chat" } }
        }
    };
    document(title, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bootstrap_page_is_a_plain_form_posting_to_communities() {
        let page = bootstrap_page("<alice>", Some("slug: taken")).into_string();
        assert!(page.contains("Welcome, <strong>&lt;alice&gt;</strong>."));
        assert!(page.contains("<p class=\"notice\" role=\"alert\">slug: taken</p>"));
        assert!(page.contains("<form method=\"post\" action=\"/communities\">"));
        assert!(
            page.contains("<input name=\"slug\" required pattern=\"[a-z0-9][a-z0-9-]{1,39}\" placeholder=\"acme\">")
        );
    }

    #[test]
    fn an_error_page_escapes_its_message() {
        let page = error_page("Not found", "no <script>").into_string();
        assert!(page.contains("<main class=\"page\"><h1>Not found</h1><p>no &lt;script&gt;</p>"));
    }
}
