//! Ephemeral events: typing and presence. They travel on core NATS (never persisted, no
//! stream sequence, no replay) and reach connections through the hub's queues like
//! persisted events, but a full queue drops them rather than the connection.
//!
//! * Typing: a session manager publishes `{channel_id, user_id, typing}` on the channel's
//!   typing subject after checking its user may see the channel. Each process follows the
//!   typing subjects once (`run_typing`), expires a typing state after `typing_expiry` of
//!   silence (sending the stop itself), and routes each change to the connections
//!   registered for that channel's typing subject (members only; not the typist).
//! * Presence: the api publishes heartbeats on `chat.presence.{community}`. Each process
//!   collects them (`run_presence`) and once per interval pushes each connection a diff of
//!   who came online or went offline among the members of its communities, never raw
//!   heartbeats.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt as _;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::domain::ids::{ChannelId, CommunityId, UserId};
use crate::events::subject;
use crate::stream::hub::Hub;

/// Seen within this long: online (as the api's `GET /api/presence` says).
pub const ONLINE_WITHIN: Duration = Duration::from_secs(120);

/// What a session manager publishes on a typing subject.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypingSignal {
    pub channel_id: ChannelId,
    pub user_id: UserId,
    /// The typist's display name, so clients need no lookup to say who is typing.
    pub display_name: String,
    pub typing: bool,
}

/// A change of someone's typing state in a channel, as connections get it.
#[derive(Debug)]
pub struct Typing {
    pub channel_id: ChannelId,
    pub user_id: UserId,
    pub display_name: String,
    pub typing: bool,
    frame: OnceLock<Bytes>,
}

impl Typing {
    #[must_use]
    pub fn new(signal: &TypingSignal, typing: bool) -> Self {
        Self {
            channel_id: signal.channel_id,
            user_id: signal.user_id,
            display_name: signal.display_name.clone(),
            typing,
            frame: OnceLock::new(),
        }
    }

    /// `typing.started` or `typing.stopped`.
    #[must_use]
    pub fn event_type(&self) -> &'static str {
        if self.typing { "typing.started" } else { "typing.stopped" }
    }

    /// The SSE frame (no `id:`: ephemeral events have no resume position), built once.
    pub fn sse_frame(&self) -> Bytes {
        self.frame
            .get_or_init(|| {
                let data = serde_json::json!({
                    "type": self.event_type(),
                    "channel_id": self.channel_id,
                    "user_id": self.user_id,
                    "display_name": self.display_name,
                });
                Bytes::from(format!("event: {}\ndata: {data}\n\n", self.event_type()))
            })
            .clone()
    }
}

/// Who came online and who went offline since the last diff, among the users relevant to
/// one connection.
#[derive(Debug, Default, PartialEq, Eq, Serialize)]
pub struct PresenceDiff {
    pub online: Vec<UserId>,
    pub offline: Vec<UserId>,
}

impl PresenceDiff {
    /// The SSE frame: `event: presence.changed` with the two lists.
    #[must_use]
    pub fn sse_frame(&self) -> Bytes {
        let data = serde_json::json!({"type": "presence.changed", "online": self.online, "offline": self.offline});
        Bytes::from(format!("event: presence.changed\ndata: {data}\n\n"))
    }
}

/// Follows every typing subject for this process until `shutdown`: routes each start and
/// stop to the connections of the channel's typing subject, and sends the stop itself for
/// a typist silent for `expiry`.
pub async fn run_typing(hub: Hub, client: async_nats::Client, expiry: Duration, shutdown: CancellationToken) {
    let mut typists: HashMap<(ChannelId, UserId), (Instant, String, TypingSignal)> = HashMap::new();
    let mut sweep = tokio::time::interval(expiry.min(Duration::from_secs(1)));
    loop {
        let mut signals = match client.subscribe("chat.typing.>").await {
            Ok(signals) => signals,
            Err(err) => {
                tracing::warn!(error = %err, "cannot follow typing; retrying");
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                }
            }
        };
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = sweep.tick() => {
                    let now = Instant::now();
                    typists.retain(|_, (at, subject, signal)| {
                        let fresh = now.duration_since(*at) < expiry;
                        if !fresh {
                            hub.dispatch_typing(subject, &Arc::new(Typing::new(signal, false)));
                        }
                        fresh
                    });
                }
                message = signals.next() => {
                    let Some(message) = message else { break };
                    let Ok(signal) = serde_json::from_slice::<TypingSignal>(&message.payload) else { continue };
                    let subject = message.subject.to_string();
                    // Only what the subject names: a signal cannot reach another channel's members.
                    if subject::typing_channel(&subject) != Some(signal.channel_id) {
                        continue;
                    }
                    let key = (signal.channel_id, signal.user_id);
                    let known = if signal.typing {
                        typists.insert(key, (Instant::now(), subject.clone(), signal.clone())).is_some()
                    } else {
                        typists.remove(&key).is_some()
                    };
                    // A refresh of a start goes out too: a stream opened while the typist
                    // was already typing learns it at the next refresh (streams that know
                    // it drop the repeat). A stop of someone not typing is not news.
                    if signal.typing || known {
                        hub.dispatch_typing(&subject, &Arc::new(Typing::new(&signal, signal.typing)));
                    }
                }
            }
        }
    }
}

