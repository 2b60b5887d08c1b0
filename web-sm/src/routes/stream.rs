//! `GET /sse`: the tab's one live stream, a thin adapter over
//! `ajet_shared::stream::StreamSession` (register → replay → live, exact resume, access
//! re-checks; see there) that turns what happens into Datastar patches of the page the tab
//! shows (`?channel=`, and `?thread=` when its thread panel is open): new, edited and
//! deleted messages, reaction and pin changes (with the pins bar) of that channel, thread replies in the open panel
//! and the thread summaries of the roots the list shows, unread badges and mention pills
//! of the others (cleared when the viewer reads them in another tab or client),
//! channels created, renamed or archived, and the typing line of the channel it shows
//! (the core expires a silent typist), and the viewer's slash-command replies under the
//! channel they were typed in (on the viewer's own subject: no one else's page gets
//! them), the bell's unread count, and presence (as signals every dot follows). Only elements the page holds are patched: the
//! page tracks which roots its list shows (read once as the stream opens, then as they
//! are appended) and which replies its panel shows; the open thread's root copy follows
//! its edits and deletion, and the panel has the channel's typing line too. A resync
//! re-renders the list, the pins bar, the open thread and the sidebar. The tab resumes from its `Last-Event-ID` or, on
//! its first connect, from the position its page was rendered at (`?from=`), so nothing
//! sent between the page's reads and the stream's start is lost, and a message the page
//! already lists (`?seq=`, its highest `channel_seq`) is not appended again. The last of each event's
//! patches carries its `id:`, so a reconnect mid-way repeats it rather than skipping it
//! (appends first remove a message of the same id; badges skip what their counts hold).
//! What an event cannot say by itself (a message's reactions and thread summary, the pins)
//! is re-read off the loop, coalesced (`refresh`), and patched when it comes.
//!
//! Fragments are rendered once per event and audience for the whole process
//! (`crate::fanout`): a message item is keyed by its event (or the re-read that event
//! asked for), whether it is the viewer's own and which of its reactions are the
//! viewer's, so the tabs of viewers who see the same HTML share one render and one re-read.
//! "You reacted" is the one thing a shared re-read cannot say: each tab keeps which
//! reactions are its viewer's (`mine`, from its own reads and the viewer's reaction
//! events) and reads a message with its own token only where it does not know.

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::sync::Arc;

use ajet_shared::api::ApiError;
use ajet_shared::api::wire::{
    ChannelListItem, Community, HistoryQuery, Me, Message, NotificationKind, NotificationQuery, NotifyLevel,
};
use ajet_shared::client::ApiClient;
use ajet_shared::domain::ids::{ChannelId, MessageId, NotificationId, UserId};
use ajet_shared::events::bus::NatsBus;
use ajet_shared::events::{Event, EventPayload, StreamPosition};
use ajet_shared::stream::{End, HubEvent, Item, OpenError, PresenceDiff, Streams, Typing};
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::StreamExt as _;
use serde::Deserialize;
use time::OffsetDateTime;

mod refresh;

use self::refresh::{Fetched, Job, Refresher};
use crate::datastar::{Frames, Mode};
use crate::extract::Viewer;
use crate::fanout::{self, EntryKey, Fanout, RenderKey, Version};
use crate::views::{self, MessageView, message, people, shell};

/// A comment line, so proxies and clients see the connection is alive.
const KEEP_ALIVE: &[u8] = b":\n\n";

/// Sent as the stream ends for a restart: reconnect after a second.
const RESTARTING: &[u8] = b": server restarting\nretry: 1000\n\n";

#[derive(Deserialize)]
pub struct StreamQuery {
    /// The channel the tab shows.
    channel: Option<ChannelId>,
    /// Where the page's data was read (`<epoch>.<seq>`), for the first connect.
    from: Option<String>,
    /// The highest `channel_seq` the page's list holds.
    seq: Option<i64>,
    /// The thread the tab's panel shows.
    thread: Option<MessageId>,
}

