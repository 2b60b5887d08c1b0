//! Catch-up through the gateway: after a cursor, exactly the changes since (new, edited and
//! deleted messages of the caller's channels, channel list changes, read state,
//! notifications), nothing of what they cannot see, and a clear refusal of a cursor that
//! is not theirs.

use std::collections::BTreeSet;

use ajet_shared::api::ErrorCode;
use ajet_shared::api::wire::{
    Channel, ChannelKind, CreateChannelRequest, CreateMessageRequest, Message, NotificationKind,
    ReadNotificationsRequest, SyncResponse, UpdateChannelRequest,
};
use ajet_shared::client::ApiClient;
use ajet_shared::domain::ids::MessageId;

use crate::skeleton::two_users;
use crate::stack::Stack;

async fn post(client: &ApiClient, channel: &Channel, body: &str, parent: Option<MessageId>) -> Message {
    client
        .send_message(
            channel.id,
            &CreateMessageRequest {
                body_md: body.into(),
                parent_id: parent,
                client_msg_id: None,
                attachment_ids: Vec::new(),
            },
        )
        .await
        .expect("sent")
}

/// Whether `sync` holds no change at all.
fn nothing_changed(sync: &SyncResponse) -> bool {
    sync.channels.is_empty()
        && sync.read_cursors.is_empty()
        && sync.messages.is_empty()
        && sync.notifications.is_empty()
        && sync.read_notification_ids.is_empty()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_cursor_sync_answers_exactly_the_changes_since_and_only_what_the_caller_may_see() {
    let stack = Stack::start().await;
    let (alice, bob, dev) = two_users(&stack).await;
    let community = dev.community_id.expect("a community channel");
    let create = |name: &str, kind| CreateChannelRequest { name: name.into(), topic: None, kind };
    let secret = alice.create_channel(community, &create("secret", Some(ChannelKind::Private))).await.expect("secret");
    let other = alice.create_channel(community, &create("other", None)).await.expect("other");
    let root = post(&alice, &dev, "a root from before", None).await;
    let old = post(&alice, &dev, "old, deleted later", None).await;

    let start = bob.sync(None).await.expect("a cursor to start from");
    let names: BTreeSet<Option<String>> = start.channels.iter().map(|c| c.channel.name.clone()).collect();
    assert!(names.contains(&Some("dev".into())) && names.contains(&Some("other".into())), "{names:?}");
    assert!(!start.channel_ids.contains(&secret.id), "a private channel bob is not in is not his to see");
    assert!(start.messages.is_empty() && start.notifications.is_empty());

    let new = post(&alice, &dev, "new since", None).await;
    let edited = post(&alice, &dev, "to be edited", None).await;
    alice.update_message(edited.id, "edited for @bob").await.expect("edited");
    let gone = post(&alice, &dev, "posted and deleted", None).await;
    alice.delete_message(gone.id).await.expect("deleted");
    alice.delete_message(old.id).await.expect("an older one deleted");
    let reply = post(&alice, &dev, "a reply", Some(root.id)).await;
    post(&alice, &other, "in a channel bob has not joined", None).await;
    post(&alice, &secret, "in a channel bob cannot see", None).await;
    let rename = UpdateChannelRequest { name: Some("renamed".into()), topic: None, archived: None };
    alice.update_channel(other.id, &rename).await.expect("renamed");
    let fresh = alice.create_channel(community, &create("fresh", None)).await.expect("fresh");
    bob.mark_read(dev.id, new.id).await.expect("read up to the new one");

    let sync = bob.sync(Some(&start.cursor)).await.expect("changes since");
    assert_eq!(sync.messages.len(), 1, "only dev's messages: {:?}", sync.messages);
    let dev_changes = &sync.messages[0];
    assert_eq!((dev_changes.channel_id, dev_changes.has_more), (dev.id, false));
    let got: Vec<(MessageId, &str, bool)> =
        dev_changes.messages.iter().map(|m| (m.id, m.body_md.as_str(), m.deleted_at.is_some())).collect();
    assert_eq!(
        got,
        vec![
            (old.id, "", true),
            (new.id, "new since", false),
            (edited.id, "edited for @bob", false),
            (gone.id, "", true),
            (reply.id, "a reply", false),
        ],
        "new, edited and deleted messages since the cursor, current versions, oldest first"
    );
    let changed: BTreeSet<(_, Option<String>)> =
        sync.channels.iter().map(|c| (c.channel.id, c.channel.name.clone())).collect();
    let expected: BTreeSet<(_, Option<String>)> = [
        (dev.id, Some("dev".to_owned())),
        (other.id, Some("renamed".to_owned())),
        (fresh.id, Some("fresh".to_owned())),
    ]
    .into();
    assert_eq!(changed, expected, "renamed, created, and dev (bob's read cursor moved)");
    assert!(sync.channel_ids.contains(&fresh.id) && !sync.channel_ids.contains(&secret.id));
    assert_eq!(sync.read_cursors.iter().map(|c| (c.channel_id, c.message_id)).collect::<Vec<_>>(), [(dev.id, new.id)]);
    assert_eq!(
        sync.notifications.iter().map(|n| (n.kind, n.message_id)).collect::<Vec<_>>(),
        [(NotificationKind::Mention, Some(edited.id))],
        "the mention the edit added"
    );
    assert!(sync.read_notification_ids.is_empty());

    // Nothing since: nothing.
    let quiet = bob.sync(Some(&sync.cursor)).await.expect("nothing since");
    assert!(nothing_changed(&quiet), "{quiet:?}");
    // Reading a notification, then one more message.
    let read = bob
        .read_notifications(&ReadNotificationsRequest { all: Some(true), ..Default::default() })
        .await
        .expect("read");
    let last = post(&alice, &dev, "one more", None).await;
    let next = bob.sync(Some(&quiet.cursor)).await.expect("since the quiet one");
    assert_eq!(next.read_notification_ids, read.ids);
    assert_eq!(next.messages.len(), 1);
    assert_eq!(next.messages[0].messages.iter().map(|m| m.id).collect::<Vec<_>>(), [last.id]);
    assert!(next.channels.is_empty() && next.read_cursors.is_empty() && next.notifications.is_empty(), "{next:?}");

    // Someone else's cursor, or a garbled one, is refused clearly.
    let refused = alice.sync(Some(&next.cursor)).await.expect_err("bob's cursor");
    assert_eq!((refused.status().map(|s| s.as_u16()), refused.code()), (Some(400), Some(ErrorCode::InvalidCursor)));
    assert!(refused.to_string().contains("someone else"), "{refused}");
    let refused = bob.sync(Some("not-a-cursor")).await.expect_err("garbled");
    assert_eq!(refused.code(), Some(ErrorCode::InvalidCursor));
    stack.stop().await;
}
