//! Layered configuration shared by every service: built-in defaults, then the TOML file named
//! by `AJET_CONFIG` (if any), then `AJET_*` environment variables (`AJET_DATABASE_URL` sets
//! `database_url`). Validation errors name the key that is wrong.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Where the deployment runs; `dev` unlocks the dev login and nothing else.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Dev,
    Test,
    Prod,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

/// How an OAuth provider speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// GitHub (or GitHub Enterprise: set `url` and `api_url`).
    Github,
    /// Gitea or Forgejo at `url`.
    Gitea,
    /// Any OpenID Connect provider; `url` is its issuer (discovery, ID-token checks).
    Oidc,
}

impl ProviderKind {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Github => "github",
            Self::Gitea => "gitea",
            Self::Oidc => "oidc",
        }
    }
}

/// One login provider (`[[oauth_providers]]` in the TOML file).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OAuthProvider {
    /// The URL segment (`/auth/{id}/start`) and the `oauth_accounts.provider` key; keep it
    /// stable once people have logged in with it.
    pub id: String,
    pub kind: ProviderKind,
    /// Shown on the login page; defaults to the id.
    #[serde(default)]
    pub name: Option<String>,
    pub client_id: String,
    pub client_secret: Secret,
    /// Scopes to request; empty: the kind's defaults (`read:user user:email`,
    /// `read:user`, `openid profile email`).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// GitHub: the web base (default `https://github.com`); Gitea: its base URL; OIDC: the
    /// issuer, exactly as the provider states it.
    #[serde(default)]
    pub url: Option<String>,
    /// GitHub: the API base (default `https://api.github.com`).
    #[serde(default)]
    pub api_url: Option<String>,
}

