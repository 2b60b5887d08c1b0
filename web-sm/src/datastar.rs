//! Datastar's server-sent events, written by hand (the protocol is four lines): a
//! `datastar-patch-elements` event carries HTML (one `elements` data line per line of it)
//! with an optional selector and mode; a `datastar-patch-signals` event carries JSON. An
//! action's answer is a short `text/event-stream` of such events; the live stream gives the
//! last patch of each stream event its `id:`, so a reconnect resumes after it.

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
    /// Replace the selected element with the elements.
    Replace,
}

impl Mode {
    fn as_str(self) -> &'static str {
        match self {
            Self::Outer => "outer",
            Self::Append => "append",
            Self::Remove => "remove",
            Self::Replace => "replace",
        }
    }
}

/// One or more events, in order.
#[derive(Debug, Default)]
pub struct Frames {
    text: String,
    /// Where the last event starts (for `position`).
    last: Option<usize>,
}

impl Frames {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn start_event(&mut self) {
        self.last = Some(self.text.len());
    }

    /// Patches `elements` into the page: by their ids (`Outer`, no selector) or at `selector`.
    pub fn patch(&mut self, mode: Mode, selector: Option<&str>, elements: &Markup) -> &mut Self {
        self.patch_html(mode, selector, &elements.0)
    }

    /// `patch` with HTML already rendered (shared by several tabs).
    pub fn patch_html(&mut self, mode: Mode, selector: Option<&str>, elements: &str) -> &mut Self {
        self.start_event();
        self.text.push_str("event: datastar-patch-elements\n");
        if let Some(selector) = selector {
            self.text.push_str("data: selector ");
            self.text.push_str(selector);
            self.text.push('\n');
        }
        if mode != Mode::Outer {
            self.text.push_str("data: mode ");
            self.text.push_str(mode.as_str());
            self.text.push('\n');
        }
        // Any line break ends an SSE field, a lone CR too: each line is its own data line.
        let normalized = elements.replace("\r\n", "\n").replace('\r', "\n");
        for line in normalized.split('\n') {
            self.text.push_str("data: elements ");
            self.text.push_str(line);
            self.text.push('\n');
        }
        self.text.push('\n');
        self
    }

    /// Removes the elements at `selector`.
    pub fn remove(&mut self, selector: &str) -> &mut Self {
        self.start_event();
        self.text.push_str("event: datastar-patch-elements\ndata: selector ");
        self.text.push_str(selector);
        self.text.push_str("\ndata: mode remove\n\n");
        self
    }

    /// Sets signals from a JSON object.
    pub fn signals(&mut self, signals: &serde_json::Value) -> &mut Self {
        self.start_event();
        self.text.push_str("event: datastar-patch-signals\ndata: signals ");
        self.text.push_str(&signals.to_string());
        self.text.push_str("\n\n");
        self
    }

    /// Gives the last event the resume position `id`, so a client that saw it resumes
    /// after everything written so far and one cut off before it repeats all of it; with
    /// no event (nothing to show), an `id:` with a comment, which moves the client's
    /// position without dispatching anything.
    pub fn position(&mut self, id: &str) -> &mut Self {
        let line = format!("id: {id}\n");
        match self.last {
            Some(start) => self.text.insert_str(start, &line),
            None => {
                self.text.push_str(&line);
                self.text.push_str(":\n\n");
            }
        }
        self.last = None;
        self
    }

    #[must_use]
    pub fn into_string(self) -> String {
        self.text
    }
}

impl IntoResponse for Frames {
    fn into_response(self) -> Response {
        (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream")),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            ],
            self.text,
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
        frames.patch(Mode::Append, Some("#messages"), &html! { li { pre { "a\nb" } } });
        frames.patch(Mode::Outer, None, &html! { p #x { "y" } }).remove("#m-1").position("7.42");
        frames.signals(&serde_json::json!({"body": ""}));
        frames.position("7.43").position("7.44");
        assert_eq!(
            frames.into_string(),
            "event: datastar-patch-elements\ndata: selector #messages\ndata: mode append\n\
             data: elements <li><pre>a\ndata: elements b</pre></li>\n\n\
             event: datastar-patch-elements\ndata: elements <p id=\"x\">y</p>\n\n\
             id: 7.42\nevent: datastar-patch-elements\ndata: selector #m-1\ndata: mode remove\n\n\
             id: 7.43\nevent: datastar-patch-signals\ndata: signals {\"body\":\"\"}\n\n\
             id: 7.44\n:\n\n"
        );
    }
}
