//! The route list, as data: every route reachable through the gateway, which service
//! answers it, and whether it is public. The walk calls each one through the gateway
//! without credentials (only public routes may answer anything but 401) and with a valid
//! token (every listed route exists). The table is checked against the route declarations
//! in the services' source, so a new route without a row fails here.
//!
//! To add a route: add a row below. `{param}` segments are filled with a fresh id.

use reqwest::{Method, StatusCode};

use crate::stack::Stack;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Service {
    Gateway,
    Api,
    Tui,
    Web,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    /// Reachable without credentials.
    Public,
    /// 401 without a valid session or token.
    SignedIn,
}

use Access::{Public, SignedIn};
use Service::{Api, Gateway, Tui, Web};

/// (service, method, path, access)
const ROUTES: &[(Service, &str, &str, Access)] = &[
    // The gateway's own.
    (Gateway, "GET", "/healthz", Public),
    (Gateway, "GET", "/readyz", Public),
    (Gateway, "GET", "/metrics", Public),
    (Gateway, "POST", "/auth/dev-login", Public),
    (Gateway, "POST", "/auth/logout", SignedIn),
    (Gateway, "GET", "/auth/login", Public),
    (Gateway, "GET", "/auth/{provider}/start", Public),
    (Gateway, "GET", "/auth/{provider}/callback", Public),
    (Gateway, "GET", "/invite/{code}", Public),
    (Gateway, "GET", "/auth/cli", Public),
    (Gateway, "POST", "/auth/cli", Public),
    (Gateway, "POST", "/auth/cli/exchange", Public),
    (Gateway, "POST", "/hook/{id}/{token}", Public),
    // api (api/src/routes.rs); through the gateway every one needs a session or token.
    (Api, "GET", "/api/me", SignedIn),
    (Api, "PATCH", "/api/me", SignedIn),
    (Api, "GET", "/api/communities", SignedIn),
    (Api, "POST", "/api/communities", SignedIn),
    (Api, "GET", "/api/communities/{id}", SignedIn),
    (Api, "PATCH", "/api/communities/{id}", SignedIn),
    (Api, "GET", "/api/communities/{id}/members", SignedIn),
    (Api, "GET", "/api/communities/{id}/channels", SignedIn),
    (Api, "POST", "/api/communities/{id}/channels", SignedIn),
    (Api, "POST", "/api/communities/{id}/invites", SignedIn),
    (Api, "GET", "/api/communities/{id}/invites", SignedIn),
    (Api, "DELETE", "/api/communities/{id}/invites/{code}", SignedIn),
    (Api, "POST", "/api/invites/{code}/accept", SignedIn),
    (Api, "GET", "/api/channels/{id}", SignedIn),
    (Api, "PATCH", "/api/channels/{id}", SignedIn),
    (Api, "DELETE", "/api/channels/{id}", SignedIn),
    (Api, "POST", "/api/channels/{id}/join", SignedIn),
    (Api, "POST", "/api/channels/{id}/leave", SignedIn),
    (Api, "POST", "/api/channels/{id}/members", SignedIn),
    (Api, "DELETE", "/api/channels/{id}/members/{user_id}", SignedIn),
    (Api, "POST", "/api/channels/{id}/read", SignedIn),
    (Api, "GET", "/api/channels/{id}/messages", SignedIn),
    (Api, "POST", "/api/channels/{id}/messages", SignedIn),
    (Api, "GET", "/api/channels/{id}/pins", SignedIn),
    (Api, "GET", "/api/messages/{id}", SignedIn),
    (Api, "PATCH", "/api/messages/{id}", SignedIn),
    (Api, "DELETE", "/api/messages/{id}", SignedIn),
    (Api, "GET", "/api/messages/{id}/replies", SignedIn),
    (Api, "PUT", "/api/messages/{id}/reactions/{emoji}", SignedIn),
    (Api, "DELETE", "/api/messages/{id}/reactions/{emoji}", SignedIn),
    (Api, "PUT", "/api/messages/{id}/pin", SignedIn),
    (Api, "DELETE", "/api/messages/{id}/pin", SignedIn),
    (Api, "GET", "/api/dms", SignedIn),
    (Api, "POST", "/api/dms", SignedIn),
    (Api, "POST", "/api/heartbeat", SignedIn),
    (Api, "GET", "/api/presence", SignedIn),
    (Api, "GET", "/api/tokens", SignedIn),
    (Api, "POST", "/api/tokens", SignedIn),
    (Api, "DELETE", "/api/tokens/{id}", SignedIn),
    (Api, "GET", "/api/openapi.json", SignedIn),
    (Api, "GET", "/api/webhooks", SignedIn),
    (Api, "POST", "/api/webhooks", SignedIn),
    (Api, "DELETE", "/api/webhooks/{id}", SignedIn),
    // tui-sm (tui-sm/src/routes.rs).
    (Tui, "GET", "/tui/events", SignedIn),
    // web-sm: every other path (pages arrive with the web UI).
    (Web, "GET", "/", SignedIn),
    (Web, "GET", "/c/{slug}", SignedIn),
    (Web, "POST", "/c/{slug}", SignedIn),
];

