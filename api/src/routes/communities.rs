//! Communities: create (the creator becomes owner, with a `#general` channel) and list mine.

use ajet_shared::api::wire::{ChannelKind, Community, CreateCommunityRequest, Page, PageInfo};
use ajet_shared::db::{self, PgPool};
use ajet_shared::domain::{ChannelName, CommunityName, Slug};
use ajet_shared::events::bus::NatsBus;
use ajet_shared::events::{Event, EventPayload, subject};
use ajet_shared::outbox::OutboxRelay;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use crate::error::{ApiError, ApiResult, on_constraint};
use crate::extract::{AuthUser, Body};

pub async fn list_communities(State(pool): State<PgPool>, auth: AuthUser) -> ApiResult<Json<Page<Community>>> {
    auth.require_read()?;
    let data = db::communities::list_for_user(&pool, auth.id()).await?;
    Ok(Json(Page { data, page: PageInfo::default() }))
}

pub async fn create_community(
    State(pool): State<PgPool>,
    State(relay): State<OutboxRelay<NatsBus>>,
    auth: AuthUser,
    Body(request): Body<CreateCommunityRequest>,
) -> ApiResult<(StatusCode, Json<Community>)> {
    auth.require_write()?;
    let name = CommunityName::parse("name", &request.name)?;
    let slug = Slug::parse("slug", &request.slug)?;
    let description = request.description.as_deref().map(str::trim).filter(|d| !d.is_empty());
    let mut tx = pool.begin().await?;
    let community = db::communities::create(&mut tx, auth.id(), &name, &slug, description).await.map_err(|err| {
        on_constraint(err, "communities_slug_unique", || {
            ApiError::conflict("slug_taken", format!("slug: `{slug}` is already taken; choose another"))
        })
    })?;
    let general = ChannelName::parse("name", "general")?;
    let channel = db::channels::create(&mut tx, community.id, ChannelKind::Public, &general, None, auth.id()).await?;
    db::channels::add_member(&mut tx, channel.id, auth.id()).await?;
    let event = Event::new(
        EventPayload::ChannelCreated(channel.clone()),
        Some(community.id),
        Some(channel.id),
        Some(auth.id()),
    );
    db::outbox::enqueue(&mut tx, &subject::for_channel(&channel), &event).await?;
    tx.commit().await?;
    relay.notify();
    Ok((StatusCode::CREATED, Json(community)))
}
