//! The thread panel (the right column, opened by `?thread={root}` on a channel's or a DM's
//! page, so a thread is a shareable URL): its root, the replies oldest first in `#replies`
//! (where the live stream appends new ones), and a composer of its own, whose signals
//! (`rbody`, `rcmid`) are apart from the main composer's, and a typing line of its own
//! (`#thread-typing`, the channel's typists, as the main column's). Esc or ✕ closes it.

use ajet_shared::api::wire::User;
use ajet_shared::domain::ids::{ChannelId, CommunityId, MessageId, UserId};
use maud::{Markup, html};

use super::message::thread_root_item;
use super::shell::{ComposerSpec, composer, typing_line_at};
use super::{MessageView, message_item};

/// What the thread panel shows.
pub struct ThreadView<'a> {
    pub root: MessageView<'a>,
    pub replies: &'a [MessageView<'a>],
    /// The reply composer's idempotency key for its next send.
    pub client_msg_id: &'a str,
}

/// The reply composer: the channel's composer (`shell::composer`) replying in the
/// thread of `root` — its own signals (`rbody`, `rcmid`, `_rtypedAt`) and element ids
/// (`#reply-composer`, `#reply-body`, `#reply-uploads`…), the same uploads, completion,
/// drafts (per thread), Up to edit (the viewer's last reply) and optimistic send.
#[must_use]
pub fn reply_composer(
    me: &User,
    channel: ChannelId,
    community: Option<CommunityId>,
    root: MessageId,
    client_msg_id: &str,
) -> Markup {
    composer(&ComposerSpec { me, channel, community, thread: Some(root), label: "", client_msg_id, commands: &[] })
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
    me: &User,
    channel: ChannelId,
    community: Option<CommunityId>,
    joined: bool,
    close_href: &str,
) -> Markup {
    let viewer = me.id;
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
                (reply_composer(me, channel, community, thread.root.id, thread.client_msg_id))
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
        let me = User { id: UserId::generate(), username: "al".into(), display_name: "Al".into(), avatar_url: None };
        let community = CommunityId::generate();
        let html = thread_panel(&thread, &me, channel, Some(community), true, "/c/acme/general").into_string();
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
                "data-on:submit=\"document.querySelector('#reply-uploads .uploading') || \
                 @post('/channels/{channel}/threads/{root_id}?files=' + \
                 [...document.querySelectorAll('#reply-uploads li[data-id]')].map((li) =&gt; li.dataset.id).join(','), \
                 {{filterSignals: {{include: /^(rbody|rcmid)$/}}, retryMaxCount: 2, retryInterval: 300}})\""
            )),
            "{html}"
        );
        assert!(
            html.contains(&format!(
                "data-channel=\"{channel}\" data-draft=\"{}:{channel}:{root_id}\" data-list=\"replies\" \
                 data-upload=\"/api/channels/{channel}/attachments\" data-members=\"/api/communities/{community}/members\"",
                me.id
            )),
            "the channel composer's uploads, completion, drafts per thread and Up to edit: {html}"
        );
        assert!(html.contains("<input id=\"reply-cmid\" type=\"hidden\" value=\"k2\" data-bind=\"rcmid\">"), "{html}");
        assert!(html.contains("<template class=\"pending-template\">"), "{html}");
        assert!(!html.contains("data-commands"), "replies run no commands: {html}");
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
        let html = thread_panel(&thread, &me, channel, Some(community), false, "/c/acme/general").into_string();
        assert!(!html.contains("reply-composer"), "a non-member cannot reply: {html}");
    }
}
