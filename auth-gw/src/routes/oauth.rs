//! OAuth login routes: `GET /auth/login` lists the providers, `GET /auth/{provider}/start`
//! sends the browser to the provider with a fresh state, PKCE challenge (and OIDC nonce)
//! remembered in an encrypted cookie, and `GET /auth/{provider}/callback` checks that
//! state, exchanges the code, finds or creates the user and starts a session. Sign-up is
//! open only until the first community exists (the bootstrap); after that a new user needs
//! the invite opened at `/invite/{code}` (remembered in an encrypted cookie), which is
//! applied at the callback. The login page is `views::login_page`.

use ajet_shared::api::ApiError;
use ajet_shared::api::ErrorCode;
use ajet_shared::api::wire::LoginResponse;
use ajet_shared::chat::communities::join_by_invite;
use ajet_shared::db;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, PrivateCookieJar, SameSite};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq as _;

use super::cli::browser_session;
use super::html_page;
use super::login::session_cookie;
use crate::extract::{ClientIp, UserAgent};
use crate::oauth::{ATTEMPT_TTL, Attempt};
use crate::routes::login::start_session;
use crate::state::GatewayState;
use crate::views;

/// The encrypted cookie holding a login in progress. SameSite=Lax: the provider's redirect
/// back is a cross-site top-level navigation, which a Strict cookie would miss.
const ATTEMPT_COOKIE: &str = "ajet_oauth";

#[derive(Serialize)]
pub struct ProviderEntry {
    id: String,
    name: String,
    kind: String,
    start_url: String,
}

#[derive(Serialize)]
pub struct LoginOptions {
    providers: Vec<ProviderEntry>,
    dev_login: bool,
    /// No community exists yet: whoever logs in first may create it.
    bootstrap: bool,
    #[serde(skip)]
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

/// `GET /auth/login`: the configured providers (and the dev-login form in dev), as a page
/// or, for `Accept: application/json`, as JSON. With no community yet, the page says the
/// first person to log in creates it. A browser that is already signed in and says where
/// to go next (`?next=`, e.g. back to an invite) is sent there at once.
pub async fn login_options(
    State(state): State<GatewayState>,
    Query(query): Query<LoginQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    // Where to go after logging in (`/auth/cli?…` for the CLI's loopback login).
    let next =
        query.next.as_deref().map(|next| local_path(Some(next), &state.config.public_url)).filter(|next| next != "/");
    let redirect = next.as_deref().map_or_else(String::new, |next| {
        format!("?redirect={}", oauth2::url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>())
    });
    let providers: Vec<ProviderEntry> = state
        .providers
        .all()
        .iter()
        .map(|provider| ProviderEntry {
            id: provider.id.clone(),
            name: provider.name.clone().unwrap_or_else(|| provider.id.clone()),
            kind: provider.kind.as_str().to_owned(),
            start_url: format!("/auth/{}/start{redirect}", provider.id),
        })
        .collect();
    let bootstrap = !db::communities::any_exist(&state.pool).await?;
    let options = LoginOptions {
        providers,
        dev_login: state.config.env == ajet_shared::config::Environment::Dev,
        bootstrap,
        next,
    };
    if wants_json(&headers) {
        return Ok(Json(options).into_response());
    }
    if let Some(next) = &options.next
        && browser_session(&state, &headers).await?.is_some()
    {
        return Ok(Redirect::to(next).into_response());
    }
    let view = views::LoginView {
        providers: options
            .providers
            .iter()
            .map(|provider| views::ProviderButton { name: &provider.name, start_url: &provider.start_url })
            .collect(),
        dev_login: options.dev_login,
        bootstrap: options.bootstrap,
        next: options.next.as_deref(),
    };
    Ok(html_page(StatusCode::OK, views::login_page(&view)))
}

pub(super) fn wants_json(headers: &HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|accept| accept.contains("application/json"))
}

/// The encrypted cookie holding an invite code between `/invite/{code}` and the login.
pub(super) const INVITE_COOKIE: &str = "ajet_invite";

#[derive(Deserialize)]
pub struct StartQuery {
    redirect: Option<String>,
}

