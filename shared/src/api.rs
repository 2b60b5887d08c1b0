//! The HTTP contract of docs/design.md §10: the error body, list pages, the request/response types and the paths.

pub mod code;
pub mod error;
pub mod paths;
pub mod wire;

pub use code::ErrorCode;
pub use error::{ApiError, ErrorBody, ErrorDetail};
pub use wire::*;
