//! The gateway's HTML pages as maud views: the login page (with the first-community note),
//! the "signed in" hop after a provider login, the CLI consent page and the invite landing.
//! Views are pure functions of what they show (no I/O); maud escapes every string put into
//! them. Each page links the gateway's own stylesheet by its content hash and nothing else:
//! no script, no inline style, so [`PAGE_POLICY`] can forbid both. The look follows
//! web-sm's (UI.md's palette and its `.page` card).

use std::sync::LazyLock;

use maud::{DOCTYPE, Markup, html};
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;
use time::macros::format_description;

/// The Content-Security-Policy of the gateway's pages: our stylesheet, our forms, nothing
/// else (they have no script at all). The CLI consent page widens `form-action` by one
/// loopback origin.
pub const PAGE_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
     base-uri 'none'; frame-ancestors 'none'";

/// The pages' stylesheet, compiled in and served under a name carrying its content hash.
pub struct Stylesheet {
    /// `pages.<hash>.css`.
    pub name: String,
    pub bytes: &'static [u8],
}

impl Stylesheet {
    /// The path pages link (`/auth/assets/pages.<hash>.css`).
    #[must_use]
    pub fn path(&self) -> String {
        format!("/auth/assets/{}", self.name)
    }
}

pub static STYLESHEET: LazyLock<Stylesheet> = LazyLock::new(|| {
    let bytes: &'static [u8] = include_bytes!("../assets/pages.css");
    let hash: String = Sha256::digest(bytes).iter().take(8).map(|b| format!("{b:02x}")).collect();
    Stylesheet { name: format!("pages.{hash}.css"), bytes }
});

/// A whole document titled `title` (“· ajet-chat” is appended) around `main`.
fn document(title: &str, main: &Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { (title) " · ajet-chat" }
                link rel="stylesheet" href=(STYLESHEET.path());
            }
            body { main.page { (main) } }
        }
    }
}

/// A login provider as the login page shows it.
pub struct ProviderButton<'a> {
    pub name: &'a str,
    pub start_url: &'a str,
}

/// What the login page shows.
pub struct LoginView<'a> {
    pub providers: Vec<ProviderButton<'a>>,
    /// The dev-login form (only when `AJET_ENV=dev`).
    pub dev_login: bool,
    /// No community exists yet: whoever logs in first creates it.
    pub bootstrap: bool,
    /// Where to go after logging in (already a local path).
    pub next: Option<&'a str>,
}

/// `GET /auth/login`: the configured providers as buttons, the dev form in dev, and the
/// first-community note while there is none.
#[must_use]
pub fn login_page(view: &LoginView<'_>) -> Markup {
    let main = html! {
        h1 { "Log in to ajet-chat" }
        @if view.bootstrap {
            p.note.bootstrap { "There is no community yet: log in, then create the first community. "
                "You will be its owner; everyone after you joins by invite." }
        }
        @if view.providers.is_empty() && !view.dev_login {
            p.notice { "No login provider is configured. Ask the person who runs this server." }
        }
        @if !view.providers.is_empty() {
            nav aria-label="Login providers" {
                ul.providers {
                    @for provider in &view.providers {
                        li { a.button href=(provider.start_url) { "Log in with " (provider.name) } }
                    }
                }
            }
        }
        @if view.dev_login {
            form.dev-login method="post" action="/auth/dev-login" aria-labelledby="dev-login-title" {
                h2 #dev-login-title { "Development login" }
                p.note { "This server runs in development mode: anyone may log in as any username." }
                label for="dev-username" { "Username"
                    input #dev-username name="username" required pattern="[a-z0-9_-]+" autocomplete="username"
                        autocapitalize="none" spellcheck="false";
                }
                @if let Some(next) = view.next { input type="hidden" name="next" value=(next); }
                button type="submit" { "Dev login" }
            }
        }
    };
    document("Log in", &main)
}

/// After a provider's login: a page that moves on to `target` (a local path) at once. A
/// page rather than a redirect, so the SameSite=Strict session cookie rides along (a
/// redirect ending a cross-site chain would arrive without it).
#[must_use]
pub fn signed_in_page(target: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="refresh" content={ "0;url=" (target) };
                title { "Signed in · ajet-chat" }
                link rel="stylesheet" href=(STYLESHEET.path());
            }
            body { main.page { h1 { "Signed in" } p { a href=(target) { "Continue" } } } }
        }
    }
}

