//! The TUI's state and its reducer: `App::update(Msg) -> Vec<Effect>`. Everything that is
//! not I/O lives here and is unit-tested: keys, answers of the api and live events come in
//! as `Msg`s; whatever must reach the network goes out as `Effect`s, which `net` runs in
//! tasks and answers with more `Msg`s. Nothing here waits, so the draw loop never does.

mod keys;
mod live;

use std::collections::{HashMap, HashSet};

use ajet_shared::api::wire::{
    Author, ChannelKind, ChannelListItem, CommandInfo, CommandOutcome, Community, CommunityMember, Me, Message,
    Notification, Presence, SearchHit, User,
};
use ajet_shared::domain::ids::{ChannelId, CommunityId, MessageId, UserId};
use ajet_shared::events::{Event, EventMessage};
use ratatui::crossterm::event::KeyEvent;
use ratatui_textarea::TextArea;
use time::OffsetDateTime;

use super::theme::Theme;

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
    Focus(Option<ChannelId>),
    Typing(ChannelId),
    Search(String),
    Quit,
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

/// A message as the TUI keeps it: from history (`Message`) or the stream (`EventMessage`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub id: MessageId,
    pub channel_id: ChannelId,
    pub parent_id: Option<MessageId>,
    pub author: Author,
    pub body: String,
    pub created_at: OffsetDateTime,
    pub edited: bool,
    pub deleted: bool,
    pub reply_count: i32,
    pub reactions: Vec<Reaction>,
    pub client_msg_id: Option<String>,
    pub state: EntryState,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reaction {
    pub emoji: String,
    pub count: i64,
    pub mine: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryState {
    Sent,
    /// Shown at once, not yet confirmed.
    Pending,
    Failed(String),
    /// A slash command's reply, only visible to me.
    Ephemeral {
        error: bool,
    },
}

impl Entry {
    fn from_message(message: Message) -> Self {
        Self {
            id: message.id,
            channel_id: message.channel_id,
            parent_id: message.parent_id,
            author: message.author,
            body: message.body_md,
            created_at: message.created_at,
            edited: message.edited_at.is_some(),
            deleted: message.deleted_at.is_some(),
            reply_count: message.reply_count,
            reactions: message
                .reactions
                .into_iter()
                .map(|r| Reaction { emoji: r.emoji, count: r.count, mine: r.reacted_by_me })
                .collect(),
            client_msg_id: message.client_msg_id,
            state: EntryState::Sent,
        }
    }

    /// From an event, keeping what `previous` knew about my own reactions.
    fn from_event(message: EventMessage, previous: Option<&Entry>) -> Self {
        let mine =
            |emoji: &str| previous.is_some_and(|entry| entry.reactions.iter().any(|r| r.emoji == emoji && r.mine));
        Self {
            id: message.id,
            channel_id: message.channel_id,
            parent_id: message.parent_id,
            author: message.author,
            body: message.body_md,
            created_at: message.created_at,
            edited: message.edited_at.is_some(),
            deleted: message.deleted_at.is_some(),
            reply_count: message.reply_count,
            reactions: message
                .reactions
                .into_iter()
                .map(|r| Reaction { mine: mine(&r.emoji), emoji: r.emoji, count: r.count })
                .collect(),
            client_msg_id: message.client_msg_id,
            state: EntryState::Sent,
        }
    }
}

/// What the composer is doing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ComposeMode {
    New,
    Edit(MessageId),
    /// Typing an emoji to react to this message with.
    React(MessageId),
}

/// Where the keys go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Focus {
    Composer,
    /// Moving the selection through the messages.
    Messages,
}