/// Where to send a browser after logging in: a path on our own origin, or `/`.
///
/// Browsers are lenient where an attacker wants them to be: they drop tabs and newlines
/// anywhere in a URL, strip leading spaces and control characters, and read `\` as `/`, so
/// `/<TAB>/evil.example` or `/\evil.example` lands on another site. A target is therefore
/// kept only if it is a plain absolute path (no control characters, whitespace or
/// backslashes, not `//`, no scheme), also after percent-decoding (in case a later hop
/// decodes it), and if resolving it against `public_url` as a browser would stays on our
/// origin and is still such a path (dot segments cannot make it `//host`). What is kept is
/// the resolved path, query and fragment.
pub(crate) fn local_path(raw: Option<&str>, public_url: &str) -> String {
    raw.and_then(|raw| same_origin_path(raw, public_url)).unwrap_or_else(|| "/".to_owned())
}

const REDIRECT_MAX: usize = 512;

fn same_origin_path(raw: &str, public_url: &str) -> Option<String> {
    if raw.len() > REDIRECT_MAX {
        return None;
    }
    let mut decoded = raw.to_owned();
    // A few rounds catch double encoding; a well-formed path does not change after one.
    for _ in 0..3 {
        if !plain_absolute_path(&decoded) {
            return None;
        }
        let next = percent_decode(&decoded)?;
        if next == decoded {
            break;
        }
        decoded = next;
    }
    if !plain_absolute_path(&decoded) {
        return None;
    }
    let base = oauth2::url::Url::parse(public_url).ok()?;
    let resolved = base.join(raw).ok()?;
    if resolved.origin() != base.origin() {
        return None;
    }
    // Resolving removes dot segments: `/.//evil.example` becomes `//evil.example`, which a
    // browser reads as another host. What we send must itself be a plain path.
    let kept = &resolved[oauth2::url::Position::BeforePath..];
    plain_absolute_path(kept).then(|| kept.to_owned())
}

/// `/…`, not `//…`, with nothing a browser would drop, trim or reinterpret.
fn plain_absolute_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && !path.chars().any(|c| c.is_control() || c.is_whitespace() || c == '\\')
}

/// `%XX` decoded (as UTF-8, lossily); `None` for a malformed escape.
fn percent_decode(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = raw.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

fn unknown_provider() -> ApiError {
    ApiError::not_found(ErrorCode::UnknownProvider, "there is no login provider by that name")
}

fn query_error(rejection: &QueryRejection) -> ApiError {
    ApiError::bad_request(ErrorCode::InvalidQuery, rejection.body_text())
}

fn attempt_cookie(state: &GatewayState, value: String) -> Cookie<'static> {
    Cookie::build((ATTEMPT_COOKIE, value))
        .path("/auth")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.cookie_secure)
        .max_age(time::Duration::seconds(i64::try_from(ATTEMPT_TTL.as_secs()).unwrap_or(600)))
        .build()
}

