//! The document around every page: head with our hashed stylesheet and the vendored
//! Datastar module, nothing inline (the CSP allows no inline script or style).

use maud::{DOCTYPE, Markup, html};

use crate::assets::ASSETS;

/// A whole HTML document titled `title` (“· ajet-chat” is appended).
#[must_use]
pub fn document(title: &str, body: &Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { (title) " · ajet-chat" }
                link rel="stylesheet" href=(ASSETS.css.path());
                script type="module" src=(ASSETS.datastar.path()) {}
            }
            body { (body) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_links_hashed_assets_and_escapes_its_title() {
        let page = document("<b>x</b>", &html! { p { "hi" } }).into_string();
        assert!(page.starts_with("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"));
        assert!(page.contains("<title>&lt;b&gt;x&lt;/b&gt; · ajet-chat</title>"));
        assert!(page.contains(&format!("<link rel=\"stylesheet\" href=\"/assets/{}\">", ASSETS.css.name)));
        assert!(page.contains(&format!("<script type=\"module\" src=\"/assets/{}\"></script>", ASSETS.datastar.name)));
        assert!(page.ends_with("<body><p>hi</p></body></html>"));
    }
}
