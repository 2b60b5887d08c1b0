//! The signed-in context every command but `login` starts from: the profile, the server,
//! the authenticated `ApiClient`, and resolution of what the user typed (`#channel`,
//! `@user`, a community, message ids) into ids, by name in the current community.

use ajet_shared::api::wire::{Channel, ChannelKind, ChannelListItem, Community};
use ajet_shared::client::ApiClient;
use ajet_shared::domain::ids::{ChannelId, MessageId, UserId};

use crate::args::Globals;
use crate::config::{ConfigFile, DEFAULT_SERVER};
use crate::failure::Failure;
use crate::output::{self, Labels};

/// The chosen profile and server, before any sign-in is required.
#[derive(Debug)]
pub struct Target {
    pub config: ConfigFile,
    pub profile_name: String,
    pub server: String,
    /// `--token`/`AJET_TOKEN`, else the profile's.
    pub token: Option<String>,
    /// Whether `token` is the profile's (not one given for this run).
    pub token_from_profile: bool,
    pub community: Option<String>,
}

impl Target {
    /// Reads the configuration and applies the command line over it.
    pub fn load(globals: &Globals) -> Result<Self, Failure> {
        let config = ConfigFile::load()?;
        let profile_name = config.profile_name(globals.profile.as_deref());
        let profile = config.profiles.get(&profile_name).cloned().unwrap_or_default();
        let server = globals
            .server
            .clone()
            .or_else(|| Some(profile.server.clone()).filter(|server| !server.is_empty()))
            .unwrap_or_else(|| DEFAULT_SERVER.to_owned());
        if !(server.starts_with("http://") || server.starts_with("https://")) {
            return Err(Failure::Usage(format!("--server must be an http:// or https:// URL, not {server:?}")));
        }
        let given = globals.token.clone().filter(|token| !token.is_empty());
        // The profile's token goes only to the profile's server, never to another one named
        // on the command line.
        let same_server = profile.server.trim_end_matches('/') == server.trim_end_matches('/');
        let stored = profile.token.clone().filter(|_| same_server);
        let token_from_profile = given.is_none() && stored.is_some();
        let token = given.or(stored);
        let community = globals.community.clone().or_else(|| profile.community.clone());
        Ok(Self { config, profile_name, server, token, token_from_profile, community })
    }

    /// A client of the server, not signed in.
    pub fn anonymous(&self) -> Result<ApiClient, Failure> {
        Ok(ApiClient::new(self.server.clone())?)
    }

    /// The signed-in session, or exit code 3 with how to sign in.
    pub fn session(&self) -> Result<Session, Failure> {
        let token = self.token.clone().ok_or_else(|| {
            Failure::NotSignedIn(format!(
                "not signed in to {} (profile {}): run `ajet-chat login`, or pass --token / set AJET_TOKEN",
                crate::escape::line(&self.server),
                self.profile_name
            ))
        })?;
        Ok(Session { client: self.anonymous()?.with_token(token), community: self.community.clone() })
    }
}

/// An authenticated client and the community names resolve in.
#[derive(Debug)]
pub struct Session {
    pub client: ApiClient,
    community: Option<String>,
}

/// A parsed id or a usage error naming what was expected.
pub fn parse_id<T: std::str::FromStr>(raw: &str, what: &str) -> Result<T, Failure> {
    raw.trim().parse().map_err(|_| Failure::Usage(format!("{what}: {raw:?} is not an id")))
}

pub fn message_id(raw: &str) -> Result<MessageId, Failure> {
    parse_id(raw, "message")
}

impl Session {
    /// The community in use: `--community` (slug, name or id), the profile's, else the
    /// first one.
    pub async fn community(&self) -> Result<Community, Failure> {
        let communities = self.client.list_communities().await?.data;
        match &self.community {
            Some(wanted) => communities
                .into_iter()
                .find(|c| c.slug == *wanted || c.name.eq_ignore_ascii_case(wanted) || c.id.to_string() == *wanted)
                .ok_or_else(|| Failure::NotFound(format!("no community {wanted:?} among yours"))),
            None => communities
                .into_iter()
                .next()
                .ok_or_else(|| Failure::NotFound("you are in no community yet: accept an invite first".into())),
        }
    }

