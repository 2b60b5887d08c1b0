//! Recording a write's event in the outbox, inside the write's transaction, on the subject
//! its audience listens to.

use sqlx::PgConnection;

use crate::api::wire::Channel;
use crate::db;
use crate::domain::ids::{CommunityId, UserId};
use crate::events::{AccessRevoked, Event, EventPayload, subject};

/// Records `payload` about `channel`; `actor` is `None` for a webhook's write.
pub async fn in_channel(
    tx: &mut PgConnection,
    channel: &Channel,
    actor: Option<UserId>,
    payload: EventPayload,
) -> Result<(), sqlx::Error> {
    let event = Event::new(payload, channel.community_id, Some(channel.id), actor);
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

/// Tells `user`'s own streams that one of their credentials was revoked, so the session
/// managers re-check at once instead of at their next periodic check.
pub async fn access_revoked(tx: &mut PgConnection, user: UserId, revoked: AccessRevoked) -> Result<(), sqlx::Error> {
    for_user(tx, user, EventPayload::AccessRevoked(revoked)).await
}