/// The routes a service's source declares: `(METHOD, path)` for each
/// `.route("path", get(..).post(..))`.
fn declared_routes(source: &str) -> Vec<(String, String)> {
    let mut routes = Vec::new();
    for segment in source.split(".route(").skip(1) {
        // rustfmt may break the call after its opening parenthesis.
        let Some(segment) = segment.trim_start().strip_prefix('"') else { continue };
        let Some((path, rest)) = segment.split_once('"') else { continue };
        let end = [".route(", ".route_layer(", ".fallback(", ".layer(", ".with_state(", ".merge(", ".nest("]
            .iter()
            .filter_map(|stop| rest.find(stop))
            .min()
            .unwrap_or(rest.len());
        let handlers = &rest[..end];
        for method in ["get", "post", "put", "patch", "delete"] {
            let call = format!("{method}(");
            let found = handlers.match_indices(&call).any(|(at, _)| {
                at == 0 || !handlers.as_bytes()[at - 1].is_ascii_alphanumeric() && handlers.as_bytes()[at - 1] != b'_'
            });
            if found {
                routes.push((method.to_ascii_uppercase(), path.to_owned()));
            }
        }
    }
    routes
}

#[test]
fn the_table_lists_exactly_the_routes_the_services_declare() {
    let sources = [
        (Gateway, include_str!("../../src/routes.rs")),
        (Api, include_str!("../../../api/src/routes.rs")),
        (Tui, include_str!("../../../tui-sm/src/routes.rs")),
    ];
    for (service, source) in sources {
        let declared = declared_routes(source);
        assert!(!declared.is_empty(), "no routes found for {service:?}: has the declaration style changed?");
        let listed: Vec<(String, String)> = ROUTES
            .iter()
            .filter(|(s, _, _, _)| *s == service)
            .filter(|(_, _, path, _)| !matches!(*path, "/healthz" | "/readyz" | "/metrics"))
            .map(|(_, method, path, _)| ((*method).to_owned(), (*path).to_owned()))
            .collect();
        for route in &declared {
            assert!(listed.contains(route), "{service:?} declares {route:?}: add a row to ROUTES");
        }
        for route in &listed {
            assert!(declared.contains(route), "ROUTES lists {route:?} for {service:?}, which does not declare it");
        }
    }
}

#[test]
fn the_route_parser_reads_chained_methods_and_ignores_lookalikes() {
    let source = r#"Router::new()
        .route("/a/{id}", get(a::get_thing).post(a::forget_it))
        .route("/b", delete(b::x)).route_layer(layer_get(x)).fallback(get(y))"#;
    assert_eq!(
        declared_routes(source),
        [("GET".into(), "/a/{id}".into()), ("POST".into(), "/a/{id}".into()), ("DELETE".into(), "/b".into())]
    );
}

fn concrete(path: &str) -> String {
    path.split('/')
        .map(|segment| if segment.starts_with('{') { uuid::Uuid::now_v7().to_string() } else { segment.to_owned() })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_route_is_reachable_without_credentials_except_the_public_ones() {
    let stack = Stack::start().await;
    let alice = stack.login("alice").await;
    let anonymous = &stack.gateway;
    for (service, method, path, access) in ROUTES {
        let method = Method::from_bytes(method.as_bytes()).expect("a method");
        let url = concrete(path);
        let response = anonymous
            .request(method.clone(), &url)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .expect("answers");
        match access {
            SignedIn => {
                assert_eq!(
                    response.status(),
                    StatusCode::UNAUTHORIZED,
                    "{method} {path} ({service:?}) without credentials"
                );
                let body: serde_json::Value = response.json().await.expect("a JSON error");
                assert_eq!(body["error"]["code"], "unauthenticated", "{method} {path}");
            }
            Public => {
                assert_ne!(response.status(), StatusCode::UNAUTHORIZED, "{method} {path} is public");
            }
        }

        // With a valid token the route exists: no 401, no 405, and no bare 404 (a missing
        // route) — a JSON 404 about a missing entity is fine.
        // Logging out ends the session it is called with: use one of its own.
        let signed_in = if *path == "/auth/logout" { stack.login("bob").await } else { alice.clone() };
        let response = signed_in
            .request(method.clone(), &url)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .expect("answers");
        let status = response.status();
        assert_ne!(status, StatusCode::UNAUTHORIZED, "{method} {path} with a token");
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path} is declared for this method");
        if status == StatusCode::NOT_FOUND && *service != Web {
            let body: serde_json::Value = response.json().await.unwrap_or_default();
            assert!(
                body["error"]["code"].is_string(),
                "{method} {path}: the route exists (a bare 404 means it does not)"
            );
        }
    }
    stack.stop().await;
}
