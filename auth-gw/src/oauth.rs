//! Logging in with an OAuth provider: GitHub, Gitea (authorization code + PKCE, then the
//! provider's user API) and any OpenID Connect provider (discovery, authorization code +
//! PKCE + nonce, ID-token signature and claims checked by `openidconnect`). Each attempt's
//! state, PKCE verifier and nonce live in a short-lived encrypted cookie (`Attempt`), so
//! the gateway keeps no login state of its own. Provider calls go through our one reqwest
//! client (no redirects followed, bounded time).

use ajet_shared::api::ErrorCode;
use std::time::Duration;

use ajet_shared::api::ApiError;
use ajet_shared::config::{OAuthProvider, ProviderKind};
use ajet_shared::db::oauth::ExternalProfile;
use axum::http::StatusCode;
use oauth2::basic::{BasicClient, BasicErrorResponse};
use oauth2::{AuthType, AuthUrl, TokenUrl};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, HttpRequest, HttpResponse, IssuerUrl, Nonce,
    OAuth2TokenResponse as _, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope,
    TokenResponse as _,
};
use serde::{Deserialize, Serialize};

/// A login in progress, kept in the encrypted `ajet_oauth` cookie between the redirect to
/// the provider and its callback.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Attempt {
    pub provider: String,
    pub state: String,
    pub verifier: String,
    pub nonce: Option<String>,
    /// Where to send the browser afterwards (a local path).
    pub redirect: String,
    /// Unix seconds.
    pub expires_at: i64,
    /// The invite code opened before logging in (`/invite/{code}`), applied after.
    #[serde(default)]
    pub invite: Option<String>,
}

/// How long a login may take between start and callback.
pub const ATTEMPT_TTL: Duration = Duration::from_secs(600);

pub struct Providers {
    http: reqwest::Client,
    list: Vec<OAuthProvider>,
    public_url: String,
}

fn provider_unavailable(what: &str, err: impl std::fmt::Display) -> ApiError {
    tracing::warn!(error = %err, "{what}");
    ApiError::new(StatusCode::BAD_GATEWAY, ErrorCode::ProviderUnavailable, format!("{what}; try again shortly"))
}

fn misconfigured(err: impl std::fmt::Display) -> ApiError {
    ApiError::internal(format!("login provider misconfigured: {err}"))
}

/// Sends an `oauth2`/`openidconnect` request with reqwest.
async fn send(http: reqwest::Client, request: HttpRequest) -> Result<HttpResponse, reqwest::Error> {
    let (parts, body) = request.into_parts();
    let response = http.request(parts.method, parts.uri.to_string()).headers(parts.headers).body(body).send().await?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.bytes().await?.to_vec();
    let mut out = http::Response::new(body);
    *out.status_mut() = status;
    *out.headers_mut() = headers;
    Ok(out)
}

/// A refused code exchange (wrong, replayed or expired code, PKCE mismatch) is the
/// client's problem; anything else is the provider's.
fn exchange_failed<E: std::error::Error + 'static>(
    err: RequestTokenError<E, impl oauth2::ErrorResponse + 'static>,
) -> ApiError {
    match err {
        RequestTokenError::ServerResponse(response) => ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::OauthCodeRejected,
            format!("the provider refused the login code ({response}); start the login again"),
        ),
        // GitHub answers errors with HTTP 200 and an `error` field.
        RequestTokenError::Parse(_, body) if serde_json::from_slice::<BasicErrorResponse>(&body).is_ok() => {
            let error = serde_json::from_slice::<BasicErrorResponse>(&body)
                .map(|response| response.to_string())
                .unwrap_or_default();
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                ErrorCode::OauthCodeRejected,
                format!("the provider refused the login code ({error}); start the login again"),
            )
        }
        other => provider_unavailable("the login provider could not be reached", other),
    }
}

