//! The route list, as data: every route reachable through the gateway, which service
//! answers it, and whether it is public. The walk calls each one through the gateway
//! without credentials (only public routes may answer anything but 401) and with a valid
//! token (every listed route exists). The table is checked against the route declarations
//! in the services' source, so a new route without a row fails here.
//!
//! Every route marked `Json` refuses a body with a field it does not know (400
//! `unknown_field` naming it), and the marks agree with the OpenAPI description's request
//! bodies (an upload is marked `Multipart`).
//!
//! To add a route: add a row below. `{param}` segments are filled with a fresh id.

use ajet_shared::api::ErrorCode;
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

/// What the route takes as its body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Takes {
    /// A JSON object of known fields: anything else is refused with `unknown_field`.
    Json,
    /// No JSON body (none, or a format of its own such as a Slack webhook payload).
    NoJson,
    /// A `multipart/form-data` upload (described as such, not as JSON).
    Multipart,
}

use Access::{Public, SignedIn};
use Service::{Api, Gateway, Tui, Web};
use Takes::{Json, Multipart, NoJson};

/// (service, method, path, access, body)
const ROUTES: &[(Service, &str, &str, Access, Takes)] = &[
    // The gateway's own.
    (Gateway, "GET", "/healthz", Public, NoJson),
    (Gateway, "GET", "/readyz", Public, NoJson),
    (Gateway, "GET", "/metrics", Public, NoJson),
    (Gateway, "POST", "/auth/dev-login", Public, Json),
    (Gateway, "POST", "/auth/logout", SignedIn, NoJson),
    (Gateway, "GET", "/auth/login", Public, NoJson),
    (Gateway, "GET", "/auth/{provider}/start", Public, NoJson),
    (Gateway, "GET", "/auth/{provider}/callback", Public, NoJson),
    (Gateway, "GET", "/invite/{code}", Public, NoJson),
    (Gateway, "POST", "/invite/{code}", SignedIn, NoJson),
    (Gateway, "GET", "/auth/assets/{name}", Public, NoJson),
    (Gateway, "GET", "/auth/cli", Public, NoJson),
    (Gateway, "POST", "/auth/cli", Public, NoJson),
    (Gateway, "POST", "/auth/cli/exchange", Public, Json),
    (Gateway, "POST", "/hook/{id}/{token}", Public, NoJson),
    // api (api/src/routes.rs); through the gateway every one needs a session or token.
    (Api, "GET", "/api/me", SignedIn, NoJson),
    (Api, "PATCH", "/api/me", SignedIn, Json),
    (Api, "PUT", "/api/me/avatar", SignedIn, Multipart),
    (Api, "DELETE", "/api/me/avatar", SignedIn, NoJson),
    (Api, "GET", "/api/users/{id}/avatar", SignedIn, NoJson),
    (Api, "PUT", "/api/webhooks/{id}/avatar", SignedIn, Multipart),
    (Api, "GET", "/api/webhooks/{id}/avatar", SignedIn, NoJson),
    (Api, "DELETE", "/api/webhooks/{id}/avatar", SignedIn, NoJson),
    (Api, "GET", "/api/communities", SignedIn, NoJson),
    (Api, "POST", "/api/communities", SignedIn, Json),
    (Api, "GET", "/api/communities/{id}", SignedIn, NoJson),
    (Api, "PATCH", "/api/communities/{id}", SignedIn, Json),
    (Api, "GET", "/api/communities/{id}/members", SignedIn, NoJson),
    (Api, "PATCH", "/api/communities/{id}/members/{user_id}", SignedIn, Json),
    (Api, "GET", "/api/communities/{id}/bans", SignedIn, NoJson),
    (Api, "POST", "/api/communities/{id}/bans", SignedIn, Json),
    (Api, "DELETE", "/api/communities/{id}/bans/{user_id}", SignedIn, NoJson),
    (Api, "POST", "/api/communities/{id}/kicks", SignedIn, Json),
    (Api, "GET", "/api/communities/{id}/mutes", SignedIn, NoJson),
    (Api, "POST", "/api/communities/{id}/mutes", SignedIn, Json),
    (Api, "DELETE", "/api/communities/{id}/mutes/{user_id}", SignedIn, NoJson),
    (Api, "GET", "/api/communities/{id}/audit", SignedIn, NoJson),
    (Api, "GET", "/api/communities/{id}/channels", SignedIn, NoJson),
    (Api, "POST", "/api/communities/{id}/channels", SignedIn, Json),
    (Api, "POST", "/api/communities/{id}/invites", SignedIn, Json),
    (Api, "GET", "/api/communities/{id}/invites", SignedIn, NoJson),
    (Api, "DELETE", "/api/communities/{id}/invites/{code}", SignedIn, NoJson),
    (Api, "POST", "/api/invites/{code}/accept", SignedIn, NoJson),
    (Api, "GET", "/api/channels/{id}", SignedIn, NoJson),
    (Api, "PATCH", "/api/channels/{id}", SignedIn, Json),
    (Api, "DELETE", "/api/channels/{id}", SignedIn, NoJson),
    (Api, "PATCH", "/api/channels/{id}/moderation", SignedIn, Json),
    (Api, "POST", "/api/channels/{id}/purge", SignedIn, Json),
    (Api, "POST", "/api/channels/{id}/join", SignedIn, NoJson),
    (Api, "POST", "/api/channels/{id}/leave", SignedIn, NoJson),
    (Api, "POST", "/api/channels/{id}/members", SignedIn, Json),
    (Api, "DELETE", "/api/channels/{id}/members/{user_id}", SignedIn, NoJson),
    (Api, "POST", "/api/channels/{id}/read", SignedIn, Json),
    (Api, "PATCH", "/api/channels/{id}/preferences", SignedIn, Json),
    (Api, "GET", "/api/channels/{id}/messages", SignedIn, NoJson),
    (Api, "POST", "/api/channels/{id}/messages", SignedIn, Json),
    (Api, "GET", "/api/channels/{id}/pins", SignedIn, NoJson),
    (Api, "POST", "/api/channels/{id}/attachments", SignedIn, Multipart),
    (Api, "GET", "/api/attachments/{id}", SignedIn, NoJson),
    (Api, "GET", "/api/attachments/{id}/thumbnail", SignedIn, NoJson),
    (Api, "GET", "/api/messages/{id}", SignedIn, NoJson),
    (Api, "PATCH", "/api/messages/{id}", SignedIn, Json),
    (Api, "DELETE", "/api/messages/{id}", SignedIn, NoJson),
    (Api, "GET", "/api/messages/{id}/replies", SignedIn, NoJson),
    (Api, "PUT", "/api/messages/{id}/reactions/{emoji}", SignedIn, NoJson),
    (Api, "DELETE", "/api/messages/{id}/reactions/{emoji}", SignedIn, NoJson),
    (Api, "PUT", "/api/messages/{id}/pin", SignedIn, NoJson),
    (Api, "DELETE", "/api/messages/{id}/pin", SignedIn, NoJson),
    (Api, "GET", "/api/dms", SignedIn, NoJson),
    (Api, "POST", "/api/dms", SignedIn, Json),
    (Api, "POST", "/api/heartbeat", SignedIn, NoJson),
    (Api, "GET", "/api/presence", SignedIn, NoJson),
    (Api, "GET", "/api/notifications", SignedIn, NoJson),
    (Api, "POST", "/api/notifications/read", SignedIn, Json),
    (Api, "GET", "/api/commands", SignedIn, NoJson),
    (Api, "POST", "/api/commands", SignedIn, Json),
    (Api, "GET", "/api/sync", SignedIn, NoJson),
    (Api, "GET", "/api/search", SignedIn, NoJson),
    (Api, "GET", "/api/tokens", SignedIn, NoJson),
    (Api, "POST", "/api/tokens", SignedIn, Json),
    (Api, "DELETE", "/api/tokens/{id}", SignedIn, NoJson),
    (Api, "GET", "/api/openapi.json", SignedIn, NoJson),
    (Api, "GET", "/api/webhooks", SignedIn, NoJson),
    (Api, "POST", "/api/webhooks", SignedIn, Json),
    (Api, "DELETE", "/api/webhooks/{id}", SignedIn, NoJson),
    (Api, "GET", "/api/webhooks/{id}/deliveries", SignedIn, NoJson),
    (Api, "GET", "/api/me/security-log", SignedIn, NoJson),
    // tui-sm (tui-sm/src/routes.rs).
    (Tui, "GET", "/tui/events", SignedIn, NoJson),
    (Tui, "POST", "/tui/typing", SignedIn, Json),
    (Tui, "POST", "/tui/focus", SignedIn, Json),
    // web-sm (web-sm/src/routes.rs): every other path.
    (Web, "GET", "/", SignedIn, NoJson),
    (Web, "POST", "/communities", SignedIn, NoJson),
    (Web, "GET", "/c/{slug}", SignedIn, NoJson),
    (Web, "POST", "/c/{slug}", SignedIn, NoJson),
    (Web, "GET", "/c/{slug}/{channel}", SignedIn, NoJson),
    (Web, "GET", "/dm/{id}", SignedIn, NoJson),
    (Web, "POST", "/channels/{id}/join", SignedIn, NoJson),
    (Web, "POST", "/channels/{id}/messages", SignedIn, Json),
    (Web, "POST", "/channels/{id}/threads/{root}", SignedIn, Json),
    (Web, "POST", "/channels/{id}/typing", SignedIn, NoJson),
    (Web, "POST", "/channels/{id}/read", SignedIn, NoJson),
    (Web, "POST", "/channels/{id}/preferences", SignedIn, NoJson),
    (Web, "GET", "/channels/{id}/history", SignedIn, NoJson),
    (Web, "GET", "/messages/{id}", SignedIn, NoJson),
    (Web, "GET", "/messages/{id}/edit", SignedIn, NoJson),
    (Web, "POST", "/messages/{id}/edit", SignedIn, NoJson),
    (Web, "POST", "/messages/{id}/delete", SignedIn, NoJson),
    (Web, "POST", "/messages/{id}/react", SignedIn, NoJson),
    (Web, "POST", "/messages/{id}/pin", SignedIn, NoJson),
    (Web, "POST", "/messages/{id}/unpin", SignedIn, NoJson),
    (Web, "GET", "/search", SignedIn, NoJson),
    (Web, "POST", "/theme", SignedIn, NoJson),
    (Web, "GET", "/communities/{id}/members", SignedIn, NoJson),
    (Web, "GET", "/notifications", SignedIn, NoJson),
    (Web, "POST", "/notifications/read", SignedIn, NoJson),
    (Web, "GET", "/settings", SignedIn, NoJson),
    (Web, "GET", "/settings/profile", SignedIn, NoJson),
    (Web, "POST", "/settings/profile", SignedIn, NoJson),
    (Web, "POST", "/settings/avatar", SignedIn, NoJson),
    (Web, "POST", "/settings/avatar/delete", SignedIn, NoJson),
    (Web, "GET", "/settings/tokens", SignedIn, NoJson),
    (Web, "POST", "/settings/tokens", SignedIn, NoJson),
    (Web, "POST", "/settings/tokens/{id}/revoke", SignedIn, NoJson),
    (Web, "GET", "/settings/security", SignedIn, NoJson),
    (Web, "GET", "/c/{slug}/settings/community", SignedIn, NoJson),
    (Web, "POST", "/c/{slug}/settings/community", SignedIn, NoJson),
    (Web, "GET", "/c/{slug}/settings/channels", SignedIn, NoJson),
    (Web, "POST", "/c/{slug}/settings/channels/{id}", SignedIn, NoJson),
    (Web, "GET", "/c/{slug}/settings/members", SignedIn, NoJson),
    (Web, "POST", "/c/{slug}/settings/members/{user}/role", SignedIn, NoJson),
    (Web, "POST", "/c/{slug}/settings/members/{user}/remove", SignedIn, NoJson),
    (Web, "POST", "/c/{slug}/settings/bans/{user}/lift", SignedIn, NoJson),
    (Web, "GET", "/c/{slug}/settings/mutes", SignedIn, NoJson),
    (Web, "POST", "/c/{slug}/settings/mutes", SignedIn, NoJson),
    (Web, "POST", "/c/{slug}/settings/mutes/{user}/lift", SignedIn, NoJson),
    (Web, "GET", "/c/{slug}/settings/channels/{id}/purge", SignedIn, NoJson),
    (Web, "POST", "/c/{slug}/settings/channels/{id}/purge", SignedIn, NoJson),
    (Web, "GET", "/c/{slug}/settings/invites", SignedIn, NoJson),
    (Web, "POST", "/c/{slug}/settings/invites", SignedIn, NoJson),
    (Web, "POST", "/c/{slug}/settings/invites/{code}/revoke", SignedIn, NoJson),
    (Web, "GET", "/c/{slug}/settings/webhooks", SignedIn, NoJson),
    (Web, "POST", "/c/{slug}/settings/webhooks", SignedIn, NoJson),
    (Web, "GET", "/c/{slug}/settings/webhooks/{id}", SignedIn, NoJson),
    (Web, "POST", "/c/{slug}/settings/webhooks/{id}/delete", SignedIn, NoJson),
    (Web, "POST", "/c/{slug}/settings/webhooks/{id}/avatar", SignedIn, NoJson),
    (Web, "POST", "/c/{slug}/settings/webhooks/{id}/avatar/delete", SignedIn, NoJson),
    (Web, "GET", "/c/{slug}/settings/audit", SignedIn, NoJson),
    (Web, "GET", "/sse", SignedIn, NoJson),
    (Web, "GET", "/assets/{name}", SignedIn, NoJson),
];

