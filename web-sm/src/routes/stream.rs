//! `GET /sse`: the tab's one live stream, a thin adapter over
//! `ajet_shared::stream::StreamSession` (register → replay → live, exact resume, access
//! re-checks; see there) that turns what happens into Datastar patches of the page the tab
//! shows (`?channel=`): new, edited and deleted messages and reaction changes of that
//! channel, unread badges of the others, channels created, renamed or archived. A resync
//! re-renders the list and the sidebar. The tab resumes from its `Last-Event-ID` or, on
//! its first connect, from the position its page was rendered at (`?from=`), so nothing
//! sent between the page's reads and the stream's start is lost, and a message the page
//! already lists (`?seq=`, its highest `channel_seq`) is not appended again. The last of each event's
//! patches carries its `id:`, so a reconnect mid-way repeats it rather than skipping it
//! (appends first remove a message of the same id; badges skip what their counts hold).

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

use ajet_shared::api::ApiError;
use ajet_shared::api::wire::{ChannelListItem, Community, Me, NotifyLevel};
use ajet_shared::client::ApiClient;
use ajet_shared::domain::ids::{ChannelId, MessageId, UserId};
use ajet_shared::events::bus::NatsBus;
use ajet_shared::events::{Event, EventPayload};
use ajet_shared::stream::{End, HubEvent, Item, OpenError, Streams};
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Deserialize;

use crate::datastar::{Frames, Mode};
use crate::extract::Viewer;
use crate::views::{self, MessageView, message, shell};

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
}

