//! One connection's stream, independent of its transport: `StreamSession::next` yields
//! `Event | Resync | Idle | End` items and the session manager maps them to its wire format
//! (JSON SSE events in tui-sm, HTML fragments in web-sm).
//!
//! The algorithm: (1) note the hub's position, then read what the connection may see
//! (`Opening`); (2) register with the hub, so live events queue up — after the ones since
//! the older of the client's position and the access read's that the hub still holds in
//! memory; (3) if it no longer holds them, replay them from the stream, filtered to what the
//! connection may see; (4) go live. Every event, replayed, caught up or live, is *followed*
//! once, in stream order (copies are skipped by sequence): the user's own joins, leaves,
//! removals and new channels change what the connection sees at that event, and events up to
//! the client's position are only followed, never handed out. A position the stream no
//! longer holds gets an explicit `Resync` first.
//!
//! Access also comes from the credential's shared check (`stream::access`): periodic, and at
//! once when the user's own subject says something changed. A refusal ends the session,
//! more access than before yields a `Resync`, less narrows it at once, a check that started
//! before the session last followed an event by itself is stale and replaced by a fresh
//! one (it could re-open a channel the user was just removed from), and access that cannot
//! be confirmed for `unconfirmed_limit` ends the session (fail closed).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt as _;
use futures::stream::BoxStream;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::api::wire::Me;
use crate::config::Config;
use crate::domain::ids::{ChannelId, CommunityId, UserId};
use crate::events::StreamPosition;
use crate::events::bus::{BusError, Delivered, EventBus, Replay};
use crate::events::subject;
use crate::stream::access::{Access, AccessFeed, Checked};
use crate::stream::ephemeral::{PresenceDiff, Typing};
use crate::stream::hub::{Hub, HubEvent, Queued, Registration, TooManyStreams};

/// How far behind the live edge (in stream sequences) a client may resume with a replay;
/// further back it gets a `Resync` and refetches.
pub const MAX_REPLAY: u64 = 100_000;

/// Events of a public channel its user has not joined that still reach a connection: the
/// channel-level ones a sidebar needs.
const CHANNEL_LEVEL: [&str; 3] = ["channel.created", "channel.updated", "channel.archived"];

/// What one connection may see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Visible {
    /// The connection's user.
    pub user: UserId,
    /// Every subject whose events it receives (its own notifications subject included).
    pub subjects: Vec<String>,
    /// The user's own notifications subject.
    pub own: String,
    /// The public channels the user has joined: of the others, only channel-level events
    /// (and the user's own membership changes) reach the connection.
    pub joined: HashSet<ChannelId>,
    /// Every channel the user is a member of (joined public, private, DMs) with its
    /// community (`None` for a DM): whose typing the connection sees, and where the user may
    /// type.
    pub member_of: HashMap<ChannelId, Option<CommunityId>>,
}

impl Visible {
    /// Exactly what a user may see: their communities' public events, their own private
    /// channels and DMs, and their own notifications; of the public channels' traffic,
    /// only the joined channels'.
    #[must_use]
    pub fn of(me: &Me) -> Self {
        let own = subject::notifications(me.user.id);
        let mut subjects: Vec<String> = me.communities.iter().map(|c| subject::community(c.id)).collect();
        subjects.extend(me.private_channels.iter().map(|c| subject::of_channel(c.id, c.kind, c.community_id)));
        subjects.push(own.clone());
        let joined = me.public_channels.iter().map(|c| c.id).collect();
        let member_of = me.public_channels.iter().chain(&me.private_channels).map(|c| (c.id, c.community_id)).collect();
        Self { user: me.user.id, subjects, own, joined, member_of }
    }

    fn allows(&self, subject: &str) -> bool {
        self.subjects.iter().any(|s| s == subject)
    }

    /// What the connection is registered for in the hub: its subjects and the typing
    /// subjects of the channels it is a member of.
    #[must_use]
    pub fn routes(&self) -> Vec<String> {
        let typing = self.member_of.iter().map(|(channel, community)| match community {
            Some(community) => subject::typing(*community, *channel),
            None => subject::typing_dm(*channel),
        });
        self.subjects.iter().cloned().chain(typing).collect()
    }

    /// True if `event` goes to this connection.
    #[must_use]
    pub fn wants(&self, event: &HubEvent) -> bool {
        if !self.allows(&event.subject) {
            return false;
        }
        match event.channel_id {
            Some(channel) if subject::is_community(&event.subject) && !self.joined.contains(&channel) => {
                CHANNEL_LEVEL.contains(&event.event_type.as_str()) || event.member == Some(self.user)
            }
            _ => true,
        }
    }

