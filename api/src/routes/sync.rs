//! Catch-up: `GET /api/sync?since=` answers what changed for the caller since a cursor
//! (messages of their channels, the channel list, read state, notifications) and the next
//! cursor; what a client uses after a `resync` or after being offline instead of
//! refetching everything.

use std::collections::BTreeMap;

use ajet_shared::api::paths;
use ajet_shared::api::wire::{Message, SyncMessages, SyncQuery, SyncResponse};
use ajet_shared::api::{ErrorBody, ErrorCode};
use ajet_shared::db::{self, PgPool};
use ajet_shared::domain::ids::{ChannelId, UserId};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use time::OffsetDateTime;

use crate::error::{ApiError, ApiResult};
use crate::extract::{AuthUser, Query};

/// Changed messages listed per channel; beyond, the channel says `has_more`.
const MESSAGES_PER_CHANNEL: i64 = 100;
/// Notifications listed; beyond, `notifications_has_more`.
const NOTIFICATIONS_MAX: u16 = 100;
/// A cursor older than this is refused: refetch instead.
const CURSOR_MAX_AGE: time::Duration = time::Duration::days(30);

/// A point in time, for one user. On the wire: 32 hex digits of the user id, then 16 of
/// the time in microseconds since 1970 (opaque to clients).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct SyncCursor {
    user: UserId,
    at: OffsetDateTime,
}

impl SyncCursor {
    fn encode(self) -> String {
        let micros = u64::try_from(self.at.unix_timestamp_nanos() / 1000).unwrap_or(0);
        format!("{}{micros:016x}", self.user.as_uuid().simple())
    }

    fn decode(raw: &str) -> Option<Self> {
        if raw.len() != 48 || !raw.is_ascii() {
            return None;
        }
        let user: UserId = raw[..32].parse().ok()?;
        let micros = u64::from_str_radix(&raw[32..], 16).ok()?;
        let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000).ok()?;
        Some(Self { user, at })
    }
}

/// The cursor `raw` as `user`'s point in time, or why not.
fn since(raw: &str, user: UserId, now: OffsetDateTime) -> Result<OffsetDateTime, ApiError> {
    let invalid = |why: &str| ApiError::bad_request(ErrorCode::InvalidCursor, format!("since: {why}"));
    let cursor = SyncCursor::decode(raw).ok_or_else(|| invalid("not a sync cursor"))?;
    if cursor.user != user {
        return Err(invalid("this cursor was issued to someone else"));
    }
    if cursor.at > now + time::Duration::MINUTE {
        return Err(invalid("this cursor is from the future"));
    }
    if now - cursor.at > CURSOR_MAX_AGE {
        return Err(ApiError::new(
            StatusCode::GONE,
            ErrorCode::SyncCursorExpired,
            "since: this cursor is more than 30 days old; refetch, then sync from the new cursor",
        ));
    }
    Ok(cursor.at)
}

#[utoipa::path(get, path = paths::SYNC, tag = "api", summary = "What changed for me since a cursor (catch-up)", params(SyncQuery), responses((status = 200, description = "the changes since the cursor, and the next cursor", body = SyncResponse), (status = 400, description = "invalid input (`invalid_cursor`: malformed, or issued to someone else)", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody), (status = 410, description = "the cursor is too old (`sync_cursor_expired`): refetch", body = ErrorBody)), security(("bearer" = [])))]
/// Without `since`: a cursor to start from and every visible channel. With it: exactly
/// what changed after it, for what the caller can see now.
pub async fn sync(
    State(pool): State<PgPool>,
    auth: AuthUser,
    Query(query): Query<SyncQuery>,
) -> ApiResult<Json<SyncResponse>> {
    auth.require_read()?;
    let user = auth.id();
    // Taken first: whatever commits after this is the next sync's.
    let settled = db::settled_time(&pool).await?;
    let cursor = SyncCursor { user, at: settled }.encode();
    let channel_ids = db::channels::visible_ids(&pool, user).await?;
    let Some(raw) = query.since.as_deref() else {
        let channels = db::channels::changed_since(&pool, user, OffsetDateTime::UNIX_EPOCH).await?;
        return Ok(Json(SyncResponse {
            cursor,
            channels,
            channel_ids,
            read_cursors: Vec::new(),
            messages: Vec::new(),
            notifications: Vec::new(),
            notifications_has_more: false,
            read_notification_ids: Vec::new(),
        }));
    };
    let since = since(raw, user, OffsetDateTime::now_utc())?;
    let channels = db::channels::changed_since(&pool, user, since).await?;
    let read_cursors = db::channels::read_cursors_since(&pool, user, since).await?;
    let changed = db::messages::changed_since(&pool, user, since, MESSAGES_PER_CHANNEL).await?;
    let (notifications, notifications_has_more) =
        db::notifications::created_since(&pool, user, since, NOTIFICATIONS_MAX).await?;
    let read_notification_ids = db::notifications::read_since(&pool, user, since).await?;
    Ok(Json(SyncResponse {
        cursor,
        channels,
        channel_ids,
        read_cursors,
        messages: per_channel(changed),
        notifications,
        notifications_has_more,
        read_notification_ids,
    }))
}

/// Groups changed messages by channel, capping each at `MESSAGES_PER_CHANNEL`.
fn per_channel(changed: Vec<Message>) -> Vec<SyncMessages> {
    let mut by_channel: BTreeMap<ChannelId, Vec<Message>> = BTreeMap::new();
    for message in changed {
        by_channel.entry(message.channel_id).or_default().push(message);
    }
    by_channel
        .into_iter()
        .map(|(channel_id, mut messages)| {
            let cap = usize::try_from(MESSAGES_PER_CHANNEL).unwrap_or(usize::MAX);
            let has_more = messages.len() > cap;
            messages.truncate(cap);
            SyncMessages { channel_id, messages, has_more }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_is_refused_when_foreign_future_old_or_garbled() {
        let user = UserId::generate();
        let now = OffsetDateTime::now_utc();
        let at = OffsetDateTime::from_unix_timestamp(now.unix_timestamp()).expect("a time");
        let raw = SyncCursor { user, at }.encode();
        assert_eq!(SyncCursor::decode(&raw), Some(SyncCursor { user, at }));
        assert_eq!(since(&raw, user, now).ok(), Some(at));
        let code = |result: Result<OffsetDateTime, ApiError>| result.err().map(|err| (err.status, err.code));
        let invalid = Some((StatusCode::BAD_REQUEST, ErrorCode::InvalidCursor));
        assert_eq!(code(since(&raw, UserId::generate(), now)), invalid, "someone else's");
        let future = SyncCursor { user, at: now + time::Duration::HOUR }.encode();
        assert_eq!(code(since(&future, user, now)), invalid, "from the future");
        let old = SyncCursor { user, at: now - time::Duration::days(31) }.encode();
        assert_eq!(code(since(&old, user, now)), Some((StatusCode::GONE, ErrorCode::SyncCursorExpired)));
        for garbled in
            ["", "abc", &raw[1..], &format!("{}é", &raw[..47]), &raw.replace(|c: char| c.is_ascii_digit(), "z")]
        {
            assert_eq!(code(since(garbled, user, now)), invalid, "{garbled:?}");
        }
    }
}
