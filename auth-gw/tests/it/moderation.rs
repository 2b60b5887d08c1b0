//! Moderation through the gateway: a ban takes the member out of the community at once
//! (REST, posts, open streams, replay) and keeps invites from bringing them back until it
//! is lifted or ends; a kick removes without keeping out; mutes, slow mode and freezes stop
//! posts, reactions and webhooks with their own codes; the owner protections hold; and
//! every action leaves an audit row with its actor, target, reason and trace id.

use std::time::{Duration, Instant};

use ajet_shared::api::ErrorCode;
use ajet_shared::api::wire::{
    AuditQuery, AuditRecord, Channel, ChannelModerationRequest, CreateBanRequest, CreateInviteRequest,
    CreateKickRequest, CreateMessageRequest, CreateMuteRequest, CreateTokenRequest, CreateWebhookRequest, Message,
    NotificationKind, NotificationQuery, Role, UpdateMemberRequest,
};
use ajet_shared::client::{ApiClient, ClientError, SseEvent};
use ajet_shared::domain::ids::{CommunityId, UserId};
use ajet_shared::events::{Event, EventPayload};
use futures::StreamExt as _;
use futures::stream::BoxStream;
use reqwest::Method;
use serde_json::json;

use crate::skeleton::two_users;
use crate::stack::Stack;

type Sse = BoxStream<'static, Result<SseEvent, ClientError>>;

async fn say(client: &ApiClient, channel: &Channel, body: &str) -> Result<Message, ClientError> {
    let request =
        CreateMessageRequest { body_md: body.into(), parent_id: None, client_msg_id: None, attachment_ids: Vec::new() };
    client.send_message(channel.id, &request).await
}

async fn id_of(client: &ApiClient) -> UserId {
    client.me().await.expect("me").user.id
}

fn community_of(channel: &Channel) -> CommunityId {
    channel.community_id.expect("a community channel")
}

fn code(result: Result<impl std::fmt::Debug, ClientError>) -> Option<ErrorCode> {
    result.err().and_then(|err| err.code())
}

/// The message bodies and event types on `stream` before the message `marker`, with the
/// last SSE id seen.
async fn until(stream: &mut Sse, marker: &str) -> (Vec<String>, Vec<Event>, String) {
    let (mut bodies, mut events) = (Vec::new(), Vec::new());
    loop {
        let event = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("an event within 10 s")
            .expect("open")
            .expect("well-formed");
        if event.event == "resync" {
            continue;
        }
        let Ok(envelope) = serde_json::from_str::<Event>(&event.data) else { continue };
        if let EventPayload::MessageCreated(message) = &envelope.payload {
            if message.body_md == marker {
                return (bodies, events, event.id);
            }
            bodies.push(message.body_md.clone());
        }
        events.push(envelope);
    }
}

