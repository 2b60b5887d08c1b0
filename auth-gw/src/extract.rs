//! The client's address: from the header a trusted reverse proxy sets
//! (`client_ip_header`), else the connection's peer. Rate limits and the audit log use it,
//! and the login audit keeps the `User-Agent` too.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use ajet_shared::config::Config;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap, header};

use crate::state::GatewayState;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl ClientIp {
    /// The address requests from this client are counted under: IPv6 clients by their /64,
    /// since one host commonly holds a whole /64.
    pub fn bucket(self) -> IpAddr {
        match self.0 {
            IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
                let segments = v6.segments();
                IpAddr::V6(Ipv6Addr::new(segments[0], segments[1], segments[2], segments[3], 0, 0, 0, 0))
            }
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(self.0, IpAddr::V4),
            IpAddr::V4(_) => self.0,
        }
    }

    /// The client of a request. When the proxy header is configured but missing or
    /// unparsable (someone reached the gateway around the proxy), every such request shares
    /// the unspecified address, and with it one allowance.
    pub fn of(config: &Config, headers: &HeaderMap, extensions: &Extensions) -> Self {
        if let Some(name) = &config.client_ip_header {
            // The proxy appends the address it saw: the last entry is the trustworthy one.
            let ip = headers
                .get(name.as_str())
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .and_then(|v| v.trim().parse::<IpAddr>().ok());
            return Self(ip.unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)));
        }
        let peer = extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip());
        Self(peer.unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)))
    }
}

/// The client's `User-Agent`, as kept on login audit rows: at most 256 characters, control
/// and bidi characters dropped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserAgent(pub Option<String>);

impl UserAgent {
    const MAX_CHARS: usize = 256;

    pub fn of(headers: &HeaderMap) -> Self {
        let agent = headers.get(header::USER_AGENT).map(|value| {
            String::from_utf8_lossy(value.as_bytes())
                .chars()
                .filter(|c| !ajet_shared::domain::names::unfit_for_label(*c))
                .take(Self::MAX_CHARS)
                .collect::<String>()
        });
        Self(agent.filter(|agent| !agent.trim().is_empty()))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for UserAgent {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::of(&parts.headers))
    }
}

impl FromRequestParts<GatewayState> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &GatewayState) -> Result<Self, Self::Rejection> {
        Ok(Self::of(&state.config, &parts.headers, &parts.extensions))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_proxy_header_wins_when_configured_and_its_last_entry_counts() {
        let config = Config { client_ip_header: Some("x-real-ip".into()), ..Config::default() };
        let mut headers = HeaderMap::new();
        headers.insert("x-real-ip", "10.0.0.1, 203.0.113.9".parse().expect("header"));
        let mut extensions = Extensions::new();
        extensions.insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 9))));
        assert_eq!(ClientIp::of(&config, &headers, &extensions).0.to_string(), "203.0.113.9");
        let direct = ClientIp::of(&Config::default(), &headers, &extensions);
        assert_eq!(direct.0.to_string(), "127.0.0.1", "without the setting, the header is not trusted");
    }

    #[test]
    fn ipv6_clients_share_their_slash_64() {
        let a = ClientIp("2001:db8:1:2:aaaa::1".parse().expect("ip"));
        let b = ClientIp("2001:db8:1:2:bbbb::2".parse().expect("ip"));
        assert_eq!(a.bucket(), b.bucket());
        let mapped = ClientIp("::ffff:192.0.2.1".parse().expect("ip"));
        assert_eq!(mapped.bucket().to_string(), "192.0.2.1");
    }
}
