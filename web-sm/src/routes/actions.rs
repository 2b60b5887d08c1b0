//! What the pages do: create the first community and channels (plain form POSTs answered
//! with a redirect), join a public channel, send, reply in a thread, edit and delete
//! messages, react and pin (Datastar requests answered with patches: the acting tab sees
//! the result at once, every other tab through the live stream). Every write goes through the api with the viewer's
//! token; a refusal is shown in the notice line (or the form's page) with the api's own
//! message. Sends carry the composer's `client_msg_id`, so a double submit or a retry
//! never posts twice; the message itself reaches every tab, the sender's too, through the
//! live stream.

use ajet_shared::api::ApiError;
use ajet_shared::api::ErrorCode;
use ajet_shared::api::wire::{
    ChannelKind, CreateChannelRequest, CreateCommunityRequest, CreateMessageRequest, Me, NotificationChannel,
    NotificationQuery, NotifyLevel, ReadNotificationsRequest, SearchQuery, UpdatePreferencesRequest,
};
use ajet_shared::client::ClientError;
use ajet_shared::domain::ids::{AttachmentId, ChannelId, CommunityId, MessageId, UserId};
use ajet_shared::events::bus::NatsBus;
use ajet_shared::stream::Streams;
use axum::Json;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use bytes::Bytes;
use serde::Deserialize;

use super::pages::THEME_COOKIE;
use crate::datastar::{Frames, Mode};
use crate::error::PageError;
use crate::extract::Viewer;
use crate::switcher::{Directory, Openings};
use crate::views::layout::Theme;
use crate::views::{self, MessageView, message, pending, people, search};

/// What the api said, for the notice line.
pub(crate) fn refusal(err: &ClientError) -> String {
    match err.message() {
        Some(message) => message.to_owned(),
        None => "The server could not be reached; try again.".to_owned(),
    }
}

/// Frames showing `message` in the notice line.
pub(crate) fn notice(message: &str) -> Frames {
    let mut frames = Frames::new();
    frames.patch(Mode::Outer, None, &views::notice(Some(message)));
    frames
}

#[derive(Deserialize)]
pub struct NewCommunity {
    name: String,
    slug: String,
}

/// `POST /communities` (the bootstrap form).
pub async fn create_community(viewer: Viewer, Form(form): Form<NewCommunity>) -> Result<Response, PageError> {
    let request = CreateCommunityRequest { name: form.name, slug: form.slug, description: None };
    match viewer.api.create_community(&request).await {
        Ok(community) => Ok(Redirect::to(&format!("/c/{}", community.slug)).into_response()),
        Err(err @ ClientError::Api { .. }) if err.status().is_some_and(|s| s.is_client_error()) => {
            let me = viewer.api.me().await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, views::bootstrap_page(&me.user.username, Some(&refusal(&err))))
                .into_response())
        }
        Err(err) => Err(err.into()),
    }
}

#[derive(Deserialize)]
pub struct NewChannel {
    name: String,
    private: Option<String>,
}

/// `POST /c/{slug}` (the sidebar's form): creates the channel and opens it.
pub async fn create_channel(
    viewer: Viewer,
    Path(slug): Path<String>,
    Form(form): Form<NewChannel>,
) -> Result<Response, PageError> {
    let me = viewer.api.me().await?;
    let community = super::pages::community_by_slug(&me, &slug)?;
    let kind = if form.private.is_some() { ChannelKind::Private } else { ChannelKind::Public };
    let request = CreateChannelRequest { name: form.name, topic: None, kind: Some(kind) };
    match viewer.api.create_channel(community.id, &request).await {
        Ok(channel) => Ok(Redirect::to(&format!("/c/{slug}/{}", channel.name.unwrap_or_default())).into_response()),
        Err(err @ ClientError::Api { .. }) if err.status().is_some_and(|s| s.is_client_error()) => {
            Ok((StatusCode::UNPROCESSABLE_ENTITY, views::error_page("The channel was not created", &refusal(&err)))
                .into_response())
        }
        Err(err) => Err(err.into()),
    }
}

