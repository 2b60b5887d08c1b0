//! The network side: each `Effect` runs in its own task through the typed client (with a
//! time limit) and answers with a `Msg`; `follow` keeps the `/tui/events` stream open
//! through `tail.rs`'s `Reader` (the one-shots' reconnecting reader: `Last-Event-ID`, each
//! event once, backoff up to 10 s) and reports the connection's state. Typing signals are throttled here, at most one per channel
//! every three seconds. Nothing here runs on the draw loop.

use std::time::Duration;

use ajet_shared::api::wire::{
    CreateMessageRequest, HistoryQuery, NotificationQuery, ReadNotificationsRequest, SearchQuery,
    UpdatePreferencesRequest,
};
use ajet_shared::client::{ApiClient, ClientError};
use ajet_shared::domain::ids::{ChannelId, UserId};
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::{Instant, timeout};

use super::app::{Connection, Effect, HISTORY_PAGE, LiveItem, Msg, PreferenceChange};
use crate::tail::{Delivery, Reader};

/// How long one request may take before it counts as failed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// At most one typing signal per channel this often.
const TYPING_EVERY: Duration = Duration::from_secs(3);

/// Runs effects; owns their tasks (all aborted when it is dropped).
pub struct Net {
    client: ApiClient,
    answers: mpsc::Sender<Msg>,
    tasks: JoinSet<()>,
    last_typing: Option<(ChannelId, Instant)>,
}

impl Net {
    pub fn new(client: ApiClient, answers: mpsc::Sender<Msg>) -> Self {
        Self { client, answers, tasks: JoinSet::new(), last_typing: None }
    }

    pub fn run(&mut self, effect: Effect) {
        // Reap finished tasks so the set does not grow.
        while self.tasks.try_join_next().is_some() {}
        match effect {
            Effect::Quit => return,
            Effect::Typing(channel) => {
                let now = Instant::now();
                if self.last_typing.is_some_and(|(c, at)| c == channel && now.duration_since(at) < TYPING_EVERY) {
                    return;
                }
                self.last_typing = Some((channel, now));
            }
            Effect::Send { channel, .. } if self.last_typing.is_some_and(|(c, _)| c == channel) => {
                self.last_typing = None;
            }
            _ => {}
        }
        let client = self.client.clone();
        let answers = self.answers.clone();
        self.tasks.spawn(async move {
            let msg = match timeout(REQUEST_TIMEOUT, perform(&client, effect)).await {
                Ok(msg) => msg,
                Err(_) => Some(Msg::Failed("the server did not answer in time".to_owned())),
            };
            if let Some(msg) = msg {
                // The loop is gone only when quitting.
                drop(answers.send(msg).await);
            }
        });
    }
}

/// A refusal or transport failure in words for the status line.
pub fn describe(err: &ClientError) -> String {
    match err {
        ClientError::Api { body, .. } => body.error.message.clone(),
        ClientError::Transport(err) if err.is_connect() => "cannot reach the server".to_owned(),
        ClientError::Transport(err) if err.is_timeout() => "the server did not answer in time".to_owned(),
        ClientError::Transport(_) => "the connection failed".to_owned(),
    }
}

