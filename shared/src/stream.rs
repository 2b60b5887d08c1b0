//! The streaming core every session manager shares, independent of its transport: the
//! process's `Hub` (one JetStream feed fanned out to bounded per-connection queues) and a
//! connection's `StreamSession` (register → replay → live, dedupe by sequence, access
//! re-checks, overflow and shutdown), which yields items the session manager maps to its
//! wire format.

pub mod hub;
pub mod session;

pub use hub::{Hub, HubEvent, Registration};
pub use session::{Access, AccessCheck, End, Item, SessionConfig, StreamSession, Visible};
