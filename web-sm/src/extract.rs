//! The viewer's credential: the gateway forwards every request with the user's token as
//! `Authorization: Bearer` (a browser's session cookie becomes one), and web-sm calls the
//! api with it, so the api decides what the viewer may see.

use ajet_shared::api::ApiError;
use ajet_shared::auth::bearer;
use ajet_shared::client::ApiClient;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;

/// An api client carrying the viewer's token.
pub struct Viewer {
    pub api: ApiClient,
    pub token: String,
}

impl<S> FromRequestParts<S> for Viewer
where
    ApiClient: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer)
            .ok_or_else(|| ApiError::unauthorized("sign in first"))?
            .to_owned();
        let api = ApiClient::from_ref(state).with_token(token.clone());
        Ok(Self { api, token })
    }
}
