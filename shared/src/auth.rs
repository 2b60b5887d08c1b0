//! Bearer tokens: their format (random, prefixed, base64url), hashing (SHA-256: a 256-bit
//! random token needs no slow hash, and an unsalted digest can be looked up) and the identity
//! a valid token stands for. Every service validates tokens through `db::auth`, the same way.

pub mod cache;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

use crate::domain::ids::{ApiTokenId, SessionId, UserId};

/// Prefix of a login session token.
pub const SESSION_PREFIX: &str = "ajs_";
/// Prefix of a long-lived API token.
pub const API_TOKEN_PREFIX: &str = "ajt_";
/// Name of the browser session cookie over plain-http development (`cookie_secure` off).
pub const SESSION_COOKIE: &str = "ajet_session";
/// Name of the browser session cookie where `cookie_secure` is on: the `__Host-` prefix
/// makes browsers accept it only with `Secure`, `Path=/` and no `Domain`, so a sibling
/// subdomain cannot plant or shadow it.
pub const SECURE_SESSION_COOKIE: &str = "__Host-ajet_session";

/// The session cookie's name for a deployment: `__Host-ajet_session` where cookies are
/// `Secure`, else `ajet_session` (browsers refuse `__Host-` cookies without `Secure`).
/// Only this name is read: on https a prefix-less cookie may have been planted by another
/// subdomain.
#[must_use]
pub fn session_cookie_name(cookie_secure: bool) -> &'static str {
    if cookie_secure { SECURE_SESSION_COOKIE } else { SESSION_COOKIE }
}

/// The internal headers by which the gateway tells upstream services who is calling. Any
/// copy arriving from outside is stripped by the gateway.
pub const IDENTITY_HEADERS: [&str; 3] = [USER_ID_HEADER, SCOPES_HEADER, CLIENT_IP_HEADER];
pub const USER_ID_HEADER: &str = "x-ajet-user-id";
pub const SCOPES_HEADER: &str = "x-ajet-scopes";
/// The client's address as the gateway sees it (`client_ip_header` or the peer), kept on
/// the api's audit rows.
pub const CLIENT_IP_HEADER: &str = "x-ajet-client-ip";
/// Correlates logs across services.
pub const TRACE_ID_HEADER: &str = "x-trace-id";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    Session,
    Api,
}

/// A freshly minted token: the plaintext is shown once, only the hash is stored.
pub struct NewToken {
    pub plaintext: String,
    pub hash: [u8; 32],
}

impl std::fmt::Debug for NewToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewToken([redacted])")
    }
}

impl NewToken {
    #[must_use]
    pub fn generate(kind: TokenKind) -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let prefix = match kind {
            TokenKind::Session => SESSION_PREFIX,
            TokenKind::Api => API_TOKEN_PREFIX,
        };
        let plaintext = format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes));
        let hash = hash_token(&plaintext);
        Self { plaintext, hash }
    }
}

#[must_use]
pub fn hash_token(plaintext: &str) -> [u8; 32] {
    Sha256::digest(plaintext.as_bytes()).into()
}

/// The kind of a token that has the right shape, or `None` for anything else (which then
/// needs no database lookup).
#[must_use]
pub fn token_kind(plaintext: &str) -> Option<TokenKind> {
    let (kind, body) = if let Some(body) = plaintext.strip_prefix(SESSION_PREFIX) {
        (TokenKind::Session, body)
    } else if let Some(body) = plaintext.strip_prefix(API_TOKEN_PREFIX) {
        (TokenKind::Api, body)
    } else {
        return None;
    };
    // 32 bytes in unpadded base64url are 43 characters.
    (body.len() == 43 && body.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')).then_some(kind)
}

/// The token in an `Authorization: Bearer …` header value.
///
/// ```
/// assert_eq!(ajet_shared::auth::bearer("Bearer ajs_abc"), Some("ajs_abc"));
/// assert_eq!(ajet_shared::auth::bearer("Basic dXNlcg=="), None);
/// ```
#[must_use]
pub fn bearer(header_value: &str) -> Option<&str> {
    let (scheme, token) = header_value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// What a token may do. Sessions carry every scope; API tokens what they were given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scopes {
    pub read: bool,
    pub write: bool,
    pub admin: bool,
}

impl Scopes {
    pub const ALL: Self = Self { read: true, write: true, admin: true };

    #[must_use]
    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Self {
        let has = |wanted: &str| names.iter().any(|n| n.as_ref() == wanted);
        Self { read: has("read"), write: has("write"), admin: has("admin") }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Credential {
    Session(SessionId),
    ApiToken(ApiTokenId),
}

/// Who is calling, as established from a valid token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Identity {
    pub user_id: UserId,
    pub credential: Credential,
    pub scopes: Scopes,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_have_the_prefix_and_shape_and_hash_to_what_is_stored() {
        let session = NewToken::generate(TokenKind::Session);
        assert!(session.plaintext.starts_with(SESSION_PREFIX));
        assert_eq!(token_kind(&session.plaintext), Some(TokenKind::Session));
        assert_eq!(hash_token(&session.plaintext), session.hash);
        let api = NewToken::generate(TokenKind::Api);
        assert_eq!(token_kind(&api.plaintext), Some(TokenKind::Api));
        assert_ne!(session.hash, api.hash);
    }

    #[test]
    fn malformed_tokens_are_recognised_without_a_lookup() {
        for bad in [
            "",
            "ajs_",
            "ajs_short",
            "xyz_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            &format!("ajs_{}", "!".repeat(43)),
        ] {
            assert_eq!(token_kind(bad), None, "{bad}");
        }
    }

    #[test]
    fn bearer_header_parsing_accepts_any_scheme_case() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer abc"), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer"), None);
    }
}