#[derive(Deserialize)]
struct ForgeUser {
    id: u64,
    login: String,
    /// GitHub's display name.
    #[serde(default)]
    name: Option<String>,
    /// Gitea's.
    #[serde(default)]
    full_name: Option<String>,
    #[serde(default)]
    avatar_url: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

impl Providers {
    pub fn new(list: Vec<OAuthProvider>, public_url: &str) -> Result<Self, reqwest::Error> {
        ajet_shared::client::install_crypto_provider();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .user_agent("ajet-chat")
            .build()?;
        Ok(Self { http, list, public_url: public_url.trim_end_matches('/').to_owned() })
    }

    pub fn all(&self) -> &[OAuthProvider] {
        &self.list
    }

    pub fn get(&self, id: &str) -> Option<&OAuthProvider> {
        self.list.iter().find(|provider| provider.id == id)
    }

    fn redirect_url(&self, provider: &OAuthProvider) -> Result<RedirectUrl, ApiError> {
        RedirectUrl::new(format!("{}/auth/{}/callback", self.public_url, provider.id)).map_err(misconfigured)
    }

    fn scopes(provider: &OAuthProvider) -> Vec<Scope> {
        let defaults: &[&str] = match provider.kind {
            ProviderKind::Github => &["read:user", "user:email"],
            ProviderKind::Gitea => &["read:user"],
            ProviderKind::Oidc => &["profile", "email"],
        };
        let names: Vec<String> = if provider.scopes.is_empty() {
            defaults.iter().map(|s| (*s).to_owned()).collect()
        } else {
            // `openid` is added by the OIDC flow itself.
            provider.scopes.iter().filter(|s| s.as_str() != "openid").cloned().collect()
        };
        names.into_iter().map(Scope::new).collect()
    }

    /// GitHub or Gitea: the authorize and token endpoints and the user API.
    fn forge_urls(provider: &OAuthProvider) -> (String, String, String) {
        let base = provider.url.as_deref().unwrap_or("https://github.com").trim_end_matches('/').to_owned();
        let user = match provider.kind {
            ProviderKind::Gitea => format!("{base}/api/v1/user"),
            _ => format!(
                "{}/user",
                provider.api_url.as_deref().unwrap_or("https://api.github.com").trim_end_matches('/')
            ),
        };
        (format!("{base}/login/oauth/authorize"), format!("{base}/login/oauth/access_token"), user)
    }

    fn forge_client(
        &self,
        provider: &OAuthProvider,
    ) -> Result<
        BasicClient<
            oauth2::EndpointSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointSet,
        >,
        ApiError,
    > {
        let (authorize, token, _) = Self::forge_urls(provider);
        Ok(BasicClient::new(ClientId::new(provider.client_id.clone()))
            .set_client_secret(ClientSecret::new(provider.client_secret.expose().to_owned()))
            .set_auth_uri(AuthUrl::new(authorize).map_err(misconfigured)?)
            .set_token_uri(TokenUrl::new(token).map_err(misconfigured)?)
            .set_auth_type(AuthType::RequestBody)
            .set_redirect_uri(self.redirect_url(provider)?))
    }

