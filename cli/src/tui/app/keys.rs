//! Keys: navigation, the selected message's actions, the composer (send, edit, react,
//! slash commands) and completion of commands, `@people` and `#channels`; an open
//! overlay's keys are in `overlays`.
//! Every binding is listed in `input::KEYS`, which the help overlay shows.

use ajet_shared::api::wire::ChannelKind;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::{App, Completion, CompletionItem, ComposeMode, Effect, Entry, EntryState, Focus, Overlay, SearchView};

/// How many lines PgUp/PgDn move.
const PAGE: usize = 10;
/// How many completion candidates are offered at once.
const COMPLETIONS: usize = 6;

impl App {
    pub(super) fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        if key.kind == KeyEventKind::Release {
            return Vec::new();
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        match key.code {
            KeyCode::Char('c' | 'q') if ctrl => {
                self.quit = true;
                return vec![Effect::Quit];
            }
            KeyCode::F(1) => {
                self.overlay = if self.overlay == Some(Overlay::Help) { None } else { Some(Overlay::Help) };
                return Vec::new();
            }
            _ => {}
        }
        if self.overlay.is_some() {
            return self.on_overlay_key(key);
        }
        match key.code {
            KeyCode::Up if alt => return self.step_channel(-1),
            KeyCode::Down if alt => return self.step_channel(1),
            KeyCode::Left if alt => return self.step_community(-1),
            KeyCode::Right if alt => return self.step_community(1),
            // Not with Ctrl too: AltGr arrives as Ctrl+Alt, and types characters.
            KeyCode::Char('s' | 'S') if alt && !ctrl => return self.toggle_star(),
            KeyCode::Char('m' | 'M') if alt && !ctrl => return self.toggle_mute(),
            KeyCode::Char('n' | 'N') if alt && !ctrl => return self.cycle_notify_level(),
            KeyCode::Char('k') if ctrl => {
                self.overlay = Some(Overlay::Switcher { query: String::new(), selected: 0 });
                return Vec::new();
            }
            KeyCode::Char('f') if ctrl => {
                self.overlay = Some(Overlay::Search(SearchView {
                    query: String::new(),
                    searched: None,
                    hits: Vec::new(),
                    selected: 0,
                }));
                return Vec::new();
            }
            KeyCode::Char('n') if ctrl => {
                self.overlay = Some(Overlay::Notifications { selected: 0 });
                return vec![Effect::LoadNotifications];
            }
            KeyCode::Char('t') if ctrl => return self.thread_of_selection(),
            KeyCode::PageUp => return self.scroll_up(PAGE),
            KeyCode::PageDown => {
                let at_bottom = self.scroll == 0;
                self.scroll = self.scroll.saturating_sub(PAGE);
                return match (self.scroll, self.current) {
                    (0, Some(channel)) if at_bottom => self.reattach(channel),
                    (0, Some(channel)) => self.mark_viewed(channel),
                    _ => Vec::new(),
                };
            }
            KeyCode::Esc => return self.escape(),
            KeyCode::Tab if self.completion.is_none() => {
                self.focus = match self.focus {
                    Focus::Composer => {
                        self.selected = self.visible_entries().last().map(|e| e.id);
                        Focus::Messages
                    }
                    Focus::Messages => {
                        self.selected = None;
                        Focus::Composer
                    }
                };
                return Vec::new();
            }
            _ => {}
        }
        match self.focus {
            Focus::Messages => self.on_messages_key(key),
            Focus::Composer => self.on_composer_key(key),
        }
    }

    /// Scrolls towards older messages, at most to the first one; there, asks for the page
    /// before it if the history goes further back.
    fn scroll_up(&mut self, rows: usize) -> Vec<Effect> {
        let (total, height) = crate::tui::view::message_rows(self);
        let top = total.saturating_sub(height);
        self.scroll = (self.scroll + rows).min(top);
        match (self.current, self.thread) {
            (Some(channel), None) if self.scroll == top => self.load_older(channel),
            _ => Vec::new(),
        }
    }

    fn load_older(&mut self, channel: super::ChannelId) -> Vec<Effect> {
        let first = self.timelines.get(&channel).and_then(|t| t.iter().find(|e| matches!(e.state, EntryState::Sent)));
        match first.map(|e| e.id) {
            Some(before) if self.older.contains(&channel) && self.loading_older.insert(channel) => {
                vec![Effect::LoadOlder { channel, before }]
            }
            _ => Vec::new(),
        }
    }

