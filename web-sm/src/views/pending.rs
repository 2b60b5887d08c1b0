//! A send in flight: the row a composer adds to its list the moment Enter is pressed
//! (`app.js` clones the composer's `template.pending-template`), and what the server answers about it.
//! The row is `#pending-{client_msg_id}` with a status line `#send-{client_msg_id}`; it is
//! replaced in place by the real message when the send's answer or its event arrives
//! (whichever is first — the other then finds no row), or its status is patched to the
//! api's refusal with Retry (the same `client_msg_id`, so a retry never duplicates) and
//! Discard. A `client_msg_id` that is not selector-safe (the api accepts any text; the
//! composer always makes a UUID) has no row.

use ajet_shared::api::wire::{Author, User};
use maud::{Markup, html};

use super::message::{author_key, hue, initials};

/// The longest `client_msg_id` that names a row.
const MAX_CMID: usize = 64;

/// Whether `cmid` is safe inside an element id and a CSS selector.
fn selector_safe(cmid: &str) -> bool {
    !cmid.is_empty() && cmid.len() <= MAX_CMID && cmid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// The element id of the row of a send with `cmid`, if it can have one.
#[must_use]
pub fn pending_dom_id(cmid: &str) -> Option<String> {
    selector_safe(cmid).then(|| format!("pending-{cmid}"))
}

/// The element id of that row's status line.
#[must_use]
pub fn send_status_dom_id(cmid: &str) -> Option<String> {
    selector_safe(cmid).then(|| format!("send-{cmid}"))
}

/// The row `app.js` clones for a send by `me` (it fills in the ids, the time and the text,
/// which it writes as text, never HTML).
#[must_use]
pub fn pending_template(me: &User) -> Markup {
    let author = Author {
        user_id: Some(me.id),
        username: Some(me.username.clone()),
        display_name: me.display_name.clone(),
        avatar_url: None,
        bot: None,
    };
    html! {
        template.pending-template {
            li.message.pending data-author=(author_key(&author)) {
                span class={ "avatar hue-" (hue(&author)) } aria-hidden="true" { (initials(&me.display_name)) }
                div.meta { span.author { (me.display_name) } }
                div.body {}
                div.send-status role="status" { "Sending…" }
            }
        }
    }
}

/// The status line of a send the api refused (or that could not reach it): `reason`,
/// then Retry and Discard (`app.js` handles both).
#[must_use]
pub fn send_failed(cmid: &str, reason: &str) -> Option<Markup> {
    let id = send_status_dom_id(cmid)?;
    Some(html! {
        div.send-status.failed id=(id) role="alert" {
            span.reason { "Not sent — " (reason) }
            " "
            button.quiet.retry type="button" { "Retry" }
            " "
            button.quiet.discard type="button" { "Discard" }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ajet_shared::domain::ids::UserId;

    #[test]
    fn only_a_selector_safe_client_msg_id_names_a_row() {
        assert_eq!(pending_dom_id("0193-abc").as_deref(), Some("pending-0193-abc"));
        assert_eq!(send_status_dom_id("0193-abc").as_deref(), Some("send-0193-abc"));
        for unsafe_id in ["", "a b", "x\"]", "#m-1", "a.b", &"a".repeat(65)] {
            assert_eq!(pending_dom_id(unsafe_id), None, "{unsafe_id:?}");
            assert!(send_failed(unsafe_id, "no").is_none(), "{unsafe_id:?}");
        }
    }

    #[test]
    fn a_refused_send_shows_the_reason_as_text_with_retry_and_discard() {
        let html = send_failed("k1", "<b>channel is frozen</b>").map(Markup::into_string).unwrap_or_default();
        assert_eq!(
            html,
            "<div class=\"send-status failed\" id=\"send-k1\" role=\"alert\"><span class=\"reason\">Not sent — \
             &lt;b&gt;channel is frozen&lt;/b&gt;</span> <button class=\"quiet retry\" type=\"button\">Retry</button> \
             <button class=\"quiet discard\" type=\"button\">Discard</button></div>"
        );
    }

    #[test]
    fn the_pending_template_shows_the_sender_as_the_list_would() {
        let me =
            User { id: UserId::generate(), username: "al".into(), display_name: "<Al Ice>".into(), avatar_url: None };
        let html = pending_template(&me).into_string();
        assert!(html.starts_with("<template class=\"pending-template\"><li class=\"message pending\""), "{html}");
        assert!(html.contains(&format!("data-author=\"u-{}\"", me.id)), "grouped like the sender's messages: {html}");
        assert!(html.contains("<span class=\"author\">&lt;Al Ice&gt;</span>"), "{html}");
        assert!(html.contains("<div class=\"send-status\" role=\"status\">Sending…</div>"), "{html}");
    }
}
