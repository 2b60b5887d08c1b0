//! The pages: `/` (the first community, or the bootstrap form when the viewer has none),
//! `/c/{slug}` (its first channel), `/c/{slug}/{channel}` and `/dm/{id}` (the app shell),
//! each with an optional `?thread={root}` opening that thread in the right panel, and
//! `/channels/{id}/history` (the list's next page as the reader scrolls to either end).
//! Everything is read through the api with the viewer's token; the stream position is
//! read first, so the tab's stream replays whatever happens after these reads began.

use ajet_shared::api::wire::{ChannelKind, ChannelListItem, Community, HistoryQuery, Me, Message, NotificationQuery};
use ajet_shared::api::{ApiError, ErrorCode};
use ajet_shared::client::ApiClient;
use ajet_shared::domain::ids::{ChannelId, MessageId, UserId};
use ajet_shared::events::bus::NatsBus;
use ajet_shared::stream::Streams;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::datastar::{Frames, Mode};
use crate::error::PageError;
use crate::extract::Viewer;
use crate::views::layout::Theme;
use crate::views::{self, MessageView, ShellView, ThreadView};

/// How many messages a channel page shows.
pub(crate) const PAGE_SIZE: u32 = 50;

/// How many replies the thread panel shows (the newest).
pub(crate) const THREAD_SIZE: u32 = 100;

/// A shell page's query: the thread to open.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    thread: Option<MessageId>,
    /// Open the list around this message (a search hit, a pin, a notification).
    around: Option<MessageId>,
}

/// The theme cookie's name.
pub(crate) const THEME_COOKIE: &str = "ajet_theme";

/// The theme the viewer chose, from its cookie.
pub(crate) fn theme(headers: &HeaderMap) -> Option<Theme> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(THEME_COOKIE)?.strip_prefix('='))
        .and_then(Theme::parse)
}

/// `GET /`: the viewer's first community, or the bootstrap form.
pub async fn home(viewer: Viewer) -> Result<Response, PageError> {
    let me = viewer.api.me().await?;
    Ok(match me.communities.first() {
        Some(community) => Redirect::to(&format!("/c/{}", community.slug)).into_response(),
        None => views::bootstrap_page(&me.user.username, None).into_response(),
    })
}

pub(crate) fn community_by_slug<'a>(me: &'a Me, slug: &str) -> Result<&'a Community, PageError> {
    me.communities.iter().find(|c| c.slug == slug).ok_or(PageError::NotFound("you are not in a community of that name"))
}

/// `GET /c/{slug}`: its `#general`, else the first channel the viewer is in.
pub async fn community_home(viewer: Viewer, Path(slug): Path<String>) -> Result<Response, PageError> {
    let me = viewer.api.me().await?;
    let community = community_by_slug(&me, &slug)?;
    let channels = viewer.api.list_channels(community.id).await?.data;
    let open = channels.iter().filter(|item| item.channel.archived_at.is_none());
    let first = open
        .clone()
        .find(|item| item.channel.name.as_deref() == Some("general"))
        .or_else(|| open.clone().find(|item| item.is_member))
        .or_else(|| open.clone().next())
        .and_then(|item| item.channel.name.clone())
        .ok_or(PageError::NotFound("this community has no channel yet"))?;
    Ok(Redirect::to(&format!("/c/{slug}/{first}")).into_response())
}

/// `GET /c/{slug}/{channel}`.
pub async fn channel_page(
    State(streams): State<Streams<NatsBus>>,
    viewer: Viewer,
    Path((slug, name)): Path<(String, String)>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let stream_from = streams.hub.position().map(|position| position.to_string());
    let me = viewer.api.me().await?;
    let community = community_by_slug(&me, &slug)?;
    let (channels, dms) = tokio::join!(viewer.api.list_channels(community.id), viewer.api.list_dms());
    let (channels, dms) = (channels?.data, dms?.data);
    let item = channels
        .iter()
        .find(|item| item.channel.name.as_deref() == Some(name.as_str()) && item.channel.archived_at.is_none())
        .ok_or(PageError::NotFound("there is no channel of that name here"))?;
    let page = Shell {
        me: &me,
        community: Some(community),
        channels: &channels,
        dms: &dms,
        stream_from,
        query,
        theme: theme(&headers),
    };
    page.render(&viewer.api, item).await
}