    /// Follows the user's own joins, leaves, removals and new channels as they stream by
    /// (on a channel's or community's subject, or the user's own), so what comes next is
    /// delivered or not without waiting for a re-check. True if anything changed.
    fn follow(&mut self, event: &HubEvent) -> bool {
        let own_membership = event.member == Some(self.user);
        match (event.event_type.as_str(), event.channel_id) {
            ("member.joined", Some(channel)) if own_membership && subject::is_community(&event.subject) => {
                self.member_of.insert(channel, event.community_id);
                self.joined.insert(channel)
            }
            ("channel.created", Some(channel))
                if event.actor_id == Some(self.user) && subject::is_community(&event.subject) =>
            {
                self.member_of.insert(channel, event.community_id);
                self.joined.insert(channel)
            }
            ("member.left" | "member.removed", Some(channel)) if own_membership => {
                let left = self.joined.remove(&channel) | self.member_of.remove(&channel).is_some();
                let gone = [subject::private_channel(channel), subject::dm(channel)];
                self.drop_subjects(&gone) || left
            }
            ("member.left" | "member.removed", None) if own_membership => match event.community_id {
                Some(community) => {
                    let channels: Vec<ChannelId> =
                        self.member_of.iter().filter(|(_, c)| **c == Some(community)).map(|(id, _)| *id).collect();
                    for channel in &channels {
                        self.member_of.remove(channel);
                        self.joined.remove(channel);
                    }
                    let gone: Vec<String> = channels
                        .iter()
                        .map(|c| subject::private_channel(*c))
                        .chain([subject::community(community)])
                        .collect();
                    self.drop_subjects(&gone) || !channels.is_empty()
                }
                None => false,
            },
            _ => false,
        }
    }

    fn drop_subjects(&mut self, gone: &[String]) -> bool {
        let before = self.subjects.len();
        self.subjects.retain(|s| !gone.contains(s));
        self.subjects.len() != before
    }
}

/// The session's timing and sizes.
#[derive(Clone, Copy, Debug)]
pub struct SessionConfig {
    /// Live events a connection may have queued before it is dropped for falling behind.
    pub queue_len: usize,
    /// How long access may go unconfirmed before the session ends.
    pub unconfirmed_limit: Duration,
    /// How long a replay may wait for its next event before the session ends.
    pub replay_stall: Duration,
    /// After this long without an item, `Idle` is yielded (for a keep-alive).
    pub idle_after: Duration,
    /// Streams one user may hold open in this process.
    pub max_per_user: usize,
}

impl SessionConfig {
    #[must_use]
    pub fn from_config(config: &Config) -> Self {
        Self {
            queue_len: config.sse_queue_len,
            unconfirmed_limit: Duration::from_secs(5),
            replay_stall: Duration::from_secs(5),
            idle_after: config.sse_keepalive(),
            max_per_user: usize::try_from(config.max_streams_per_user).unwrap_or(usize::MAX),
        }
    }
}

/// One item of a connection's stream.
#[derive(Debug)]
pub enum Item {
    /// An event the connection may see, newer than every one before it.
    Event(Arc<HubEvent>),
    /// The client must refetch: the stream no longer holds its position, or it can see
    /// more than before and the events of what it gained are not on this connection.
    Resync(&'static str),
    /// Someone started or stopped typing in a channel the user is a member of (and, if the
    /// client said which channel it shows, that one).
    Typing(Arc<Typing>),
    /// Who came online or went offline among the members of the user's communities.
    Presence(Arc<PresenceDiff>),
    /// Nothing happened for `idle_after` (time for a keep-alive).
    Idle,
    /// The stream is over; `next` keeps answering this.
    End(End),
}

/// Why a session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// The process is shutting down: the client should reconnect shortly.
    Shutdown,
    /// The connection fell behind and the hub dropped it: the client resumes.
    Overflow,
    /// The token was refused.
    Refused,
    /// Access could not be confirmed for too long.
    Unconfirmed,
    /// The replay failed or stalled: the client resumes from its last position.
    ReplayFailed,
}

/// How a connection opens: what it may see, as of which stream position that was read,
/// and where the client wants to resume.
#[derive(Clone, Debug)]
pub struct Opening<'a> {
    pub visible: Visible,
    /// The hub's position (`Hub::position`) taken *before* `visible` was read: the events
    /// after it are replayed for their access changes, so nothing that happened between
    /// reading the access and registering is missed.
    pub visible_as_of: StreamPosition,
    /// The client's `Last-Event-ID`, if it sent one.
    pub resume: Option<&'a str>,
}

/// Why a session could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    TooManyStreams(#[from] TooManyStreams),
    #[error(transparent)]
    Bus(#[from] BusError),
}