pub async fn stream_events(
    State(streams): State<Streams<NatsBus>>,
    State(fanout): State<Fanout>,
    viewer: Viewer,
    Query(query): Query<StreamQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let resume = headers.get("last-event-id").and_then(|v| v.to_str().ok()).or(query.from.as_deref());
    // The core's read of the viewer's access (`GET /api/me`) serves the sidebar too.
    let (session, me) = match streams.open_with_me(&viewer.token, resume).await {
        Ok(opened) => opened,
        Err(OpenError::Revoked) => return Ok(StatusCode::NO_CONTENT.into_response()),
        Err(err) => return Err(err.api_error()),
    };
    let opening = Opening { current: query.channel, thread: query.thread, shown_seq: query.seq.unwrap_or(0) };
    let mut page = LivePage::open(viewer.api, fanout, me, opening).await;
    // The session's `next` is not cancel-safe: this stream keeps its future from poll to
    // poll (a `select!` that takes a re-read first leaves it where it was), so the loop can
    // also take the re-reads as they come, with no task or queue of its own per tab.
    // Boxed (pinned) here rather than pinned in the loop: a value the loop's generator
    // captures and then pins would take its room twice.
    let mut items = Box::pin(futures::stream::unfold(session, |mut session| async move {
        let item = session.next().await;
        Some((item, session))
    }));
    let body = async_stream::stream! {
        loop {
            let next = tokio::select! {
                item = items.next() => Next::Item(item),
                Some(result) = page.refresher.next() => Next::Fetched(result),
            };
            let frames = match next {
                Next::Fetched(result) => match page.on_fetched(result) {
                    Some(frames) => frames,
                    None => continue,
                },
                Next::Item(None) => return,
                Next::Item(Some(item)) => match item {
                    Item::Event(event) => page.on_event(&event),
                    // Rare, and its reads' futures are most of the loop's size: boxed while
                    // it runs, so an idle tab's stream does not carry them.
                    Item::Resync(_) => Box::pin(page.resync()).await,
                    Item::Typing(typing) => match page.on_typing(&typing) {
                        Some(frames) => frames,
                        None => continue,
                    },
                    Item::Presence(diff) => LivePage::on_presence(&diff),
                    Item::End(End::Shutdown) => {
                        yield Ok::<_, Infallible>(Bytes::from_static(RESTARTING));
                        return;
                    }
                    // Overflow, a failed replay, a refused or unconfirmed token: the stream
                    // ends and Datastar resumes from its last id (or the gateway says to
                    // sign in).
                    Item::End(_) => return,
                    // Idle, and whatever else the core may yield that a page does not show.
                    _ => {
                        yield Ok(Bytes::from_static(KEEP_ALIVE));
                        continue;
                    }
                },
            };
            yield Ok(Bytes::from(frames.into_string()));
        }
    };
    let mut response = Body::from_stream(body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // Tell any buffering proxy (nginx) to pass events through as they come.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

/// What the loop takes next: a stream item (none: the session's stream ended) or a re-read.
enum Next {
    Item(Option<Item>),
    Fetched(Fetched),
}

/// A sidebar entry as the tab shows it.
struct Entry {
    item: ChannelListItem,
    href: String,
    label: String,
}

/// The viewer's own message arriving replaces the row its send showed while in flight
/// (`views::pending`), if the send's answer has not already.
fn remove_pending(frames: &mut Frames, message: &ajet_shared::events::EventMessage, viewer: UserId) {
    if message.author.user_id == Some(viewer)
        && let Some(row) = message.client_msg_id.as_deref().and_then(views::pending::pending_dom_id)
    {
        frames.remove(&format!("#{row}"));
    }
}

/// A root's thread summary as the list shows it.
#[derive(Clone, Copy)]
struct Summary {
    reply_count: i32,
    last_reply_at: Option<OffsetDateTime>,
}

impl Summary {
    fn of(message: &Message) -> Self {
        Self { reply_count: message.reply_count, last_reply_at: message.last_reply_at }
    }
}

/// Notes which of `message`'s reactions are the viewer's, from a read with the viewer's
/// own token (never a shared one).
fn learn(mine: &mut HashMap<MessageId, Vec<String>>, message: &Message) {
    let mut emojis: Vec<String> =
        message.reactions.iter().filter(|r| r.reacted_by_me).map(|r| r.emoji.clone()).collect();
    emojis.sort();
    mine.insert(message.id, emojis);
}

/// What the tab says it shows as its stream opens.
struct Opening {
    current: Option<ChannelId>,
    thread: Option<MessageId>,
    shown_seq: i64,
}

/// What the tab shows, kept to patch it.
struct LivePage {
    api: ApiClient,
    /// Re-reads messages and pins off the loop (started by the first).
    refresher: Refresher,
    /// The process's shared renders and re-reads.
    fanout: Fanout,
    /// The position of the event being handled.
    at: StreamPosition,
    /// Which reactions are the viewer's (sorted), per message whose reactions the tab
    /// knows: from its own reads, then the viewer's reaction events.
    mine: HashMap<MessageId, Vec<String>>,
    /// Messages asked of the refresher and not yet shown again: an edit or delete meanwhile
    /// asks again, so the last read is newer than the event.
    refreshing: HashSet<MessageId>,
    /// The viewer, whose page it is.
    viewer: UserId,
    current: Option<ChannelId>,
    /// The thread open in the panel.
    thread: Option<MessageId>,
    /// The roots the list shows, with their summaries.
    roots: HashMap<MessageId, Summary>,
    /// The replies the panel shows.
    replies: HashSet<MessageId>,
    /// The newest message the stream brought per other channel (a read of an older one
    /// leaves the badges).
    latest: HashMap<ChannelId, MessageId>,
    /// Messages whose unread this stream counted, until their mention (if any) is counted.
    counted_live: HashSet<MessageId>,
    /// The viewer's unread notifications (the bell's count).
    notifications: HashSet<NotificationId>,
    /// Who else is typing in the channel, in the order they started.
    typists: Vec<(UserId, String)>,
    /// The current channel's label (`#general`, or a DM's members).
    label: String,
    /// The community whose channels the sidebar lists.
    community: Option<Community>,
    /// The sidebar's entries, boxed: an entry is ~260 B and a map has more slots than
    /// entries (a tab of one channel would hold four entries' worth).
    entries: HashMap<ChannelId, Box<Entry>>,
    /// The highest `channel_seq` the list holds: a replayed message at or below it (read by
    /// the page before the stream held it) is already shown, in its place.
    shown_seq: i64,
}

impl LivePage {
    /// The tab's page as its stream opens, from the `me` the stream core read as it opened
    /// (each thing is read once per opening: `me`, the sidebar's channels and DMs, the
    /// list, the unread notifications, and the open thread's replies).
    async fn open(api: ApiClient, fanout: Fanout, me: Me, opening: Opening) -> Self {
        let Opening { current, thread, shown_seq } = opening;
        let mut page = Self {
            api,
            refresher: Refresher::default(),
            fanout,
            at: StreamPosition { epoch: 0, seq: 0 },
            mine: HashMap::new(),
            refreshing: HashSet::new(),
            viewer: me.user.id,
            current,
            thread: thread.filter(|_| current.is_some()),
            roots: HashMap::new(),
            replies: HashSet::new(),
            typists: Vec::new(),
            notifications: HashSet::new(),
            latest: HashMap::new(),
            counted_live: HashSet::new(),
            label: String::new(),
            community: None,
            entries: HashMap::new(),
            shown_seq,
        };
        page.load(Some(me)).await;
        page.load_shown().await;
        page
    }

    /// Reads which roots the list shows and which replies the panel shows (the page read
    /// the same pages just before). A failure leaves them unknown: their live changes are
    /// then not shown until a reload, rather than patched into elements that may be absent.
    async fn load_shown(&mut self) {
        let list = HistoryQuery { limit: Some(super::pages::PAGE_SIZE), ..HistoryQuery::default() };
        let unread = NotificationQuery { unread: Some(true), before: None, limit: Some(100) };
        let panel = HistoryQuery { limit: Some(super::pages::THREAD_SIZE), ..HistoryQuery::default() };
        let (history, notifications, replies) = tokio::join!(
            async {
                match self.current {
                    Some(current) => Some(self.api.history(current, &list).await),
                    None => None,
                }
            },
            self.api.list_notifications(&unread),
            async {
                match self.thread {
                    Some(thread) => Some(self.api.list_replies(thread, &panel).await),
                    None => None,
                }
            },
        );
        match history {
            Some(Ok(page)) => {
                self.roots = page.data.iter().map(|message| (message.id, Summary::of(message))).collect();
                page.data.iter().for_each(|message| learn(&mut self.mine, message));
            }
            Some(Err(err)) => tracing::debug!(error = %err, "could not read which messages the page shows"),
            None => {}
        }
        match notifications {
            Ok(page) => self.notifications = page.data.iter().map(|n| n.id).collect(),
            Err(err) => tracing::debug!(error = %err, "could not read the unread notifications"),
        }
        if let Some(replies) = replies {
            match replies {
                Ok(page) => {
                    self.replies = page.data.iter().map(|message| message.id).collect();
                    page.data.iter().for_each(|message| learn(&mut self.mine, message));
                }
                Err(err) => tracing::debug!(error = %err, "could not read the open thread"),
            }
        }
    }

    fn viewer(&self) -> UserId {
        self.viewer
    }

    /// The viewer's own reaction events keep `mine` true.
    fn track_reaction(&mut self, payload: &EventPayload) {
        let viewer = self.viewer();
        match payload {
            EventPayload::ReactionAdded(change) if change.user_id == viewer => {
                if let Some(mine) = self.mine.get_mut(&change.message_id)
                    && !mine.contains(&change.emoji)
                {
                    mine.push(change.emoji.clone());
                    mine.sort();
                }
            }
            EventPayload::ReactionRemoved(change) if change.user_id == viewer => {
                if let Some(mine) = self.mine.get_mut(&change.message_id) {
                    mine.retain(|emoji| *emoji != change.emoji);
                }
            }
            _ => {}
        }
    }

    /// A message's list item as this viewer sees it, rendered once per `version` for every
    /// tab whose viewer sees the same: the author's, and each set of "you reacted" (a
    /// message whose reactions the tab does not know shows none as the viewer's until its
    /// own read comes).
    fn item(&self, message: &MessageView<'_>, version: Version) -> Arc<str> {
        let viewer = self.viewer();
        let own = message.author.user_id == Some(viewer) && message.author.bot.is_none();
        let mine = self.mine.get(&message.id).cloned().unwrap_or_default();
        let key = RenderKey::Item { id: message.id, version, own, mine: mine.clone() };
        self.fanout.render(key, || {
            let reactions = message
                .reactions
                .iter()
                .map(|(emoji, count, _)| (*emoji, *count, mine.iter().any(|m| m == emoji)))
                .collect();
            views::message_item(&MessageView { reactions, ..*message }, viewer).into_string()
        })
    }

    /// Reads the sidebar as the page did, from `me` if given (the stream core's, as the
    /// stream opened) or a new read (a failure leaves it as it was: badges are corrected by
    /// the next load). The current channel's community comes from `me` for a channel the
    /// viewer is in, and is read only for one they are not.
    async fn load(&mut self, me: Option<Me>) {
        let me = match me {
            Some(me) => me,
            None => match self.api.me().await {
                Ok(me) => me,
                Err(err) => return tracing::debug!(error = %err, "could not re-read the viewer"),
            },
        };
        let theirs = self.current.and_then(|current| {
            me.public_channels.iter().chain(&me.private_channels).find(|channel| channel.id == current)
        });
        let current_community = match (self.current, theirs) {
            (_, Some(channel)) => channel.community_id,
            (Some(channel), None) => self.api.get_channel(channel).await.ok().and_then(|channel| channel.community_id),
            (None, None) => None,
        };
        let community =
            me.communities.iter().find(|c| Some(c.id) == current_community).or_else(|| me.communities.first()).cloned();
        let (channels, dms) = tokio::join!(
            async {
                match &community {
                    Some(community) => {
                        self.api.list_channels(community.id).await.map(|page| page.data).unwrap_or_default()
                    }
                    None => Vec::new(),
                }
            },
            async { self.api.list_dms().await.map(|page| page.data).unwrap_or_default() },
        );
        self.entries.clear();
        for item in channels {
            let label = item.channel.name.clone().unwrap_or_default();
            let href = shell::channel_href(&item.channel, community.as_ref());
            self.entries.insert(item.channel.id, Box::new(Entry { item, href, label }));
        }
        for item in dms {
            let label = shell::channel_label(&item.channel, &item.members, &me.user);
            let href = shell::channel_href(&item.channel, None);
            self.entries.insert(item.channel.id, Box::new(Entry { item, href, label }));
        }
        if let Some(entry) = self.current.and_then(|id| self.entries.get(&id)) {
            self.label = shell::channel_label(&entry.item.channel, &entry.item.members, &me.user);
        }
        self.community = community;
        self.viewer = me.user.id;
    }

    /// A sidebar entry as this viewer sees it, rendered once for every tab that shows the
    /// same.
    fn entry_markup(&self, id: ChannelId) -> Option<Arc<str>> {
        let entry = self.entries.get(&id)?;
        let (current, viewer) = (Some(id) == self.current, self.viewer());
        let key = EntryKey {
            channel: id,
            label: entry.label.clone(),
            href: entry.href.clone(),
            current,
            partner: shell::dm_partner(&entry.item, viewer),
            unread: if current { 0 } else { entry.item.unread_count },
            mentions: if current { 0 } else { entry.item.mention_count },
            starred: entry.item.starred,
            muted: shell::is_muted(&entry.item, OffsetDateTime::now_utc()),
        };
        let muted = key.muted;
        Some(self.fanout.render(RenderKey::Entry(key), || {
            views::channel_entry(&entry.item, &entry.href, &entry.label, current, muted, viewer).into_string()
        }))
    }

    /// A fragment the same for everyone who sees it (`key` says all it shows), rendered
    /// once for every tab.
    fn shared(&self, key: RenderKey, render: impl FnOnce() -> maud::Markup) -> Arc<str> {
        self.fanout.render(key, || render().into_string())
    }

    /// An event the tab may see, as the patches of what the page shows (no reads: what an
    /// event cannot say is asked of the refresher). Not `async`: it never waits, and a
    /// future holding the event's payload would be part of every idle tab's stream.
    fn on_event(&mut self, hub_event: &Arc<HubEvent>) -> Frames {
        let mut frames = Frames::new();
        match serde_json::from_str::<Event>(&hub_event.data) {
            Ok(Event { id, payload: EventPayload::CommandReplied(reply), .. }) => {
                if Some(reply.channel_id) == self.current {
                    let item = message::ephemeral_item(&id.to_string(), &reply.text, reply.error);
                    frames.remove(&format!("#eph-{id}")).patch(Mode::Append, Some("#messages"), &item);
                }
            }
            Ok(event) => {
                self.at = hub_event.position();
                self.track_reaction(&event.payload);
                self.patch(event.payload, &mut frames);
            }
            // A type this build does not know (the core evolves additively): nothing to show.
            Err(err) => tracing::debug!(error = %err, event_type = %hub_event.event_type, "event not shown"),
        }
        frames.position(&hub_event.position().to_string());
        frames
    }

    fn patch(&mut self, payload: EventPayload, frames: &mut Frames) {
        let viewer = self.viewer();
        match payload {
            EventPayload::MessageCreated(message) if message.parent_id.is_none() => {
                if Some(message.channel_id) == self.current {
                    if message.channel_seq <= self.shown_seq {
                        return;
                    }
                    self.shown_seq = message.channel_seq;
                    self.roots.entry(message.id).or_insert(Summary { reply_count: 0, last_reply_at: None });
                    let id = views::message_dom_id(message.id);
                    self.mine.entry(message.id).or_default();
                    remove_pending(frames, &message, viewer);
                    let item = self.item(&MessageView::from(&message), Version::Event(self.at));
                    frames.remove(&format!("#{id}")).patch_html(Mode::Append, Some("#messages"), &item);
                    // The tab marks it read once it is visible (`views::shell::read_marking`).
                    let member = self.entries.get(&message.channel_id).is_some_and(|entry| entry.item.is_member);
                    if member && message.author.user_id != Some(viewer) {
                        frames.signals(&serde_json::json!({ "_unread": message.id }));
                    }
                } else if message.author.user_id != Some(viewer)
                    && let Some(entry) = self.entries.get_mut(&message.channel_id)
                {
                    // A replayed message the sidebar's counts (read after the stream's
                    // position) already include is not counted twice.
                    let counted = entry.item.last_message_at.is_some_and(|last| message.created_at <= last);
                    if !counted {
                        self.latest.insert(message.channel_id, message.id);
                        self.counted_live.insert(message.id);
                        entry.item.unread_count += 1;
                        entry.item.last_message_at = Some(message.created_at);
                        if let Some(markup) = self.entry_markup(message.channel_id) {
                            frames.patch_html(Mode::Outer, None, &markup);
                        }
                    }
                }
            }
            EventPayload::MessageCreated(reply) if Some(reply.channel_id) == self.current => {
                self.on_reply(&reply, frames);
            }
            EventPayload::MessageUpdated(message)
                if self.may_show(message.id, message.channel_id, message.parent_id)
                    || self.thread == Some(message.id) =>
            {
                if self.thread == Some(message.id) {
                    let key = RenderKey::ThreadRoot { id: message.id, version: Version::Event(self.at) };
                    let root = self
                        .fanout
                        .render(key, || message::thread_root_item(&MessageView::from(&message)).into_string());
                    frames.patch_html(Mode::Outer, None, &root);
                }
                if !self.may_show(message.id, message.channel_id, message.parent_id) {
                    return;
                }
                if let Some(summary) = self.roots.get_mut(&message.id) {
                    *summary = Summary { reply_count: message.reply_count, last_reply_at: message.last_reply_at };
                }
                frames.patch_html(Mode::Outer, None, &self.item(&MessageView::from(&message), Version::Event(self.at)));
                // The event cannot say which reactions are the viewer's; a read in flight
                // may be older than this edit.
                if !message.reactions.is_empty() || self.refreshing.contains(&message.id) {
                    self.refresh(message.id);
                }
            }
            EventPayload::MessageDeleted(deleted) if Some(deleted.channel_id) == self.current => {
                // The open thread's root: a tombstone, and no more replies.
                if self.thread == Some(deleted.id) {
                    frames
                        .patch(Mode::Outer, None, &message::thread_root_tombstone(deleted.id))
                        .remove("#reply-composer");
                }
                if self.may_show(deleted.id, deleted.channel_id, deleted.parent_id) {
                    frames.patch(Mode::Outer, None, &message::tombstone(deleted.id));
                    if self.refreshing.contains(&deleted.id) {
                        self.refresh(deleted.id);
                    }
                }
                // The root's summary counts one reply fewer (re-read: which reply was the
                // last is the api's to say).
                if let Some(root) = deleted.parent_id {
                    self.refresh(root);
                }
            }
            EventPayload::MessagesPurged(purged) if Some(purged.channel_id) == self.current => {
                // The list may hold any of them (scrolled back to): a tab that lacks one
                // only warns (see `may_show`). Tombstones are rendered here, not through
                // the fanout's cache: they are cheaper than its lock, and up to a thousand
                // of them would push every shared message render out of it.
                for id in purged.ids {
                    frames.patch(Mode::Outer, None, &message::tombstone(id));
                }
            }
            EventPayload::ReactionAdded(change) | EventPayload::ReactionRemoved(change)
                if self.shows(change.message_id) || Some(change.channel_id) == self.current =>
            {
                self.refresh(change.message_id);
            }
            EventPayload::PinAdded(change) | EventPayload::PinRemoved(change)
                if Some(change.channel_id) == self.current =>
            {
                self.refresh(change.message_id);
                self.request(Job::Pins(change.channel_id));
            }
            EventPayload::ChannelCreated(channel) | EventPayload::ChannelUpdated(channel)
                if channel.community_id.is_some() && channel.community_id == self.community.as_ref().map(|c| c.id) =>
            {
                let id = channel.id;
                if channel.archived_at.is_some() {
                    self.entries.remove(&id);
                    frames.remove(&format!("#{}", views::channel_dom_id(id)));
                    return;
                }
                let label = channel.name.clone().unwrap_or_default();
                let href = shell::channel_href(&channel, self.community.as_ref());
                let known = self.entries.contains_key(&id);
                if Some(id) == self.current {
                    frames.patch(
                        Mode::Outer,
                        None,
                        &shell::channel_header(&format!("#{label}"), channel.topic.as_deref()),
                    );
                }
                let entry = self.entries.entry(id).or_insert_with(|| {
                    Box::new(Entry {
                        item: ChannelListItem {
                            channel: channel.clone(),
                            is_member: false,
                            unread_count: 0,
                            mention_count: 0,
                            last_message_at: None,
                            members: Vec::new(),
                            notify_level: NotifyLevel::default(),
                            muted_until: None,
                            starred: false,
                        },
                        href: href.clone(),
                        label: label.clone(),
                    })
                });
                entry.item.channel = channel;
                entry.href = href;
                entry.label = label;
                if let Some(markup) = self.entry_markup(id) {
                    if known {
                        frames.patch_html(Mode::Outer, None, &markup);
                    } else {
                        frames.remove(&format!("#{}", views::channel_dom_id(id))).patch_html(
                            Mode::Append,
                            Some("#channels"),
                            &markup,
                        );
                    }
                }
            }
            EventPayload::ReadUpdated(cursor) => {
                // Read in another tab or client: its badges clear, unless a message came
                // after what was read.
                let newer = self.latest.get(&cursor.channel_id).is_some_and(|latest| *latest > cursor.message_id);
                if !newer && let Some(entry) = self.entries.get_mut(&cursor.channel_id) {
                    let changed = entry.item.unread_count > 0 || entry.item.mention_count > 0;
                    entry.item.unread_count = 0;
                    entry.item.mention_count = 0;
                    if changed && let Some(markup) = self.entry_markup(cursor.channel_id) {
                        frames.patch_html(Mode::Outer, None, &markup);
                    }
                }
            }
            EventPayload::NotificationCreated(notification) => {
                if notification.read_at.is_none() && self.notifications.insert(notification.id) {
                    frames.patch(Mode::Outer, None, &people::notification_count(self.notifications.len()));
                }
                // Counted once, for a message whose unread this stream counted (the
                // sidebar's counts, read after the stream's position, hold the others).
                if matches!(notification.kind, NotificationKind::Mention | NotificationKind::Dm)
                    && let (Some(channel), Some(message)) = (&notification.channel, notification.message_id)
                    && self.counted_live.remove(&message)
                    && let Some(entry) = self.entries.get_mut(&channel.id)
                {
                    entry.item.mention_count += 1;
                    if let Some(markup) = self.entry_markup(channel.id) {
                        frames.patch_html(Mode::Outer, None, &markup);
                    }
                }
            }
            EventPayload::NotificationsRead(read) => {
                let before = self.notifications.len();
                for id in &read.ids {
                    self.notifications.remove(id);
                }
                if self.notifications.len() != before {
                    frames.patch(Mode::Outer, None, &people::notification_count(self.notifications.len()));
                }
            }
            EventPayload::PreferencesUpdated(preferences) => {
                // The viewer's own (the event is on their subject only): set in another tab
                // or client, or this one.
                let id = preferences.channel_id;
                let Some(entry) = self.entries.get_mut(&id) else { return };
                let moved = entry.item.starred != preferences.starred;
                entry.item.starred = preferences.starred;
                entry.item.muted_until = preferences.muted_until;
                entry.item.notify_level = preferences.notify_level;
                if Some(id) == self.current && entry.item.is_member {
                    let menu = shell::channel_preferences(&entry.item, OffsetDateTime::now_utc());
                    frames.patch(Mode::Outer, None, &menu);
                }
                if moved {
                    // Starred entries go first: the list is rendered again in its order.
                    let dms = entry.item.channel.community_id.is_none();
                    frames.patch(Mode::Outer, None, &self.sidebar_list(dms));
                } else if let Some(markup) = self.entry_markup(id) {
                    frames.patch_html(Mode::Outer, None, &markup);
                }
            }
            EventPayload::ChannelArchived(channel) => {
                self.entries.remove(&channel.id);
                frames.remove(&format!("#{}", views::channel_dom_id(channel.id)));
            }
            _ => {}
        }
    }

    /// Someone else started or stopped typing in the channel the tab shows: the typing
    /// line, if it changed (typing has no stream position: no `id:`).
    fn on_typing(&mut self, typing: &Typing) -> Option<Frames> {
        if Some(typing.channel_id) != self.current || typing.user_id == self.viewer() {
            return None;
        }
        let known = self.typists.iter().position(|(user, _)| *user == typing.user_id);
        match (typing.typing, known) {
            (true, None) => self.typists.push((typing.user_id, typing.display_name.clone())),
            (false, Some(at)) => {
                self.typists.remove(at);
            }
            _ => return None,
        }
        let names: Vec<&str> = self.typists.iter().map(|(_, name)| name.as_str()).collect();
        let mut frames = Frames::new();
        frames.patch(Mode::Outer, None, &views::typing_line(&names));
        if self.thread.is_some() {
            frames.patch(Mode::Outer, None, &shell::typing_line_at("thread-typing", &names));
        }
        Some(frames)
    }

    /// Who came online or went offline: their presence signals (every dot of theirs
    /// follows; no stream position).
    fn on_presence(diff: &PresenceDiff) -> Frames {
        let changes: serde_json::Map<String, serde_json::Value> = diff
            .online
            .iter()
            .map(|user| (people::presence_key(*user), serde_json::Value::Bool(true)))
            .chain(diff.offline.iter().map(|user| (people::presence_key(*user), serde_json::Value::Bool(false))))
            .collect();
        let mut frames = Frames::new();
        frames.signals(&serde_json::json!({ "_presence": changes }));
        frames
    }

    /// Whether the page holds this message's element (`#m-{id}`).
    fn shows(&self, id: MessageId) -> bool {
        self.roots.contains_key(&id) || self.replies.contains(&id)
    }

    /// Whether the page may hold the message: one the stream knows it shows, or any
    /// top-level message of the current channel — the list also holds what the tab loaded
    /// later (older pages scrolled back to, newer ones after an `around` jump), which the
    /// stream cannot see. Those are patched by element id, which Datastar applies where the
    /// element exists and otherwise only notes in the console; never an append into a
    /// container that may be absent.
    fn may_show(&self, id: MessageId, channel: ChannelId, parent: Option<MessageId>) -> bool {
        self.shows(id) || (Some(channel) == self.current && parent.is_none())
    }

    /// A thread reply: appended to the open panel if it is its thread, and counted in its
    /// root's summary if the list shows the root (a replayed reply that the summary the page
    /// read already counts — created no later than its last reply — is not counted twice).
    fn on_reply(&mut self, reply: &ajet_shared::events::EventMessage, frames: &mut Frames) {
        let Some(root) = reply.parent_id else { return };
        let summary = self.roots.get_mut(&root).map(|summary| {
            if summary.last_reply_at.is_none_or(|last| reply.created_at > last) {
                summary.reply_count += 1;
                summary.last_reply_at = Some(reply.created_at);
            }
            *summary
        });
        // Both counts are patched even for a reply already counted: the page may have
        // been read before the stream's own reads.
        if self.thread == Some(root) {
            self.replies.insert(reply.id);
            self.mine.entry(reply.id).or_default();
            remove_pending(frames, reply, self.viewer());
            let item = self.item(&MessageView::from(reply), Version::Event(self.at));
            frames.remove(&format!("#{}", views::message_dom_id(reply.id))).patch_html(
                Mode::Append,
                Some("#replies"),
                &item,
            );
            let count =
                summary.map_or_else(|| i32::try_from(self.replies.len()).unwrap_or(i32::MAX), |s| s.reply_count);
            frames.patch(Mode::Outer, None, &views::thread::reply_count(count));
        }
        if let Some(summary) = summary {
            let key = RenderKey::ThreadSummary {
                root,
                reply_count: summary.reply_count,
                last_reply_at: summary.last_reply_at,
            };
            let html = self.shared(key, || views::thread_summary(root, summary.reply_count, summary.last_reply_at));
            frames.patch_html(Mode::Outer, None, &html);
        } else if self.thread != Some(root) {
            // A root the list may hold beyond what the stream read (scrolled back to, or
            // an `around` page): its summary comes from a re-read.
            self.refresh(root);
        }
    }

    /// Asks for a message to be re-read as of the event being handled: a read shared with
    /// every tab, or, if the tab does not know which of its reactions are the viewer's, one
    /// with the viewer's own token.
    fn refresh(&mut self, id: MessageId) {
        self.refreshing.insert(id);
        let job = if self.mine.contains_key(&id) { Job::Message(id) } else { Job::OwnMessage(id) };
        self.request(job);
    }

    /// Asks the tab's refresher for `job` as of the event being handled.
    fn request(&mut self, job: Job) {
        self.refresher.request(job, self.at, &self.api, self.viewer, &self.fanout);
    }

    /// A re-read came back: the message (a root carries its thread summary; "you
    /// reacted" comes from `mine`, or from the viewer's own read), or the pins bar.
    fn on_fetched(&mut self, fetched: Fetched) -> Option<Frames> {
        let mut frames = Frames::new();
        match fetched {
            Fetched::Message(found, at) => {
                self.on_message_read(&found, &mut frames, |page| {
                    page.item(&MessageView::from(&*found), Version::Read(at))
                });
            }
            Fetched::OwnMessage(found) => {
                learn(&mut self.mine, &found);
                let viewer = self.viewer();
                self.on_message_read(&found, &mut frames, |_| {
                    fanout::count_unshared_render();
                    Arc::from(views::message_item(&MessageView::from(&*found), viewer).into_string())
                });
            }
            Fetched::Pins(channel, pins, at) if Some(channel) == self.current => {
                let key = RenderKey::Pins { channel, version: Version::Read(at) };
                let bar = self.fanout.render(key, || {
                    let pin_views: Vec<MessageView<'_>> = pins.iter().map(MessageView::from).collect();
                    views::pins_bar(&pin_views).into_string()
                });
                frames.patch_html(Mode::Outer, None, &bar);
            }
            Fetched::Pins(..) => return None,
        }
        Some(frames)
    }

    /// Patches a re-read message (its item made by `item`) where the page may hold it.
    fn on_message_read(&mut self, found: &Message, frames: &mut Frames, item: impl FnOnce(&Self) -> Arc<str>) {
        self.refreshing.remove(&found.id);
        if self.thread == Some(found.id) {
            frames.patch(Mode::Outer, None, &views::thread::reply_count(found.reply_count));
        }
        if self.may_show(found.id, found.channel_id, found.parent_id) {
            if let Some(summary) = self.roots.get_mut(&found.id) {
                *summary = Summary::of(found);
            }
            frames.patch_html(Mode::Outer, None, &item(self));
        }
    }

    /// Re-renders the open thread's root, count and replies.
    async fn resync_thread(&mut self, root: MessageId, frames: &mut Frames) {
        let query = HistoryQuery { limit: Some(super::pages::THREAD_SIZE), ..HistoryQuery::default() };
        let (found, replies) = tokio::join!(self.api.get_message(root), self.api.list_replies(root, &query));
        match (found, replies) {
            (Ok(found), Ok(replies)) => {
                self.replies = replies.data.iter().map(|reply| reply.id).collect();
                learn(&mut self.mine, &found);
                replies.data.iter().for_each(|reply| learn(&mut self.mine, reply));
                let reply_views: Vec<MessageView<'_>> = replies.data.iter().map(MessageView::from).collect();
                frames
                    .patch(Mode::Outer, None, &message::thread_root_item(&MessageView::from(&found)))
                    .patch(Mode::Outer, None, &views::thread::reply_count(found.reply_count))
                    .patch(Mode::Outer, None, &views::thread::replies_list(&reply_views, self.viewer()));
                if found.deleted_at.is_some() {
                    frames.remove("#reply-composer");
                }
            }
            (Err(err), _) | (_, Err(err)) => tracing::debug!(error = %err, "could not re-read the open thread"),
        }
    }

    /// The stream lost its place or the viewer gained access: re-render what the tab shows
    /// — the list, the pins bar, the open thread (its root, count and replies; the reply
    /// composer keeps what is being typed) and the sidebar.
    async fn resync(&mut self) -> Frames {
        self.load(None).await;
        let mut frames = Frames::new();
        if let Some(current) = self.current {
            match self.api.list_pins(current).await {
                Ok(pins) => {
                    let pin_views: Vec<MessageView<'_>> = pins.data.iter().map(MessageView::from).collect();
                    frames.patch(Mode::Outer, None, &views::pins_bar(&pin_views));
                }
                Err(err) => tracing::debug!(error = %err, "could not re-read the pins"),
            }
        }
        if let Some(root) = self.thread {
            self.resync_thread(root, &mut frames).await;
        }
        if let Some(current) = self.current
            && let Some(entry) = self.entries.get(&current)
        {
            match super::pages::history(&self.api, entry.item.channel.id).await {
                Ok(page) => {
                    self.shown_seq = page.last_seq;
                    self.roots = page.messages.iter().map(|message| (message.id, Summary::of(message))).collect();
                    page.messages.iter().for_each(|message| learn(&mut self.mine, message));
                    let views: Vec<MessageView<'_>> = page.messages.iter().map(MessageView::from).collect();
                    let list = views::ListView {
                        messages: &views,
                        viewer: self.viewer(),
                        channel: entry.item.channel.id,
                        channel_label: &self.label,
                        older: page.older,
                        newer: None,
                        first_unread: None,
                        highlight: None,
                    };
                    frames.patch(Mode::Outer, None, &views::message_list(&list));
                }
                Err(err) => tracing::debug!(error = %err, "could not re-read the channel"),
            }
        }
        frames.patch(Mode::Outer, None, &self.sidebar_list(false));
        frames
    }

    /// The sidebar's list of the community's channels (`#channels`: by name), or of the
    /// DMs (`#dms`: by last activity), as the page orders them — starred first — without
    /// archived channels.
    fn sidebar_list(&self, dms: bool) -> maud::Markup {
        let mut entries: Vec<&Entry> = self
            .entries
            .values()
            .map(|entry| &**entry)
            .filter(|entry| {
                entry.item.channel.community_id.is_none() == dms && entry.item.channel.archived_at.is_none()
            })
            .collect();
        if dms {
            let active = |entry: &Entry| entry.item.last_message_at.unwrap_or(entry.item.channel.created_at);
            entries.sort_by_key(|entry| std::cmp::Reverse(active(entry)));
        } else {
            entries.sort_by(|a, b| a.label.cmp(&b.label));
        }
        shell::starred_first(&mut entries, |entry| &entry.item);
        let (id, class) = if dms { ("dms", "channels") } else { ("channels", "channels") };
        let now = OffsetDateTime::now_utc();
        maud::html! {
            ul id=(id) class=(class) {
                @for entry in entries {
                    (views::channel_entry(&entry.item, &entry.href, &entry.label, Some(entry.item.channel.id) == self.current,
                        shell::is_muted(&entry.item, now), self.viewer()))
                }
            }
        }
    }
}
