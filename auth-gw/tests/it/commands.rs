//! Slash commands through the gateway: user commands do what their REST endpoints do,
//! replies are ephemeral (answered, and pushed to the caller's own streams only — never to
//! the channel or anyone else), refusals say what was wrong, and admin commands need an
//! admin. `/purge`, `/invite`, `/token` and `/webhook create` hand the caller alone what
//! their endpoints answer (an invite link, a token, a webhook's secret URL), and what they
//! hand out works.

use std::time::Duration;

use ajet_shared::api::wire::{AuditQuery, Channel, CreateChannelRequest, CreateMessageRequest, HistoryQuery};
use ajet_shared::api::{ErrorCode, paths};
use ajet_shared::client::{ApiClient, ClientError, SseEvent};
use ajet_shared::domain::ids::WebhookId;
use ajet_shared::events::{Event, EventPayload};
use futures::StreamExt as _;
use futures::stream::BoxStream;

use crate::skeleton::two_users;
use crate::stack::Stack;

type Sse = BoxStream<'static, Result<SseEvent, ClientError>>;

/// The envelopes on `stream` before the message `marker` arrives.
async fn envelopes_until(stream: &mut Sse, marker: &str) -> Vec<Event> {
    let mut events = Vec::new();
    loop {
        let event = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("an event within 10 s")
            .expect("open")
            .expect("well-formed");
        let Ok(envelope) = serde_json::from_str::<Event>(&event.data) else { continue };
        if matches!(&envelope.payload, EventPayload::MessageCreated(m) if m.body_md == marker) {
            return events;
        }
        events.push(envelope);
    }
}

async fn say(client: &ApiClient, channel: &Channel, body: &str) {
    let request =
        CreateMessageRequest { body_md: body.into(), parent_id: None, client_msg_id: None, attachment_ids: Vec::new() };
    client.send_message(channel.id, &request).await.expect("sent");
}