/// A value that must never reach a log: `Debug` and `Display` print `[redacted]`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    #[must_use]
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Every setting of every service; each service reads the keys it needs.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Config {
    pub env: Environment,
    /// Postgres URL (may hold a password, hence secret).
    pub database_url: Secret,
    pub database_max_connections: u32,
    /// The api applies pending migrations at start (they take an advisory lock, so several
    /// instances may start together).
    pub migrate_on_start: bool,
    /// NATS server(s): one URL, or several separated by commas (the nodes of a cluster;
    /// the client also learns the others from the one it reaches).
    pub nats_url: String,
    /// The JetStream stream holding every persisted event.
    pub stream_name: String,
    /// Copies JetStream keeps of that stream: 1 on a single NATS server (dev), 3 on a
    /// three-node cluster (each event survives the loss of a node). 1 to 5. Applied when
    /// the stream is created, and to an existing stream whose count differs.
    pub stream_replicas: usize,
    pub s3_endpoint: String,
    /// The browser-facing S3 endpoint for presigned URLs, when it differs.
    pub s3_public_endpoint: Option<String>,
    pub s3_region: String,
    pub s3_bucket: String,
    pub s3_access_key: String,
    pub s3_secret_key: Secret,
    pub gateway_listen: SocketAddr,
    pub api_listen: SocketAddr,
    pub web_listen: SocketAddr,
    pub tui_listen: SocketAddr,
    /// Where the gateway and the session managers reach the api.
    pub api_url: String,
    pub web_url: String,
    pub tui_url: String,
    /// The gateway's instances of each service, when there are several: requests and new
    /// event streams go round robin over the healthy ones (`/readyz` checked every second;
    /// one refusing connections is skipped at once). Empty: just `api_url`, `web_url`,
    /// `tui_url`. As env: `AJET_API_URLS='["http://api-1:8081","http://api-2:8081"]'`.
    /// A session manager reads the first of `api_urls` until it refuses a connection, then
    /// the next (order each instance's list to spread them).
    pub api_urls: Vec<String>,
    pub web_urls: Vec<String>,
    pub tui_urls: Vec<String>,
    /// The URL people open.
    pub public_url: String,
    /// `Secure` on the session cookie; only plain-http development turns it off.
    pub cookie_secure: bool,
    /// A session unused this long ends (each use moves the expiry forward).
    pub session_ttl_days: u32,
    /// A session ends this long after its login however much it is used.
    pub session_max_age_days: u32,
    /// Active (unrevoked, unexpired) API tokens a user may hold at once (409 beyond).
    pub max_api_tokens_per_user: u32,
    /// Open (unrevoked, unexpired, not used up) invites a community may have at once (409
    /// beyond); a member who is not an admin may hold a tenth of them (at least one).
    pub max_open_invites_per_community: u32,
    /// Event streams (`/tui/*` streams through the gateway) one user may hold open at once
    /// (429 `too_many_streams` beyond).
    pub max_streams_per_user: u32,
    /// Requests one gateway forwards to the services at once (event streams not counted):
    /// beyond, it answers 503 `overloaded` with `Retry-After` at once instead of queueing.
    pub gateway_max_requests: u32,
    /// Event streams one gateway holds open at once (all users together): beyond, 503
    /// `overloaded` with `Retry-After`, before descriptors or memory run out.
    pub gateway_max_streams: u32,
    /// Group DMs (more than two people) one user may create per hour (429 beyond).
    pub group_dms_per_hour: u32,
    /// `@channel`, `@everyone` and `@here` in a channel with more members than this need a
    /// community admin (400 `broadcast_needs_admin` otherwise).
    pub broadcast_mention_max_members: u32,
    /// How long the gateway and the api may trust a token they validated, in seconds (0
    /// disables the caches). This bounds how long a token revoked through another process
    /// (a logout at the gateway for the api, another instance) keeps working there, so it
    /// is at most 4.
    pub auth_cache_secs: u64,
    /// Validated tokens the gateway (and the api) remembers at most.
    pub auth_cache_capacity: usize,
    /// How often the gateway re-checks the tokens behind the event streams it proxies, in
    /// seconds (at most 4, so a revoked credential's stream ends within 5 s even if its
    /// `access.revoked` event is lost).
    pub sse_auth_recheck_secs: u64,
    /// The session managers' safety net: how often they re-check what the user behind their
    /// open streams may see (`GET /api/me`, once per token per process), in seconds; a
    /// token's first check comes at a random point of its second half, so streams opened
    /// together do not check together. Access changes are pushed as events (a removal
    /// twice, a revocation also caught by the gateway's re-check); this only catches one
    /// that was lost, so it is slow: 1,200 s keeps 10,000 idle streams of 1,000 tokens
    /// under 1 api request/s.
    pub sse_access_check_secs: u64,
    /// Requests per minute per token (and per IP for requests without a valid token), with
    /// bursts of the same size.
    pub rate_limit_per_minute: u32,
    /// Requests per minute per IP to `/auth/*` (logins, logouts, callbacks).
    pub login_rate_limit_per_minute: u32,
    /// The header a trusted reverse proxy puts the client's address in (`x-real-ip` behind
    /// our nginx). Unset: the peer address of the connection, which is right only when
    /// nothing sits in front of the gateway.
    pub client_ip_header: Option<String>,
    /// Origins (`https://app.example.com`) allowed to call the gateway from other sites'
    /// pages (CORS). Empty: none.
    pub cors_allowed_origins: Vec<String>,
    /// TEST-ONLY: hosts (as written in URLs: `127.0.0.1`, `localhost`, `[::1]`) that link
    /// previews may fetch even though the SSRF guard refuses their addresses, so tests can
    /// reach a local server. Empty by default; never set it in a deployment.
    pub link_preview_allow_hosts: Vec<String>,
    /// The largest request body the gateway accepts, in bytes (413 beyond).
    pub max_body_bytes: u64,
    /// The largest file the api accepts as an attachment, in bytes (413 beyond). The
    /// gateway's `max_body_bytes` must leave room for it and the multipart framing.
    pub attachment_max_bytes: u64,
    /// The most bytes of uploads one user may keep stored, attached or not (413
    /// `attachment_quota_exceeded` beyond).
    pub attachment_quota_bytes: u64,
    /// How long an upload no message references is kept before the api's sweeper deletes
    /// it, in seconds (default a day).
    pub attachment_unattached_secs: u64,
    /// How often the api's sweeper looks for attachments to delete (those of deleted
    /// messages, and expired unattached uploads), in seconds; a delete also wakes it.
    pub attachment_sweep_secs: u64,
    /// The largest incoming-webhook payload, in bytes (413 beyond).
    pub webhook_max_body_bytes: u64,
    /// Posts per minute per incoming webhook, with bursts of the same size.
    pub webhook_rate_limit_per_minute: u32,
    /// How long a CLI loopback login's one-time code may wait for its exchange (1–60 s).
    pub cli_login_code_secs: u64,
    /// Login providers; see `OAuthProvider`.
    pub oauth_providers: Vec<OAuthProvider>,
    /// Base64 of at least 64 random bytes encrypting the short-lived login cookie (OAuth
    /// state, PKCE verifier, nonce). Unset: a random key per process, so a login started
    /// before a restart (or on another instance) must start again.
    pub cookie_key: Option<Secret>,
    pub message_max_chars: usize,
    pub sse_keepalive_secs: u64,
    /// Persistent events queued per SSE connection before it is closed for replay.
    pub sse_queue_len: usize,
    /// A typist silent this long is announced as stopped by the session managers.
    pub typing_expiry_secs: u64,
    /// How often the session managers push each stream its batched presence changes.
    pub presence_interval_secs: u64,
    pub log: String,
    pub log_format: LogFormat,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            env: Environment::Prod,
            database_url: Secret::new("postgres://ajet@127.0.0.1:15432/ajet"),
            database_max_connections: 20,
            migrate_on_start: true,
            nats_url: "nats://127.0.0.1:14222".into(),
            stream_name: "CHAT".into(),
            stream_replicas: 1,
            s3_endpoint: "http://127.0.0.1:18333".into(),
            s3_public_endpoint: None,
            s3_region: "us-east-1".into(),
            s3_bucket: "ajet".into(),
            s3_access_key: "ajetdev".into(),
            s3_secret_key: Secret::new("ajetdevsecret"),
            gateway_listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            api_listen: SocketAddr::from(([127, 0, 0, 1], 8081)),
            web_listen: SocketAddr::from(([127, 0, 0, 1], 8082)),
            tui_listen: SocketAddr::from(([127, 0, 0, 1], 8083)),
            api_url: "http://127.0.0.1:8081".into(),
            web_url: "http://127.0.0.1:8082".into(),
            tui_url: "http://127.0.0.1:8083".into(),
            api_urls: Vec::new(),
            web_urls: Vec::new(),
            tui_urls: Vec::new(),
            public_url: "http://localhost:8080".into(),
            cookie_secure: true,
            session_ttl_days: 30,
            session_max_age_days: 90,
            max_api_tokens_per_user: 100,
            max_open_invites_per_community: 100,
            max_streams_per_user: 20,
            gateway_max_requests: 128,
            gateway_max_streams: 20_000,
            group_dms_per_hour: 20,
            broadcast_mention_max_members: 1000,
            auth_cache_secs: 2,
            auth_cache_capacity: 10_000,
            sse_auth_recheck_secs: 3,
            sse_access_check_secs: 1200,
            rate_limit_per_minute: 600,
            login_rate_limit_per_minute: 30,
            client_ip_header: None,
            cors_allowed_origins: Vec::new(),
            link_preview_allow_hosts: Vec::new(),
            max_body_bytes: 25 * 1024 * 1024,
            attachment_max_bytes: 25 * 1024 * 1024,
            attachment_quota_bytes: 1024 * 1024 * 1024,
            attachment_unattached_secs: 24 * 60 * 60,
            attachment_sweep_secs: 60,
            webhook_max_body_bytes: 64 * 1024,
            webhook_rate_limit_per_minute: 60,
            cli_login_code_secs: 60,
            oauth_providers: Vec::new(),
            cookie_key: None,
            message_max_chars: 4000,
            sse_keepalive_secs: 15,
            sse_queue_len: 1024,
            typing_expiry_secs: 15,
            presence_interval_secs: 60,
            log: "info".into(),
            log_format: LogFormat::Pretty,
        }
    }
}

