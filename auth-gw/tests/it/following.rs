//! A stream carries only what its user follows: of a community's public channels, the
//! traffic of the joined ones, and the channel-level events (created, renamed, archived)
//! of the others for the sidebar.

use std::time::Duration;

use ajet_shared::api::wire::{
    Channel, CreateChannelRequest, CreateCommunityRequest, CreateInviteRequest, CreateMessageRequest,
    UpdateChannelRequest,
};
use ajet_shared::client::ApiClient;
use ajet_shared::events::{Event, EventPayload};
use futures::StreamExt as _;
use reqwest::Method;

use crate::stack::Stack;

async fn send(client: &ApiClient, channel: &Channel, body: &str) {
    client
        .send_message(
            channel.id,
            &CreateMessageRequest {
                body_md: body.into(),
                parent_id: None,
                client_msg_id: None,
                attachment_ids: Vec::new(),
            },
        )
        .await
        .expect("sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_of_one_public_channel_receives_only_its_messages_and_the_others_channel_events() {
    let stack = Stack::start().await;
    let alice = stack.login("alice").await;
    let bob = stack.login("bob").await;
    let community = alice
        .create_community(&CreateCommunityRequest { name: "Acme".into(), slug: "acme".into(), description: None })
        .await
        .expect("community");
    let invite = alice.create_invite(community.id, &CreateInviteRequest::default()).await.expect("invite");
    bob.accept_invite(&invite.code).await.expect("bob joins the community");
    let mut channels = Vec::new();
    for name in ["one", "two", "three"] {
        let request = CreateChannelRequest { name: name.into(), topic: None, kind: None };
        channels.push(alice.create_channel(community.id, &request).await.expect("channel"));
    }
    bob.join_channel(channels[0].id).await.expect("bob joins one");
    let me = bob.me().await.expect("me");
    assert_eq!(
        me.public_channels.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![channels[0].id],
        "me tells which public channels bob joined"
    );

    let mut stream = bob.sse("/tui/events", None).await.expect("stream opens");
    for channel in &channels {
        send(&alice, channel, &format!("in {}", channel.name.as_deref().unwrap_or_default())).await;
    }
    let rename = UpdateChannelRequest { name: Some("deux".into()), topic: None, archived: None };
    let renamed = alice
        .request(Method::PATCH, &format!("/api/channels/{}", channels[1].id))
        .json(&rename)
        .send()
        .await
        .expect("sent");
    assert!(renamed.status().is_success(), "{}", renamed.status());
    let created = alice
        .create_channel(community.id, &CreateChannelRequest { name: "four".into(), topic: None, kind: None })
        .await
        .expect("channel");
    send(&alice, &created, "in four").await;
    send(&alice, &channels[0], "last").await;

    let mut messages = Vec::new();
    let mut channel_events = Vec::new();
    loop {
        let event = tokio::time::timeout(Duration::from_secs(30), stream.next())
            .await
            .expect("an event within 30 s")
            .expect("the stream stays open")
            .expect("a well-formed event");
        let envelope: Event = serde_json::from_str(&event.data).expect("an envelope");
        match envelope.payload {
            EventPayload::MessageCreated(message) => {
                let last = message.body_md == "last";
                messages.push((message.channel_id, message.body_md));
                if last {
                    break;
                }
            }
            EventPayload::ChannelUpdated(channel) | EventPayload::ChannelCreated(channel) => {
                channel_events.push((event.event, channel.id, channel.name));
            }
            // Bob's own joins, of the community and of #one, if they had not reached the
            // session manager when the stream opened (a stream starts where the manager was
            // before it read bob's access, so nothing between the two is lost).
            EventPayload::MemberJoined(member)
                if member.user.id == me.user.id && member.channel_id.is_none_or(|c| c == channels[0].id) => {}
            other => panic!("bob follows nothing that sends {other:?}"),
        }
    }
    assert_eq!(
        messages,
        vec![(channels[0].id, "in one".to_owned()), (channels[0].id, "last".to_owned())],
        "only the joined channel's messages"
    );
    assert_eq!(
        channel_events,
        vec![
            ("channel.updated".to_owned(), channels[1].id, Some("deux".to_owned())),
            ("channel.created".to_owned(), created.id, Some("four".to_owned())),
        ],
        "channel-level events of the channels bob has not joined"
    );
}
