//! A message as broadcast in `message.created` / `message.updated`: the same for every
//! receiver, so it carries nothing about any one viewer (no `reacted_by_me`), unlike the
//! per-viewer `Message` of the API's answers.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::api::wire::{Attachment, Author, LinkPreview, Message};
use crate::domain::ids::{ChannelId, MessageId, UserId};

/// A message as every member of its channel may see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventMessage {
    pub id: MessageId,
    pub channel_id: ChannelId,
    pub channel_seq: i64,
    /// Carries the bot marker (`author.bot`) of webhook posts.
    pub author: Author,
    /// Empty once deleted.
    pub body_md: String,
    pub parent_id: Option<MessageId>,
    pub client_msg_id: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub edited_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub deleted_at: Option<OffsetDateTime>,
    pub reply_count: i32,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_reply_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub pinned_at: Option<OffsetDateTime>,
    pub pinned_by: Option<UserId>,
    /// Aggregated per emoji, in order of first use; who reacted is each viewer's own query.
    pub reactions: Vec<ReactionCount>,
    #[serde(default)]
    pub link_previews: Vec<LinkPreview>,
    /// Its files (what each is, never the bytes); empty once deleted.
    #[serde(default)]
    pub attachments: Vec<Attachment>,
}

/// How many reacted with one emoji.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReactionCount {
    pub emoji: String,
    pub count: i64,
}

impl EventMessage {
    /// A user's message as it is being posted: no edit, reply, pin, reaction, preview or
    /// file yet. The statement that inserts it fills in what only the row knows (its
    /// sequence, time and the author's names).
    #[must_use]
    pub fn posted_by(
        id: MessageId,
        channel_id: ChannelId,
        author: UserId,
        body_md: String,
        parent_id: Option<MessageId>,
        client_msg_id: Option<String>,
    ) -> Self {
        Self {
            id,
            channel_id,
            channel_seq: 0,
            author: Author {
                user_id: Some(author),
                username: None,
                display_name: String::new(),
                avatar_url: None,
                bot: None,
            },
            body_md,
            parent_id,
            client_msg_id,
            created_at: OffsetDateTime::now_utc(),
            edited_at: None,
            deleted_at: None,
            reply_count: 0,
            last_reply_at: None,
            pinned_at: None,
            pinned_by: None,
            reactions: Vec::new(),
            link_previews: Vec::new(),
            attachments: Vec::new(),
        }
    }
}

impl From<Message> for EventMessage {
    /// Drops whatever the message says about the viewer it was loaded for.
    fn from(message: Message) -> Self {
        Self {
            id: message.id,
            channel_id: message.channel_id,
            channel_seq: message.channel_seq,
            author: message.author,
            body_md: message.body_md,
            parent_id: message.parent_id,
            client_msg_id: message.client_msg_id,
            created_at: message.created_at,
            edited_at: message.edited_at,
            deleted_at: message.deleted_at,
            reply_count: message.reply_count,
            last_reply_at: message.last_reply_at,
            pinned_at: message.pinned_at,
            pinned_by: message.pinned_by,
            reactions: message
                .reactions
                .into_iter()
                .map(|reaction| ReactionCount { emoji: reaction.emoji, count: reaction.count })
                .collect(),
            link_previews: message.link_previews,
            attachments: message.attachments,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::wire::ReactionSummary;

    #[test]
    fn a_broadcast_message_carries_no_viewer_specific_field() {
        let message = Message {
            id: MessageId::generate(),
            channel_id: ChannelId::generate(),
            channel_seq: 1,
            author: Author {
                user_id: Some(UserId::generate()),
                username: Some("alice".into()),
                display_name: "Alice".into(),
                avatar_url: None,
                bot: None,
            },
            body_md: "hi".into(),
            parent_id: None,
            client_msg_id: None,
            created_at: OffsetDateTime::UNIX_EPOCH,
            edited_at: None,
            deleted_at: None,
            reply_count: 0,
            last_reply_at: None,
            pinned_at: None,
            pinned_by: None,
            reactions: vec![ReactionSummary { emoji: "🎉".into(), count: 2, reacted_by_me: true }],
            link_previews: Vec::new(),
            attachments: Vec::new(),
        };
        let json = serde_json::to_value(EventMessage::from(message)).expect("serializes");
        assert_eq!(json["reactions"], serde_json::json!([{"emoji": "🎉", "count": 2}]));
        assert!(!json.to_string().contains("by_me"), "{json}");
        assert!(json["author"].get("bot").is_some_and(serde_json::Value::is_null), "people carry a null marker");
    }
}