/// `POST /channels/{id}/join`: joins a public channel and opens it.
pub async fn join_channel(viewer: Viewer, Path(id): Path<ChannelId>) -> Result<Response, PageError> {
    let channel = viewer.api.join_channel(id).await?;
    let me = viewer.api.me().await?;
    let community = me.communities.iter().find(|c| Some(c.id) == channel.community_id);
    Ok(Redirect::to(&views::shell::channel_href(&channel, community)).into_response())
}

/// The channel preferences form: one of its fields per submit.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreferencesForm {
    starred: Option<bool>,
    /// `true` mutes until muted again is lifted, `false` unmutes.
    muted: Option<bool>,
    notify_level: Option<NotifyLevel>,
}

/// `POST /channels/{id}/preferences`: stars or unstars the channel, mutes or unmutes it,
/// or sets which of its messages notify the viewer; then shows it again.
pub async fn set_preferences(
    viewer: Viewer,
    Path(id): Path<ChannelId>,
    Form(form): Form<PreferencesForm>,
) -> Result<Response, PageError> {
    // Muted "until unmuted": the API takes a time; a thousand years on is far enough.
    let forever = time::OffsetDateTime::now_utc() + time::Duration::days(365_242);
    let request = UpdatePreferencesRequest {
        notify_level: form.notify_level,
        muted_until: form.muted.map(|muted| muted.then_some(forever)),
        starred: form.starred,
    };
    viewer.api.update_preferences(id, &request).await?;
    let channel = viewer.api.get_channel(id).await?;
    let me = viewer.api.me().await?;
    let community = me.communities.iter().find(|c| Some(c.id) == channel.community_id);
    Ok(Redirect::to(&views::shell::channel_href(&channel, community)).into_response())
}

/// The composer's signals.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Compose {
    body: String,
    cmid: String,
}

/// The composer's files: `?files=` with the ids of its uploads, comma-separated.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendQuery {
    #[serde(default)]
    files: String,
}

impl SendQuery {
    /// The attachment ids named, each a valid id (anything else is refused, not dropped).
    fn attachment_ids(&self) -> Result<Vec<AttachmentId>, ApiError> {
        self.files
            .split(',')
            .filter(|raw| !raw.is_empty())
            .map(|raw| {
                raw.parse().map_err(|_| {
                    ApiError::bad_request(
                        ErrorCode::InvalidAttachment,
                        format!("files: {raw:?} is not an attachment id"),
                    )
                })
            })
            .collect()
    }
}

/// `POST /channels/{id}/messages?files=…`: sends the composer's body with its uploaded
/// files; on success the composer is cleared and given a new `client_msg_id`, the sent
/// files' chips are removed, and the viewer's typing in the channel stops.
pub async fn send_message(
    State(streams): State<Streams<NatsBus>>,
    viewer: Viewer,
    Path(id): Path<ChannelId>,
    Query(query): Query<SendQuery>,
    body: Bytes,
) -> Result<Frames, ApiError> {
    let Json(compose) = Json::<Compose>::from_bytes(&body).map_err(ApiError::from)?;
    let attachment_ids = query.attachment_ids()?;
    if compose.body.trim().is_empty() {
        // The api wants words with every message, files or not.
        return Ok(if attachment_ids.is_empty() {
            Frames::new()
        } else {
            notice("Add a few words to send with the files.")
        });
    }
    if is_command(&compose.body) {
        if !attachment_ids.is_empty() {
            return Ok(notice("A command takes no files: remove them, or send them with a message."));
        }
        return Ok(run_command(&viewer, id, &compose.body).await);
    }
    let request = CreateMessageRequest {
        body_md: compose.body,
        parent_id: None,
        client_msg_id: Some(compose.cmid),
        attachment_ids,
    };
    let cleared = serde_json::json!({ "body": "", "cmid": uuid::Uuid::now_v7().to_string(), "_typedAt": 0 });
    Ok(post(&streams, &viewer, id, &request, &cleared, "Not sent").await)
}

