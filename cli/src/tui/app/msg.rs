//! What flows through the reducer: `Msg` in (keys, api answers, live items, the
//! connection's state) and `Effect` out (what the network side is asked to do).

use ajet_shared::api::wire::{
    ChannelListItem, ChannelPreferences, CommandInfo, CommandOutcome, CommunityMember, Me, Message, Notification,
    NotifyLevel, Presence, SearchHit,
};
use ajet_shared::domain::ids::{ChannelId, CommunityId, MessageId, UserId};
use ajet_shared::events::Event;
use ratatui::crossterm::event::KeyEvent;

/// How many messages one page of history holds.
pub const HISTORY_PAGE: u32 = 50;

/// Something that happened: a key, an api answer, a live event, a change of connection.
#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    /// Text pasted at once (bracketed paste).
    Paste(String),
    Me(Me),
    Channels(CommunityId, Vec<ChannelListItem>),
    Dms(Vec<ChannelListItem>),
    /// A page of a channel's history; `around` when it was opened at a search hit.
    History {
        channel: ChannelId,
        messages: Vec<Message>,
        around: Option<MessageId>,
    },
    /// An older page of a channel's history (scrolled to the top), oldest first.
    Older {
        channel: ChannelId,
        messages: Vec<Message>,
    },
    Replies {
        root: MessageId,
        messages: Vec<Message>,
    },
    /// A thread's root that was not in the loaded history.
    Root(Message),
    /// The terminal's size, in columns and rows.
    Resize(u16, u16),
    Members(CommunityId, Vec<CommunityMember>),
    Commands(Vec<CommandInfo>),
    Presence(Vec<Presence>),
    Notifications(Vec<Notification>),
    SearchResults {
        query: String,
        hits: Vec<SearchHit>,
    },
    /// A send answered: the message, or why it was refused.
    Sent {
        client_msg_id: String,
        result: Result<Message, String>,
    },
    CommandRan {
        channel: ChannelId,
        result: Result<CommandOutcome, String>,
    },
    /// An edit answered: `Err` with why it was refused (the text shown goes back).
    Edited {
        message: MessageId,
        result: Result<(), String>,
    },
    /// My preferences in a channel, as a change of them was answered.
    Preferences(ChannelPreferences),
    /// Any other request that failed (shown on the status line).
    Failed(String),
    Live(LiveItem),
    Connection(Connection),
}

/// One item of the `/tui/events` stream, parsed.
#[derive(Debug)]
pub enum LiveItem {
    Event(Box<Event>),
    Typing {
        channel_id: ChannelId,
        user_id: UserId,
        display_name: String,
        typing: bool,
    },
    Presence {
        online: Vec<UserId>,
        offline: Vec<UserId>,
    },
    /// The stream could not resume where we were: reload what is shown.
    Resync,
}

/// What the reducer asks the network side to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    LoadMe,
    LoadChannels(CommunityId),
    LoadDms,
    LoadHistory {
        channel: ChannelId,
        around: Option<MessageId>,
    },
    /// The page of history before `before`.
    LoadOlder {
        channel: ChannelId,
        before: MessageId,
    },
    LoadReplies(MessageId),
    LoadRoot(MessageId),
    LoadMembers(CommunityId),
    LoadCommands(Option<ChannelId>),
    LoadPresence(Vec<UserId>),
    LoadNotifications,
    Send {
        channel: ChannelId,
        body: String,
        parent: Option<MessageId>,
        client_msg_id: String,
    },
    Edit {
        message: MessageId,
        body: String,
    },
    Delete(MessageId),
    React {
        message: MessageId,
        emoji: String,
        add: bool,
    },
    RunCommand {
        channel: ChannelId,
        text: String,
    },
    MarkRead {
        channel: ChannelId,
        message: MessageId,
    },
    MarkNotificationsRead,
    /// Change one of my preferences in a channel.
    SetPreference {
        channel: ChannelId,
        change: PreferenceChange,
    },
    Focus(Option<ChannelId>),
    Typing(ChannelId),
    Search(String),
    Quit,
}

/// One of my preferences in a channel, as a key changes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PreferenceChange {
    Starred(bool),
    /// `None` unmutes.
    MutedUntil(Option<time::OffsetDateTime>),
    NotifyLevel(NotifyLevel),
}

/// The live stream's state, for the status line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Connection {
    Connecting,
    Live,
    /// Lost; the next attempt is in this many seconds.
    Reconnecting {
        in_secs: u64,
        reason: String,
    },
    /// The token was refused: nothing to retry.
    SignedOut(String),
}
