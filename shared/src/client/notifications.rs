//! The typed client's notification, command and catch-up calls: the inbox, marking read,
//! slash commands, and what changed since a cursor.

use crate::api::paths;
use crate::api::wire::{
    CommandInfo, CommandOutcome, CommandQuery, Notification, NotificationQuery, NotificationsRead, Page,
    ReadNotificationsRequest, RunCommandRequest, SyncQuery, SyncResponse,
};
use crate::client::{ApiClient, ClientError};
use crate::domain::ids::ChannelId;
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

    /// `GET /api/commands`: the slash commands I may run (in `channel`: admin ones too if I
    /// am an admin of its community).
    pub async fn list_commands(&self, channel: Option<ChannelId>) -> Result<Vec<CommandInfo>, ClientError> {
        self.send(self.request(Method::GET, paths::COMMANDS).query(&CommandQuery { channel_id: channel })).await
    }

    /// `POST /api/commands`: run a slash command typed in `channel`.
    pub async fn run_command(&self, channel: ChannelId, text: &str) -> Result<CommandOutcome, ClientError> {
        self.post(paths::COMMANDS, &RunCommandRequest { channel_id: channel, text: text.to_owned() }).await
    }

    /// `GET /api/sync`: what changed for me since `since` (a cursor from an earlier
    /// answer), or a cursor to start from.
    pub async fn sync(&self, since: Option<&str>) -> Result<SyncResponse, ClientError> {
        self.send(self.request(Method::GET, paths::SYNC).query(&SyncQuery { since: since.map(str::to_owned) })).await
    }
}