/// Posts a composer's message (`request`); on success the composer's signals become
/// `cleared` (an empty text and a new `client_msg_id`), the sent files' chips are removed,
/// the send's row becomes the message and the viewer's typing in the channel stops; a
/// refusal is shown on the row and in the notice line (`failed`: what it says first).
async fn post(
    streams: &Streams<NatsBus>,
    viewer: &Viewer,
    channel: ChannelId,
    request: &CreateMessageRequest,
    cleared: &serde_json::Value,
    failed: &str,
) -> Frames {
    let cmid = request.client_msg_id.clone().unwrap_or_default();
    match viewer.api.send_message(channel, request).await {
        Ok(sent) => {
            if let Err(err) = streams.typing(&viewer.token, channel, false).await {
                tracing::debug!(error = %err, "could not signal that typing stopped");
            }
            let mut frames = Frames::new();
            frames.signals(cleared).patch(Mode::Outer, None, &views::notice(None));
            for sent in &request.attachment_ids {
                frames.remove(&format!("#{}", views::shell::upload_dom_id(*sent)));
            }
            replace_pending(&mut frames, &cmid, &sent);
            frames
        }
        Err(err) => send_failed(&cmid, &err, failed),
    }
}

/// The send's row (if the stream has not replaced it already) becomes the message.
fn replace_pending(frames: &mut Frames, cmid: &str, sent: &ajet_shared::api::wire::Message) {
    if let (Some(row), Some(author)) = (pending::pending_dom_id(cmid), sent.author.user_id) {
        frames.patch(Mode::Replace, Some(&format!("#{row}")), &views::message_item(&MessageView::from(sent), author));
    }
}

