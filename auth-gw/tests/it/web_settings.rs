//! The settings screens of the browser client (web-sm) through the gateway, as a browser
//! uses them (the session cookie, same-origin form POSTs): the profile, API tokens, the
//! security log, and a community's members, mutes, invites, webhooks (with their avatar),
//! channels (with their purge) and audit log for its admins — and, as an attacker, that a member or an outsider opening those URLs or
//! posting those forms gets nothing. Checks what the pages say and what the api then holds.

use ajet_shared::api::wire::{CreateCommunityRequest, CreateInviteRequest, Role};
use ajet_shared::client::ApiClient;
use reqwest::StatusCode;

use crate::stack::Stack;
use crate::web::{Browser, form_body, location};

/// A `multipart/form-data` body with one file field, as a browser's form sends it.
fn multipart(field: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----ajetformboundary7MA4YWxkTrZu0gW";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"me.png\"\r\nContent-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0, 0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d,
    0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// The `value` of the input with `id` in `page`.
fn input_value(page: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\" readonly value=\"");
    let start = page.find(&marker).unwrap_or_else(|| panic!("no #{id} in {page}")) + marker.len();
    let end = page[start..].find('"').expect("closing quote");
    page[start..start + end].replace("&amp;", "&")
}

/// Alice owns `acme`; bob is a member of it; carol is in no community.
async fn community(stack: &Stack) -> (Browser, ApiClient, Browser, ApiClient, Browser) {
    let (alice, alice_api) = Browser::login(stack, "alice").await;
    let (bob, bob_api) = Browser::login(stack, "bob").await;
    let (carol, _) = Browser::login(stack, "carol").await;
    alice_api
        .create_community(&CreateCommunityRequest { name: "Acme".into(), slug: "acme".into(), description: None })
        .await
        .expect("community");
    let me = alice_api.me().await.expect("me");
    let invite = alice_api.create_invite(me.communities[0].id, &CreateInviteRequest::default()).await.expect("invite");
    bob_api.accept_invite(&invite.code).await.expect("joined");
    (alice, alice_api, bob, bob_api, carol)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_changes_their_name_and_avatar_and_manages_api_tokens_whose_secret_is_shown_once() {
    let stack = Stack::start().await;
    let (alice, alice_api, ..) = community(&stack).await;

    let home = alice.get("/settings").await;
    assert_eq!(location(&home), "/settings/profile");
    let profile = alice.page("/settings/profile", StatusCode::OK).await;
    assert!(profile.contains("<h1>Profile</h1>"), "{profile}");
    assert!(profile.contains("href=\"/c/acme/settings/members\""), "the owner sees acme's screens: {profile}");
    let shell = alice.page("/c/acme/general", StatusCode::OK).await;
    assert!(shell.contains("<a class=\"settings-link\" href=\"/settings/profile\">"), "the shell links the settings");

    // The display name: saved, shown escaped; refused with the api's reason, the typed value kept.
    let saved = alice.post_form("/settings/profile", &[("display_name", "Alice <A>")]).await;
    assert_eq!(location(&saved), "/settings/profile?done=saved");
    assert_eq!(alice_api.me().await.expect("me").user.display_name, "Alice <A>");
    let page = alice.page("/settings/profile?done=saved", StatusCode::OK).await;
    assert!(page.contains("value=\"Alice &lt;A&gt;\"") && page.contains("role=\"status\">Saved.</p>"), "{page}");
    let long = "x".repeat(500);
    let refused = alice.post_form("/settings/profile", &[("display_name", &long)]).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = refused.text().await.expect("html");
    assert!(page.contains("<p class=\"form-error\" role=\"alert\">display_name"), "the api's reason: {page}");
    assert!(page.contains(&format!("value=\"{long}\"")), "the typed name is kept");

    // The avatar: a plain multipart form, forwarded to the api; a non-image is refused.
    let (content_type, body) = multipart("avatar", PNG);
    let uploaded = alice.post("/settings/avatar", "same-origin", &content_type, body).await;
    assert_eq!(location(&uploaded), "/settings/profile?done=avatar");
    let avatar = alice_api.me().await.expect("me").user.avatar_url.expect("an avatar");
    let page = alice.page("/settings/profile", StatusCode::OK).await;
    assert!(page.contains(&format!("<img class=\"avatar-preview\" src=\"{avatar}\"")), "{page}");
    let (content_type, body) = multipart("avatar", b"not an image");
    let refused = alice.post("/settings/avatar", "same-origin", &content_type, body).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().await.expect("html").contains("role=\"alert\">"), "the refusal is shown");
    let removed = alice.post_form("/settings/avatar/delete", &[]).await;
    assert_eq!(location(&removed), "/settings/profile?done=avatar_removed");
    assert_eq!(alice_api.me().await.expect("me").user.avatar_url, None);

    // Tokens: a bad expiry is refused and the form kept; a good one shows its secret once.
    let refused =
        alice.post_form("/settings/tokens", &[("name", "ci"), ("read", "on"), ("expires_in_days", "soon")]).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = refused.text().await.expect("html");
    assert!(page.contains("role=\"alert\">Expires after: a whole number, or empty</p>"), "{page}");
    assert!(page.contains("value=\"ci\"") && page.contains("value=\"soon\""), "{page}");
    assert!(alice_api.list_tokens().await.expect("tokens").data.is_empty(), "nothing was created");
    let none = alice.post_form("/settings/tokens", &[("name", "no scopes")]).await;
    assert_eq!(none.status(), StatusCode::UNPROCESSABLE_ENTITY, "a token needs a scope (the api says so)");

    let created =
        alice.post_form("/settings/tokens", &[("name", "ci <bot>"), ("read", "on"), ("expires_in_days", "30")]).await;
    assert_eq!(created.status(), StatusCode::OK);
    let page = created.text().await.expect("html");
    let secret = input_value(&page, "new-token");
    assert!(page.contains("Copy it now"), "{page}");
    let as_token = stack.gateway.with_token(secret.clone());
    assert_eq!(as_token.me().await.expect("the secret works").user.username, "alice");
    let list = alice.page("/settings/tokens", StatusCode::OK).await;
    assert!(list.contains("<td>ci &lt;bot&gt;</td><td>read</td>"), "{list}");
    assert!(!list.contains(&secret), "the secret is shown only once");
    let token = alice_api.list_tokens().await.expect("tokens").data.remove(0);
    assert!(token.expires_at.is_some(), "it expires");
    let revoked = alice.post_form(&format!("/settings/tokens/{}/revoke", token.id), &[]).await;
    assert_eq!(location(&revoked), "/settings/tokens?done=revoked");
    assert_eq!(as_token.me().await.expect_err("revoked").status(), Some(StatusCode::UNAUTHORIZED));

    // The security log lists the token's life, escaped.
    let log = alice.page("/settings/security", StatusCode::OK).await;
    assert!(log.contains("<code>token.create</code>") && log.contains("<code>token.revoke</code>"), "{log}");
    assert!(log.contains("ci &lt;bot&gt;"), "{log}");

    // A cross-site form post is refused by the gateway before anything is created.
    let forged = alice
        .post(
            "/settings/tokens",
            "cross-site",
            "application/x-www-form-urlencoded",
            form_body(&[("name", "evil"), ("admin", "on")]).into_bytes(),
        )
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(alice_api.list_tokens().await.expect("tokens").data.is_empty(), "no token was forged");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_manages_members_invites_and_webhooks_and_the_audit_log_records_it() {
    let stack = Stack::start().await;
    let (alice, alice_api, _bob, bob_api, _) = community(&stack).await;
    let acme = alice_api.me().await.expect("me").communities.remove(0);
    let bob_id = bob_api.me().await.expect("me").user.id;

    // Members: bob becomes an admin and a member again; a refused change says why.
    let members = alice.page("/c/acme/settings/members", StatusCode::OK).await;
    assert!(members.contains(&format!("action=\"/c/acme/settings/members/{bob_id}/role\"")), "{members}");
    let promoted = alice.post_form(&format!("/c/acme/settings/members/{bob_id}/role"), &[("role", "admin")]).await;
    assert_eq!(location(&promoted), "/c/acme/settings/members?done=role");
    let role = |members: Vec<ajet_shared::api::wire::CommunityMember>| {
        members.into_iter().find(|m| m.user.id == bob_id).map(|m| m.role)
    };
    assert_eq!(role(alice_api.list_community_members(acme.id).await.expect("members").data), Some(Role::Admin));
    let wrong = alice.post_form(&format!("/c/acme/settings/members/{bob_id}/role"), &[("role", "owner")]).await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.text().await.expect("html").contains("role=\"alert\">Role: one of admin, member.</p>"));
    alice.post_form(&format!("/c/acme/settings/members/{bob_id}/role"), &[("role", "member")]).await;
    assert_eq!(role(alice_api.list_community_members(acme.id).await.expect("members").data), Some(Role::Member));

    // Invites: created with a limit and an expiry, listed with their link, revoked.
    let invited = alice.post_form("/c/acme/settings/invites", &[("expires", "day"), ("max_uses", "3")]).await;
    assert_eq!(location(&invited), "/c/acme/settings/invites?done=invite");
    let invite = alice_api
        .list_invites(acme.id)
        .await
        .expect("invites")
        .data
        .into_iter()
        .find(|invite| invite.max_uses == Some(3))
        .expect("the new invite");
    assert!(invite.expires_at.is_some());
    let page = alice.page("/c/acme/settings/invites", StatusCode::OK).await;
    let origin = stack.config.public_url.trim_end_matches('/');
    assert!(page.contains(&format!("value=\"{origin}/invite/{}\"", invite.code)), "{page}");
    let bad = alice.post_form("/c/acme/settings/invites", &[("expires", "day"), ("max_uses", "many")]).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = bad.text().await.expect("html");
    assert!(page.contains("role=\"alert\">Uses: a whole number, or empty</p>") && page.contains("value=\"many\""));
    let revoked = alice.post_form(&format!("/c/acme/settings/invites/{}/revoke", invite.code), &[]).await;
    assert_eq!(location(&revoked), "/c/acme/settings/invites?done=revoked");
    assert!(alice_api.list_invites(acme.id).await.expect("invites").data.iter().all(|i| i.code != invite.code));

    // Webhooks: the URL is shown once and works; the list links the delivery log.
    let general = alice_api.list_channels(acme.id).await.expect("channels").data.remove(0).channel;
    let created = alice
        .post_form("/c/acme/settings/webhooks", &[("name", "CI <bot>"), ("channel", &general.id.to_string())])
        .await;
    assert_eq!(created.status(), StatusCode::OK);
    let page = created.text().await.expect("html");
    let url = input_value(&page, "new-webhook");
    let hook = alice_api.list_webhooks(acme.id).await.expect("hooks").data.remove(0);
    assert!(url.contains(&hook.id.to_string()), "{url}");
    let token = url.rsplit('/').next().expect("the URL ends with the token");
    assert!(url.ends_with(&format!("/hook/{}/{token}", hook.id)), "{url}");
    stack.gateway.post_webhook(hook.id, token, &serde_json::json!({ "text": "build green" })).await.expect("delivered");
    let list = alice.page("/c/acme/settings/webhooks", StatusCode::OK).await;
    assert!(list.contains(&format!("<a href=\"/c/acme/settings/webhooks/{}\">CI &lt;bot&gt;</a>", hook.id)), "{list}");
    assert!(!list.contains(&url), "the URL is shown only once");
    let log = alice.page(&format!("/c/acme/settings/webhooks/{}", hook.id), StatusCode::OK).await;
    assert!(log.contains("<h1>Deliveries of CI &lt;bot&gt;</h1>") && log.contains("<td>posted</td>"), "{log}");
    let no_channel = alice.post_form("/c/acme/settings/webhooks", &[("name", "kept"), ("channel", "")]).await;
    assert_eq!(no_channel.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_channel.text().await.expect("html").contains("value=\"kept\""));

    // Ban with a reason; the audit log shows it.
    let banned = alice
        .post_form(&format!("/c/acme/settings/members/{bob_id}/remove"), &[("reason", "spam <links>"), ("how", "ban")])
        .await;
    assert_eq!(location(&banned), "/c/acme/settings/members?done=banned");
    let bans = alice_api.list_bans(acme.id).await.expect("bans").data;
    assert_eq!(bans.len(), 1);
    let page = alice.page("/c/acme/settings/members", StatusCode::OK).await;
    assert!(
        page.contains(&format!("<tr id=\"ban-{bob_id}\">")) && page.contains("<td>spam &lt;links&gt;</td>"),
        "{page}"
    );
    let deleted = alice.post_form(&format!("/c/acme/settings/webhooks/{}/delete", hook.id), &[]).await;
    assert_eq!(location(&deleted), "/c/acme/settings/webhooks?done=deleted");
    assert!(alice_api.list_webhooks(acme.id).await.expect("hooks").data.is_empty());
    let audit = alice.page("/c/acme/settings/audit", StatusCode::OK).await;
    assert!(audit.contains("<code>member.ban</code>") && audit.contains("spam &lt;links&gt;"), "{audit}");
    assert!(audit.contains("<code>member.role</code>") && audit.contains("<code>webhook.create</code>"), "{audit}");
    let lifted = alice.post_form(&format!("/c/acme/settings/bans/{bob_id}/lift"), &[]).await;
    assert_eq!(location(&lifted), "/c/acme/settings/members?done=unbanned");
    assert!(alice_api.list_bans(acme.id).await.expect("bans").data.is_empty(), "the ban is lifted");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_mutes_a_member_sees_the_mute_listed_and_lifts_it_and_refusals_are_shown_with_the_form() {
    let stack = Stack::start().await;
    let (alice, alice_api, _bob, bob_api, _) = community(&stack).await;
    let acme = alice_api.me().await.expect("me").communities.remove(0);
    let (alice_id, bob_id) = (alice_api.me().await.expect("me").user.id, bob_api.me().await.expect("me").user.id);

    let page = alice.page("/c/acme/settings/mutes", StatusCode::OK).await;
    assert!(page.contains("href=\"/c/acme/settings/mutes\" aria-current=\"page\">Mutes</a>"), "{page}");
    assert!(page.contains("Nobody is muted.") && page.contains(&format!("<option value=\"{bob_id}\"")), "{page}");
    assert!(!page.contains(&format!("<option value=\"{alice_id}\"")), "the viewer is not offered: {page}");

    // Muted for an hour with a reason: the api holds it, the screen lists it escaped.
    let bob = bob_id.to_string();
    let muted = alice
        .post_form("/c/acme/settings/mutes", &[("user", &bob), ("duration", "hour"), ("reason", "calm <down>")])
        .await;
    assert_eq!(location(&muted), "/c/acme/settings/mutes?done=muted");
    let mutes = alice_api.list_mutes(acme.id).await.expect("mutes").data;
    assert_eq!(mutes.len(), 1);
    let until = mutes[0].muted_until.expect("a timed mute");
    let hour = until - mutes[0].created_at;
    assert!(hour.whole_minutes() == 60 || hour.whole_minutes() == 59, "an hour: {hour}");
    let page = alice.page("/c/acme/settings/mutes?done=muted", StatusCode::OK).await;
    assert!(page.contains("role=\"status\">The member was muted.</p>"), "{page}");
    assert!(
        page.contains(&format!("<tr id=\"mute-{bob_id}\">")) && page.contains("<td>calm &lt;down&gt;</td>"),
        "{page}"
    );
    assert!(page.contains(&format!("<td>{}</td>", ajet_web_sm::views::settings::when(until))), "until when: {page}");
    assert!(page.contains(&format!("action=\"/c/acme/settings/mutes/{bob_id}/lift\"")), "{page}");

    // Refused by web-sm (a bad duration) and by the api (the owner): the message and the form kept.
    let bad =
        alice.post_form("/c/acme/settings/mutes", &[("user", &bob), ("duration", "year"), ("reason", "kept")]).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = bad.text().await.expect("html");
    assert!(page.contains("role=\"alert\">For: ten minutes") && page.contains("value=\"kept\""), "{page}");
    let own = alice_id.to_string();
    let refused = alice.post_form("/c/acme/settings/mutes", &[("user", &own), ("duration", "")]).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = refused.text().await.expect("html");
    assert!(page.contains("<p class=\"form-error\" role=\"alert\">"), "the api's reason: {page}");
    assert_eq!(alice_api.list_mutes(acme.id).await.expect("mutes").data.len(), 1, "nothing else muted");

    // Lifted: gone from the api and the screen; lifting again is refused with the api's message.
    let lifted = alice.post_form(&format!("/c/acme/settings/mutes/{bob_id}/lift"), &[]).await;
    assert_eq!(location(&lifted), "/c/acme/settings/mutes?done=unmuted");
    assert!(alice_api.list_mutes(acme.id).await.expect("mutes").data.is_empty());
    let page = alice.page("/c/acme/settings/mutes", StatusCode::OK).await;
    assert!(page.contains("Nobody is muted.") && !page.contains(&format!("mute-{bob_id}")), "{page}");
    let again = alice.post_form(&format!("/c/acme/settings/mutes/{bob_id}/lift"), &[]).await;
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.text().await.expect("html").contains("role=\"alert\">"), "no mute in force");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_uploads_a_webhooks_avatar_and_purges_a_channels_newest_messages_only_once_confirmed() {
    let stack = Stack::start().await;
    let (alice, alice_api, ..) = community(&stack).await;
    let acme = alice_api.me().await.expect("me").communities.remove(0);
    let general = alice_api.list_channels(acme.id).await.expect("channels").data.remove(0).channel;

    // A webhook's avatar: uploaded through its page and shown there; a non-image refused.
    let request =
        ajet_shared::api::wire::CreateWebhookRequest { channel_id: general.id, name: "CI".into(), avatar_url: None };
    let hook = alice_api.create_webhook(&request).await.expect("hook").info;
    let path = format!("/c/acme/settings/webhooks/{}", hook.id);
    let page = alice.page(&path, StatusCode::OK).await;
    assert!(
        page.contains("No avatar: its posts show its initials.") && page.contains("enctype=\"multipart/form-data\"")
    );
    let (content_type, body) = multipart("avatar", PNG);
    let uploaded = alice.post(&format!("{path}/avatar"), "same-origin", &content_type, body).await;
    assert_eq!(location(&uploaded), format!("{path}?done=webhook_avatar"));
    let avatar = alice_api.list_webhooks(acme.id).await.expect("hooks").data.remove(0).avatar_url.expect("an avatar");
    let page = alice.page(&format!("{path}?done=webhook_avatar"), StatusCode::OK).await;
    assert!(
        page.contains(&format!("<img class=\"avatar-preview\" src=\"{avatar}\" alt=\"The avatar of CI\"")),
        "{page}"
    );
    assert!(page.contains("role=\"status\">The webhook's avatar was updated.</p>"), "{page}");
    let (content_type, body) = multipart("avatar", b"not an image");
    let refused = alice.post(&format!("{path}/avatar"), "same-origin", &content_type, body).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().await.expect("html").contains("role=\"alert\">"), "the refusal is shown");
    assert!(alice_api.download_webhook_avatar(hook.id).await.is_ok(), "the uploaded image is served");
    let removed = alice.post_form(&format!("{path}/avatar/delete"), &[]).await;
    assert_eq!(location(&removed), format!("{path}?done=webhook_avatar_removed"));
    assert_eq!(alice_api.list_webhooks(acme.id).await.expect("hooks").data.remove(0).avatar_url, None);
    let gone = alice_api.download_webhook_avatar(hook.id).await.expect_err("the image is gone");
    assert_eq!(gone.status(), Some(StatusCode::NOT_FOUND));
    let page = alice.page(&format!("{path}?done=webhook_avatar_removed"), StatusCode::OK).await;
    assert!(page.contains("No avatar") && !page.contains("Remove avatar"), "{page}");

    // A purge: three messages, the two newest purged once the box is ticked.
    for body in ["keep me", "purge-one", "purge-two"] {
        let message = ajet_shared::api::wire::CreateMessageRequest {
            body_md: body.into(),
            parent_id: None,
            client_msg_id: None,
            attachment_ids: Vec::new(),
        };
        alice_api.send_message(general.id, &message).await.expect("sent");
    }
    let channels = alice.page("/c/acme/settings/channels", StatusCode::OK).await;
    let purge = format!("/c/acme/settings/channels/{}/purge", general.id);
    assert!(channels.contains(&format!("<a href=\"{purge}\">")), "the channels screen links the purge: {channels}");
    let page = alice.page(&purge, StatusCode::OK).await;
    assert!(page.contains("cannot be undone") && page.contains("name=\"confirm\" value=\"on\" required"), "{page}");
    let unconfirmed = alice.post_form(&purge, &[("count", "2"), ("reason", "spam")]).await;
    assert_eq!(unconfirmed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = unconfirmed.text().await.expect("html");
    assert!(page.contains("role=\"alert\">Tick the box to confirm: nothing was deleted.</p>"), "{page}");
    assert!(page.contains("value=\"2\"") && page.contains("value=\"spam\""), "the form is kept: {page}");
    let too_many = alice.post_form(&purge, &[("count", "0"), ("confirm", "on")]).await;
    assert_eq!(too_many.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        too_many.text().await.expect("html").contains("<p class=\"form-error\" role=\"alert\">"),
        "the api's reason"
    );
    let live = |messages: Vec<ajet_shared::api::wire::Message>| {
        messages.into_iter().filter(|m| m.deleted_at.is_none()).map(|m| m.body_md).collect::<Vec<_>>()
    };
    let history = alice_api.history(general.id, &Default::default()).await.expect("history").data;
    assert_eq!(live(history).len(), 3, "nothing deleted yet");

    let purged = alice.post_form(&purge, &[("count", "2"), ("reason", "spam"), ("confirm", "on")]).await;
    assert_eq!(location(&purged), format!("{purge}?purged=2"));
    let page = alice.page(&format!("{purge}?purged=2"), StatusCode::OK).await;
    assert!(page.contains("2 messages were deleted from #general."), "{page}");
    let history = alice_api.history(general.id, &Default::default()).await.expect("history").data;
    assert_eq!(live(history), ["keep me"]);
    let channel = alice.page("/c/acme/general", StatusCode::OK).await;
    assert!(
        channel.contains("keep me") && !channel.contains("purge-one") && !channel.contains("purge-two"),
        "{channel}"
    );
    let audit = alice.page("/c/acme/settings/audit", StatusCode::OK).await;
    assert!(audit.contains("<code>webhook.avatar</code>") && audit.contains("purge"), "{audit}");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_renames_the_community_and_turns_link_previews_off_and_a_refused_name_is_shown_with_the_form() {
    let stack = Stack::start().await;
    let (alice, alice_api, ..) = community(&stack).await;
    let acme = alice_api.me().await.expect("me").communities.remove(0);

    let screen = alice.page("/c/acme/settings/community", StatusCode::OK).await;
    assert!(screen.contains("<form class=\"settings-form\" method=\"post\" action=\"/c/acme/settings/community\">"));
    assert!(screen.contains("name=\"name\" required maxlength=\"100\" value=\"Acme\">"), "{screen}");
    assert!(screen.contains("name=\"link_previews\" value=\"on\" checked>"), "previews are on: {screen}");
    assert!(screen.contains("<a href=\"/c/acme/settings/community\" aria-current=\"page\">Community</a>"), "{screen}");

    // Renamed, previews off (an unticked checkbox is absent from the form).
    let saved = alice.post_form("/c/acme/settings/community", &[("name", "Acme <Labs>")]).await;
    assert_eq!(location(&saved), "/c/acme/settings/community?done=saved");
    let after = alice_api.get_community(acme.id).await.expect("community");
    assert_eq!((after.name.as_str(), after.link_previews), ("Acme <Labs>", false));
    let screen = alice.page("/c/acme/settings/community?done=saved", StatusCode::OK).await;
    assert!(screen.contains("value=\"Acme &lt;Labs&gt;\">"), "the name is text: {screen}");
    assert!(screen.contains("name=\"link_previews\" value=\"on\">"), "previews are off: {screen}");
    assert!(screen.contains("role=\"status\">Saved.</p>"), "{screen}");

    // On again.
    let saved = alice.post_form("/c/acme/settings/community", &[("name", "Acme"), ("link_previews", "on")]).await;
    assert_eq!(location(&saved), "/c/acme/settings/community?done=saved");
    assert!(alice_api.get_community(acme.id).await.expect("community").link_previews);

    // A name the api refuses: its message, the form as filled, nothing changed.
    let long = "x".repeat(300);
    let refused = alice.post_form("/c/acme/settings/community", &[("name", long.as_str())]).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = refused.text().await.expect("html");
    assert!(page.contains("<p class=\"form-error\" role=\"alert\">"), "{page}");
    assert!(page.contains(&format!("value=\"{long}\"")), "the form as filled: {page}");
    assert_eq!(alice_api.get_community(acme.id).await.expect("community").name, "Acme");
    // A checkbox with another value is refused, not taken as on or off.
    let odd = alice.post_form("/c/acme/settings/community", &[("name", "Acme"), ("link_previews", "yes")]).await;
    assert_eq!(odd.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(odd.text().await.expect("html").contains("Link previews: a checkbox, on or absent."));
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_sets_a_channels_topic_name_freeze_slow_mode_and_archive_and_refusals_are_shown_with_the_form() {
    let stack = Stack::start().await;
    let (alice, alice_api, _bob, bob_api, _) = community(&stack).await;
    let acme = alice_api.me().await.expect("me").communities.remove(0);
    let general = alice_api.list_channels(acme.id).await.expect("channels").data.remove(0).channel;
    let id = general.id;
    let path = format!("/c/acme/settings/channels/{id}");

    let screen = alice.page("/c/acme/settings/channels", StatusCode::OK).await;
    assert!(screen.contains(&format!("<form class=\"settings-form\" method=\"post\" action=\"{path}\">")), "{screen}");
    assert!(screen.contains(&format!("id=\"name-{id}\" name=\"name\" required maxlength=\"80\" value=\"general\">")));
    assert!(screen.contains("<a href=\"/c/acme/settings/channels\" aria-current=\"page\">Channels</a>"), "{screen}");

    // Topic, freeze and slow mode at once; the name stays.
    let form = [("name", "general"), ("topic", "<b>ship it</b>"), ("slow_mode_secs", "30"), ("frozen", "on")];
    let saved = alice.post_form(&path, &form).await;
    assert_eq!(location(&saved), "/c/acme/settings/channels?done=saved");
    let now = alice_api.get_channel(id).await.expect("channel");
    assert_eq!(now.topic.as_deref(), Some("<b>ship it</b>"));
    assert_eq!(now.slow_mode_secs, 30);
    assert!(now.frozen_at.is_some());
    bob_api.join_channel(id).await.expect("joined");
    let sent = bob_api
        .send_message(
            id,
            &ajet_shared::api::wire::CreateMessageRequest {
                body_md: "frozen?".into(),
                parent_id: None,
                client_msg_id: None,
                attachment_ids: vec![],
            },
        )
        .await;
    assert_eq!(sent.err().and_then(|err| err.code()), Some(ajet_shared::api::ErrorCode::ChannelFrozen));
    let screen = alice.page("/c/acme/settings/channels?done=saved", StatusCode::OK).await;
    assert!(screen.contains("value=\"&lt;b&gt;ship it&lt;/b&gt;\">"), "the topic is text: {screen}");
    assert!(screen.contains("name=\"frozen\" value=\"on\" checked>"), "{screen}");
    assert!(
        screen.contains("name=\"slow_mode_secs\" type=\"number\" min=\"0\" max=\"21600\" value=\"30\">"),
        "{screen}"
    );

    // Thawed, slow mode off, renamed, archived.
    let form = [("name", "old-general"), ("topic", "<b>ship it</b>"), ("slow_mode_secs", "0"), ("archived", "on")];
    let saved = alice.post_form(&path, &form).await;
    assert_eq!(location(&saved), "/c/acme/settings/channels?done=saved");
    let now = alice_api.get_channel(id).await.expect("channel");
    assert_eq!(now.name.as_deref(), Some("old-general"));
    assert!(now.frozen_at.is_none() && now.slow_mode_secs == 0 && now.archived_at.is_some(), "{now:?}");

    // Refused by the api (a name with spaces) or here (slow mode not a number): the
    // message, the form as filled, nothing changed.
    let form = [("name", "bad name"), ("topic", "changed"), ("slow_mode_secs", "0"), ("archived", "on")];
    let refused = alice.post_form(&path, &form).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = refused.text().await.expect("html");
    assert!(page.contains("<p class=\"form-error\" role=\"alert\">"), "{page}");
    assert!(page.contains("value=\"bad name\">"), "the form as filled: {page}");
    let form = [("name", "old-general"), ("topic", "x"), ("slow_mode_secs", "soon"), ("archived", "on")];
    let refused = alice.post_form(&path, &form).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().await.expect("html").contains("Slow mode: a whole number of seconds, 0 for off."));
    let now = alice_api.get_channel(id).await.expect("channel");
    assert_eq!((now.name.as_deref(), now.topic.as_deref()), (Some("old-general"), Some("<b>ship it</b>")));

    // A channel of another community, named through this one's screen: not found.
    let (_, other_api) = Browser::login(&stack, "dave").await;
    let other = other_api
        .create_community(&CreateCommunityRequest { name: "Other".into(), slug: "other".into(), description: None })
        .await
        .expect("community");
    let theirs = other_api.list_channels(other.id).await.expect("channels").data.remove(0).channel;
    let form = [("name", "mine"), ("topic", ""), ("slow_mode_secs", "0")];
    let answer = alice.post_form(&format!("/c/acme/settings/channels/{}", theirs.id), &form).await;
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
    assert_eq!(other_api.get_channel(theirs.id).await.expect("channel").name.as_deref(), Some("general"));
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_or_an_outsider_opening_a_communitys_admin_screens_or_posting_their_forms_gets_nothing() {
    let stack = Stack::start().await;
    let (_, alice_api, bob, bob_api, carol) = community(&stack).await;
    let acme = alice_api.me().await.expect("me").communities.remove(0);
    let alice_id = alice_api.me().await.expect("me").user.id;
    let general = alice_api.list_channels(acme.id).await.expect("channels").data.remove(0).channel;
    let hook = alice_api
        .create_webhook(&ajet_shared::api::wire::CreateWebhookRequest {
            channel_id: general.id,
            name: "secret-hook".into(),
            avatar_url: None,
        })
        .await
        .expect("hook");
    let invite = alice_api.list_invites(acme.id).await.expect("invites").data.remove(0);
    let kept = ajet_shared::api::wire::CreateMessageRequest {
        body_md: "not to be purged".into(),
        parent_id: None,
        client_msg_id: None,
        attachment_ids: Vec::new(),
    };
    alice_api.send_message(general.id, &kept).await.expect("sent");
    let alice_text = alice_id.to_string();
    // A mute in force, which neither may lift.
    let bob_id = bob_api.me().await.expect("me").user.id;
    let mute = ajet_shared::api::wire::CreateMuteRequest { user_id: bob_id, duration_secs: None, reason: None };
    alice_api.mute(acme.id, &mute).await.expect("bob muted");

    let screens = [
        "/c/acme/settings/community".to_owned(),
        "/c/acme/settings/channels".to_owned(),
        "/c/acme/settings/members".to_owned(),
        "/c/acme/settings/invites".to_owned(),
        "/c/acme/settings/webhooks".to_owned(),
        format!("/c/acme/settings/webhooks/{}", hook.info.id),
        "/c/acme/settings/audit".to_owned(),
        "/c/acme/settings/mutes".to_owned(),
        format!("/c/acme/settings/channels/{}/purge", general.id),
    ];
    for screen in &screens {
        let page = bob.page(screen, StatusCode::FORBIDDEN).await;
        assert!(page.contains("Only the community's admins can see this."), "{screen}: {page}");
        assert!(!page.contains(&invite.code) && !page.contains("secret-hook"), "{screen} leaks: {page}");
        let page = carol.page(screen, StatusCode::NOT_FOUND).await;
        assert!(!page.contains(&invite.code) && !page.contains("secret-hook"), "{screen} leaks: {page}");
    }
    let own = bob.page("/settings/profile", StatusCode::OK).await;
    assert!(!own.contains("/c/acme/settings"), "a member's navigation offers no admin screen: {own}");

    // The forms, posted anyway: the api refuses, and nothing changes.
    let forms: [(String, Vec<(&str, &str)>); 11] = [
        ("/c/acme/settings/community".into(), vec![("name", "Taken over")]),
        (
            format!("/c/acme/settings/channels/{}", general.id),
            vec![("name", "general"), ("topic", "pwned"), ("slow_mode_secs", "0"), ("frozen", "on")],
        ),
        ("/c/acme/settings/invites".into(), vec![("expires", ""), ("max_uses", "")]),
        (format!("/c/acme/settings/members/{alice_id}/role"), vec![("role", "member")]),
        (format!("/c/acme/settings/members/{alice_id}/remove"), vec![("reason", "mine now"), ("how", "ban")]),
        (format!("/c/acme/settings/webhooks/{}/delete", hook.info.id), vec![]),
        (format!("/c/acme/settings/invites/{}/revoke", invite.code), vec![]),
        (format!("/c/acme/settings/bans/{alice_id}/lift"), vec![]),
        ("/c/acme/settings/mutes".into(), vec![("user", &alice_text), ("duration", ""), ("reason", "mine")]),
        (format!("/c/acme/settings/mutes/{bob_id}/lift"), vec![]),
        (
            format!("/c/acme/settings/channels/{}/purge", general.id),
            vec![("count", "1000"), ("reason", "gone"), ("confirm", "on")],
        ),
    ];
    for (path, form) in &forms {
        let answer = bob.post_form(path, form).await;
        assert_eq!(answer.status(), StatusCode::FORBIDDEN, "POST {path}");
        let answer = carol.post_form(path, form).await;
        assert_eq!(answer.status(), StatusCode::NOT_FOUND, "POST {path}");
    }
    assert_eq!(alice_api.list_invites(acme.id).await.expect("invites").data.len(), 1);
    assert_eq!(alice_api.list_webhooks(acme.id).await.expect("hooks").data.len(), 1);
    assert!(alice_api.list_bans(acme.id).await.expect("bans").data.is_empty());
    let mutes = alice_api.list_mutes(acme.id).await.expect("mutes").data;
    assert_eq!(mutes.iter().map(|mute| mute.user.id).collect::<Vec<_>>(), [bob_id], "bob's mute stays, alice has none");
    let history = alice_api.history(general.id, &Default::default()).await.expect("history").data;
    assert!(history.iter().all(|m| m.deleted_at.is_none()), "nothing purged: {history:?}");
    // The webhook's avatar, posted anyway: refused before the api is asked.
    let (content_type, body) = multipart("avatar", PNG);
    let path = format!("/c/acme/settings/webhooks/{}/avatar", hook.info.id);
    let answer = bob.post(&path, "same-origin", &content_type, body.clone()).await;
    assert_eq!(answer.status(), StatusCode::FORBIDDEN, "POST {path}");
    let answer = carol.post(&path, "same-origin", &content_type, body).await;
    assert_eq!(answer.status(), StatusCode::NOT_FOUND, "POST {path}");
    let hooks = alice_api.list_webhooks(acme.id).await.expect("hooks").data;
    assert!(hooks.iter().all(|hook| hook.avatar_url.is_none()), "no avatar set");
    // Set by alice, it cannot be removed by them.
    alice_api.put_webhook_avatar(hook.info.id, PNG).await.expect("alice sets one");
    for (who, status) in [(&bob, StatusCode::FORBIDDEN), (&carol, StatusCode::NOT_FOUND)] {
        let answer = who.post_form(&format!("/c/acme/settings/webhooks/{}/avatar/delete", hook.info.id), &[]).await;
        assert_eq!(answer.status(), status);
    }
    let hooks = alice_api.list_webhooks(acme.id).await.expect("hooks").data;
    assert!(hooks.iter().all(|hook| hook.avatar_url.is_some()), "the avatar stays");
    let owner = alice_api.list_community_members(acme.id).await.expect("members").data;
    assert!(owner.iter().any(|m| m.user.id == alice_id && m.role == Role::Owner));
    let after = alice_api.get_community(acme.id).await.expect("community");
    assert_eq!((after.name.as_str(), after.link_previews), ("Acme", true), "the community is unchanged");
    let general = alice_api.get_channel(general.id).await.expect("channel");
    assert!(general.frozen_at.is_none() && general.topic.is_none(), "the channel is unchanged: {general:?}");
    drop(bob_api);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_of_another_community_naming_this_ones_channel_or_webhook_under_their_own_slug_gets_nothing() {
    let stack = Stack::start().await;
    let (_, alice_api, ..) = community(&stack).await;
    let acme = alice_api.me().await.expect("me").communities.remove(0);
    let general = alice_api.list_channels(acme.id).await.expect("channels").data.remove(0).channel;
    let kept = ajet_shared::api::wire::CreateMessageRequest {
        body_md: "not to be purged".into(),
        parent_id: None,
        client_msg_id: None,
        attachment_ids: Vec::new(),
    };
    alice_api.send_message(general.id, &kept).await.expect("sent");
    let request =
        ajet_shared::api::wire::CreateWebhookRequest { channel_id: general.id, name: "CI".into(), avatar_url: None };
    let hook = alice_api.create_webhook(&request).await.expect("hook").info;
    let avatar = alice_api.put_webhook_avatar(hook.id, PNG).await.expect("an avatar").avatar_url;
    // Mallory owns (so administers) community Beta, and uses its slug with acme's ids.
    let (mallory, mallory_api) = Browser::login(&stack, "mallory").await;
    mallory_api
        .create_community(&CreateCommunityRequest { name: "Beta".into(), slug: "beta".into(), description: None })
        .await
        .expect("beta");

    let purge = format!("/c/beta/settings/channels/{}/purge", general.id);
    let page = mallory.page(&purge, StatusCode::NOT_FOUND).await;
    assert!(!page.contains("general") && !page.contains("not to be purged"), "{page}");
    let answer = mallory.post_form(&purge, &[("count", "1000"), ("reason", "gone"), ("confirm", "on")]).await;
    assert_eq!(answer.status(), StatusCode::NOT_FOUND, "POST {purge}");
    let webhook = format!("/c/beta/settings/webhooks/{}", hook.id);
    let page = mallory.page(&webhook, StatusCode::NOT_FOUND).await;
    assert!(!page.contains("avatar-preview") && !page.contains("The avatar of CI"), "{page}");
    let (content_type, body) = multipart("avatar", PNG);
    let answer = mallory.post(&format!("{webhook}/avatar"), "same-origin", &content_type, body).await;
    assert_eq!(answer.status(), StatusCode::NOT_FOUND, "POST {webhook}/avatar");
    let answer = mallory.post_form(&format!("{webhook}/avatar/delete"), &[]).await;
    assert_eq!(answer.status(), StatusCode::NOT_FOUND, "POST {webhook}/avatar/delete");

    let history = alice_api.history(general.id, &Default::default()).await.expect("history").data;
    assert!(
        history.iter().any(|m| m.body_md == "not to be purged") && history.iter().all(|m| m.deleted_at.is_none()),
        "nothing purged: {history:?}"
    );
    let hooks = alice_api.list_webhooks(acme.id).await.expect("hooks").data;
    assert_eq!(hooks.iter().map(|hook| hook.avatar_url.clone()).collect::<Vec<_>>(), [avatar], "the avatar stays");
    let image = alice_api.download_webhook_avatar(hook.id).await.expect("still served");
    assert_eq!(image.bytes().await.expect("body").to_vec(), PNG);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_is_paged_newest_first_and_the_older_link_continues_where_the_page_ended() {
    let stack = Stack::start().await;
    let (alice, alice_api, _bob, bob_api, _) = community(&stack).await;
    let acme = alice_api.me().await.expect("me").communities.remove(0);
    let bob_id = bob_api.me().await.expect("me").user.id;
    for round in 0..30 {
        for role in [Role::Admin, Role::Member] {
            let request = ajet_shared::api::wire::UpdateMemberRequest { role, reason: Some(format!("round {round}")) };
            alice_api.set_role(acme.id, bob_id, &request).await.expect("role changed");
        }
    }
    let query = ajet_shared::api::wire::AuditQuery { limit: Some(100), ..Default::default() };
    let total = alice_api.audit_log(acme.id, &query).await.expect("audit").data.len();
    assert!((60..100).contains(&total), "{total} records");

    let rows = |page: &str| page.matches("<tr><td>").count();
    let first = alice.page("/c/acme/settings/audit", StatusCode::OK).await;
    assert_eq!(rows(&first), 50, "a page holds 50 records");
    assert!(first.contains("reason: round 29 ·"), "the newest first: {first}");
    assert!(!first.contains("reason: round 0 ·"), "the oldest are on the next page");
    let marker = "href=\"/c/acme/settings/audit?before=";
    let start = first.find(marker).expect("a link to older records") + "href=\"".len();
    let older = &first[start..start + first[start..].find('"').expect("closing quote")];
    let second = alice.page(older, StatusCode::OK).await;
    assert_eq!(rows(&second), total - 50, "the older page holds the rest, none twice");
    assert!(second.contains("reason: round 0 ·"), "{second}");
    assert!(!second.contains(marker), "the last page links no older one");
    let garbled = alice.get("/c/acme/settings/audit?before=yesterday").await;
    assert_eq!(garbled.status(), StatusCode::BAD_REQUEST);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_stars_mutes_and_sets_notifications_of_a_channel_from_its_page_and_not_of_one_they_cannot_see() {
    use ajet_shared::api::wire::{CreateChannelRequest, NotifyLevel};
    let stack = Stack::start().await;
    let (_, alice_api, bob, bob_api, _) = community(&stack).await;
    let acme = alice_api.me().await.expect("me").communities[0].clone();
    let dev = alice_api
        .create_channel(acme.id, &CreateChannelRequest { name: "dev".into(), topic: None, kind: None })
        .await
        .expect("channel");
    bob_api.join_channel(dev.id).await.expect("bob joins #dev");
    let prefs = |api: &ApiClient| {
        let api = api.clone();
        async move {
            let list = api.list_channels(acme.id).await.expect("channels").data;
            let item = list.into_iter().find(|item| item.channel.id == dev.id).expect("#dev listed");
            (item.starred, item.muted_until.is_some(), item.notify_level)
        }
    };

    let page = bob.page("/c/acme/dev", StatusCode::OK).await;
    assert!(page.contains("id=\"channel-preferences\"") && page.contains(">Star<"), "the page offers them: {page}");
    let action = format!("/channels/{}/preferences", dev.id);
    for (field, value) in [("starred", "true"), ("muted", "true"), ("notify_level", "mentions")] {
        let answer = bob.post_form(&action, &[(field, value)]).await;
        assert_eq!(answer.status(), StatusCode::SEE_OTHER, "{field}");
        assert_eq!(location(&answer), "/c/acme/dev");
    }
    assert_eq!(prefs(&bob_api).await, (true, true, NotifyLevel::Mentions));
    assert_eq!(prefs(&alice_api).await, (false, false, NotifyLevel::All), "they are bob's own");
    let page = bob.page("/c/acme/dev", StatusCode::OK).await;
    assert!(page.contains(">Unstar<") && page.contains(">Unmute<"), "the page shows them applied: {page}");
    assert!(page.contains("value=\"mentions\" selected"), "{page}");
    for (field, value) in [("starred", "false"), ("muted", "false")] {
        assert_eq!(bob.post_form(&action, &[(field, value)]).await.status(), StatusCode::SEE_OTHER);
    }
    assert_eq!(prefs(&bob_api).await, (false, false, NotifyLevel::Mentions));

    // A misspelt field or a level that does not exist is refused, and changes nothing.
    for form in [[("stared", "true")], [("notify_level", "loud")]] {
        let answer = bob.post_form(&action, &form).await;
        assert!(answer.status().is_client_error(), "{form:?}: {}", answer.status());
    }
    assert_eq!(prefs(&bob_api).await, (false, false, NotifyLevel::Mentions));

    // A private channel bob is not in: refused by the api, as if it did not exist.
    let secret = alice_api
        .create_channel(
            acme.id,
            &CreateChannelRequest {
                name: "secret".into(),
                topic: None,
                kind: Some(ajet_shared::api::wire::ChannelKind::Private),
            },
        )
        .await
        .expect("private channel");
    let answer = bob.post_form(&format!("/channels/{}/preferences", secret.id), &[("starred", "true")]).await;
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
    stack.stop().await;
}