/// The routes a service's source declares: `(METHOD, path)` for each
/// `.route("path", get(..).post(..))`.
fn declared_routes(source: &str) -> Vec<(String, String)> {
    let mut routes = Vec::new();
    for segment in source.split(".route(").skip(1) {
        // rustfmt may break the call after its opening parenthesis.
        let segment = segment.trim_start();
        let (path, rest) = if let Some(literal) = segment.strip_prefix('"') {
            let Some((path, rest)) = literal.split_once('"') else { continue };
            (path, rest)
        } else if let Some(constant) = segment.strip_prefix("paths::") {
            // A `shared::api::paths` constant.
            let end = constant.find(|c: char| !(c.is_ascii_uppercase() || c == '_')).unwrap_or(constant.len());
            let Some(path) = path_constant(&constant[..end]) else { continue };
            (path, &constant[end..])
        } else {
            continue;
        };
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

/// The value of the `shared::api::paths` constant `name` that session managers route by.
fn path_constant(name: &str) -> Option<&'static str> {
    use ajet_shared::api::paths;
    Some(match name {
        "TUI_EVENTS" => paths::TUI_EVENTS,
        "TUI_TYPING" => paths::TUI_TYPING,
        "TUI_FOCUS" => paths::TUI_FOCUS,
        _ => return None,
    })
}

#[test]
fn the_table_lists_exactly_the_routes_the_services_declare() {
    // The api's router is built from its OpenAPI description's operations (`routes!`), so
    // the description is its declaration.
    let api_routes: Vec<(String, String)> = ajet_api::openapi()
        .paths
        .paths
        .iter()
        .flat_map(|(path, item)| {
            let methods = [
                ("GET", item.get.is_some()),
                ("POST", item.post.is_some()),
                ("PUT", item.put.is_some()),
                ("PATCH", item.patch.is_some()),
                ("DELETE", item.delete.is_some()),
            ];
            methods.into_iter().filter(|(_, present)| *present).map(|(method, _)| (method.to_owned(), path.clone()))
        })
        .collect();
    let sources = [
        (Gateway, declared_routes(include_str!("../../src/routes.rs"))),
        (Api, api_routes),
        (Tui, declared_routes(include_str!("../../../tui-sm/src/routes.rs"))),
        (Web, declared_routes(include_str!("../../../web-sm/src/routes.rs"))),
    ];
    for (service, declared) in sources {
        assert!(!declared.is_empty(), "no routes found for {service:?}: has the declaration style changed?");
        let listed: Vec<(String, String)> = ROUTES
            .iter()
            .filter(|(s, ..)| *s == service)
            .filter(|(_, _, path, ..)| !matches!(*path, "/healthz" | "/readyz" | "/metrics"))
            .map(|(_, method, path, ..)| ((*method).to_owned(), (*path).to_owned()))
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
        .route("/b", delete(b::x)).route_layer(layer_get(x)).fallback(get(y))
        .route(paths::TUI_FOCUS, post(ephemeral::focus))"#;
    assert_eq!(
        declared_routes(source),
        [
            ("GET".into(), "/a/{id}".into()),
            ("POST".into(), "/a/{id}".into()),
            ("DELETE".into(), "/b".into()),
            ("POST".into(), "/tui/focus".into())
        ]
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
    for (service, method, path, access, _) in ROUTES {
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
                assert_eq!(body["error"]["code"], ErrorCode::Unauthenticated.as_str(), "{method} {path}");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_json_body_with_an_unknown_field_is_refused_naming_it() {
    let stack = Stack::start().await;
    let alice = stack.login("alice").await;
    for (service, method, path, _, takes) in ROUTES {
        // The api's operations without a body refuse one with fields too (not ignore it).
        let api_without_body = *service == Api && *method != "GET" && *takes != Multipart;
        if *takes != Json && !api_without_body {
            continue;
        }
        let method = Method::from_bytes(method.as_bytes()).expect("a method");
        // A misspelt field (`visibility`) must never be ignored.
        let response = alice
            .request(method.clone(), &concrete(path))
            .header("content-type", "application/json")
            .body(r#"{"visibilty": "private"}"#)
            .send()
            .await
            .expect("answers");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{method} {path} ({service:?})");
        let body: ajet_shared::api::ErrorBody = response.json().await.expect("a JSON error");
        assert_eq!(body.error.code, ErrorCode::UnknownField, "{method} {path}");
        assert!(body.error.message.contains("visibilty"), "{method} {path}: {}", body.error.message);
    }
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_json_marks_agree_with_the_openapi_request_bodies() {
    let stack = Stack::start().await;
    let alice = stack.login("alice").await;
    let description: serde_json::Value =
        alice.request(Method::GET, "/api/openapi.json").send().await.expect("answers").json().await.expect("JSON");
    for (service, method, path, _, takes) in ROUTES {
        if *service != Api || *path == "/api/openapi.json" {
            continue;
        }
        let operation = &description["paths"][path][method.to_ascii_lowercase()];
        assert!(operation.is_object(), "{method} {path} is not described");
        let content = &operation["requestBody"]["content"];
        let described = (content.get("application/json").is_some(), content.get("multipart/form-data").is_some());
        let marked = (*takes == Json, *takes == Multipart);
        assert_eq!(described, marked, "{method} {path}: the table and the description disagree on its body");
    }
    stack.stop().await;
}
