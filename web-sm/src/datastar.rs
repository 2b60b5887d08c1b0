//! Datastar's server-sent events, written by hand (the protocol is four lines): a
//! `datastar-patch-elements` event carries HTML (one `elements` data line per line of it)
//! with an optional selector and mode; a `datastar-patch-signals` event carries JSON. An
//! action's answer is a short `text/event-stream` of such events; the live stream adds an
//! `id:` per event so a reconnect resumes after it.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use maud::Markup;

/// How patched elements land (Datastar's modes that we use).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Morph the element with the same id.
    Outer,
    /// Append inside the selected element.
    Append,
    /// Remove the selected element(s).
    Remove,
}

impl Mode {
    fn as_str(self) -> &'static str {
        match self {
            Self::Outer => "outer",
            Self::Append => "append",
            Self::Remove => "remove",
        }
    }
}

/// One or more events, in order.
#[derive(Debug, Default)]
pub struct Frames(String);

impl Frames {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// `id:` for the next event (the live stream's resume position).
    pub fn id(&mut self, id: &str) -> &mut Self {
        self.0.push_str("id: ");
        self.0.push_str(id);
        self.0.push('\n');
        self
    }

    /// Patches `elements` into the page: by their ids (`Outer`, no selector) or at `selector`.
    pub fn patch(&mut self, mode: Mode, selector: Option<&str>, elements: &Markup) -> &mut Self {
        self.0.push_str("event: datastar-patch-elements\n");
        if let Some(selector) = selector {
            self.0.push_str("data: selector ");
            self.0.push_str(selector);
            self.0.push('\n');
        }
        if mode != Mode::Outer {
            self.0.push_str("data: mode ");
            self.0.push_str(mode.as_str());
            self.0.push('\n');
        }
        for line in elements.0.split('\n') {
            self.0.push_str("data: elements ");
            self.0.push_str(line.strip_suffix('\r').unwrap_or(line));
            self.0.push('\n');
        }
        self.0.push('\n');
        self
    }

    /// Removes the elements at `selector`.
    pub fn remove(&mut self, selector: &str) -> &mut Self {
        self.0.push_str("event: datastar-patch-elements\ndata: selector ");
        self.0.push_str(selector);
        self.0.push_str("\ndata: mode remove\n\n");
        self
    }

    /// Sets signals from a JSON object.
    pub fn signals(&mut self, signals: &serde_json::Value) -> &mut Self {
        self.0.push_str("event: datastar-patch-signals\ndata: signals ");
        self.0.push_str(&signals.to_string());
        self.0.push_str("\n\n");
        self
    }

    /// A resume position without anything to show (the event was not for this page).
    pub fn position_only(&mut self, id: &str) -> &mut Self {
        self.id(id);
        self.0.push_str(":\n\n");
        self
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    #[must_use]
    pub fn into_string(self) -> String {
        self.0
    }
}

impl IntoResponse for Frames {
    fn into_response(self) -> Response {
        (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream")),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            ],
            self.0,
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use maud::html;

    #[test]
    fn patches_are_written_as_datastar_events_one_line_of_html_per_data_line() {
        let mut frames = Frames::new();
        frames.id("7.42").patch(Mode::Append, Some("#messages"), &html! { li { pre { "a\nb" } } });
        frames.patch(Mode::Outer, None, &html! { p #x { "y" } }).remove("#m-1");
        frames.signals(&serde_json::json!({"body": ""}));
        assert_eq!(
            frames.into_string(),
            "id: 7.42\nevent: datastar-patch-elements\ndata: selector #messages\ndata: mode append\n\
             data: elements <li><pre>a\ndata: elements b</pre></li>\n\n\
             event: datastar-patch-elements\ndata: elements <p id=\"x\">y</p>\n\n\
             event: datastar-patch-elements\ndata: selector #m-1\ndata: mode remove\n\n\
             event: datastar-patch-signals\ndata: signals {\"body\":\"\"}\n\n"
        );
    }
}
