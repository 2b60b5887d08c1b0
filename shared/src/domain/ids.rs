//! Typed UUIDv7 ids: roughly time-ordered by the clock of the process that made them (so
//! never trusted for an order that must hold across api instances: history goes by
//! `channel_seq`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($($(#[$meta:meta])* $name:ident;)*) => {$(
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "db", derive(sqlx::Type), sqlx(transparent))]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, format = Uuid))]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh time-ordered id.
            #[must_use]
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }

            #[must_use]
            pub fn as_uuid(self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }
    )*};
}

id_type! {
    /// A person or bot account.
    UserId;
    /// A community (workspace).
    CommunityId;
    /// A channel, DM or group DM.
    ChannelId;
    /// A message; history orders a channel by its `channel_seq`, not by this id (made with
    /// the clock of whichever api instance wrote it).
    MessageId;
    /// An event on the bus; also its `Nats-Msg-Id`, which makes republishing idempotent.
    EventId;
    /// A login session.
    SessionId;
    /// A long-lived, scoped API token.
    ApiTokenId;
    /// An incoming webhook.
    WebhookId;
    /// A community invite.
    InviteId;
    /// A notification in a user's inbox; its UUIDv7 order is the inbox's order.
    NotificationId;
    /// An uploaded file, stored in S3 and attached to at most one message.
    AttachmentId;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_time_ordered_and_round_trip_through_text() {
        let first = MessageId::generate();
        let second = MessageId::generate();
        assert!(first < second);
        let parsed: MessageId = second.to_string().parse().expect("parses");
        assert_eq!(parsed, second);
        assert_eq!(serde_json::to_string(&first).expect("json"), format!("\"{first}\""));
    }
}
