//! Channels: create a public channel in a community, and join one.

use ajet_shared::api::wire::{Channel, ChannelKind, CreateChannelRequest, Member};
use ajet_shared::db::{self, PgPool};
use ajet_shared::domain::ChannelName;
use ajet_shared::domain::ids::{ChannelId, CommunityId};
use ajet_shared::events::bus::NatsBus;
use ajet_shared::events::{Event, EventPayload, subject};
use ajet_shared::outbox::OutboxRelay;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use super::access::{channel_access, community_role};
use crate::error::{ApiError, ApiResult, on_constraint};
use crate::extract::{AuthUser, Body, Path};

/// Longest accepted topic, in characters (the schema's limit).
const TOPIC_MAX_CHARS: usize = 250;

pub async fn create_channel(
    State(pool): State<PgPool>,
    State(relay): State<OutboxRelay<NatsBus>>,
    auth: AuthUser,
    Path(community_id): Path<CommunityId>,
    Body(request): Body<CreateChannelRequest>,
) -> ApiResult<(StatusCode, Json<Channel>)> {
    auth.require_write()?;
    community_role(&pool, community_id, auth.id()).await?;
    let name = ChannelName::parse("name", &request.name)?;
    let topic = request.topic.as_deref().map(str::trim).filter(|t| !t.is_empty());
    if topic.is_some_and(|t| t.chars().count() > TOPIC_MAX_CHARS) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "topic_too_long",
            format!("topic: the limit is {TOPIC_MAX_CHARS} characters"),
        ));
    }
    let mut tx = pool.begin().await?;
    let channel = db::channels::create(&mut tx, community_id, ChannelKind::Public, &name, topic, auth.id())
        .await
        .map_err(|err| {
            on_constraint(err, "channels_name_unique", || {
                ApiError::conflict("channel_name_taken", format!("name: #{name} already exists in this community"))
            })
        })?;
    db::channels::add_member(&mut tx, channel.id, auth.id()).await?;
    let event = Event::new(
        EventPayload::ChannelCreated(channel.clone()),
        Some(community_id),
        Some(channel.id),
        Some(auth.id()),
    );
    db::outbox::enqueue(&mut tx, &subject::for_channel(&channel), &event).await?;
    tx.commit().await?;
    relay.notify();
    Ok((StatusCode::CREATED, Json(channel)))
}

/// Joins a public channel of one of the caller's communities. Joining again changes nothing.
pub async fn join_channel(
    State(pool): State<PgPool>,
    State(relay): State<OutboxRelay<NatsBus>>,
    auth: AuthUser,
    Path(channel_id): Path<ChannelId>,
) -> ApiResult<Json<Channel>> {
    auth.require_write()?;
    let access = channel_access(&pool, channel_id, auth.id()).await?;
    if access.is_member {
        return Ok(Json(access.channel));
    }
    if access.channel.kind != ChannelKind::Public {
        return Err(ApiError::forbidden("invite_only", "this channel can only be joined by invitation"));
    }
    if access.channel.archived_at.is_some() {
        return Err(ApiError::conflict("channel_archived", "this channel is archived"));
    }
    let user = db::users::get(&pool, auth.id())
        .await?
        .ok_or_else(|| ApiError::unauthorized("this account no longer exists"))?;
    let mut tx = pool.begin().await?;
    if db::channels::add_member(&mut tx, channel_id, auth.id()).await? {
        let member = Member { user, channel_id: Some(channel_id) };
        let event = Event::new(
            EventPayload::MemberJoined(member),
            access.channel.community_id,
            Some(channel_id),
            Some(auth.id()),
        );
        db::outbox::enqueue(&mut tx, &subject::for_channel(&access.channel), &event).await?;
    }
    tx.commit().await?;
    relay.notify();
    Ok(Json(access.channel))
}
