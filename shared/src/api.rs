//! The HTTP contract of docs/design.md §10: the error body, list pages and the request/response types.

pub mod code;
pub mod error;
pub mod wire;

pub use code::ErrorCode;
pub use error::{ApiError, ErrorBody, ErrorDetail};
pub use wire::*;