    fn escape(&mut self) -> Vec<Effect> {
        if self.completion.take().is_some() {
            return Vec::new();
        }
        if self.compose != ComposeMode::New {
            self.compose = ComposeMode::New;
            self.reset_composer();
        } else if self.focus == Focus::Messages {
            self.focus = Focus::Composer;
            self.selected = None;
        } else if self.thread.is_some() {
            self.thread = None;
            self.scroll = 0;
            self.reset_composer();
        } else {
            self.scroll = 0;
            self.notice = None;
            if let Some(channel) = self.current {
                return self.reattach(channel);
            }
        }
        Vec::new()
    }

    /// Back from an older stretch to the channel's newest messages.
    fn reattach(&mut self, channel: super::ChannelId) -> Vec<Effect> {
        if self.detached.remove(&channel) {
            self.selected = None;
            self.focus = Focus::Composer;
            vec![Effect::LoadHistory { channel, around: None }]
        } else {
            Vec::new()
        }
    }

    fn step_channel(&mut self, delta: isize) -> Vec<Effect> {
        let ids: Vec<_> = self.sidebar().iter().map(|item| item.channel.id).collect();
        if ids.is_empty() {
            return Vec::new();
        }
        let here = self.current.and_then(|c| ids.iter().position(|id| *id == c));
        let next = match here {
            Some(i) => (i as isize + delta).rem_euclid(ids.len() as isize) as usize,
            None => 0,
        };
        self.open_channel(ids[next])
    }

    fn step_community(&mut self, delta: isize) -> Vec<Effect> {
        if self.communities.len() < 2 {
            return Vec::new();
        }
        self.community = (self.community as isize + delta).rem_euclid(self.communities.len() as isize) as usize;
        let community = self.communities[self.community].id;
        let first = self
            .channels
            .get(&community)
            .and_then(|list| list.iter().find(|item| item.is_member && item.channel.archived_at.is_none()))
            .map(|item| item.channel.id);
        let mut effects = vec![Effect::LoadChannels(community), Effect::LoadMembers(community)];
        match first {
            Some(channel) => effects.extend(self.open_channel(channel)),
            None => {
                self.current = None;
                self.pending_open = None;
            }
        }
        effects
    }

    fn thread_of_selection(&mut self) -> Vec<Effect> {
        let root = self
            .selected
            .and_then(|id| self.find(id))
            .map(|e| e.parent_id.unwrap_or(e.id))
            .or_else(|| self.visible_entries().last().map(|e| e.id));
        match root {
            Some(root) if self.thread.is_none() => self.open_thread(root),
            _ => Vec::new(),
        }
    }