/// A view over the message pane.
#[derive(Clone, Debug, PartialEq)]
pub enum Overlay {
    Help,
    Search(SearchView),
    Notifications {
        selected: usize,
    },
    /// Ctrl+K: jump to any channel or DM of any community by typing part of its name.
    Switcher {
        query: String,
        selected: usize,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct SearchView {
    pub query: String,
    /// The query the hits are for (None: not searched yet, or waiting).
    pub searched: Option<String>,
    pub hits: Vec<SearchHit>,
    pub selected: usize,
}

/// Candidates for the word at the composer's cursor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completion {
    /// The word being completed, with its sigil (`/`, `@` or `#`).
    pub word: String,
    pub items: Vec<CompletionItem>,
    pub selected: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompletionItem {
    /// What replaces the word.
    pub text: String,
    /// Shown beside it (a command's usage and summary, a person's name).
    pub hint: String,
}

/// Which channel to open at start-up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Open {
    /// By name (`general` or `#general`), in any of my communities.
    Name(String),
    /// The one viewed last time.
    Id(ChannelId),
}

/// A line for the status bar, until the next one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub text: String,
    pub error: bool,
}

/// The whole state of the terminal client.
pub struct App {
    pub theme: Theme,
    pub me: Option<User>,
    pub communities: Vec<Community>,
    /// Index into `communities`.
    pub community: usize,
    pub channels: HashMap<CommunityId, Vec<ChannelListItem>>,
    pub dms: Vec<ChannelListItem>,
    pub presence: HashMap<UserId, bool>,
    pub current: Option<ChannelId>,
    /// Loaded histories, oldest first, top-level messages only.
    pub timelines: HashMap<ChannelId, Vec<Entry>>,
    /// The thread shown instead of the channel, if any.
    pub thread: Option<MessageId>,
    /// Loaded threads' replies, oldest first.
    pub replies: HashMap<MessageId, Vec<Entry>>,
    /// Roots of open threads that are not in the loaded history (opened from search or
    /// a notification).
    pub thread_roots: HashMap<MessageId, Entry>,
    /// Messages already counted (so a replayed event is not counted twice).
    seen: HashSet<MessageId>,
    /// Who is typing where (not me).
    pub typing: HashMap<ChannelId, Vec<(UserId, String)>>,
    pub composer: TextArea<'static>,
    pub compose: ComposeMode,
    pub focus: Focus,
    pub selected: Option<MessageId>,
    /// Lines scrolled up from the bottom of the message pane.
    pub scroll: usize,
    /// The terminal's size (columns, rows), for knowing how far the messages can scroll.
    pub size: (u16, u16),
    /// Channels whose history may go further back than what is loaded.
    older: HashSet<ChannelId>,
    /// Channels with a request for older history under way.
    loading_older: HashSet<ChannelId>,
    pub overlay: Option<Overlay>,
    pub connection: Connection,
    ever_live: bool,
    pub notice: Option<Notice>,
    pub commands: Vec<CommandInfo>,
    pub members: HashMap<CommunityId, Vec<CommunityMember>>,
    pub completion: Option<Completion>,
    pub notifications: Vec<Notification>,
    /// Where the "new" divider goes, per channel: the first unread message when opened.
    pub new_from: HashMap<ChannelId, MessageId>,
    /// The channel to open at start-up, by name, once the lists are in.
    pending_open: Option<Open>,
    dms_loaded: bool,
    /// The read cursor last sent per channel (so it is not sent twice).
    read_sent: HashMap<ChannelId, MessageId>,
    /// Edits shown before the server confirmed them: the text and marker they replaced.
    edits: HashMap<MessageId, (String, bool)>,
    /// A delete asked for and waiting for `y`.
    pub confirm_delete: Option<MessageId>,
    /// Prefix of this process's `client_msg_id`s, and a counter after it.
    nonce: String,
    sent: u64,
    pub quit: bool,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("current", &self.current)
            .field("connection", &self.connection)
            .finish_non_exhaustive()
    }
}

