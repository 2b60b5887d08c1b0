//! The document around every page: head with our hashed stylesheet, the vendored
//! Datastar module and our small `app.js` module, nothing inline (the CSP allows no inline script or style).

use maud::{DOCTYPE, Markup, html};

use crate::assets::ASSETS;

/// The colour theme the viewer chose; none follows the system.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Theme {
    Light,
    Dark,
}

impl Theme {
    /// The theme cookie's value (`light`, `dark`), anything else: none.
    #[must_use]
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "light" => Some(Self::Light),
            "dark" => Some(Self::Dark),
            _ => None,
        }
    }

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Light => "light",
            Self::Dark => "dark",
        }
    }
}

/// A whole HTML document titled `title` (“· ajet-chat” is appended), following the system's
/// colour scheme.
#[must_use]
pub fn document(title: &str, body: &Markup) -> Markup {
    themed_document(title, None, body)
}

/// A whole HTML document in the viewer's chosen theme (`data-theme` on `<html>`).
#[must_use]
pub fn themed_document(title: &str, theme: Option<Theme>, body: &Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" data-theme=[theme.map(Theme::as_str)] {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { (title) " · ajet-chat" }
                link rel="stylesheet" href=(ASSETS.css.path());
                script type="module" src=(ASSETS.datastar.path()) {}
                script type="module" src=(ASSETS.app.path()) {}
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
        assert!(page.contains(&format!("<script type=\"module\" src=\"/assets/{}\"></script>", ASSETS.app.name)));
        assert!(page.ends_with("<body><p>hi</p></body></html>"));
        let dark = themed_document("x", Theme::parse("dark"), &html! {}).into_string();
        assert!(dark.contains("<html lang=\"en\" data-theme=\"dark\">"), "{dark}");
        assert_eq!(Theme::parse("<script>"), None);
    }
}
