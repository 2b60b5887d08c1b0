//! tui-sm's routes.

mod ephemeral;
mod events;

use ajet_shared::api::paths;
use axum::Router;
use axum::routing::{get, post};

use crate::TuiState;

pub fn router() -> Router<TuiState> {
    Router::new()
        .route(paths::TUI_EVENTS, get(events::stream_events))
        .route(paths::TUI_TYPING, post(ephemeral::typing))
        .route(paths::TUI_FOCUS, post(ephemeral::focus))
}