/// A refused send: its row says why and offers Retry and Discard; the composer keeps the
/// text and its `client_msg_id` (the draft is not lost, a retry cannot duplicate); the
/// notice line says it too.
fn send_failed(cmid: &str, err: &ClientError, failed: &str) -> Frames {
    let reason = refusal(err);
    let mut frames = notice(&format!("{failed}: {reason}"));
    if let Some(status) = pending::send_failed(cmid, &reason) {
        frames.patch(Mode::Outer, None, &status);
    }
    frames
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypingQuery {
    typing: bool,
}

/// `POST /channels/{id}/typing?typing=true|false`: the composer's typing signal, published
/// by the stream core to the channel's members (checked, limited per user).
pub async fn signal_typing(
    State(streams): State<Streams<NatsBus>>,
    viewer: Viewer,
    Path(id): Path<ChannelId>,
    Query(query): Query<TypingQuery>,
) -> Result<StatusCode, ApiError> {
    streams.typing(&viewer.token, id, query.typing).await.map_err(|err| err.api_error())?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether the composer's text is a slash command: `/` and a letter.
fn is_command(body: &str) -> bool {
    let mut chars = body.trim_start().chars();
    chars.next() == Some('/') && chars.next().is_some_and(char::is_alphabetic)
}

/// Runs the composer's text as a slash command: done, the composer is cleared (what the
/// command says arrives as an ephemeral reply on the viewer's stream, a message it posted
/// as any message); refused, the text stays to be corrected, and the refusal arrives the
/// same way — unless the api said nothing to the stream (no access, limits, unreachable),
/// which the notice line shows.
async fn run_command(viewer: &Viewer, channel: ChannelId, text: &str) -> Frames {
    match viewer.api.run_command(channel, text.trim()).await {
        Ok(_) => {
            let mut frames = Frames::new();
            let signals = serde_json::json!({ "body": "", "cmid": uuid::Uuid::now_v7().to_string(), "_typedAt": 0 });
            frames.signals(&signals).patch(Mode::Outer, None, &views::notice(None));
            frames
        }
        Err(err)
            if err.status().is_some_and(|status| {
                matches!(
                    status,
                    StatusCode::BAD_REQUEST
                        | StatusCode::FORBIDDEN
                        | StatusCode::CONFLICT
                        | StatusCode::UNPROCESSABLE_ENTITY
                )
            }) =>
        {
            let mut frames = Frames::new();
            frames.patch(Mode::Outer, None, &views::notice(None));
            frames
        }
        Err(err) => notice(&format!("Command not run: {}", refusal(&err))),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadQuery {
    message: MessageId,
}

/// `POST /channels/{id}/read?message=…`: a visible tab saw the channel up to `message`;
/// the api tells the viewer's other tabs (`read.updated`), which clear its badges.
pub async fn mark_read(viewer: Viewer, Path(id): Path<ChannelId>, Query(query): Query<ReadQuery>) -> Frames {
    match viewer.api.mark_read(id, query.message).await {
        Ok(_) => Frames::new(),
        Err(err) => notice(&format!("Could not mark the channel read: {}", refusal(&err))),
    }
}

#[derive(Deserialize)]
pub struct DatastarQuery {
    /// The signals a Datastar GET sends, as JSON.
    datastar: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchSignals {
    q: String,
    /// Which opening of the overlay asks (`views::search::OPEN_SEARCH` sets it; 0 or none:
    /// not said): its keystrokes share one read of the switcher's directory.
    #[serde(default)]
    qo: Option<u64>,
}

/// `GET /search` (the overlay, with its `q` and `qo` signals): the results, each a link to
/// its channel around it; a refused query shows the api's reason. The channels and
/// conversations it matches (and `me`) are read once per opening of the overlay.
pub async fn search(
    viewer: Viewer,
    State(openings): State<Openings>,
    Query(query): Query<DatastarQuery>,
) -> Result<Frames, ApiError> {
    let signals: SearchSignals = serde_json::from_str(&query.datastar)
        .map_err(|err| ApiError::bad_request(ErrorCode::InvalidQuery, format!("signals: {err}")))?;
    let mut frames = Frames::new();
    if signals.q.trim().is_empty() {
        frames.patch(Mode::Outer, None, &search::search_results(None, &[], &[]));
        return Ok(frames);
    }
    let request = SearchQuery { q: signals.q.clone(), before: None, limit: Some(20), sort: None, tz: None };
    let (hits, directory) = tokio::join!(
        viewer.api.search(&request),
        openings.directory(&viewer.api, &viewer.token, signals.qo.filter(|opening| *opening != 0))
    );
    let places = directory.as_ref().map(|directory| matching_places(directory, &signals.q)).unwrap_or_default();
    let (hits, directory) = match (hits, directory) {
        (Ok(hits), Ok(directory)) => (hits.data, directory),
        (Err(err), _) | (_, Err(err)) => {
            frames.patch(Mode::Outer, None, &search::search_results(Some(&refusal(&err)), &places, &[]));
            return Ok(frames);
        }
    };
    let time_format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    let views: Vec<search::HitView<'_>> = hits
        .iter()
        .map(|hit| {
            let href = place_href(&directory.me, &hit.channel, hit.around, hit.message.parent_id);
            let place = match &hit.channel.name {
                Some(name) if matches!(hit.channel.kind, ChannelKind::Public | ChannelKind::Private) => {
                    format!("#{name}")
                }
                _ => "Direct message".to_owned(),
            };
            let author = hit.message.author.bot.as_ref().map_or(&hit.message.author.display_name, |bot| &bot.name);
            search::HitView {
                href,
                place,
                author,
                time: hit.message.created_at.format(time_format).unwrap_or_default(),
                snippet: &hit.snippet,
            }
        })
        .collect();
    frames.patch(Mode::Outer, None, &search::search_results(None, &places, &views));
    Ok(frames)
}

/// At most this many channels and conversations lead the results.
const PLACES: usize = 6;

/// The quick switcher: the viewer's channels (in every community, archived ones left out)
/// and conversations whose name holds `q` (case-insensitive; `#` ignored), best first —
/// names that start with it, then shorter ones. A query with operators (`from:`, a phrase,
/// `-word`) is a message search only.
fn matching_places(directory: &Directory, q: &str) -> Vec<search::PlaceView> {
    let needle = q.trim().trim_start_matches('#').to_lowercase();
    if needle.is_empty() || needle.contains([':', '"', ' ']) || needle.starts_with('-') {
        return Vec::new();
    }
    let me = &directory.me;
    let mut found: Vec<(bool, usize, search::PlaceView)> = Vec::new();
    for (community, items) in &directory.lists {
        let community = community.as_ref();
        for item in items.iter().filter(|item| item.channel.archived_at.is_none()) {
            let label = views::shell::channel_label(&item.channel, &item.members, &me.user);
            let name = label.trim_start_matches('#').to_lowercase();
            if !name.contains(&needle) {
                continue;
            }
            let detail = community.map_or_else(|| "Direct message".to_owned(), |c| c.name.clone());
            let href = views::shell::channel_href(&item.channel, community);
            found.push((!name.starts_with(&needle), name.len(), search::PlaceView { href, label, detail }));
        }
    }
    found.sort_by_key(|(later, len, _)| (*later, *len));
    found.into_iter().take(PLACES).map(|(_, _, place)| place).collect()
}

/// Where a message opens: its channel's page around it (`around`, a root), with its
/// thread (`parent`) for a reply.
fn place_href(me: &Me, channel: &NotificationChannel, around: MessageId, parent: Option<MessageId>) -> String {
    let community = me.communities.iter().find(|c| Some(c.id) == channel.community_id);
    let base = match (channel.kind, community, &channel.name) {
        (ChannelKind::Public | ChannelKind::Private, Some(community), Some(name)) => {
            format!("/c/{}/{name}", community.slug)
        }
        _ => format!("/dm/{}", channel.id),
    };
    match parent {
        Some(parent) => format!("{base}?around={parent}&thread={parent}"),
        None => format!("{base}?around={around}"),
    }
}

/// `GET /communities/{id}/members`: the member list, with each member's presence.
pub async fn list_members(viewer: Viewer, Path(id): Path<CommunityId>) -> Frames {
    let members = match viewer.api.list_community_members(id).await {
        Ok(members) => members.data,
        Err(err) => return notice(&refusal(&err)),
    };
    let ids: Vec<UserId> = members.iter().map(|member| member.user.id).collect();
    let presence = match viewer.api.get_presence(&ids).await {
        Ok(presence) => presence.data,
        Err(err) => return notice(&refusal(&err)),
    };
    let presence: serde_json::Map<String, serde_json::Value> =
        presence.iter().map(|p| (people::presence_key(p.user_id), serde_json::Value::Bool(p.online))).collect();
    let mut frames = Frames::new();
    frames.signals(&serde_json::json!({ "_presence": presence })).patch(
        Mode::Outer,
        None,
        &people::member_list(&members),
    );
    frames
}

/// The inbox's newest notifications and the bell's count.
async fn inbox(viewer: &Viewer) -> Frames {
    let query = NotificationQuery { unread: None, before: None, limit: Some(30) };
    let unread = NotificationQuery { unread: Some(true), before: None, limit: Some(100) };
    let (notifications, unread, me) =
        tokio::join!(viewer.api.list_notifications(&query), viewer.api.list_notifications(&unread), viewer.api.me());
    let (notifications, unread, me) = match (notifications, unread, me) {
        (Ok(notifications), Ok(unread), Ok(me)) => (notifications.data, unread.data.len(), me),
        (Err(err), ..) | (_, Err(err), _) | (.., Err(err)) => return notice(&refusal(&err)),
    };
    let views: Vec<people::NotificationView<'_>> = notifications
        .iter()
        .map(|notification| people::NotificationView {
            notification,
            href: match (&notification.channel, notification.message_id) {
                (Some(channel), Some(message)) => Some(place_href(&me, channel, message, notification.parent_id)),
                _ => None,
            },
        })
        .collect();
    let mut frames = Frames::new();
    frames.patch(Mode::Outer, None, &people::inbox_list(&views)).patch(
        Mode::Outer,
        None,
        &people::notification_count(unread),
    );
    frames
}

/// `GET /notifications`: the inbox.
pub async fn list_notifications(viewer: Viewer) -> Frames {
    inbox(&viewer).await
}

/// `POST /notifications/read`: marks every notification read (the viewer's other tabs
/// hear of it) and shows the inbox again.
pub async fn read_notifications(viewer: Viewer) -> Frames {
    let request = ReadNotificationsRequest { ids: None, all: Some(true), channel_id: None };
    if let Err(err) = viewer.api.read_notifications(&request).await {
        return notice(&format!("Not marked read: {}", refusal(&err)));
    }
    inbox(&viewer).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThemeQuery {
    theme: String,
}

/// `POST /theme?theme=system|light|dark`: remembers the viewer's theme in this browser
/// for a year (the page has already applied it).
pub async fn set_theme(_viewer: Viewer, Query(query): Query<ThemeQuery>) -> Result<Response, ApiError> {
    let cookie = match (query.theme.as_str(), Theme::parse(&query.theme)) {
        (_, Some(theme)) => {
            format!("{THEME_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly", theme.as_str())
        }
        ("system", None) => format!("{THEME_COOKIE}=; Path=/; Max-Age=0; SameSite=Lax; HttpOnly"),
        _ => {
            return Err(ApiError::bad_request(ErrorCode::InvalidQuery, "theme: one of system, light, dark"));
        }
    };
    let cookie = axum::http::HeaderValue::from_str(&cookie).map_err(ApiError::internal)?;
    Ok(([(axum::http::header::SET_COOKIE, cookie)], Frames::new()).into_response())
}

/// The reply composer's signals.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComposeReply {
    rbody: String,
    rcmid: String,
}

/// `POST /channels/{id}/threads/{root}?files=…`: sends the reply composer's body with its
/// uploaded files into the thread, as the channel's composer sends (`post`). The reply
/// reaches the panel (and the root's summary) through the live stream.
pub async fn send_reply(
    State(streams): State<Streams<NatsBus>>,
    viewer: Viewer,
    Path((channel, root)): Path<(ChannelId, MessageId)>,
    Query(query): Query<SendQuery>,
    body: Bytes,
) -> Result<Frames, ApiError> {
    let Json(compose) = Json::<ComposeReply>::from_bytes(&body).map_err(ApiError::from)?;
    let attachment_ids = query.attachment_ids()?;
    if compose.rbody.trim().is_empty() {
        return Ok(if attachment_ids.is_empty() {
            Frames::new()
        } else {
            notice("Add a few words to send with the files.")
        });
    }
    let request = CreateMessageRequest {
        body_md: compose.rbody,
        parent_id: Some(root),
        client_msg_id: Some(compose.rcmid),
        attachment_ids,
    };
    let cleared = serde_json::json!({ "rbody": "", "rcmid": uuid::Uuid::now_v7().to_string(), "_rtypedAt": 0 });
    Ok(post(&streams, &viewer, channel, &request, &cleared, "Reply not sent").await)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct React {
    emoji: String,
    add: bool,
}

/// The message as the viewer now sees it.
async fn refreshed(viewer: &Viewer, id: MessageId) -> Result<Frames, ClientError> {
    let found = viewer.api.get_message(id).await?;
    let me = viewer.api.me().await?.user.id;
    let mut frames = Frames::new();
    frames.patch(Mode::Outer, None, &views::message_item(&MessageView::from(&found), me));
    Ok(frames)
}

/// `POST /messages/{id}/react?emoji=…&add=true|false`: adds or removes the viewer's
/// reaction and answers with the message as the viewer now sees it.
pub async fn react(viewer: Viewer, Path(id): Path<MessageId>, Query(react): Query<React>) -> Frames {
    let done = if react.add {
        viewer.api.add_reaction(id, &react.emoji).await
    } else {
        viewer.api.remove_reaction(id, &react.emoji).await
    };
    if let Err(err) = done {
        return notice(&format!("Reaction not saved: {}", refusal(&err)));
    }
    refreshed(&viewer, id).await.unwrap_or_else(|err| notice(&refusal(&err)))
}

/// `POST /messages/{id}/pin` and `/unpin`: answers with the message and the pins bar.
async fn set_pin(viewer: &Viewer, id: MessageId, pin: bool) -> Frames {
    let done = if pin { viewer.api.pin_message(id).await } else { viewer.api.unpin_message(id).await };
    if let Err(err) = done {
        return notice(&format!("Not {}: {}", if pin { "pinned" } else { "unpinned" }, refusal(&err)));
    }
    let found = match viewer.api.get_message(id).await {
        Ok(found) => found,
        Err(err) => return notice(&refusal(&err)),
    };
    let (me, pins) = tokio::join!(viewer.api.me(), viewer.api.list_pins(found.channel_id));
    match (me, pins) {
        (Ok(me), Ok(pins)) => {
            let pin_views: Vec<MessageView<'_>> = pins.data.iter().map(MessageView::from).collect();
            let mut frames = Frames::new();
            frames.patch(Mode::Outer, None, &views::message_item(&MessageView::from(&found), me.user.id)).patch(
                Mode::Outer,
                None,
                &views::pins_bar(&pin_views),
            );
            frames
        }
        (Err(err), _) | (_, Err(err)) => notice(&refusal(&err)),
    }
}

/// `POST /messages/{id}/pin`.
pub async fn pin_message(viewer: Viewer, Path(id): Path<MessageId>) -> Frames {
    set_pin(&viewer, id, true).await
}

/// `POST /messages/{id}/unpin`.
pub async fn unpin_message(viewer: Viewer, Path(id): Path<MessageId>) -> Frames {
    set_pin(&viewer, id, false).await
}

/// `GET /messages/{id}`: the message as shown (cancels an edit).
pub async fn show_message(viewer: Viewer, Path(id): Path<MessageId>) -> Frames {
    match viewer.api.get_message(id).await {
        Ok(found) => {
            let me = match viewer.api.me().await {
                Ok(me) => me.user.id,
                Err(err) => return notice(&refusal(&err)),
            };
            let mut frames = Frames::new();
            frames.patch(Mode::Outer, None, &views::message_item(&MessageView::from(&found), me));
            frames
        }
        Err(err) => notice(&refusal(&err)),
    }
}

/// `GET /messages/{id}/edit`: the message as an edit form.
pub async fn edit_message_form(viewer: Viewer, Path(id): Path<MessageId>) -> Frames {
    match viewer.api.get_message(id).await {
        Ok(found) => {
            let mut frames = Frames::new();
            frames.patch(Mode::Outer, None, &message::edit_form(&MessageView::from(&found)));
            frames
        }
        Err(err) => notice(&refusal(&err)),
    }
}

#[derive(Deserialize)]
pub struct Edit {
    body: String,
}

/// `POST /messages/{id}/edit` (form-encoded): saves the edit.
pub async fn edit_message(viewer: Viewer, Path(id): Path<MessageId>, Form(edit): Form<Edit>) -> Frames {
    match viewer.api.update_message(id, &edit.body).await {
        Ok(updated) => {
            let viewer_id = updated.author.user_id;
            let mut frames = Frames::new();
            if let Some(viewer_id) = viewer_id {
                frames.patch(Mode::Outer, None, &views::message_item(&MessageView::from(&updated), viewer_id));
            }
            frames.patch(Mode::Outer, None, &views::notice(None));
            frames
        }
        Err(err) => notice(&format!("Not saved: {}", refusal(&err))),
    }
}

/// `POST /messages/{id}/delete`.
pub async fn delete_message(viewer: Viewer, Path(id): Path<MessageId>) -> Frames {
    match viewer.api.delete_message(id).await {
        Ok(()) => {
            let mut frames = Frames::new();
            frames.patch(Mode::Outer, None, &message::tombstone(id));
            frames
        }
        Err(err) => notice(&format!("Not deleted: {}", refusal(&err))),
    }
}
