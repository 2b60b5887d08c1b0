//! Reducer tests: keys, answers and live events in, state and effects out. The fixture
//! (`fixture`) is shared with the rendering tests.

use ajet_shared::api::wire::{
    Author, Bot, Channel, ChannelKind, ChannelListItem, ChannelPreferences, CommandInfo, Community, CommunityMember,
    Message, MessageDeleted, NotifyLevel, Presence, ReactionChange, ReactionSummary, Role, User,
};
use ajet_shared::domain::ids::{ChannelId, CommunityId, MessageId, UserId, WebhookId};
use ajet_shared::events::{CommandReply, Event, EventMessage, EventPayload};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use time::OffsetDateTime;
use time::macros::datetime;

use super::*;

pub(crate) struct Fixture {
    pub app: App,
    pub alice: User,
    pub bob: User,
    pub acme: CommunityId,
    pub beta: CommunityId,
    pub general: ChannelId,
    pub random: ChannelId,
    pub dm_bob: ChannelId,
    /// The messages of #general, oldest first.
    pub messages: Vec<MessageId>,
}

pub(crate) fn user(username: &str, display_name: &str) -> User {
    User { id: UserId::generate(), username: username.into(), display_name: display_name.into(), avatar_url: None }
}

pub(crate) fn author_of(user: &User) -> Author {
    Author {
        user_id: Some(user.id),
        username: Some(user.username.clone()),
        display_name: user.display_name.clone(),
        avatar_url: None,
        bot: None,
    }
}

fn community(name: &str) -> Community {
    Community {
        id: CommunityId::generate(),
        name: name.into(),
        slug: name.to_lowercase(),
        description: None,
        created_at: OffsetDateTime::UNIX_EPOCH,
        role: Role::Member,
        link_previews: true,
    }
}

pub(crate) fn item(community: Option<CommunityId>, kind: ChannelKind, name: Option<&str>) -> ChannelListItem {
    ChannelListItem {
        channel: Channel {
            id: ChannelId::generate(),
            community_id: community,
            kind,
            name: name.map(Into::into),
            topic: None,
            created_at: OffsetDateTime::UNIX_EPOCH,
            archived_at: None,
            slow_mode_secs: 0,
            frozen_at: None,
        },
        is_member: true,
        unread_count: 0,
        mention_count: 0,
        last_message_at: None,
        notify_level: NotifyLevel::All,
        muted_until: None,
        starred: false,
        members: Vec::new(),
    }
}

pub(crate) fn message(channel: ChannelId, author: Author, body: &str, at: OffsetDateTime) -> Message {
    Message {
        id: MessageId::generate(),
        channel_id: channel,
        channel_seq: 1,
        author,
        body_md: body.into(),
        parent_id: None,
        client_msg_id: None,
        created_at: at,
        edited_at: None,
        deleted_at: None,
        reply_count: 0,
        last_reply_at: None,
        pinned_at: None,
        pinned_by: None,
        reactions: Vec::new(),
        link_previews: Vec::new(),
        attachments: Vec::new(),
    }
}

/// Alice in Acme (and Beta), reading #general: a few messages covering every marker.
pub(crate) fn fixture() -> Fixture {
    let alice = user("alice", "Alice");
    let bob = user("bob", "Bob Builder");
    let carol = user("carol", "Carol");
    let acme_community = community("Acme");
    let beta_community = community("Beta");
    let (acme, beta) = (acme_community.id, beta_community.id);
    let mut app = App::new(Theme::plain(), "n".into(), Some(Open::Name("general".into())));
    app.update(Msg::Me(Me {
        user: alice.clone(),
        communities: vec![acme_community, beta_community],
        private_channels: Vec::new(),
        public_channels: Vec::new(),
    }));
    let mut general = item(Some(acme), ChannelKind::Public, Some("general"));
    general.channel.topic = Some("Company-wide news".into());
    let mut random = item(Some(acme), ChannelKind::Public, Some("random"));
    random.unread_count = 3;
    let mut secret = item(Some(acme), ChannelKind::Private, Some("secret"));
    secret.unread_count = 2;
    secret.mention_count = 1;
    let mut muted = item(Some(acme), ChannelKind::Public, Some("alerts"));
    muted.unread_count = 7;
    muted.muted_until = Some(datetime!(2999-01-01 0:00 UTC));
    let mut dm_bob = item(None, ChannelKind::Dm, None);
    dm_bob.members = vec![alice.clone(), bob.clone()];
    let mut dm_carol = item(None, ChannelKind::Dm, None);
    dm_carol.members = vec![alice.clone(), carol.clone()];
    let ids = (general.channel.id, random.channel.id, dm_bob.channel.id);
    app.update(Msg::Channels(acme, vec![general, random, secret, muted]));
    app.update(Msg::Channels(beta, vec![item(Some(beta), ChannelKind::Public, Some("lobby"))]));
    app.update(Msg::Dms(vec![dm_bob, dm_carol]));
    app.update(Msg::Presence(vec![Presence { user_id: bob.id, online: true, last_seen_at: None }]));
    app.update(Msg::Members(
        acme,
        [&alice, &bob, &carol]
            .into_iter()
            .map(|u| CommunityMember {
                user: u.clone(),
                role: Role::Member,
                nickname: None,
                joined_at: OffsetDateTime::UNIX_EPOCH,
            })
            .collect(),
    ));
    app.update(Msg::Commands(vec![CommandInfo {
        name: "topic".into(),
        aliases: Vec::new(),
        usage: "/topic <text>".into(),
        summary: "Set the channel topic".into(),
        admin: false,
    }]));
    let general = ids.0;
    let mut hello = message(
        general,
        author_of(&bob),
        "Hello **team**, see [the docs](https://example.com/docs)",
        datetime!(2026-11-26 10:42 UTC),
    );
    hello.reactions = vec![
        ReactionSummary { emoji: "👍".into(), count: 2, reacted_by_me: true },
        ReactionSummary { emoji: "🎉".into(), count: 1, reacted_by_me: false },
    ];
    hello.reply_count = 3;
    let mut grouped = message(general, author_of(&bob), "and a second *thought*", datetime!(2026-11-26 10:43 UTC));
    grouped.edited_at = Some(datetime!(2026-11-26 10:44 UTC));
    let mut bot_author = author_of(&bob);
    bot_author.user_id = None;
    bot_author.username = None;
    bot_author.display_name = "Deploy".into();
    bot_author.bot = Some(Bot { webhook_id: WebhookId::generate(), name: "CI".into() });
    let bot = message(general, bot_author, "> shipped `v1.2`\nall green", datetime!(2026-11-26 10:50 UTC));
    let mut deleted = message(general, author_of(&alice), "", datetime!(2026-11-26 10:51 UTC));
    deleted.deleted_at = Some(datetime!(2026-11-26 10:52 UTC));
    let mine = message(general, author_of(&alice), "my last word", datetime!(2026-11-26 10:53 UTC));
    let messages = vec![hello.id, grouped.id, bot.id, deleted.id, mine.id];
    app.update(Msg::History { channel: general, messages: vec![hello, grouped, bot, deleted, mine], around: None });
    Fixture { app, alice, bob, acme, beta, general, random: ids.1, dm_bob: ids.2, messages }
}

