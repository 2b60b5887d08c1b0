//! `ajet-chat mutes`: the community's mutes in force (admins), one line each — who, until
//! when, by whom and why; `--json` prints the API's rows. Muting and unmuting are the
//! `/mute` and `/unmute` slash commands (`ajet-chat send`, the TUI).

use ajet_shared::api::wire::{MutedMember, User};

use crate::escape;
use crate::failure::Failure;
use crate::output::{self, Output};
use crate::session::Session;

pub async fn list(session: &Session, out: Output) -> Result<(), Failure> {
    let community = session.community().await?;
    let mutes = session.client.list_mutes(community.id).await?.data;
    if out.json {
        return out.json(&mutes);
    }
    for mute in &mutes {
        println!("{}", mute_line(mute));
    }
    if mutes.is_empty() {
        eprintln!("Nobody is muted.");
    }
    Ok(())
}

/// `@user  until T (or until lifted)  by @admin  reason: R`, escaped.
fn mute_line(mute: &MutedMember) -> String {
    let name = |user: &User| format!("@{}", escape::line(&user.username));
    let until = mute.muted_until.map_or_else(|| "until lifted".to_owned(), |at| format!("until {}", output::time(at)));
    let by = mute.muted_by.as_ref().map_or_else(|| "(a removed account)".to_owned(), name);
    let mut line = format!("{}  {until}  by {by}", name(&mute.user));
    if let Some(reason) = &mute.reason {
        line.push_str(&format!("  reason: {}", escape::line(reason)));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use ajet_shared::domain::ids::{CommunityId, UserId};
    use time::macros::datetime;

    fn user(username: &str) -> User {
        User { id: UserId::generate(), username: username.into(), display_name: username.into(), avatar_url: None }
    }

    #[test]
    fn a_mute_line_names_who_until_when_by_whom_and_why_with_control_characters_inert() {
        let mute = MutedMember {
            community_id: CommunityId::generate(),
            user: user("bob"),
            reason: Some("spam\u{1b}[31m".into()),
            muted_by: Some(user("alice")),
            created_at: datetime!(2026-11-26 10:00 UTC),
            muted_until: Some(datetime!(2026-11-26 11:30 UTC)),
        };
        let line = mute_line(&mute);
        assert!(line.starts_with("@bob  until 2026-11-26 11:30  by @alice  reason: spam"), "{line}");
        assert!(!line.contains('\u{1b}'), "{line:?}");
        let forever = MutedMember { muted_until: None, muted_by: None, reason: None, ..mute };
        assert_eq!(mute_line(&forever), "@bob  until lifted  by (a removed account)");
    }
}
