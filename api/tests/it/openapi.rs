//! The route list is data: every route the api serves is in `ROUTES`, answers 401 without
//! credentials (so it exists and is protected), and is described in `/api/openapi.json`
//! with its error responses — and the description has nothing else. Its paths are exactly
//! `shared::api::paths::TEMPLATES`, and the typed client calls every operation in it.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use ajet_shared::api::paths;
use ajet_shared::api::wire::{
    AuditQuery, ChannelModerationRequest, CreateBanRequest, CreateChannelRequest, CreateCommunityRequest,
    CreateInviteRequest, CreateKickRequest, CreateMessageRequest, CreateMuteRequest, CreateTokenRequest,
    CreateWebhookRequest, HistoryQuery, NotificationQuery, PurgeRequest, ReadNotificationsRequest, Role, SearchQuery,
    UpdateChannelRequest, UpdateCommunityRequest, UpdateMeRequest, UpdateMemberRequest, UpdatePreferencesRequest,
};
use ajet_shared::client::ApiClient;
use ajet_shared::{ApiTokenId, AttachmentId, ChannelId, CommunityId, MessageId, UserId, WebhookId};
use reqwest::{Method, StatusCode};

use crate::harness::Api;

/// Every api route: method and path template.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/me"),
    ("PATCH", "/api/me"),
    ("PUT", "/api/me/avatar"),
    ("DELETE", "/api/me/avatar"),
    ("GET", "/api/users/{id}/avatar"),
    ("PUT", "/api/webhooks/{id}/avatar"),
    ("GET", "/api/webhooks/{id}/avatar"),
    ("DELETE", "/api/webhooks/{id}/avatar"),
    ("GET", "/api/communities"),
    ("POST", "/api/communities"),
    ("GET", "/api/communities/{id}"),
    ("PATCH", "/api/communities/{id}"),
    ("GET", "/api/communities/{id}/members"),
    ("PATCH", "/api/communities/{id}/members/{user_id}"),
    ("GET", "/api/communities/{id}/bans"),
    ("POST", "/api/communities/{id}/bans"),
    ("DELETE", "/api/communities/{id}/bans/{user_id}"),
    ("POST", "/api/communities/{id}/kicks"),
    ("GET", "/api/communities/{id}/mutes"),
    ("POST", "/api/communities/{id}/mutes"),
    ("DELETE", "/api/communities/{id}/mutes/{user_id}"),
    ("GET", "/api/communities/{id}/audit"),
    ("GET", "/api/communities/{id}/channels"),
    ("POST", "/api/communities/{id}/channels"),
    ("POST", "/api/communities/{id}/invites"),
    ("GET", "/api/communities/{id}/invites"),
    ("DELETE", "/api/communities/{id}/invites/{code}"),
    ("POST", "/api/invites/{code}/accept"),
    ("GET", "/api/channels/{id}"),
    ("PATCH", "/api/channels/{id}"),
    ("DELETE", "/api/channels/{id}"),
    ("PATCH", "/api/channels/{id}/moderation"),
    ("POST", "/api/channels/{id}/purge"),
    ("POST", "/api/channels/{id}/join"),
    ("POST", "/api/channels/{id}/leave"),
    ("POST", "/api/channels/{id}/members"),
    ("DELETE", "/api/channels/{id}/members/{user_id}"),
    ("POST", "/api/channels/{id}/read"),
    ("PATCH", "/api/channels/{id}/preferences"),
    ("GET", "/api/channels/{id}/messages"),
    ("POST", "/api/channels/{id}/messages"),
    ("GET", "/api/channels/{id}/pins"),
    ("POST", "/api/channels/{id}/attachments"),
    ("GET", "/api/attachments/{id}"),
    ("GET", "/api/attachments/{id}/thumbnail"),
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
    ("GET", "/api/notifications"),
    ("POST", "/api/notifications/read"),
    ("GET", "/api/sync"),
    ("GET", "/api/commands"),
    ("POST", "/api/commands"),
    ("GET", "/api/search"),
    ("GET", "/api/tokens"),
    ("POST", "/api/tokens"),
    ("DELETE", "/api/tokens/{id}"),
    ("GET", "/api/webhooks"),
    ("POST", "/api/webhooks"),
    ("DELETE", "/api/webhooks/{id}"),
    ("GET", "/api/webhooks/{id}/deliveries"),
    ("GET", "/api/me/security-log"),
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

    let doc = api.client.openapi().await.expect("the description");
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
    let doc = api.client.openapi().await.expect("the description");
    let schemas = &doc["components"]["schemas"];
    let bot = &schemas["Author"]["properties"]["bot"];
    assert!(bot.to_string().contains("#/components/schemas/Bot"), "Author.bot refers to Bot: {bot}");
    assert!(!schemas["Author"]["required"].to_string().contains("\"bot\""), "null or absent for people");
    let mut fields: Vec<&str> =
        schemas["Bot"]["properties"].as_object().expect("Bot has properties").keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["name", "webhook_id"]);
}

