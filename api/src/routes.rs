//! The api's route table, one module per resource.

mod access;
mod channels;
mod communities;
mod invites;
mod me;
mod messages;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/me", get(me::get_me))
        .route("/api/communities", get(communities::list_communities).post(communities::create_community))
        .route("/api/communities/{id}/channels", post(channels::create_channel))
        .route("/api/communities/{id}/invites", post(invites::create_invite))
        .route("/api/invites/{code}/accept", post(invites::accept_invite))
        .route("/api/channels/{id}/join", post(channels::join_channel))
        .route("/api/channels/{id}/messages", get(messages::list_messages).post(messages::create_message))
}