/// One connection's stream of items.
pub struct StreamSession {
    registration: Registration,
    access: AccessFeed,
    visible: Visible,
    config: SessionConfig,
    shutdown: CancellationToken,
    epoch: u64,
    /// The replay still to be read, if any.
    replay: Option<BoxStream<'static, Result<Delivered, BusError>>>,
    /// An item to hand out before anything else.
    pending: Option<Item>,
    last_sent: u64,
    /// Events up to this sequence were followed (or are part of the access it started
    /// with): a copy of one, from the replay or the live queue, is skipped.
    followed_up_to: u64,
    /// When the session last changed what it sees by itself (following an event): a
    /// check that started before then is stale.
    followed_at: Instant,
    /// Since when checks have failed to confirm access, if they do.
    unconfirmed_since: Option<Instant>,
    ended: Option<End>,
}

impl StreamSession {
    /// Registers with `hub` for what the opening allows and prepares the replay: from the
    /// client's position (`resume`), and from the position the access was read at, whichever
    /// is older (events up to the client's position are only followed, not handed out);
    /// `access` is the shared check of the connection's credential.
    pub async fn start<B: EventBus>(
        hub: &Hub,
        bus: &B,
        access: AccessFeed,
        opening: Opening<'_>,
        config: SessionConfig,
        shutdown: CancellationToken,
    ) -> Result<Self, StartError> {
        let Opening { visible, visible_as_of, resume } = opening;
        let epoch = visible_as_of.epoch;
        let resume = resume.map(str::trim).filter(|v| !v.is_empty());
        // `since`: the oldest position to read from — the client's, to deliver what it
        // missed, or the access read's, to follow what changed since (delivered only to a
        // fresh connection, whose client has nothing after it either).
        let (since, mut last_sent, mut pending) = match resume.map(str::parse::<StreamPosition>) {
            None => (visible_as_of.seq, visible_as_of.seq, None),
            // Not too far behind (a made-up `<epoch>.1` must not cost a week's replay: a
            // client that far behind refetches anyway).
            Some(Ok(position)) if position.epoch == epoch && position.seq + MAX_REPLAY >= visible_as_of.seq => {
                (position.seq.min(visible_as_of.seq), position.seq, None)
            }
            Some(_) => (visible_as_of.seq, visible_as_of.seq, Some(gone())),
        };
        // (1) Live events queue up from here on, after what the hub still holds since then.
        let registration = hub.register(
            visible.user,
            visible.routes(),
            config.queue_len,
            config.max_per_user,
            Some(StreamPosition { epoch, seq: since }),
        )?;
        // (2) What the hub no longer holds is replayed from the stream.
        let mut replay = None;
        let mut followed_up_to = since;
        if !registration.caught_up {
            match bus.replay(epoch, since, visible.subjects.clone()).await? {
                Replay::Events(events) => replay = Some(events),
                Replay::Gone => {
                    pending = Some(gone());
                    // The client's position is gone; the access read's may not be.
                    if since < visible_as_of.seq
                        && let Replay::Events(events) =
                            bus.replay(epoch, visible_as_of.seq, visible.subjects.clone()).await?
                    {
                        replay = Some(events);
                        (last_sent, followed_up_to) = (visible_as_of.seq, visible_as_of.seq);
                    }
                }
            }
        }
        Ok(Self {
            registration,
            access,
            visible,
            config,
            shutdown,
            epoch,
            replay,
            pending,
            last_sent,
            followed_up_to,
            followed_at: Instant::now(),
            unconfirmed_since: None,
            ended: None,
        })
    }

    /// What the connection may see now.
    #[must_use]
    pub fn visible(&self) -> &Visible {
        &self.visible
    }

    /// The next item. Not cancel-safe: await it to completion (it yields `Idle` when
    /// nothing happens, so a transport needs no timer of its own).
    pub async fn next(&mut self) -> Item {
        if let Some(end) = self.ended {
            return Item::End(end);
        }
        let item = self.next_item().await;
        if let Item::End(end) = item {
            self.ended = Some(end);
        }
        item
    }

