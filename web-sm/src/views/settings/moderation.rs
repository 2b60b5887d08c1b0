//! The moderation screens of a community's admins: its mutes in force (each liftable, and a
//! form to mute a member for a while or until lifted) and a channel's purge, a destructive
//! action behind a page of its own that says what goes and asks for a ticked confirmation.

use ajet_shared::api::wire::{Channel, CommunityMember, MutedMember, Role};
use ajet_shared::domain::ids::UserId;
use maud::{Markup, html};

use super::{href, when};

/// How long a mute lasts, as the form offers it: the value sent and its label.
pub const MUTE_DURATIONS: [(&str, &str); 5] =
    [("10m", "Ten minutes"), ("hour", "An hour"), ("day", "A day"), ("week", "A week"), ("", "Until lifted")];

/// What the mute form held; a fresh one (`default`) offers a bounded mute of an hour.
pub struct MuteForm {
    pub user: String,
    pub duration: String,
    pub reason: String,
}

impl Default for MuteForm {
    fn default() -> Self {
        Self { user: String::new(), duration: "hour".into(), reason: String::new() }
    }
}

/// The mutes screen: the mutes in force (who, by whom, why, since and until when), each
/// with an Unmute button, and the form muting one of `members` (not the viewer, not the
/// owner: the api refuses those).
#[must_use]
pub fn mutes(
    slug: &str,
    mutes: &[MutedMember],
    members: &[CommunityMember],
    viewer: UserId,
    form: &MuteForm,
) -> Markup {
    let base = href::community(slug, "mutes");
    html! {
        section aria-labelledby="mutes-list" {
            h2 #mutes-list { "Muted members" }
            p.hint { "A muted member still reads, but cannot post or react until the mute ends or is lifted." }
            @if mutes.is_empty() {
                p.hint { "Nobody is muted." }
            } @else {
                table.settings-table {
                    thead { tr { th scope="col" { "Who" } th scope="col" { "Muted by" } th scope="col" { "Reason" }
                        th scope="col" { "Since" } th scope="col" { "Until" } th scope="col" { span.visually-hidden { "Actions" } } } }
                    tbody {
                        @for mute in mutes {
                            tr id={ "mute-" (mute.user.id) } {
                                td { strong { (mute.user.display_name) } " " span.username { "@" (mute.user.username) } }
                                td { @match &mute.muted_by { Some(by) => { (by.display_name) }, None => { "a removed account" } } }
                                td { (mute.reason.as_deref().unwrap_or("")) }
                                td { (when(mute.created_at)) }
                                td { (mute.muted_until.map_or_else(|| "lifted".to_owned(), when)) }
                                td {
                                    form method="post" action={ (base) "/" (mute.user.id) "/lift" } {
                                        button type="submit" aria-label={ "Unmute " (mute.user.display_name) } { "Unmute" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="mutes-new" {
            h2 #mutes-new { "Mute a member" }
            form.settings-form method="post" action=(base) {
                label for="mute-user" { "Member" }
                select #mute-user name="user" required {
                    @for member in members.iter().filter(|m| m.user.id != viewer && m.role != Role::Owner) {
                        option value=(member.user.id) selected[form.user == member.user.id.to_string()] {
                            (member.user.display_name) " (@" (member.user.username) ")"
                        }
                    }
                }
                label for="mute-duration" { "For" }
                select #mute-duration name="duration" {
                    @for (value, label) in MUTE_DURATIONS {
                        option value=(value) selected[form.duration == value] { (label) }
                    }
                }
                label for="mute-reason" { "Reason (shown to them and kept in the audit log)" }
                input #mute-reason name="reason" maxlength="512" value=(form.reason);
                button.danger type="submit" { "Mute" }
            }
        }
    }
}

/// What the purge form held.
#[derive(Default)]
pub struct PurgeForm {
    pub count: String,
    pub reason: String,
}

/// A channel's purge page (admins): what a purge deletes, the form (how many of the newest
/// messages, a reason, and a box to tick), and after a purge how many went.
#[must_use]
pub fn purge(slug: &str, channel: &Channel, form: &PurgeForm, purged: Option<usize>) -> Markup {
    let name = channel.name.as_deref().unwrap_or("unnamed");
    html! {
        p { a href=(href::community(slug, "channels")) { "← All channels" } }
        @if let Some(purged) = purged {
            p.form-done role="status" #purged {
                @if purged == 1 { "1 message was deleted from #" (name) "." }
                @else { (purged) " messages were deleted from #" (name) "." }
            }
        }
        section aria-labelledby="purge-what" {
            h2 #purge-what { "Delete the newest messages of #" (name) }
            p {
                "This deletes the newest messages of " strong { "#" (name) } ", thread replies included, for everyone: "
                "each is replaced by “This message was deleted.” It cannot be undone. "
                "The purge is recorded in the audit log with your name and reason."
            }
            p #purge-which {
                "The count is what you confirm, not which messages: the given number of the newest messages "
                strong { "at the moment you confirm" } " are deleted, so messages posted meanwhile count among them."
            }
            form.settings-form method="post" action=(href::community(slug, &format!("channels/{}/purge", channel.id))) {
                label for="purge-count" { "How many of the newest messages (1 to 1000)" }
                input #purge-count name="count" type="number" min="1" max="1000" required value=(form.count);
                label for="purge-reason" { "Reason (for the audit log)" }
                input #purge-reason name="reason" maxlength="512" value=(form.reason);
                label.check {
                    input #purge-confirm type="checkbox" name="confirm" value="on" required;
                    " I understand that these messages will be deleted for everyone and cannot be restored."
                }
                button.danger type="submit" { "Delete messages" }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ajet_shared::api::wire::{ChannelKind, User};
    use ajet_shared::domain::ids::{ChannelId, CommunityId};
    use time::OffsetDateTime;

    fn user(name: &str) -> User {
        User { id: UserId::generate(), username: name.into(), display_name: format!("<i>{name}</i>"), avatar_url: None }
    }

    fn member(name: &str, role: Role) -> CommunityMember {
        CommunityMember { user: user(name), role, nickname: None, joined_at: OffsetDateTime::UNIX_EPOCH }
    }

    #[test]
    fn the_mutes_screen_lists_who_by_whom_why_and_until_when_escaped_and_offers_neither_the_owner_nor_oneself() {
        let (owner, me, bob) = (member("olga", Role::Owner), member("alice", Role::Admin), member("bob", Role::Member));
        let mute = MutedMember {
            community_id: CommunityId::generate(),
            user: bob.user.clone(),
            reason: Some("<script>x</script>".into()),
            muted_by: Some(me.user.clone()),
            created_at: OffsetDateTime::UNIX_EPOCH,
            muted_until: None,
        };
        let form = MuteForm { user: bob.user.id.to_string(), duration: "day".into(), reason: "\"kept\"".into() };
        let html = mutes("acme", &[mute], &[owner.clone(), me.clone(), bob.clone()], me.user.id, &form).into_string();
        let bob_id = bob.user.id;
        assert!(
            html.contains(&format!("<tr id=\"mute-{bob_id}\"><td><strong>&lt;i&gt;bob&lt;/i&gt;</strong>")),
            "{html}"
        );
        assert!(html.contains("<td>&lt;i&gt;alice&lt;/i&gt;</td><td>&lt;script&gt;x&lt;/script&gt;</td>"), "{html}");
        assert!(html.contains("<td>1970-01-01 00:00 UTC</td><td>lifted</td>"), "{html}");
        assert!(html.contains(&format!("action=\"/c/acme/settings/mutes/{bob_id}/lift\"")), "{html}");
        assert!(html.contains(&format!("<option value=\"{bob_id}\" selected>")), "{html}");
        assert!(!html.contains(&format!("<option value=\"{}\"", owner.user.id)), "not the owner: {html}");
        assert!(!html.contains(&format!("<option value=\"{}\"", me.user.id)), "not oneself: {html}");
        assert!(html.contains("<option value=\"day\" selected>A day</option>"), "{html}");
        assert!(html.contains("value=\"&quot;kept&quot;\""), "{html}");
        let empty = mutes("acme", &[], &[bob], me.user.id, &MuteForm::default()).into_string();
        assert!(empty.contains("Nobody is muted.") && !empty.contains("<table"), "{empty}");
    }

    #[test]
    fn a_fresh_mute_form_selects_an_hour_and_offers_the_lengths_shortest_first() {
        let (me, bob) = (member("alice", Role::Admin), member("bob", Role::Member));
        let html = mutes("acme", &[], &[me.clone(), bob], me.user.id, &MuteForm::default()).into_string();
        assert!(html.contains("<option value=\"hour\" selected>An hour</option>"), "{html}");
        assert_eq!(html.matches(" selected>").count(), 1, "only the length is preselected: {html}");
        assert!(html.contains("<option value=\"\">Until lifted</option>"), "{html}");
        let order: Vec<usize> = ["Ten minutes", "An hour", "A day", "A week", "Until lifted"]
            .iter()
            .map(|label| html.find(&format!(">{label}</option>")).unwrap_or(usize::MAX))
            .collect();
        assert!(order.windows(2).all(|pair| pair[0] < pair[1]) && order[4] != usize::MAX, "{order:?} {html}");
    }

    #[test]
    fn the_purge_page_says_what_goes_needs_its_box_ticked_and_then_says_how_many_went() {
        let channel = Channel {
            id: ChannelId::generate(),
            community_id: Some(CommunityId::generate()),
            kind: ChannelKind::Public,
            name: Some("<dev>".into()),
            topic: None,
            created_at: OffsetDateTime::UNIX_EPOCH,
            archived_at: None,
            slow_mode_secs: 0,
            frozen_at: None,
        };
        let form = PurgeForm { count: "5".into(), reason: "<spam>".into() };
        let html = purge("acme", &channel, &form, None).into_string();
        assert!(html.contains(&format!("action=\"/c/acme/settings/channels/{}/purge\"", channel.id)), "{html}");
        assert!(html.contains("<strong>#&lt;dev&gt;</strong>") && html.contains("It cannot be undone."), "{html}");
        assert!(html.contains("name=\"confirm\" value=\"on\" required>"), "{html}");
        assert!(
            html.contains("<strong>at the moment you confirm</strong> are deleted, so messages posted meanwhile count"),
            "{html}"
        );
        assert!(html.contains("value=\"5\"") && html.contains("value=\"&lt;spam&gt;\""), "{html}");
        assert!(!html.contains("id=\"purged\""), "{html}");
        let one = purge("acme", &channel, &PurgeForm::default(), Some(1)).into_string();
        assert!(one.contains("1 message was deleted from #&lt;dev&gt;."), "{one}");
        let many = purge("acme", &channel, &PurgeForm::default(), Some(7)).into_string();
        assert!(many.contains("7 messages were deleted from #&lt;dev&gt;."), "{many}");
    }
}
