//! tui-sm's routes.

mod events;

use axum::Router;
use axum::routing::get;

use crate::TuiState;

pub fn router() -> Router<TuiState> {
    Router::new().route("/tui/events", get(events::stream_events))
}
