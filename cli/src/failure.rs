//! Why a command failed and the exit code that tells a script: the one place an API error
//! (its `ErrorCode`, else its status) becomes 1 error, 2 usage, 3 not signed in or
//! forbidden, 4 not found or 5 rate-limited.

use std::process::ExitCode;

use ajet_shared::api::ErrorCode;
use ajet_shared::client::ClientError;
use http::StatusCode;

use crate::escape;

/// The documented exit codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    Ok = 0,
    Error = 1,
    Usage = 2,
    Forbidden = 3,
    NotFound = 4,
    RateLimited = 5,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        Self::from(exit as u8)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The server refused or could not be reached.
    #[error("{}", api_message(.0))]
    Api(#[from] ClientError),
    /// The command line asks for something malformed (found before asking the server).
    #[error("{0}")]
    Usage(String),
    /// No token for this profile, or it no longer works.
    #[error("{0}")]
    NotSignedIn(String),
    /// A `#channel`, `@user` or community that does not exist here.
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Io(String),
}

fn api_message(err: &ClientError) -> String {
    match err {
        ClientError::Api { status, body } => {
            let hint = match body.error.code {
                ErrorCode::Unauthenticated | ErrorCode::TokenExpired | ErrorCode::TokenRevoked => {
                    " (sign in again: ajet-chat login)"
                }
                _ => "",
            };
            format!("{} ({}, {}){hint}", escape::line(&body.error.message), body.error.code, status.as_u16())
        }
        ClientError::Transport(err) => format!("cannot reach the server: {err}"),
    }
}

impl Failure {
    /// The exit code a script sees.
    #[must_use]
    pub fn exit(&self) -> Exit {
        match self {
            Self::Api(err) => api_exit(err),
            Self::Usage(_) => Exit::Usage,
            Self::NotSignedIn(_) => Exit::Forbidden,
            Self::NotFound(_) => Exit::NotFound,
            Self::Config(_) | Self::Io(_) => Exit::Error,
        }
    }
}

/// Codes first (they say what happened whatever the status), then the status class.
pub fn api_exit(err: &ClientError) -> Exit {
    if let Some(ErrorCode::RateLimited | ErrorCode::SlowMode | ErrorCode::TooManyStreams) = err.code() {
        return Exit::RateLimited;
    }
    let Some(status) = err.status() else { return Exit::Error };
    match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Exit::Forbidden,
        StatusCode::NOT_FOUND | StatusCode::GONE => Exit::NotFound,
        StatusCode::TOO_MANY_REQUESTS => Exit::RateLimited,
        StatusCode::BAD_REQUEST
        | StatusCode::PAYLOAD_TOO_LARGE
        | StatusCode::UNSUPPORTED_MEDIA_TYPE
        | StatusCode::UNPROCESSABLE_ENTITY => Exit::Usage,
        _ => Exit::Error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ajet_shared::api::{ErrorBody, ErrorDetail};

    fn refusal(status: u16, code: ErrorCode) -> Failure {
        Failure::Api(ClientError::Api {
            status: StatusCode::from_u16(status).expect("status"),
            body: ErrorBody { error: ErrorDetail { code, message: "m\u{1b}[2J".into() } },
        })
    }

    #[test]
    fn api_refusals_map_to_the_documented_exit_codes() {
        for (status, code, exit) in [
            (401, ErrorCode::Unauthenticated, Exit::Forbidden),
            (401, ErrorCode::TokenRevoked, Exit::Forbidden),
            (403, ErrorCode::NotAChannelMember, Exit::Forbidden),
            (403, ErrorCode::InsufficientScope, Exit::Forbidden),
            (404, ErrorCode::ChannelNotFound, Exit::NotFound),
            (404, ErrorCode::MessageNotFound, Exit::NotFound),
            (429, ErrorCode::RateLimited, Exit::RateLimited),
            (429, ErrorCode::SlowMode, Exit::RateLimited),
            (400, ErrorCode::InvalidEmoji, Exit::Usage),
            (422, ErrorCode::MessageTooLong, Exit::Usage),
            (409, ErrorCode::MessageDeleted, Exit::Error),
            (500, ErrorCode::InternalError, Exit::Error),
            (502, ErrorCode::UnexpectedResponse, Exit::Error),
        ] {
            assert_eq!(refusal(status, code).exit(), exit, "{status} {code}");
        }
    }

    #[test]
    fn a_refusal_message_is_escaped_and_names_its_code() {
        let shown = refusal(403, ErrorCode::NotAuthor).to_string();
        assert_eq!(shown, "m\\x1b[2J (not_author, 403)");
    }
}
