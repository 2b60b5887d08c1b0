//! One connection's stream, independent of its transport: `StreamSession::next` yields
//! `Event | Resync | Idle | End` items and the session manager maps them to its wire format
//! (JSON SSE events in tui-sm, HTML fragments in web-sm).
//!
//! The algorithm: (1) register with the hub, so live events queue up; (2) replay from the
//! stream after the client's position, filtered to what the connection may see; (3) go
//! live, skipping every event not above the last one handed out (sequences only grow, so
//! that check is the whole dedupe rule). A position the stream no longer holds gets an
//! explicit `Resync` first. Access comes from the credential's shared check
//! (`stream::access`), periodic and at once when the user's own subject says they joined
//! something: a refusal ends the session, more access than before yields a `Resync`, less
//! narrows it at once, and access that cannot be confirmed for `unconfirmed_limit` ends it
//! (fail closed).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt as _;
use futures::stream::BoxStream;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::api::wire::Me;
use crate::config::Config;
use crate::domain::ids::{ChannelId, UserId};
use crate::events::StreamPosition;
use crate::events::bus::{BusError, Delivered, EventBus, Replay};
use crate::events::subject;
use crate::stream::access::{Access, AccessFeed};
use crate::stream::hub::{Hub, HubEvent, Registration};

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
        Self { user: me.user.id, subjects, own, joined }
    }

    fn allows(&self, subject: &str) -> bool {
        self.subjects.iter().any(|s| s == subject)
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
    /// delivered or not without waiting for a re-check. True if subjects were dropped.
    fn follow(&mut self, event: &HubEvent) -> bool {
        let own_membership = event.member == Some(self.user);
        match (event.event_type.as_str(), event.channel_id) {
            ("member.joined", Some(channel)) if own_membership && subject::is_community(&event.subject) => {
                self.joined.insert(channel);
                false
            }
            ("channel.created", Some(channel))
                if event.actor_id == Some(self.user) && subject::is_community(&event.subject) =>
            {
                self.joined.insert(channel);
                false
            }
            ("member.left" | "member.removed", Some(channel)) if own_membership => {
                self.joined.remove(&channel);
                let gone = [subject::private_channel(channel), subject::dm(channel)];
                self.drop_subjects(&gone)
            }
            ("member.left" | "member.removed", None) if own_membership => match event.community_id {
                Some(community) => self.drop_subjects(&[subject::community(community)]),
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
}

impl SessionConfig {
    #[must_use]
    pub fn from_config(config: &Config) -> Self {
        Self {
            queue_len: config.sse_queue_len,
            unconfirmed_limit: Duration::from_secs(5),
            replay_stall: Duration::from_secs(5),
            idle_after: config.sse_keepalive(),
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
    /// Since when checks have failed to confirm access, if they do.
    unconfirmed_since: Option<Instant>,
    ended: Option<End>,
}

impl StreamSession {
    /// Registers with `hub` for what `visible` allows and prepares the replay after
    /// `resume` (the client's `Last-Event-ID`, if it sent one); `access` is the shared
    /// check of the connection's credential.
    pub async fn start<B: EventBus>(
        hub: &Hub,
        bus: &B,
        access: AccessFeed,
        visible: Visible,
        resume: Option<&str>,
        config: SessionConfig,
        shutdown: CancellationToken,
    ) -> Result<Self, BusError> {
        // (1) Live events queue up from here on.
        let registration = hub.register(visible.subjects.clone(), config.queue_len);
        let state = bus.stream_state().await?;
        let resume = resume.map(str::trim).filter(|v| !v.is_empty());
        let (replay, pending, last_sent) = match resume.map(str::parse::<StreamPosition>) {
            None => (None, None, 0),
            Some(Err(_)) => (None, Some(gone()), 0),
            Some(Ok(position)) => match bus.replay(position.epoch, position.seq, visible.subjects.clone()).await? {
                Replay::Gone => (None, Some(gone()), 0),
                Replay::Events(events) => (Some(events), None, position.seq),
            },
        };
        Ok(Self {
            registration,
            access,
            visible,
            config,
            shutdown,
            epoch: state.epoch,
            replay,
            pending,
            last_sent,
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
                    if delivered.seq <= self.last_sent || !self.visible.allows(&delivered.subject) {
                        continue;
                    }
                    if let Some(event) = HubEvent::from_delivered(&delivered, self.epoch)
                        && self.visible.wants(&event)
                    {
                        self.last_sent = event.seq;
                        return Item::Event(Arc::new(event));
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
            let found = tokio::select! {
                // In this order: a narrowing access result must win over events queued
                // behind it (a random pick could deliver them first).
                biased;
                () = self.shutdown.cancelled() => return Item::End(End::Shutdown),
                changed = self.access.results.changed() => match changed {
                    Ok(()) => self.access.results.borrow_and_update().clone(),
                    // The checks stopped: the process is shutting down.
                    Err(_) => return Item::End(End::Shutdown),
                },
                () = tokio::time::sleep_until(idle_at) => return Item::Idle,
                next = self.registration.events.recv() => match next {
                    Some(event) if event.seq > self.last_sent && self.visible.wants(&event) => {
                        self.last_sent = event.seq;
                        if self.visible.follow(&event) {
                            self.registration.resubscribe(self.visible.subjects.clone());
                        }
                        if event.subject == self.visible.own {
                            match event.event_type.as_str() {
                                // Learn what was joined (or confirm what was left) before the
                                // next event arrives: the own-subject copy of a removal is the
                                // second path if the channel's copy was lost.
                                "member.joined" | "member.left" | "member.removed" => self.access.check_now(),
                                // Was it this stream's credential? The check says; not for clients.
                                "access.revoked" => {
                                    self.access.check_now();
                                    continue;
                                }
                                _ => {}
                            }
                        }
                        return Item::Event(event);
                    }
                    Some(_) => None,
                    // Dropped by the hub for falling behind: end, the client resumes.
                    None => return Item::End(End::Overflow),
                },
            };
            if let Some(access) = found
                && let Some(item) = self.apply(access)
            {
                return item;
            }
        }
    }

    /// Applies a check's result; returns what the client must be told, if anything.
    fn apply(&mut self, access: Access) -> Option<Item> {
        match access {
            Access::Refused => Some(Item::End(End::Refused)),
            Access::Allowed(now) => {
                self.unconfirmed_since = None;
                let gained = now.subjects.iter().any(|s| !self.visible.allows(s))
                    || now.joined.iter().any(|c| !self.visible.joined.contains(c));
                self.registration.resubscribe(now.subjects.clone());
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
