//! The write use cases of chat, one function each, below every handler that triggers them
//! (the api's routes, the gateway's webhook ingress, later slash commands and bots). Each
//! applies every channel rule (`rules`), writes its rows, its mentions, its thread summary
//! and its outbox event in one transaction, and returns what the caller answers with in a
//! `Written`, which says whether the outbox relay has events to publish. Handlers parse
//! input, call one of these, and shape the answer; the `ChatError` they may return maps to
//! the same HTTP error wherever it arises. The SQL stays in `crate::db`.

pub mod access;
pub mod attachments;
pub mod channels;
pub mod commands;
pub mod communities;
pub mod dms;
pub mod error;
pub mod events;
pub mod membership;
pub mod messages;
pub mod moderation;
pub mod notifications;
pub mod pins;
pub mod preferences;
pub mod reactions;
pub mod read_cursor;
pub mod rules;
pub mod webhooks;

pub use error::ChatError;

use crate::domain::ids::UserId;

/// Who does an audited action, and the request it came in (its `X-Trace-Id`, kept on the
/// `audit_log` row so the row can be matched with the logs).
#[derive(Clone, Copy, Debug)]
pub struct Actor<'a> {
    pub user: UserId,
    pub trace_id: Option<&'a str>,
    /// The client's address as the gateway saw it.
    pub ip: Option<std::net::IpAddr>,
}

/// What a write use case returns: the `value` to answer with, and whether it committed
/// outbox events (then the relay should publish them now rather than on its next sweep).
#[derive(Debug)]
#[must_use = "wake the outbox relay with `wake` (or, in another process than the relay, `unwoken`)"]
pub struct Written<T> {
    pub value: T,
    pub events: bool,
}

impl<T> Written<T> {
    pub(crate) fn with_events(value: T) -> Self {
        Self { value, events: true }
    }

    pub(crate) fn without_events(value: T) -> Self {
        Self { value, events: false }
    }

    /// The value, after waking `relay` if the write committed events.
    #[cfg(feature = "bus")]
    pub fn wake<B: crate::events::bus::EventBus + 'static>(self, relay: &crate::outbox::OutboxRelay<B>) -> T {
        if self.events {
            relay.notify();
        }
        self.value
    }

    /// The value, for a writer with no relay in its process (the gateway): the relay that
    /// runs in the api publishes on its next sweep (≤ 1 s).
    pub fn unwoken(self) -> T {
        self.value
    }
}