impl App {
    /// A fresh state; `nonce` makes this process's `client_msg_id`s unique, `open` is the
    /// channel to open first (else the first one).
    pub fn new(theme: Theme, nonce: String, open: Option<Open>) -> Self {
        let mut app = Self {
            theme,
            me: None,
            communities: Vec::new(),
            community: 0,
            channels: HashMap::new(),
            dms: Vec::new(),
            presence: HashMap::new(),
            current: None,
            timelines: HashMap::new(),
            thread: None,
            replies: HashMap::new(),
            thread_roots: HashMap::new(),
            seen: HashSet::new(),
            typing: HashMap::new(),
            composer: TextArea::default(),
            compose: ComposeMode::New,
            focus: Focus::Composer,
            selected: None,
            scroll: 0,
            size: (80, 24),
            older: HashSet::new(),
            loading_older: HashSet::new(),
            overlay: None,
            connection: Connection::Connecting,
            ever_live: false,
            notice: None,
            commands: Vec::new(),
            members: HashMap::new(),
            completion: None,
            notifications: Vec::new(),
            new_from: HashMap::new(),
            pending_open: open,
            dms_loaded: false,
            read_sent: HashMap::new(),
            edits: HashMap::new(),
            confirm_delete: None,
            nonce,
            sent: 0,
            quit: false,
        };
        app.reset_composer();
        app
    }

