//! web-sm's routes: pages (full documents), actions (Datastar or form POSTs answered with
//! patches or redirects), the tab's live stream and the hashed static assets.

pub mod actions;
pub mod pages;
pub mod settings;
pub mod stream;

use axum::Router;
use axum::routing::{get, post};

use crate::WebState;
use crate::assets;

/// The tab's live stream (`/sse`), apart from the other routes: it needs neither their
/// CSP (not HTML) nor their compression layer (never compressed: frames must reach the
/// browser as they are written), whose body wrapper every open stream would otherwise hold.
pub fn stream_router() -> Router<WebState> {
    Router::new().route("/sse", get(stream::stream_events))
}

/// Every other route: pages, actions and assets.
pub fn router() -> Router<WebState> {
    Router::new()
        .route("/", get(pages::home))
        .route("/communities", post(actions::create_community))
        .route("/c/{slug}", get(pages::community_home).post(actions::create_channel))
        .route("/c/{slug}/{channel}", get(pages::channel_page))
        .route("/dm/{id}", get(pages::dm_page))
        .route("/channels/{id}/join", post(actions::join_channel))
        .route("/channels/{id}/messages", post(actions::send_message))
        .route("/channels/{id}/threads/{root}", post(actions::send_reply))
        .route("/channels/{id}/typing", post(actions::signal_typing))
        .route("/channels/{id}/read", post(actions::mark_read))
        .route("/channels/{id}/preferences", post(actions::set_preferences))
        .route("/channels/{id}/history", get(pages::more_history))
        .route("/messages/{id}", get(actions::show_message))
        .route("/messages/{id}/edit", get(actions::edit_message_form).post(actions::edit_message))
        .route("/messages/{id}/delete", post(actions::delete_message))
        .route("/messages/{id}/react", post(actions::react))
        .route("/messages/{id}/pin", post(actions::pin_message))
        .route("/messages/{id}/unpin", post(actions::unpin_message))
        .route("/search", get(actions::search))
        .route("/theme", post(actions::set_theme))
        .route("/communities/{id}/members", get(actions::list_members))
        .route("/notifications", get(actions::list_notifications))
        .route("/notifications/read", post(actions::read_notifications))
        .route("/settings", get(settings::settings_home))
        .route("/settings/profile", get(settings::profile).post(settings::save_profile))
        .route("/settings/avatar", post(settings::upload_avatar))
        .route("/settings/avatar/delete", post(settings::remove_avatar))
        .route("/settings/tokens", get(settings::tokens).post(settings::create_token))
        .route("/settings/tokens/{id}/revoke", post(settings::revoke_token))
        .route("/settings/security", get(settings::security))
        .route("/c/{slug}/settings/community", get(settings::community).post(settings::save_community))
        .route("/c/{slug}/settings/channels", get(settings::channels))
        .route("/c/{slug}/settings/channels/{id}", post(settings::save_channel))
        .route("/c/{slug}/settings/members", get(settings::members))
        .route("/c/{slug}/settings/members/{user}/role", post(settings::set_role))
        .route("/c/{slug}/settings/members/{user}/remove", post(settings::remove_member))
        .route("/c/{slug}/settings/bans/{user}/lift", post(settings::lift_ban))
        .route("/c/{slug}/settings/mutes", get(settings::mutes).post(settings::create_mute))
        .route("/c/{slug}/settings/mutes/{user}/lift", post(settings::lift_mute))
        .route("/c/{slug}/settings/channels/{id}/purge", get(settings::purge_page).post(settings::purge_channel))
        .route("/c/{slug}/settings/webhooks/{id}/avatar", post(settings::upload_webhook_avatar))
        .route("/c/{slug}/settings/webhooks/{id}/avatar/delete", post(settings::remove_webhook_avatar))
        .route("/c/{slug}/settings/invites", get(settings::invites).post(settings::create_invite))
        .route("/c/{slug}/settings/invites/{code}/revoke", post(settings::revoke_invite))
        .route("/c/{slug}/settings/webhooks", get(settings::webhooks).post(settings::create_webhook))
        .route("/c/{slug}/settings/webhooks/{id}", get(settings::webhook_deliveries))
        .route("/c/{slug}/settings/webhooks/{id}/delete", post(settings::delete_webhook))
        .route("/c/{slug}/settings/audit", get(settings::audit))
        .route("/assets/{name}", get(assets::serve_asset))
}
