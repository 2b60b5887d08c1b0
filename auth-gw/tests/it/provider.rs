//! A stand-in login provider that speaks the real protocols over HTTP, for the OAuth
//! tests: GitHub's and Gitea's (authorize redirect, `/login/oauth/access_token` with
//! errors as HTTP 200, the `/user` and `/api/v1/user` APIs) and OpenID Connect's (discovery, `/authorize`, `/token` returning
//! an RS256-signed ID token, JWKS). It approves every authorization at once as the person
//! set with `approve_as`, checks client credentials, redirect URI and the PKCE verifier,
//! and accepts each code once. Its ID tokens are built and signed here by hand, not with
//! the library the gateway uses to check them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use openidconnect::PrivateSigningKey as _;
use openidconnect::core::{CoreJwsSigningAlgorithm, CoreRsaPrivateSigningKey};
use sha2::{Digest as _, Sha256};

pub const CLIENT_ID: &str = "ajet-test-client";
pub const CLIENT_SECRET: &str = "ajet-test-secret";
const SIGNING_KEY: &str = include_str!("fixtures/oidc-test-signing-key.pem");

#[derive(Clone, Debug)]
pub struct Person {
    pub id: u64,
    pub login: String,
    pub name: String,
}

/// How the stand-in misbehaves, for failure tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quirk {
    None,
    /// The authorize step answers with `error=access_denied`.
    Deny,
    /// ID tokens carry a nonce other than the one requested.
    WrongNonce,
    /// ID tokens carry a signature that does not match.
    BadSignature,
}

struct Grant {
    redirect_uri: String,
    challenge: String,
    nonce: Option<String>,
    person: Person,
    used: bool,
}

struct Inner {
    url: String,
    person: Person,
    quirk: Quirk,
    grants: HashMap<String, Grant>,
    /// Access token → person.
    tokens: HashMap<String, Person>,
}

#[derive(Clone)]
pub struct StandIn {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

impl StandIn {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let inner = Arc::new(Mutex::new(Inner {
            url: url.clone(),
            person: Person { id: 583_231, login: "octocat".into(), name: "The Octocat".into() },
            quirk: Quirk::None,
            grants: HashMap::new(),
            tokens: HashMap::new(),
        }));
        let app = Router::new()
            .route("/login/oauth/authorize", get(authorize))
            .route("/authorize", get(authorize))
            .route("/login/oauth/access_token", post(github_token))
            .route("/token", post(oidc_token))
            .route("/user", get(github_user))
            .route("/api/v1/user", get(gitea_user))
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .with_state(Arc::clone(&inner));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, inner }
    }

    pub fn approve_as(&self, person: Person) {
        self.inner.lock().expect("lock").person = person;
    }

    pub fn set_quirk(&self, quirk: Quirk) {
        self.inner.lock().expect("lock").quirk = quirk;
    }
}

type Shared = Arc<Mutex<Inner>>;

fn redirect_with(redirect_uri: &str, params: &[(&str, &str)]) -> Response {
    let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={}", url_escape(v))).collect();
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{redirect_uri}{separator}{}", query.join("&"))).into_response()
}