/// A session's two limits: it ends when unused for `rolling`, and `absolute` after its
/// login whatever happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionLifetime {
    pub rolling: Duration,
    pub absolute: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration could not be read: {0}")]
    Load(String),
    #[error("configuration key `{key}` is invalid: {message}")]
    Invalid { key: &'static str, message: String },
}

impl Config {
    /// Defaults → `$AJET_CONFIG` (TOML) → `AJET_*` environment.
    pub fn load() -> Result<Self, ConfigError> {
        let file = std::env::var_os("AJET_CONFIG").map(PathBuf::from);
        Self::figment(file).extract().map_err(|e| ConfigError::Load(e.to_string())).and_then(Self::validated)
    }

    fn figment(file: Option<PathBuf>) -> Figment {
        let mut figment = Figment::from(Serialized::defaults(Self::default()));
        if let Some(path) = file {
            figment = figment.merge(Toml::file_exact(path));
        }
        figment.merge(Env::prefixed("AJET_").ignore(&["config"]).filter(|key| !key.as_str().starts_with("test_")))
    }

    /// Checks what types alone cannot.
    pub fn validated(self) -> Result<Self, ConfigError> {
        let url = |key: &'static str, value: &str, schemes: &[&str]| {
            if schemes.iter().any(|scheme| value.starts_with(&format!("{scheme}://"))) {
                Ok(())
            } else {
                Err(ConfigError::Invalid {
                    key,
                    message: format!("`{value}` must start with {}://", schemes.join(":// or ")),
                })
            }
        };
        url("database_url", self.database_url.expose(), &["postgres", "postgresql"]).map_err(|_| {
            ConfigError::Invalid { key: "database_url", message: "must start with postgres:// or postgresql://".into() }
        })?;
        for server in self.nats_url.split(',') {
            url("nats_url", server.trim(), &["nats", "tls"])?;
        }
        if !(1..=5).contains(&self.stream_replicas) {
            return Err(ConfigError::Invalid { key: "stream_replicas", message: "must be 1 to 5".into() });
        }
        url("s3_endpoint", &self.s3_endpoint, &["http", "https"])?;
        if let Some(public) = &self.s3_public_endpoint {
            url("s3_public_endpoint", public, &["http", "https"])?;
        }
        url("api_url", &self.api_url, &["http", "https"])?;
        url("web_url", &self.web_url, &["http", "https"])?;
        url("tui_url", &self.tui_url, &["http", "https"])?;
        for (key, list) in [("api_urls", &self.api_urls), ("web_urls", &self.web_urls), ("tui_urls", &self.tui_urls)] {
            for value in list {
                url(key, value, &["http", "https"])?;
            }
        }
        url("public_url", &self.public_url, &["http", "https"])?;
        let positive = |key: &'static str, value: u64| {
            if value == 0 {
                Err(ConfigError::Invalid { key, message: "must be greater than 0".into() })
            } else {
                Ok(())
            }
        };
        positive("database_max_connections", self.database_max_connections.into())?;
        positive("session_ttl_days", self.session_ttl_days.into())?;
        positive("session_max_age_days", self.session_max_age_days.into())?;
        positive("max_api_tokens_per_user", self.max_api_tokens_per_user.into())?;
        positive("max_open_invites_per_community", self.max_open_invites_per_community.into())?;
        positive("max_streams_per_user", self.max_streams_per_user.into())?;
        positive("gateway_max_requests", self.gateway_max_requests.into())?;
        positive("gateway_max_streams", self.gateway_max_streams.into())?;
        positive("group_dms_per_hour", self.group_dms_per_hour.into())?;
        positive("broadcast_mention_max_members", self.broadcast_mention_max_members.into())?;
        positive("message_max_chars", self.message_max_chars as u64)?;
        positive("sse_auth_recheck_secs", self.sse_auth_recheck_secs)?;
        positive("sse_access_check_secs", self.sse_access_check_secs)?;
        positive("rate_limit_per_minute", self.rate_limit_per_minute.into())?;
        positive("login_rate_limit_per_minute", self.login_rate_limit_per_minute.into())?;
        positive("max_body_bytes", self.max_body_bytes)?;
        positive("attachment_max_bytes", self.attachment_max_bytes)?;
        positive("attachment_quota_bytes", self.attachment_quota_bytes)?;
        positive("attachment_unattached_secs", self.attachment_unattached_secs)?;
        positive("attachment_sweep_secs", self.attachment_sweep_secs)?;
        positive("webhook_max_body_bytes", self.webhook_max_body_bytes)?;
        positive("webhook_rate_limit_per_minute", self.webhook_rate_limit_per_minute.into())?;
        positive("cli_login_code_secs", self.cli_login_code_secs)?;
        if self.cli_login_code_secs > 60 {
            return Err(ConfigError::Invalid {
                key: "cli_login_code_secs",
                message: "must be at most 60 (seconds)".into(),
            });
        }
        // A revoked token must stop working within 5 s everywhere.
        for (key, value) in
            [("auth_cache_secs", self.auth_cache_secs), ("sse_auth_recheck_secs", self.sse_auth_recheck_secs)]
        {
            if value > 4 {
                return Err(ConfigError::Invalid { key, message: "must be at most 4 (seconds)".into() });
            }
        }
        if let Some(name) = &self.client_ip_header
            && http::HeaderName::try_from(name.as_str()).is_err()
        {
            return Err(ConfigError::Invalid {
                key: "client_ip_header",
                message: format!("`{name}` is not a header name"),
            });
        }
        for origin in &self.cors_allowed_origins {
            url("cors_allowed_origins", origin, &["http", "https"])?;
            let rest = origin.split_once("://").map_or("", |(_, rest)| rest);
            if rest.is_empty() || rest.contains('/') {
                return Err(ConfigError::Invalid {
                    key: "cors_allowed_origins",
                    message: format!("`{origin}` must be an origin: scheme://host[:port], no path or trailing slash"),
                });
            }
        }
        self.validate_providers()?;
        if let Some(key) = &self.cookie_key {
            use base64::Engine as _;
            let bytes = base64::engine::general_purpose::STANDARD.decode(key.expose().trim()).unwrap_or_default();
            if bytes.len() < 64 {
                return Err(ConfigError::Invalid {
                    key: "cookie_key",
                    message: "must be base64 of at least 64 random bytes (head -c 64 /dev/urandom | base64 -w0)".into(),
                });
            }
        }
        positive("sse_keepalive_secs", self.sse_keepalive_secs)?;
        positive("sse_queue_len", self.sse_queue_len as u64)?;
        positive("typing_expiry_secs", self.typing_expiry_secs)?;
        positive("presence_interval_secs", self.presence_interval_secs)?;
        if self.stream_name.is_empty()
            || !self.stream_name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(ConfigError::Invalid {
                key: "stream_name",
                message: "must be letters, digits, '-' or '_'".into(),
            });
        }
        if self.env == Environment::Prod && !self.cookie_secure && self.public_url.starts_with("https://") {
            return Err(ConfigError::Invalid {
                key: "cookie_secure",
                message: "may be false only for plain-http deployments".into(),
            });
        }
        Ok(self)
    }

    fn validate_providers(&self) -> Result<(), ConfigError> {
        let invalid = |message: String| Err(ConfigError::Invalid { key: "oauth_providers", message });
        for (n, provider) in self.oauth_providers.iter().enumerate() {
            let id = &provider.id;
            let well_formed = id.len() <= 32
                && id.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
                && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
            if !well_formed || id == "dev" || id == "logout" || id == "login" || id == "cli" {
                return invalid(format!("id `{id}` must match [a-z0-9][a-z0-9_-]{{0,31}} and not be a reserved name"));
            }
            if self.oauth_providers[..n].iter().any(|other| other.id == *id) {
                return invalid(format!("id `{id}` is configured twice"));
            }
            if provider.kind != ProviderKind::Github && provider.url.is_none() {
                return invalid(format!("provider `{id}` needs `url`"));
            }
            for url in provider.url.iter().chain(provider.api_url.iter()) {
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    return invalid(format!("provider `{id}`: `{url}` must start with http:// or https://"));
                }
            }
        }
        Ok(())
    }

    #[must_use]
    pub fn cli_login_code_ttl(&self) -> Duration {
        Duration::from_secs(self.cli_login_code_secs)
    }

    pub fn session_ttl(&self) -> Duration {
        Duration::from_secs(u64::from(self.session_ttl_days) * 24 * 3600)
    }

    /// How long a session lives: rolling with use, and absolutely from its login.
    #[must_use]
    pub fn session_lifetime(&self) -> SessionLifetime {
        SessionLifetime {
            rolling: self.session_ttl(),
            absolute: Duration::from_secs(u64::from(self.session_max_age_days) * 24 * 3600),
        }
    }

    #[must_use]
    pub fn auth_cache_ttl(&self) -> Duration {
        Duration::from_secs(self.auth_cache_secs)
    }

    #[must_use]
    pub fn sse_auth_recheck(&self) -> Duration {
        Duration::from_secs(self.sse_auth_recheck_secs)
    }

    #[must_use]
    pub fn sse_access_check(&self) -> Duration {
        Duration::from_secs(self.sse_access_check_secs)
    }

    #[must_use]
    pub fn sse_keepalive(&self) -> Duration {
        Duration::from_secs(self.sse_keepalive_secs)
    }

    #[must_use]
    pub fn typing_expiry(&self) -> Duration {
        Duration::from_secs(self.typing_expiry_secs)
    }

    #[must_use]
    pub fn presence_interval(&self) -> Duration {
        Duration::from_secs(self.presence_interval_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_with(toml: &str) -> Result<Config, ConfigError> {
        Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::string(toml))
            .extract::<Config>()
            .map_err(|e| ConfigError::Load(e.to_string()))
            .and_then(Config::validated)
    }

    #[test]
    fn defaults_are_valid_and_toml_overrides_them() {
        let config = load_with("env = \"dev\"\nmessage_max_chars = 10").expect("valid");
        assert_eq!(config.env, Environment::Dev);
        assert_eq!(config.message_max_chars, 10);
        assert_eq!(config.api_listen.port(), 8081);
    }

    #[test]
    fn invalid_values_name_their_key() {
        let err = load_with("nats_url = \"http://x\"").expect_err("bad scheme").to_string();
        assert!(err.contains("`nats_url`"), "{err}");
        let err = load_with("api_listen = \"nope\"").expect_err("bad address").to_string();
        assert!(err.contains("api_listen"), "{err}");
        let err = load_with("auth_cache_secs = 10").expect_err("too stale").to_string();
        assert!(err.contains("`auth_cache_secs`"), "{err}");
        let err = load_with("cors_allowed_origins = [\"https://a.example/\"]").expect_err("not an origin").to_string();
        assert!(err.contains("`cors_allowed_origins`"), "{err}");
        let err = load_with("api_urls = [\"http://a:8081\", \"api-2:8081\"]").expect_err("no scheme").to_string();
        assert!(err.contains("`api_urls`"), "{err}");
        let err = load_with("nats_url = \"nats://a:4222,b:4222\"").expect_err("no scheme").to_string();
        assert!(err.contains("`nats_url`"), "{err}");
        let err = load_with("stream_replicas = 0").expect_err("no copy").to_string();
        assert!(err.contains("`stream_replicas`"), "{err}");
        let config = load_with("nats_url = \"nats://a:4222, nats://b:4222\"\nstream_replicas = 3").expect("a cluster");
        assert_eq!(config.stream_replicas, 3);
        let err = load_with("message_max_chars = 0").expect_err("zero").to_string();
        assert!(err.contains("`message_max_chars`"), "{err}");
    }

    #[test]
    fn providers_and_the_cookie_key_are_checked() {
        let provider =
            "[[oauth_providers]]\nid = \"corp\"\nkind = \"oidc\"\nclient_id = \"a\"\nclient_secret = \"b\"\n";
        let err = load_with(provider).expect_err("oidc needs its issuer").to_string();
        assert!(err.contains("`oauth_providers`"), "{err}");
        let config = load_with(&format!("{provider}url = \"https://id.example\"")).expect("valid");
        assert_eq!(config.oauth_providers[0].kind, ProviderKind::Oidc);
        let err = load_with("cookie_key = \"c2hvcnQ=\"").expect_err("too short").to_string();
        assert!(err.contains("`cookie_key`"), "{err}");
    }

    #[test]
    fn secrets_are_not_printed() {
        let config = Config::default();
        assert!(!format!("{config:?}").contains("ajetdevsecret"));
    }
}