/// What the CLI consent page asks about.
pub struct CliConsentView<'a> {
    pub username: &'a str,
    pub port: u16,
    /// The CLI's login state, shown so the person can compare it with the terminal's.
    pub state: &'a str,
    /// The confirmation token bound to this session, port and state.
    pub confirm: &'a str,
}

/// `GET /auth/cli`: "Sign in the ajet-chat CLI on this computer as @alice?".
#[must_use]
pub fn cli_consent_page(view: &CliConsentView<'_>) -> Markup {
    let main = html! {
        h1 { "Sign in the ajet-chat CLI on this computer as @" (view.username) "?" }
        p { "A command-line client listening on this computer at " code { "127.0.0.1:" (view.port) }
            " (login state " code { (view.state) } ") asks to act as you. Continue only if you just ran "
            code { "ajet-chat login" } " and the state matches what it shows." }
        form method="post" action="/auth/cli" {
            input type="hidden" name="port" value=(view.port);
            input type="hidden" name="state" value=(view.state);
            input type="hidden" name="confirm" value=(view.confirm);
            div.actions {
                button type="submit" { "Sign in the CLI" }
                a.button.secondary href="/" { "Cancel" }
            }
        }
    };
    document("Sign in the CLI", &main)
}

/// Who is looking at an invite.
pub enum InviteViewer<'a> {
    /// Not signed in (or the browser did not send its session).
    SignedOut,
    /// Signed in as `username`, not yet a member.
    SignedIn { username: &'a str },
    /// Already a member of the community.
    Member,
}

/// What the invite landing shows about a usable invite.
pub struct InviteView<'a> {
    pub code: &'a str,
    pub community_name: &'a str,
    pub community_slug: &'a str,
    pub description: Option<&'a str>,
    /// The inviter's display name and username, unless their account is gone.
    pub inviter: Option<(&'a str, &'a str)>,
    pub members: i64,
    pub expires_at: Option<OffsetDateTime>,
    pub viewer: InviteViewer<'a>,
}

