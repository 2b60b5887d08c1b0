//! Communities, channels and messages through the api: happy paths, bad input with named
//! fields, permission checks, idempotent sends and history cursors.

use ajet_shared::api::wire::{
    Channel, CreateChannelRequest, CreateCommunityRequest, CreateInviteRequest, CreateMessageRequest, HistoryQuery,
    Message,
};
use ajet_shared::api::{ErrorCode, paths};
use ajet_shared::client::{ApiClient, ClientError};
use ajet_shared::domain::ids::MessageId;
use reqwest::StatusCode;

use crate::harness::Api;

fn status_and_code(err: &ClientError) -> (Option<StatusCode>, Option<ErrorCode>) {
    (err.status(), err.code())
}

async fn community_with_channel(owner: &ApiClient, slug: &str) -> Channel {
    let community = owner
        .create_community(&CreateCommunityRequest { name: "Acme".into(), slug: slug.into(), description: None })
        .await
        .expect("community");
    owner
        .create_channel(
            community.id,
            &CreateChannelRequest { name: "dev".into(), topic: Some("Building".into()), kind: None },
        )
        .await
        .expect("channel")
}

fn message(body: &str, client_msg_id: Option<&str>) -> CreateMessageRequest {
    CreateMessageRequest {
        body_md: body.into(),
        parent_id: None,
        client_msg_id: client_msg_id.map(Into::into),
        attachment_ids: Vec::new(),
    }
}

#[tokio::test]
async fn a_community_starts_with_general_and_names_are_checked() {
    let api = Api::start().await;
    let alice = api.user("alice").await;
    let community = alice
        .create_community(&CreateCommunityRequest { name: "Acme".into(), slug: "acme".into(), description: None })
        .await
        .expect("created");
    let me = alice.me().await.expect("me");
    assert_eq!(me.communities.len(), 1);
    assert_eq!(me.communities[0].id, community.id);
    assert_eq!(serde_json::to_value(me.communities[0].role).expect("json"), "owner");

    let taken = alice
        .create_community(&CreateCommunityRequest { name: "Other".into(), slug: "acme".into(), description: None })
        .await
        .expect_err("slug taken");
    assert_eq!(status_and_code(&taken), (Some(StatusCode::CONFLICT), Some(ErrorCode::SlugTaken)));
    let bad = alice
        .create_community(&CreateCommunityRequest { name: "X".into(), slug: "Not A Slug".into(), description: None })
        .await
        .expect_err("bad slug");
    assert_eq!(bad.status(), Some(StatusCode::BAD_REQUEST));
    assert!(bad.to_string().contains("slug"), "the error names the field: {bad}");

    let general = alice
        .create_channel(community.id, &CreateChannelRequest { name: "general".into(), topic: None, kind: None })
        .await
        .expect_err("general exists");
    assert_eq!(status_and_code(&general), (Some(StatusCode::CONFLICT), Some(ErrorCode::ChannelNameTaken)));
    let bad_name = alice
        .create_channel(community.id, &CreateChannelRequest { name: "Has Spaces".into(), topic: None, kind: None })
        .await
        .expect_err("bad name");
    assert_eq!(bad_name.status(), Some(StatusCode::BAD_REQUEST));
}

