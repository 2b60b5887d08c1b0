//! Recording a write's event in the outbox, on the subject its audience listens to.

use ajet_shared::api::wire::Channel;
use ajet_shared::db;
use ajet_shared::domain::ids::{CommunityId, UserId};
use ajet_shared::events::{Event, EventPayload, subject};
use sqlx::PgConnection;

/// Records `payload` about `channel` inside the caller's transaction.
pub async fn in_channel(
    tx: &mut PgConnection,
    channel: &Channel,
    actor: UserId,
    payload: EventPayload,
) -> Result<(), sqlx::Error> {
    let event = Event::new(payload, channel.community_id, Some(channel.id), Some(actor));
    db::outbox::enqueue(tx, &subject::for_channel(channel), &event).await
}

/// Records a community-wide `payload`.
pub async fn in_community(
    tx: &mut PgConnection,
    community: CommunityId,
    actor: UserId,
    payload: EventPayload,
) -> Result<(), sqlx::Error> {
    let event = Event::new(payload, Some(community), None, Some(actor));
    db::outbox::enqueue(tx, &subject::community(community), &event).await
}

/// Records `payload` for `user`'s own sessions only.
pub async fn for_user(tx: &mut PgConnection, user: UserId, payload: EventPayload) -> Result<(), sqlx::Error> {
    let event = Event::new(payload, None, None, Some(user));
    db::outbox::enqueue(tx, &subject::notifications(user), &event).await
}
