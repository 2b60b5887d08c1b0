//! The people and places a scenario needs, made through the gateway with the typed client
//! (dev logins): an owner with a community of private channels ("rooms"), and in each room
//! its readers' users (members of the community and of that channel only, so each room's
//! messages reach its readers and no one else). A user holds at most `STREAMS_PER_USER`
//! readers (the services' limit per user is 20).

use std::net::SocketAddr;
use std::sync::Arc;

use ajet_shared::api::wire::{ChannelKind, CreateChannelRequest, CreateCommunityRequest, CreateInviteRequest};
use ajet_shared::client::ApiClient;
use ajet_shared::domain::ids::{ChannelId, CommunityId};
use anyhow::{Context, Result};
use futures::{StreamExt, TryStreamExt};

use crate::http;
use crate::load::Target;

/// Readers per user.
pub const STREAMS_PER_USER: usize = 10;
/// Setup requests in flight at once.
const PARALLEL: usize = 16;

/// One private channel and its readers' tokens.
#[derive(Clone, Debug)]
pub struct Room {
    pub channel: ChannelId,
    pub tokens: Vec<String>,
}

/// A community of rooms; the owner publishes.
#[derive(Clone, Debug)]
pub struct World {
    pub owner: String,
    pub community: CommunityId,
    pub slug: String,
    pub rooms: Vec<Room>,
}

/// Makes a world named `name` (unique per run) through the gateway at `base_url`:
/// `rooms` private channels, each with enough users for `readers_per_room` readers.
pub async fn world(base_url: &str, name: &str, rooms: usize, readers_per_room: usize) -> Result<World> {
    let anonymous = ApiClient::new(base_url).context("a client of the gateway")?;
    let owner = anonymous.dev_login(&format!("{name}-owner")).await.context("the owner's dev login")?;
    let client = anonymous.with_token(owner.token.clone());
    let slug = name.to_owned();
    let community = client
        .create_community(&CreateCommunityRequest { name: name.to_owned(), slug: slug.clone(), description: None })
        .await
        .context("creating the community")?;
    let invite = client
        .create_invite(community.id, &CreateInviteRequest { expires_in_secs: None, max_uses: None })
        .await
        .context("an invite")?;
    let users_per_room = readers_per_room.div_ceil(STREAMS_PER_USER).max(1);
    let mut out = Vec::with_capacity(rooms);
    for room in 0..rooms {
        let channel = client
            .create_channel(
                community.id,
                &CreateChannelRequest { name: format!("room-{room}"), topic: None, kind: Some(ChannelKind::Private) },
            )
            .await
            .context("creating a room")?;
        let (anonymous, client, code) =
            (Arc::new(anonymous.clone()), Arc::new(client.clone()), Arc::new(invite.code.clone()));
        let tokens: Vec<String> = futures::stream::iter(0..users_per_room)
            .map(|user| {
                let (anonymous, client, code) = (Arc::clone(&anonymous), Arc::clone(&client), Arc::clone(&code));
                let username = format!("{name}-r{room}-u{user}");
                async move {
                    let login = anonymous.dev_login(&username).await.context("a reader's dev login")?;
                    anonymous
                        .with_token(login.token.clone())
                        .accept_invite(&code)
                        .await
                        .context("accepting the invite")?;
                    client.add_channel_member(channel.id, login.user.id).await.context("adding a reader to a room")?;
                    anyhow::Ok(login.token)
                }
            })
            .buffer_unordered(PARALLEL)
            .try_collect()
            .await?;
        out.push(Room { channel: channel.id, tokens });
    }
    Ok(World { owner: owner.token, community: community.id, slug, rooms: out })
}

/// Which session manager's stream readers open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// `GET /tui/events`.
    Tui,
    /// `GET /sse?channel=…` (web-sm's Datastar patches of the room's page).
    Web,
}

/// The stack through the gateway: readers stream a room, the owner sends with
/// `POST /api/channels/{id}/messages`. With several gateways (the cluster), each room's
/// readers and the publishing connections are spread over all of them.
pub struct Ajet {
    /// The gateways (at least one).
    pub addrs: Vec<SocketAddr>,
    pub world: World,
    pub stream: Stream,
}

impl Target for Ajet {
    fn groups(&self) -> usize {
        self.world.rooms.len()
    }

    fn addr(&self, index: usize) -> SocketAddr {
        // Readers of one room are `index`, `index + rooms`, …: the quotient spreads each
        // room's readers (and consecutive publishing connections) over the gateways.
        self.addrs[(index / self.world.rooms.len().max(1) + index) % self.addrs.len().max(1)]
    }

    fn reader(&self, index: usize) -> (usize, Vec<u8>) {
        let group = index % self.world.rooms.len();
        let room = &self.world.rooms[group];
        let token = &room.tokens[(index / self.world.rooms.len() / STREAMS_PER_USER) % room.tokens.len()];
        let path = match self.stream {
            Stream::Tui => "/tui/events".to_owned(),
            Stream::Web => format!("/sse?channel={}", room.channel),
        };
        (group, http::get(self.addrs[0], &path, Some(token), "text/event-stream"))
    }

    fn publish(&self, group: usize, body: &str) -> Vec<u8> {
        let channel = self.world.rooms[group].channel;
        http::post_json(
            self.addrs[0],
            &format!("/api/channels/{channel}/messages"),
            Some(&self.world.owner),
            &format!(r#"{{"body_md":"{body}"}}"#),
        )
    }
}

/// Nchan: readers subscribe to `/sub/<group>` (EventSource), publishes go to `/pub/<group>`.
pub struct Nchan {
    pub addr: SocketAddr,
    pub groups: usize,
}

impl Target for Nchan {
    fn groups(&self) -> usize {
        self.groups
    }

    fn addr(&self, _index: usize) -> SocketAddr {
        self.addr
    }

    fn reader(&self, index: usize) -> (usize, Vec<u8>) {
        let group = index % self.groups;
        (group, http::get(self.addr, &format!("/sub/{group}"), None, "text/event-stream"))
    }

    fn publish(&self, group: usize, body: &str) -> Vec<u8> {
        format!(
            "POST /pub/{group} HTTP/1.1\r\nHost: {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
            self.addr,
            body.len()
        )
        .into_bytes()
    }
}
