//! The one error type of every HTTP service: `{"error": {"code", "message"}}` with the right
//! status. Server errors are logged once, with their cause, and answered opaquely.

use std::fmt;

use http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::api::code::ErrorCode;
use crate::domain::names::ValidationError;

/// The JSON body of every error response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// Machine-readable, `snake_case`.
    pub code: ErrorCode,
    /// A human sentence.
    pub message: String,
}

type Source = Box<dyn std::error::Error + Send + Sync>;

/// An error answered to an HTTP client.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
    /// Seconds, for 429 and 503.
    pub retry_after: Option<u64>,
    source: Option<Source>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), retry_after: None, source: None }
    }

    pub fn bad_request(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthenticated, message)
    }

    pub fn forbidden(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    pub fn not_found(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    pub fn conflict(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// A failure of ours: the cause is logged, the client sees only `internal_error`.
    pub fn internal(source: impl Into<Source>) -> Self {
        Self {
            source: Some(source.into()),
            ..Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::InternalError,
                "something went wrong on our side; it has been logged",
            )
        }
    }

    /// A dependency (database, bus, upstream service) is unreachable.
    pub fn unavailable(code: ErrorCode, message: impl Into<String>, source: impl Into<Source>) -> Self {
        Self {
            source: Some(source.into()),
            retry_after: Some(1),
            ..Self::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
        }
    }

    #[must_use]
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    #[must_use]
    pub fn body(&self) -> ErrorBody {
        ErrorBody { error: ErrorDetail { code: self.code, message: self.message.clone() } }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.message)?;
        if let Some(source) = &self.source {
            write!(f, " ({source})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|s| s as &(dyn std::error::Error + 'static))
    }
}

impl From<ValidationError> for ApiError {
    fn from(err: ValidationError) -> Self {
        let status = if err.too_long { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::BAD_REQUEST };
        Self::new(status, err.code, format!("{}: {}", err.field, err.message))
    }
}

#[cfg(feature = "db")]
impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                Self::unavailable(ErrorCode::DatabaseUnavailable, "the database is unreachable; try again shortly", err)
            }
            // A NUL (or an invalid sequence) in some text that no parser refused first.
            sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("22021" | "22P05")) => Self::bad_request(
                ErrorCode::InvalidCharacters,
                "a value holds a character that cannot be stored (such as NUL)",
            ),
            _ => Self::internal(err),
        }
    }
}

/// The field a serde "unknown field `x`" message names.
#[cfg(any(feature = "server", test))]
fn unknown_field(serde_message: &str) -> Option<&str> {
    let rest = serde_message.split_once("unknown field `")?.1;
    rest.split_once('`').map(|(field, _)| field)
}

#[cfg(feature = "server")]
impl From<axum::extract::rejection::JsonRejection> for ApiError {
    /// A JSON body that cannot be taken: an unknown field is `unknown_field` (400) naming it,
    /// malformed or mistyped JSON `invalid_body` (400); a wrong content type or an unreadable
    /// body keeps axum's status (415 `unsupported_media_type`, 413 `payload_too_large`).
    fn from(rejection: axum::extract::rejection::JsonRejection) -> Self {
        use axum::extract::rejection::JsonRejection;
        let text = rejection.body_text();
        match rejection {
            JsonRejection::JsonDataError(_) | JsonRejection::JsonSyntaxError(_) => match unknown_field(&text) {
                Some(field) => Self::bad_request(
                    ErrorCode::UnknownField,
                    format!("{field}: this endpoint takes no such field (check its spelling)"),
                ),
                None => Self::bad_request(ErrorCode::InvalidBody, text),
            },
            JsonRejection::MissingJsonContentType(_) => Self::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
                "send the body as JSON with `Content-Type: application/json`",
            ),
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Self::new(StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::PayloadTooLarge, "the request body is too large")
            }
            other => Self::new(other.status(), ErrorCode::UnreadableBody, text),
        }
    }
}

#[cfg(feature = "server")]
impl axum::response::IntoResponse for ApiError {
    fn into_response(self) -> axum::response::Response {
        if self.status.is_server_error() {
            let cause = self.source.as_ref().map_or_else(String::new, ToString::to_string);
            tracing::error!(status = self.status.as_u16(), code = %self.code, error = %cause, "request failed");
        }
        let mut response = (self.status, axum::Json(self.body())).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(http::header::RETRY_AFTER, http::HeaderValue::from(seconds));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn unknown_field_is_read_from_serde_messages() {
        let message = "Failed to deserialize: unknown field `visibility`, expected one of `name`, `kind` at line 1";
        assert_eq!(super::unknown_field(message), Some("visibility"));
        assert_eq!(super::unknown_field("missing field `name`"), None);
    }
}
