//! The api's route table, one module per resource.

mod access;
mod channels;
mod communities;
mod dms;
mod events;
mod invites;
mod me;
mod messages;
mod presence;

use axum::Router;
use axum::routing::{get, post, put};

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/me", get(me::get_me).patch(me::update_me))
        .route("/api/communities", get(communities::list_communities).post(communities::create_community))
        .route("/api/communities/{id}", get(communities::get_community).patch(communities::update_community))
        .route("/api/communities/{id}/members", get(communities::list_members))
        .route("/api/communities/{id}/channels", get(channels::list_channels).post(channels::create_channel))
        .route("/api/communities/{id}/invites", post(invites::create_invite))
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
}
