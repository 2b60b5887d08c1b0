//! The HTTP contract of DESIGN §10: the error body, list pages and the request/response types.

pub mod error;
pub mod wire;

pub use error::{ApiError, ErrorBody, ErrorDetail};
pub use wire::*;