pub async fn stream_events(
    State(streams): State<Streams<NatsBus>>,
    viewer: Viewer,
    Query(query): Query<StreamQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let resume = headers.get("last-event-id").and_then(|v| v.to_str().ok()).or(query.from.as_deref());
    let mut session = match streams.open(&viewer.token, resume).await {
        Ok(session) => session,
        Err(OpenError::Revoked) => return Ok(StatusCode::NO_CONTENT.into_response()),
        Err(err) => return Err(err.api_error()),
    };
    let mut page = LivePage::open(viewer.api, query.channel, query.seq.unwrap_or(0)).await;
    let body = async_stream::stream! {
        loop {
            let frames = match session.next().await {
                Item::Event(event) => page.on_event(&event).await,
                Item::Resync(_) => page.resync().await,
                Item::End(End::Shutdown) => {
                    yield Ok::<_, Infallible>(Bytes::from_static(RESTARTING));
                    return;
                }
                // Overflow, a failed replay, a refused or unconfirmed token: the stream ends
                // and Datastar resumes from its last id (or the gateway says to sign in).
                Item::End(_) => return,
                // Idle, and whatever else the core may yield that a page does not show.
                _ => {
                    yield Ok(Bytes::from_static(KEEP_ALIVE));
                    continue;
                }
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

/// A sidebar entry as the tab shows it.
struct Entry {
    item: ChannelListItem,
    href: String,
    label: String,
}

/// What the tab shows, kept to patch it.
struct LivePage {
    api: ApiClient,
    me: Option<Me>,
    current: Option<ChannelId>,
    /// The current channel's label (`#general`, or a DM's members).
    label: String,
    /// The community whose channels the sidebar lists.
    community: Option<Community>,
    entries: HashMap<ChannelId, Entry>,
    /// The highest `channel_seq` the list holds: a replayed message at or below it (read by
    /// the page before the stream held it) is already shown, in its place.
    shown_seq: i64,
}

impl LivePage {
    async fn open(api: ApiClient, current: Option<ChannelId>, shown_seq: i64) -> Self {
        let mut page =
            Self { api, me: None, current, label: String::new(), community: None, entries: HashMap::new(), shown_seq };
        page.load().await;
        page
    }

    fn viewer(&self) -> UserId {
        self.me.as_ref().map_or(UserId(uuid::Uuid::nil()), |me| me.user.id)
    }

    /// Reads the sidebar as the page did (a failure leaves it as it was: badges are
    /// corrected by the next load).
    async fn load(&mut self) {
        let Ok(me) = self.api.me().await else { return };
        let current_community = match self.current {
            Some(channel) => self.api.get_channel(channel).await.ok().and_then(|channel| channel.community_id),
            None => None,
        };
        let community =
            me.communities.iter().find(|c| Some(c.id) == current_community).or_else(|| me.communities.first()).cloned();
        let channels = match &community {
            Some(community) => self.api.list_channels(community.id).await.map(|page| page.data).unwrap_or_default(),
            None => Vec::new(),
        };
        let dms = self.api.list_dms().await.map(|page| page.data).unwrap_or_default();
        self.entries.clear();
        for item in channels {
            let label = item.channel.name.clone().unwrap_or_default();
            let href = shell::channel_href(&item.channel, community.as_ref());
            self.entries.insert(item.channel.id, Entry { item, href, label });
        }
        for item in dms {
            let label = shell::channel_label(&item.channel, &item.members, &me.user);
            let href = shell::channel_href(&item.channel, None);
            self.entries.insert(item.channel.id, Entry { item, href, label });
        }
        if let Some(entry) = self.current.and_then(|id| self.entries.get(&id)) {
            self.label = shell::channel_label(&entry.item.channel, &entry.item.members, &me.user);
        }
        self.community = community;
        self.me = Some(me);
    }

    fn entry_markup(&self, id: ChannelId) -> Option<maud::Markup> {
        let entry = self.entries.get(&id)?;
        Some(views::channel_entry(&entry.item, &entry.href, &entry.label, Some(id) == self.current))
    }

    async fn on_event(&mut self, hub_event: &Arc<HubEvent>) -> Frames {
        let mut frames = Frames::new();
        match serde_json::from_str::<Event>(&hub_event.data) {
            Ok(event) => self.patch(event.payload, &mut frames).await,
            // A type this build does not know (the core evolves additively): nothing to show.
            Err(err) => tracing::debug!(error = %err, event_type = %hub_event.event_type, "event not shown"),
        }
        frames.position(&hub_event.position().to_string());
        frames
    }

    async fn patch(&mut self, payload: EventPayload, frames: &mut Frames) {
        let viewer = self.viewer();
        match payload {
            EventPayload::MessageCreated(message) if message.parent_id.is_none() => {
                if Some(message.channel_id) == self.current {
                    if message.channel_seq <= self.shown_seq {
                        return;
                    }
                    self.shown_seq = message.channel_seq;
                    let id = views::message_dom_id(message.id);
                    frames.remove(&format!("#{id}")).patch(
                        Mode::Append,
                        Some("#messages"),
                        &views::message_item(&MessageView::from(&message), viewer),
                    );
                    if message.author.user_id != Some(viewer)
                        && let Err(err) = self.api.mark_read(message.channel_id, message.id).await
                    {
                        tracing::debug!(error = %err, "could not advance the read cursor");
                    }
                } else if message.author.user_id != Some(viewer)
                    && let Some(entry) = self.entries.get_mut(&message.channel_id)
                {
                    // A replayed message the sidebar's counts (read after the stream's
                    // position) already include is not counted twice.
                    let counted = entry.item.last_message_at.is_some_and(|last| message.created_at <= last);
                    if !counted {
                        entry.item.unread_count += 1;
                        entry.item.last_message_at = Some(message.created_at);
                        if let Some(markup) = self.entry_markup(message.channel_id) {
                            frames.patch(Mode::Outer, None, &markup);
                        }
                    }
                }
            }
            EventPayload::MessageUpdated(message) if Some(message.channel_id) == self.current => {
                frames.patch(Mode::Outer, None, &views::message_item(&MessageView::from(&message), viewer));
            }
            EventPayload::MessageDeleted(deleted) if Some(deleted.channel_id) == self.current => {
                frames.patch(Mode::Outer, None, &message::tombstone(deleted.id));
            }
            EventPayload::MessagesPurged(purged) if Some(purged.channel_id) == self.current => {
                for id in purged.ids {
                    frames.patch(Mode::Outer, None, &message::tombstone(id));
                }
            }
            EventPayload::ReactionAdded(change) | EventPayload::ReactionRemoved(change)
                if Some(change.channel_id) == self.current =>
            {
                self.refresh_message(change.message_id, frames).await;
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
                let entry = self.entries.entry(id).or_insert_with(|| Entry {
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
                });
                entry.item.channel = channel;
                entry.href = href;
                entry.label = label;
                if let Some(markup) = self.entry_markup(id) {
                    if known {
                        frames.patch(Mode::Outer, None, &markup);
                    } else {
                        frames.remove(&format!("#{}", views::channel_dom_id(id))).patch(
                            Mode::Append,
                            Some("#channels"),
                            &markup,
                        );
                    }
                }
            }
            EventPayload::ChannelArchived(channel) => {
                self.entries.remove(&channel.id);
                frames.remove(&format!("#{}", views::channel_dom_id(channel.id)));
            }
            _ => {}
        }
    }

    /// Re-renders one message as the viewer sees it (reactions carry "you reacted").
    async fn refresh_message(&self, id: MessageId, frames: &mut Frames) {
        match self.api.get_message(id).await {
            Ok(found) => {
                frames.patch(Mode::Outer, None, &views::message_item(&MessageView::from(&found), self.viewer()));
            }
            Err(err) => tracing::debug!(error = %err, "could not refresh a message"),
        }
    }

    /// The stream lost its place or the viewer gained access: re-render what the tab shows.
    async fn resync(&mut self) -> Frames {
        self.load().await;
        let mut frames = Frames::new();
        if let Some(current) = self.current
            && let Some(entry) = self.entries.get(&current)
        {
            match super::pages::history(&self.api, &entry.item.channel).await {
                Ok((messages, last_seq)) => {
                    self.shown_seq = last_seq;
                    let views: Vec<MessageView<'_>> = messages.iter().map(MessageView::from).collect();
                    frames.patch(Mode::Outer, None, &views::messages_list(&views, self.viewer(), &self.label));
                }
                Err(err) => tracing::debug!(error = %err, "could not re-read the channel"),
            }
        }
        let mut channels: Vec<&Entry> =
            self.entries.values().filter(|entry| entry.item.channel.community_id.is_some()).collect();
        channels.sort_by(|a, b| a.label.cmp(&b.label));
        let sidebar = maud::html! {
            ul #channels .channels {
                @for entry in channels {
                    (views::channel_entry(&entry.item, &entry.href, &entry.label, Some(entry.item.channel.id) == self.current))
                }
            }
        };
        frames.patch(Mode::Outer, None, &sidebar);
        frames
    }
}
