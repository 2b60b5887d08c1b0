//! Search: `GET /api/search?q=` over every message the caller may read now, best or newest
//! first, with a snippet and the `around` cursor that opens the history at each hit.

use ajet_shared::api::paths;
use ajet_shared::api::wire::{Page, PageInfo, SearchHit, SearchQuery};
use ajet_shared::api::{ErrorBody, ErrorCode};
use ajet_shared::db::search::{After, Search};
use ajet_shared::db::{self, PgPool};
use ajet_shared::domain::ids::MessageId;
use ajet_shared::search;
use axum::Json;
use axum::extract::State;
use time::OffsetDateTime;

use crate::error::{ApiError, ApiResult};
use crate::extract::{AuthUser, Query, page_limit};

const DEFAULT_PAGE: u16 = 20;
const MAX_PAGE: u32 = 100;

/// Where the next page starts. On the wire (opaque to clients): 16 hex digits of the first
/// page's time in microseconds, 16 of the last hit's score (its bits), 32 of its id.
#[derive(Clone, Copy, Debug, PartialEq)]
struct SearchCursor {
    at: OffsetDateTime,
    after: After,
}

impl SearchCursor {
    fn encode(self) -> String {
        let micros = u64::try_from(self.at.unix_timestamp_nanos() / 1000).unwrap_or(0);
        format!("{micros:016x}{:016x}{}", self.after.score.to_bits(), self.after.id.as_uuid().simple())
    }

    fn decode(raw: &str) -> Option<Self> {
        if raw.len() != 64 || !raw.is_ascii() {
            return None;
        }
        let micros = u64::from_str_radix(&raw[..16], 16).ok()?;
        let score = f64::from_bits(u64::from_str_radix(&raw[16..32], 16).ok()?);
        let id: MessageId = raw[32..].parse().ok()?;
        let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000).ok()?;
        score.is_finite().then_some(Self { at, after: After { score, id } })
    }
}

#[utoipa::path(get, path = paths::SEARCH, tag = "api", summary = "Search the messages I may read", params(SearchQuery), responses((status = 200, description = "best first (or newest with `sort=recent`); `page.before` fetches the next page", body = Page<SearchHit>), (status = 400, description = "invalid input: `invalid_search` (the message names the problem: an unbalanced quote, an unknown operator, a bad value), `invalid_time_zone`, `invalid_cursor`, `invalid_limit`", body = ErrorBody), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "not allowed", body = ErrorBody)), security(("bearer" = [])))]
/// Public channels of the caller's communities, their private channels and DMs; never a
/// deleted message, only the current text of an edited one.
pub async fn search_messages(
    State(pool): State<PgPool>,
    auth: AuthUser,
    Query(query): Query<SearchQuery>,
) -> ApiResult<Json<Page<SearchHit>>> {
    auth.require_read()?;
    let limit = page_limit(query.limit, DEFAULT_PAGE, MAX_PAGE)?;
    let tz = search::time_zone(query.tz.as_deref())
        .map_err(|message| ApiError::bad_request(ErrorCode::InvalidTimeZone, message))?;
    let parsed =
        search::parse(&query.q, &tz).map_err(|err| ApiError::bad_request(ErrorCode::InvalidSearch, err.to_string()))?;
    let cursor = match query.before.as_deref() {
        None => None,
        Some(raw) => Some(SearchCursor::decode(raw).ok_or_else(|| {
            ApiError::bad_request(ErrorCode::InvalidCursor, "before: not a search cursor; pass page.before as given")
        })?),
    };
    let at = cursor.map_or_else(OffsetDateTime::now_utc, |cursor| cursor.at);
    let request = Search {
        user: auth.id(),
        query: &parsed,
        sort: query.sort.unwrap_or_default(),
        at,
        after: cursor.map(|cursor| cursor.after),
        limit,
    };
    let (hits, has_more) = db::search::search(&pool, &request).await?;
    let before = if has_more {
        hits.last().map(|(hit, score)| SearchCursor { at, after: After { score: *score, id: hit.message.id } }.encode())
    } else {
        None
    };
    let mut data: Vec<SearchHit> = hits.into_iter().map(|(hit, _)| hit).collect();
    let mut messages: Vec<_> = data.iter().map(|hit| hit.message.clone()).collect();
    db::messages::attach_reactions(&pool, &mut messages, auth.id()).await?;
    for (hit, message) in data.iter_mut().zip(messages) {
        hit.message = message;
    }
    Ok(Json(Page { data, page: PageInfo { before, after: None, has_more } }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_garbage_is_refused() {
        let at = OffsetDateTime::from_unix_timestamp(1_790_000_000).expect("a time");
        let cursor = SearchCursor { at, after: After { score: 3.25, id: MessageId::generate() } };
        assert_eq!(SearchCursor::decode(&cursor.encode()), Some(cursor));
        let raw = cursor.encode();
        for garbled in ["", "abc", &raw[1..], &format!("{}é", &raw[..63])] {
            assert_eq!(SearchCursor::decode(garbled), None, "{garbled:?}");
        }
        let nan = format!("{}{:016x}{}", &raw[..16], f64::NAN.to_bits(), &raw[32..]);
        assert_eq!(SearchCursor::decode(&nan), None);
    }
}
