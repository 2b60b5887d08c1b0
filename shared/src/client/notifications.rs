//! The typed client's notification and catch-up calls: the inbox, marking read, and
//! what changed since a cursor.

use crate::api::paths;
use crate::api::wire::{
    Notification, NotificationQuery, NotificationsRead, Page, ReadNotificationsRequest, SyncQuery, SyncResponse,
};
use crate::client::{ApiClient, ClientError};
use reqwest::Method;

impl ApiClient {
    /// `GET /api/notifications`: my notifications, newest first.
    pub async fn list_notifications(&self, query: &NotificationQuery) -> Result<Page<Notification>, ClientError> {
        self.send(self.request(Method::GET, paths::NOTIFICATIONS).query(query)).await
    }

    /// `POST /api/notifications/read`: mark read by ids, all, or a channel's; answers the
    /// ids that changed.
    pub async fn read_notifications(
        &self,
        request: &ReadNotificationsRequest,
    ) -> Result<NotificationsRead, ClientError> {
        self.post(paths::NOTIFICATIONS_READ, request).await
    }

    /// `GET /api/sync`: what changed for me since `since` (a cursor from an earlier
    /// answer), or a cursor to start from.
    pub async fn sync(&self, since: Option<&str>) -> Result<SyncResponse, ClientError> {
        self.send(self.request(Method::GET, paths::SYNC).query(&SyncQuery { since: since.map(str::to_owned) })).await
    }
}
