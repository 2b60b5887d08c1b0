//! The api's route table, one module per resource.

mod channels;
mod communities;
mod dms;
mod invites;
mod me;
mod messages;
mod presence;
mod tokens;
mod webhooks;

use axum::routing::{get, post, put};
use axum::{Json, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::state::AppState;

/// The OpenAPI description, generated from the handlers' annotations.
#[derive(OpenApi)]
#[openapi(
    info(title = "ajet-chat API", description = "The REST API behind the gateway. Errors are `{\"error\": {\"code\", \"message\"}}`."),
    paths(
        me::get_me, me::update_me,
        communities::list_communities, communities::create_community, communities::get_community,
        communities::update_community, communities::list_members,
        channels::create_channel, channels::list_channels, channels::get_channel, channels::update_channel,
        channels::archive_channel, channels::join_channel, channels::leave_channel, channels::add_member,
        channels::remove_member, channels::mark_read,
        messages::create_message, messages::list_messages, messages::get_message, messages::list_replies,
        messages::update_message, messages::delete_message, messages::add_reaction, messages::remove_reaction,
        messages::pin_message, messages::unpin_message, messages::list_pins,
        invites::create_invite, invites::accept_invite, invites::list_invites, invites::revoke_invite,
        dms::list_dms, dms::open_dm,
        presence::heartbeat, presence::get_presence,
        tokens::create_token, tokens::list_tokens, tokens::revoke_token,
        webhooks::create_webhook, webhooks::list_webhooks, webhooks::revoke_webhook,
        openapi_json,
    ),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// This description.
#[utoipa::path(get, path = "/api/openapi.json", tag = "api", responses((status = 200, description = "OpenAPI 3.1 JSON")))]
async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/me", get(me::get_me).patch(me::update_me))
        .route("/api/communities", get(communities::list_communities).post(communities::create_community))
        .route("/api/communities/{id}", get(communities::get_community).patch(communities::update_community))
        .route("/api/communities/{id}/members", get(communities::list_members))
        .route("/api/communities/{id}/channels", get(channels::list_channels).post(channels::create_channel))
        .route("/api/communities/{id}/invites", get(invites::list_invites).post(invites::create_invite))
        .route("/api/communities/{id}/invites/{code}", axum::routing::delete(invites::revoke_invite))
        .route("/api/invites/{code}/accept", post(invites::accept_invite))
        .route(
            "/api/channels/{id}",
            get(channels::get_channel).patch(channels::update_channel).delete(channels::archive_channel),
        )
        .route("/api/channels/{id}/join", post(channels::join_channel))
        .route("/api/channels/{id}/leave", post(channels::leave_channel))
        .route("/api/channels/{id}/members", post(channels::add_member))
        .route("/api/channels/{id}/members/{user_id}", axum::routing::delete(channels::remove_member))
        .route("/api/channels/{id}/read", post(channels::mark_read))
        .route("/api/channels/{id}/messages", get(messages::list_messages).post(messages::create_message))
        .route("/api/channels/{id}/pins", get(messages::list_pins))
        .route(
            "/api/messages/{id}",
            get(messages::get_message).patch(messages::update_message).delete(messages::delete_message),
        )
        .route("/api/messages/{id}/replies", get(messages::list_replies))
        .route("/api/messages/{id}/reactions/{emoji}", put(messages::add_reaction).delete(messages::remove_reaction))
        .route("/api/messages/{id}/pin", put(messages::pin_message).delete(messages::unpin_message))
        .route("/api/dms", get(dms::list_dms).post(dms::open_dm))
        .route("/api/heartbeat", post(presence::heartbeat))
        .route("/api/presence", get(presence::get_presence))
        .route("/api/tokens", get(tokens::list_tokens).post(tokens::create_token))
        .route("/api/tokens/{id}", axum::routing::delete(tokens::revoke_token))
        .route("/api/webhooks", get(webhooks::list_webhooks).post(webhooks::create_webhook))
        .route("/api/webhooks/{id}", axum::routing::delete(webhooks::revoke_webhook))
        .route("/api/openapi.json", get(openapi_json))
}
