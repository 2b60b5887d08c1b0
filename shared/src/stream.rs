//! The streaming core every session manager shares, independent of its transport: the
//! process's `Hub` (one JetStream feed fanned out to bounded per-connection queues) and a
//! connection's `StreamSession` (register → replay → live, dedupe by sequence, access
//! re-checks shared per credential through `AccessChecks`, overflow and shutdown), which yields items the session manager maps to its
//! wire format.

pub mod access;
pub mod ephemeral;
pub mod hub;
pub mod open;
pub mod session;

pub use access::{Access, AccessCheck, AccessChecks, AccessFeed, Checked};
pub use ephemeral::{PresenceDiff, Typing, TypingSignal, run_presence, run_typing};
pub use hub::{Hub, HubEvent, Queued, Registration, TooManyStreams};
pub use open::{OpenError, SignalError, Streams};
#[cfg(feature = "server")]
pub use open::{StartupError, start};
pub use session::{End, Item, Opening, SessionConfig, StartError, StreamSession, Visible};
