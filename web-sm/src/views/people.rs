//! People and what concerns the viewer: presence dots (bound to the local `_presence`
//! signals, keyed per user, which the live stream updates, so every dot of a user follows
//! at once), the member list with roles, and the notification inbox with its unread count.

use ajet_shared::api::wire::{CommunityMember, Notification, NotificationKind, Role};
use ajet_shared::domain::ids::UserId;
use maud::{Markup, html};

/// A user's key in the `_presence` signals (a valid identifier).
#[must_use]
pub fn presence_key(user: UserId) -> String {
    format!("u{}", user.as_uuid().simple())
}

/// A presence dot: filled green when online, hollow grey otherwise.
#[must_use]
pub fn presence_dot(user: UserId) -> Markup {
    html! { span.presence aria-hidden="true" "data-class:online"=(format!("$_presence.{}", presence_key(user))) {} }
}

/// The member list (`#people`): each member with a presence dot and role.
#[must_use]
pub fn member_list(members: &[CommunityMember]) -> Markup {
    html! {
        ul #people-list .people-list aria-label="Members" {
            @for member in members {
                li {
                    (presence_dot(member.user.id))
                    span.name { (member.nickname.as_deref().unwrap_or(&member.user.display_name)) }
                    " "
                    span.username { "@" (member.user.username) }
                    @match member.role {
                        Role::Owner => { " " span.role { "Owner" } },
                        Role::Admin => { " " span.role { "Admin" } },
                        Role::Member => {},
                    }
                }
            }
        }
    }
}

/// The bell's unread count (`#notif-count`), empty (hidden) at zero.
#[must_use]
pub fn notification_count(unread: usize) -> Markup {
    html! { span #notif-count .mentions aria-label="unread notifications" { @if unread > 0 { (unread) } } }
}

/// One notification as the inbox shows it: what happened, and where it opens.
pub struct NotificationView<'a> {
    pub notification: &'a Notification,
    /// Where it opens (the message's channel around it), if anywhere.
    pub href: Option<String>,
}

fn what(notification: &Notification) -> &'static str {
    match notification.kind {
        NotificationKind::Mention => "mentioned you",
        NotificationKind::Dm => "sent you a direct message",
        NotificationKind::ThreadReply => "replied in a thread",
        NotificationKind::Invite => "added you to a channel",
        NotificationKind::System => "changed something about your account",
    }
}

/// The inbox's list (`#inbox-list`), newest first.
#[must_use]
pub fn inbox_list(notifications: &[NotificationView<'_>]) -> Markup {
    html! {
        ol #inbox-list .inbox-list aria-label="Notifications" {
            @if notifications.is_empty() { li.empty { "Nothing yet." } }
            @for view in notifications {
                @let notification = view.notification;
                li class=@if notification.read_at.is_none() { "unread" } @else { "read" } {
                    @let body = html! {
                        span.actor { (notification.actor.as_ref().map_or("Someone", |actor| actor.display_name.as_str())) }
                        " " (what(notification))
                        @if let Some(channel) = &notification.channel {
                            @if let Some(name) = &channel.name { " in " span.where { "#" (name) } }
                        }
                        @if let Some(snippet) = &notification.snippet { div.snippet { (snippet) } }
                    };
                    @if let Some(href) = &view.href { a href=(href) { (body) } } @else { div { (body) } }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ajet_shared::api::wire::User;

    #[test]
    fn a_dot_follows_its_users_presence_signal() {
        let user = UserId::generate();
        let html = presence_dot(user).into_string();
        assert_eq!(
            html,
            format!(
                "<span class=\"presence\" aria-hidden=\"true\" data-class:online=\"$_presence.u{}\"></span>",
                user.as_uuid().simple()
            )
        );
    }

    #[test]
    fn members_show_their_role_and_names_are_text() {
        let member = CommunityMember {
            user: User {
                id: UserId::generate(),
                username: "bob".into(),
                display_name: "<b>Bob</b>".into(),
                avatar_url: None,
            },
            role: Role::Admin,
            nickname: None,
            joined_at: time::OffsetDateTime::UNIX_EPOCH,
        };
        let html = member_list(std::slice::from_ref(&member)).into_string();
        assert!(
            html.contains("<span class=\"name\">&lt;b&gt;Bob&lt;/b&gt;</span> <span class=\"username\">@bob</span> <span class=\"role\">Admin</span>"),
            "{html}"
        );
        assert_eq!(
            notification_count(0).into_string(),
            "<span class=\"mentions\" id=\"notif-count\" aria-label=\"unread notifications\"></span>"
        );
        assert!(notification_count(3).into_string().contains(">3</span>"));
    }
}
