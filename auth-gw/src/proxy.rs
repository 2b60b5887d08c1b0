//! The streaming reverse proxy. Bodies stream both ways without buffering, so an SSE event
//! reaches the client when the upstream writes it, and a client that goes away closes the
//! upstream connection (dropping the response body drops it). The gateway authenticates
//! the caller, strips identity headers arriving from outside and adds its own, forwards or
//! creates `X-Trace-Id`, removes hop-by-hop headers, and answers JSON 502/504 when a
//! service is down or slow to answer. Only the wait for response headers is bounded, never
//! a streaming body. An event stream holds one of its user's `max_streams_per_user` slots
//! and one of the gateway's `gateway_max_streams` until its body is dropped; any other
//! request one of `gateway_max_requests` until its answer's headers come. At either bound
//! the answer is an immediate 503 `overloaded` with `Retry-After`, never a queue.

use ajet_shared::api::ErrorCode;
use std::sync::Arc;
use std::time::Duration;

use ajet_shared::api::ApiError;
use ajet_shared::auth::{
    CLIENT_IP_HEADER, IDENTITY_HEADERS, Identity, SCOPES_HEADER, TRACE_ID_HEADER, USER_ID_HEADER, bearer, hash_token,
    session_cookie_name,
};
use ajet_shared::config::Config;
use ajet_shared::db;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use crate::extract::ClientIp;
use crate::rate_limit::BucketKey;
use crate::state::GatewayState;
use crate::streams::HeldBody;
use crate::upstreams::Service;

/// How long an upstream may take to start answering.
const RESPONSE_HEADERS_TIMEOUT: Duration = Duration::from_secs(30);

/// Headers that describe one hop, not the message (RFC 9110 §7.6.1).
const HOP_BY_HOP: [HeaderName; 7] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::UPGRADE,
];

fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let listed: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::try_from(name.trim()).ok())
        .collect();
    for name in listed.iter().chain(HOP_BY_HOP.iter()) {
        headers.remove(name);
    }
    headers.remove(header::TRANSFER_ENCODING);
}

/// The value of the session cookie named `name`, if the request carries one.
fn session_cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(name)?.strip_prefix('='))
}

/// The presented token and whether it came from the cookie (which needs CSRF checks). The
/// cookie is read under this deployment's name (`__Host-ajet_session` with `cookie_secure`,
/// else `ajet_session`).
pub(crate) fn presented_token(config: &Config, headers: &HeaderMap) -> Option<(String, bool)> {
    if let Some(token) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(bearer) {
        return Some((token.to_owned(), false));
    }
    session_cookie(headers, session_cookie_name(config.cookie_secure)).map(|token| (token.to_owned(), true))
}

/// Paths that answer an event stream whatever the `Accept` header says: the terminal's
/// and a browser tab's.
const STREAM_PATHS: [&str; 2] = ["/tui/events", "/sse"];

/// Whether a request opens a long-lived event stream, which holds one of its user's
/// stream slots: only the stream paths. Not every request asking for
/// `text/event-stream`: Datastar asks for it on every action (POSTs and GETs answered with
/// a few patches at once), and a user with all their slots in open tabs must still be able
/// to send and edit.
fn opens_stream(path: &str) -> bool {
    STREAM_PATHS.contains(&path)
}

/// A cookie-authenticated unsafe request must come from our own pages. Browsers say where
/// a request comes from in `Sec-Fetch-Site`; older ones only in `Origin`, which must then
/// be ours (`public_origin`). A request with neither is not from a browser that would
/// attach the cookie on another site's behalf (and SameSite=Strict stands behind this).
pub(crate) fn cross_site(method: &Method, headers: &HeaderMap, public_origin: &str) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return false;
    }
    if let Some(site) = headers.get("sec-fetch-site") {
        return site.to_str().map_or(true, |site| site != "same-origin" && site != "none");
    }
    headers.get(header::ORIGIN).is_some_and(|origin| origin.to_str().map_or(true, |origin| origin != public_origin))
}

/// The origin (`scheme://host[:port]`) of a URL such as `public_url`.
pub(crate) fn origin_of(url: &str) -> &str {
    let Some((scheme, rest)) = url.split_once("://") else { return url };
    let host_len = rest.find('/').unwrap_or(rest.len());
    &url[..scheme.len() + 3 + host_len]
}

