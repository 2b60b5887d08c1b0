//! Remembers the channel the TUI showed last, per server, so the next start opens it:
//! one `<server URL>\t<channel id>` line per server in `$XDG_STATE_HOME/ajet-chat/tui-last-channel`
//! (`~/.local/state/…` without it). Best effort: a missing or unreadable file just means
//! "the first channel".

use std::path::PathBuf;

use ajet_shared::domain::ids::ChannelId;

fn path() -> Option<PathBuf> {
    let state = std::env::var_os("XDG_STATE_HOME")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local").join("state")))?;
    Some(state.join("ajet-chat").join("tui-last-channel"))
}

/// The channel last shown for `server`, if remembered.
pub fn load(server: &str) -> Option<ChannelId> {
    let text = std::fs::read_to_string(path()?).ok()?;
    find(&text, server)
}

fn find(text: &str, server: &str) -> Option<ChannelId> {
    text.lines().filter_map(|line| line.split_once('\t')).find(|(url, _)| *url == server)?.1.parse().ok()
}

/// Remembers `channel` for `server` (keeping the other servers' lines).
pub fn save(server: &str, channel: ChannelId) {
    let Some(path) = path() else {
        return;
    };
    let old = std::fs::read_to_string(&path).unwrap_or_default();
    let text = replace(&old, server, channel);
    if let Some(dir) = path.parent() {
        // Best effort: failing to remember is not worth an error on exit.
        drop(std::fs::create_dir_all(dir));
    }
    drop(std::fs::write(&path, text));
}

fn replace(old: &str, server: &str, channel: ChannelId) -> String {
    let mut text: String = old
        .lines()
        .filter(|line| line.split_once('\t').is_none_or(|(url, _)| url != server))
        .map(|line| format!("{line}\n"))
        .collect();
    text.push_str(&format!("{server}\t{channel}\n"));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_server_remembers_its_own_channel() {
        let (one, two) = (ChannelId::generate(), ChannelId::generate());
        let text = replace("", "http://a", one);
        let text = replace(&text, "http://b", two);
        let text = replace(&text, "http://a", two);
        assert_eq!(find(&text, "http://a"), Some(two));
        assert_eq!(find(&text, "http://b"), Some(two));
        assert_eq!(text.lines().count(), 2);
        assert_eq!(find("garbage\nhttp://c\tnot-an-id\n", "http://c"), None);
    }
}