#[tokio::test]
async fn only_members_read_and_only_channel_members_post() {
    let api = Api::start().await;
    let alice = api.user("alice").await;
    let bob = api.user("bob").await;
    let anonymous = api.client.clone();
    let channel = community_with_channel(&alice, "acme").await;
    let community = channel.community_id.expect("a community channel");

    let err = anonymous.history(channel.id, &HistoryQuery::default()).await.expect_err("anonymous");
    assert_eq!(status_and_code(&err), (Some(StatusCode::UNAUTHORIZED), Some(ErrorCode::Unauthenticated)));
    let err = bob.history(channel.id, &HistoryQuery::default()).await.expect_err("outsider");
    assert_eq!(status_and_code(&err), (Some(StatusCode::FORBIDDEN), Some(ErrorCode::NotACommunityMember)));
    let err = bob.join_channel(channel.id).await.expect_err("outsider cannot join");
    assert_eq!(err.status(), Some(StatusCode::FORBIDDEN));

    let invite = alice
        .create_invite(community, &CreateInviteRequest { expires_in_secs: None, max_uses: Some(1) })
        .await
        .expect("invite");
    bob.accept_invite(&invite.code).await.expect("accepted");
    let carol = api.user("carol").await;
    let used_up = carol.accept_invite(&invite.code).await.expect_err("max_uses reached");
    assert_eq!(status_and_code(&used_up), (Some(StatusCode::NOT_FOUND), Some(ErrorCode::InviteInvalid)));

    // A community member reads public history but must join to post.
    bob.history(channel.id, &HistoryQuery::default()).await.expect("member reads");
    let err = bob.send_message(channel.id, &message("hi", None)).await.expect_err("not joined");
    assert_eq!(status_and_code(&err), (Some(StatusCode::FORBIDDEN), Some(ErrorCode::NotAChannelMember)));
    bob.join_channel(channel.id).await.expect("joins");
    bob.join_channel(channel.id).await.expect("joining twice is fine");
    let sent = bob.send_message(channel.id, &message("hi", None)).await.expect("posts");
    assert_eq!(sent.channel_seq, 1);
    assert_eq!(sent.author.username.as_deref(), Some("bob"));

    let missing =
        bob.history(ajet_shared::ChannelId::generate(), &HistoryQuery::default()).await.expect_err("no such channel");
    assert_eq!(status_and_code(&missing), (Some(StatusCode::NOT_FOUND), Some(ErrorCode::ChannelNotFound)));
}

#[tokio::test]
async fn bodies_are_validated_and_client_msg_id_makes_sends_idempotent() {
    let api = Api::start().await;
    let alice = api.user("alice").await;
    let channel = community_with_channel(&alice, "acme").await;

    let empty = alice.send_message(channel.id, &message("   ", None)).await.expect_err("blank");
    assert_eq!(status_and_code(&empty), (Some(StatusCode::BAD_REQUEST), Some(ErrorCode::EmptyBody)));
    let long = alice.send_message(channel.id, &message(&"x".repeat(101), None)).await.expect_err("too long");
    assert_eq!(status_and_code(&long), (Some(StatusCode::UNPROCESSABLE_ENTITY), Some(ErrorCode::MessageTooLong)));
    let malformed = alice
        .request(reqwest::Method::POST, &paths::channel_messages(channel.id))
        .header("content-type", "application/json")
        .body("{\"body_md\": 42}")
        .send()
        .await
        .expect("answers");
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = malformed.json().await.expect("json error");
    assert_eq!(body["error"]["code"], ErrorCode::InvalidBody.as_str());

    let first = alice.send_message(channel.id, &message("once", Some("key-1"))).await.expect("sent");
    let retry = alice.send_message(channel.id, &message("once", Some("key-1"))).await.expect("retried");
    assert_eq!(retry.id, first.id, "a retry returns the original");
    let reused = alice.send_message(channel.id, &message("different", Some("key-1"))).await.expect_err("reused key");
    assert_eq!(status_and_code(&reused), (Some(StatusCode::CONFLICT), Some(ErrorCode::ClientMsgIdReused)));
    let page = alice.history(channel.id, &HistoryQuery::default()).await.expect("history");
    assert_eq!(page.data.len(), 1, "nothing was duplicated and failed sends left nothing behind");
    let outbox: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE payload->>'type' = 'message.created'")
        .fetch_one(&api.db.pool)
        .await
        .expect("count");
    assert_eq!(outbox, 1, "one event per message");
}

