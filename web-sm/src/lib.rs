//! web-sm: the browsers' session manager. It serves the web client as server-rendered
//! pages (maud views, `views`) kept live over one Datastar SSE stream per tab
//! (`routes::stream`, an adapter over the shared stream core), with actions as Datastar or
//! form POSTs (`routes::actions`). It reads and writes only through the api with the
//! viewer's own token and reads live events only from NATS; it never touches Postgres.
//! Every HTML answer carries `CONTENT_SECURITY_POLICY`.

pub mod assets;
pub mod datastar;
pub mod error;
pub mod extract;
pub mod fanout;
pub mod markdown;
mod routes;
pub mod switcher;
pub mod views;

use ajet_shared::client::ApiClient;
use ajet_shared::config::Config;
use ajet_shared::events::bus::NatsBus;
use ajet_shared::server;
use ajet_shared::stream::Streams;
use axum::Router;
use axum::extract::{FromRef, Request};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// The pages' Content-Security-Policy, stricter than the gateway's default: scripts only
/// from our origin (the vendored Datastar module), with `'unsafe-eval'` because Datastar
/// compiles its `data-*` expressions with `Function` — and nothing inline, so injected
/// markup cannot run script even if it got past escaping and sanitising; styles only from
/// our stylesheet (no `style` attributes, no inline `<style>`); images only from us
/// (attachments, thumbnails, avatars): a Markdown image or a link preview never makes a
/// reader's browser fetch from a third party, which would tell it who reads what; fetches (Datastar's actions and stream) and
/// forms only to our origin; no plugins, no `<base>`, no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self' 'unsafe-eval'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

#[derive(Clone, FromRef)]
pub struct WebState {
    pub streams: Streams<NatsBus>,
    pub api: ApiClient,
    pub public_url: PublicUrl,
    /// Renders and re-reads shared by every tab of the process (`fanout`).
    pub fanout: fanout::Fanout,
    /// The quick switcher's directories, one per opening (`switcher`).
    pub switcher: switcher::Openings,
}

/// The URL people open ajet-chat at (`public_url`): invite links are made with it.
#[derive(Clone, Debug)]
pub struct PublicUrl(pub String);

impl PublicUrl {
    /// Its origin, without a trailing slash.
    #[must_use]
    pub fn origin(&self) -> &str {
        self.0.trim_end_matches('/')
    }
}

/// Sets the CSP on every HTML answer.
async fn content_security_policy(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if is_html {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    }
    response
}

/// web-sm's routes, with the CSP on pages and gzip for what is worth compressing: pages,
/// CSS and JS (a channel page of 50 messages is ~160 KiB of HTML, ~20 KiB gzipped).
/// tower-http's default predicate leaves out event streams (the Datastar actions' answers,
/// which must reach the browser as each frame is written), images and bodies under 32
/// bytes. The tab's stream (`/sse`) is outside both layers: an idle stream then holds no
/// compression wrapper of its body.
pub fn router(state: WebState) -> Router {
    routes::router()
        .layer(middleware::from_fn(content_security_policy))
        .layer(tower_http::compression::CompressionLayer::new())
        .merge(routes::stream_router())
        .with_state(state)
}

/// Connects to NATS, starts the process's event feed and serves on `listener` until
/// `shutdown`, which also ends every open stream.
pub async fn serve(config: Config, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    let tasks = tokio_util::task::TaskTracker::new();
    let (streams, readiness) = ajet_shared::stream::start(&config, &tasks, &shutdown).await?;
    let api = streams.api.clone();
    let state = WebState {
        streams,
        api,
        public_url: PublicUrl(config.public_url.clone()),
        fanout: fanout::Fanout::default(),
        switcher: switcher::Openings::default(),
    };
    let app = server::instrument(router(state).merge(server::ops_router(readiness)), "web-sm");
    tracing::info!(address = %listener.local_addr()?, "web-sm listening");
    server::serve(listener, app, shutdown, server::Streams::Multiplexed).await?;
    tasks.close();
    tasks.wait().await;
    Ok(())
}