/// `GET /dm/{id}`: a direct message, with the viewer's first community in the sidebar.
pub async fn dm_page(
    State(streams): State<Streams<NatsBus>>,
    viewer: Viewer,
    Path(id): Path<ChannelId>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let stream_from = streams.hub.position().map(|position| position.to_string());
    let me = viewer.api.me().await?;
    let community = me.communities.first();
    let channels = match community {
        Some(community) => viewer.api.list_channels(community.id).await?.data,
        None => Vec::new(),
    };
    let dms = viewer.api.list_dms().await?.data;
    let item =
        dms.iter().find(|item| item.channel.id == id).ok_or(PageError::NotFound("there is no such conversation"))?;
    let page = Shell { me: &me, community, channels: &channels, dms: &dms, stream_from, query, theme: theme(&headers) };
    page.render(&viewer.api, item).await
}

/// What both shell pages have read.
struct Shell<'a> {
    me: &'a Me,
    community: Option<&'a Community>,
    channels: &'a [ChannelListItem],
    dms: &'a [ChannelListItem],
    stream_from: Option<String>,
    query: PageQuery,
    theme: Option<Theme>,
}

impl Shell<'_> {
    /// Reads the channel's latest page and renders the shell; the tab marks it read once it
    /// is visible (opening a channel clears its badge, in the viewer's other tabs too).
    async fn render(&self, api: &ApiClient, item: &ChannelListItem) -> Result<Response, PageError> {
        let partners: Vec<UserId> = self
            .dms
            .iter()
            .flat_map(|dm| dm.members.iter().map(|user| user.id))
            .filter(|id| *id != self.me.user.id)
            .collect();
        let unread_query = NotificationQuery { unread: Some(true), before: None, limit: Some(100) };
        let (history, pins, commands, presence, notifications) = tokio::join!(
            history_page(api, item.channel.id, HistoryQuery { around: self.query.around, ..HistoryQuery::default() }),
            api.list_pins(item.channel.id),
            api.list_commands(Some(item.channel.id)),
            async {
                if partners.is_empty() {
                    Ok(Vec::new())
                } else {
                    api.get_presence(&partners).await.map(|page| page.data)
                }
            },
            api.list_notifications(&unread_query)
        );
        let (history, pins, commands) = (history?, pins?.data, commands?);
        let (messages, last_seq) = (&history.messages, history.last_seq);
        let presence: Vec<(UserId, bool)> = presence?.iter().map(|p| (p.user_id, p.online)).collect();
        let unread_notifications = notifications?.data.len();
        let pin_views: Vec<MessageView<'_>> = pins.iter().map(MessageView::from).collect();
        let thread = match self.query.thread {
            Some(root) => Some(thread(api, item.channel.id, root).await?),
            None => None,
        };
        let reply_views: Vec<MessageView<'_>> =
            thread.as_ref().map(|(_, replies)| replies.iter().map(MessageView::from).collect()).unwrap_or_default();
        let reply_msg_id = uuid::Uuid::now_v7().to_string();
        // An older page around a message does not read the channel.
        let unread = if item.unread_count > 0 && item.is_member && self.query.around.is_none() {
            messages.last().map(|last| last.id)
        } else {
            None
        };
        let views: Vec<MessageView<'_>> = messages.iter().map(MessageView::from).collect();
        let first_unread = if item.is_member && self.query.around.is_none() {
            views::message::first_unread(&views, self.me.user.id, item.unread_count)
        } else {
            None
        };
        let client_msg_id = uuid::Uuid::now_v7().to_string();
        let page = views::shell_page(&ShellView {
            me: &self.me.user,
            communities: &self.me.communities,
            community: self.community,
            channels: self.channels,
            dms: self.dms,
            channel: &item.channel,
            messages: &views,
            client_msg_id: &client_msg_id,
            stream_from: self.stream_from.clone(),
            last_seq,
            joined: item.is_member,
            thread: thread.as_ref().map(|(root, _)| ThreadView {
                root: MessageView::from(root),
                replies: &reply_views,
                client_msg_id: &reply_msg_id,
            }),
            pins: &pin_views,
            commands: &commands,
            unread,
            around: self.query.around,
            older: history.older,
            newer: history.newer,
            first_unread,
            presence: &presence,
            unread_notifications,
            theme: self.theme,
        });
        Ok(page.into_response())
    }
}

/// A page of a channel's top-level messages, oldest first.
pub(crate) struct HistoryPage {
    pub messages: Vec<Message>,
    /// The highest `channel_seq` the page read (0 for none).
    pub last_seq: i64,
    /// The cursor for older messages, when there are any.
    pub older: Option<MessageId>,
    /// The cursor for newer messages, when there are any.
    pub newer: Option<MessageId>,
}

