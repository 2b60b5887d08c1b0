//! The typed client's community calls: communities, their members and invites.

use crate::api::paths;
use crate::api::wire::{
    Community, CommunityMember, CreateCommunityRequest, CreateInviteRequest, Invite, Member, Page,
    UpdateCommunityRequest,
};
use crate::client::{ApiClient, ClientError};
use crate::domain::ids::CommunityId;
use reqwest::Method;

impl ApiClient {
    /// `GET /api/communities`: the communities I belong to.
    pub async fn list_communities(&self) -> Result<Page<Community>, ClientError> {
        self.get(paths::COMMUNITIES).await
    }

    /// `POST /api/communities`: a new community, with me as its owner and a `general` channel.
    pub async fn create_community(&self, request: &CreateCommunityRequest) -> Result<Community, ClientError> {
        self.post(paths::COMMUNITIES, request).await
    }

    /// `GET /api/communities/{id}`.
    pub async fn get_community(&self, community: CommunityId) -> Result<Community, ClientError> {
        self.get(&paths::community(community)).await
    }

    /// `PATCH /api/communities/{id}` (admins): rename or describe it.
    pub async fn update_community(
        &self,
        community: CommunityId,
        request: &UpdateCommunityRequest,
    ) -> Result<Community, ClientError> {
        self.patch(&paths::community(community), request).await
    }

    /// `GET /api/communities/{id}/members`: members with roles and nicknames.
    pub async fn list_community_members(&self, community: CommunityId) -> Result<Page<CommunityMember>, ClientError> {
        self.get(&paths::community_members(community)).await
    }

    /// `POST /api/communities/{id}/invites` (admins): a new invite code.
    pub async fn create_invite(
        &self,
        community: CommunityId,
        request: &CreateInviteRequest,
    ) -> Result<Invite, ClientError> {
        self.post(&paths::community_invites(community), request).await
    }

    /// `GET /api/communities/{id}/invites` (admins): the open invites, newest first.
    pub async fn list_invites(&self, community: CommunityId) -> Result<Page<Invite>, ClientError> {
        self.get(&paths::community_invites(community)).await
    }

    /// `DELETE /api/communities/{id}/invites/{code}` (admins).
    pub async fn revoke_invite(&self, community: CommunityId, code: &str) -> Result<(), ClientError> {
        self.send_empty(self.request(Method::DELETE, &paths::community_invite(community, code))).await
    }

    /// `POST /api/invites/{code}/accept`: join the invite's community (or stay in it).
    pub async fn accept_invite(&self, code: &str) -> Result<Member, ClientError> {
        self.send(self.request(Method::POST, &paths::invite_accept(code))).await
    }
}