pub(crate) fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

pub(crate) fn chord(code: KeyCode, modifiers: KeyModifiers) -> Msg {
    Msg::Key(KeyEvent::new(code, modifiers))
}

pub(crate) fn type_text(app: &mut App, text: &str) -> Vec<Effect> {
    text.chars().flat_map(|c| app.update(key(KeyCode::Char(c)))).collect()
}

fn live(payload: EventPayload, channel: Option<ChannelId>) -> Msg {
    Msg::Live(LiveItem::Event(Box::new(Event::new(payload, None, channel, None))))
}

fn event_message(message: Message) -> EventMessage {
    EventMessage::from(message)
}

#[test]
fn the_first_joined_channel_opens_once_every_list_arrived_and_is_marked_read() {
    let mut app = App::new(Theme::plain(), "n".into(), None);
    let alice = user("alice", "Alice");
    let acme = community("Acme");
    let acme_id = acme.id;
    let effects = app.update(Msg::Me(Me {
        user: alice,
        communities: vec![acme],
        private_channels: Vec::new(),
        public_channels: Vec::new(),
    }));
    assert!(effects.contains(&Effect::LoadChannels(acme_id)));
    let mut not_joined = item(Some(acme_id), ChannelKind::Public, Some("aaa"));
    not_joined.is_member = false;
    let general = item(Some(acme_id), ChannelKind::Public, Some("general"));
    let general_id = general.channel.id;
    app.update(Msg::Channels(acme_id, vec![not_joined, general]));
    let effects = app.update(Msg::Dms(Vec::new()));
    assert_eq!(app.current, Some(general_id));
    assert!(effects.contains(&Effect::Focus(Some(general_id))));
    assert!(effects.contains(&Effect::LoadHistory { channel: general_id, around: None }));
    let last = message(general_id, author_of(&user("bob", "Bob")), "hi", OffsetDateTime::UNIX_EPOCH);
    let last_id = last.id;
    let effects = app.update(Msg::History { channel: general_id, messages: vec![last], around: None });
    assert_eq!(effects, [Effect::MarkRead { channel: general_id, message: last_id }]);
}

#[test]
fn a_channel_named_at_start_up_opens_instead_of_the_first() {
    let mut app = App::new(Theme::plain(), "n".into(), Some(Open::Name("#random".into())));
    let acme = community("Acme");
    let acme_id = acme.id;
    app.update(Msg::Me(Me {
        user: user("alice", "Alice"),
        communities: vec![acme],
        private_channels: Vec::new(),
        public_channels: Vec::new(),
    }));
    let general = item(Some(acme_id), ChannelKind::Public, Some("general"));
    let random = item(Some(acme_id), ChannelKind::Public, Some("random"));
    let random_id = random.channel.id;
    app.update(Msg::Channels(acme_id, vec![general, random]));
    assert_eq!(app.current, None, "waits for every list");
    app.update(Msg::Dms(Vec::new()));
    assert_eq!(app.current, Some(random_id));
}