/// The latest page of a channel's top-level messages.
pub(crate) async fn history(api: &ApiClient, channel: ChannelId) -> Result<HistoryPage, PageError> {
    history_page(api, channel, HistoryQuery::default()).await
}

/// A page of a channel's top-level messages as `query` (without its limit) asks: the
/// latest, the one around a message, before or after one.
pub(crate) async fn history_page(
    api: &ApiClient,
    channel: ChannelId,
    query: HistoryQuery,
) -> Result<HistoryPage, PageError> {
    let page = api.history(channel, &HistoryQuery { limit: Some(PAGE_SIZE), ..query }).await?;
    let last_seq = page.data.iter().map(|message| message.channel_seq).max().unwrap_or(0);
    let cursor = |raw: Option<String>| raw.and_then(|raw| raw.parse::<MessageId>().ok());
    Ok(HistoryPage {
        messages: page.data.into_iter().filter(|message| message.parent_id.is_none()).collect(),
        last_seq,
        older: cursor(page.page.before),
        newer: cursor(page.page.after),
    })
}

/// A thread of `channel`: its root and newest replies, oldest first. A message of another
/// channel, or a reply, is not a thread of this page.
async fn thread(api: &ApiClient, channel: ChannelId, root: MessageId) -> Result<(Message, Vec<Message>), PageError> {
    let root = api.get_message(root).await?;
    if root.channel_id != channel || root.parent_id.is_some() {
        return Err(PageError::NotFound("there is no such thread here"));
    }
    let replies =
        api.list_replies(root.id, &HistoryQuery { limit: Some(THREAD_SIZE), ..HistoryQuery::default() }).await?;
    Ok((root, replies.data))
}

/// `GET /channels/{id}/history`'s query: exactly one of `before` (older messages) and
/// `after` (newer ones).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoreQuery {
    before: Option<MessageId>,
    after: Option<MessageId>,
    /// The signals a Datastar GET always sends (none here: the row filters them all out).
    #[serde(rename = "datastar")]
    _signals: Option<String>,
}

/// `GET /channels/{id}/history?before=…|after=…`: the next page of the list as the reader
/// scrolls to its top (older, replacing the `#older` row: the messages and the next row)
/// or to its bottom (newer, replacing `#newer`). The scroll position is kept by the list's
/// reversed layout (older) and by `app.js` (newer).
pub async fn more_history(
    viewer: Viewer,
    Path(id): Path<ChannelId>,
    Query(query): Query<MoreQuery>,
) -> Result<Frames, ApiError> {
    let (row, history_query) = match (query.before, query.after) {
        (Some(before), None) => ("#older", HistoryQuery { before: Some(before), ..HistoryQuery::default() }),
        (None, Some(after)) => ("#newer", HistoryQuery { after: Some(after), ..HistoryQuery::default() }),
        _ => return Err(ApiError::bad_request(ErrorCode::InvalidQuery, "exactly one of before and after")),
    };
    let (page, me, channel) =
        tokio::join!(history_page(&viewer.api, id, history_query), viewer.api.me(), viewer.api.get_channel(id));
    let (page, me, channel) = match (page, me, channel) {
        (Ok(page), Ok(me), Ok(channel)) => (page, me, channel),
        (Err(PageError::Api(err)), ..) | (_, Err(err), _) | (.., Err(err)) => {
            return Ok(super::actions::notice(&format!(
                "Could not load more messages: {}",
                super::actions::refusal(&err)
            )));
        }
        (Err(PageError::NotFound(what)), ..) => return Ok(super::actions::notice(what)),
        (Err(PageError::Forbidden(_)), ..) => return Ok(super::actions::notice("You may not read this.")),
    };
    // A DM's list reaches its beginning too; its heading names the others, which this
    // request has not read.
    let label = match (channel.kind, &channel.name) {
        (ChannelKind::Public | ChannelKind::Private, Some(name)) => format!("#{name}"),
        _ => "this conversation".to_owned(),
    };
    let mut frames = Frames::new();
    let messages: Vec<MessageView<'_>> = page.messages.iter().map(MessageView::from).collect();
    let items = views::message::list_items(&messages, me.user.id, None);
    let replacement = if row == "#older" {
        maud::html! { (views::message::older_row(id, page.older, &label)) (items) }
    } else {
        maud::html! { (items) (views::message::newer_row(id, page.newer)) }
    };
    frames.patch(Mode::Replace, Some(row), &replacement);
    Ok(frames)
}
