//! The authorization matrix: every endpoint called as each kind of caller, with the exact
//! status expected. The table is data; a new endpoint needs a row.

use std::collections::HashMap;

use ajet_shared::api::wire::{
    ChannelKind, CreateChannelRequest, CreateCommunityRequest, CreateInviteRequest, CreateMessageRequest,
};
use ajet_shared::client::ApiClient;
use reqwest::Method;

use crate::harness::Api;

/// The callers, in the order of each row's statuses.
const ACTORS: [&str; 7] = ["anonymous", "outsider", "member", "channel_member", "admin", "owner", "other_community"];

/// `{P}` public channel, `{S}` private channel, `{C}` community, `{M}` a message in P by
/// channel_member, `{MS}` one in S, `{D}` a DM between owner and channel_member, `{I}` an
/// invite into C, `{W}` a live webhook into P, `{actor}`
/// the caller's name (for unique names). Rows run in order; later rows may depend on
/// earlier writes only where noted.
const MATRIX: &[(&str, &str, &str, [u16; 7])] = &[
    // method, path, JSON body, statuses for ACTORS
    ("GET", "/api/openapi.json", "", [200, 200, 200, 200, 200, 200, 200]),
    ("GET", "/api/me", "", [401, 200, 200, 200, 200, 200, 200]),
    ("PATCH", "/api/me", r#"{"display_name":"{actor}"}"#, [401, 200, 200, 200, 200, 200, 200]),
    ("POST", "/api/communities", r#"{"name":"Own","slug":"own-{actor}"}"#, [401, 201, 201, 201, 201, 201, 201]),
    ("GET", "/api/communities", "", [401, 200, 200, 200, 200, 200, 200]),
    ("GET", "/api/communities/{C}", "", [401, 403, 200, 200, 200, 200, 403]),
    ("PATCH", "/api/communities/{C}", r#"{"description":"by {actor}"}"#, [401, 403, 403, 403, 200, 200, 403]),
    ("GET", "/api/communities/{C}/members", "", [401, 403, 200, 200, 200, 200, 403]),
    ("GET", "/api/communities/{C}/channels", "", [401, 403, 200, 200, 200, 200, 403]),
    ("POST", "/api/communities/{C}/channels", r#"{"name":"by-{actor}"}"#, [401, 403, 201, 201, 201, 201, 403]),
    ("POST", "/api/communities/{C}/invites", "{}", [401, 403, 201, 201, 201, 201, 403]),
    ("GET", "/api/communities/{C}/invites", "", [401, 403, 403, 403, 200, 200, 403]),
    ("DELETE", "/api/communities/{C}/invites/nosuchcode", "", [401, 403, 403, 403, 404, 404, 403]),
    ("GET", "/api/channels/{P}", "", [401, 403, 200, 200, 200, 200, 403]),
    ("GET", "/api/channels/{S}", "", [401, 404, 404, 200, 404, 200, 404]),
    ("GET", "/api/channels/{D}", "", [401, 404, 404, 200, 404, 200, 404]),
    ("PATCH", "/api/channels/{P}", r#"{"topic":"by {actor}"}"#, [401, 403, 403, 200, 403, 200, 403]),
    ("PATCH", "/api/channels/{S}", r#"{"name":"secret-{actor}"}"#, [401, 404, 404, 403, 404, 200, 404]),
    ("GET", "/api/channels/{P}/messages", "", [401, 403, 200, 200, 200, 200, 403]),
    ("GET", "/api/channels/{S}/messages", "", [401, 404, 404, 200, 404, 200, 404]),
    ("GET", "/api/channels/{D}/messages", "", [401, 404, 404, 200, 404, 200, 404]),
    ("POST", "/api/channels/{P}/messages", r#"{"body_md":"hi from {actor}"}"#, [401, 403, 403, 201, 403, 201, 403]),
    ("POST", "/api/channels/{S}/messages", r#"{"body_md":"hi from {actor}"}"#, [401, 404, 404, 201, 404, 201, 404]),
    ("POST", "/api/channels/{D}/messages", r#"{"body_md":"hi from {actor}"}"#, [401, 404, 404, 201, 404, 201, 404]),
    ("GET", "/api/channels/{S}/pins", "", [401, 404, 404, 200, 404, 200, 404]),
    ("POST", "/api/channels/{S}/read", r#"{"message_id":"{MS}"}"#, [401, 404, 404, 200, 404, 200, 404]),
    ("GET", "/api/messages/{M}", "", [401, 404, 200, 200, 200, 200, 404]),
    ("GET", "/api/messages/{MS}", "", [401, 404, 404, 200, 404, 200, 404]),
    ("GET", "/api/messages/{M}/replies", "", [401, 404, 200, 200, 200, 200, 404]),
    ("PATCH", "/api/messages/{M}", r#"{"body_md":"edited by {actor}"}"#, [401, 404, 403, 200, 403, 403, 404]),
    ("PUT", "/api/messages/{M}/reactions/%F0%9F%91%8D", "", [401, 404, 403, 204, 403, 204, 404]),
    ("DELETE", "/api/messages/{M}/reactions/%F0%9F%91%8D", "", [401, 404, 403, 204, 403, 204, 404]),
    ("PUT", "/api/messages/{MS}/pin", "", [401, 404, 404, 204, 404, 204, 404]),
    ("DELETE", "/api/messages/{MS}/pin", "", [401, 404, 404, 204, 404, 204, 404]),
    ("POST", "/api/channels/{S}/members", r#"{"user_id":"{member_id}"}"#, [401, 404, 404, 201, 404, 200, 404]),
    ("DELETE", "/api/channels/{S}/members/{member_id}", "", [401, 404, 403, 403, 404, 204, 404]),
    ("GET", "/api/dms", "", [401, 200, 200, 200, 200, 200, 200]),
    ("POST", "/api/dms", r#"{"user_ids":["{member_id}"]}"#, [401, 201, 201, 201, 201, 201, 201]),
    ("GET", "/api/presence?user_ids={member_id}", "", [401, 200, 200, 200, 200, 200, 200]),
    ("POST", "/api/heartbeat", "", [401, 204, 204, 204, 204, 204, 204]),
    ("POST", "/api/tokens", r#"{"name":"bot","scopes":["read"]}"#, [401, 201, 201, 201, 201, 201, 201]),
    ("GET", "/api/tokens", "", [401, 200, 200, 200, 200, 200, 200]),
    ("DELETE", "/api/tokens/{member_id}", "", [401, 404, 404, 404, 404, 404, 404]),
    // Webhooks: a community's admins only. {W} is a live webhook into P; the admin's
    // revocation comes first, so the owner then finds nothing live.
    ("POST", "/api/webhooks", r#"{"channel_id":"{P}","name":"hook {actor}"}"#, [401, 403, 403, 403, 201, 201, 403]),
    ("GET", "/api/webhooks?community_id={C}", "", [401, 403, 403, 403, 200, 200, 403]),
    ("DELETE", "/api/webhooks/{W}", "", [401, 404, 403, 403, 204, 404, 404]),
    // Deleting: only the author (channel_member) or an admin; then it stays deleted.
    ("DELETE", "/api/messages/{M}", "", [401, 404, 403, 204, 204, 204, 404]),
    // Joining changes membership, so it comes last.
    ("POST", "/api/channels/{P}/join", "", [401, 403, 200, 200, 200, 200, 403]),
    ("POST", "/api/channels/{S}/join", "", [401, 404, 404, 200, 404, 200, 404]),
    ("POST", "/api/channels/{P}/leave", "", [401, 403, 204, 204, 204, 204, 403]),
    // Archiving (admins) and accepting an invite (anyone signed in) change state: last.
    ("DELETE", "/api/channels/{P}", "", [401, 403, 403, 403, 200, 200, 403]),
    ("POST", "/api/invites/{I}/accept", "", [401, 200, 200, 200, 200, 200, 200]),
];

#[tokio::test]
async fn every_endpoint_answers_each_kind_of_caller_exactly() {
    let api = Api::start().await;
    let owner = api.user("owner").await;
    let admin = api.user("admin").await;
    let member = api.user("member").await;
    let channel_member = api.user("chanmember").await;
    let outsider = api.user("outsider").await;
    let other = api.user("othercommunity").await;

    let community = owner
        .create_community(&CreateCommunityRequest { name: "Acme".into(), slug: "acme".into(), description: None })
        .await
        .expect("community");
    other
        .create_community(&CreateCommunityRequest { name: "Other".into(), slug: "other".into(), description: None })
        .await
        .expect("other community");
    for client in [&admin, &member, &channel_member] {
        let invite = owner.create_invite(community.id, &CreateInviteRequest::default()).await.expect("invite");
        client.accept_invite(&invite.code).await.expect("joined");
    }
    let admin_id = admin.me().await.expect("me").user.id;
    sqlx::query("UPDATE community_members SET role = 'admin' WHERE user_id = $1")
        .bind(admin_id)
        .execute(&api.db.pool)
        .await
        .expect("make admin");
    let public = owner
        .create_channel(community.id, &CreateChannelRequest { name: "dev".into(), topic: None, kind: None })
        .await
        .expect("public");
    let private = owner
        .create_channel(
            community.id,
            &CreateChannelRequest { name: "secret".into(), topic: None, kind: Some(ChannelKind::Private) },
        )
        .await
        .expect("private");
    channel_member.join_channel(public.id).await.expect("join public");
    let member_id = member.me().await.expect("me").user.id;
    let channel_member_id = channel_member.me().await.expect("me").user.id;
    owner
        .request(Method::POST, &format!("/api/channels/{}/members", private.id))
        .json(&serde_json::json!({"user_id": channel_member_id}))
        .send()
        .await
        .expect("add to private")
        .error_for_status()
        .expect("added");
    let dm: serde_json::Value = owner
        .request(Method::POST, "/api/dms")
        .json(&serde_json::json!({"user_ids": [channel_member_id]}))
        .send()
        .await
        .expect("dm")
        .json()
        .await
        .expect("dm json");
    let send = |client: &ApiClient, channel, body: &str| {
        let client = client.clone();
        let request = CreateMessageRequest { body_md: body.into(), parent_id: None, client_msg_id: None };
        async move { client.send_message(channel, &request).await.expect("sent") }
    };
    let invite = owner.create_invite(community.id, &CreateInviteRequest::default()).await.expect("invite");
    let message = send(&channel_member, public.id, "in public").await;
    let secret = send(&channel_member, private.id, "in private").await;

    let webhook = ajet_shared::db::webhooks::insert(
        &api.db.pool,
        &ajet_shared::db::webhooks::NewWebhook {
            community: community.id,
            channel: public.id,
            name: "CI",
            avatar_url: None,
            token_hash: &[7; 32],
            created_by: None,
        },
    )
    .await
    .expect("webhook");
    let values: HashMap<&str, String> = HashMap::from([
        ("{W}", webhook.id.to_string()),
        ("{C}", community.id.to_string()),
        ("{P}", public.id.to_string()),
        ("{S}", private.id.to_string()),
        ("{D}", dm["id"].as_str().expect("dm id").to_owned()),
        ("{M}", message.id.to_string()),
        ("{MS}", secret.id.to_string()),
        ("{member_id}", member_id.to_string()),
        ("{I}", invite.code.clone()),
    ]);
    let actors = [api.client.clone(), outsider, member, channel_member, admin, owner, other];
    let mut failures = Vec::new();
    for (method, path, body, statuses) in MATRIX {
        for ((name, client), expected) in ACTORS.iter().zip(&actors).zip(statuses) {
            let fill = |text: &str| {
                values
                    .iter()
                    .fold(text.replace("{actor}", &name.replace('_', "-")), |acc, (key, value)| acc.replace(key, value))
            };
            let method = Method::from_bytes(method.as_bytes()).expect("method");
            let mut request = client.request(method.clone(), &fill(path));
            if !body.is_empty() {
                request = request.header("content-type", "application/json").body(fill(body));
            }
            let response = request.send().await.expect("answers");
            let status = response.status().as_u16();
            if status >= 400 {
                let error: serde_json::Value = response.json().await.expect("errors are JSON");
                assert!(error["error"]["code"].is_string(), "{method} {path} as {name}: {error}");
            }
            if status != *expected {
                failures.push(format!("{method} {path} as {name}: expected {expected}, got {status}"));
            }
        }
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}