#[test]
fn enter_sends_with_a_client_msg_id_shows_it_pending_and_the_answer_replaces_it_once() {
    let mut f = fixture();
    let typing = type_text(&mut f.app, "hi there");
    assert!(typing.contains(&Effect::Typing(f.general)));
    let effects = f.app.update(key(KeyCode::Enter));
    assert_eq!(
        effects,
        [Effect::Send { channel: f.general, body: "hi there".into(), parent: None, client_msg_id: "n-1".into() }]
    );
    assert!(f.app.composer.is_empty());
    let last = f.app.timelines[&f.general].last().expect("pending").clone();
    assert_eq!((last.body.as_str(), &last.state), ("hi there", &EntryState::Pending));

    let mut sent = message(f.general, author_of(&f.alice), "hi there", OffsetDateTime::now_utc());
    sent.client_msg_id = Some("n-1".into());
    f.app.update(Msg::Sent { client_msg_id: "n-1".into(), result: Ok(sent.clone()) });
    f.app.update(live(EventPayload::MessageCreated(event_message(sent.clone())), Some(f.general)));
    let copies: Vec<&Entry> = f.app.timelines[&f.general].iter().filter(|e| e.body == "hi there").collect();
    assert_eq!(copies.len(), 1);
    assert_eq!((copies[0].id, &copies[0].state), (sent.id, &EntryState::Sent));
}

#[test]
fn a_refused_send_stays_in_place_marked_not_sent() {
    let mut f = fixture();
    type_text(&mut f.app, "too fast");
    f.app.update(key(KeyCode::Enter));
    f.app.update(Msg::Sent { client_msg_id: "n-1".into(), result: Err("slow mode: wait 10 s".into()) });
    let last = f.app.timelines[&f.general].last().expect("entry");
    assert_eq!(last.state, EntryState::Failed("slow mode: wait 10 s".into()));
    assert!(f.app.notice.as_ref().is_some_and(|n| n.error));
}

#[test]
fn alt_enter_adds_a_line_instead_of_sending() {
    let mut f = fixture();
    type_text(&mut f.app, "one");
    assert!(f.app.update(chord(KeyCode::Enter, KeyModifiers::ALT)).is_empty());
    type_text(&mut f.app, "two");
    assert_eq!(f.app.text(), "one\ntwo");
    let effects = f.app.update(key(KeyCode::Enter));
    assert!(matches!(&effects[..], [Effect::Send { body, .. }] if body == "one\ntwo"));
}

#[test]
fn up_in_an_empty_composer_edits_my_last_message_and_esc_cancels() {
    let mut f = fixture();
    f.app.update(key(KeyCode::Up));
    assert_eq!(f.app.compose, ComposeMode::Edit(f.messages[4]));
    assert_eq!(f.app.text(), "my last word");
    f.app.update(key(KeyCode::Esc));
    assert_eq!((f.app.compose.clone(), f.app.text()), (ComposeMode::New, String::new()));

    f.app.update(key(KeyCode::Up));
    type_text(&mut f.app, "!");
    let effects = f.app.update(key(KeyCode::Enter));
    assert_eq!(effects, [Effect::Edit { message: f.messages[4], body: "my last word!".into() }]);
    let edited = f.app.find(f.messages[4]).expect("entry");
    assert!(edited.edited && edited.body == "my last word!");
    f.app.update(Msg::Edited { message: f.messages[4], result: Err("this channel is frozen".into()) });
    let reverted = f.app.find(f.messages[4]).expect("entry");
    assert!(!reverted.edited && reverted.body == "my last word", "a refused edit goes back");
    assert!(f.app.notice.as_ref().is_some_and(|n| n.error && n.text.contains("frozen")));
}

#[test]
fn slash_commands_run_through_the_api_and_their_replies_show_only_here() {
    let mut f = fixture();
    type_text(&mut f.app, "/topic Launch day");
    assert!(f.app.completion.is_none(), "no completion once arguments are typed");
    let effects = f.app.update(key(KeyCode::Enter));
    assert_eq!(effects, [Effect::RunCommand { channel: f.general, text: "/topic Launch day".into() }]);
    let reply = CommandReply { channel_id: f.general, text: "Topic set.".into(), error: false };
    f.app.update(live(EventPayload::CommandReplied(reply), None));
    let last = f.app.timelines[&f.general].last().expect("reply");
    assert_eq!((last.body.as_str(), &last.state), ("Topic set.", &EntryState::Ephemeral { error: false }));

    type_text(&mut f.app, "//not a command");
    let effects = f.app.update(key(KeyCode::Enter));
    assert!(matches!(&effects[..], [Effect::Send { body, .. }] if body == "/not a command"));
}

#[test]
fn commands_people_and_channels_complete_with_tab() {
    let mut f = fixture();
    type_text(&mut f.app, "/to");
    let completion = f.app.completion.clone().expect("a completion");
    assert_eq!(completion.items[0].text, "/topic ");
    assert!(completion.items[0].hint.contains("/topic <text>"));
    f.app.update(key(KeyCode::Tab));
    assert_eq!(f.app.text(), "/topic ");

    f.app.update(key(KeyCode::Esc));
    let mut f = fixture();
    type_text(&mut f.app, "hey @bo");
    f.app.update(key(KeyCode::Tab));
    assert_eq!(f.app.text(), "hey @bob ");
    type_text(&mut f.app, "see #ran");
    // Enter accepts a completion that changes the word, and does not send.
    assert!(f.app.update(key(KeyCode::Enter)).is_empty());
    assert_eq!(f.app.text(), "hey @bob see #random ");
}

