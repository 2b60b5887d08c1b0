//! A message as the TUI keeps it, from history or from the stream, with its state
//! (sent, pending, failed, or a command's reply only I see).

use ajet_shared::api::wire::{Attachment, Author, LinkPreview, Message};
use ajet_shared::domain::ids::{ChannelId, MessageId};
use ajet_shared::events::EventMessage;
use time::OffsetDateTime;

/// A message as the TUI keeps it: from history (`Message`) or the stream (`EventMessage`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub id: MessageId,
    pub channel_id: ChannelId,
    pub parent_id: Option<MessageId>,
    pub author: Author,
    pub body: String,
    pub created_at: OffsetDateTime,
    pub edited: bool,
    pub deleted: bool,
    pub reply_count: i32,
    pub reactions: Vec<Reaction>,
    /// The files on it (gone with a delete).
    pub files: Vec<Attachment>,
    /// What its links' pages say (added after the post by the unfurl worker).
    pub previews: Vec<LinkPreview>,
    pub client_msg_id: Option<String>,
    pub state: EntryState,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reaction {
    pub emoji: String,
    pub count: i64,
    pub mine: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryState {
    Sent,
    /// Shown at once, not yet confirmed.
    Pending,
    Failed(String),
    /// A slash command's reply, only visible to me.
    Ephemeral {
        error: bool,
    },
}

impl Entry {
    /// A delete: only the tombstone stays (no text, reactions or files).
    pub(super) fn forget(&mut self) {
        self.deleted = true;
        self.body.clear();
        self.reactions.clear();
        self.files.clear();
        self.previews.clear();
    }

    pub(super) fn from_message(message: Message) -> Self {
        Self {
            id: message.id,
            channel_id: message.channel_id,
            parent_id: message.parent_id,
            author: message.author,
            body: message.body_md,
            created_at: message.created_at,
            edited: message.edited_at.is_some(),
            deleted: message.deleted_at.is_some(),
            reply_count: message.reply_count,
            reactions: message
                .reactions
                .into_iter()
                .map(|r| Reaction { emoji: r.emoji, count: r.count, mine: r.reacted_by_me })
                .collect(),
            files: message.attachments,
            previews: message.link_previews,
            client_msg_id: message.client_msg_id,
            state: EntryState::Sent,
        }
    }

    /// From an event, keeping what `previous` knew about my own reactions.
    pub(super) fn from_event(message: EventMessage, previous: Option<&Entry>) -> Self {
        let mine =
            |emoji: &str| previous.is_some_and(|entry| entry.reactions.iter().any(|r| r.emoji == emoji && r.mine));
        Self {
            id: message.id,
            channel_id: message.channel_id,
            parent_id: message.parent_id,
            author: message.author,
            body: message.body_md,
            created_at: message.created_at,
            edited: message.edited_at.is_some(),
            deleted: message.deleted_at.is_some(),
            reply_count: message.reply_count,
            reactions: message
                .reactions
                .into_iter()
                .map(|r| Reaction { mine: mine(&r.emoji), emoji: r.emoji, count: r.count })
                .collect(),
            files: message.attachments,
            previews: message.link_previews,
            client_msg_id: message.client_msg_id,
            state: EntryState::Sent,
        }
    }
}
