//! The api's error handling: the shared `ApiError`, plus turning named constraint
//! violations into the conflicts they mean.

pub use ajet_shared::api::ApiError;
use ajet_shared::db::violated_constraint;

pub type ApiResult<T> = Result<T, ApiError>;

/// Maps a violation of `constraint` to `conflict`; any other error passes through.
pub fn on_constraint(err: sqlx::Error, constraint: &str, conflict: impl FnOnce() -> ApiError) -> ApiError {
    if violated_constraint(&err) == Some(constraint) { conflict() } else { ApiError::from(err) }
}
