//! Live events applied to the state: new, edited and deleted messages, reactions, typing,
//! presence, channel-list changes, unread and mention counts, notifications and the
//! ephemeral replies of slash commands.

use ajet_shared::api::wire::{ChannelKind, NotificationKind, ReactionChange};
use ajet_shared::events::EventPayload;

use super::{App, Effect, Entry, EntryState, LiveItem};
use ajet_shared::api::wire::UNREAD_CAP;

impl App {
    pub(super) fn on_live(&mut self, item: LiveItem) -> Vec<Effect> {
        match item {
            LiveItem::Event(event) => self.on_event(event.payload),
            LiveItem::Typing { channel_id, user_id, display_name, typing } => {
                if self.me.as_ref().is_some_and(|me| me.id == user_id) {
                    return Vec::new();
                }
                let typists = self.typing.entry(channel_id).or_default();
                typists.retain(|(id, _)| *id != user_id);
                if typing {
                    typists.push((user_id, display_name));
                }
                Vec::new()
            }
            LiveItem::Presence { online, offline } => {
                self.presence.extend(online.into_iter().map(|id| (id, true)));
                self.presence.extend(offline.into_iter().map(|id| (id, false)));
                Vec::new()
            }
            LiveItem::Resync => self.reload(),
        }
    }

    fn on_event(&mut self, payload: EventPayload) -> Vec<Effect> {
        match payload {
            EventPayload::MessageCreated(message) => {
                let channel = message.channel_id;
                let mine = self.me.as_ref().is_some_and(|me| message.author.user_id == Some(me.id));
                let stopped_typing = message.author.user_id;
                if let Some(typists) = self.typing.get_mut(&channel) {
                    typists.retain(|(id, _)| Some(*id) != stopped_typing);
                }
                if let Some(root) = message.parent_id {
                    if self.seen.insert(message.id)
                        && let Some(root_entry) = self.find_mut(root)
                    {
                        root_entry.reply_count += 1;
                    }
                    let previous = self.find(message.id).cloned();
                    self.insert_entry(Entry::from_event(message, previous.as_ref()));
                    return Vec::new();
                }
                let first_time = self.seen.insert(message.id);
                let previous = self.find(message.id).cloned();
                let entry = Entry::from_event(message, previous.as_ref());
                let id = entry.id;
                let detached = self.detached.contains(&channel);
                if self.timelines.contains_key(&channel) && !detached {
                    self.insert_entry(entry);
                }
                let mut effects = Vec::new();
                if self.list_item(channel).is_none() {
                    // A DM someone just opened with me, or a channel I was added to.
                    effects.push(Effect::LoadDms);
                    if let Some(community) = self.current_community() {
                        effects.push(Effect::LoadChannels(community.id));
                    }
                }
                let viewing = self.current == Some(channel) && self.thread.is_none() && !detached;
                if viewing && self.scroll == 0 {
                    if !mine {
                        self.read_sent.insert(channel, id);
                        effects.push(Effect::MarkRead { channel, message: id });
                    }
                } else if first_time
                    && !mine
                    && let Some(item) = self.list_item_mut(channel)
                {
                    item.unread_count = (item.unread_count + 1).min(UNREAD_CAP);
                    item.last_message_at = Some(time::OffsetDateTime::now_utc());
                }
                if let Some(item) = self.list_item(channel)
                    && matches!(item.channel.kind, ChannelKind::Dm | ChannelKind::GroupDm)
                {
                    self.bump_dm(channel);
                }
                effects
            }
            EventPayload::MessageUpdated(message) => {
                let previous = self.find(message.id).cloned();
                if previous.is_some() {
                    let mut entry = Entry::from_event(message, previous.as_ref());
                    if let Some(previous) = previous {
                        entry.state = previous.state;
                    }
                    self.insert_entry(entry);
                }
                Vec::new()
            }
            EventPayload::MessageDeleted(deleted) => {
                if let Some(entry) = self.find_mut(deleted.id) {
                    entry.forget();
                }
                if let Some(root) = deleted.parent_id
                    && let Some(root_entry) = self.find_mut(root)
                {
                    root_entry.reply_count = (root_entry.reply_count - 1).max(0);
                }
                Vec::new()
            }
            EventPayload::MessagesPurged(purged) => {
                for id in purged.ids {
                    let Some(entry) = self.find_mut(id) else { continue };
                    let counted = !entry.deleted;
                    entry.forget();
                    if let Some(root) = entry.parent_id.filter(|_| counted)
                        && let Some(root_entry) = self.find_mut(root)
                    {
                        root_entry.reply_count = (root_entry.reply_count - 1).max(0);
                    }
                }
                Vec::new()
            }
            EventPayload::ReactionAdded(change) => {
                self.apply_reaction(&change, 1);
                Vec::new()
            }
            EventPayload::ReactionRemoved(change) => {
                self.apply_reaction(&change, -1);
                Vec::new()
            }
            EventPayload::ChannelCreated(channel)
            | EventPayload::ChannelUpdated(channel)
            | EventPayload::ChannelArchived(channel) => {
                if let Some(item) = self.list_item_mut(channel.id) {
                    item.channel = channel.clone();
                }
                if channel.archived_at.is_some() && self.current == Some(channel.id) {
                    self.notice = Some(super::Notice { text: "this channel was archived".to_owned(), error: false });
                }
                channel.community_id.map(Effect::LoadChannels).into_iter().collect()
            }
            EventPayload::MemberJoined(member)
            | EventPayload::MemberLeft(member)
            | EventPayload::MemberRemoved(member) => {
                let about_me = self.me.as_ref().is_some_and(|me| me.id == member.user.id);
                if !about_me {
                    return Vec::new();
                }
                // My own membership changed: the lists (and maybe my communities) changed.
                let mut effects = vec![Effect::LoadMe, Effect::LoadDms];
                if let Some(channel) = member.channel_id
                    && self.current == Some(channel)
                    && self.list_item(channel).is_some()
                {
                    effects.push(Effect::LoadHistory { channel, around: None });
                }
                effects
            }
            EventPayload::CommunityUpdated(community) => {
                if let Some(existing) = self.communities.iter_mut().find(|c| c.id == community.id) {
                    existing.name = community.name;
                    existing.slug = community.slug;
                    existing.description = community.description;
                }
                Vec::new()
            }
            EventPayload::ReadUpdated(cursor) => {
                // Another client of mine read up to here: if it is the newest I know, nothing is unread.
                let newest = self.timelines.get(&cursor.channel_id).and_then(|t| t.last()).map(|e| e.id);
                match self.list_item(cursor.channel_id).and_then(|item| item.channel.community_id) {
                    _ if newest == Some(cursor.message_id) => {
                        if let Some(item) = self.list_item_mut(cursor.channel_id) {
                            item.unread_count = 0;
                        }
                        Vec::new()
                    }
                    Some(community) => vec![Effect::LoadChannels(community)],
                    None => vec![Effect::LoadDms],
                }
            }
            EventPayload::NotificationCreated(notification) => {
                if notification.kind == NotificationKind::Mention
                    && let Some(channel) = notification.channel.as_ref().map(|c| c.id)
                {
                    let viewing = self.current == Some(channel) && self.scroll == 0;
                    if let (false, Some(item)) = (viewing, self.list_item_mut(channel)) {
                        item.mention_count = (item.mention_count + 1).min(UNREAD_CAP);
                    }
                }
                if !self.notifications.iter().any(|n| n.id == notification.id) {
                    self.notifications.insert(0, notification);
                }
                Vec::new()
            }
            EventPayload::NotificationsRead(read) => {
                let now = time::OffsetDateTime::now_utc();
                for notification in &mut self.notifications {
                    if read.ids.contains(&notification.id) && notification.read_at.is_none() {
                        notification.read_at = Some(now);
                    }
                }
                Vec::new()
            }
            EventPayload::PreferencesUpdated(preferences) => {
                self.apply_preferences(&preferences);
                Vec::new()
            }
            EventPayload::CommandReplied(reply) => {
                self.push_ephemeral(reply.channel_id, reply.text, reply.error);
                Vec::new()
            }
            EventPayload::PinAdded(_) | EventPayload::PinRemoved(_) | EventPayload::AccessRevoked(_) => Vec::new(),
        }
    }

