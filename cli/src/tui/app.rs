//! The TUI's state and its reducer: `App::update(Msg) -> Vec<Effect>`. Everything that is
//! not I/O lives here and is unit-tested: keys, answers of the api and live events come in
//! as `Msg`s; whatever must reach the network goes out as `Effect`s, which `net` runs in
//! tasks and answers with more `Msg`s. Nothing here waits, so the draw loop never does.

mod entry;
mod history;
mod keys;
mod lists;
mod live;
mod msg;
mod overlays;
mod preferences;

use std::collections::{HashMap, HashSet};

use ajet_shared::api::wire::{
    ChannelListItem, CommandInfo, Community, CommunityMember, Me, Notification, SearchHit, User,
};
use ajet_shared::domain::ids::{ChannelId, CommunityId, MessageId, UserId};
use ratatui_textarea::TextArea;

use super::theme::Theme;

pub use entry::{Entry, EntryState, Reaction};
pub use msg::{Connection, Effect, HISTORY_PAGE, LiveItem, Msg, PreferenceChange};

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
    /// The local time zone's offset, in which times are shown (UTC until told).
    pub offset: time::UtcOffset,
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
    /// Channels showing an older stretch (opened at a search hit or notification) rather
    /// than their newest messages: not marked read, live messages not appended, until the
    /// reader goes back to the newest (PgDn at the bottom, or Esc).
    pub detached: HashSet<ChannelId>,
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
    /// Whether a channel was ever opened: from then on only the reader moves, so a
    /// community where I belong to no channel stays without one when its list arrives.
    opened: bool,
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
            offset: time::UtcOffset::UTC,
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
            detached: HashSet::new(),
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
            opened: false,
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
                self.clear_counts_of_what_is_viewed();
                self.open_initial()
            }
            Msg::Dms(items) => {
                let mut users: Vec<UserId> = items.iter().flat_map(|dm| dm.members.iter().map(|u| u.id)).collect();
                users.sort_unstable();
                users.dedup();
                self.dms = items;
                self.dms_loaded = true;
                self.clear_counts_of_what_is_viewed();
                let mut effects = self.open_initial();
                if !users.is_empty() {
                    effects.push(Effect::LoadPresence(users));
                }
                effects
            }
            Msg::History { channel, messages, around } => {
                if around.is_some() {
                    self.detached.insert(channel);
                } else {
                    self.detached.remove(&channel);
                }
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
            Msg::Preferences(preferences) => self.on_preferences(&preferences),
            Msg::Failed(text) => {
                self.notice = Some(Notice { text, error: true });
                Vec::new()
            }
            Msg::Live(item) => self.on_live(item),
            Msg::Connection(connection) => {
                self.connection = connection;
                if self.connection != Connection::Live {
                    return Vec::new();
                }
                // Focus lives with the credential's open streams: tell it again to each new one.
                let mut effects: Vec<Effect> = self.current.map(|c| Effect::Focus(Some(c))).into_iter().collect();
                // The first time live: what loaded before the stream existed may have
                // missed an event, so load it again. Later reconnections resume after the
                // last event (or get a resync), so nothing is reloaded.
                if !self.ever_live {
                    self.ever_live = true;
                    if self.me.is_some() {
                        effects.extend(self.reload());
                    }
                }
                effects
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

    /// At start-up, once every list is in, opens the channel asked for (by name, or the one viewed
    /// last time), else the first channel of the first community.
    fn open_initial(&mut self) -> Vec<Effect> {
        let loaded =
            self.me.is_some() && self.dms_loaded && self.communities.iter().all(|c| self.channels.contains_key(&c.id));
        if self.opened || self.current.is_some() || !loaded {
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
        self.opened = true;
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
        self.composer.set_placeholder_text(crate::escape::inert(&placeholder));
        self.completion = None;
    }
}

#[cfg(test)]
pub(crate) mod tests;
