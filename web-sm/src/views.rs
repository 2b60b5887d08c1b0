//! The HTML of web-sm, as pure maud functions: they take what the api answered (and the
//! viewer) and return markup, with no I/O, so each is unit-tested by rendering it. Every
//! user string goes through maud's escaping; message bodies through `markdown::render`.
//! Elements that live updates patch carry stable ids: `#channels`, `#ch-{id}` (a sidebar
//! entry), `#badge-{id}`, `#mentions-{id}`, `#messages` (with `#older` and `#newer`, the rows
//! that load more history, and `#new-divider`), `#m-{id}` (a message), `#ts-{id}` (a root's thread
//! summary), `#pins` (the pins bar), `#thread` (the thread panel) with `#replies`,
//! `#notice`, `#typing` (the typing line), `#composer`, and `#pending-{client_msg_id}` (a send in
//! flight, `pending`).

pub mod layout;
pub mod message;
pub mod pages;
pub mod pending;
pub mod people;
pub mod search;
pub mod settings;
pub mod shell;
pub mod thread;

pub use layout::document;
pub use message::{ListView, MessageView, message_item, message_list, thread_summary};
pub use pages::{bootstrap_page, error_page};
pub use shell::{ShellView, channel_entry, notice, pins_bar, shell_page, typing_line};
pub use thread::{ThreadView, thread_panel};

/// A selector-safe element id for a sidebar entry.
#[must_use]
pub fn channel_dom_id(channel: ajet_shared::domain::ids::ChannelId) -> String {
    format!("ch-{channel}")
}

/// The element id of a message.
#[must_use]
pub fn message_dom_id(message: ajet_shared::domain::ids::MessageId) -> String {
    format!("m-{message}")
}

/// The element id of a root's thread summary.
#[must_use]
pub fn thread_summary_dom_id(message: ajet_shared::domain::ids::MessageId) -> String {
    format!("ts-{message}")
}

/// The element id of a sidebar entry's mention pill.
#[must_use]
pub fn mentions_dom_id(channel: ajet_shared::domain::ids::ChannelId) -> String {
    format!("mentions-{channel}")
}

/// The element id of a sidebar entry's unread badge.
#[must_use]
pub fn badge_dom_id(channel: ajet_shared::domain::ids::ChannelId) -> String {
    format!("badge-{channel}")
}

/// Options for a Datastar `@get` that sends no signals: by default a GET carries every
/// signal in its URL (`?datastar={…}`), which would put the composer's unsent draft into
/// proxies' access logs and, past a few KiB, over their URL limits.
pub const NO_SIGNALS: &str = "filterSignals: {include: /^$/}";