/// Alice owns the community, Bob is a member of its `#dev`, and the two share a DM whose
/// messages reach Bob whatever happens to his community membership.
async fn alice_bob_and_a_dm(stack: &Stack) -> (ApiClient, ApiClient, Channel, Channel) {
    let (alice, bob, dev) = two_users(stack).await;
    let dm = alice.open_dm(&[id_of(&bob).await]).await.expect("a DM");
    (alice, bob, dev, dm)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_banned_member_loses_the_community_at_once_and_cannot_come_back_until_unbanned() {
    // The periodic access check is a minute away: only the ban's own events act in time.
    let stack = Stack::start().await;
    let (alice, bob, dev, dm) = alice_bob_and_a_dm(&stack).await;
    let community = community_of(&dev);
    let bob_id = id_of(&bob).await;
    let mut stream = bob.sse("/tui/events", None).await.expect("stream");
    say(&alice, &dev, "before the ban").await.expect("sent");
    say(&alice, &dm, "marker 0").await.expect("sent");
    let (bodies, _, before_ban) = until(&mut stream, "marker 0").await;
    assert_eq!(bodies, ["before the ban"]);

    let request = CreateBanRequest { user_id: bob_id, reason: Some("spam".into()), expires_in_secs: None };
    let ban = alice.ban(community, &request).await.expect("banned");
    assert_eq!((ban.user.id, ban.reason.as_deref(), ban.expires_at), (bob_id, Some("spam"), None));
    let banned_at = Instant::now();
    say(&alice, &dev, "after the ban").await.expect("sent");
    say(&alice, &dm, "marker 1").await.expect("sent");
    let (bodies, events, _) = until(&mut stream, "marker 1").await;
    let took = banned_at.elapsed();
    assert!(bodies.is_empty(), "nothing of the community after the ban: {bodies:?}");
    assert!(took < Duration::from_secs(5), "the stream narrowed within 5 s ({took:?})");
    let removal = events.iter().find_map(|event| match &event.payload {
        EventPayload::MemberRemoved(member) if member.channel_id.is_none() => {
            Some((member.user.id, event.community_id))
        }
        _ => None,
    });
    assert_eq!(removal, Some((bob_id, Some(community))), "the community-wide removal reached his stream");
    let told = events.iter().find_map(|event| match &event.payload {
        EventPayload::NotificationCreated(n) if n.kind == NotificationKind::System => Some(n.data.clone()),
        _ => None,
    });
    let told = told.expect("a system notification on his own subject");
    assert_eq!((told["action"].as_str(), told["reason"].as_str()), (Some("ban"), Some("spam")));

    // A replay from before the ban brings nothing of the community either.
    let mut replay = bob.sse("/tui/events", Some(&before_ban)).await.expect("replay");
    let (bodies, _, _) = until(&mut replay, "marker 1").await;
    assert!(bodies.is_empty(), "the replay shows nothing of the community: {bodies:?}");

    // REST: as to someone who was never in it.
    assert_eq!(code(bob.get_community(community).await), Some(ErrorCode::NotACommunityMember));
    assert_eq!(code(bob.get_channel(dev.id).await), Some(ErrorCode::NotACommunityMember));
    assert_eq!(code(say(&bob, &dev, "still here?").await), Some(ErrorCode::NotACommunityMember));
    let me = bob.me().await.expect("me");
    assert!(me.communities.is_empty() && me.public_channels.is_empty(), "{me:?}");
    let members = alice.list_community_members(community).await.expect("members").data;
    assert!(members.iter().all(|m| m.user.id != bob_id), "no longer listed");
    let bans = alice.list_bans(community).await.expect("bans").data;
    assert_eq!(bans.iter().map(|b| b.user.id).collect::<Vec<_>>(), [bob_id]);

    // No way back by invite until the ban is lifted.
    let invite = alice.create_invite(community, &CreateInviteRequest::default()).await.expect("invite");
    assert_eq!(code(bob.accept_invite(&invite.code).await), Some(ErrorCode::Banned));
    alice.unban(community, bob_id).await.expect("unbanned");
    assert!(alice.list_bans(community).await.expect("bans").data.is_empty());
    assert_eq!(code(alice.unban(community, bob_id).await), Some(ErrorCode::BanNotFound));
    bob.accept_invite(&invite.code).await.expect("back in after the unban");
    assert_eq!(bob.get_community(community).await.expect("visible again").id, community);
    stack.stop().await;
}

#[tokio::test]
async fn a_timed_ban_ends_by_itself_and_the_invite_then_works() {
    let stack = Stack::start().await;
    let (alice, bob, dev) = two_users(&stack).await;
    let community = community_of(&dev);
    let bob_id = id_of(&bob).await;
    let request = CreateBanRequest { user_id: bob_id, reason: None, expires_in_secs: Some(1) };
    let ban = alice.ban(community, &request).await.expect("banned");
    assert!(ban.expires_at.is_some());
    let invite = alice.create_invite(community, &CreateInviteRequest::default()).await.expect("invite");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match bob.accept_invite(&invite.code).await {
            Ok(_) => break,
            Err(err) => {
                assert_eq!(err.code(), Some(ErrorCode::Banned), "refused only as banned");
                assert!(Instant::now() < deadline, "the ban ended after its second");
                tokio::task::yield_now().await;
            }
        }
    }
    assert!(alice.list_bans(community).await.expect("bans").data.is_empty(), "an ended ban is not listed");
    stack.stop().await;
}

