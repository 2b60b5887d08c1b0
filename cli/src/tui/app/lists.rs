//! Read-only views of the state the views and keys share: the sidebar's entries, labels,
//! the messages shown, the switcher's choices, the unread notifications.

use ajet_shared::api::wire::{ChannelKind, ChannelListItem, Community};
use ajet_shared::domain::ids::ChannelId;

use super::{App, Entry};

impl App {
    pub fn current_community(&self) -> Option<&Community> {
        self.communities.get(self.community)
    }

    /// The sidebar's entries for the current community: the starred ones (channels and
    /// DMs), then its other joined channels, then the other DMs; each group in the server's
    /// order.
    pub fn sidebar(&self) -> Vec<&ChannelListItem> {
        let channels = self
            .current_community()
            .and_then(|c| self.channels.get(&c.id))
            .into_iter()
            .flatten()
            .filter(|item| item.is_member && item.channel.archived_at.is_none());
        let mut items: Vec<&ChannelListItem> = channels.chain(self.dms.iter()).collect();
        items.sort_by_key(|item| !item.starred);
        items
    }

    pub fn list_item(&self, channel: ChannelId) -> Option<&ChannelListItem> {
        self.channels.values().flatten().chain(self.dms.iter()).find(|item| item.channel.id == channel)
    }

    pub(super) fn list_item_mut(&mut self, channel: ChannelId) -> Option<&mut ChannelListItem> {
        self.channels.values_mut().flatten().chain(self.dms.iter_mut()).find(|item| item.channel.id == channel)
    }

    /// What the open channel is called: `#name`, or the other people of a DM.
    pub fn channel_label(&self, channel: ChannelId) -> String {
        self.list_item(channel).map_or_else(|| "…".to_owned(), |item| self.item_label(item))
    }

    pub fn item_label(&self, item: &ChannelListItem) -> String {
        match item.channel.kind {
            ChannelKind::Dm | ChannelKind::GroupDm => {
                let me = self.me.as_ref().map(|u| u.id);
                let names: Vec<&str> =
                    item.members.iter().filter(|u| Some(u.id) != me).map(|u| u.display_name.as_str()).collect();
                if names.is_empty() { "me".to_owned() } else { names.join(", ") }
            }
            ChannelKind::Public | ChannelKind::Private => {
                format!("#{}", item.channel.name.as_deref().unwrap_or("?"))
            }
        }
    }

    /// The messages shown in the pane: the open thread (root, then replies) or the channel.
    pub fn visible_entries(&self) -> Vec<&Entry> {
        let Some(channel) = self.current else {
            return Vec::new();
        };
        let timeline = self.timelines.get(&channel).map(Vec::as_slice).unwrap_or_default();
        match self.thread {
            Some(root) => timeline
                .iter()
                .find(|e| e.id == root)
                .or_else(|| self.thread_roots.get(&root))
                .into_iter()
                .chain(self.replies.get(&root).map(Vec::as_slice).unwrap_or_default())
                .collect(),
            None => timeline.iter().collect(),
        }
    }

    /// The switcher's choices for `query` (a case-insensitive part of the label): every
    /// joined channel of every community (labelled `Community #name`) and every DM.
    pub fn switcher_choices(&self, query: &str) -> Vec<(ChannelId, String)> {
        let query = query.to_lowercase();
        let channels = self.communities.iter().flat_map(|community| {
            self.channels
                .get(&community.id)
                .into_iter()
                .flatten()
                .filter(|item| item.is_member && item.channel.archived_at.is_none())
                .map(|item| (item.channel.id, format!("{} {}", community.name, self.item_label(item))))
        });
        let dms = self.dms.iter().map(|item| (item.channel.id, format!("DM {}", self.item_label(item))));
        channels.chain(dms).filter(|(_, label)| label.to_lowercase().contains(&query)).collect()
    }

    pub fn unread_notifications(&self) -> usize {
        self.notifications.iter().filter(|n| n.read_at.is_none()).count()
    }
}
