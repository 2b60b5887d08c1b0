//! The authorization matrix: every endpoint called as each kind of caller, with the exact
//! status and error code expected, and every successful answer read for anything of a
//! private channel or DM its caller is not in. The table is data; a new endpoint needs a row.

use std::collections::HashMap;

use ajet_shared::api::ErrorCode;
use ajet_shared::api::wire::{
    ChannelKind, CreateChannelRequest, CreateCommunityRequest, CreateInviteRequest, CreateMessageRequest,
};
use ajet_shared::client::ApiClient;
use reqwest::Method;

use crate::harness::Api;

/// The callers, in the order of each row's statuses.
const ACTORS: [&str; 7] = ["anonymous", "outsider", "member", "channel_member", "admin", "owner", "other_community"];

/// What a caller gets: a success status, or an error status with its code.
type Outcome = (u16, Option<ErrorCode>);

const OK: Outcome = (200, None);
const CREATED: Outcome = (201, None);
const DONE: Outcome = (204, None);
const ANON: Outcome = (401, Some(ErrorCode::Unauthenticated));
const ADMINS: Outcome = (403, Some(ErrorCode::AdminOnly));
const NOT_IN_CH: Outcome = (403, Some(ErrorCode::NotAChannelMember));
const NOT_IN_CO: Outcome = (403, Some(ErrorCode::NotACommunityMember));
const NOT_AUTHOR: Outcome = (403, Some(ErrorCode::NotAuthor));
const NOT_AUTHOR_OR_ADMIN: Outcome = (403, Some(ErrorCode::NotAuthorOrAdmin));
const NO_CH: Outcome = (404, Some(ErrorCode::ChannelNotFound));
const NO_INV: Outcome = (404, Some(ErrorCode::InviteNotFound));
const NO_MSG: Outcome = (404, Some(ErrorCode::MessageNotFound));
const NO_TOKEN: Outcome = (404, Some(ErrorCode::TokenNotFound));
const NO_HOOK: Outcome = (404, Some(ErrorCode::WebhookNotFound));
const BAD_CURSOR: Outcome = (400, Some(ErrorCode::InvalidCursor));
const BAD_SEARCH: Outcome = (400, Some(ErrorCode::InvalidSearch));
const NO_BAN: Outcome = (404, Some(ErrorCode::BanNotFound));
const NO_MUTE: Outcome = (404, Some(ErrorCode::MuteNotFound));
const NO_FILE: Outcome = (404, Some(ErrorCode::AttachmentNotFound));
const NOT_CO_CH: Outcome = (400, Some(ErrorCode::NotACommunityChannel));
const NO_AVATAR: Outcome = (404, Some(ErrorCode::AvatarNotFound));
const NO_THUMB: Outcome = (404, Some(ErrorCode::ThumbnailNotFound));
/// A caller allowed to upload who sent no multipart body.
const NO_UPLOAD: Outcome = (400, Some(ErrorCode::InvalidUpload));
const GONE_FROM_CO: Outcome = (400, Some(ErrorCode::UserNotInCommunity));