#[tokio::test]
async fn a_kicked_member_is_out_at_once_told_why_and_may_rejoin_by_invite() {
    let stack = Stack::start().await;
    let (alice, bob, dev) = two_users(&stack).await;
    let community = community_of(&dev);
    let bob_id = id_of(&bob).await;
    alice
        .kick(community, &CreateKickRequest { user_id: bob_id, reason: Some("cool off".into()) })
        .await
        .expect("kicked");
    assert_eq!(code(say(&bob, &dev, "hello?").await), Some(ErrorCode::NotACommunityMember));
    assert!(bob.me().await.expect("me").communities.is_empty());
    let inbox = bob.list_notifications(&NotificationQuery::default()).await.expect("inbox").data;
    let system = inbox.iter().find(|n| n.kind == NotificationKind::System).expect("told");
    assert_eq!((system.data["action"].as_str(), system.data["reason"].as_str()), (Some("kick"), Some("cool off")));
    assert_eq!(system.community_id, Some(community));
    assert_eq!(
        code(alice.kick(community, &CreateKickRequest { user_id: bob_id, reason: None }).await),
        Some(ErrorCode::UserNotInCommunity),
        "a second kick finds nobody"
    );
    let invite = alice.create_invite(community, &CreateInviteRequest::default()).await.expect("invite");
    bob.accept_invite(&invite.code).await.expect("a kick keeps nobody out");
    bob.join_channel(dev.id).await.expect("and the channel is open to him again");
    say(&bob, &dev, "back").await.expect("posts again");
    stack.stop().await;
}