    async fn oidc_client(
        &self,
        provider: &OAuthProvider,
    ) -> Result<
        CoreClient<
            oauth2::EndpointSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointMaybeSet,
            oauth2::EndpointMaybeSet,
        >,
        ApiError,
    > {
        let issuer = IssuerUrl::new(provider.url.clone().unwrap_or_default()).map_err(misconfigured)?;
        let http = self.http.clone();
        let client = move |request| send(http.clone(), request);
        let metadata = CoreProviderMetadata::discover_async(issuer, &client)
            .await
            .map_err(|err| provider_unavailable("the login provider's discovery document could not be read", err))?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(provider.client_id.clone()),
            Some(ClientSecret::new(provider.client_secret.expose().to_owned())),
        )
        .set_redirect_uri(self.redirect_url(provider)?))
    }

    /// Where to send the browser to log in, and the attempt to remember.
    pub async fn authorize(&self, provider: &OAuthProvider, redirect: String) -> Result<(String, Attempt), ApiError> {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let expires_at =
            time::OffsetDateTime::now_utc().unix_timestamp() + i64::try_from(ATTEMPT_TTL.as_secs()).unwrap_or(600);
        let (url, state, nonce) = match provider.kind {
            ProviderKind::Github | ProviderKind::Gitea => {
                let (url, state) = self
                    .forge_client(provider)?
                    .authorize_url(CsrfToken::new_random)
                    .add_scopes(Self::scopes(provider))
                    .set_pkce_challenge(challenge)
                    .url();
                (url, state, None)
            }
            ProviderKind::Oidc => {
                let (url, state, nonce) = self
                    .oidc_client(provider)
                    .await?
                    .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
                    .add_scopes(Self::scopes(provider))
                    .set_pkce_challenge(challenge)
                    .url();
                (url, state, Some(nonce.secret().clone()))
            }
        };
        let attempt = Attempt {
            provider: provider.id.clone(),
            state: state.secret().clone(),
            verifier: verifier.secret().clone(),
            nonce,
            redirect,
            expires_at,
            invite: None,
        };
        Ok((url.to_string(), attempt))
    }

    /// Exchanges the callback's code (with the attempt's PKCE verifier) and says who logged in.
    pub async fn complete(
        &self,
        provider: &OAuthProvider,
        attempt: &Attempt,
        code: String,
    ) -> Result<ExternalProfile, ApiError> {
        let http = self.http.clone();
        let client = move |request| send(http.clone(), request);
        let verifier = PkceCodeVerifier::new(attempt.verifier.clone());
        match provider.kind {
            ProviderKind::Github | ProviderKind::Gitea => {
                let token = self
                    .forge_client(provider)?
                    .exchange_code(AuthorizationCode::new(code))
                    .set_pkce_verifier(verifier)
                    .request_async(&client)
                    .await
                    .map_err(exchange_failed)?;
                let (_, _, user_url) = Self::forge_urls(provider);
                let response = self
                    .http
                    .get(user_url)
                    .bearer_auth(token.access_token().secret())
                    .header("accept", "application/json")
                    .send()
                    .await
                    .map_err(|err| provider_unavailable("the login provider's user API could not be reached", err))?;
                if !response.status().is_success() {
                    return Err(provider_unavailable(
                        "the login provider's user API refused the new token",
                        response.status(),
                    ));
                }
                let user: ForgeUser = response
                    .json()
                    .await
                    .map_err(|err| provider_unavailable("the login provider's user API answered nonsense", err))?;
                Ok(ExternalProfile {
                    provider: provider.id.clone(),
                    subject: user.id.to_string(),
                    display_name: user.name.or(user.full_name).filter(|name| !name.trim().is_empty()),
                    login: Some(user.login),
                    avatar_url: user.avatar_url,
                    email: user.email,
                })
            }
            ProviderKind::Oidc => {
                let oidc = self.oidc_client(provider).await?;
                let token = oidc
                    .exchange_code(AuthorizationCode::new(code))
                    .map_err(misconfigured)?
                    .set_pkce_verifier(verifier)
                    .request_async(&client)
                    .await
                    .map_err(exchange_failed)?;
                let invalid =
                    |message: String| ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::OauthIdTokenInvalid, message);
                let id_token = token
                    .id_token()
                    .ok_or_else(|| invalid("the provider sent no ID token; is `openid` allowed?".into()))?;
                let nonce = Nonce::new(attempt.nonce.clone().unwrap_or_default());
                let claims = id_token
                    .claims(&oidc.id_token_verifier(), &nonce)
                    .map_err(|err| invalid(format!("the provider's ID token is not valid: {err}")))?;
                Ok(ExternalProfile {
                    provider: provider.id.clone(),
                    subject: claims.subject().as_str().to_owned(),
                    login: claims.preferred_username().map(|name| name.as_str().to_owned()),
                    display_name: claims.name().and_then(|name| name.get(None)).map(|name| name.as_str().to_owned()),
                    avatar_url: claims.picture().and_then(|url| url.get(None)).map(|url| url.as_str().to_owned()),
                    email: claims.email().map(|email| email.as_str().to_owned()),
                })
            }
        }
    }
}
