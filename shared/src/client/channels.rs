//! The typed client's channel calls: channels, their membership, read cursors and DMs.

use crate::api::paths;
use crate::api::wire::{
    AddMemberRequest, Channel, ChannelListItem, ChannelPreferences, CreateChannelRequest, CreateDmRequest, Member,
    Page, ReadCursor, ReadRequest, UpdateChannelRequest, UpdatePreferencesRequest,
};
use crate::client::{ApiClient, ClientError};
use crate::domain::ids::{ChannelId, CommunityId, MessageId, UserId};
use reqwest::Method;

impl ApiClient {
    /// `GET /api/communities/{id}/channels`: the channels I can see, with my unread and
    /// mention counts.
    pub async fn list_channels(&self, community: CommunityId) -> Result<Page<ChannelListItem>, ClientError> {
        self.get(&paths::community_channels(community)).await
    }

    /// `POST /api/communities/{id}/channels`: a public or private channel, with me in it.
    pub async fn create_channel(
        &self,
        community: CommunityId,
        request: &CreateChannelRequest,
    ) -> Result<Channel, ClientError> {
        self.post(&paths::community_channels(community), request).await
    }

    /// `GET /api/channels/{id}`.
    pub async fn get_channel(&self, channel: ChannelId) -> Result<Channel, ClientError> {
        self.get(&paths::channel(channel)).await
    }

    /// `PATCH /api/channels/{id}`: set the topic (members), rename or (un)archive (admins).
    pub async fn update_channel(
        &self,
        channel: ChannelId,
        request: &UpdateChannelRequest,
    ) -> Result<Channel, ClientError> {
        self.patch(&paths::channel(channel), request).await
    }

    /// `DELETE /api/channels/{id}` (admins): archive it; its history stays readable.
    pub async fn archive_channel(&self, channel: ChannelId) -> Result<Channel, ClientError> {
        self.send(self.request(Method::DELETE, &paths::channel(channel))).await
    }

    /// `POST /api/channels/{id}/join`: join a public channel (or stay in it).
    pub async fn join_channel(&self, channel: ChannelId) -> Result<Channel, ClientError> {
        self.send(self.request(Method::POST, &paths::channel_join(channel))).await
    }

    /// `POST /api/channels/{id}/leave`.
    pub async fn leave_channel(&self, channel: ChannelId) -> Result<(), ClientError> {
        self.send_empty(self.request(Method::POST, &paths::channel_leave(channel))).await
    }

    /// `POST /api/channels/{id}/members`: add someone to a private channel (an existing
    /// member is answered the same way).
    pub async fn add_channel_member(&self, channel: ChannelId, user: UserId) -> Result<Member, ClientError> {
        self.post(&paths::channel_members(channel), &AddMemberRequest { user_id: user }).await
    }

    /// `DELETE /api/channels/{id}/members/{user_id}` (admins).
    pub async fn remove_channel_member(&self, channel: ChannelId, user: UserId) -> Result<(), ClientError> {
        self.send_empty(self.request(Method::DELETE, &paths::channel_member(channel, user))).await
    }

    /// `POST /api/channels/{id}/read`: move my read cursor to `message` (backwards marks
    /// unread).
    pub async fn mark_read(&self, channel: ChannelId, message: MessageId) -> Result<ReadCursor, ClientError> {
        self.post(&paths::channel_read(channel), &ReadRequest { message_id: message }).await
    }

    /// `PATCH /api/channels/{id}/preferences`: my notify level, mute and star there.
    pub async fn update_preferences(
        &self,
        channel: ChannelId,
        request: &UpdatePreferencesRequest,
    ) -> Result<ChannelPreferences, ClientError> {
        self.patch(&paths::channel_preferences(channel), request).await
    }

    /// `GET /api/dms`: my DMs and group DMs, most recent first.
    pub async fn list_dms(&self) -> Result<Page<ChannelListItem>, ClientError> {
        self.get(paths::DMS).await
    }

    /// `POST /api/dms`: the DM of exactly me and `users`, created on first use.
    pub async fn open_dm(&self, users: &[UserId]) -> Result<Channel, ClientError> {
        self.post(paths::DMS, &CreateDmRequest { user_ids: users.to_vec() }).await
    }
}