#[tokio::test]
async fn admins_list_the_mutes_in_force_with_who_muted_whom_why_and_until_when_and_ended_ones_drop_out() {
    let stack = Stack::start().await;
    let (alice, bob, dev) = two_users(&stack).await;
    let community = community_of(&dev);
    let (alice_id, bob_id) = (id_of(&alice).await, id_of(&bob).await);
    let carol = stack.login("carol").await;
    let invite = alice.create_invite(community, &CreateInviteRequest::default()).await.expect("invite");
    carol.accept_invite(&invite.code).await.expect("joined");
    let carol_id = id_of(&carol).await;
    assert!(alice.list_mutes(community).await.expect("listed").data.is_empty(), "nobody muted yet");

    // Carol's mute ends after a second; Bob's lasts ten minutes.
    let brief = CreateMuteRequest { user_id: carol_id, duration_secs: Some(1), reason: None };
    alice.mute(community, &brief).await.expect("carol muted");
    let long = CreateMuteRequest { user_id: bob_id, duration_secs: Some(600), reason: Some("calm <down>".into()) };
    let bob_mute = alice.mute(community, &long).await.expect("bob muted");

    // A plain member may not list them, nor may someone outside the community (as for bans).
    let refused = carol.list_mutes(community).await.expect_err("a member is refused");
    assert_eq!((refused.status().map(|s| s.as_u16()), refused.code()), (Some(403), Some(ErrorCode::AdminOnly)));
    let outsider = stack.login("mallory").await;
    let refused = outsider.list_mutes(community).await.expect_err("an outsider is refused");
    assert_eq!(refused.code(), Some(ErrorCode::NotACommunityMember));

    // Once carol's mute has ended, only bob's is listed, with who, by whom, why and until when.
    let deadline = Instant::now() + Duration::from_secs(10);
    let listed = loop {
        let listed = alice.list_mutes(community).await.expect("listed").data;
        if listed.len() == 1 || Instant::now() > deadline {
            break listed;
        }
        // Polled, not spun: a short pause between reads of the api.
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(listed.len(), 1, "the ended mute is left out: {listed:?}");
    let mute = &listed[0];
    assert_eq!((mute.community_id, mute.user.id, mute.user.username.as_str()), (community, bob_id, "bob"));
    assert_eq!(mute.muted_by.as_ref().map(|by| (by.id, by.username.as_str())), Some((alice_id, "alice")));
    assert_eq!(mute.reason.as_deref(), Some("calm <down>"));
    assert_eq!(mute.muted_until, bob_mute.muted_until);
    assert!(mute.muted_until.is_some_and(|until| until > mute.created_at), "ends after it began");

    // Lifted, it is gone from the list.
    alice.unmute(community, bob_id).await.expect("unmuted");
    assert!(alice.list_mutes(community).await.expect("listed").data.is_empty());
    stack.stop().await;
}

#[tokio::test]
async fn a_muted_member_reads_but_cannot_post_or_react_and_a_muted_or_banned_admins_webhook_stops() {
    let stack = Stack::start().await;
    let (alice, bob, dev) = two_users(&stack).await;
    let community = community_of(&dev);
    let bob_id = id_of(&bob).await;
    let first = say(&alice, &dev, "react to me").await.expect("sent");
    let mute = alice
        .mute(community, &CreateMuteRequest { user_id: bob_id, duration_secs: Some(600), reason: Some("calm".into()) })
        .await
        .expect("muted");
    let until = mute.muted_until.expect("a timed mute");
    let refused = say(&bob, &dev, "let me speak").await.expect_err("muted");
    assert_eq!((refused.status().map(|s| s.as_u16()), refused.code()), (Some(403), Some(ErrorCode::Muted)));
    let year = until.year().to_string();
    assert!(refused.message().is_some_and(|m| m.contains("muted") && m.contains(&year)), "says until when: {refused}");
    assert_eq!(code(bob.add_reaction(first.id, "👍").await), Some(ErrorCode::Muted));
    assert_eq!(bob.history(dev.id, &Default::default()).await.expect("still reads").data.len(), 1);
    alice.unmute(community, bob_id).await.expect("unmuted");
    assert_eq!(code(alice.unmute(community, bob_id).await), Some(ErrorCode::MuteNotFound));
    say(&bob, &dev, "thanks").await.expect("posts again");
    bob.add_reaction(first.id, "👍").await.expect("reacts again");

    // A webhook writes on its creator's behalf: while they are muted, it is refused too.
    let carol = stack.login("carol").await;
    let invite = alice.create_invite(community, &CreateInviteRequest::default()).await.expect("invite");
    carol.accept_invite(&invite.code).await.expect("joined");
    let carol_id = id_of(&carol).await;
    let admin = UpdateMemberRequest { role: Role::Admin, reason: None };
    assert_eq!(alice.set_role(community, carol_id, &admin).await.expect("promoted").role, Role::Admin);
    let request = CreateWebhookRequest { channel_id: dev.id, name: "CI".into(), avatar_url: None };
    let hook = carol.create_webhook(&request).await.expect("webhook");
    stack.gateway.post_webhook(hook.info.id, &hook.token, &json!({"text": "build ok"})).await.expect("posts");
    let muted = CreateMuteRequest { user_id: carol_id, duration_secs: None, reason: None };
    assert_eq!(alice.mute(community, &muted).await.expect("muted").muted_until, None, "until lifted");
    let refused = stack.gateway.post_webhook(hook.info.id, &hook.token, &json!({"text": "build 2"})).await;
    assert_eq!(code(refused), Some(ErrorCode::Muted));
    alice.unmute(community, carol_id).await.expect("unmuted");
    stack.gateway.post_webhook(hook.info.id, &hook.token, &json!({"text": "build 3"})).await.expect("posts again");
    // Once its creator is banned, no longer an admin there, it stops.
    let ban = CreateBanRequest { user_id: carol_id, reason: None, expires_in_secs: None };
    alice.ban(community, &ban).await.expect("banned");
    let refused = stack.gateway.post_webhook(hook.info.id, &hook.token, &json!({"text": "build 4"})).await;
    assert_eq!(code(refused), Some(ErrorCode::WebhookCreatorRemoved));
    stack.stop().await;
}

#[tokio::test]
async fn slow_mode_spaces_a_members_posts_with_the_wait_in_retry_after_and_spares_admins() {
    let stack = Stack::start().await;
    let (alice, bob, dev) = two_users(&stack).await;
    let slow = ChannelModerationRequest { slow_mode_secs: Some(60), frozen: None, reason: None };
    assert_eq!(alice.moderate_channel(dev.id, &slow).await.expect("slow").slow_mode_secs, 60);
    assert_eq!(code(bob.moderate_channel(dev.id, &slow).await), Some(ErrorCode::AdminOnly));
    say(&bob, &dev, "one").await.expect("the first post passes");
    let refused = bob
        .request(Method::POST, &format!("/api/channels/{}/messages", dev.id))
        .json(&json!({"body_md": "two"}))
        .send()
        .await
        .expect("answers");
    assert_eq!(refused.status(), 429);
    let wait: u64 = refused.headers()["retry-after"].to_str().expect("ascii").parse().expect("seconds");
    assert!((1..=60).contains(&wait), "{wait}");
    let body: ajet_shared::api::ErrorBody = refused.json().await.expect("error body");
    assert_eq!(body.error.code, ErrorCode::SlowMode);
    assert!(body.error.message.contains(&format!("wait {wait} s")), "{}", body.error.message);
    say(&alice, &dev, "admins").await.expect("exempt");
    say(&alice, &dev, "are exempt").await.expect("exempt");
    let hook = alice
        .create_webhook(&CreateWebhookRequest { channel_id: dev.id, name: "CI".into(), avatar_url: None })
        .await
        .expect("webhook");
    for text in ["and so are", "their webhooks"] {
        stack.gateway.post_webhook(hook.info.id, &hook.token, &json!({ "text": text })).await.expect("exempt");
    }
    let off = ChannelModerationRequest { slow_mode_secs: Some(0), frozen: None, reason: None };
    assert_eq!(alice.moderate_channel(dev.id, &off).await.expect("off").slow_mode_secs, 0);
    say(&bob, &dev, "two").await.expect("off again");
    stack.stop().await;
}

#[tokio::test]
async fn a_frozen_channel_takes_only_admins_posts_and_reactions_and_no_webhooks() {
    let stack = Stack::start().await;
    let (alice, bob, dev) = two_users(&stack).await;
    let first = say(&bob, &dev, "before").await.expect("sent");
    let hook = alice
        .create_webhook(&CreateWebhookRequest { channel_id: dev.id, name: "CI".into(), avatar_url: None })
        .await
        .expect("webhook");
    let before = bob.sync(None).await.expect("a cursor").cursor;
    let freeze = ChannelModerationRequest { slow_mode_secs: None, frozen: Some(true), reason: Some("raid".into()) };
    let frozen = alice.moderate_channel(dev.id, &freeze).await.expect("frozen");
    assert!(frozen.frozen_at.is_some());
    let changes = bob.sync(Some(&before)).await.expect("changes since").channels;
    assert!(
        changes.iter().any(|item| item.channel.id == dev.id && item.channel.frozen_at.is_some()),
        "catch-up reports the freeze: {changes:?}"
    );
    assert!(bob.get_channel(dev.id).await.expect("channel").frozen_at.is_some(), "members see it frozen");
    assert_eq!(code(say(&bob, &dev, "hello?").await), Some(ErrorCode::ChannelFrozen));
    assert_eq!(code(bob.add_reaction(first.id, "👍").await), Some(ErrorCode::ChannelFrozen));
    let refused = stack.gateway.post_webhook(hook.info.id, &hook.token, &json!({"text": "deploy"})).await;
    assert_eq!(code(refused), Some(ErrorCode::ChannelFrozen));
    say(&alice, &dev, "calm down").await.expect("admins post");
    alice.add_reaction(first.id, "👍").await.expect("admins react");
    let thaw = ChannelModerationRequest { slow_mode_secs: None, frozen: Some(false), reason: None };
    assert!(alice.moderate_channel(dev.id, &thaw).await.expect("open").frozen_at.is_none());
    say(&bob, &dev, "after").await.expect("open again");
    stack.gateway.post_webhook(hook.info.id, &hook.token, &json!({"text": "deploy"})).await.expect("hook again");
    stack.stop().await;
}

#[tokio::test]
async fn the_owner_and_admins_are_protected_as_the_table_says() {
    let stack = Stack::start().await;
    let (alice, bob, dev) = two_users(&stack).await;
    let community = community_of(&dev);
    let carol = stack.login("carol").await;
    let dave = stack.login("dave").await;
    for client in [&carol, &dave] {
        let invite = alice.create_invite(community, &CreateInviteRequest::default()).await.expect("invite");
        client.accept_invite(&invite.code).await.expect("joined");
        let promote = UpdateMemberRequest { role: Role::Admin, reason: None };
        alice.set_role(community, id_of(client).await, &promote).await.expect("admin");
    }
    let [alice_id, bob_id, carol_id, dave_id] =
        [id_of(&alice).await, id_of(&bob).await, id_of(&carol).await, id_of(&dave).await];
    let (owner, admin, member) = (&alice, &carol, &bob);
    let demote = UpdateMemberRequest { role: Role::Member, reason: None };
    // (who, does what, to whom, refused with)
    let cases: [(&ApiClient, &str, UserId, Option<ErrorCode>); 14] = [
        (admin, "ban", alice_id, Some(ErrorCode::OwnerProtected)),
        (admin, "kick", alice_id, Some(ErrorCode::OwnerProtected)),
        (admin, "mute", alice_id, Some(ErrorCode::OwnerProtected)),
        (admin, "demote", alice_id, Some(ErrorCode::OwnerProtected)),
        (admin, "ban", dave_id, Some(ErrorCode::AdminProtected)),
        (admin, "kick", dave_id, Some(ErrorCode::AdminProtected)),
        (admin, "mute", dave_id, Some(ErrorCode::AdminProtected)),
        (admin, "demote", dave_id, Some(ErrorCode::AdminProtected)),
        (admin, "ban", carol_id, Some(ErrorCode::CannotModerateSelf)),
        (owner, "demote", alice_id, Some(ErrorCode::CannotModerateSelf)),
        (member, "mute", dave_id, Some(ErrorCode::AdminOnly)),
        (owner, "mute", dave_id, None),
        (owner, "demote", dave_id, None),
        (admin, "kick", dave_id, None),
    ];
    for (actor, action, target, refusal) in cases {
        let result = match action {
            "ban" => actor
                .ban(community, &CreateBanRequest { user_id: target, reason: None, expires_in_secs: None })
                .await
                .map(drop),
            "kick" => actor.kick(community, &CreateKickRequest { user_id: target, reason: None }).await,
            "mute" => actor
                .mute(community, &CreateMuteRequest { user_id: target, duration_secs: Some(60), reason: None })
                .await
                .map(drop),
            _ => actor.set_role(community, target, &demote).await.map(drop),
        };
        assert_eq!(code(result), refusal, "{action} {target}");
    }
    let inbox = carol.list_notifications(&NotificationQuery::default()).await.expect("inbox").data;
    let promoted = inbox.iter().find(|n| n.kind == NotificationKind::System).expect("told of the promotion");
    assert_eq!((promoted.data["action"].as_str(), promoted.data["role"].as_str()), (Some("role"), Some("admin")));
    assert_eq!(promoted.actor.as_ref().map(|actor| actor.id), Some(alice_id));
    let owner_role = UpdateMemberRequest { role: Role::Owner, reason: None };
    assert_eq!(code(alice.set_role(community, bob_id, &owner_role).await), Some(ErrorCode::InvalidRole));
    let members = alice.list_community_members(community).await.expect("members").data;
    let roles: Vec<(UserId, Role)> = members.iter().map(|m| (m.user.id, m.role)).collect();
    assert!(roles.contains(&(alice_id, Role::Owner)), "the owner is untouched: {roles:?}");
    assert!(roles.contains(&(carol_id, Role::Admin)) && roles.contains(&(bob_id, Role::Member)), "{roles:?}");
    assert!(!roles.iter().any(|(id, _)| *id == dave_id), "dave, demoted by the owner, was then kicked by an admin");
    assert!(alice.list_bans(community).await.expect("bans").data.is_empty(), "no refused ban was written");
    stack.stop().await;
}

/// The audit rows of `community` with `action`, walked page by page (`limit` 2).
async fn audit_rows(client: &ApiClient, community: CommunityId, action: Option<&str>) -> Vec<AuditRecord> {
    let mut rows = Vec::new();
    let mut before = None;
    loop {
        let query = AuditQuery { action: action.map(str::to_owned), actor: None, before, limit: Some(2) };
        let page = client.audit_log(community, &query).await.expect("audit page");
        assert!(page.data.len() <= 2);
        rows.extend(page.data);
        match page.page.before {
            Some(cursor) => before = Some(cursor.parse().expect("a row id")),
            None => return rows,
        }
    }
}

#[tokio::test]
async fn every_moderation_action_leaves_an_audit_row_with_actor_target_reason_and_trace_id() {
    let stack = Stack::start().await;
    let (alice, bob, dev) = two_users(&stack).await;
    let community = community_of(&dev);
    let (alice_id, bob_id) = (id_of(&alice).await, id_of(&bob).await);
    // Each action sent by hand with its own trace id, which the gateway passes on.
    let base = format!("/api/communities/{community}");
    let steps: [(Method, String, serde_json::Value, &str); 11] = [
        (
            Method::PATCH,
            format!("{base}/members/{bob_id}"),
            json!({"role": "admin", "reason": "trusted"}),
            "member.role",
        ),
        (Method::PATCH, format!("{base}/members/{bob_id}"), json!({"role": "member"}), "member.role"),
        (
            Method::POST,
            format!("{base}/mutes"),
            json!({"user_id": bob_id, "duration_secs": 60, "reason": "calm"}),
            "member.mute",
        ),
        (Method::DELETE, format!("{base}/mutes/{bob_id}"), json!(null), "member.unmute"),
        (
            Method::PATCH,
            format!("/api/channels/{}/moderation", dev.id),
            json!({"slow_mode_secs": 10, "reason": "busy"}),
            "channel.slow_mode",
        ),
        (
            Method::PATCH,
            format!("/api/channels/{}/moderation", dev.id),
            json!({"frozen": true, "reason": "raid"}),
            "channel.freeze",
        ),
        (Method::PATCH, format!("/api/channels/{}/moderation", dev.id), json!({"frozen": false}), "channel.unfreeze"),
        (Method::POST, "/api/webhooks".into(), json!({"channel_id": dev.id, "name": "CI"}), "webhook.create"),
        (Method::POST, format!("{base}/kicks"), json!({"user_id": bob_id, "reason": "cool off"}), "member.kick"),
        (
            Method::POST,
            format!("{base}/bans"),
            json!({"user_id": bob_id, "reason": "spam", "expires_in_secs": 3600}),
            "member.ban",
        ),
        (Method::DELETE, format!("{base}/bans/{bob_id}"), json!(null), "member.unban"),
    ];
    let mut hook_id = None;
    for (i, (method, path, body, action)) in steps.iter().enumerate() {
        let mut request = alice.request(method.clone(), path).header("x-trace-id", format!("trace-{i}-{action}"));
        if !body.is_null() {
            request = request.json(body);
        }
        let response = request.send().await.expect("answers");
        assert!(response.status().is_success(), "{action}: {}", response.status());
        if *action == "webhook.create" {
            let created: serde_json::Value = response.json().await.expect("json");
            hook_id = created["id"].as_str().map(str::to_owned);
        }
    }
    let hook_id = hook_id.expect("the webhook's id");
    let revoked = alice
        .request(Method::DELETE, &format!("/api/webhooks/{hook_id}"))
        .header("x-trace-id", "trace-revoke")
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoked.status(), 204);

    let rows = audit_rows(&alice, community, None).await;
    let mut actions: Vec<&str> = rows.iter().map(|row| row.action.as_str()).collect();
    actions.reverse();
    let mut expected: Vec<&str> = steps.iter().map(|(_, _, _, action)| *action).collect();
    expected.push("webhook.revoke");
    assert_eq!(actions, expected, "one row per action, newest first, across pages");
    for (row, (i, (_, _, body, action))) in rows.iter().rev().zip(steps.iter().enumerate()) {
        assert_eq!(row.actor_id, Some(alice_id), "{action}");
        assert_eq!(row.trace_id.as_deref(), Some(format!("trace-{i}-{action}").as_str()), "{action}");
        if let Some(reason) = body.get("reason") {
            assert_eq!(row.details.get("reason"), Some(reason), "{action} keeps its reason");
        }
        if action.starts_with("member.") {
            assert_eq!((row.target_type.as_deref(), row.target_id), (Some("user"), Some(bob_id.as_uuid())), "{action}");
        }
        if action.starts_with("channel.") {
            assert_eq!(
                (row.target_type.as_deref(), row.target_id),
                (Some("channel"), Some(dev.id.as_uuid())),
                "{action}"
            );
        }
    }
    let revoke = rows.first().expect("the newest row");
    assert_eq!((revoke.action.as_str(), revoke.trace_id.as_deref()), ("webhook.revoke", Some("trace-revoke")));
    let ban = &audit_rows(&alice, community, Some("member.ban")).await;
    assert_eq!(ban.len(), 1, "the action filter");
    assert!(ban[0].details["expires_at"].is_string(), "the ban's end is kept");
    let by_bob = AuditQuery { action: None, actor: Some(bob_id), before: None, limit: None };
    assert!(alice.audit_log(community, &by_bob).await.expect("by actor").data.is_empty(), "the actor filter");
    assert_eq!(code(bob.audit_log(community, &AuditQuery::default()).await), Some(ErrorCode::NotACommunityMember));

    // Tokens are the user's own, audited outside any community, with their trace id too.
    let token = alice
        .request(Method::POST, "/api/tokens")
        .header("x-trace-id", "trace-token")
        .json(&CreateTokenRequest { name: "bot".into(), scopes: vec!["read".into()], expires_in_days: None })
        .send()
        .await
        .expect("token");
    assert_eq!(token.status(), 201);
    let traced: Option<(String, Option<uuid::Uuid>)> = sqlx::query_as(
        "SELECT action, actor_id FROM audit_log WHERE trace_id = 'trace-token' AND community_id IS NULL",
    )
    .fetch_optional(&stack.db.pool)
    .await
    .expect("query");
    assert_eq!(traced, Some(("token.create".to_owned(), Some(alice_id.as_uuid()))));
    stack.stop().await;
}