fn replies(events: &[Event]) -> Vec<(String, bool)> {
    events
        .iter()
        .filter_map(|event| match &event.payload {
            EventPayload::CommandReplied(reply) => Some((reply.text.clone(), reply.error)),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_commands_act_like_their_endpoints_and_their_replies_reach_only_the_caller() {
    let stack = Stack::start().await;
    let (alice, bob, dev) = two_users(&stack).await;
    let community = dev.community_id.expect("community");
    alice
        .create_channel(community, &CreateChannelRequest { name: "ops".into(), topic: None, kind: None })
        .await
        .expect("ops");
    let (mut bob_stream, mut alice_stream) =
        (bob.tui_events(None).await.expect("stream"), alice.tui_events(None).await.expect("stream"));

    // Posting commands answer the message they posted.
    let me = bob.run_command(dev.id, "/me waves").await.expect("/me");
    assert_eq!((me.reply, me.message.as_ref().map(|m| m.body_md.as_str())), (None, Some("_waves_")));
    let shrug = bob.run_command(dev.id, "/shrug fine").await.expect("/shrug");
    assert_eq!(shrug.message.expect("posted").body_md, r"fine ¯\\\_(ツ)\_/¯");
    let dm = bob.run_command(dev.id, "/msg @alice psst").await.expect("/msg");
    let dm = dm.message.expect("posted");
    assert_ne!(dm.channel_id, dev.id, "a DM, not the channel");
    assert_eq!(dm.body_md, "psst");

    // Acting commands do what the endpoints do, and reply.
    let joined = bob.run_command(dev.id, "/join #ops").await.expect("/join");
    assert_eq!(joined.reply.as_deref(), Some("You joined #ops."));
    let channels = bob.list_channels(community).await.expect("channels").data;
    assert!(channels.iter().any(|c| c.channel.name.as_deref() == Some("ops") && c.is_member), "bob is in #ops");
    let topic = bob.run_command(dev.id, "/topic Ship it").await.expect("/topic");
    assert_eq!(topic.reply.as_deref(), Some("Topic set."));
    assert_eq!(bob.get_channel(dev.id).await.expect("channel").topic.as_deref(), Some("Ship it"));
    let help = bob.run_command(dev.id, "/help").await.expect("/help");
    let help = help.reply.expect("a reply");
    assert!(
        help.contains("/join #channel") && !help.contains("/ban"),
        "a member's help lists no admin command: {help}"
    );

    // Refusals say what is wrong.
    let unknown = bob.run_command(dev.id, "/jion #ops").await.expect_err("unknown");
    assert_eq!(unknown.code(), Some(ErrorCode::UnknownCommand));
    assert!(unknown.to_string().contains("did you mean /join?"), "{unknown}");
    let wrong = bob.run_command(dev.id, "/join ops").await.expect_err("no #");
    assert_eq!(wrong.code(), Some(ErrorCode::InvalidCommand));
    let admin_only = bob.run_command(dev.id, "/ban @alice").await.expect_err("a member");
    assert_eq!(admin_only.code(), Some(ErrorCode::AdminOnly));

    // The replies went to Bob's own stream only: Alice, in the same channel, saw none.
    say(&alice, &dev, "marker").await;
    let bob_replies = replies(&envelopes_until(&mut bob_stream, "marker").await);
    assert_eq!(bob_replies.len(), 6, "join, topic, help and the three refusals: {bob_replies:?}");
    assert_eq!(bob_replies[0], ("You joined #ops.".to_owned(), false));
    assert!(bob_replies[3].1 && bob_replies[3].0.contains("did you mean /join?"), "{bob_replies:?}");
    let alice_replies = replies(&envelopes_until(&mut alice_stream, "marker").await);
    assert!(alice_replies.is_empty(), "nobody else sees a command's reply: {alice_replies:?}");
    let history = alice.history(dev.id, &Default::default()).await.expect("history");
    assert!(history.data.iter().all(|m| !m.body_md.contains("joined")), "a reply is never posted to the channel");

    // The list for completion: admin commands only for admins of the channel's community.
    let for_bob = bob.list_commands(Some(dev.id)).await.expect("list");
    assert!(for_bob.iter().all(|c| !c.admin));
    let for_alice = alice.list_commands(Some(dev.id)).await.expect("list");
    assert!(for_alice.iter().any(|c| c.name == "ban" && c.admin && c.aliases.is_empty()));
    assert!(for_alice.iter().any(|c| c.name == "mute" && c.aliases == ["timeout"]));
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_commands_moderate_as_their_endpoints_do() {
    let stack = Stack::start().await;
    let (alice, bob, dev) = two_users(&stack).await;
    let muted = alice.run_command(dev.id, "/mute @bob 10m spam").await.expect("/mute");
    assert_eq!(muted.reply.as_deref(), Some("Muted @bob for 10m."));
    let refused = bob
        .send_message(
            dev.id,
            &CreateMessageRequest {
                body_md: "hi".into(),
                parent_id: None,
                client_msg_id: None,
                attachment_ids: Vec::new(),
            },
        )
        .await
        .expect_err("muted");
    assert_eq!(refused.code(), Some(ErrorCode::Muted));
    alice.run_command(dev.id, "/unmute @bob").await.expect("/unmute");
    say(&bob, &dev, "back").await;

    let frozen = alice.run_command(dev.id, "/freeze").await.expect("/freeze");
    assert_eq!(frozen.reply.as_deref(), Some("Frozen: only admins may post here."));
    let refused = bob
        .send_message(
            dev.id,
            &CreateMessageRequest {
                body_md: "hi".into(),
                parent_id: None,
                client_msg_id: None,
                attachment_ids: Vec::new(),
            },
        )
        .await
        .expect_err("frozen");
    assert_eq!(refused.code(), Some(ErrorCode::ChannelFrozen));
    alice.run_command(dev.id, "/unfreeze").await.expect("/unfreeze");
    say(&bob, &dev, "thawed").await;

    let slow = alice.run_command(dev.id, "/slowmode 30").await.expect("/slowmode");
    assert_eq!(slow.reply.as_deref(), Some("Slow mode: one post per member every 30 s."));
    assert_eq!(alice.get_channel(dev.id).await.expect("channel").slow_mode_secs, 30);
    alice.run_command(dev.id, "/slowmode off").await.expect("/slowmode off");

    let promoted = alice.run_command(dev.id, "/role @bob admin").await.expect("/role");
    assert_eq!(promoted.reply.as_deref(), Some("@bob is now an admin."));
    // An admin may not act on the owner, by command as by endpoint.
    let protected = bob.run_command(dev.id, "/kick @alice").await.expect_err("the owner");
    assert_eq!(protected.code(), Some(ErrorCode::OwnerProtected));
    let nobody = alice.run_command(dev.id, "/ban @nobody").await.expect_err("no such user");
    assert_eq!(nobody.code(), Some(ErrorCode::UnknownUser));
    let kicked = alice.run_command(dev.id, "/kick @bob off topic").await.expect("/kick");
    assert_eq!(kicked.reply.as_deref(), Some("Removed @bob from the community."));
    let gone = bob.get_channel(dev.id).await.expect_err("out of the community");
    assert_eq!(gone.code(), Some(ErrorCode::NotACommunityMember));
    stack.stop().await;
}

/// The `n`th text between backticks in `reply`.
fn quoted(reply: &str, n: usize) -> String {
    reply.split('`').nth(2 * n + 1).unwrap_or_else(|| panic!("no quoted part {n} in {reply}")).to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_invite_token_and_webhook_commands_do_what_their_endpoints_do_for_the_caller_alone() {
    let stack = Stack::start().await;
    let (alice, bob, dev) = two_users(&stack).await;
    let community = dev.community_id.expect("community");
    let (mut bob_stream, mut alice_stream) =
        (bob.tui_events(None).await.expect("stream"), alice.tui_events(None).await.expect("stream"));

    // /purge: admins only, the newest messages, audited.
    for body in ["one", "two", "three"] {
        say(&bob, &dev, body).await;
    }
    let refused = bob.run_command(dev.id, "/purge 2").await.expect_err("a member");
    assert_eq!(refused.code(), Some(ErrorCode::AdminOnly));
    let purged = alice.run_command(dev.id, "/purge 2").await.expect("/purge");
    assert_eq!(purged.reply.as_deref(), Some("Purged the last 2 messages."));
    let history = bob.history(dev.id, &HistoryQuery::default()).await.expect("history").data;
    let state: Vec<(&str, bool)> = history.iter().map(|m| (m.body_md.as_str(), m.deleted_at.is_some())).collect();
    assert_eq!(state, [("one", false), ("", true), ("", true)]);
    let audit = alice
        .audit_log(community, &AuditQuery { action: Some("channel.purge".into()), ..AuditQuery::default() })
        .await
        .expect("audit")
        .data;
    assert_eq!(audit.len(), 1);

    // /invite: any member; the link works for someone else.
    let invite = bob.run_command(dev.id, "/invite 1 1h").await.expect("/invite").reply.expect("a reply");
    let page = paths::invite_page(&quoted(&invite, 0));
    assert!(invite.contains("1 use, expires in 1h") && invite.contains(&format!("{page} ")), "{invite}");
    let landing = reqwest::get(format!("{}{page}", stack.gateway.base_url())).await.expect("the link opens");
    let landing = landing.text().await.expect("page");
    assert!(landing.contains("Join Acme on ajet-chat"), "the link is the invite's page: {landing}");
    let carol = stack.login("carol").await;
    carol.accept_invite(&quoted(&invite, 0)).await.expect("carol joins by the command's invite");
    assert!(carol.list_communities().await.expect("communities").data.iter().any(|c| c.id == community));

    // /token create and revoke: the token works, then stops.
    let token = bob.run_command(dev.id, "/token create ci read").await.expect("/token create").reply.expect("a reply");
    let (id, secret) = (quoted(&token, 1), quoted(&token, 2));
    let ci = stack.gateway.with_token(secret.clone());
    assert_eq!(ci.me().await.expect("the token works").user.username, "bob");
    let listed = bob.list_tokens().await.expect("tokens").data;
    assert!(listed.iter().any(|t| t.id.to_string() == id && t.name == "ci" && t.scopes == ["read"]), "{listed:?}");
    let taken = bob.run_command(dev.id, "/token create ci").await.expect_err("the name is taken");
    assert_eq!(taken.code(), Some(ErrorCode::TokenNameTaken));
    let revoked = bob.run_command(dev.id, &format!("/token revoke {id}")).await.expect("/token revoke");
    assert_eq!(revoked.reply.as_deref(), Some("Token revoked."));
    let err = ci.me().await.expect_err("revoked");
    assert_eq!(err.status(), Some(reqwest::StatusCode::UNAUTHORIZED));
    let again = bob.run_command(dev.id, &format!("/token revoke {id}")).await.expect_err("already revoked");
    assert_eq!(again.code(), Some(ErrorCode::TokenNotFound));

    // /webhook create: admins only, into a channel of this community; the URL posts.
    let refused = bob.run_command(dev.id, "/webhook create #dev CI").await.expect_err("a member");
    assert_eq!(refused.code(), Some(ErrorCode::AdminOnly));
    let missing = alice.run_command(dev.id, "/webhook create #nope CI").await.expect_err("no such channel");
    assert_eq!(missing.code(), Some(ErrorCode::ChannelNotFound));
    let hook = alice.run_command(dev.id, "/webhook create #dev CI").await.expect("/webhook create");
    let hook = hook.reply.expect("a reply");
    let url = hook.rsplit(' ').next().expect("the URL last").to_owned();
    let mut parts = url.rsplit('/');
    let (token, id) = (parts.next().expect("token"), parts.next().expect("id"));
    let id: WebhookId = id.parse().expect("a webhook id");
    let posted = stack
        .gateway
        .post_webhook(id, token, &serde_json::json!({"text": "from the hook"}))
        .await
        .expect("the URL posts");
    assert_eq!((posted.channel_id, posted.body_md.as_str()), (dev.id, "from the hook"));

    // Each reply reached its caller's own streams only.
    say(&alice, &dev, "marker").await;
    let bob_events = envelopes_until(&mut bob_stream, "marker").await;
    let bob_replies = replies(&bob_events);
    assert!(bob_replies.iter().any(|(text, _)| text.contains(&secret)), "bob got his token: {bob_replies:?}");
    assert!(bob_replies.iter().all(|(text, _)| !text.contains(&url)), "never alice's webhook URL");
    let alice_replies = replies(&envelopes_until(&mut alice_stream, "marker").await);
    assert!(alice_replies.iter().any(|(text, _)| text.contains(&url)), "alice got her URL: {alice_replies:?}");
    assert!(alice_replies.iter().all(|(text, _)| !text.contains(&secret) && !text.contains("/api/invites/")));
    let history = alice.history(dev.id, &HistoryQuery::default()).await.expect("history").data;
    assert!(history.iter().all(|m| !m.body_md.contains(&secret) && !m.body_md.contains(token)), "nothing posted");
    stack.stop().await;
}