/// Heartbeats collected between two diffs.
#[derive(Default)]
pub struct PresenceBook {
    /// When each user was last seen, and in which communities.
    seen: HashMap<UserId, (Instant, HashSet<CommunityId>)>,
    /// Who the last diff left online.
    online: HashSet<UserId>,
}

impl PresenceBook {
    /// Notes a heartbeat of `user` in `community`.
    pub fn heard(&mut self, user: UserId, community: CommunityId, at: Instant) {
        let (seen, communities) = self.seen.entry(user).or_insert_with(|| (at, HashSet::new()));
        *seen = at;
        communities.insert(community);
    }

    /// Who came online and who went offline since the last call, per community.
    pub fn changes(&mut self, now: Instant) -> HashMap<CommunityId, PresenceDiff> {
        let mut changes: HashMap<CommunityId, PresenceDiff> = HashMap::new();
        let mut online = HashSet::new();
        for (user, (at, communities)) in &self.seen {
            let is_online = now.duration_since(*at) < ONLINE_WITHIN;
            if is_online {
                online.insert(*user);
            }
            if is_online != self.online.contains(user) {
                for community in communities {
                    let diff = changes.entry(*community).or_default();
                    if is_online { diff.online.push(*user) } else { diff.offline.push(*user) }
                }
            }
        }
        // Who went offline is forgotten (a new heartbeat brings them back).
        self.seen.retain(|user, _| online.contains(user));
        self.online = online;
        changes
    }
}

/// Collects heartbeats for this process until `shutdown` and pushes every connection, each
/// `every`, the changes among the members of its communities (not the connection's own
/// user).
pub async fn run_presence(hub: Hub, client: async_nats::Client, every: Duration, shutdown: CancellationToken) {
    #[derive(Deserialize)]
    struct Heartbeat {
        user_id: UserId,
    }
    let mut book = PresenceBook::default();
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let mut beats = match client.subscribe("chat.presence.>").await {
            Ok(beats) => beats,
            Err(err) => {
                tracing::warn!(error = %err, "cannot follow presence; retrying");
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                }
            }
        };
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = tick.tick() => {
                    let changes = book.changes(Instant::now());
                    if !changes.is_empty() {
                        hub.dispatch_presence(&changes);
                    }
                }
                message = beats.next() => {
                    let Some(message) = message else { break };
                    let (Some(community), Ok(beat)) = (
                        subject::presence_community(&message.subject),
                        serde_json::from_slice::<Heartbeat>(&message.payload),
                    ) else {
                        continue;
                    };
                    book.heard(beat.user_id, community, Instant::now());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_presence_diff_names_each_change_once_per_community_and_forgets_who_left() {
        let mut book = PresenceBook::default();
        let (alice, bob) = (UserId::generate(), UserId::generate());
        let (one, two) = (CommunityId::generate(), CommunityId::generate());
        let start = Instant::now();
        book.heard(alice, one, start);
        book.heard(alice, two, start);
        book.heard(alice, one, start);
        book.heard(bob, one, start);
        let changes = book.changes(start);
        assert_eq!(changes[&one].online.len(), 2, "many heartbeats, one change each");
        assert_eq!(changes[&two].online, [alice]);
        // Bob keeps beating; Alice falls silent.
        book.heard(bob, one, start + ONLINE_WITHIN);
        let later = book.changes(start + ONLINE_WITHIN + Duration::from_secs(1));
        assert_eq!(later[&one], PresenceDiff { online: vec![], offline: vec![alice] });
        assert_eq!(later[&two], PresenceDiff { online: vec![], offline: vec![alice] });
        let last = book.changes(start + ONLINE_WITHIN * 2);
        assert_eq!(last[&one], PresenceDiff { online: vec![], offline: vec![bob] });
        assert!(book.changes(start + ONLINE_WITHIN * 3).is_empty(), "nothing changed since");
    }
}
