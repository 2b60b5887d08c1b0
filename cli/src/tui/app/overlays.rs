//! Keys while an overlay is open: help, search (type, Enter searches, Enter again jumps
//! to the hit), notifications (Enter opens, `a` marks all read) and the switcher.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::{App, Effect, Focus, Overlay};

impl App {
    pub(super) fn on_overlay_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let Some(overlay) = self.overlay.as_mut() else {
            return Vec::new();
        };
        if key.code == KeyCode::Esc {
            self.overlay = None;
            return Vec::new();
        }
        match overlay {
            Overlay::Help => {
                if key.code == KeyCode::Char('?') || key.code == KeyCode::Char('q') {
                    self.overlay = None;
                }
                Vec::new()
            }
            Overlay::Search(search) => match key.code {
                KeyCode::Up => {
                    search.selected = search.selected.saturating_sub(1);
                    Vec::new()
                }
                KeyCode::Down => {
                    search.selected = (search.selected + 1).min(search.hits.len().saturating_sub(1));
                    Vec::new()
                }
                KeyCode::Enter if search.searched.as_deref() == Some(search.query.trim()) => {
                    match search.hits.get(search.selected).cloned() {
                        Some(hit) => {
                            self.overlay = None;
                            self.jump_to(hit.channel.id, hit.around, hit.message.parent_id)
                        }
                        None => Vec::new(),
                    }
                }
                KeyCode::Enter => {
                    let query = search.query.trim().to_owned();
                    if query.is_empty() { Vec::new() } else { vec![Effect::Search(query)] }
                }
                KeyCode::Backspace => {
                    search.query.pop();
                    Vec::new()
                }
                KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                    search.query.push(c);
                    Vec::new()
                }
                _ => Vec::new(),
            },
            Overlay::Switcher { query, selected } => match key.code {
                KeyCode::Up => {
                    *selected = selected.saturating_sub(1);
                    Vec::new()
                }
                KeyCode::Down => {
                    *selected += 1;
                    Vec::new()
                }
                KeyCode::Enter => {
                    let (query, selected) = (query.clone(), *selected);
                    let choices = self.switcher_choices(&query);
                    match choices.get(selected.min(choices.len().saturating_sub(1))) {
                        Some((channel, _)) => {
                            let channel = *channel;
                            self.overlay = None;
                            self.open_channel(channel)
                        }
                        None => Vec::new(),
                    }
                }
                KeyCode::Backspace => {
                    query.pop();
                    *selected = 0;
                    Vec::new()
                }
                KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                    query.push(c);
                    *selected = 0;
                    Vec::new()
                }
                _ => Vec::new(),
            },
            Overlay::Notifications { selected } => match key.code {
                KeyCode::Up | KeyCode::Char('k') => {
                    *selected = selected.saturating_sub(1);
                    Vec::new()
                }
                KeyCode::Down | KeyCode::Char('j') => {
                    *selected = (*selected + 1).min(self.notifications.len().saturating_sub(1));
                    Vec::new()
                }
                KeyCode::Char('a') => vec![Effect::MarkNotificationsRead],
                KeyCode::Enter => {
                    let target = self
                        .notifications
                        .get(*selected)
                        .and_then(|n| Some((n.channel.as_ref()?.id, n.message_id?, n.parent_id)));
                    match target {
                        Some((channel, message, parent)) => {
                            self.overlay = None;
                            self.jump_to(channel, parent.unwrap_or(message), parent)
                        }
                        None => Vec::new(),
                    }
                }
                _ => Vec::new(),
            },
        }
    }

    /// Opens `channel` at `message` (and the thread of `parent`, for a reply).
    fn jump_to(
        &mut self,
        channel: super::ChannelId,
        message: super::MessageId,
        parent: Option<super::MessageId>,
    ) -> Vec<Effect> {
        let mut effects = self.open_channel(channel);
        effects.retain(|e| !matches!(e, Effect::LoadHistory { .. }));
        effects.push(Effect::LoadHistory { channel, around: Some(message) });
        self.selected = Some(message);
        self.focus = Focus::Messages;
        if let Some(root) = parent {
            effects.extend(self.open_thread(root));
        }
        effects
    }
}