async fn perform(client: &ApiClient, effect: Effect) -> Option<Msg> {
    let failed = |err: ClientError| Some(Msg::Failed(describe(&err)));
    match effect {
        Effect::LoadMe => client.me().await.map_or_else(failed, |me| Some(Msg::Me(me))),
        Effect::LoadChannels(community) => {
            client.list_channels(community).await.map_or_else(failed, |page| Some(Msg::Channels(community, page.data)))
        }
        Effect::LoadDms => client.list_dms().await.map_or_else(failed, |page| Some(Msg::Dms(page.data))),
        Effect::LoadHistory { channel, around } => {
            let query = HistoryQuery { around, limit: Some(HISTORY_PAGE), ..HistoryQuery::default() };
            client
                .history(channel, &query)
                .await
                .map_or_else(failed, |page| Some(Msg::History { channel, messages: page.data, around }))
        }
        Effect::LoadOlder { channel, before } => {
            let query = HistoryQuery { before: Some(before), limit: Some(HISTORY_PAGE), ..HistoryQuery::default() };
            client
                .history(channel, &query)
                .await
                .map_or_else(failed, |page| Some(Msg::Older { channel, messages: page.data }))
        }
        Effect::LoadReplies(root) => {
            let query = HistoryQuery { limit: Some(100), ..HistoryQuery::default() };
            client
                .list_replies(root, &query)
                .await
                .map_or_else(failed, |page| Some(Msg::Replies { root, messages: page.data }))
        }
        Effect::LoadRoot(root) => {
            client.get_message(root).await.map_or_else(failed, |message| Some(Msg::Root(message)))
        }
        Effect::LoadMembers(community) => client
            .list_community_members(community)
            .await
            .map_or_else(failed, |page| Some(Msg::Members(community, page.data))),
        Effect::LoadCommands(channel) => {
            client.list_commands(channel).await.map_or_else(failed, |commands| Some(Msg::Commands(commands)))
        }
        Effect::LoadPresence(users) => presence(client, &users).await,
        Effect::LoadNotifications => {
            let query = NotificationQuery { limit: Some(50), ..NotificationQuery::default() };
            client.list_notifications(&query).await.map_or_else(failed, |page| Some(Msg::Notifications(page.data)))
        }
        Effect::Send { channel, body, parent, client_msg_id } => {
            let request = CreateMessageRequest {
                body_md: body,
                parent_id: parent,
                client_msg_id: Some(client_msg_id.clone()),
                attachment_ids: Vec::new(),
            };
            let result = client.send_message(channel, &request).await.map_err(|err| describe(&err));
            Some(Msg::Sent { client_msg_id, result })
        }
        Effect::Edit { message, body } => {
            let result = client.update_message(message, &body).await.map(drop).map_err(|err| describe(&err));
            Some(Msg::Edited { message, result })
        }
        Effect::Delete(message) => client.delete_message(message).await.err().and_then(failed),
        Effect::React { message, emoji, add } => {
            let result = if add {
                client.add_reaction(message, &emoji).await
            } else {
                client.remove_reaction(message, &emoji).await
            };
            result.err().and_then(failed)
        }
        Effect::RunCommand { channel, text } => {
            let result = client.run_command(channel, &text).await.map_err(|err| describe(&err));
            Some(Msg::CommandRan { channel, result })
        }
        Effect::MarkRead { channel, message } => client.mark_read(channel, message).await.err().and_then(failed),
        Effect::MarkNotificationsRead => {
            let request = ReadNotificationsRequest { all: Some(true), ..ReadNotificationsRequest::default() };
            if let Err(err) = client.read_notifications(&request).await {
                return failed(err);
            }
            let query = NotificationQuery { limit: Some(50), ..NotificationQuery::default() };
            client.list_notifications(&query).await.map_or_else(failed, |page| Some(Msg::Notifications(page.data)))
        }
        Effect::SetPreference { channel, change } => {
            let request = match change {
                PreferenceChange::Starred(starred) => {
                    UpdatePreferencesRequest { starred: Some(starred), ..UpdatePreferencesRequest::default() }
                }
                PreferenceChange::MutedUntil(until) => {
                    UpdatePreferencesRequest { muted_until: Some(until), ..UpdatePreferencesRequest::default() }
                }
                PreferenceChange::NotifyLevel(level) => {
                    UpdatePreferencesRequest { notify_level: Some(level), ..UpdatePreferencesRequest::default() }
                }
            };
            client.update_preferences(channel, &request).await.map_or_else(
                |err| Some(Msg::Failed(format!("preferences not changed: {}", describe(&err)))),
                |preferences| Some(Msg::Preferences(preferences)),
            )
        }
        // Refused while no stream of ours is open yet: it is sent again each time one opens.
        Effect::Focus(channel) => {
            drop(client.tui_focus(channel).await);
            None
        }
        // A lost typing signal is harmless; not worth a notice.
        Effect::Typing(channel) => {
            drop(client.tui_typing(channel, true).await);
            None
        }
        Effect::Search(q) => {
            let query = SearchQuery { q: q.clone(), limit: Some(30), ..SearchQuery::default() };
            client
                .search(&query)
                .await
                .map_or_else(failed, |page| Some(Msg::SearchResults { query: q, hits: page.data }))
        }
        Effect::Quit => None,
    }
}

