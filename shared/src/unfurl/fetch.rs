//! The link-preview fetcher: one HTTP GET of an untrusted URL behind the SSRF guard.
//!
//! *Invariant:* a preview fetch connects only to addresses the guard has checked. Each hop
//! (the first request and each of at most `MAX_REDIRECTS` redirects, followed by hand) is
//! checked before it is sent: http or https only, no credentials in the URL, an IP literal
//! judged by `guard::refused_range`; a host name is resolved by `GuardedResolver`, which is
//! reqwest's resolver, so the addresses it vets are exactly those connected to (no second
//! resolution), and a name with any refused address is refused whole. No proxy from the
//! environment, no cookie store, `FETCH_TIMEOUT` for the whole fetch, `MAX_BODY_BYTES`,
//! and only `text/html` answers are read. Hosts in `link_preview_allow_hosts` (test-only
//! config) skip the address check so tests can reach a local server.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE, LOCATION};

use super::guard::{Refused, refused_range};

/// Redirects followed at most, each re-checked.
pub const MAX_REDIRECTS: usize = 3;
/// The whole fetch, redirects and body included.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest page read; a longer one is refused.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Why a preview could not be fetched. None of these is the user's fault or worth more
/// than a debug log: the message simply gets no preview.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("not a URL: {0}")]
    Url(#[from] url::ParseError),
    #[error("scheme `{0}` is not http or https")]
    Scheme(String),
    #[error("URL carries credentials")]
    Credentials,
    #[error("URL has no host")]
    NoHost,
    #[error(transparent)]
    Refused(#[from] Refused),
    #[error("more than {MAX_REDIRECTS} redirects")]
    TooManyRedirects,
    #[error("redirect without a usable Location")]
    BadRedirect,
    #[error("answered {0}")]
    Status(u16),
    #[error("content type `{0}` is not text/html")]
    NotHtml(String),
    #[error("page larger than {MAX_BODY_BYTES} bytes")]
    TooLarge,
    #[error("no answer within {FETCH_TIMEOUT:?}")]
    Timeout,
    #[error("request failed: {0}")]
    Http(reqwest::Error),
}

impl From<reqwest::Error> for FetchError {
    /// A refusal by `GuardedResolver` arrives wrapped in reqwest's connect error: unwrap it.
    fn from(err: reqwest::Error) -> Self {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&err);
        while let Some(cause) = source {
            if let Some(refused) = cause.downcast_ref::<Refused>() {
                return Self::Refused(refused.clone());
            }
            source = cause.source();
        }
        if err.is_timeout() { Self::Timeout } else { Self::Http(err) }
    }
}

/// A fetched HTML page and the URL it was finally served from (after redirects).
#[derive(Debug, Clone)]
pub struct Page {
    pub url: Url,
    pub html: String,
}