#[test]
fn live_messages_append_in_the_open_channel_and_count_as_unread_elsewhere() {
    let mut f = fixture();
    let here = message(f.general, author_of(&f.bob), "live!", OffsetDateTime::now_utc());
    let effects = f.app.update(live(EventPayload::MessageCreated(event_message(here.clone())), Some(f.general)));
    assert_eq!(effects, [Effect::MarkRead { channel: f.general, message: here.id }]);
    assert_eq!(f.app.timelines[&f.general].last().map(|e| e.id), Some(here.id));

    let before = f.app.list_item(f.random).expect("random").unread_count;
    let there = message(f.random, author_of(&f.bob), "elsewhere", OffsetDateTime::now_utc());
    f.app.update(live(EventPayload::MessageCreated(event_message(there.clone())), Some(f.random)));
    assert_eq!(f.app.list_item(f.random).expect("random").unread_count, before + 1);
    // Replayed (a reconnect): counted once.
    f.app.update(live(EventPayload::MessageCreated(event_message(there)), Some(f.random)));
    assert_eq!(f.app.list_item(f.random).expect("random").unread_count, before + 1);
}

#[test]
fn edits_deletions_and_reactions_apply_to_the_shown_messages() {
    let mut f = fixture();
    let mut edited = message(f.general, author_of(&f.bob), "Hello again", datetime!(2026-11-26 10:42 UTC));
    edited.id = f.messages[0];
    edited.edited_at = Some(OffsetDateTime::now_utc());
    edited.reactions = vec![ReactionSummary { emoji: "👍".into(), count: 2, reacted_by_me: false }];
    f.app.update(live(EventPayload::MessageUpdated(event_message(edited)), Some(f.general)));
    let entry = f.app.find(f.messages[0]).expect("entry").clone();
    assert!(entry.edited && entry.body == "Hello again");
    assert!(entry.reactions[0].mine, "my own reaction survives an update event");

    let change = |emoji: &str, user: UserId| ReactionChange {
        message_id: f.messages[1],
        channel_id: f.general,
        user_id: user,
        emoji: emoji.into(),
    };
    f.app.update(live(EventPayload::ReactionAdded(change("🚀", f.alice.id)), Some(f.general)));
    f.app.update(live(EventPayload::ReactionAdded(change("🚀", f.bob.id)), Some(f.general)));
    let reactions = &f.app.find(f.messages[1]).expect("entry").reactions;
    assert_eq!((reactions[0].count, reactions[0].mine), (2, true));
    f.app.update(live(EventPayload::ReactionRemoved(change("🚀", f.alice.id)), Some(f.general)));
    f.app.update(live(EventPayload::ReactionRemoved(change("🚀", f.bob.id)), Some(f.general)));
    assert!(f.app.find(f.messages[1]).expect("entry").reactions.is_empty());

    let deleted = MessageDeleted { id: f.messages[2], channel_id: f.general, parent_id: None };
    f.app.update(live(EventPayload::MessageDeleted(deleted), Some(f.general)));
    let entry = f.app.find(f.messages[2]).expect("entry");
    assert!(entry.deleted && entry.body.is_empty());
}

#[test]
fn a_purge_leaves_only_tombstones_of_the_messages_it_names() {
    let mut f = fixture();
    let file = ajet_shared::api::wire::Attachment {
        id: ajet_shared::domain::ids::AttachmentId::generate(),
        channel_id: f.general,
        filename: "plan.pdf".into(),
        content_type: "application/pdf".into(),
        size_bytes: 2048,
        width: None,
        height: None,
        has_thumbnail: false,
        created_at: OffsetDateTime::UNIX_EPOCH,
    };
    let kept = f.app.find(f.messages[0]).expect("entry").body.clone();
    f.app.find_mut(f.messages[1]).expect("entry").files.push(file);
    let purged =
        ajet_shared::api::wire::MessagesPurged { channel_id: f.general, ids: vec![f.messages[1], f.messages[2]] };
    f.app.update(live(EventPayload::MessagesPurged(purged), Some(f.general)));
    for id in [f.messages[1], f.messages[2]] {
        let entry = f.app.find(id).expect("entry");
        assert!(entry.deleted && entry.body.is_empty() && entry.files.is_empty() && entry.reactions.is_empty());
    }
    assert_eq!(f.app.find(f.messages[0]).expect("entry").body, kept, "a message not named stays");
}

#[test]
fn typing_and_presence_follow_the_stream_and_my_own_typing_is_not_shown() {
    let mut f = fixture();
    let typing = |user: &User, typing: bool| {
        Msg::Live(LiveItem::Typing {
            channel_id: f.general,
            user_id: user.id,
            display_name: user.display_name.clone(),
            typing,
        })
    };
    f.app.update(typing(&f.bob, true));
    f.app.update(typing(&f.alice, true));
    assert_eq!(f.app.typing[&f.general], [(f.bob.id, "Bob Builder".to_owned())]);
    f.app.update(typing(&f.bob, false));
    assert!(f.app.typing[&f.general].is_empty());

    f.app.update(Msg::Live(LiveItem::Presence { online: vec![f.alice.id], offline: vec![f.bob.id] }));
    assert_eq!((f.app.presence[&f.alice.id], f.app.presence[&f.bob.id]), (true, false));
}