async fn presence(client: &ApiClient, users: &[UserId]) -> Option<Msg> {
    let mut all = Vec::new();
    // The api takes a bounded list per request.
    for chunk in users.chunks(100) {
        match client.get_presence(chunk).await {
            Ok(page) => all.extend(page.data),
            Err(err) => return Some(Msg::Failed(describe(&err))),
        }
    }
    Some(Msg::Presence(all))
}

/// Says "I am here" every minute (presence), until aborted. Failures are left to the
/// stream's status: presence is not worth a notice of its own.
pub async fn heartbeat(client: ApiClient) {
    let mut every = tokio::time::interval(Duration::from_secs(60));
    loop {
        every.tick().await;
        drop(timeout(REQUEST_TIMEOUT, client.heartbeat()).await);
    }
}

/// Keeps the live stream open until the receiver is gone, through the one-shots' `Reader`
/// (`tail.rs`: resumes after the last event id, hands on each persisted event once, backs
/// off while the server is away), counting the wait down on the status line; stops for
/// good when the token is refused.
pub async fn follow(client: ApiClient, answers: mpsc::Sender<Msg>) {
    let mut reader = Reader::new(client);
    // While waiting to reconnect: when the next attempt is due, and why.
    let mut waiting: Option<(Instant, String)> = None;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        let msg = tokio::select! {
            delivery = reader.next() => match delivery {
                Ok(Delivery::Connected { .. }) => {
                    waiting = None;
                    Msg::Connection(Connection::Live)
                }
                Ok(Delivery::Event(event)) => Msg::Live(LiveItem::Event(event)),
                Ok(Delivery::Ephemeral { name, data }) => match ephemeral(&name, &data) {
                    Some(item) => Msg::Live(item),
                    None => continue,
                },
                Ok(Delivery::Resync) => Msg::Live(LiveItem::Resync),
                Ok(Delivery::Disconnected { reason, retry_in }) => {
                    waiting = Some((Instant::now() + retry_in, reason));
                    tick.reset_immediately();
                    continue;
                }
                Err(failure) => {
                    drop(answers.send(Msg::Connection(Connection::SignedOut(failure.to_string()))).await);
                    return;
                }
            },
            _ = tick.tick(), if waiting.is_some() => {
                let Some((due, reason)) = waiting.clone() else { continue };
                let left = due.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    waiting = None;
                    Msg::Connection(Connection::Connecting)
                } else {
                    Msg::Connection(Connection::Reconnecting { in_secs: left.as_secs().max(1), reason })
                }
            }
        };
        if answers.send(msg).await.is_err() {
            return;
        }
    }
}

#[derive(Deserialize)]
struct TypingData {
    channel_id: ChannelId,
    user_id: UserId,
    display_name: String,
}

#[derive(Deserialize)]
struct PresenceData {
    #[serde(default)]
    online: Vec<UserId>,
    #[serde(default)]
    offline: Vec<UserId>,
}

/// An ephemeral event (not persisted: typing, presence) as a `LiveItem`; `None` for what
/// this client does not know (a newer server's event type), which it skips.
fn ephemeral(name: &str, data: &str) -> Option<LiveItem> {
    match name {
        "typing.started" | "typing.stopped" => {
            let data: TypingData = serde_json::from_str(data).ok()?;
            Some(LiveItem::Typing {
                channel_id: data.channel_id,
                user_id: data.user_id,
                display_name: data.display_name,
                typing: name == "typing.started",
            })
        }
        "presence.changed" => {
            let data: PresenceData = serde_json::from_str(data).ok()?;
            Some(LiveItem::Presence { online: data.online, offline: data.offline })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typing_and_presence_parse_and_unknown_ephemeral_types_are_skipped() {
        let channel = ChannelId::generate();
        let user = UserId::generate();
        let typing =
            format!(r#"{{"type":"typing.started","channel_id":"{channel}","user_id":"{user}","display_name":"Bob"}}"#);
        assert!(matches!(
            ephemeral("typing.started", &typing),
            Some(LiveItem::Typing { typing: true, channel_id, .. }) if channel_id == channel
        ));
        let presence = format!(r#"{{"type":"presence.changed","online":["{user}"],"offline":[]}}"#);
        assert!(matches!(
            ephemeral("presence.changed", &presence),
            Some(LiveItem::Presence { online, .. }) if online == [user]
        ));
        assert!(ephemeral("widget.spun", r#"{"type":"widget.spun"}"#).is_none());
        assert!(ephemeral("typing.started", "not json").is_none());
    }
}