/// `GET /auth/{provider}/start`.
pub async fn start(
    State(state): State<GatewayState>,
    Path(provider_id): Path<String>,
    query: Result<Query<StartQuery>, QueryRejection>,
    jar: PrivateCookieJar,
) -> Result<(PrivateCookieJar, Redirect), ApiError> {
    let Query(query) = query.map_err(|rejection| query_error(&rejection))?;
    let provider = state.providers.get(&provider_id).ok_or_else(unknown_provider)?;
    let (url, mut attempt) =
        state.providers.authorize(provider, local_path(query.redirect.as_deref(), &state.config.public_url)).await?;
    attempt.invite = jar.get(INVITE_COOKIE).map(|cookie| cookie.value().to_owned());
    let value = serde_json::to_string(&attempt).map_err(ApiError::internal)?;
    let jar = jar.remove(Cookie::build(INVITE_COOKIE).path("/auth").build());
    Ok((jar.add(attempt_cookie(&state, value)), Redirect::to(&url)))
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /auth/{provider}/callback`. The attempt cookie is single-use: it is removed
/// whatever the outcome.
pub async fn callback(
    State(state): State<GatewayState>,
    Path(provider_id): Path<String>,
    query: Result<Query<CallbackQuery>, QueryRejection>,
    client: ClientIp,
    headers: HeaderMap,
    jar: PrivateCookieJar,
) -> (PrivateCookieJar, Response) {
    let attempt = jar.get(ATTEMPT_COOKIE).and_then(|cookie| serde_json::from_str::<Attempt>(cookie.value()).ok());
    let jar = jar.remove(Cookie::build(ATTEMPT_COOKIE).path("/auth").build());
    let response = match complete(&state, &provider_id, query, attempt, client, &headers).await {
        Ok(response) => response,
        Err(err) => err.into_response(),
    };
    (jar, response)
}

fn bad_state(code: ErrorCode, message: &str) -> ApiError {
    ApiError::bad_request(code, format!("{message}; start the login again"))
}

async fn complete(
    state: &GatewayState,
    provider_id: &str,
    query: Result<Query<CallbackQuery>, QueryRejection>,
    attempt: Option<Attempt>,
    client: ClientIp,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|rejection| query_error(&rejection))?;
    let provider = state.providers.get(provider_id).ok_or_else(unknown_provider)?;
    let attempt = attempt.ok_or_else(|| {
        bad_state(ErrorCode::OauthStateMissing, "this login was not started in this browser, or it took too long")
    })?;
    if let Some(error) = &query.error {
        let description = query.error_description.as_deref().unwrap_or("no reason given");
        let detail: String = format!("{error}: {description}").chars().take(200).collect();
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::OauthDenied,
            format!("the login provider did not log you in ({detail})"),
        ));
    }
    if attempt.provider != provider.id {
        return Err(bad_state(ErrorCode::OauthStateMismatch, "this login was started with another provider"));
    }
    if attempt.expires_at < time::OffsetDateTime::now_utc().unix_timestamp() {
        return Err(bad_state(ErrorCode::OauthStateExpired, "this login took too long"));
    }
    let state_matches =
        query.state.as_deref().is_some_and(|got| bool::from(got.as_bytes().ct_eq(attempt.state.as_bytes())));
    if !state_matches {
        return Err(bad_state(
            ErrorCode::OauthStateMismatch,
            "the login's state does not match the one this browser started",
        ));
    }
    let code = query.code.ok_or_else(|| bad_state(ErrorCode::OauthCodeMissing, "the provider sent no code"))?;
    let profile = state.providers.complete(provider, &attempt, code).await?;

    let mut tx = state.pool.begin().await?;
    let invite = match &attempt.invite {
        Some(code) => db::invites::usable(&mut *tx, code).await?.map(|community| (code.as_str(), community)),
        None => None,
    };
    if !db::oauth::is_linked(&mut tx, &profile).await?
        && invite.is_none()
        && db::communities::any_exist(&mut *tx).await?
    {
        return Err(ApiError::forbidden(
            ErrorCode::InviteRequired,
            "sign-up is by invitation only: open the invite link you were given, then log in again",
        ));
    }
    let (user, created) = db::oauth::login_user(&mut tx, &profile).await?;
    if let Some((code, community)) = invite {
        // The api's invite acceptance, inside the login's transaction.
        join_by_invite(&mut tx, &user, code, community).await?;
    }
    let details = serde_json::json!({"provider": provider.id, "new_user": created});
    let token = start_session(&mut tx, &state.config, user.id, details, client, &UserAgent::of(headers)).await?;
    tx.commit().await?;
    tracing::info!(user_id = %user.id, provider = %provider.id, created, "oauth login");

    let cookie = session_cookie(&state.config, &token.plaintext)?;
    let mut response = if wants_json(headers) {
        Json(LoginResponse { token: token.plaintext, user }).into_response()
    } else {
        // A page, not a redirect: the session cookie is SameSite=Strict, and a redirect
        // that ends a cross-site chain (from the provider) would arrive without it.
        html_page(StatusCode::OK, views::signed_in_page(&attempt.redirect))
    };
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUBLIC: &str = "https://chat.example";

    #[test]
    fn only_paths_on_our_origin_are_redirect_targets() {
        assert_eq!(local_path(Some("/c/acme?x=1#m"), PUBLIC), "/c/acme?x=1#m");
        assert_eq!(local_path(Some("/auth/cli?port=4567&state=s1"), PUBLIC), "/auth/cli?port=4567&state=s1");
        assert_eq!(local_path(Some("/c/a%20b"), PUBLIC), "/", "an encoded space is refused too");
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "\\/evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\n/evil.example",
            " //evil.example",
            "https://evil.example",
            "https:evil.example",
            "javascript:alert(1)",
            "/%09/evil.example",
            "%2F%2Fevil.example",
            "/%2F/evil.example",
            "/%5Cevil.example",
            "/%252F/evil.example",
            "/%zz",
            "/.//evil.example",
            "/..//evil.example",
            "/a/..//evil.example",
            "/%2e//evil.example",
            "/%2E%2E//evil.example",
            "c/acme",
            "",
        ] {
            assert_eq!(local_path(Some(bad), PUBLIC), "/", "{bad:?}");
        }
        assert_eq!(local_path(None, PUBLIC), "/");
        assert_eq!(local_path(Some(&format!("/{}", "a".repeat(600))), PUBLIC), "/");
    }
}