    fn apply_reaction(&mut self, change: &ReactionChange, delta: i64) {
        let mine = self.me.as_ref().is_some_and(|me| me.id == change.user_id);
        let Some(entry) = self.find_mut(change.message_id) else {
            return;
        };
        match entry.reactions.iter_mut().find(|r| r.emoji == change.emoji) {
            Some(reaction) => {
                reaction.count = (reaction.count + delta).max(0);
                if mine {
                    reaction.mine = delta > 0;
                }
            }
            None if delta > 0 => {
                entry.reactions.push(super::Reaction { emoji: change.emoji.clone(), count: delta, mine });
            }
            None => {}
        }
        entry.reactions.retain(|r| r.count > 0);
    }

    /// Most recent DM first, like the web sidebar.
    fn bump_dm(&mut self, channel: super::ChannelId) {
        if let Some(index) = self.dms.iter().position(|dm| dm.channel.id == channel) {
            let dm = self.dms.remove(index);
            self.dms.insert(0, dm);
        }
    }

    pub(super) fn find(&self, id: super::MessageId) -> Option<&Entry> {
        self.timelines
            .values()
            .chain(self.replies.values())
            .flatten()
            .chain(self.thread_roots.values())
            .find(|e| e.id == id)
    }

    pub(super) fn find_mut(&mut self, id: super::MessageId) -> Option<&mut Entry> {
        self.timelines
            .values_mut()
            .chain(self.replies.values_mut())
            .flatten()
            .chain(self.thread_roots.values_mut())
            .find(|e| e.id == id)
    }

    /// Whether `entry` was written by me (so I may edit or delete it).
    pub fn is_mine(&self, entry: &Entry) -> bool {
        !matches!(entry.state, EntryState::Ephemeral { .. })
            && self.me.as_ref().is_some_and(|me| entry.author.user_id == Some(me.id))
    }
}