/// Every (method, path template) the api's description holds.
fn described_operations() -> BTreeSet<(String, String)> {
    let mut operations = BTreeSet::new();
    for (path, item) in &ajet_api::openapi().paths.paths {
        let methods = [
            ("GET", &item.get),
            ("PUT", &item.put),
            ("POST", &item.post),
            ("DELETE", &item.delete),
            ("PATCH", &item.patch),
            ("HEAD", &item.head),
            ("OPTIONS", &item.options),
            ("TRACE", &item.trace),
        ];
        for (method, operation) in methods {
            if operation.is_some() {
                operations.insert((method.to_owned(), path.clone()));
            }
        }
    }
    operations
}

#[test]
fn the_path_templates_are_exactly_the_described_paths() {
    let described: BTreeSet<&str> = ajet_api::openapi().paths.paths.keys().map(String::as_str).collect();
    let templates: BTreeSet<&str> = paths::TEMPLATES.iter().copied().collect();
    assert_eq!(templates, described, "shared::api::paths::TEMPLATES and the api's routes agree");
}

/// The template among `paths::TEMPLATES` that `path` fills.
fn template_of(path: &str) -> Option<&'static str> {
    let segments: Vec<&str> = path.split('/').collect();
    paths::TEMPLATES.iter().copied().find(|template| {
        let parts: Vec<&str> = template.split('/').collect();
        parts.len() == segments.len()
            && parts.iter().zip(&segments).all(|(part, segment)| part.starts_with('{') || part == segment)
    })
}

