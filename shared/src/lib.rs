//! What more than one ajet-chat crate needs: domain types and ids, configuration, the
//! HTTP error contract and wire types, tokens, events and the bus, database access, the
//! transactional outbox, the typed API client, the session managers' streaming core and the pieces every HTTP service shares.

pub mod api;
pub mod auth;
pub mod commands;
pub mod config;
pub mod domain;
pub mod events;
pub mod mentions;
pub mod search;

#[cfg(feature = "db")]
pub mod chat;
#[cfg(feature = "client")]
pub mod client;
#[cfg(feature = "db")]
pub mod db;
#[cfg(all(feature = "db", feature = "bus"))]
pub mod outbox;
#[cfg(feature = "server")]
pub mod server;
#[cfg(feature = "stream")]
pub mod stream;
#[cfg(feature = "testing")]
pub mod testing;
#[cfg(feature = "unfurl")]
pub mod unfurl;

pub use domain::ids::{
    ApiTokenId, AttachmentId, ChannelId, CommunityId, EventId, InviteId, MessageId, NotificationId, SessionId, UserId,
    WebhookId,
};