/// The caller's identity, from the token cache or the database. Refusals say why
/// (`unauthenticated`, `token_revoked`, `token_expired`, `cross_site_request`).
/// A browser navigating to a page (not the api or a stream): it is sent to the login page
/// rather than shown a JSON 401.
fn wants_page(method: &Method, uri: &Uri, headers: &HeaderMap) -> bool {
    let path = uri.path();
    let html =
        headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|accept| accept.contains("text/html"));
    *method == Method::GET && html && !path.starts_with("/api/") && !path.starts_with("/tui/")
}

/// `303` to `/auth/login`, coming back to `uri` afterwards.
fn login_redirect(uri: &Uri) -> Response {
    let back = uri.path_and_query().map_or("/", |p| p.as_str());
    let encoded: String = back
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let location = format!("/auth/login?next={encoded}");
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

async fn authenticate(
    state: &GatewayState,
    headers: &HeaderMap,
    method: &Method,
) -> Result<(Identity, String), ApiError> {
    let (token, from_cookie) = presented_token(&state.config, headers)
        .ok_or_else(|| ApiError::unauthorized("sign in first: send `Authorization: Bearer <token>` or log in"))?;
    if from_cookie && cross_site(method, headers, origin_of(&state.config.public_url)) {
        return Err(ApiError::forbidden(
            ErrorCode::CrossSiteRequest,
            "cross-site requests with a session cookie are refused",
        ));
    }
    let hash = hash_token(&token);
    if let Some(identity) = state.auth_cache.get(&hash) {
        return Ok((identity, token));
    }
    let identity = db::auth::require(&state.pool, &token, state.config.session_lifetime()).await?;
    state.auth_cache.insert(hash, identity);
    Ok((identity, token))
}

fn scopes_header(identity: &Identity) -> HeaderValue {
    let scopes = [("read", identity.scopes.read), ("write", identity.scopes.write), ("admin", identity.scopes.admin)];
    let names: Vec<&str> = scopes.iter().filter(|(_, has)| *has).map(|(name, _)| *name).collect();
    HeaderValue::from_str(&names.join(",")).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Audits a client that ran out of its allowance with failed authentications (token
/// guessing, a script with a dead token). Failing to write the row does not change the 429.
async fn record_burst(state: &GatewayState, client: ClientIp, path: &str, last_error: &ApiError) {
    let entry = db::audit::AuditEntry {
        community_id: None,
        actor_id: None,
        action: "auth.failed_burst",
        target: None,
        details: serde_json::json!({
            "path": ajet_shared::server::loggable_path(path),
            "last_error": last_error.code,
            "limit_per_minute": state.config.rate_limit_per_minute,
        }),
        ip: Some(client.0),
        trace_id: None,
    };
    if let Err(err) = db::audit::record(&state.pool, &entry).await {
        tracing::warn!(error = %err, "could not audit a failed-authentication burst");
    }
}

/// 503 `overloaded`: the gateway holds as many `what` as it takes
/// (`gateway_max_requests`, `gateway_max_streams`).
fn overloaded(what: &str, retry_after_secs: u64) -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Overloaded,
        format!("the gateway has as many {what} in flight as it takes; retry after {retry_after_secs} s"),
    )
    .with_retry_after(retry_after_secs)
}

fn too_large(max_body: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::PayloadTooLarge,
        format!("the request body is larger than the {max_body} bytes accepted"),
    )
}

/// Room for the multipart framing around an attachment.
const UPLOAD_FRAMING_BYTES: u64 = 64 * 1024;

/// The largest body accepted for `method path`: `max_body_bytes`, or for an attachment
/// upload (`POST /api/channels/{id}/attachments`) enough for the api's own limit, which
/// then answers its precise 413.
fn max_body_bytes(config: &Config, method: &Method, path: &str) -> u64 {
    let upload = *method == Method::POST
        && path
            .strip_prefix("/api/channels/")
            .and_then(|rest| rest.strip_suffix("/attachments"))
            .is_some_and(|id| !id.is_empty() && !id.contains('/'));
    if upload {
        config.max_body_bytes.max(config.attachment_max_bytes.saturating_add(UPLOAD_FRAMING_BYTES))
    } else {
        config.max_body_bytes
    }
}

/// Whether sending upstream failed because the request body crossed the size limit.
fn body_over_limit(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(err);
    while let Some(current) = cause {
        if current.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        cause = current.source();
    }
    false
}

/// Forwards any request the gateway does not answer itself.
pub async fn forward(State(state): State<GatewayState>, request: Request) -> Response {
    match forward_inner(&state, request).await {
        Ok(response) => response,
        Err(err) => err.into_response(),
    }
}