#[test]
fn channel_list_changes_reload_the_list_and_a_resync_reloads_what_is_shown() {
    let mut f = fixture();
    let created = item(Some(f.acme), ChannelKind::Public, Some("new")).channel;
    let effects = f.app.update(live(EventPayload::ChannelCreated(created), None));
    assert_eq!(effects, [Effect::LoadChannels(f.acme)]);
    let effects = f.app.update(Msg::Live(LiveItem::Resync));
    assert!(effects.contains(&Effect::LoadMe));
    assert!(effects.contains(&Effect::LoadHistory { channel: f.general, around: None }));
}

#[test]
fn the_first_connection_reloads_a_resumed_one_relies_on_the_replay_and_each_learns_the_focus() {
    let mut f = fixture();
    let effects = f.app.update(Msg::Connection(Connection::Live));
    assert!(effects.contains(&Effect::LoadHistory { channel: f.general, around: None }));
    assert!(effects.contains(&Effect::Focus(Some(f.general))));
    let effects = f.app.update(Msg::Connection(Connection::Reconnecting { in_secs: 2, reason: "cut".into() }));
    assert!(effects.is_empty());
    assert!(f.app.update(Msg::Connection(Connection::Connecting)).is_empty());
    assert_eq!(
        f.app.update(Msg::Connection(Connection::Live)),
        [Effect::Focus(Some(f.general))],
        "the new stream learns the focus; nothing is reloaded"
    );
    assert_eq!(f.app.connection, Connection::Live);
}

#[test]
fn a_community_where_i_belong_to_no_channel_stays_empty_when_its_channel_list_arrives() {
    let mut f = fixture();
    let mut lobby = item(Some(f.beta), ChannelKind::Public, Some("lobby"));
    lobby.is_member = false;
    f.app.update(Msg::Channels(f.beta, vec![lobby.clone()]));
    let effects = f.app.update(chord(KeyCode::Right, KeyModifiers::ALT));
    assert!(effects.contains(&Effect::LoadChannels(f.beta)));
    assert_eq!((f.app.current_community().map(|c| c.id), f.app.current), (Some(f.beta), None));
    // The reload Alt+Right asked for answers: nothing jumps back to Acme's first channel.
    let effects = f.app.update(Msg::Channels(f.beta, vec![lobby]));
    assert_eq!((f.app.current_community().map(|c| c.id), f.app.current), (Some(f.beta), None));
    assert!(!effects.iter().any(|e| matches!(e, Effect::Focus(_) | Effect::LoadHistory { .. })), "{effects:?}");
    f.app.update(Msg::Dms(f.app.dms.clone()));
    assert_eq!(f.app.current, None, "nor does a DM list");
}

#[test]
fn alt_arrows_switch_channels_and_communities_and_tell_the_server_the_focus() {
    let mut f = fixture();
    let effects = f.app.update(chord(KeyCode::Down, KeyModifiers::ALT));
    assert_eq!(f.app.current, Some(f.random));
    assert!(effects.contains(&Effect::Focus(Some(f.random))));
    assert!(!effects.iter().any(|e| matches!(e, Effect::LoadCommands(_))), "same community, same commands");
    let effects = f.app.update(chord(KeyCode::Right, KeyModifiers::ALT));
    assert_eq!(f.app.current_community().map(|c| c.id), Some(f.beta));
    assert!(effects.contains(&Effect::LoadChannels(f.beta)));
    assert!(effects.contains(&Effect::LoadCommands(f.app.current)), "admin commands follow my role there");
    assert_eq!(f.app.channel_label(f.app.current.expect("open")), "#lobby");
    f.app.update(chord(KeyCode::Left, KeyModifiers::ALT));
    assert_eq!(f.app.current_community().map(|c| c.id), Some(f.acme));
    // DMs are in the sidebar of every community.
    for _ in 0..6 {
        f.app.update(chord(KeyCode::Up, KeyModifiers::ALT));
        if f.app.current == Some(f.dm_bob) {
            break;
        }
    }
    assert_eq!(f.app.current, Some(f.dm_bob));
    assert_eq!(f.app.channel_label(f.dm_bob), "Bob Builder");
}

#[test]
fn the_thread_of_the_selected_message_opens_and_replies_go_there() {
    let mut f = fixture();
    f.app.update(key(KeyCode::Tab));
    assert_eq!(f.app.focus, Focus::Messages);
    for _ in 0..4 {
        f.app.update(key(KeyCode::Up));
    }
    assert_eq!(f.app.selected, Some(f.messages[0]));
    let effects = f.app.update(chord(KeyCode::Char('t'), KeyModifiers::CONTROL));
    assert_eq!(effects, [Effect::LoadReplies(f.messages[0])]);
    assert_eq!(f.app.thread, Some(f.messages[0]));
    let mut reply = message(f.general, author_of(&f.bob), "a reply", OffsetDateTime::now_utc());
    reply.parent_id = Some(f.messages[0]);
    f.app.update(Msg::Replies { root: f.messages[0], messages: vec![reply.clone()] });
    assert_eq!(f.app.visible_entries().iter().map(|e| e.id).collect::<Vec<_>>(), [f.messages[0], reply.id]);
    type_text(&mut f.app, "me too");
    let effects = f.app.update(key(KeyCode::Enter));
    assert!(matches!(&effects[..], [Effect::Send { parent: Some(root), .. }] if *root == f.messages[0]));

    let mut live_reply = message(f.general, author_of(&f.bob), "another", OffsetDateTime::now_utc());
    live_reply.parent_id = Some(f.messages[0]);
    f.app.update(live(EventPayload::MessageCreated(event_message(live_reply)), Some(f.general)));
    assert_eq!(f.app.find(f.messages[0]).expect("root").reply_count, 4);
    f.app.update(key(KeyCode::Esc));
    assert_eq!(f.app.thread, None);
}

