//! The typed client's moderation calls (admins): bans, kicks, mutes, role changes, a
//! channel's slow mode and freeze, purges, and the audit log.

use crate::api::paths;
use crate::api::wire::{
    AuditQuery, AuditRecord, Ban, Channel, ChannelModerationRequest, CommunityMember, CreateBanRequest,
    CreateKickRequest, CreateMuteRequest, MessagesPurged, Mute, MutedMember, Page, PurgeRequest, UpdateMemberRequest,
};
use crate::client::{ApiClient, ClientError};
use crate::domain::ids::{ChannelId, CommunityId, UserId};
use reqwest::Method;

impl ApiClient {
    /// `POST /api/communities/{id}/bans`: out at once, and kept out until the ban ends.
    pub async fn ban(&self, community: CommunityId, request: &CreateBanRequest) -> Result<Ban, ClientError> {
        self.post(&paths::community_bans(community), request).await
    }

    /// `GET /api/communities/{id}/bans`: the bans in force, newest first.
    pub async fn list_bans(&self, community: CommunityId) -> Result<Page<Ban>, ClientError> {
        self.get(&paths::community_bans(community)).await
    }

    /// `DELETE /api/communities/{id}/bans/{user_id}`.
    pub async fn unban(&self, community: CommunityId, user: UserId) -> Result<(), ClientError> {
        self.send_empty(self.request(Method::DELETE, &paths::community_ban(community, user))).await
    }

    /// `POST /api/communities/{id}/kicks`: out now; an invite brings them back.
    pub async fn kick(&self, community: CommunityId, request: &CreateKickRequest) -> Result<(), ClientError> {
        self.send_empty(self.request(Method::POST, &paths::community_kicks(community)).json(request)).await
    }

    /// `POST /api/communities/{id}/mutes`: no posts or reactions until it ends.
    pub async fn mute(&self, community: CommunityId, request: &CreateMuteRequest) -> Result<Mute, ClientError> {
        self.post(&paths::community_mutes(community), request).await
    }

    /// `GET /api/communities/{id}/mutes`: the mutes in force, newest first.
    pub async fn list_mutes(&self, community: CommunityId) -> Result<Page<MutedMember>, ClientError> {
        self.get(&paths::community_mutes(community)).await
    }

    /// `DELETE /api/communities/{id}/mutes/{user_id}`.
    pub async fn unmute(&self, community: CommunityId, user: UserId) -> Result<(), ClientError> {
        self.send_empty(self.request(Method::DELETE, &paths::community_mute(community, user))).await
    }

    /// `PATCH /api/communities/{id}/members/{user_id}`: make them an admin or a member.
    pub async fn set_role(
        &self,
        community: CommunityId,
        user: UserId,
        request: &UpdateMemberRequest,
    ) -> Result<CommunityMember, ClientError> {
        self.patch(&paths::community_member(community, user), request).await
    }

    /// `PATCH /api/channels/{id}/moderation`: slow mode and freeze.
    pub async fn moderate_channel(
        &self,
        channel: ChannelId,
        request: &ChannelModerationRequest,
    ) -> Result<Channel, ClientError> {
        self.patch(&paths::channel_moderation(channel), request).await
    }

    /// `POST /api/channels/{id}/purge`: soft-deletes the channel's `count` newest messages
    /// (admins); answers their ids.
    pub async fn purge_channel(
        &self,
        channel: ChannelId,
        request: &PurgeRequest,
    ) -> Result<MessagesPurged, ClientError> {
        self.send(self.request(Method::POST, &paths::channel_purge(channel)).json(request)).await
    }

    /// `GET /api/communities/{id}/audit`: the audit log, newest first.
    pub async fn audit_log(
        &self,
        community: CommunityId,
        query: &AuditQuery,
    ) -> Result<Page<AuditRecord>, ClientError> {
        self.send(self.request(Method::GET, &paths::community_audit(community)).query(query)).await
    }
}