    /// What to do first: who am I, my DMs, the commands, my inbox.
    pub fn start() -> Vec<Effect> {
        vec![Effect::LoadMe, Effect::LoadDms, Effect::LoadCommands(None), Effect::LoadNotifications]
    }

    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::Key(key) => self.on_key(key),
            Msg::Paste(text) => {
                match &mut self.overlay {
                    Some(Overlay::Search(search)) => search.query.push_str(&text.replace('\n', " ")),
                    Some(Overlay::Switcher { query, .. }) => query.push_str(&text.replace('\n', " ")),
                    _ => {
                        self.composer.insert_str(text);
                    }
                }
                Vec::new()
            }
            Msg::Me(me) => self.on_me(me),
            Msg::Channels(community, items) => {
                self.channels.insert(community, items);
                self.open_initial()
            }
            Msg::Dms(items) => {
                let users: Vec<UserId> = items.iter().flat_map(|dm| dm.members.iter().map(|u| u.id)).collect();
                self.dms = items;
                self.dms_loaded = true;
                let mut effects = self.open_initial();
                if !users.is_empty() {
                    effects.push(Effect::LoadPresence(users));
                }
                effects
            }
            Msg::History { channel, messages, around } => {
                if around.is_some() || messages.len() >= HISTORY_PAGE as usize {
                    self.older.insert(channel);
                } else {
                    self.older.remove(&channel);
                }
                self.on_history(channel, messages, around)
            }
            Msg::Older { channel, messages } => {
                self.loading_older.remove(&channel);
                if messages.len() < HISTORY_PAGE as usize {
                    self.older.remove(&channel);
                }
                self.seen.extend(messages.iter().map(|m| m.id));
                let timeline = self.timelines.entry(channel).or_default();
                let older: Vec<Entry> = messages
                    .into_iter()
                    .filter(|m| m.parent_id.is_none() && !timeline.iter().any(|e| e.id == m.id))
                    .map(Entry::from_message)
                    .collect();
                timeline.splice(0..0, older);
                Vec::new()
            }
            Msg::Resize(columns, rows) => {
                self.size = (columns, rows);
                Vec::new()
            }
            Msg::Replies { root, messages } => {
                let entries: Vec<Entry> = messages.into_iter().map(Entry::from_message).collect();
                self.seen.extend(entries.iter().map(|e| e.id));
                self.replies.insert(root, entries);
                Vec::new()
            }
            Msg::Root(message) => {
                self.thread_roots.insert(message.id, Entry::from_message(message));
                Vec::new()
            }
            Msg::Members(community, members) => {
                self.members.insert(community, members);
                Vec::new()
            }
            Msg::Commands(commands) => {
                self.commands = commands;
                Vec::new()
            }
            Msg::Presence(list) => {
                for presence in list {
                    self.presence.insert(presence.user_id, presence.online);
                }
                Vec::new()
            }
            Msg::Notifications(list) => {
                self.notifications = list;
                Vec::new()
            }
            Msg::SearchResults { query, hits } => {
                if let Some(Overlay::Search(search)) = &mut self.overlay {
                    search.searched = Some(query);
                    search.hits = hits;
                    search.selected = 0;
                }
                Vec::new()
            }
            Msg::Sent { client_msg_id, result } => self.on_sent(&client_msg_id, result),
            Msg::CommandRan { channel, result } => self.on_command_ran(channel, result),
            Msg::Edited { message, result } => {
                let before = self.edits.remove(&message);
                if let (Err(reason), Some((body, edited))) = (result, before) {
                    if let Some(entry) = self.find_mut(message) {
                        entry.body = body;
                        entry.edited = edited;
                    }
                    self.notice = Some(Notice { text: format!("not edited: {reason}"), error: true });
                }
                Vec::new()
            }
            Msg::Failed(text) => {
                self.notice = Some(Notice { text, error: true });
                Vec::new()
            }
            Msg::Live(item) => self.on_live(item),
            Msg::Connection(connection) => {
                self.connection = connection;
                // The first time live: what loaded before the stream existed may have
                // missed an event, so load it again. Later reconnections resume after the
                // last event (or get a resync), so nothing is reloaded.
                if self.connection == Connection::Live && !self.ever_live {
                    self.ever_live = true;
                    if self.me.is_some() {
                        return self.reload();
                    }
                }
                Vec::new()
            }
        }
    }

    fn on_me(&mut self, me: Me) -> Vec<Effect> {
        let keep = self.current_community().map(|c| c.id);
        self.me = Some(me.user);
        self.communities = me.communities;
        self.community = keep.and_then(|id| self.communities.iter().position(|c| c.id == id)).unwrap_or(0);
        let mut effects: Vec<Effect> = self.communities.iter().map(|c| Effect::LoadChannels(c.id)).collect();
        if let Some(community) = self.current_community() {
            effects.push(Effect::LoadMembers(community.id));
        }
        effects
    }

    /// Reloads the lists and the open channel (after a resync or a first connection).
    fn reload(&mut self) -> Vec<Effect> {
        let mut effects = vec![Effect::LoadMe, Effect::LoadDms, Effect::LoadNotifications];
        if let Some(channel) = self.current {
            effects.push(Effect::LoadHistory { channel, around: None });
        }
        if let Some(root) = self.thread {
            effects.push(Effect::LoadReplies(root));
        }
        effects
    }

    /// Once every list is in, opens the channel asked for (by name, or the one viewed
    /// last time), else the first channel of the first community.
    fn open_initial(&mut self) -> Vec<Effect> {
        let loaded =
            self.me.is_some() && self.dms_loaded && self.communities.iter().all(|c| self.channels.contains_key(&c.id));
        if self.current.is_some() || !loaded {
            return Vec::new();
        }
        let wanted = self.pending_open.take();
        let open = |item: &&ChannelListItem| item.is_member && item.channel.archived_at.is_none();
        let everywhere: Vec<&ChannelListItem> = self
            .communities
            .iter()
            .filter_map(|c| self.channels.get(&c.id))
            .flatten()
            .chain(self.dms.iter())
            .filter(open)
            .collect();
        let chosen = match &wanted {
            Some(Open::Id(id)) => everywhere.iter().find(|item| item.channel.id == *id),
            Some(Open::Name(name)) => {
                let name = name.trim_start_matches('#');
                everywhere.iter().find(|item| item.channel.name.as_deref() == Some(name))
            }
            None => None,
        }
        .or_else(|| everywhere.first())
        .map(|item| item.channel.id);
        match chosen {
            Some(channel) => self.open_channel(channel),
            None => Vec::new(),
        }
    }

    fn on_history(&mut self, channel: ChannelId, messages: Vec<Message>, around: Option<MessageId>) -> Vec<Effect> {
        self.seen.extend(messages.iter().map(|m| m.id));
        let mut entries: Vec<Entry> =
            messages.into_iter().filter(|m| m.parent_id.is_none()).map(Entry::from_message).collect();
        // Keep what is still pending or ephemeral: the page does not know about it.
        if let Some(old) = self.timelines.get(&channel) {
            for entry in old {
                if !matches!(entry.state, EntryState::Sent) && !entries.iter().any(|e| e.id == entry.id) {
                    entries.push(entry.clone());
                }
            }
        }
        self.timelines.insert(channel, entries);
        if around.is_none() {
            self.place_new_divider(channel);
        }
        if around.is_some() && self.current == Some(channel) {
            self.selected = around;
            self.focus = Focus::Messages;
        }
        if self.current == Some(channel) { self.mark_viewed(channel) } else { Vec::new() }
    }

    /// Puts the "new" divider above the channel's unread messages (its unread count from
    /// the end), unless it has one already.
    fn place_new_divider(&mut self, channel: ChannelId) {
        let unread = self.list_item(channel).map_or(0, |item| usize::try_from(item.unread_count).unwrap_or(0));
        let Some(entries) = self.timelines.get(&channel) else {
            return;
        };
        if unread > 0
            && !self.new_from.contains_key(&channel)
            && let Some(first_unread) = entries.len().checked_sub(unread).and_then(|i| entries.get(i))
        {
            self.new_from.insert(channel, first_unread.id);
        }
    }

    /// The channel is on screen: advance the read cursor to its last message.
    fn mark_viewed(&mut self, channel: ChannelId) -> Vec<Effect> {
        let Some(last) = self
            .timelines
            .get(&channel)
            .and_then(|t| t.iter().rev().find(|e| matches!(e.state, EntryState::Sent)).map(|e| e.id))
        else {
            return Vec::new();
        };
        let had_unread = self.list_item(channel).is_some_and(|item| item.unread_count > 0 || item.mention_count > 0);
        if let Some(item) = self.list_item_mut(channel) {
            item.unread_count = 0;
            item.mention_count = 0;
        }
        if (had_unread || self.scroll == 0) && self.read_sent.get(&channel) != Some(&last) {
            self.read_sent.insert(channel, last);
            vec![Effect::MarkRead { channel, message: last }]
        } else {
            Vec::new()
        }
    }

    fn on_sent(&mut self, client_msg_id: &str, result: Result<Message, String>) -> Vec<Effect> {
        match result {
            Ok(message) => {
                let entry = Entry::from_message(message);
                self.insert_entry(entry);
                Vec::new()
            }
            Err(reason) => {
                for timeline in self.timelines.values_mut().chain(self.replies.values_mut()) {
                    for entry in timeline.iter_mut() {
                        if entry.client_msg_id.as_deref() == Some(client_msg_id) {
                            entry.state = EntryState::Failed(reason.clone());
                        }
                    }
                }
                self.notice = Some(Notice { text: format!("not sent: {reason}"), error: true });
                Vec::new()
            }
        }
    }

    fn on_command_ran(&mut self, channel: ChannelId, result: Result<CommandOutcome, String>) -> Vec<Effect> {
        match result {
            // The reply also arrives as `command.replied` on the stream; show it now only
            // when the stream is down, so it appears once.
            Ok(outcome) => {
                if let (Some(reply), false) = (outcome.reply, self.connection == Connection::Live) {
                    self.push_ephemeral(channel, reply, false);
                }
                if let Some(message) = outcome.message {
                    self.insert_entry(Entry::from_message(message));
                }
            }
            // Refusals are pushed as `command.replied` too (when the channel was visible).
            Err(reason) if self.connection == Connection::Live => {
                self.notice = Some(Notice { text: reason, error: true });
            }
            Err(reason) => self.push_ephemeral(channel, reason, true),
        }
        Vec::new()
    }

    /// Puts a message where it belongs: replacing the same id or my pending copy, else appended.
    fn insert_entry(&mut self, entry: Entry) {
        let list = match entry.parent_id {
            Some(root) => match self.replies.get_mut(&root) {
                Some(list) => list,
                None => return,
            },
            None => self.timelines.entry(entry.channel_id).or_default(),
        };
        let same =
            |e: &Entry| e.id == entry.id || (entry.client_msg_id.is_some() && e.client_msg_id == entry.client_msg_id);
        match list.iter_mut().find(|e| same(e)) {
            Some(existing) => *existing = entry,
            None => list.push(entry),
        }
    }

    fn push_ephemeral(&mut self, channel: ChannelId, text: String, error: bool) {
        let author =
            Author { user_id: None, username: None, display_name: "ajet-chat".to_owned(), avatar_url: None, bot: None };
        let id = MessageId::generate();
        self.timelines.entry(channel).or_default().push(Entry {
            id,
            channel_id: channel,
            parent_id: None,
            author,
            body: text,
            created_at: OffsetDateTime::now_utc(),
            edited: false,
            deleted: false,
            reply_count: 0,
            reactions: Vec::new(),
            client_msg_id: None,
            state: EntryState::Ephemeral { error },
        });
        if self.current == Some(channel) {
            self.scroll = 0;
        }
    }

    /// Switches to `channel`: loads it if needed, tells the server it is in focus, marks it read.
    pub fn open_channel(&mut self, channel: ChannelId) -> Vec<Effect> {
        let community_of = |app: &Self, channel: Option<ChannelId>| {
            channel.and_then(|c| app.list_item(c)).and_then(|item| item.channel.community_id)
        };
        let community = community_of(self, Some(channel));
        // Admin commands depend on my role in the channel's community.
        let commands_change = community.is_some() && community != community_of(self, self.current);
        if let Some(index) = community.and_then(|community| self.communities.iter().position(|c| c.id == community)) {
            self.community = index;
        }
        // The "new" divider is for one visit: gone from the channel left, and placed anew
        // in the one opened (before marking it read), if its history is already here.
        if let Some(previous) = self.current {
            self.new_from.remove(&previous);
        }
        self.new_from.remove(&channel);
        self.place_new_divider(channel);
        self.current = Some(channel);
        self.thread = None;
        self.selected = None;
        self.scroll = 0;
        self.focus = Focus::Composer;
        self.compose = ComposeMode::New;
        self.reset_composer();
        let mut effects = vec![Effect::Focus(Some(channel)), Effect::LoadHistory { channel, around: None }];
        if commands_change {
            effects.push(Effect::LoadCommands(Some(channel)));
        }
        if self.timelines.contains_key(&channel) {
            effects.extend(self.mark_viewed(channel));
        }
        effects
    }

    /// Opens the thread of `root` in place of the channel.
    pub fn open_thread(&mut self, root: MessageId) -> Vec<Effect> {
        self.thread = Some(root);
        self.selected = None;
        self.scroll = 0;
        self.focus = Focus::Composer;
        self.compose = ComposeMode::New;
        self.reset_composer();
        let mut effects = vec![Effect::LoadReplies(root)];
        if self.find(root).is_none() {
            effects.push(Effect::LoadRoot(root));
        }
        effects
    }

    pub fn current_community(&self) -> Option<&Community> {
        self.communities.get(self.community)
    }

    /// The sidebar's entries for the current community: its joined channels, then the DMs.
    pub fn sidebar(&self) -> Vec<&ChannelListItem> {
        let channels = self
            .current_community()
            .and_then(|c| self.channels.get(&c.id))
            .into_iter()
            .flatten()
            .filter(|item| item.is_member && item.channel.archived_at.is_none());
        channels.chain(self.dms.iter()).collect()
    }

    pub fn list_item(&self, channel: ChannelId) -> Option<&ChannelListItem> {
        self.channels.values().flatten().chain(self.dms.iter()).find(|item| item.channel.id == channel)
    }

    fn list_item_mut(&mut self, channel: ChannelId) -> Option<&mut ChannelListItem> {
        self.channels.values_mut().flatten().chain(self.dms.iter_mut()).find(|item| item.channel.id == channel)
    }

    /// What the open channel is called: `#name`, or the other people of a DM.
    pub fn channel_label(&self, channel: ChannelId) -> String {
        self.list_item(channel).map_or_else(|| "…".to_owned(), |item| self.item_label(item))
    }

    pub fn item_label(&self, item: &ChannelListItem) -> String {
        match item.channel.kind {
            ChannelKind::Dm | ChannelKind::GroupDm => {
                let me = self.me.as_ref().map(|u| u.id);
                let names: Vec<&str> =
                    item.members.iter().filter(|u| Some(u.id) != me).map(|u| u.display_name.as_str()).collect();
                if names.is_empty() { "me".to_owned() } else { names.join(", ") }
            }
            ChannelKind::Public | ChannelKind::Private => {
                format!("#{}", item.channel.name.as_deref().unwrap_or("?"))
            }
        }
    }

    /// The messages shown in the pane: the open thread (root, then replies) or the channel.
    pub fn visible_entries(&self) -> Vec<&Entry> {
        let Some(channel) = self.current else {
            return Vec::new();
        };
        let timeline = self.timelines.get(&channel).map(Vec::as_slice).unwrap_or_default();
        match self.thread {
            Some(root) => timeline
                .iter()
                .find(|e| e.id == root)
                .or_else(|| self.thread_roots.get(&root))
                .into_iter()
                .chain(self.replies.get(&root).map(Vec::as_slice).unwrap_or_default())
                .collect(),
            None => timeline.iter().collect(),
        }
    }

    /// The switcher's choices for `query` (a case-insensitive part of the label): every
    /// joined channel of every community (labelled `Community #name`) and every DM.
    pub fn switcher_choices(&self, query: &str) -> Vec<(ChannelId, String)> {
        let query = query.to_lowercase();
        let channels = self.communities.iter().flat_map(|community| {
            self.channels
                .get(&community.id)
                .into_iter()
                .flatten()
                .filter(|item| item.is_member && item.channel.archived_at.is_none())
                .map(|item| (item.channel.id, format!("{} {}", community.name, self.item_label(item))))
        });
        let dms = self.dms.iter().map(|item| (item.channel.id, format!("DM {}", self.item_label(item))));
        channels.chain(dms).filter(|(_, label)| label.to_lowercase().contains(&query)).collect()
    }

    pub fn unread_notifications(&self) -> usize {
        self.notifications.iter().filter(|n| n.read_at.is_none()).count()
    }

    fn next_client_msg_id(&mut self) -> String {
        self.sent += 1;
        format!("{}-{}", self.nonce, self.sent)
    }

    fn reset_composer(&mut self) {
        self.composer = TextArea::default();
        self.composer.set_cursor_line_style(ratatui::style::Style::new());
        self.composer.set_wrap_mode(ratatui_textarea::WrapMode::WordOrGlyph);
        let placeholder = match (&self.compose, self.thread, self.current) {
            (ComposeMode::Edit(_), _, _) => "Edit your message (Esc cancels)".to_owned(),
            (ComposeMode::React(_), _, _) => "React with an emoji, e.g. :+1: or 🎉 (Esc cancels)".to_owned(),
            (ComposeMode::New, Some(_), _) => "Reply in thread".to_owned(),
            (ComposeMode::New, None, Some(channel)) => format!("Message {}", self.channel_label(channel)),
            (ComposeMode::New, None, None) => "No channel open".to_owned(),
        };
        self.composer.set_placeholder_text(super::sanitize::inert(&placeholder));
        self.completion = None;
    }
}

#[cfg(test)]
pub(crate) mod tests;
