//! The invite landing. `GET /invite/{code}` shows what the invite leads to (the community's
//! name and description, who invited you, how many members it has, when the invite
//! expires) with the way in: "Continue to sign in" for a signed-out browser (the code is
//! also remembered in an encrypted cookie, so a new account's provider login applies it),
//! a "Join" form for a signed-in one, a link to the community for a member. An unknown,
//! expired, revoked or used-up invite is one 404 "not valid" page that says no more.
//! `POST /invite/{code}` (the Join form) makes the signed-in user a member and sends them
//! to the community.

use ajet_shared::api::{ApiError, ErrorCode};
use ajet_shared::chat::ChatError;
use ajet_shared::chat::communities::accept_invite;
use ajet_shared::db;
use ajet_shared::db::invites::InviteLanding;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, PrivateCookieJar, SameSite};

use super::cli::browser_session;
use super::oauth::INVITE_COOKIE;
use super::{html_page, wants_html};
use crate::proxy::{cross_site, origin_of, presented_token};
use crate::state::GatewayState;
use crate::views::{self, InviteView, InviteViewer};

/// Invite codes are at most 64 characters (`invites_code_format`); longer is not looked up.
const CODE_MAX: usize = 64;

/// The same answer for every invite that does not work, whatever the reason.
fn invalid(headers: &HeaderMap) -> Response {
    if wants_html(headers) {
        return html_page(StatusCode::NOT_FOUND, views::invite_invalid_page());
    }
    ApiError::not_found(ErrorCode::InviteInvalid, "this invite is not valid").into_response()
}

async fn lookup(state: &GatewayState, code: &str) -> Result<Option<InviteLanding>, ApiError> {
    if code.len() > CODE_MAX {
        return Ok(None);
    }
    Ok(db::invites::landing(&state.pool, code).await?)
}

/// `GET /invite/{code}`: the landing page.
pub async fn open_invite(
    State(state): State<GatewayState>,
    Path(code): Path<String>,
    headers: HeaderMap,
    jar: PrivateCookieJar,
) -> Result<Response, ApiError> {
    let Some(landing) = lookup(&state, &code).await? else { return Ok(invalid(&headers)) };
    let session = browser_session(&state, &headers).await?;
    let user = match &session {
        Some((_, identity)) => db::users::get(&state.pool, identity.user_id).await?,
        None => None,
    };
    let member = match &user {
        Some(user) => db::communities::role_of(&state.pool, landing.community_id, user.id).await?.is_some(),
        None => false,
    };
    // A member may still look at an invite that has since been used up (often by them).
    if !landing.usable && !member {
        return Ok(invalid(&headers));
    }
    let viewer = match &user {
        _ if member => InviteViewer::Member,
        Some(user) => InviteViewer::SignedIn { username: &user.username },
        None => InviteViewer::SignedOut,
    };
    let signed_out = matches!(viewer, InviteViewer::SignedOut);
    let inviter = landing.inviter_name.as_deref().zip(landing.inviter_username.as_deref());
    let view = InviteView {
        code: &code,
        community_name: &landing.community_name,
        community_slug: &landing.community_slug,
        description: landing.description.as_deref().filter(|description| !description.trim().is_empty()),
        inviter,
        members: landing.members,
        expires_at: landing.expires_at,
        viewer,
    };
    let page = html_page(StatusCode::OK, views::invite_page(&view));
    if !signed_out {
        return Ok(page);
    }
    // Remembered for the provider login that follows: a new account needs it at the
    // callback, where sign-up is otherwise closed.
    let cookie = Cookie::build((INVITE_COOKIE, code))
        .path("/auth")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.cookie_secure)
        .max_age(time::Duration::hours(1))
        .build();
    Ok((jar.add(cookie), page).into_response())
}

/// `POST /invite/{code}`: the signed-in browser joins, then goes to the community (`303`
/// to `/c/{slug}`; a member already is sent there too). Its events reach other members
/// when the api's outbox relay next sweeps (within a second).
pub async fn join_invite(
    State(state): State<GatewayState>,
    Path(code): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if presented_token(&state.config, &headers).is_some_and(|(_, from_cookie)| from_cookie)
        && cross_site(&Method::POST, &headers, origin_of(&state.config.public_url))
    {
        return Err(ApiError::forbidden(
            ErrorCode::CrossSiteRequest,
            "cross-site requests with a session cookie are refused",
        ));
    }
    let Some((_, identity)) = browser_session(&state, &headers).await? else {
        if wants_html(&headers) {
            let next = format!("/invite/{code}");
            let next: String = oauth2::url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
            return Ok(Redirect::to(&format!("/auth/login?next={next}")).into_response());
        }
        return Err(ApiError::unauthorized("log in first, then open the invite again"));
    };
    let Some(landing) = lookup(&state, &code).await? else { return Ok(invalid(&headers)) };
    let community = Redirect::to(&format!("/c/{}", landing.community_slug)).into_response();
    if db::communities::role_of(&state.pool, landing.community_id, identity.user_id).await?.is_some() {
        return Ok(community);
    }
    match accept_invite(&state.pool, identity.user_id, &code).await {
        Ok(_) => {
            tracing::info!(user_id = %identity.user_id, community_id = %landing.community_id, "joined by invite");
            Ok(community)
        }
        Err(ChatError::InviteInvalid) => Ok(invalid(&headers)),
        Err(ChatError::Banned) if wants_html(&headers) => Ok(html_page(
            StatusCode::FORBIDDEN,
            views::error_page("You cannot join this community", "You are banned from this community."),
        )),
        Err(err) => Err(err.into()),
    }
}