#[test]
fn r_on_a_selected_message_reacts_and_toggles_my_own_reaction_off() {
    let mut f = fixture();
    f.app.update(key(KeyCode::Tab));
    for _ in 0..4 {
        f.app.update(key(KeyCode::Up));
    }
    f.app.update(key(KeyCode::Char('r')));
    assert_eq!(f.app.compose, ComposeMode::React(f.messages[0]));
    type_text(&mut f.app, "👍");
    let effects = f.app.update(key(KeyCode::Enter));
    assert_eq!(effects, [Effect::React { message: f.messages[0], emoji: "👍".into(), add: false }]);
}

#[test]
fn search_runs_on_enter_and_enter_on_a_hit_jumps_to_it() {
    let mut f = fixture();
    f.app.update(chord(KeyCode::Char('f'), KeyModifiers::CONTROL));
    type_text(&mut f.app, "launch");
    assert_eq!(f.app.update(key(KeyCode::Enter)), [Effect::Search("launch".into())]);
    let hit_message = message(f.random, author_of(&f.bob), "launch at noon", OffsetDateTime::now_utc());
    let hit = SearchHit {
        around: hit_message.id,
        channel: ajet_shared::api::wire::NotificationChannel {
            id: f.random,
            kind: ChannelKind::Public,
            name: Some("random".into()),
            community_id: Some(f.acme),
        },
        snippet: "<mark>launch</mark> at noon".into(),
        message: hit_message.clone(),
    };
    f.app.update(Msg::SearchResults { query: "launch".into(), hits: vec![hit] });
    let effects = f.app.update(key(KeyCode::Enter));
    assert!(effects.contains(&Effect::LoadHistory { channel: f.random, around: Some(hit_message.id) }));
    assert_eq!((f.app.current, f.app.selected, f.app.overlay.clone()), (Some(f.random), Some(hit_message.id), None));

    // The stretch around the hit is not the newest: nothing is marked read, live
    // messages wait, and going back to the bottom loads the newest again.
    let effects = f.app.update(Msg::History {
        channel: f.random,
        messages: vec![hit_message.clone()],
        around: Some(hit_message.id),
    });
    assert!(effects.is_empty(), "{effects:?}");
    let live_one = message(f.random, author_of(&f.bob), "newer", OffsetDateTime::now_utc());
    let effects = f.app.update(live(EventPayload::MessageCreated(event_message(live_one)), Some(f.random)));
    assert!(!effects.iter().any(|e| matches!(e, Effect::MarkRead { .. })), "{effects:?}");
    assert_eq!(f.app.timelines[&f.random].len(), 1);
    f.app.update(key(KeyCode::Esc));
    assert_eq!(f.app.update(key(KeyCode::PageDown)), [Effect::LoadHistory { channel: f.random, around: None }]);
}

#[test]
fn question_mark_opens_help_only_when_the_composer_is_empty_and_ctrl_c_quits() {
    let mut f = fixture();
    f.app.update(key(KeyCode::Char('?')));
    assert_eq!(f.app.overlay, Some(Overlay::Help));
    f.app.update(key(KeyCode::Esc));
    type_text(&mut f.app, "why?");
    assert_eq!((f.app.overlay.clone(), f.app.text()), (None, "why?".to_owned()));
    assert_eq!(f.app.update(chord(KeyCode::Char('c'), KeyModifiers::CONTROL)), [Effect::Quit]);
    assert!(f.app.quit);
}

#[test]
fn mentions_count_on_the_channel_and_notifications_become_read_everywhere() {
    let mut f = fixture();
    let notification = Notification {
        id: ajet_shared::domain::ids::NotificationId::generate(),
        kind: ajet_shared::api::wire::NotificationKind::Mention,
        channel: Some(ajet_shared::api::wire::NotificationChannel {
            id: f.random,
            kind: ChannelKind::Public,
            name: Some("random".into()),
            community_id: Some(f.acme),
        }),
        community_id: Some(f.acme),
        message_id: Some(MessageId::generate()),
        parent_id: None,
        actor: Some(f.bob.clone()),
        snippet: None,
        data: serde_json::Value::Null,
        created_at: OffsetDateTime::now_utc(),
        read_at: None,
    };
    let id = notification.id;
    f.app.update(live(EventPayload::NotificationCreated(notification), None));
    assert_eq!(f.app.list_item(f.random).expect("random").mention_count, 1);
    assert_eq!(f.app.unread_notifications(), 1);
    let read = ajet_shared::api::wire::NotificationsRead { ids: vec![id] };
    f.app.update(live(EventPayload::NotificationsRead(read), None));
    assert_eq!(f.app.unread_notifications(), 0);
}