    fn on_messages_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        if let Some(message) = self.confirm_delete.take() {
            self.notice = None;
            return if key.code == KeyCode::Char('y') { vec![Effect::Delete(message)] } else { Vec::new() };
        }
        let entries: Vec<&Entry> = self.visible_entries();
        let index = self.selected.and_then(|id| entries.iter().position(|e| e.id == id));
        let selected = index.and_then(|i| entries.get(i)).map(|e| (*e).clone());
        match key.code {
            KeyCode::Up | KeyCode::Char('k') => {
                let i = index.map_or(entries.len().saturating_sub(1), |i| i.saturating_sub(1));
                self.selected = entries.get(i).map(|e| e.id);
                // At the first message: fetch the page before it.
                match (i, self.current, self.thread) {
                    (0, Some(channel), None) => self.load_older(channel),
                    _ => Vec::new(),
                }
            }
            KeyCode::Down | KeyCode::Char('j') => {
                match index {
                    Some(i) if i + 1 < entries.len() => self.selected = Some(entries[i + 1].id),
                    _ => {
                        self.selected = None;
                        self.focus = Focus::Composer;
                    }
                }
                Vec::new()
            }
            KeyCode::Char('?') => {
                self.overlay = Some(Overlay::Help);
                Vec::new()
            }
            KeyCode::Enter | KeyCode::Char('t') => self.thread_of_selection(),
            KeyCode::Char('r') => match selected {
                Some(entry) if !entry.deleted => {
                    self.compose = ComposeMode::React(entry.id);
                    self.focus = Focus::Composer;
                    self.reset_composer();
                    Vec::new()
                }
                _ => Vec::new(),
            },
            KeyCode::Char('e') => match selected {
                Some(entry) if self.is_mine(&entry) && !entry.deleted => {
                    self.start_edit(&entry);
                    Vec::new()
                }
                _ => Vec::new(),
            },
            KeyCode::Char('D') | KeyCode::Delete => {
                if let Some(entry) = selected.filter(|entry| self.is_mine(entry) && !entry.deleted) {
                    self.confirm_delete = Some(entry.id);
                    self.notice = Some(super::Notice {
                        text: "Delete this message? y deletes, any other key keeps it".to_owned(),
                        error: true,
                    });
                }
                Vec::new()
            }
            // Any other character starts a message.
            KeyCode::Char(_) if !key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) => {
                self.focus = Focus::Composer;
                self.selected = None;
                self.on_composer_key(key)
            }
            _ => Vec::new(),
        }
    }

    fn start_edit(&mut self, entry: &Entry) {
        self.compose = ComposeMode::Edit(entry.id);
        self.focus = Focus::Composer;
        self.reset_composer();
        self.composer.insert_str(&entry.body);
    }

    fn on_composer_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        let shift = key.modifiers.contains(KeyModifiers::SHIFT);
        let empty = self.composer.is_empty();
        match key.code {
            KeyCode::Char('?') if empty && self.compose == ComposeMode::New => {
                self.overlay = Some(Overlay::Help);
                return Vec::new();
            }
            KeyCode::Up | KeyCode::Down if self.completion.is_some() => {
                if let Some(completion) = &mut self.completion {
                    let last = completion.items.len().saturating_sub(1);
                    completion.selected = if key.code == KeyCode::Up {
                        completion.selected.checked_sub(1).unwrap_or(last)
                    } else if completion.selected >= last {
                        0
                    } else {
                        completion.selected + 1
                    };
                }
                return Vec::new();
            }
            KeyCode::Up if empty && self.compose == ComposeMode::New => {
                let last_mine =
                    self.visible_entries().into_iter().rev().find(|e| self.is_mine(e) && !e.deleted).cloned();
                if let Some(entry) = last_mine {
                    self.start_edit(&entry);
                }
                return Vec::new();
            }
            KeyCode::Tab => {
                self.accept_completion();
                return Vec::new();
            }
            KeyCode::Enter if alt || shift => {
                self.composer.insert_newline();
                return Vec::new();
            }
            KeyCode::Char('j') if ctrl => {
                self.composer.insert_newline();
                return Vec::new();
            }
            KeyCode::Enter if self.completion.as_ref().is_some_and(Completion::changes_word) => {
                self.accept_completion();
                return Vec::new();
            }
            KeyCode::Enter => return self.submit(),
            _ => {}
        }
        let changed = self.composer.input(key);
        self.refresh_completion();
        match (changed, &self.compose, self.current) {
            (true, ComposeMode::New, Some(channel)) if !self.composer.is_empty() && !self.text().starts_with('/') => {
                vec![Effect::Typing(channel)]
            }
            _ => Vec::new(),
        }
    }

    /// The composer's text.
    pub fn text(&self) -> String {
        self.composer.lines().join("\n")
    }

    fn submit(&mut self) -> Vec<Effect> {
        let text = self.text();
        let trimmed = text.trim();
        let Some(channel) = self.current else {
            return Vec::new();
        };
        if trimmed.is_empty() {
            return Vec::new();
        }
        let effects = match self.compose.clone() {
            ComposeMode::React(message) => {
                let emoji = trimmed.to_owned();
                let mine = self.find(message).is_some_and(|e| e.reactions.iter().any(|r| r.emoji == emoji && r.mine));
                vec![Effect::React { message, emoji, add: !mine }]
            }
            ComposeMode::Edit(message) => {
                if let Some(entry) = self.find_mut(message) {
                    let before = (std::mem::replace(&mut entry.body, text.clone()), entry.edited);
                    entry.edited = true;
                    self.edits.insert(message, before);
                }
                vec![Effect::Edit { message, body: text }]
            }
            ComposeMode::New if trimmed.starts_with('/') && !trimmed.starts_with("//") => {
                vec![Effect::RunCommand { channel, text: trimmed.to_owned() }]
            }
            ComposeMode::New => {
                // `//x` sends `/x` as text.
                let body = if trimmed.starts_with("//") { text.replacen("//", "/", 1) } else { text };
                let client_msg_id = self.next_client_msg_id();
                let parent = self.thread;
                let author = self.me.as_ref().map_or_else(
                    || ajet_shared::api::wire::Author {
                        user_id: None,
                        username: None,
                        display_name: "me".to_owned(),
                        avatar_url: None,
                        bot: None,
                    },
                    |me| ajet_shared::api::wire::Author {
                        user_id: Some(me.id),
                        username: Some(me.username.clone()),
                        display_name: me.display_name.clone(),
                        avatar_url: None,
                        bot: None,
                    },
                );
                let pending = Entry {
                    id: ajet_shared::domain::ids::MessageId::generate(),
                    channel_id: channel,
                    parent_id: parent,
                    author,
                    body: body.clone(),
                    created_at: time::OffsetDateTime::now_utc(),
                    edited: false,
                    deleted: false,
                    reply_count: 0,
                    reactions: Vec::new(),
                    files: Vec::new(),
                    previews: Vec::new(),
                    client_msg_id: Some(client_msg_id.clone()),
                    state: EntryState::Pending,
                };
                match parent {
                    Some(root) => self.replies.entry(root).or_default().push(pending),
                    None => self.timelines.entry(channel).or_default().push(pending),
                }
                vec![Effect::Send { channel, body, parent, client_msg_id }]
            }
        };
        self.compose = ComposeMode::New;
        self.scroll = 0;
        self.reset_composer();
        effects
    }

    /// The word before the cursor (after the last space on its line).
    fn word_at_cursor(&self) -> (usize, String) {
        let ratatui_textarea::DataCursor(row, col) = self.composer.cursor();
        let line = self.composer.lines().get(row).map(String::as_str).unwrap_or_default();
        let before: String = line.chars().take(col).collect();
        let word = before.rsplit(char::is_whitespace).next().unwrap_or_default().to_owned();
        (row, word)
    }

    fn refresh_completion(&mut self) {
        let (row, word) = self.word_at_cursor();
        let text = self.text();
        let items = if row == 0 && word.starts_with('/') && text.trim_end() == word && self.compose == ComposeMode::New
        {
            self.command_candidates(&word[1..])
        } else if let Some(prefix) = word.strip_prefix('@') {
            self.people_candidates(prefix)
        } else if let Some(prefix) = word.strip_prefix('#') {
            self.channel_candidates(prefix)
        } else {
            Vec::new()
        };
        let selected = self.completion.as_ref().filter(|c| c.word == word).map_or(0, |c| c.selected);
        self.completion =
            (!items.is_empty()).then(|| Completion { selected: selected.min(items.len() - 1), word, items });
    }

    fn command_candidates(&self, prefix: &str) -> Vec<CompletionItem> {
        let prefix = prefix.to_lowercase();
        self.commands
            .iter()
            .filter(|c| {
                std::iter::once(&c.name).chain(c.aliases.iter()).any(|n| n.trim_start_matches('/').starts_with(&prefix))
            })
            .take(COMPLETIONS)
            .map(|c| CompletionItem {
                text: format!("/{} ", c.name.trim_start_matches('/')),
                hint: format!("{} — {}", c.usage, c.summary),
            })
            .collect()
    }

    fn people_candidates(&self, prefix: &str) -> Vec<CompletionItem> {
        let prefix = prefix.to_lowercase();
        let members =
            self.current_community().and_then(|c| self.members.get(&c.id)).map(Vec::as_slice).unwrap_or_default();
        let broadcast = ["here", "channel", "everyone"]
            .into_iter()
            .filter(|name| name.starts_with(&prefix))
            .map(|name| CompletionItem { text: format!("@{name} "), hint: "notify the channel".to_owned() });
        members
            .iter()
            .filter(|m| {
                m.user.username.to_lowercase().starts_with(&prefix)
                    || m.user.display_name.to_lowercase().starts_with(&prefix)
            })
            .map(|m| CompletionItem { text: format!("@{} ", m.user.username), hint: m.user.display_name.clone() })
            .chain(broadcast)
            .take(COMPLETIONS)
            .collect()
    }

    fn channel_candidates(&self, prefix: &str) -> Vec<CompletionItem> {
        let prefix = prefix.to_lowercase();
        self.current_community()
            .and_then(|c| self.channels.get(&c.id))
            .into_iter()
            .flatten()
            .filter(|item| matches!(item.channel.kind, ChannelKind::Public | ChannelKind::Private))
            .filter_map(|item| item.channel.name.as_ref().map(|name| (name, item)))
            .filter(|(name, _)| name.to_lowercase().starts_with(&prefix))
            .take(COMPLETIONS)
            .map(|(name, item)| CompletionItem {
                text: format!("#{name} "),
                hint: item.channel.topic.clone().unwrap_or_default(),
            })
            .collect()
    }

    fn accept_completion(&mut self) {
        let Some(completion) = self.completion.take() else {
            return;
        };
        let Some(item) = completion.items.get(completion.selected) else {
            return;
        };
        for _ in 0..completion.word.chars().count() {
            self.composer.delete_char();
        }
        self.composer.insert_str(&item.text);
    }
}

impl Completion {
    /// Whether accepting would change what is typed (so Enter accepts rather than sends).
    fn changes_word(&self) -> bool {
        self.items.get(self.selected).is_some_and(|item| item.text.trim_end() != self.word)
    }
}