/// Calls every api method of the typed client once (answers are not the point).
async fn call_every_method(client: &ApiClient) {
    let (community, channel, message) = (CommunityId::generate(), ChannelId::generate(), MessageId::generate());
    let user = UserId::generate();
    let community_request = CreateCommunityRequest { name: "Acme".into(), slug: "acme".into(), description: None };
    let channel_request = CreateChannelRequest { name: "dev".into(), topic: None, kind: None };
    let message_request =
        CreateMessageRequest { body_md: "hi".into(), parent_id: None, client_msg_id: None, attachment_ids: Vec::new() };
    let token_request = CreateTokenRequest { name: "ci".into(), scopes: vec!["read".into()], expires_in_days: None };
    let webhook_request = CreateWebhookRequest { channel_id: channel, name: "ci".into(), avatar_url: None };
    drop(client.me().await);
    drop(client.update_me(&UpdateMeRequest::default()).await);
    drop(client.put_avatar(b"not an image").await);
    drop(client.delete_avatar().await);
    drop(client.download_avatar(UserId::generate()).await);
    drop(client.put_webhook_avatar(WebhookId::generate(), b"not an image").await);
    drop(client.download_webhook_avatar(WebhookId::generate()).await);
    drop(client.delete_webhook_avatar(WebhookId::generate()).await);
    drop(client.list_communities().await);
    drop(client.create_community(&community_request).await);
    drop(client.get_community(community).await);
    drop(client.update_community(community, &UpdateCommunityRequest::default()).await);
    drop(client.list_community_members(community).await);
    drop(client.list_channels(community).await);
    drop(client.create_channel(community, &channel_request).await);
    drop(client.list_invites(community).await);
    drop(client.create_invite(community, &CreateInviteRequest::default()).await);
    drop(client.revoke_invite(community, "abcdefgh").await);
    drop(client.accept_invite("abcdefgh").await);
    drop(client.get_channel(channel).await);
    drop(client.update_channel(channel, &UpdateChannelRequest::default()).await);
    drop(client.archive_channel(channel).await);
    drop(client.join_channel(channel).await);
    drop(client.leave_channel(channel).await);
    drop(client.add_channel_member(channel, user).await);
    drop(client.remove_channel_member(channel, user).await);
    drop(client.mark_read(channel, message).await);
    drop(client.update_preferences(channel, &UpdatePreferencesRequest::default()).await);
    drop(client.history(channel, &HistoryQuery::default()).await);
    drop(client.send_message(channel, &message_request).await);
    drop(client.list_pins(channel).await);
    drop(client.upload_attachment(channel, "a.txt", b"hello").await);
    let file = tokio::fs::File::open("Cargo.toml").await.expect("a file to stream");
    let len = file.metadata().await.expect("its length").len();
    drop(client.upload_attachment_streamed(channel, "Cargo.toml", file, len, |_| {}).await);
    drop(client.download_attachment(AttachmentId::generate()).await);
    drop(client.download_thumbnail(AttachmentId::generate()).await);
    drop(client.get_message(message).await);
    drop(client.update_message(message, "edited").await);
    drop(client.delete_message(message).await);
    drop(client.list_replies(message, &HistoryQuery::default()).await);
    drop(client.add_reaction(message, "🎉").await);
    drop(client.remove_reaction(message, ":tada:").await);
    drop(client.pin_message(message).await);
    drop(client.unpin_message(message).await);
    drop(client.list_dms().await);
    drop(client.open_dm(&[user]).await);
    drop(client.heartbeat().await);
    drop(client.get_presence(&[user]).await);
    drop(client.list_notifications(&NotificationQuery::default()).await);
    drop(client.sync(None).await);
    drop(client.list_commands(Some(channel)).await);
    drop(client.run_command(channel, "/help").await);
    drop(client.search(&SearchQuery { q: "x".into(), ..Default::default() }).await);
    drop(client.read_notifications(&ReadNotificationsRequest { all: Some(true), ..Default::default() }).await);
    drop(client.list_tokens().await);
    drop(client.create_token(&token_request).await);
    drop(client.revoke_token(ApiTokenId::generate()).await);
    drop(client.list_webhooks(community).await);
    drop(client.create_webhook(&webhook_request).await);
    drop(client.revoke_webhook(WebhookId::generate()).await);
    drop(client.list_webhook_deliveries(WebhookId::generate()).await);
    drop(client.security_log().await);
    drop(client.set_role(community, user, &UpdateMemberRequest { role: Role::Admin, reason: None }).await);
    drop(client.ban(community, &CreateBanRequest { user_id: user, reason: None, expires_in_secs: None }).await);
    drop(client.list_bans(community).await);
    drop(client.unban(community, user).await);
    drop(client.kick(community, &CreateKickRequest { user_id: user, reason: None }).await);
    drop(client.mute(community, &CreateMuteRequest { user_id: user, duration_secs: None, reason: None }).await);
    drop(client.list_mutes(community).await);
    drop(client.unmute(community, user).await);
    drop(client.moderate_channel(channel, &ChannelModerationRequest::default()).await);
    drop(client.purge_channel(channel, &PurgeRequest { count: 1, reason: None }).await);
    drop(client.audit_log(community, &AuditQuery::default()).await);
    drop(client.openapi().await);
}

#[tokio::test]
async fn the_typed_client_calls_every_described_operation() {
    // A server that only records what it is asked, so each call is seen exactly as sent.
    let seen: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let recorder = Arc::clone(&seen);
    let app = axum::Router::new().fallback(move |request: axum::extract::Request| {
        let recorder = Arc::clone(&recorder);
        async move {
            let call = (request.method().to_string(), request.uri().path().to_owned());
            recorder.lock().expect("not poisoned").push(call);
            StatusCode::NO_CONTENT
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await });

    call_every_method(&ApiClient::new(url).expect("client").with_token("ajs_test")).await;
    let calls = seen.lock().expect("not poisoned").clone();
    let mut called = BTreeSet::new();
    for (method, path) in calls {
        let template = template_of(&path).unwrap_or_else(|| panic!("{method} {path} fills no api template"));
        called.insert((method, template.to_owned()));
    }
    assert_eq!(called, described_operations(), "the client has a method for each operation, and no other");
}