#[test]
fn the_channel_viewed_last_time_opens_even_in_another_community_or_a_dm() {
    let alice = user("alice", "Alice");
    let (acme, beta) = (community("Acme"), community("Beta"));
    let (acme_id, beta_id) = (acme.id, beta.id);
    let lobby = item(Some(beta_id), ChannelKind::Public, Some("lobby"));
    let dm = item(None, ChannelKind::Dm, None);
    for (wanted, expected_community) in [(lobby.channel.id, 1), (dm.channel.id, 0)] {
        let mut app = App::new(Theme::plain(), "n".into(), Some(Open::Id(wanted)));
        app.update(Msg::Me(Me {
            user: alice.clone(),
            communities: vec![acme.clone(), beta.clone()],
            private_channels: Vec::new(),
            public_channels: Vec::new(),
        }));
        app.update(Msg::Channels(acme_id, vec![item(Some(acme_id), ChannelKind::Public, Some("general"))]));
        app.update(Msg::Dms(vec![dm.clone()]));
        app.update(Msg::Channels(beta_id, vec![lobby.clone()]));
        assert_eq!((app.current, app.community), (Some(wanted), expected_community));
    }
}

#[test]
fn deleting_my_message_asks_first() {
    let mut f = fixture();
    f.app.update(key(KeyCode::Tab));
    assert_eq!(f.app.selected, Some(f.messages[4]));
    assert!(f.app.update(key(KeyCode::Char('D'))).is_empty());
    assert!(f.app.update(key(KeyCode::Char('n'))).is_empty(), "any other key keeps it");
    f.app.update(key(KeyCode::Char('D')));
    assert_eq!(f.app.update(key(KeyCode::Char('y'))), [Effect::Delete(f.messages[4])]);
    f.app.update(key(KeyCode::Up));
    assert!(f.app.update(key(KeyCode::Char('D'))).is_empty());
    assert_eq!(f.app.confirm_delete, None, "not mine: nothing to confirm");
}

#[test]
fn the_read_cursor_is_sent_once_per_newest_message() {
    let mut f = fixture();
    let effects = f.app.update(chord(KeyCode::Down, KeyModifiers::ALT));
    assert!(!effects.iter().any(|e| matches!(e, Effect::MarkRead { .. })), "random is not loaded yet");
    let newest = message(f.random, author_of(&f.bob), "hi", OffsetDateTime::now_utc());
    let newest_id = newest.id;
    let effects = f.app.update(Msg::History { channel: f.random, messages: vec![newest.clone()], around: None });
    assert_eq!(effects, [Effect::MarkRead { channel: f.random, message: newest_id }]);
    assert_eq!(f.app.list_item(f.random).expect("random").unread_count, 0);
    let effects = f.app.update(Msg::History { channel: f.random, messages: vec![newest], around: None });
    assert!(effects.is_empty(), "{effects:?}");
}

#[test]
fn the_switcher_opens_any_channel_of_any_community_by_part_of_its_name() {
    let mut f = fixture();
    f.app.update(chord(KeyCode::Char('k'), KeyModifiers::CONTROL));
    type_text(&mut f.app, "lob");
    assert_eq!(f.app.switcher_choices("lob").len(), 1);
    let effects = f.app.update(key(KeyCode::Enter));
    assert_eq!(f.app.current_community().map(|c| c.id), Some(f.beta));
    assert_eq!(f.app.overlay, None);
    assert!(effects.contains(&Effect::Focus(f.app.current)));
    f.app.update(chord(KeyCode::Char('k'), KeyModifiers::CONTROL));
    type_text(&mut f.app, "bob");
    f.app.update(key(KeyCode::Enter));
    assert_eq!(f.app.current, Some(f.dm_bob));
}

#[test]
fn scrolling_to_the_top_loads_the_page_before_and_keeps_the_view_anchored() {
    let mut f = fixture();
    let bob = author_of(&f.bob);
    let page: Vec<Message> = (0..HISTORY_PAGE)
        .map(|i| message(f.random, bob.clone(), &format!("m{i}"), OffsetDateTime::now_utc()))
        .collect();
    let first = page[0].id;
    f.app.update(chord(KeyCode::Down, KeyModifiers::ALT));
    f.app.update(Msg::History { channel: f.random, messages: page, around: None });
    let mut effects = Vec::new();
    for _ in 0..20 {
        effects = f.app.update(key(KeyCode::PageUp));
        if !effects.is_empty() {
            break;
        }
    }
    assert_eq!(effects, [Effect::LoadOlder { channel: f.random, before: first }]);
    assert!(f.app.update(key(KeyCode::PageUp)).is_empty(), "one request at a time");
    let scroll = f.app.scroll;
    let older = message(f.random, bob, "the very first", datetime!(2026-01-01 0:00 UTC));
    f.app.update(Msg::Older { channel: f.random, messages: vec![older] });
    assert_eq!(f.app.timelines[&f.random][0].body, "the very first");
    assert_eq!(f.app.scroll, scroll, "counted from the bottom, so the view stays put");
    assert!(f.app.update(key(KeyCode::PageUp)).is_empty(), "a short page was the beginning");
}

