//! My own preferences in the open channel: Alt+S stars or unstars it, Alt+M mutes it
//! (until unmuted) or unmutes it, Alt+N steps its notify level (all, mentions, none). Each
//! asks the API; its answer (and the `preferences.updated` event every session of mine
//! gets, also for changes made in the browser or the CLI) updates the list.

use ajet_shared::api::wire::{ChannelListItem, ChannelPreferences, NotifyLevel};

use super::{App, Effect, Notice, PreferenceChange};

impl App {
    fn open_item(&self) -> Option<&ChannelListItem> {
        self.current.and_then(|channel| self.list_item(channel))
    }

    fn set_preference(&self, change: impl FnOnce(&ChannelListItem) -> PreferenceChange) -> Vec<Effect> {
        match self.open_item() {
            Some(item) => vec![Effect::SetPreference { channel: item.channel.id, change: change(item) }],
            None => Vec::new(),
        }
    }

    pub(super) fn toggle_star(&mut self) -> Vec<Effect> {
        self.set_preference(|item| PreferenceChange::Starred(!item.starred))
    }

    pub(super) fn toggle_mute(&mut self) -> Vec<Effect> {
        let now = time::OffsetDateTime::now_utc();
        self.set_preference(|item| {
            let muted = item.muted_until.is_some_and(|until| until > now);
            PreferenceChange::MutedUntil((!muted).then(|| now + crate::output::MUTE_FOREVER))
        })
    }

    pub(super) fn cycle_notify_level(&mut self) -> Vec<Effect> {
        self.set_preference(|item| {
            PreferenceChange::NotifyLevel(match item.notify_level {
                NotifyLevel::All => NotifyLevel::Mentions,
                NotifyLevel::Mentions => NotifyLevel::None,
                NotifyLevel::None => NotifyLevel::All,
            })
        })
    }

    /// A change of mine answered: applied, and said on the status line.
    pub(super) fn on_preferences(&mut self, preferences: &ChannelPreferences) -> Vec<Effect> {
        self.apply_preferences(preferences);
        let summary = crate::output::preference_summary(preferences, time::OffsetDateTime::now_utc());
        let label = self.channel_label(preferences.channel_id);
        self.notice = Some(Notice { text: format!("{label}: {summary}"), error: false });
        Vec::new()
    }

    /// My preferences in a channel as they now are (an answer, or a live event).
    pub(super) fn apply_preferences(&mut self, preferences: &ChannelPreferences) {
        if let Some(item) = self.list_item_mut(preferences.channel_id) {
            item.notify_level = preferences.notify_level;
            item.muted_until = preferences.muted_until;
            item.starred = preferences.starred;
        }
    }
}