async fn forward_inner(state: &GatewayState, request: Request) -> Result<Response, ApiError> {
    let (mut parts, body) = request.into_parts();
    let (identity, token) = match authenticate(state, &parts.headers, &parts.method).await {
        Ok(authenticated) => authenticated,
        Err(err) if err.status.is_client_error() => {
            // Requests without a valid token draw on their IP's allowance, so guessing
            // tokens runs into 429s.
            let client = ClientIp::of(&state.config, &parts.headers, &parts.extensions);
            let decision = state.limits.requests.check(BucketKey::Ip(client.bucket()));
            if !decision.allowed {
                if state.limits.bursts.should_record(client.bucket()) {
                    record_burst(state, client, parts.uri.path(), &err).await;
                }
                return Ok(decision.refusal());
            }
            let mut response =
                if wants_page(&parts.method, &parts.uri, &parts.headers) && err.status == StatusCode::UNAUTHORIZED {
                    login_redirect(&parts.uri)
                } else {
                    err.into_response()
                };
            decision.annotate(response.headers_mut());
            return Ok(response);
        }
        Err(err) => return Err(err),
    };
    let decision = state.limits.requests.check(BucketKey::User(identity.user_id));
    if !decision.allowed {
        return Ok(decision.refusal());
    }
    let stream_slot = if opens_stream(parts.uri.path()) {
        let Ok(permit) = Arc::clone(&state.open_streams).try_acquire_owned() else {
            let mut response = overloaded("event streams", 5).into_response();
            decision.annotate(response.headers_mut());
            return Ok(response);
        };
        match state.streams.acquire(identity.user_id, hash_token(&token)) {
            Ok(slot) => Some(slot.holding(permit)),
            Err(err) => {
                let mut response = err.into_response();
                decision.annotate(response.headers_mut());
                return Ok(response);
            }
        }
    } else {
        None
    };

    let pool = state.upstreams.pool(Service::of_path(parts.uri.path()));
    let base = pool.pick();
    let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let upstream_uri = |base: &str| {
        format!("{base}{path_and_query}").parse::<Uri>().map_err(|err| {
            ApiError::bad_request(ErrorCode::InvalidUri, format!("the request URI cannot be forwarded: {err}"))
        })
    };
    parts.uri = upstream_uri(base)?;

    // Read before the identity headers are stripped: `client_ip_header` is the proxy's own.
    let client = ClientIp::of(&state.config, &parts.headers, &parts.extensions);
    let headers = &mut parts.headers;
    let client_host = headers.remove(header::HOST);
    strip_hop_by_hop(headers);
    for name in IDENTITY_HEADERS {
        headers.remove(name);
    }
    headers.insert(CLIENT_IP_HEADER, HeaderValue::from_str(&client.0.to_string()).map_err(ApiError::internal)?);
    headers.insert(USER_ID_HEADER, HeaderValue::from_str(&identity.user_id.to_string()).map_err(ApiError::internal)?);
    headers.insert(SCOPES_HEADER, scopes_header(&identity));
    // Upstream services validate the token themselves; a cookie becomes a bearer token.
    headers
        .insert(header::AUTHORIZATION, HeaderValue::from_str(&format!("Bearer {token}")).map_err(ApiError::internal)?);
    if !headers.contains_key(TRACE_ID_HEADER) {
        headers.insert(
            TRACE_ID_HEADER,
            HeaderValue::from_str(&uuid::Uuid::now_v7().simple().to_string()).map_err(ApiError::internal)?,
        );
    }
    if let Some(host) = client_host {
        headers.insert("x-forwarded-host", host);
    }
    let trace_id = headers.get(TRACE_ID_HEADER).cloned();

    // The body streams through, but no further than `max_body_bytes` (for an attachment
    // upload, room for `attachment_max_bytes` and its framing if that is more): a declared
    // length is refused up front, an undeclared one when it crosses the limit.
    let max_body = max_body_bytes(&state.config, &parts.method, parts.uri.path());
    let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > max_body) {
        return Err(too_large(max_body));
    }
    let body = Body::new(http_body_util::Limited::new(body, usize::try_from(max_body).unwrap_or(usize::MAX)));
    // A GET or HEAD whose connection was refused reached no one: it may go to another
    // instance (once). Anything else may have been acted on, so its client retries.
    let retry = (matches!(parts.method, Method::GET | Method::HEAD) && pool.is_replicated())
        .then(|| (parts.method.clone(), parts.version, parts.headers.clone()));
    // A request (not a stream, which holds its own permit) takes one of the
    // `gateway_max_requests` permits until its answer's headers come: when none is free the
    // services are behind, and a fast 503 beats a queue that grows until descriptors or
    // memory run out.
    let _in_flight = match stream_slot {
        Some(_) => None,
        None => match Arc::clone(&state.in_flight).try_acquire_owned() {
            Ok(permit) => Some(permit),
            Err(_) => {
                let mut response = overloaded("requests", 1).into_response();
                decision.annotate(response.headers_mut());
                return Ok(response);
            }
        },
    };
    let upstream = if stream_slot.is_some() { &state.stream_upstream } else { &state.upstream };
    let upstream_request = Request::from_parts(parts, body);
    let mut sent = tokio::time::timeout(RESPONSE_HEADERS_TIMEOUT, upstream.request(upstream_request)).await;
    if let Ok(Err(err)) = &sent
        && err.is_connect()
    {
        pool.mark_down(base);
        if let Some((method, version, headers)) = retry {
            let next = pool.pick();
            tracing::info!(upstream = base, next, "upstream refused the connection; trying the next instance");
            let mut request = Request::new(Body::empty());
            *request.method_mut() = method;
            *request.version_mut() = version;
            *request.headers_mut() = headers;
            *request.uri_mut() = upstream_uri(next)?;
            sent = tokio::time::timeout(RESPONSE_HEADERS_TIMEOUT, upstream.request(request)).await;
        }
    }
    let response = match sent {
        Ok(Ok(response)) => response,
        Ok(Err(err)) if body_over_limit(&err) => return Err(too_large(max_body)),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, upstream = base, "upstream unreachable");
            return Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                ErrorCode::UpstreamUnavailable,
                "the service behind this path is unavailable; retry shortly",
            )
            .with_retry_after(1));
        }
        Err(_) => {
            return Err(ApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                ErrorCode::UpstreamTimeout,
                "the service behind this path did not answer in time",
            ));
        }
    };
    let (mut parts, body) = response.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    if let Some(trace_id) = trace_id {
        parts.headers.insert(TRACE_ID_HEADER, trace_id);
    }
    decision.annotate(&mut parts.headers);
    let body = match stream_slot {
        Some(slot) => Body::new(HeldBody::new(body, slot, state.shutdown.clone())),
        None => Body::new(body),
    };
    Ok(Response::from_parts(parts, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_headers_and_those_named_in_connection_are_removed() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONNECTION, HeaderValue::from_static("keep-alive, x-private"));
        headers.insert("x-private", HeaderValue::from_static("1"));
        headers.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        headers.insert(header::TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
        headers.insert("last-event-id", HeaderValue::from_static("1.2"));
        strip_hop_by_hop(&mut headers);
        assert_eq!(headers.len(), 1);
        assert!(headers.contains_key("last-event-id"));
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("theme=dark; ajet_session=ajs_abc; other=1"));
        assert_eq!(session_cookie(&headers, "ajet_session"), Some("ajs_abc"));
        assert_eq!(session_cookie(&headers, "__Host-ajet_session"), None, "only the deployment's name counts");
        headers.insert(header::COOKIE, HeaderValue::from_static("ajet_sessionx=nope; __Host-ajet_session=ajs_x"));
        assert_eq!(session_cookie(&headers, "ajet_session"), None);
        assert_eq!(session_cookie(&headers, "__Host-ajet_session"), Some("ajs_x"));
    }

    const OURS: &str = "https://chat.example";

    #[test]
    fn only_unsafe_cross_site_requests_count_as_cross_site() {
        let mut headers = HeaderMap::new();
        headers.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(cross_site(&Method::POST, &headers, OURS));
        assert!(!cross_site(&Method::GET, &headers, OURS));
        headers.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
        assert!(!cross_site(&Method::POST, &headers, OURS));
        assert!(!cross_site(&Method::POST, &HeaderMap::new(), OURS));
    }

    #[test]
    fn without_sec_fetch_site_the_origin_must_be_ours() {
        let cases = [
            ("https://chat.example", false),
            ("https://evil.example", true),
            ("http://chat.example", true),
            ("https://chat.example:8443", true),
            ("null", true),
        ];
        for (origin, refused) in cases {
            let mut headers = HeaderMap::new();
            headers.insert(header::ORIGIN, HeaderValue::from_static(origin));
            assert_eq!(cross_site(&Method::DELETE, &headers, OURS), refused, "{origin}");
        }
    }

    #[test]
    fn the_origin_of_a_url_is_scheme_host_and_port() {
        assert_eq!(origin_of("https://chat.example/"), "https://chat.example");
        assert_eq!(origin_of("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(origin_of("https://chat.example:8443/base/path"), "https://chat.example:8443");
    }
}
