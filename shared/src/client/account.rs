//! The typed client's calls about the caller and their integrations: me, presence, API
//! tokens and incoming webhooks.

use crate::api::paths;
use crate::api::wire::{
    ApiToken, CreateTokenRequest, CreateWebhookRequest, CreatedToken, CreatedWebhook, Me, Page, Presence,
    SecurityEvent, UpdateMeRequest, User, WebhookDelivery, WebhookInfo, WebhookQuery,
};
use crate::client::{ApiClient, ClientError};
use crate::domain::ids::{ApiTokenId, CommunityId, UserId, WebhookId};
use reqwest::Method;

impl ApiClient {
    /// `GET /api/me`: the caller, their communities, private channels and DMs. Asks for a
    /// fresh check of the token (`Cache-Control: no-cache`: the api then skips its short
    /// cache of validated tokens), since the session managers' access checks rely on it.
    pub async fn me(&self) -> Result<Me, ClientError> {
        self.send(self.request(Method::GET, paths::ME).header(reqwest::header::CACHE_CONTROL, "no-cache")).await
    }

    /// `PUT /api/me/avatar`: uploads `bytes` (a PNG, JPEG, GIF or WebP) as my avatar.
    pub async fn put_avatar(&self, bytes: &[u8]) -> Result<User, ClientError> {
        let (content_type, body) = super::multipart_file("avatar", bytes);
        self.send(
            self.request(Method::PUT, paths::ME_AVATAR).header(reqwest::header::CONTENT_TYPE, content_type).body(body),
        )
        .await
    }

    /// `DELETE /api/me/avatar`.
    pub async fn delete_avatar(&self) -> Result<User, ClientError> {
        self.send(self.request(Method::DELETE, paths::ME_AVATAR)).await
    }

    /// `PUT /api/webhooks/{id}/avatar` (admins): uploads `bytes` as the webhook's avatar.
    pub async fn put_webhook_avatar(&self, webhook: WebhookId, bytes: &[u8]) -> Result<WebhookInfo, ClientError> {
        let (content_type, body) = super::multipart_file("avatar", bytes);
        let request = self.request(Method::PUT, &paths::webhook_avatar(webhook));
        self.send(request.header(reqwest::header::CONTENT_TYPE, content_type).body(body)).await
    }

    /// `DELETE /api/webhooks/{id}/avatar` (admins): the webhook without an avatar.
    pub async fn delete_webhook_avatar(&self, webhook: WebhookId) -> Result<WebhookInfo, ClientError> {
        self.send(self.request(Method::DELETE, &paths::webhook_avatar(webhook))).await
    }

    /// `GET /api/webhooks/{id}/avatar`: the image's answer.
    pub async fn download_webhook_avatar(&self, webhook: WebhookId) -> Result<reqwest::Response, ClientError> {
        super::checked(self.request(Method::GET, &paths::webhook_avatar(webhook)).send().await?).await
    }

    /// `GET /api/users/{id}/avatar`: the image's answer.
    pub async fn download_avatar(&self, user: UserId) -> Result<reqwest::Response, ClientError> {
        super::checked(self.request(Method::GET, &paths::user_avatar(user)).send().await?).await
    }

    /// `PATCH /api/me`: change my display name.
    pub async fn update_me(&self, request: &UpdateMeRequest) -> Result<User, ClientError> {
        self.patch(paths::ME, request).await
    }

    /// `GET /api/me/security-log`: my logins, logouts and API tokens, newest first.
    pub async fn security_log(&self) -> Result<Page<SecurityEvent>, ClientError> {
        self.get(paths::ME_SECURITY_LOG).await
    }

    /// `POST /api/heartbeat`: I am here (every 60 s; needs the `write` scope).
    pub async fn heartbeat(&self) -> Result<(), ClientError> {
        self.send_empty(self.request(Method::POST, paths::HEARTBEAT)).await
    }

    /// `GET /api/presence`: online (seen within two minutes) or offline, for each of `users`.
    pub async fn get_presence(&self, users: &[UserId]) -> Result<Page<Presence>, ClientError> {
        let user_ids = users.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
        self.send(self.request(Method::GET, paths::PRESENCE).query(&[("user_ids", user_ids)])).await
    }

    /// `GET /api/tokens`: my API tokens, newest first, without their secrets.
    pub async fn list_tokens(&self) -> Result<Page<ApiToken>, ClientError> {
        self.get(paths::TOKENS).await
    }

    /// `POST /api/tokens`: a new API token; its secret is in this answer only.
    pub async fn create_token(&self, request: &CreateTokenRequest) -> Result<CreatedToken, ClientError> {
        self.post(paths::TOKENS, request).await
    }

    /// `DELETE /api/tokens/{id}`: revoke one of my API tokens.
    pub async fn revoke_token(&self, token: ApiTokenId) -> Result<(), ClientError> {
        self.send_empty(self.request(Method::DELETE, &paths::token(token))).await
    }

    /// `GET /api/webhooks?community_id=` (admins): the community's incoming webhooks of
    /// channels I can read, newest first, without their tokens.
    pub async fn list_webhooks(&self, community: CommunityId) -> Result<Page<WebhookInfo>, ClientError> {
        let query = WebhookQuery { community_id: community };
        self.send(self.request(Method::GET, paths::WEBHOOKS).query(&query)).await
    }

    /// `POST /api/webhooks` (admins): a new incoming webhook; its URL and token are in this
    /// answer only.
    pub async fn create_webhook(&self, request: &CreateWebhookRequest) -> Result<CreatedWebhook, ClientError> {
        self.post(paths::WEBHOOKS, request).await
    }

    /// `DELETE /api/webhooks/{id}` (admins).
    pub async fn revoke_webhook(&self, webhook: WebhookId) -> Result<(), ClientError> {
        self.send_empty(self.request(Method::DELETE, &paths::webhook(webhook))).await
    }

    /// `GET /api/webhooks/{id}/deliveries` (admins): its last 100 deliveries, newest first.
    pub async fn list_webhook_deliveries(&self, webhook: WebhookId) -> Result<Page<WebhookDelivery>, ClientError> {
        self.get(&paths::webhook_deliveries(webhook)).await
    }
}
