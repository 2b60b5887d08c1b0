//! Finding structured mentions in a Markdown body: `@user`, `#channel`, and the broadcast
//! forms `@channel`, `@here`, `@everyone`. Code spans and code blocks are skipped, and a
//! mention must start a word (so `a@b.c` is an address, not a mention).

/// What a body mentions, by name; the api resolves names to ids.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mentions {
    pub users: Vec<String>,
    pub channels: Vec<String>,
    pub channel: bool,
    pub here: bool,
    pub everyone: bool,
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-' || c == '.'
}

/// The mentions in `body`, each name once, in order of appearance.
///
/// ```
/// let found = ajet_shared::mentions::parse("ping @Alice in #ops, @here (not `@code`)");
/// assert_eq!(found.users, ["alice"]);
/// assert_eq!(found.channels, ["ops"]);
/// assert!(found.here);
/// ```
#[must_use]
pub fn parse(body: &str) -> Mentions {
    let mut mentions = Mentions::default();
    let mut in_block = false;
    for line in body.lines() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if in_block {
            continue;
        }
        let mut in_span = false;
        let mut previous = ' ';
        let mut chars = line.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            if c == '`' {
                in_span = !in_span;
            } else if !in_span && (c == '@' || c == '#') && !(previous.is_alphanumeric() || previous == '_') {
                let rest = &line[at + 1..];
                let name: String =
                    rest.chars().map(|c| c.to_ascii_lowercase()).take_while(|c| is_name_char(*c)).collect();
                let name = name.trim_end_matches(['.', '-']).to_owned();
                if !name.is_empty() {
                    match (c, name.as_str()) {
                        ('@', "channel") => mentions.channel = true,
                        ('@', "here") => mentions.here = true,
                        ('@', "everyone") => mentions.everyone = true,
                        ('@', _) if !mentions.users.contains(&name) => mentions.users.push(name),
                        ('#', _) if !mentions.channels.contains(&name) => mentions.channels.push(name),
                        _ => {}
                    }
                }
            }
            previous = c;
            if chars.peek().is_none() {
                break;
            }
        }
    }
    mentions
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_users_channels_and_broadcasts_outside_code() {
        let found = parse(
            "hi @Alice and @bob, see #dev-ops. @here @alice\n`@notme` mail a@b.c\n```\n@nobody #none\n```\n@channel!",
        );
        assert_eq!(found.users, vec!["alice", "bob"]);
        assert_eq!(found.channels, vec!["dev-ops"]);
        assert!(found.here && found.channel && !found.everyone);
    }

    #[test]
    fn plain_text_mentions_nothing() {
        assert_eq!(parse("no mentions here, just 100% text # and @ alone"), Mentions::default());
    }
}