    async fn next_item(&mut self) -> Item {
        if let Some(item) = self.pending.take() {
            return item;
        }
        // (2) Replay what was missed.
        while let Some(events) = self.replay.as_mut() {
            let next = tokio::select! {
                () = self.shutdown.cancelled() => return Item::End(End::Shutdown),
                next = tokio::time::timeout(self.config.replay_stall, events.next()) => next,
            };
            match next {
                Ok(Some(Ok(delivered))) => {
                    // An access result that came meanwhile counts before the next event.
                    if self.access.results.has_changed().unwrap_or(false) {
                        let found = self.access.results.borrow_and_update().clone();
                        if let Some(item) = found.and_then(|found| self.apply(found)) {
                            return item;
                        }
                    }
                    if !self.visible.allows(&delivered.subject) {
                        continue;
                    }
                    if let Some(event) = HubEvent::from_delivered(&delivered, self.epoch)
                        && let Some(item) = self.take(Arc::new(event))
                    {
                        return item;
                    }
                }
                Ok(None) => self.replay = None,
                Ok(Some(Err(err))) => {
                    tracing::warn!(error = %err, "replay failed");
                    return Item::End(End::ReplayFailed);
                }
                // A replay that stalls (e.g. messages expiring under it) ends the stream;
                // the client resumes from the last position it got.
                Err(_) => return Item::End(End::ReplayFailed),
            }
        }
        // (3) Live.
        let idle_at = Instant::now() + self.config.idle_after;
        loop {
            tokio::select! {
                // In this order: a narrowing access result must win over events queued
                // behind it (a random pick could deliver them first).
                biased;
                () = self.shutdown.cancelled() => return Item::End(End::Shutdown),
                changed = self.access.results.changed() => {
                    if changed.is_err() {
                        // The checks stopped: the process is shutting down.
                        return Item::End(End::Shutdown);
                    }
                    let found = self.access.results.borrow_and_update().clone();
                    if let Some(item) = found.and_then(|found| self.apply(found)) {
                        return item;
                    }
                }
                () = tokio::time::sleep_until(idle_at) => return Item::Idle,
                next = self.registration.events.recv() => match next {
                    Some(Queued::Event(event)) => {
                        if let Some(item) = self.take(event) {
                            return item;
                        }
                    }
                    Some(Queued::Typing(typing)) => {
                        let focus = self.access.focus();
                        if self.visible.member_of.contains_key(&typing.channel_id)
                            && focus.is_none_or(|channel| channel == typing.channel_id)
                        {
                            return Item::Typing(typing);
                        }
                    }
                    Some(Queued::Presence(diff)) => return Item::Presence(diff),
                    // Dropped by the hub for falling behind: end, the client resumes.
                    None => return Item::End(End::Overflow),
                },
            }
        }
    }

    /// One event in stream order, replayed, caught up or live: follows what it changes
    /// about the connection's access (once: copies are skipped) and returns it if the
    /// client gets it (events up to the client's position are only followed).
    fn take(&mut self, event: Arc<HubEvent>) -> Option<Item> {
        if event.seq <= self.followed_up_to {
            return None;
        }
        self.followed_up_to = event.seq;
        if !self.visible.wants(&event) {
            return None;
        }
        if self.visible.follow(&event) {
            self.followed_at = Instant::now();
            self.registration.resubscribe(self.visible.routes());
        }
        let mut forward = true;
        if event.subject == self.visible.own {
            match event.event_type.as_str() {
                // Learn what was joined or created (or confirm what was left) before the
                // next event arrives: the own-subject copy of a removal is the second path
                // if the channel's copy was lost.
                "member.joined" | "member.left" | "member.removed" | "channel.created" => self.access.check_now(),
                // Was it this stream's credential? The check says; not for clients.
                "access.revoked" => {
                    self.access.check_now();
                    forward = false;
                }
                _ => {}
            }
        }
        if event.seq <= self.last_sent {
            return None;
        }
        self.last_sent = event.seq;
        forward.then_some(Item::Event(event))
    }

    /// Applies a check's result; returns what the client must be told, if anything.
    fn apply(&mut self, checked: Checked) -> Option<Item> {
        match checked.access {
            Access::Refused => Some(Item::End(End::Refused)),
            // Started before the session last followed an event by itself: it may undo that
            // (re-open a channel the user was just removed from). Ask for a fresh one.
            Access::Allowed(_) if checked.started < self.followed_at => {
                self.access.check_now();
                None
            }
            Access::Allowed(now) => {
                self.unconfirmed_since = None;
                let gained = now.subjects.iter().any(|s| !self.visible.allows(s))
                    || now.joined.iter().any(|c| !self.visible.joined.contains(c));
                self.registration.resubscribe(now.routes());
                self.visible = now;
                // Events of the new channel or community from before this moment are not
                // on this connection: the client refetches.
                gained.then_some(Item::Resync("you can see more than before; refetch and continue"))
            }
            // Fail closed: access that cannot be confirmed for long ends the stream.
            Access::Unknown => {
                let since = *self.unconfirmed_since.get_or_insert_with(Instant::now);
                (since.elapsed() > self.config.unconfirmed_limit).then_some(Item::End(End::Unconfirmed))
            }
        }
    }
}

fn gone() -> Item {
    Item::Resync("the stream no longer holds that position; refetch and continue")
}

#[cfg(test)]
mod tests;
