//! How a page fails: the api refused (a revoked or expired credential goes back to the
//! login page, something not visible is a 404 page, anything else a 502 page, logged).
//! Actions (Datastar POSTs) show the api's message in the notice line instead
//! (`routes::actions`).

use ajet_shared::client::ClientError;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::views;

#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// What the URL names does not exist or is not visible to the viewer.
    #[error("{0}")]
    NotFound(&'static str),
    /// The viewer may see what the URL names but not do this: the 403 screen, already
    /// rendered in their frame (e.g. a member on a community's admin screens).
    #[error("not allowed")]
    Forbidden(maud::Markup),
    #[error(transparent)]
    Api(#[from] ClientError),
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            Self::NotFound(what) => (StatusCode::NOT_FOUND, views::error_page("Not found", what)).into_response(),
            Self::Forbidden(page) => (StatusCode::FORBIDDEN, page).into_response(),
            Self::Api(err) => match err.status() {
                Some(StatusCode::UNAUTHORIZED) => {
                    (StatusCode::SEE_OTHER, [(header::LOCATION, "/auth/login")]).into_response()
                }
                Some(StatusCode::NOT_FOUND | StatusCode::FORBIDDEN) => (
                    StatusCode::NOT_FOUND,
                    views::error_page("Not found", err.message().unwrap_or("there is nothing here")),
                )
                    .into_response(),
                _ => {
                    tracing::error!(error = %err, "a page's api call failed");
                    (
                        StatusCode::BAD_GATEWAY,
                        views::error_page("Something went wrong", "The server could not load this page; try again."),
                    )
                        .into_response()
                }
            },
        }
    }
}
