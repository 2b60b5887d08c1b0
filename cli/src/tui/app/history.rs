//! Answers about messages applied to the state: history pages, the read cursor that
//! follows what is on screen, the "new" divider, sends and command outcomes, and where a
//! message goes in the loaded timelines and threads.

use ajet_shared::api::wire::{Author, CommandOutcome, Message};
use ajet_shared::domain::ids::{ChannelId, MessageId};
use time::OffsetDateTime;

use super::{App, Connection, Effect, Entry, EntryState, Focus, Notice};

impl App {
    pub(super) fn on_history(
        &mut self,
        channel: ChannelId,
        messages: Vec<Message>,
        around: Option<MessageId>,
    ) -> Vec<Effect> {
        self.seen.extend(messages.iter().map(|m| m.id));
        let mut entries: Vec<Entry> =
            messages.into_iter().filter(|m| m.parent_id.is_none()).map(Entry::from_message).collect();
        // Keep what is still pending or ephemeral: the page does not know about it.
        if let Some(old) = self.timelines.get(&channel) {
            for entry in old {
                if !matches!(entry.state, EntryState::Sent) && !entries.iter().any(|e| e.id == entry.id) {
                    entries.push(entry.clone());
                }
            }
        }
        self.timelines.insert(channel, entries);
        if around.is_none() {
            self.place_new_divider(channel);
        }
        if around.is_some() && self.current == Some(channel) {
            self.selected = around;
            self.focus = Focus::Messages;
        }
        if self.current == Some(channel) { self.mark_viewed(channel) } else { Vec::new() }
    }

    /// Puts the "new" divider above the channel's unread messages (its unread count from
    /// the end), unless it has one already.
    pub(super) fn place_new_divider(&mut self, channel: ChannelId) {
        let unread = self.list_item(channel).map_or(0, |item| usize::try_from(item.unread_count).unwrap_or(0));
        let Some(entries) = self.timelines.get(&channel) else {
            return;
        };
        if unread > 0
            && !self.new_from.contains_key(&channel)
            && let Some(first_unread) = entries.len().checked_sub(unread).and_then(|i| entries.get(i))
        {
            self.new_from.insert(channel, first_unread.id);
        }
    }

    /// A list just loaded may predate the read cursor sent for the channel on screen: what
    /// is on screen at its newest is read.
    pub(super) fn clear_counts_of_what_is_viewed(&mut self) {
        let Some(channel) = self.current else {
            return;
        };
        if self.scroll == 0
            && self.thread.is_none()
            && !self.detached.contains(&channel)
            && self.timelines.contains_key(&channel)
            && let Some(item) = self.list_item_mut(channel)
        {
            item.unread_count = 0;
            item.mention_count = 0;
        }
    }

    /// The channel is on screen: advance the read cursor to its last message.
    pub(super) fn mark_viewed(&mut self, channel: ChannelId) -> Vec<Effect> {
        // An older stretch is not what is newest: moving the cursor there would mark unread.
        if self.detached.contains(&channel) {
            return Vec::new();
        }
        let Some(last) = self
            .timelines
            .get(&channel)
            .and_then(|t| t.iter().rev().find(|e| matches!(e.state, EntryState::Sent)).map(|e| e.id))
        else {
            return Vec::new();
        };
        let had_unread = self.list_item(channel).is_some_and(|item| item.unread_count > 0 || item.mention_count > 0);
        if let Some(item) = self.list_item_mut(channel) {
            item.unread_count = 0;
            item.mention_count = 0;
        }
        if (had_unread || self.scroll == 0) && self.read_sent.get(&channel) != Some(&last) {
            self.read_sent.insert(channel, last);
            vec![Effect::MarkRead { channel, message: last }]
        } else {
            Vec::new()
        }
    }

    pub(super) fn on_sent(&mut self, client_msg_id: &str, result: Result<Message, String>) -> Vec<Effect> {
        match result {
            Ok(message) => {
                let entry = Entry::from_message(message);
                self.insert_entry(entry);
                Vec::new()
            }
            Err(reason) => {
                for timeline in self.timelines.values_mut().chain(self.replies.values_mut()) {
                    for entry in timeline.iter_mut() {
                        if entry.client_msg_id.as_deref() == Some(client_msg_id) {
                            entry.state = EntryState::Failed(reason.clone());
                        }
                    }
                }
                self.notice = Some(Notice { text: format!("not sent: {reason}"), error: true });
                Vec::new()
            }
        }
    }

    pub(super) fn on_command_ran(&mut self, channel: ChannelId, result: Result<CommandOutcome, String>) -> Vec<Effect> {
        match result {
            // The reply also arrives as `command.replied` on the stream; show it now only
            // when the stream is down, so it appears once.
            Ok(outcome) => {
                if let (Some(reply), false) = (outcome.reply, self.connection == Connection::Live) {
                    self.push_ephemeral(channel, reply, false);
                }
                if let Some(message) = outcome.message {
                    self.insert_entry(Entry::from_message(message));
                }
            }
            // Refusals are pushed as `command.replied` too (when the channel was visible).
            Err(reason) if self.connection == Connection::Live => {
                self.notice = Some(Notice { text: reason, error: true });
            }
            Err(reason) => self.push_ephemeral(channel, reason, true),
        }
        Vec::new()
    }

    /// Puts a message where it belongs: replacing the same id or my pending copy, else appended.
    pub(super) fn insert_entry(&mut self, entry: Entry) {
        let list = match entry.parent_id {
            Some(root) => match self.replies.get_mut(&root) {
                Some(list) => list,
                None => return,
            },
            None => self.timelines.entry(entry.channel_id).or_default(),
        };
        let same =
            |e: &Entry| e.id == entry.id || (entry.client_msg_id.is_some() && e.client_msg_id == entry.client_msg_id);
        match list.iter_mut().find(|e| same(e)) {
            Some(existing) => *existing = entry,
            None => list.push(entry),
        }
    }

    pub(super) fn push_ephemeral(&mut self, channel: ChannelId, text: String, error: bool) {
        let author =
            Author { user_id: None, username: None, display_name: "ajet-chat".to_owned(), avatar_url: None, bot: None };
        let id = MessageId::generate();
        self.timelines.entry(channel).or_default().push(Entry {
            id,
            channel_id: channel,
            parent_id: None,
            author,
            body: text,
            created_at: OffsetDateTime::now_utc(),
            edited: false,
            deleted: false,
            reply_count: 0,
            reactions: Vec::new(),
            files: Vec::new(),
            previews: Vec::new(),
            client_msg_id: None,
            state: EntryState::Ephemeral { error },
        });
        if self.current == Some(channel) {
            self.scroll = 0;
        }
    }
}