/// reqwest's resolver for preview fetches: resolves with the system resolver and returns
/// the addresses only if every one of them passes the guard.
struct GuardedResolver {
    allow_hosts: Arc<HashSet<String>>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_ascii_lowercase();
        let allowed = self.allow_hosts.contains(&host);
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let refused = if allowed {
                None
            } else {
                addrs.iter().find_map(|a| refused_range(a.ip()).map(|range| (a.ip(), range)))
            };
            if let Some((addr, range)) = refused {
                return Err(Box::new(Refused { host, addr, range }) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Fetches pages for link previews; cheap to clone (one connection pool).
#[derive(Clone)]
pub struct Fetcher {
    http: reqwest::Client,
    allow_hosts: Arc<HashSet<String>>,
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher").field("allow_hosts", &self.allow_hosts).finish_non_exhaustive()
    }
}

impl Fetcher {
    /// A fetcher refusing every non-public address except for the hosts in `allow_hosts`
    /// (the test-only `link_preview_allow_hosts`: host names or IP literals as written in
    /// URLs, such as `127.0.0.1` or `[::1]`).
    pub fn new(allow_hosts: &[String]) -> Result<Self, FetchError> {
        crate::client::install_crypto_provider();
        let allow_hosts: Arc<HashSet<String>> = Arc::new(allow_hosts.iter().map(|h| h.to_ascii_lowercase()).collect());
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver { allow_hosts: Arc::clone(&allow_hosts) }))
            .timeout(FETCH_TIMEOUT)
            .user_agent(concat!("ajet-chat-link-preview/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(FetchError::Http)?;
        Ok(Self { http, allow_hosts })
    }

    /// Fetches `url` as HTML behind the guard, following at most `MAX_REDIRECTS`
    /// redirects, within `FETCH_TIMEOUT` in all.
    pub async fn fetch_html(&self, url: &str) -> Result<Page, FetchError> {
        let url = Url::parse(url)?;
        tokio::time::timeout(FETCH_TIMEOUT, self.follow(url)).await.map_err(|_| FetchError::Timeout)?
    }

    async fn follow(&self, mut url: Url) -> Result<Page, FetchError> {
        for hop in 0..=MAX_REDIRECTS {
            self.check(&url)?;
            let mut response = self.http.get(url.clone()).header(ACCEPT, "text/html").send().await?;
            let status = response.status();
            if status.is_redirection() {
                if hop == MAX_REDIRECTS {
                    return Err(FetchError::TooManyRedirects);
                }
                let location =
                    response.headers().get(LOCATION).and_then(|v| v.to_str().ok()).ok_or(FetchError::BadRedirect)?;
                url = url.join(location).map_err(|_| FetchError::BadRedirect)?;
                continue;
            }
            if !status.is_success() {
                return Err(FetchError::Status(status.as_u16()));
            }
            let content_type =
                response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
            let essence = content_type.split(';').next().unwrap_or("").trim();
            if !essence.eq_ignore_ascii_case("text/html") {
                return Err(FetchError::NotHtml(content_type));
            }
            let declared = response
                .headers()
                .get(CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<usize>().ok());
            if declared.is_some_and(|len| len > MAX_BODY_BYTES) {
                return Err(FetchError::TooLarge);
            }
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await? {
                if body.len() + chunk.len() > MAX_BODY_BYTES {
                    return Err(FetchError::TooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            return Ok(Page { url, html: String::from_utf8_lossy(&body).into_owned() });
        }
        Err(FetchError::TooManyRedirects)
    }

    /// The checks made before each hop is sent; host names are checked by the resolver.
    fn check(&self, url: &Url) -> Result<(), FetchError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::Scheme(url.scheme().to_owned()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(FetchError::Credentials);
        }
        let host = url.host_str().ok_or(FetchError::NoHost)?;
        if self.allow_hosts.contains(&host.to_ascii_lowercase()) {
            return Ok(());
        }
        let ip = match url.host() {
            Some(url::Host::Ipv4(v4)) => IpAddr::V4(v4),
            Some(url::Host::Ipv6(v6)) => IpAddr::V6(v6),
            Some(url::Host::Domain(_)) => return Ok(()),
            None => return Err(FetchError::NoHost),
        };
        match refused_range(ip) {
            Some(range) => Err(Refused { host: host.to_owned(), addr: ip, range }.into()),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn urls_to_refused_addresses_are_refused_before_any_request() {
        let fetcher = Fetcher::new(&[]).expect("fetcher");
        let refused = [
            "http://127.0.0.1/",
            "http://127.0.0.1:8080/admin",
            "https://10.0.0.1/",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://[64:ff9b::a9fe:a9fe]/",
            "http://[2002:7f00:1::1]/",
            "http://[fd00:ec2::254]/",
            "http://[fe80::1]/",
            "http://0.0.0.0/",
            "http://100.64.0.1/",
            "http://255.255.255.255/",
            "http://224.0.0.1/",
            // Decimal, hexadecimal, octal and short spellings of 127.0.0.1 and the metadata address.
            "http://2130706433/",
            "http://0x7f000001/",
            "http://0x7f.0.0.1/",
            "http://0177.0.0.1/",
            "http://127.1/",
            "http://2852039166/",
            "http://0xa9.0xfe.0xa9.0xfe/",
            // A name resolving to loopback.
            "http://localhost/",
        ];
        for url in refused {
            let err = fetcher.fetch_html(url).await.expect_err(url);
            assert!(matches!(err, FetchError::Refused(_)), "{url}: {err}");
        }
    }

    #[tokio::test]
    async fn only_http_and_https_without_credentials_are_fetched() {
        let fetcher = Fetcher::new(&[]).expect("fetcher");
        for url in
            ["file:///etc/passwd", "ftp://example.com/", "gopher://example.com/", "data:text/html,<title>x</title>"]
        {
            let err = fetcher.fetch_html(url).await.expect_err(url);
            assert!(matches!(err, FetchError::Scheme(_)), "{url}: {err}");
        }
        let err = fetcher.fetch_html("http://user:pw@example.com/").await.expect_err("credentials");
        assert!(matches!(err, FetchError::Credentials), "{err}");
    }
}