/// `2026-11-27 14:05 UTC`.
fn utc_minute(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(format_description!("[year]-[month]-[day] [hour]:[minute] UTC"))
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

/// `2026-11-27T14:05:00Z`, for `<time datetime>`.
fn rfc3339(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

/// `GET /invite/{code}`: what you are joining, and the way in.
#[must_use]
pub fn invite_page(view: &InviteView<'_>) -> Markup {
    let community_url = format!("/c/{}", view.community_slug);
    let main = html! {
        @match view.viewer {
            InviteViewer::Member => { h1 { "You are a member of " (view.community_name) } }
            _ => { h1 { "Join " (view.community_name) " on ajet-chat" } }
        }
        @if let Some((display_name, username)) = view.inviter {
            p.inviter { "Invited by " strong { (display_name) } " (@" (username) ")" }
        }
        @if let Some(description) = view.description {
            p.description { (description) }
        }
        ul.facts {
            li { (view.members) @if view.members == 1 { " member" } @else { " members" } }
            li { @match view.expires_at {
                Some(at) => { "This invite expires on " time datetime=(rfc3339(at)) { (utc_minute(at)) } "." }
                None => { "This invite does not expire." }
            } }
        }
        @match view.viewer {
            InviteViewer::SignedOut => {
                p { "Sign in (or create your account) to join. You come back here afterwards." }
                div.actions {
                    a.button href={ "/auth/login?next=/invite/" (view.code) } { "Continue to sign in" }
                }
            }
            InviteViewer::SignedIn { username } => {
                form method="post" action={ "/invite/" (view.code) } {
                    p { "You are signed in as @" (username) "." }
                    div.actions { button type="submit" { "Join " (view.community_name) } }
                }
            }
            InviteViewer::Member => {
                div.actions { a.button href=(community_url) { "Open " (view.community_name) } }
            }
        }
    };
    document(&format!("Join {}", view.community_name), &main)
}

/// An invite that is unknown, expired, revoked or used up: which one is not said.
#[must_use]
pub fn invite_invalid_page() -> Markup {
    let main = html! {
        h1 { "This invite is not valid" }
        p { "The link may be mistyped, or the invite has expired or been withdrawn. "
            "Ask whoever invited you for a new one." }
        p { a href="/" { "Go to ajet-chat" } }
    };
    document("Invite not valid", &main)
}

/// A refusal shown as a page: `title`, then `message`, and a way back.
#[must_use]
pub fn error_page(title: &str, message: &str) -> Markup {
    let main = html! {
        h1 { (title) }
        p.notice role="alert" { (message) }
        p { a href="/" { "Go to ajet-chat" } }
    };
    document(title, &main)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "\"><script>alert(1)</script>&'";
    const HOSTILE_ESCAPED: &str = "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&amp;'";

    fn login_view<'a>(providers: Vec<ProviderButton<'a>>, next: Option<&'a str>) -> LoginView<'a> {
        LoginView { providers, dev_login: true, bootstrap: false, next }
    }

    #[test]
    fn every_page_is_a_whole_document_linking_only_the_hashed_stylesheet() {
        assert!(STYLESHEET.name.starts_with("pages.") && STYLESHEET.name.len() == "pages..css".len() + 16);
        for page in [
            login_page(&login_view(Vec::new(), None)),
            signed_in_page("/"),
            invite_invalid_page(),
            error_page("Refused", "no"),
        ] {
            let page = page.into_string();
            assert!(page.starts_with("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"), "{page}");
            assert!(page.contains(&format!("<link rel=\"stylesheet\" href=\"/auth/assets/{}\">", STYLESHEET.name)));
            assert!(!page.contains("<script") && !page.contains("style="), "nothing inline: {page}");
        }
    }

    #[test]
    fn the_login_page_has_a_main_a_heading_provider_buttons_and_a_labelled_dev_form() {
        let providers = vec![ProviderButton { name: "GitHub", start_url: "/auth/github/start" }];
        let page = login_page(&LoginView { bootstrap: true, ..login_view(providers, Some("/c/acme")) }).into_string();
        assert!(page.contains("<main class=\"page\"><h1>Log in to ajet-chat</h1>"), "{page}");
        assert!(page.contains("first community"));
        assert!(page.contains("<a class=\"button\" href=\"/auth/github/start\">Log in with GitHub</a>"), "{page}");
        assert!(page.contains("<label for=\"dev-username\">Username<input id=\"dev-username\" name=\"username\""));
        assert!(page.contains("<input type=\"hidden\" name=\"next\" value=\"/c/acme\">"));
    }

    #[test]
    fn the_login_page_without_dev_login_has_no_form_and_says_when_nothing_is_configured() {
        let page = login_page(&LoginView { dev_login: false, ..login_view(Vec::new(), None) }).into_string();
        assert!(!page.contains("<form") && !page.contains("dev-login"), "{page}");
        assert!(page.contains("No login provider is configured"));
        assert!(!page.contains("first community"));
    }

    #[test]
    fn provider_names_and_next_targets_are_escaped_on_the_login_page() {
        let start_url = format!("/auth/x/start?redirect={HOSTILE}");
        let providers = vec![ProviderButton { name: HOSTILE, start_url: &start_url }];
        let page = login_page(&login_view(providers, Some(HOSTILE))).into_string();
        assert!(!page.contains("<script>"), "{page}");
        assert!(page.contains(&format!("Log in with {HOSTILE_ESCAPED}</a>")));
        assert!(page.contains(&format!("href=\"/auth/x/start?redirect={HOSTILE_ESCAPED}\"")));
        assert!(page.contains(&format!("name=\"next\" value=\"{HOSTILE_ESCAPED}\"")));
    }

    #[test]
    fn the_signed_in_page_refreshes_to_its_escaped_target() {
        let page = signed_in_page("/a?b=\"<x>\"&c").into_string();
        assert!(page.contains("<meta http-equiv=\"refresh\" content=\"0;url=/a?b=&quot;&lt;x&gt;&quot;&amp;c\">"));
        assert!(page.contains("<a href=\"/a?b=&quot;&lt;x&gt;&quot;&amp;c\">Continue</a>"), "{page}");
    }

    #[test]
    fn the_cli_consent_page_shows_the_port_and_state_and_escapes_the_username() {
        let view = CliConsentView { username: HOSTILE, port: 4567, state: "s1", confirm: "tok" };
        let page = cli_consent_page(&view).into_string();
        assert!(page.contains(&format!("<h1>Sign in the ajet-chat CLI on this computer as @{HOSTILE_ESCAPED}?</h1>")));
        assert!(page.contains("<code>127.0.0.1:4567</code>") && page.contains("<code>s1</code>"), "{page}");
        for hidden in ["name=\"port\" value=\"4567\"", "name=\"state\" value=\"s1\"", "name=\"confirm\" value=\"tok\""]
        {
            assert!(page.contains(hidden), "{hidden} in {page}");
        }
        assert!(page.contains("<form method=\"post\" action=\"/auth/cli\">"));
    }

    fn invite_view<'a>(viewer: InviteViewer<'a>) -> InviteView<'a> {
        InviteView {
            code: "abc123",
            community_name: "Acme",
            community_slug: "acme",
            description: Some("Where Acme talks"),
            inviter: Some(("Alice", "alice")),
            members: 12,
            expires_at: Some(time::macros::datetime!(2026-11-27 14:05 UTC)),
            viewer,
        }
    }

    #[test]
    fn the_invite_landing_says_what_you_join_who_invited_you_and_until_when() {
        let page = invite_page(&invite_view(InviteViewer::SignedOut)).into_string();
        assert!(page.contains("<title>Join Acme · ajet-chat</title>"));
        assert!(page.contains("<h1>Join Acme on ajet-chat</h1>"), "{page}");
        assert!(page.contains("Invited by <strong>Alice</strong> (@alice)"));
        assert!(page.contains("<p class=\"description\">Where Acme talks</p>"));
        assert!(page.contains("<li>12 members</li>"));
        assert!(page.contains("expires on <time datetime=\"2026-11-27T14:05:00Z\">2026-11-27 14:05 UTC</time>"));
        assert!(page.contains("<a class=\"button\" href=\"/auth/login?next=/invite/abc123\">Continue to sign in</a>"));
        let lasting =
            InviteView { expires_at: None, members: 1, inviter: None, ..invite_view(InviteViewer::SignedOut) };
        let page = invite_page(&lasting).into_string();
        assert!(page.contains("<li>1 member</li>") && page.contains("does not expire"), "{page}");
        assert!(!page.contains("Invited by"));
    }

    #[test]
    fn a_signed_in_visitor_joins_with_a_form_and_a_member_is_sent_to_the_community() {
        let page = invite_page(&invite_view(InviteViewer::SignedIn { username: "bob" })).into_string();
        assert!(page.contains("<form method=\"post\" action=\"/invite/abc123\">"), "{page}");
        assert!(page.contains("signed in as @bob") && page.contains("<button type=\"submit\">Join Acme</button>"));
        let page = invite_page(&invite_view(InviteViewer::Member)).into_string();
        assert!(page.contains("<h1>You are a member of Acme</h1>"));
        assert!(page.contains("<a class=\"button\" href=\"/c/acme\">Open Acme</a>") && !page.contains("<form"));
    }

    #[test]
    fn community_names_descriptions_and_inviters_are_escaped_on_the_invite_landing() {
        let view = InviteView {
            community_name: HOSTILE,
            description: Some(HOSTILE),
            inviter: Some((HOSTILE, HOSTILE)),
            ..invite_view(InviteViewer::SignedIn { username: HOSTILE })
        };
        let page = invite_page(&view).into_string();
        assert!(!page.contains("<script>"), "{page}");
        assert!(page.contains(&format!("<h1>Join {HOSTILE_ESCAPED} on ajet-chat</h1>")));
        assert!(page.contains(&format!("<strong>{HOSTILE_ESCAPED}</strong> (@{HOSTILE_ESCAPED})")));
        assert!(page.contains(&format!("<button type=\"submit\">Join {HOSTILE_ESCAPED}</button>")));
    }

    #[test]
    fn the_invalid_invite_page_says_not_valid_and_error_messages_are_escaped() {
        let page = invite_invalid_page().into_string();
        assert!(page.contains("<h1>This invite is not valid</h1>"));
        let page = error_page("Refused", HOSTILE).into_string();
        assert!(page.contains(&format!("<p class=\"notice\" role=\"alert\">{HOSTILE_ESCAPED}</p>")), "{page}");
    }
}