/// An `application/x-www-form-urlencoded` body.
fn parse_form(body: &str) -> HashMap<String, String> {
    let decode = |raw: &str| {
        let bytes = raw.replace('+', " ").into_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match (bytes[i], hex) {
                (b'%', Some(byte)) => {
                    out.push(byte);
                    i += 3;
                }
                (other, _) => {
                    out.push(other);
                    i += 1;
                }
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    body.split('&').filter_map(|pair| pair.split_once('=')).map(|(k, v)| (decode(k), decode(v))).collect()
}

fn url_escape(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

async fn authorize(State(inner): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Response {
    let mut inner = inner.lock().expect("lock");
    let (Some(redirect_uri), Some(state)) = (q.get("redirect_uri"), q.get("state")) else {
        return (StatusCode::BAD_REQUEST, "redirect_uri and state are required").into_response();
    };
    if q.get("client_id").map(String::as_str) != Some(CLIENT_ID)
        || q.get("response_type").map(String::as_str) != Some("code")
        || q.get("code_challenge_method").map(String::as_str) != Some("S256")
    {
        return (StatusCode::BAD_REQUEST, "unknown client, or not code flow with S256 PKCE").into_response();
    }
    if inner.quirk == Quirk::Deny {
        return redirect_with(
            redirect_uri,
            &[("error", "access_denied"), ("error_description", "The user denied access"), ("state", state)],
        );
    }
    let code = uuid::Uuid::now_v7().simple().to_string();
    let grant = Grant {
        redirect_uri: redirect_uri.clone(),
        challenge: q.get("code_challenge").cloned().unwrap_or_default(),
        nonce: q.get("nonce").cloned(),
        person: inner.person.clone(),
        used: false,
    };
    inner.grants.insert(code.clone(), grant);
    redirect_with(redirect_uri, &[("code", &code), ("state", state)])
}

/// Checks a token request; on success returns the person and the nonce of the grant.
fn redeem(
    inner: &mut Inner,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<(String, Person, Option<String>), (&'static str, &'static str)> {
    let basic = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|v| STANDARD.decode(v).ok())
        .and_then(|v| String::from_utf8(v).ok());
    let in_body = form.get("client_id").zip(form.get("client_secret")).map(|(id, secret)| format!("{id}:{secret}"));
    if basic.or(in_body).as_deref() != Some(&format!("{CLIENT_ID}:{CLIENT_SECRET}")) {
        return Err(("invalid_client", "unknown client or wrong secret"));
    }
    if form.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return Err(("unsupported_grant_type", "only authorization_code"));
    }
    let code = form.get("code").cloned().unwrap_or_default();
    let grant = inner.grants.get_mut(&code).ok_or(("invalid_grant", "unknown code"))?;
    if grant.used {
        return Err(("invalid_grant", "this code was already used"));
    }
    grant.used = true;
    if form.get("redirect_uri") != Some(&grant.redirect_uri) {
        return Err(("invalid_grant", "redirect_uri differs from the authorization request"));
    }
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != grant.challenge {
        return Err(("invalid_grant", "PKCE verification failed"));
    }
    let access_token = format!("gho_{}", uuid::Uuid::now_v7().simple());
    let (person, nonce) = (grant.person.clone(), grant.nonce.clone());
    inner.tokens.insert(access_token.clone(), person.clone());
    Ok((access_token, person, nonce))
}

/// GitHub answers token errors with HTTP 200 and an `error` field.
async fn github_token(State(inner): State<Shared>, headers: HeaderMap, body: String) -> Json<serde_json::Value> {
    let form = parse_form(&body);
    let mut inner = inner.lock().expect("lock");
    match redeem(&mut inner, &headers, &form) {
        Ok((token, _, _)) => {
            Json(serde_json::json!({"access_token": token, "token_type": "bearer", "scope": "read:user"}))
        }
        Err((error, description)) => Json(serde_json::json!({"error": error, "error_description": description})),
    }
}

fn sign_id_token(inner: &Inner, person: &Person, nonce: Option<String>) -> String {
    let key = CoreRsaPrivateSigningKey::from_pem(SIGNING_KEY, Some(openidconnect::JsonWebKeyId::new("k1".into())))
        .expect("test key");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let nonce = if inner.quirk == Quirk::WrongNonce { Some("not-the-nonce".to_owned()) } else { nonce };
    let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": "k1"});
    let claims = serde_json::json!({
        "iss": inner.url, "aud": CLIENT_ID, "sub": person.id.to_string(), "iat": now, "exp": now + 300,
        "nonce": nonce, "preferred_username": person.login, "name": person.name,
        "picture": format!("https://avatars.example/{}.png", person.id),
    });
    let signing_input =
        format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
    let mut signature =
        key.sign(&CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256, signing_input.as_bytes()).expect("signs");
    if inner.quirk == Quirk::BadSignature {
        signature[0] ^= 1;
    }
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

async fn oidc_token(State(inner): State<Shared>, headers: HeaderMap, body: String) -> Response {
    let form = parse_form(&body);
    let mut inner = inner.lock().expect("lock");
    match redeem(&mut inner, &headers, &form) {
        Ok((token, person, nonce)) => {
            let id_token = sign_id_token(&inner, &person, nonce);
            Json(serde_json::json!({"access_token": token, "token_type": "Bearer", "expires_in": 300, "id_token": id_token}))
                .into_response()
        }
        Err((error, description)) => {
            (StatusCode::BAD_REQUEST, Json(serde_json::json!({"error": error, "error_description": description})))
                .into_response()
        }
    }
}

async fn github_user(State(inner): State<Shared>, headers: HeaderMap) -> Response {
    let inner = inner.lock().expect("lock");
    let token = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    match token.and_then(|token| inner.tokens.get(token)) {
        Some(person) => Json(serde_json::json!({
            "id": person.id, "login": person.login, "name": person.name,
            "avatar_url": format!("https://avatars.example/{}.png", person.id),
        }))
        .into_response(),
        None => (StatusCode::UNAUTHORIZED, Json(serde_json::json!({"message": "Bad credentials"}))).into_response(),
    }
}

/// Gitea's user API: `full_name` instead of GitHub's `name`.
async fn gitea_user(State(inner): State<Shared>, headers: HeaderMap) -> Response {
    let inner = inner.lock().expect("lock");
    let token = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    match token.and_then(|token| inner.tokens.get(token)) {
        Some(person) => Json(serde_json::json!({
            "id": person.id, "login": person.login, "login_name": "", "full_name": person.name,
            "email": format!("{}@forge.example", person.login),
            "avatar_url": format!("https://avatars.example/{}.png", person.id),
        }))
        .into_response(),
        None => (StatusCode::UNAUTHORIZED, Json(serde_json::json!({"message": "token is required"}))).into_response(),
    }
}

async fn discovery(State(inner): State<Shared>) -> Json<serde_json::Value> {
    let url = inner.lock().expect("lock").url.clone();
    Json(serde_json::json!({
        "issuer": url,
        "authorization_endpoint": format!("{url}/authorize"),
        "token_endpoint": format!("{url}/token"),
        "jwks_uri": format!("{url}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
    }))
}

async fn jwks() -> Json<serde_json::Value> {
    let key = CoreRsaPrivateSigningKey::from_pem(SIGNING_KEY, Some(openidconnect::JsonWebKeyId::new("k1".into())))
        .expect("test key");
    Json(serde_json::json!({"keys": [key.as_verification_key()]}))
}