    /// The community's channels and my DMs.
    pub async fn channels(&self) -> Result<Vec<ChannelListItem>, Failure> {
        let community = self.community().await?;
        let mut channels = self.client.list_channels(community.id).await?.data;
        channels.extend(self.client.list_dms().await?.data);
        Ok(channels)
    }

    /// Labels (`#general`, `@bob`) of every channel I can see here (only my DMs when I am in
    /// no community).
    pub async fn labels(&self) -> Result<Labels, Failure> {
        let channels = match self.channels().await {
            Ok(channels) => channels,
            Err(Failure::NotFound(_)) if self.community.is_none() => self.client.list_dms().await?.data,
            Err(err) => return Err(err),
        };
        Ok(channels.iter().map(|item| (item.channel.id, output::channel_label(item))).collect())
    }

    /// What `target` names: `#name` or `name` (a channel of the community), `@user` (my DM
    /// with them, opened on first use) or a channel id.
    pub async fn channel(&self, target: &str) -> Result<Channel, Failure> {
        let target = target.trim();
        if let Ok(id) = target.parse::<ChannelId>() {
            return Ok(self.client.get_channel(id).await?);
        }
        if let Some(username) = target.strip_prefix('@') {
            return self.dm(username).await;
        }
        let name = target.strip_prefix('#').unwrap_or(target);
        if name.is_empty() {
            return Err(Failure::Usage("a channel: #name, @user or a channel id".into()));
        }
        let community = self.community().await?;
        let channels = self.client.list_channels(community.id).await?.data;
        channels
            .into_iter()
            .map(|item| item.channel)
            .find(|channel| channel.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(name)))
            .ok_or_else(|| Failure::NotFound(format!("no channel #{name} in {}", crate::escape::line(&community.slug))))
    }

    /// Like `channel`, but `@username` is only a DM I already have with them (never one
    /// opened for the asking): for commands that change a channel's settings rather than
    /// talk in it, so that they do not create a conversation as a side effect.
    pub async fn existing_channel(&self, target: &str) -> Result<Channel, Failure> {
        let Some(username) = target.trim().strip_prefix('@') else { return self.channel(target).await };
        let username = username.trim();
        if username.is_empty() {
            return Err(Failure::Usage("a user: @username".into()));
        }
        let dms = self.client.list_dms().await?.data;
        dms.into_iter()
            .find(|item| {
                item.channel.kind == ChannelKind::Dm
                    && item.members.iter().any(|member| member.username.eq_ignore_ascii_case(username))
            })
            .map(|item| item.channel)
            .ok_or_else(|| {
                Failure::NotFound(format!(
                    "no DM with @{}: write to them first (`ajet-chat dm @{0}`)",
                    crate::escape::line(username)
                ))
            })
    }

    /// My DM with `@username` (a member of the community), opened on first use.
    pub async fn dm(&self, username: &str) -> Result<Channel, Failure> {
        let user = self.member(username).await?;
        Ok(self.client.open_dm(&[user]).await?)
    }

    /// The id of `@username`, a member of the community.
    pub async fn member(&self, username: &str) -> Result<UserId, Failure> {
        let username = username.trim_start_matches('@');
        if username.is_empty() {
            return Err(Failure::Usage("a user: @username".into()));
        }
        let community = self.community().await?;
        let members = self.client.list_community_members(community.id).await?.data;
        let user = members.into_iter().find(|member| member.user.username.eq_ignore_ascii_case(username)).ok_or_else(
            || Failure::NotFound(format!("no user @{username} in {}", crate::escape::line(&community.slug))),
        )?;
        Ok(user.user.id)
    }
}
