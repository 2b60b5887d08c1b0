//! The static assets web-sm serves: our stylesheet, our small client module (`app.js`:
//! uploads, message grouping, scroll keeping — what Datastar cannot express) and the
//! vendored Datastar bundle (see
//! `web-sm/assets/README.md` for its provenance), compiled into the binary and served under
//! names carrying their content hash, so they are cached for a year and a changed file is a
//! new URL.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

const APP_CSS: &[u8] = include_bytes!("../assets/app.css");
const DATASTAR_JS: &[u8] = include_bytes!("../assets/datastar.js");
const APP_JS: &[u8] = include_bytes!("../assets/app.js");

/// One asset: its hashed file name and bytes.
pub struct Asset {
    /// `app.<hash>.css`: what pages link.
    pub name: String,
    content_type: &'static str,
    bytes: &'static [u8],
}

impl Asset {
    fn new(stem: &str, ext: &str, content_type: &'static str, bytes: &'static [u8]) -> Self {
        let digest = Sha256::digest(bytes);
        let hash: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        Self { name: format!("{stem}.{hash}.{ext}"), content_type, bytes }
    }

    /// The path a page links.
    #[must_use]
    pub fn path(&self) -> String {
        format!("/assets/{}", self.name)
    }
}

/// Every asset, hashed once per process.
pub struct Assets {
    pub css: Asset,
    pub datastar: Asset,
    pub app: Asset,
}

pub static ASSETS: LazyLock<Assets> = LazyLock::new(|| Assets {
    css: Asset::new("app", "css", "text/css; charset=utf-8", APP_CSS),
    datastar: Asset::new("datastar", "js", "text/javascript; charset=utf-8", DATASTAR_JS),
    app: Asset::new("app", "js", "text/javascript; charset=utf-8", APP_JS),
});

/// `GET /assets/{name}`: an asset by its hashed name, cached for a year; an unknown or
/// outdated name is 404 (a page always links the current names).
pub async fn serve_asset(Path(name): Path<String>) -> Response {
    let Some(asset) = [&ASSETS.css, &ASSETS.datastar, &ASSETS.app].into_iter().find(|asset| asset.name == name) else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable")),
        ],
        asset.bytes,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asset_names_carry_a_hash_of_their_content() {
        assert!(ASSETS.css.name.starts_with("app.") && ASSETS.css.name.ends_with(".css"));
        assert_eq!(ASSETS.css.name.len(), "app..css".len() + 16);
        let other = Asset::new("app", "css", "text/css", b"body{}");
        assert_ne!(other.name, ASSETS.css.name);
    }

    #[test]
    fn the_vendored_datastar_is_the_release_the_provenance_note_names() {
        let hash: String = Sha256::digest(DATASTAR_JS).iter().map(|b| format!("{b:02x}")).collect();
        let note = include_str!("../assets/README.md");
        assert!(note.contains(&hash), "assets/README.md must name the bundle's SHA-256 {hash}");
        assert!(DATASTAR_JS.starts_with(b"// Datastar v1.0.2"));
    }
}