/// `{P}` public channel, `{S}` private channel, `{C}` community, `{M}` a message in P by
/// channel_member, `{MS}` one in S, `{D}` a DM between owner and channel_member, `{MD}` a
/// message in D, `{I}` an invite into C, `{W}` a live webhook into P, `{AP}`/`{AS}`/`{AD}`
/// a file channel_member uploaded into P/S/D, `{actor}` the caller's name (for unique
/// names). Rows run in order; later rows may depend on earlier writes only where noted.
const MATRIX: &[(&str, &str, &str, [Outcome; 7])] = &[
    // method, path, JSON body, outcomes for ACTORS
    ("GET", "/api/openapi.json", "", [OK, OK, OK, OK, OK, OK, OK]),
    ("GET", "/api/me", "", [ANON, OK, OK, OK, OK, OK, OK]),
    ("GET", "/api/me/security-log", "", [ANON, OK, OK, OK, OK, OK, OK]),
    ("PATCH", "/api/me", r#"{"display_name":"{actor}"}"#, [ANON, OK, OK, OK, OK, OK, OK]),
    // member uploaded an avatar: whoever shares the community sees it, nobody else.
    ("GET", "/api/users/{member_id}/avatar", "", [ANON, NO_AVATAR, OK, OK, OK, OK, NO_AVATAR]),
    ("PUT", "/api/me/avatar", "", [ANON, NO_UPLOAD, NO_UPLOAD, NO_UPLOAD, NO_UPLOAD, NO_UPLOAD, NO_UPLOAD]),
    // A webhook's avatar: its community's admins change it, its members see it (none yet).
    ("PUT", "/api/webhooks/{W}/avatar", "", [ANON, NO_HOOK, ADMINS, ADMINS, NO_UPLOAD, NO_UPLOAD, NO_HOOK]),
    ("GET", "/api/webhooks/{W}/avatar", "", [ANON, NO_AVATAR, NO_AVATAR, NO_AVATAR, NO_AVATAR, NO_AVATAR, NO_AVATAR]),
    ("DELETE", "/api/webhooks/{W}/avatar", "", [ANON, NO_HOOK, ADMINS, ADMINS, OK, OK, NO_HOOK]),
    (
        "POST",
        "/api/communities",
        r#"{"name":"Own","slug":"own-{actor}"}"#,
        [ANON, CREATED, CREATED, CREATED, CREATED, CREATED, CREATED],
    ),
    ("GET", "/api/communities", "", [ANON, OK, OK, OK, OK, OK, OK]),
    ("GET", "/api/communities/{C}", "", [ANON, NOT_IN_CO, OK, OK, OK, OK, NOT_IN_CO]),
    (
        "PATCH",
        "/api/communities/{C}",
        r#"{"description":"by {actor}"}"#,
        [ANON, NOT_IN_CO, ADMINS, ADMINS, OK, OK, NOT_IN_CO],
    ),
    ("GET", "/api/communities/{C}/members", "", [ANON, NOT_IN_CO, OK, OK, OK, OK, NOT_IN_CO]),
    ("GET", "/api/communities/{C}/channels", "", [ANON, NOT_IN_CO, OK, OK, OK, OK, NOT_IN_CO]),
    (
        "POST",
        "/api/communities/{C}/channels",
        r#"{"name":"by-{actor}"}"#,
        [ANON, NOT_IN_CO, CREATED, CREATED, CREATED, CREATED, NOT_IN_CO],
    ),
    ("POST", "/api/communities/{C}/invites", "{}", [ANON, NOT_IN_CO, CREATED, CREATED, CREATED, CREATED, NOT_IN_CO]),
    ("GET", "/api/communities/{C}/invites", "", [ANON, NOT_IN_CO, ADMINS, ADMINS, OK, OK, NOT_IN_CO]),
    (
        "DELETE",
        "/api/communities/{C}/invites/nosuchcode",
        "",
        [ANON, NOT_IN_CO, ADMINS, ADMINS, NO_INV, NO_INV, NOT_IN_CO],
    ),
    ("GET", "/api/channels/{P}", "", [ANON, NOT_IN_CO, OK, OK, OK, OK, NOT_IN_CO]),
    ("GET", "/api/channels/{S}", "", [ANON, NO_CH, NO_CH, OK, NO_CH, OK, NO_CH]),
    ("GET", "/api/channels/{D}", "", [ANON, NO_CH, NO_CH, OK, NO_CH, OK, NO_CH]),
    (
        "PATCH",
        "/api/channels/{P}",
        r#"{"topic":"by {actor}"}"#,
        [ANON, NOT_IN_CO, NOT_IN_CH, OK, NOT_IN_CH, OK, NOT_IN_CO],
    ),
    ("PATCH", "/api/channels/{S}", r#"{"name":"secret-{actor}"}"#, [ANON, NO_CH, NO_CH, ADMINS, NO_CH, OK, NO_CH]),
    ("GET", "/api/channels/{P}/messages", "", [ANON, NOT_IN_CO, OK, OK, OK, OK, NOT_IN_CO]),
    ("GET", "/api/channels/{S}/messages", "", [ANON, NO_CH, NO_CH, OK, NO_CH, OK, NO_CH]),
    ("GET", "/api/channels/{D}/messages", "", [ANON, NO_CH, NO_CH, OK, NO_CH, OK, NO_CH]),
    (
        "POST",
        "/api/channels/{P}/messages",
        r#"{"body_md":"hi from {actor}"}"#,
        [ANON, NOT_IN_CO, NOT_IN_CH, CREATED, NOT_IN_CH, CREATED, NOT_IN_CO],
    ),
    (
        "POST",
        "/api/channels/{S}/messages",
        r#"{"body_md":"hi from {actor}"}"#,
        [ANON, NO_CH, NO_CH, CREATED, NO_CH, CREATED, NO_CH],
    ),
    (
        "POST",
        "/api/channels/{D}/messages",
        r#"{"body_md":"hi from {actor}"}"#,
        [ANON, NO_CH, NO_CH, CREATED, NO_CH, CREATED, NO_CH],
    ),
    ("GET", "/api/channels/{S}/pins", "", [ANON, NO_CH, NO_CH, OK, NO_CH, OK, NO_CH]),
    // Uploading is posting: the same callers get past the checks (and then need a body).
    (
        "POST",
        "/api/channels/{P}/attachments",
        "",
        [ANON, NOT_IN_CO, NOT_IN_CH, NO_UPLOAD, NOT_IN_CH, NO_UPLOAD, NOT_IN_CO],
    ),
    ("POST", "/api/channels/{S}/attachments", "", [ANON, NO_CH, NO_CH, NO_UPLOAD, NO_CH, NO_UPLOAD, NO_CH]),
    ("POST", "/api/channels/{D}/attachments", "", [ANON, NO_CH, NO_CH, NO_UPLOAD, NO_CH, NO_UPLOAD, NO_CH]),
    // Downloading is reading the channel; to anyone else the file does not exist.
    ("GET", "/api/attachments/{AP}", "", [ANON, NO_FILE, OK, OK, OK, OK, NO_FILE]),
    ("GET", "/api/attachments/{AS}", "", [ANON, NO_FILE, NO_FILE, OK, NO_FILE, OK, NO_FILE]),
    ("GET", "/api/attachments/{AD}", "", [ANON, NO_FILE, NO_FILE, OK, NO_FILE, OK, NO_FILE]),
    // The files are text: whoever may download one learns it has no thumbnail, nobody else.
    ("GET", "/api/attachments/{AP}/thumbnail", "", [ANON, NO_FILE, NO_THUMB, NO_THUMB, NO_THUMB, NO_THUMB, NO_FILE]),
    ("GET", "/api/attachments/{AS}/thumbnail", "", [ANON, NO_FILE, NO_FILE, NO_THUMB, NO_FILE, NO_THUMB, NO_FILE]),
    ("GET", "/api/attachments/{AD}/thumbnail", "", [ANON, NO_FILE, NO_FILE, NO_THUMB, NO_FILE, NO_THUMB, NO_FILE]),
    ("POST", "/api/channels/{S}/read", r#"{"message_id":"{MS}"}"#, [ANON, NO_CH, NO_CH, OK, NO_CH, OK, NO_CH]),
    ("GET", "/api/messages/{M}", "", [ANON, NO_MSG, OK, OK, OK, OK, NO_MSG]),
    ("GET", "/api/messages/{MS}", "", [ANON, NO_MSG, NO_MSG, OK, NO_MSG, OK, NO_MSG]),
    ("GET", "/api/messages/{M}/replies", "", [ANON, NO_MSG, OK, OK, OK, OK, NO_MSG]),
    (
        "PATCH",
        "/api/messages/{M}",
        r#"{"body_md":"edited by {actor}"}"#,
        [ANON, NO_MSG, NOT_AUTHOR, OK, NOT_AUTHOR, NOT_AUTHOR, NO_MSG],
    ),
    ("PUT", "/api/messages/{M}/reactions/%F0%9F%91%8D", "", [ANON, NO_MSG, NOT_IN_CH, DONE, NOT_IN_CH, DONE, NO_MSG]),
    (
        "DELETE",
        "/api/messages/{M}/reactions/%F0%9F%91%8D",
        "",
        [ANON, NO_MSG, NOT_IN_CH, DONE, NOT_IN_CH, DONE, NO_MSG],
    ),
    ("PUT", "/api/messages/{MS}/pin", "", [ANON, NO_MSG, NO_MSG, DONE, NO_MSG, DONE, NO_MSG]),
    ("DELETE", "/api/messages/{MS}/pin", "", [ANON, NO_MSG, NO_MSG, DONE, NO_MSG, DONE, NO_MSG]),
    // Messages in the private channel ({MS}) and the DM ({MD}): the same rules as in
    // public channels for members, and nothing at all (404) for everybody else.
    ("GET", "/api/messages/{MD}", "", [ANON, NO_MSG, NO_MSG, OK, NO_MSG, OK, NO_MSG]),
    ("GET", "/api/messages/{MS}/replies", "", [ANON, NO_MSG, NO_MSG, OK, NO_MSG, OK, NO_MSG]),
    ("GET", "/api/messages/{MD}/replies", "", [ANON, NO_MSG, NO_MSG, OK, NO_MSG, OK, NO_MSG]),
    // Search finds what the caller may read now: every answer is read for the private
    // channel's and the DM's messages, before they are edited and deleted below (`in` finds "in public", "in private", "in dm").
    ("GET", "/api/search?q=in", "", [ANON, OK, OK, OK, OK, OK, OK]),
    ("GET", "/api/search?q=private&sort=recent&limit=5", "", [ANON, OK, OK, OK, OK, OK, OK]),
    ("GET", "/api/search?q=dm%20in:%40owner%20in:%40chanmember&tz=Europe%2FParis", "", [ANON, OK, OK, OK, OK, OK, OK]),
    (
        "GET",
        "/api/search?q=%22in%20dm",
        "",
        [ANON, BAD_SEARCH, BAD_SEARCH, BAD_SEARCH, BAD_SEARCH, BAD_SEARCH, BAD_SEARCH],
    ),
    (
        "POST",
        "/api/channels/{S}/messages",
        r#"{"body_md":"reply by {actor}","parent_id":"{MS}"}"#,
        [ANON, NO_CH, NO_CH, CREATED, NO_CH, CREATED, NO_CH],
    ),
    (
        "POST",
        "/api/channels/{D}/messages",
        r#"{"body_md":"reply by {actor}","parent_id":"{MD}"}"#,
        [ANON, NO_CH, NO_CH, CREATED, NO_CH, CREATED, NO_CH],
    ),
    (
        "PATCH",
        "/api/messages/{MS}",
        r#"{"body_md":"edited by {actor}"}"#,
        [ANON, NO_MSG, NO_MSG, OK, NO_MSG, NOT_AUTHOR, NO_MSG],
    ),
    (
        "PATCH",
        "/api/messages/{MD}",
        r#"{"body_md":"edited by {actor}"}"#,
        [ANON, NO_MSG, NO_MSG, OK, NO_MSG, NOT_AUTHOR, NO_MSG],
    ),
    ("PUT", "/api/messages/{MS}/reactions/%F0%9F%91%8D", "", [ANON, NO_MSG, NO_MSG, DONE, NO_MSG, DONE, NO_MSG]),
    ("DELETE", "/api/messages/{MS}/reactions/%F0%9F%91%8D", "", [ANON, NO_MSG, NO_MSG, DONE, NO_MSG, DONE, NO_MSG]),
    ("PUT", "/api/messages/{MD}/reactions/%F0%9F%91%8D", "", [ANON, NO_MSG, NO_MSG, DONE, NO_MSG, DONE, NO_MSG]),
    ("DELETE", "/api/messages/{MD}/reactions/%F0%9F%91%8D", "", [ANON, NO_MSG, NO_MSG, DONE, NO_MSG, DONE, NO_MSG]),
    ("PUT", "/api/messages/{MD}/pin", "", [ANON, NO_MSG, NO_MSG, DONE, NO_MSG, DONE, NO_MSG]),
    ("GET", "/api/channels/{D}/pins", "", [ANON, NO_CH, NO_CH, OK, NO_CH, OK, NO_CH]),
    ("DELETE", "/api/messages/{MD}/pin", "", [ANON, NO_MSG, NO_MSG, DONE, NO_MSG, DONE, NO_MSG]),
    ("DELETE", "/api/messages/{MS}", "", [ANON, NO_MSG, NO_MSG, DONE, NO_MSG, DONE, NO_MSG]),
    ("DELETE", "/api/messages/{MD}", "", [ANON, NO_MSG, NO_MSG, DONE, NO_MSG, NOT_AUTHOR_OR_ADMIN, NO_MSG]),
    (
        "POST",
        "/api/channels/{S}/members",
        r#"{"user_id":"{member_id}"}"#,
        [ANON, NO_CH, NO_CH, CREATED, NO_CH, OK, NO_CH],
    ),
    ("DELETE", "/api/channels/{S}/members/{member_id}", "", [ANON, NO_CH, ADMINS, ADMINS, NO_CH, DONE, NO_CH]),
    ("GET", "/api/dms", "", [ANON, OK, OK, OK, OK, OK, OK]),
    (
        "POST",
        "/api/dms",
        r#"{"user_ids":["{member_id}"]}"#,
        [ANON, CREATED, CREATED, CREATED, CREATED, CREATED, CREATED],
    ),
    ("GET", "/api/presence?user_ids={member_id}", "", [ANON, OK, OK, OK, OK, OK, OK]),
    // Notifications and preferences are the caller's own: a member's preferences need the
    // membership, and nobody outside a private channel or DM learns it exists.
    ("GET", "/api/notifications", "", [ANON, OK, OK, OK, OK, OK, OK]),
    ("GET", "/api/notifications?unread=true&limit=5", "", [ANON, OK, OK, OK, OK, OK, OK]),
    ("POST", "/api/notifications/read", r#"{"channel_id":"{S}"}"#, [ANON, OK, OK, OK, OK, OK, OK]),
    ("POST", "/api/notifications/read", r#"{"all":true}"#, [ANON, OK, OK, OK, OK, OK, OK]),
    // Slash commands: the list is everyone's (admin ones only for admins of the channel's
    // community); running one needs the channel to be visible, admin commands an admin.
    ("GET", "/api/commands", "", [ANON, OK, OK, OK, OK, OK, OK]),
    ("GET", "/api/commands?channel_id={S}", "", [ANON, NO_CH, NO_CH, OK, NO_CH, OK, NO_CH]),
    ("POST", "/api/commands", r#"{"channel_id":"{S}","text":"/help"}"#, [ANON, NO_CH, NO_CH, OK, NO_CH, OK, NO_CH]),
    ("POST", "/api/commands", r#"{"channel_id":"{P}","text":"/help"}"#, [ANON, NOT_IN_CO, OK, OK, OK, OK, NOT_IN_CO]),
    // Catch-up lists what the caller can see now, and refuses another user's cursor.
    ("GET", "/api/sync", "", [ANON, OK, OK, OK, OK, OK, OK]),
    (
        "GET",
        "/api/sync?since={owner_cursor}",
        "",
        [ANON, BAD_CURSOR, BAD_CURSOR, BAD_CURSOR, BAD_CURSOR, OK, BAD_CURSOR],
    ),
    (
        "PATCH",
        "/api/channels/{P}/preferences",
        r#"{"notify_level":"mentions","starred":true}"#,
        [ANON, NOT_IN_CO, NOT_IN_CH, OK, NOT_IN_CH, OK, NOT_IN_CO],
    ),
    ("PATCH", "/api/channels/{S}/preferences", r#"{"muted_until":null}"#, [ANON, NO_CH, NO_CH, OK, NO_CH, OK, NO_CH]),
    (
        "PATCH",
        "/api/channels/{D}/preferences",
        r#"{"notify_level":"none"}"#,
        [ANON, NO_CH, NO_CH, OK, NO_CH, OK, NO_CH],
    ),
    ("POST", "/api/heartbeat", "", [ANON, DONE, DONE, DONE, DONE, DONE, DONE]),
    (
        "POST",
        "/api/tokens",
        r#"{"name":"bot","scopes":["read"]}"#,
        [ANON, CREATED, CREATED, CREATED, CREATED, CREATED, CREATED],
    ),
    ("GET", "/api/tokens", "", [ANON, OK, OK, OK, OK, OK, OK]),
    ("DELETE", "/api/tokens/{member_id}", "", [ANON, NO_TOKEN, NO_TOKEN, NO_TOKEN, NO_TOKEN, NO_TOKEN, NO_TOKEN]),
    // Webhooks: a community's admins only. {W} is a live webhook into P; the admin's
    // revocation comes first, so the owner then finds nothing live.
    (
        "POST",
        "/api/webhooks",
        r#"{"channel_id":"{P}","name":"hook {actor}"}"#,
        [ANON, NOT_IN_CO, ADMINS, ADMINS, CREATED, CREATED, NOT_IN_CO],
    ),
    ("GET", "/api/webhooks?community_id={C}", "", [ANON, NOT_IN_CO, ADMINS, ADMINS, OK, OK, NOT_IN_CO]),
    // The delivery log: the admins of the webhook's community; a revoked webhook keeps it.
    ("GET", "/api/webhooks/{W}/deliveries", "", [ANON, NO_HOOK, ADMINS, ADMINS, OK, OK, NO_HOOK]),
    ("DELETE", "/api/webhooks/{W}", "", [ANON, NO_HOOK, ADMINS, ADMINS, DONE, NO_HOOK, NO_HOOK]),
    ("GET", "/api/webhooks/{W}/deliveries", "", [ANON, NO_HOOK, ADMINS, ADMINS, OK, OK, NO_HOOK]),
    // Moderation: a community's admins only, on {target_id} and {target2_id}, two plain
    // members who are no actor. The admin acts first, so the owner then finds the mute and
    // ban lifted and the kicked member gone. Slow mode on S is set by the owner (the admin
    // cannot see S), and the audit log never shows S to the admin.
    ("GET", "/api/communities/{C}/bans", "", [ANON, NOT_IN_CO, ADMINS, ADMINS, OK, OK, NOT_IN_CO]),
    ("GET", "/api/communities/{C}/mutes", "", [ANON, NOT_IN_CO, ADMINS, ADMINS, OK, OK, NOT_IN_CO]),
    (
        "PATCH",
        "/api/communities/{C}/members/{target_id}",
        r#"{"role":"member"}"#,
        [ANON, NOT_IN_CO, ADMINS, ADMINS, OK, OK, NOT_IN_CO],
    ),
    (
        "POST",
        "/api/communities/{C}/mutes",
        r#"{"user_id":"{target_id}","duration_secs":60,"reason":"by {actor}"}"#,
        [ANON, NOT_IN_CO, ADMINS, ADMINS, CREATED, CREATED, NOT_IN_CO],
    ),
    (
        "DELETE",
        "/api/communities/{C}/mutes/{target_id}",
        "",
        [ANON, NOT_IN_CO, ADMINS, ADMINS, DONE, NO_MUTE, NOT_IN_CO],
    ),
    (
        "PATCH",
        "/api/channels/{P}/moderation",
        r#"{"slow_mode_secs":0,"frozen":false}"#,
        [ANON, NOT_IN_CO, ADMINS, ADMINS, OK, OK, NOT_IN_CO],
    ),
    (
        "PATCH",
        "/api/channels/{S}/moderation",
        r#"{"slow_mode_secs":5}"#,
        [ANON, NO_CH, NO_CH, ADMINS, NO_CH, OK, NO_CH],
    ),
    (
        "POST",
        "/api/communities/{C}/bans",
        r#"{"user_id":"{target_id}","reason":"by {actor}"}"#,
        [ANON, NOT_IN_CO, ADMINS, ADMINS, CREATED, CREATED, NOT_IN_CO],
    ),
    ("DELETE", "/api/communities/{C}/bans/{target_id}", "", [ANON, NOT_IN_CO, ADMINS, ADMINS, DONE, NO_BAN, NOT_IN_CO]),
    (
        "POST",
        "/api/communities/{C}/kicks",
        r#"{"user_id":"{target2_id}"}"#,
        [ANON, NOT_IN_CO, ADMINS, ADMINS, DONE, GONE_FROM_CO, NOT_IN_CO],
    ),
    ("GET", "/api/communities/{C}/audit", "", [ANON, NOT_IN_CO, ADMINS, ADMINS, OK, OK, NOT_IN_CO]),
    (
        "GET",
        "/api/communities/{C}/audit?action=member.ban&limit=1",
        "",
        [ANON, NOT_IN_CO, ADMINS, ADMINS, OK, OK, NOT_IN_CO],
    ),
    // Deleting: only the author (channel_member) or an admin; then it stays deleted.
    ("DELETE", "/api/messages/{M}", "", [ANON, NO_MSG, NOT_AUTHOR_OR_ADMIN, DONE, DONE, DONE, NO_MSG]),
    // Purging (admins of the community, in a channel they can see) deletes messages: late.
    ("POST", "/api/channels/{P}/purge", r#"{"count":1}"#, [ANON, NOT_IN_CO, ADMINS, ADMINS, OK, OK, NOT_IN_CO]),
    ("POST", "/api/channels/{S}/purge", r#"{"count":1}"#, [ANON, NO_CH, NO_CH, ADMINS, NO_CH, OK, NO_CH]),
    ("POST", "/api/channels/{D}/purge", r#"{"count":1}"#, [ANON, NO_CH, NO_CH, NOT_CO_CH, NO_CH, NOT_CO_CH, NO_CH]),
    // The commands of the same endpoints, under the same checks (purge and webhooks write;
    // S was renamed `secret-owner` above).
    (
        "POST",
        "/api/commands",
        r#"{"channel_id":"{P}","text":"/purge 1"}"#,
        [ANON, NOT_IN_CO, ADMINS, ADMINS, OK, OK, NOT_IN_CO],
    ),
    (
        "POST",
        "/api/commands",
        r#"{"channel_id":"{S}","text":"/purge 1"}"#,
        [ANON, NO_CH, NO_CH, ADMINS, NO_CH, OK, NO_CH],
    ),
    (
        "POST",
        "/api/commands",
        r#"{"channel_id":"{P}","text":"/invite 1 1h"}"#,
        [ANON, NOT_IN_CO, OK, OK, OK, OK, NOT_IN_CO],
    ),
    (
        "POST",
        "/api/commands",
        r#"{"channel_id":"{P}","text":"/token create cmd-{actor} read"}"#,
        [ANON, NOT_IN_CO, OK, OK, OK, OK, NOT_IN_CO],
    ),
    (
        "POST",
        "/api/commands",
        r#"{"channel_id":"{P}","text":"/token revoke 019ac0de-0000-7000-8000-000000000000"}"#,
        [ANON, NOT_IN_CO, NO_TOKEN, NO_TOKEN, NO_TOKEN, NO_TOKEN, NOT_IN_CO],
    ),
    (
        "POST",
        "/api/commands",
        r#"{"channel_id":"{P}","text":"/webhook create #dev hook-{actor}"}"#,
        [ANON, NOT_IN_CO, ADMINS, ADMINS, OK, OK, NOT_IN_CO],
    ),
    (
        "POST",
        "/api/commands",
        r#"{"channel_id":"{S}","text":"/webhook create #secret-owner hook-{actor}"}"#,
        [ANON, NO_CH, NO_CH, ADMINS, NO_CH, OK, NO_CH],
    ),
    ("DELETE", "/api/me/avatar", "", [ANON, OK, OK, OK, OK, OK, OK]),
    // Joining changes membership, so it comes last.
    ("POST", "/api/channels/{P}/join", "", [ANON, NOT_IN_CO, OK, OK, OK, OK, NOT_IN_CO]),
    ("POST", "/api/channels/{S}/join", "", [ANON, NO_CH, NO_CH, OK, NO_CH, OK, NO_CH]),
    ("POST", "/api/channels/{P}/leave", "", [ANON, NOT_IN_CO, DONE, DONE, DONE, DONE, NOT_IN_CO]),
    // Archiving (admins) and accepting an invite (anyone signed in) change state: last.
    ("DELETE", "/api/channels/{P}", "", [ANON, NOT_IN_CO, ADMINS, ADMINS, OK, OK, NOT_IN_CO]),
    ("POST", "/api/invites/{I}/accept", "", [ANON, OK, OK, OK, OK, OK, OK]),
];

#[tokio::test]
async fn every_endpoint_answers_each_kind_of_caller_exactly() {
    let api = Api::start().await;
    let owner = api.user("owner").await;
    let admin = api.user("admin").await;
    let member = api.user("member").await;
    let channel_member = api.user("chanmember").await;
    let outsider = api.user("outsider").await;
    let other = api.user("othercommunity").await;

    let community = owner
        .create_community(&CreateCommunityRequest { name: "Acme".into(), slug: "acme".into(), description: None })
        .await
        .expect("community");
    other
        .create_community(&CreateCommunityRequest { name: "Other".into(), slug: "other".into(), description: None })
        .await
        .expect("other community");
    let target = api.user("target").await;
    let target2 = api.user("target2").await;
    for client in [&admin, &member, &channel_member, &target, &target2] {
        let invite = owner.create_invite(community.id, &CreateInviteRequest::default()).await.expect("invite");
        client.accept_invite(&invite.code).await.expect("joined");
    }
    let admin_id = admin.me().await.expect("me").user.id;
    sqlx::query("UPDATE community_members SET role = 'admin' WHERE user_id = $1")
        .bind(admin_id)
        .execute(&api.db.pool)
        .await
        .expect("make admin");
    let public = owner
        .create_channel(community.id, &CreateChannelRequest { name: "dev".into(), topic: None, kind: None })
        .await
        .expect("public");
    let private = owner
        .create_channel(
            community.id,
            &CreateChannelRequest { name: "secret".into(), topic: None, kind: Some(ChannelKind::Private) },
        )
        .await
        .expect("private");
    channel_member.join_channel(public.id).await.expect("join public");
    let member_id = member.me().await.expect("me").user.id;
    let channel_member_id = channel_member.me().await.expect("me").user.id;
    owner
        .request(Method::POST, &format!("/api/channels/{}/members", private.id))
        .json(&serde_json::json!({"user_id": channel_member_id}))
        .send()
        .await
        .expect("add to private")
        .error_for_status()
        .expect("added");
    let dm: serde_json::Value = owner
        .request(Method::POST, "/api/dms")
        .json(&serde_json::json!({"user_ids": [channel_member_id]}))
        .send()
        .await
        .expect("dm")
        .json()
        .await
        .expect("dm json");
    let send = |client: &ApiClient, channel, body: &str| {
        let client = client.clone();
        let request = CreateMessageRequest {
            body_md: body.into(),
            parent_id: None,
            client_msg_id: None,
            attachment_ids: Vec::new(),
        };
        async move { client.send_message(channel, &request).await.expect("sent") }
    };
    let invite = owner.create_invite(community.id, &CreateInviteRequest::default()).await.expect("invite");
    let message = send(&channel_member, public.id, "in public").await;
    let secret = send(&channel_member, private.id, "in private").await;
    let dm_id: ajet_shared::domain::ids::ChannelId = dm["id"].as_str().expect("dm id").parse().expect("dm id");
    let in_dm = send(&channel_member, dm_id, "in dm").await;
    let upload = |channel, name: &'static str| {
        let client = channel_member.clone();
        async move { client.upload_attachment(channel, name, name.as_bytes()).await.expect("uploaded") }
    };
    let (file_public, file_private, file_dm) =
        (upload(public.id, "public.txt").await, upload(private.id, "secret.txt").await, upload(dm_id, "dm.txt").await);

    let webhook = ajet_shared::db::webhooks::insert(
        &api.db.pool,
        &ajet_shared::db::webhooks::NewWebhook {
            community: community.id,
            channel: public.id,
            name: "CI",
            avatar_url: None,
            token_hash: &[7; 32],
            created_by: None,
        },
    )
    .await
    .expect("webhook");
    member.put_avatar(b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR").await.expect("an avatar");
    let values: HashMap<&str, String> = HashMap::from([
        ("{W}", webhook.id.to_string()),
        ("{C}", community.id.to_string()),
        ("{P}", public.id.to_string()),
        ("{S}", private.id.to_string()),
        ("{D}", dm["id"].as_str().expect("dm id").to_owned()),
        ("{M}", message.id.to_string()),
        ("{MS}", secret.id.to_string()),
        ("{MD}", in_dm.id.to_string()),
        ("{AP}", file_public.id.to_string()),
        ("{AS}", file_private.id.to_string()),
        ("{AD}", file_dm.id.to_string()),
        ("{member_id}", member_id.to_string()),
        ("{target_id}", target.me().await.expect("me").user.id.to_string()),
        ("{target2_id}", target2.me().await.expect("me").user.id.to_string()),
        ("{I}", invite.code.clone()),
        ("{owner_cursor}", owner.sync(None).await.expect("a cursor").cursor),
    ]);
    // What only the members of S and D (channel_member and owner) may ever see.
    let secrets = [
        ("the private channel's id", values["{S}"].clone()),
        ("the private channel's name", r#""name":"secret"#.to_owned()),
        ("the DM's id", values["{D}"].clone()),
        ("a private message's id", values["{MS}"].clone()),
        ("a DM message's id", values["{MD}"].clone()),
        ("a private message's body", "in private".to_owned()),
        ("a DM message's body", "in dm".to_owned()),
    ];
    // Where the members do see them (so the inspection above looks at real lists).
    let shown = [
        ("GET", "/api/me", values["{S}"].clone()),
        ("GET", "/api/me", values["{D}"].clone()),
        ("GET", "/api/dms", values["{D}"].clone()),
        ("GET", "/api/communities/{C}/channels", values["{S}"].clone()),
        ("GET", "/api/channels/{S}/messages", values["{MS}"].clone()),
        ("GET", "/api/channels/{D}/messages", values["{MD}"].clone()),
        ("GET", "/api/sync", values["{S}"].clone()),
        ("GET", "/api/sync", values["{D}"].clone()),
        ("GET", "/api/search?q=in", values["{MS}"].clone()),
        ("GET", "/api/search?q=in", values["{MD}"].clone()),
        ("GET", "/api/search?q=private&sort=recent&limit=5", values["{MS}"].clone()),
        ("GET", "/api/search?q=dm%20in:%40owner%20in:%40chanmember&tz=Europe%2FParis", values["{MD}"].clone()),
        ("GET", "/api/communities/{C}/audit", values["{S}"].clone()),
    ];
    let actors = [api.client.clone(), outsider, member, channel_member, admin, owner, other];
    let mut failures = Vec::new();
    for (method, path, body, statuses) in MATRIX {
        for ((name, client), expected) in ACTORS.iter().zip(&actors).zip(statuses) {
            let fill = |text: &str| {
                values
                    .iter()
                    .fold(text.replace("{actor}", &name.replace('_', "-")), |acc, (key, value)| acc.replace(key, value))
            };
            let method = Method::from_bytes(method.as_bytes()).expect("method");
            let mut request = client.request(method.clone(), &fill(path));
            if !body.is_empty() {
                request = request.header("content-type", "application/json").body(fill(body));
            }
            let response = request.send().await.expect("answers");
            let status = response.status().as_u16();
            let text = response.text().await.expect("a body");
            let outcome = if status >= 400 {
                let error: ajet_shared::api::ErrorBody = serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("{method} {path} as {name}: errors are JSON ({e}): {text}"));
                (status, Some(error.error.code))
            } else {
                (status, None)
            };
            if outcome != *expected {
                failures.push(format!("{method} {path} as {name}: expected {expected:?}, got {outcome:?}"));
            }
            if outcome.0 < 300 {
                failures.extend(leaks(&secrets, name, &text).map(|leak| format!("{method} {path} as {name}: {leak}")));
                failures.extend(
                    missing(&shown, method.as_str(), path, name, &text)
                        .map(|absent| format!("{method} {path} as {name}: {absent}")),
                );
            }
        }
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

/// The actors in S and D.
const INSIDERS: [&str; 2] = ["channel_member", "owner"];

/// What of the private channel or the DM a successful answer shows an actor outside them.
fn leaks<'a>(secrets: &'a [(&str, String)], actor: &str, body: &'a str) -> impl Iterator<Item = String> + 'a {
    let outside = !INSIDERS.contains(&actor);
    secrets
        .iter()
        .filter(move |(_, secret)| outside && body.contains(secret.as_str()))
        .map(|(what, _)| format!("shows {what} to someone outside it"))
}

/// What a member should see in this answer but does not.
fn missing<'a>(
    shown: &'a [(&str, &str, String)],
    method: &'a str,
    path: &'a str,
    actor: &str,
    body: &'a str,
) -> impl Iterator<Item = String> + 'a {
    let inside = INSIDERS.contains(&actor);
    shown
        .iter()
        .filter(move |(m, p, id)| inside && *m == method && *p == path && !body.contains(id.as_str()))
        .map(|(_, _, id)| format!("does not show {id} to a member"))
}
