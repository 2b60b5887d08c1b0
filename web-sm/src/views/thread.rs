//! The thread panel (the right column, opened by `?thread={root}` on a channel's or a DM's
//! page, so a thread is a shareable URL): its root, the replies oldest first in `#replies`
//! (where the live stream appends new ones), and a composer of its own, whose signals
//! (`rbody`, `rcmid`) are apart from the main composer's, and a typing line of its own
//! (`#thread-typing`, the channel's typists, as the main column's). Esc or ✕ closes it.

use ajet_shared::domain::ids::{ChannelId, MessageId, UserId};
use maud::{Markup, html};

use super::message::thread_root_item;
use super::shell::{typing_line_at, typing_on_input};
use super::{MessageView, message_item};

/// What the thread panel shows.
pub struct ThreadView<'a> {
    pub root: MessageView<'a>,
    pub replies: &'a [MessageView<'a>],
    /// The reply composer's idempotency key for its next send.
    pub client_msg_id: &'a str,
}

/// The reply composer: Enter sends the reply (with `rcmid`), Shift+Enter makes a new line;
/// typing in it is typing in the channel (`_rtypedAt`, as the main composer's).
#[must_use]
pub fn reply_composer(channel: ChannelId, root: MessageId, client_msg_id: &str) -> Markup {
    let signals = serde_json::json!({ "rbody": "", "rcmid": client_msg_id, "_rtypedAt": 0 }).to_string();
    let send =
        format!("@post('/channels/{channel}/threads/{root}', {{filterSignals: {{include: /^(rbody|rcmid)$/}}}})");
    let on_enter =
        format!("evt.key === 'Enter' && !evt.shiftKey && !evt.isComposing && (evt.preventDefault(), {send})");
    html! {
        form #reply-composer .composer data-signals=(signals) "data-on:submit"=(send) "data-indicator:_replying" {
            label.visually-hidden for="reply-body" { "Reply in thread" }
            div.composer-row "data-on:input"=(typing_on_input(channel, "reply-body", "_rtypedAt")) {
                textarea #reply-body rows="1" "data-bind:rbody" placeholder="Reply…"
                    "data-on:keydown"=(on_enter) "data-attr:readonly"="$_replying" {}
            }
        }
    }
}

/// The panel's replies (`#replies`), oldest first.
#[must_use]
pub fn replies_list(replies: &[MessageView<'_>], viewer: UserId) -> Markup {
    html! {
        ol #replies .messages aria-live="polite" aria-label="Replies" {
            @for reply in replies { (message_item(reply, viewer)) }
        }
    }
}

/// "3 replies" under the panel's root (`#thread-count`).
#[must_use]
pub fn reply_count(count: i32) -> Markup {
    html! { p #thread-count .reply-count { (count) @if count == 1 { " reply" } @else { " replies" } } }
}

/// The panel; `close_href` is the page without the thread.
#[must_use]
pub fn thread_panel(
    thread: &ThreadView<'_>,
    viewer: UserId,
    channel: ChannelId,
    joined: bool,
    close_href: &str,
) -> Markup {
    html! {
        // Esc closes it, unless an overlay above it takes the key.
        aside #thread .thread-panel aria-label="Thread"
            "data-on:keydown__window"=(format!(
                "evt.key === 'Escape' && !$_search && !$_inbox && !$_people && !$_viewer && (window.location.href = '{close}')",
                close = close_href.replace('\'', "%27")
            )) {
            header.panel-header {
                h2 { "Thread" }
                a.quiet.close href=(close_href) aria-label="Close the thread" { "✕" }
            }
            div.panel-scroller {
                ol.messages.thread-root { (thread_root_item(&thread.root)) }
                (reply_count(thread.root.reply_count))
                (replies_list(thread.replies, viewer))
            }
            (typing_line_at("thread-typing", &[]))
            @if joined && !thread.root.deleted {
                (reply_composer(channel, thread.root.id, thread.client_msg_id))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ajet_shared::api::wire::Author;
    use time::OffsetDateTime;

    fn view<'a>(author: &'a Author, body: &'a str, parent: Option<MessageId>) -> MessageView<'a> {
        MessageView {
            id: MessageId::generate(),
            author,
            body_md: body,
            created_at: OffsetDateTime::UNIX_EPOCH,
            edited: false,
            deleted: false,
            reactions: vec![],
            parent_id: parent,
            reply_count: if parent.is_none() { 1 } else { 0 },
            last_reply_at: None,
            pinned: false,
            files: &[],
            previews: &[],
        }
    }

    #[test]
    fn the_panel_lists_the_root_and_its_replies_with_a_composer_of_its_own() {
        let author = Author {
            user_id: Some(UserId::generate()),
            username: Some("bob".into()),
            display_name: "Bob".into(),
            avatar_url: None,
            bot: None,
        };
        let root = view(&author, "the root", None);
        let replies = [view(&author, "a <b>reply</b>", Some(root.id))];
        let channel = ChannelId::generate();
        let root_id = root.id;
        let thread = ThreadView { root, replies: &replies, client_msg_id: "k2" };
        let html = thread_panel(&thread, UserId::generate(), channel, true, "/c/acme/general").into_string();
        assert!(
            html.starts_with(
                "<aside class=\"thread-panel\" id=\"thread\" aria-label=\"Thread\" data-on:keydown__window="
            ),
            "{html}"
        );
        assert!(html.contains("<a class=\"quiet close\" href=\"/c/acme/general\""), "{html}");
        assert!(html.contains("(window.location.href = '/c/acme/general')"), "{html}");
        assert!(html.contains("<p class=\"reply-count\" id=\"thread-count\">1 reply</p>"), "{html}");
        assert!(html.contains(&format!("<li class=\"message\" id=\"tr-{root_id}\">")), "{html}");
        assert!(html.contains("a &lt;b&gt;reply&lt;/b&gt;"), "{html}");
        assert!(html.contains(&format!("id=\"m-{}\"", replies[0].id)));
        // Neither the panel's root nor the replies carry thread links; the list's root does.
        assert!(!html.contains("Reply in thread</a>"), "{html}");
        assert!(!html.contains(&format!("id=\"ts-{root_id}\"")), "one summary per root, in the list: {html}");
        assert!(
            html.contains(&format!(
                "data-on:submit=\"@post('/channels/{channel}/threads/{root_id}', {{filterSignals: {{include: /^(rbody|rcmid)$/}}}})\""
            )),
            "{html}"
        );
        assert!(html.contains(
            "data-signals=\"{&quot;_rtypedAt&quot;:0,&quot;rbody&quot;:&quot;&quot;,&quot;rcmid&quot;:&quot;k2&quot;}\""
        ));
        assert!(html.contains("<div class=\"typing\" id=\"thread-typing\" aria-live=\"polite\"></div><form"), "{html}");
        assert!(
            html.contains(&format!(
                "<div class=\"composer-row\" data-on:input=\"evt.isTrusted &amp;&amp; evt.target.id === 'reply-body' \
                 &amp;&amp; (evt.target.value.trim() ? (Date.now() - $_rtypedAt &gt; 3000 &amp;&amp; ($_rtypedAt = Date.now(), \
                 @post('/channels/{channel}/typing?typing=true'"
            )),
            "typing a reply is typing in the channel: {html}"
        );
        let html = thread_panel(&thread, UserId::generate(), channel, false, "/c/acme/general").into_string();
        assert!(!html.contains("reply-composer"), "a non-member cannot reply: {html}");
    }
}