#[test]
fn the_new_divider_sits_above_the_unread_messages_for_one_visit() {
    let mut f = fixture();
    let bob = author_of(&f.bob);
    let page: Vec<Message> =
        (0..5).map(|i| message(f.random, bob.clone(), &format!("m{i}"), OffsetDateTime::now_utc())).collect();
    let ids: Vec<MessageId> = page.iter().map(|m| m.id).collect();
    f.app.update(chord(KeyCode::Down, KeyModifiers::ALT));
    f.app.update(Msg::History { channel: f.random, messages: page, around: None });
    assert_eq!(f.app.new_from.get(&f.random), Some(&ids[2]), "three were unread");
    f.app.update(chord(KeyCode::Up, KeyModifiers::ALT));
    assert!(!f.app.new_from.contains_key(&f.random));
    let later = message(f.random, bob, "while away", OffsetDateTime::now_utc());
    let later_id = later.id;
    f.app.update(live(EventPayload::MessageCreated(event_message(later)), Some(f.random)));
    f.app.update(chord(KeyCode::Down, KeyModifiers::ALT));
    assert_eq!(f.app.new_from.get(&f.random), Some(&later_id));
}

#[test]
fn a_thread_whose_root_is_not_loaded_fetches_the_root_too() {
    let mut f = fixture();
    let mut root = message(f.general, author_of(&f.bob), "old root", datetime!(2025-01-01 0:00 UTC));
    root.reply_count = 1;
    let effects = f.app.open_thread(root.id);
    assert_eq!(effects, [Effect::LoadReplies(root.id), Effect::LoadRoot(root.id)]);
    f.app.update(Msg::Root(root.clone()));
    assert_eq!(f.app.visible_entries().first().map(|e| e.body.as_str()), Some("old root"));
}

#[test]
fn typing_a_letter_while_selecting_goes_back_to_the_composer() {
    let mut f = fixture();
    f.app.update(key(KeyCode::Tab));
    type_text(&mut f.app, "hi");
    assert_eq!((f.app.focus, f.app.selected, f.app.text()), (Focus::Composer, None, "hi".to_owned()));
}

#[test]
fn a_reloaded_list_does_not_bring_back_counts_of_the_channel_on_screen() {
    let mut f = fixture();
    let mut stale = f.app.channels[&f.acme].clone();
    stale[0].unread_count = 4;
    stale[1].unread_count = 9;
    f.app.update(Msg::Channels(f.acme, stale));
    assert_eq!(f.app.list_item(f.general).expect("general").unread_count, 0);
    assert_eq!(f.app.list_item(f.random).expect("random").unread_count, 9);
}

#[test]
fn alt_s_m_and_n_change_my_preferences_in_the_open_channel_and_answers_and_events_apply_them() {
    let mut f = fixture();
    let preference = |app: &mut App, letter: char| {
        let effects = app.update(chord(KeyCode::Char(letter), KeyModifiers::ALT));
        match effects.as_slice() {
            [Effect::SetPreference { channel, change }] => (*channel, *change),
            other => panic!("one preference change expected, not {other:?}"),
        }
    };
    assert_eq!(preference(&mut f.app, 's'), (f.general, PreferenceChange::Starred(true)));
    assert_eq!(preference(&mut f.app, 'n'), (f.general, PreferenceChange::NotifyLevel(NotifyLevel::Mentions)));
    let (channel, change) = preference(&mut f.app, 'm');
    let far = OffsetDateTime::now_utc() + time::Duration::days(36_500);
    assert!(channel == f.general && matches!(change, PreferenceChange::MutedUntil(Some(until)) if until > far));
    let general = f.app.list_item(f.general).expect("listed");
    assert!(!general.starred && general.muted_until.is_none(), "nothing changes before the server answers");
    assert_eq!(f.app.update(chord(KeyCode::Char('s'), KeyModifiers::ALT | KeyModifiers::CONTROL)), Vec::new());

    // The answer applies and is said on the status line.
    let answer = ChannelPreferences {
        channel_id: f.general,
        notify_level: NotifyLevel::Mentions,
        muted_until: None,
        starred: true,
    };
    f.app.update(Msg::Preferences(answer));
    let general = f.app.list_item(f.general).expect("listed");
    assert!(general.starred && general.notify_level == NotifyLevel::Mentions);
    let notice = f.app.notice.clone().expect("a notice");
    assert_eq!(notice.text, "#general: ★ starred · not muted · notify: mentions");
    assert!(!notice.error);

    // A change made elsewhere (the browser, the CLI) arrives as an event: starred first.
    let elsewhere = |channel_id, starred, muted_until, notify_level| {
        live(
            EventPayload::PreferencesUpdated(ChannelPreferences { channel_id, notify_level, muted_until, starred }),
            None,
        )
    };
    let muted = Some(datetime!(2999-01-01 0:00 UTC));
    f.app.update(elsewhere(f.random, true, muted, NotifyLevel::None));
    f.app.update(elsewhere(f.general, false, None, NotifyLevel::All));
    let order: Vec<ChannelId> = f.app.sidebar().iter().map(|item| item.channel.id).take(2).collect();
    assert_eq!(order, [f.random, f.general]);
    assert_eq!(f.app.notice.as_ref().map(|n| n.text.as_str()), Some(notice.text.as_str()), "events say nothing");

    // The keys toggle from what is now true there.
    f.app.open_channel(f.random);
    assert_eq!(preference(&mut f.app, 's'), (f.random, PreferenceChange::Starred(false)));
    assert_eq!(preference(&mut f.app, 'm'), (f.random, PreferenceChange::MutedUntil(None)));
    assert_eq!(preference(&mut f.app, 'n'), (f.random, PreferenceChange::NotifyLevel(NotifyLevel::All)));
    f.app.update(Msg::Failed("preferences not changed: nope".into()));
    assert!(f.app.notice.as_ref().is_some_and(|n| n.error));
}
