//! The route list is data: every route the api serves is in `ROUTES`, answers 401 without
//! credentials (so it exists and is protected), and is described in `/api/openapi.json`
//! with its error responses — and the description has nothing else.

use std::collections::BTreeSet;

use reqwest::Method;

use crate::harness::Api;

/// Every api route: method and path template.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/me"),
    ("PATCH", "/api/me"),
    ("GET", "/api/communities"),
    ("POST", "/api/communities"),
    ("GET", "/api/communities/{id}"),
    ("PATCH", "/api/communities/{id}"),
    ("GET", "/api/communities/{id}/members"),
    ("GET", "/api/communities/{id}/channels"),
    ("POST", "/api/communities/{id}/channels"),
    ("POST", "/api/communities/{id}/invites"),
    ("GET", "/api/communities/{id}/invites"),
    ("DELETE", "/api/communities/{id}/invites/{code}"),
    ("POST", "/api/invites/{code}/accept"),
    ("GET", "/api/channels/{id}"),
    ("PATCH", "/api/channels/{id}"),
    ("DELETE", "/api/channels/{id}"),
    ("POST", "/api/channels/{id}/join"),
    ("POST", "/api/channels/{id}/leave"),
    ("POST", "/api/channels/{id}/members"),
    ("DELETE", "/api/channels/{id}/members/{user_id}"),
    ("POST", "/api/channels/{id}/read"),
    ("GET", "/api/channels/{id}/messages"),
    ("POST", "/api/channels/{id}/messages"),
    ("GET", "/api/channels/{id}/pins"),
    ("GET", "/api/messages/{id}"),
    ("PATCH", "/api/messages/{id}"),
    ("DELETE", "/api/messages/{id}"),
    ("GET", "/api/messages/{id}/replies"),
    ("PUT", "/api/messages/{id}/reactions/{emoji}"),
    ("DELETE", "/api/messages/{id}/reactions/{emoji}"),
    ("PUT", "/api/messages/{id}/pin"),
    ("DELETE", "/api/messages/{id}/pin"),
    ("GET", "/api/dms"),
    ("POST", "/api/dms"),
    ("POST", "/api/heartbeat"),
    ("GET", "/api/presence"),
    ("GET", "/api/tokens"),
    ("POST", "/api/tokens"),
    ("DELETE", "/api/tokens/{id}"),
    ("GET", "/api/webhooks"),
    ("POST", "/api/webhooks"),
    ("DELETE", "/api/webhooks/{id}"),
    ("GET", "/api/openapi.json"),
];

/// Routes anyone may call.
const PUBLIC: &[(&str, &str)] = &[("GET", "/api/openapi.json")];

fn concrete(path: &str) -> String {
    let id = uuid::Uuid::now_v7().to_string();
    path.replace("{id}", &id).replace("{user_id}", &id).replace("{code}", "abcdefgh").replace("{emoji}", ":tada:")
}

#[tokio::test]
async fn every_route_is_protected_listed_and_described() {
    let api = Api::start().await;
    for (method, path) in ROUTES {
        let response = api
            .client
            .request(Method::from_bytes(method.as_bytes()).expect("method"), &concrete(path))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .expect("answers");
        let expected = if PUBLIC.contains(&(*method, *path)) { 200 } else { 401 };
        assert_eq!(response.status().as_u16(), expected, "{method} {path} without credentials");
    }

    let doc: serde_json::Value =
        api.client.request(Method::GET, "/api/openapi.json").send().await.expect("doc").json().await.expect("json");
    let mut documented = BTreeSet::new();
    for (path, operations) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in operations.as_object().expect("operations") {
            let responses = operation["responses"].as_object().expect("responses");
            let is_public = PUBLIC.contains(&(method.to_uppercase().as_str(), path.as_str()));
            assert!(is_public || responses.contains_key("401"), "{method} {path} documents its 401");
            let mut expected = vec!["429", "500", "503"];
            if operation.get("requestBody").is_some() {
                expected.extend(["400", "413", "415"]);
            }
            for status in expected {
                assert!(
                    responses[status]["content"]["application/json"]["schema"]["$ref"]
                        .as_str()
                        .is_some_and(|schema| schema.ends_with("/ErrorBody")),
                    "{method} {path} documents its {status} with the error body"
                );
            }
            assert!(responses["429"]["headers"]["Retry-After"].is_object(), "{method} {path}: 429 has Retry-After");
            let parameters = operation["parameters"].as_array().cloned().unwrap_or_default();
            for name in path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))) {
                let described: Vec<_> = parameters.iter().filter(|p| p["name"] == name && p["in"] == "path").collect();
                assert_eq!(described.len(), 1, "{method} {path}: `{name}` is described once");
                assert!(
                    described[0]["description"].as_str().is_some_and(|d| !d.is_empty())
                        && described[0]["required"] == true,
                    "{method} {path}: `{name}` is required and says what it is"
                );
            }
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    let listed: BTreeSet<(String, String)> = ROUTES.iter().map(|(m, p)| ((*m).to_owned(), (*p).to_owned())).collect();
    assert_eq!(documented, listed, "the description covers exactly the route list");
    assert!(doc["components"]["schemas"]["Message"].is_object(), "schemas are included");
    let codes = doc["components"]["schemas"]["ErrorCode"]["enum"].as_array().expect("the error codes are published");
    for code in ajet_shared::api::ErrorCode::ALL {
        assert!(codes.iter().any(|listed| listed == code.as_str()), "{code} is published: {codes:?}");
    }
}

#[tokio::test]
async fn the_author_schema_describes_the_bot_marker() {
    let api = Api::start().await;
    let doc: serde_json::Value =
        api.client.request(Method::GET, "/api/openapi.json").send().await.expect("doc").json().await.expect("json");
    let schemas = &doc["components"]["schemas"];
    let bot = &schemas["Author"]["properties"]["bot"];
    assert!(bot.to_string().contains("#/components/schemas/Bot"), "Author.bot refers to Bot: {bot}");
    assert!(!schemas["Author"]["required"].to_string().contains("\"bot\""), "null or absent for people");
    let mut fields: Vec<&str> =
        schemas["Bot"]["properties"].as_object().expect("Bot has properties").keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["name", "webhook_id"]);
}