#[tokio::test]
async fn history_pages_by_cursor_in_both_directions() {
    let api = Api::start().await;
    let alice = api.user("alice").await;
    let channel = community_with_channel(&alice, "acme").await;
    let empty = alice.history(channel.id, &HistoryQuery::default()).await.expect("empty channel");
    assert!(empty.data.is_empty());
    assert!(!empty.page.has_more);
    assert_eq!((empty.page.before, empty.page.after), (None, None));

    let mut sent: Vec<Message> = Vec::new();
    for n in 0..7 {
        sent.push(alice.send_message(channel.id, &message(&format!("m{n}"), None)).await.expect("sent"));
    }
    let ids = |page: &[Message]| page.iter().map(|m| m.id).collect::<Vec<MessageId>>();
    let all: Vec<MessageId> = sent.iter().map(|m| m.id).collect();
    assert_eq!(sent.iter().map(|m| m.channel_seq).collect::<Vec<_>>(), (1..=7).collect::<Vec<_>>());

    let latest =
        alice.history(channel.id, &HistoryQuery { limit: Some(3), ..Default::default() }).await.expect("latest");
    assert_eq!(ids(&latest.data), all[4..]);
    assert!(latest.page.has_more);
    assert_eq!(latest.page.after, None, "the newest end is reached");
    let before = latest.page.before.expect("an older cursor").parse().expect("an id");
    let older = alice
        .history(channel.id, &HistoryQuery { before: Some(before), limit: Some(3), ..Default::default() })
        .await
        .expect("older");
    assert_eq!(ids(&older.data), all[1..4]);
    assert!(older.page.has_more);
    let oldest_cursor = older.page.before.expect("more").parse().expect("an id");
    let oldest = alice
        .history(channel.id, &HistoryQuery { before: Some(oldest_cursor), limit: Some(3), ..Default::default() })
        .await
        .expect("oldest");
    assert_eq!(ids(&oldest.data), all[..1]);
    assert!(!oldest.page.has_more);
    assert_eq!(oldest.page.before, None, "the oldest end is reached");

    let newer = alice
        .history(channel.id, &HistoryQuery { after: Some(all[1]), limit: Some(4), ..Default::default() })
        .await
        .expect("newer");
    assert_eq!(ids(&newer.data), all[2..6]);
    assert!(newer.page.has_more);

    for bad in ["limit=0", "limit=101", "before=nope", &format!("before={}&after={}", all[0], all[1])] {
        let response = alice
            .request(reqwest::Method::GET, &format!("{}?{bad}", paths::channel_messages(channel.id)))
            .send()
            .await
            .expect("answers");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
}

#[tokio::test]
async fn revoked_and_expired_invites_stop_working() {
    let api = Api::start().await;
    let alice = api.user("alice").await;
    let bob = api.user("bob").await;
    let community = alice
        .create_community(&CreateCommunityRequest { name: "Acme".into(), slug: "acme".into(), description: None })
        .await
        .expect("community");
    let revoked = alice.create_invite(community.id, &CreateInviteRequest::default()).await.expect("invite");
    let listed = alice.list_invites(community.id).await.expect("list");
    assert_eq!(listed.data, std::slice::from_ref(&revoked));
    alice.revoke_invite(community.id, &revoked.code).await.expect("revoked");
    assert!(alice.list_invites(community.id).await.expect("list").data.is_empty(), "only open invites are listed");
    let err = bob.accept_invite(&revoked.code).await.expect_err("revoked");
    assert_eq!(status_and_code(&err), (Some(StatusCode::NOT_FOUND), Some(ErrorCode::InviteInvalid)));

    let expiring = alice
        .create_invite(community.id, &CreateInviteRequest { expires_in_secs: Some(1), max_uses: None })
        .await
        .expect("invite");
    // As if its second had passed.
    sqlx::query("UPDATE invites SET created_at = now() - interval '1 hour', expires_at = now() - interval '1 second' WHERE code = $1")
        .bind(&expiring.code)
        .execute(&api.db.pool)
        .await
        .expect("age the invite");
    let err = bob.accept_invite(&expiring.code).await.expect_err("expired");
    assert_eq!(err.code(), Some(ErrorCode::InviteInvalid));
    assert!(bob.me().await.expect("me").communities.is_empty(), "nothing was joined");
}
