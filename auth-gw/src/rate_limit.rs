//! Rate limits, kept in process: one GCRA (generic cell rate algorithm, a token bucket
//! stored as a single "theoretical arrival time" per key) per token, per client IP, and per
//! IP for `/auth/*`. `limit` requests per minute are allowed, in bursts of up to `limit`.
//! Every limited response carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and
//! `X-RateLimit-Reset` (seconds until the allowance is whole again); a refusal is a 429
//! with `Retry-After`. Several gateway instances each enforce their own allowance, except
//! for logins: the per-address `/auth/*` allowance is also kept in Postgres
//! (`SharedLimiter`, `db::rate_limits`), so N gateways do not give a password or code
//! guesser N times the attempts.

use ajet_shared::api::ErrorCode;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ajet_shared::api::ApiError;
use ajet_shared::domain::ids::{UserId, WebhookId};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Keys remembered at most per limiter. Beyond, fully replenished keys are forgotten (they
/// carry no information); if that is not enough, the most idle tenth (the keys nearest to
/// a whole allowance) goes too. The limiter never forgets every key at once, which would
/// hand every busy client a fresh burst.
const MAX_KEYS: usize = 100_000;

/// Whose allowance a request draws on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BucketKey {
    /// A signed-in user, whichever of their sessions and tokens a request carries (so
    /// holding many credentials does not multiply the allowance).
    User(UserId),
    Ip(IpAddr),
    /// An incoming webhook, whatever address posts to it.
    Webhook(WebhookId),
}

/// The outcome of one check, with what the headers report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Until the allowance is whole again.
    pub reset: Duration,
    /// Until the next request would be allowed (zero when allowed).
    pub retry_after: Duration,
}

fn ceil_secs(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

impl Decision {
    /// Adds the `X-RateLimit-*` headers.
    pub fn annotate(&self, headers: &mut HeaderMap) {
        headers.insert("x-ratelimit-limit", HeaderValue::from(self.limit));
        headers.insert("x-ratelimit-remaining", HeaderValue::from(self.remaining));
        headers.insert("x-ratelimit-reset", HeaderValue::from(ceil_secs(self.reset)));
    }

    /// The error of a refused request (429 `rate_limited` with `Retry-After`).
    pub fn error(&self) -> ApiError {
        let retry_after = ceil_secs(self.retry_after).max(1);
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            format!("too many requests; retry in {retry_after} s"),
        )
        .with_retry_after(retry_after)
    }

    /// The 429 answered for a refused request, with the allowance headers.
    pub fn refusal(&self) -> Response {
        let mut response = self.error().into_response();
        self.annotate(response.headers_mut());
        response
    }
}

pub struct RateLimiter {
    limit: u32,
    /// The time one request "costs": a minute divided by the limit.
    interval: Duration,
    /// Theoretical arrival time per key: when its allowance will be whole again.
    buckets: Mutex<HashMap<BucketKey, Instant>>,
    max_keys: usize,
}

impl RateLimiter {
    /// `limit` requests per minute; a zero limit is treated as one.
    pub fn per_minute(limit: u32) -> Self {
        let limit = limit.max(1);
        Self {
            limit,
            interval: Duration::from_secs(60) / limit,
            buckets: Mutex::new(HashMap::new()),
            max_keys: MAX_KEYS,
        }
    }

    #[cfg(test)]
    fn with_max_keys(mut self, max_keys: usize) -> Self {
        self.max_keys = max_keys;
        self
    }

    /// The whole allowance, as time.
    fn window(&self) -> Duration {
        self.interval * self.limit
    }

    /// Counts a request against `key`'s allowance, if it has room.
    pub fn check(&self, key: BucketKey) -> Decision {
        self.decide(key, Instant::now())
    }

    /// The refusal `key` would get now, or `None` if it has room, without counting a
    /// request: for callers that charge only failures (a wrong webhook token) and must
    /// refuse a spent client before doing any work.
    pub fn spent(&self, key: BucketKey) -> Option<Decision> {
        self.spent_at(key, Instant::now())
    }

    fn spent_at(&self, key: BucketKey, now: Instant) -> Option<Decision> {
        let buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let backlog = buckets.get(&key).map_or(Duration::ZERO, |tat| tat.saturating_duration_since(now));
        let after = backlog + self.interval;
        let window = self.window();
        (after > window).then(|| Decision {
            allowed: false,
            limit: self.limit,
            remaining: 0,
            reset: backlog,
            retry_after: after - window,
        })
    }

    fn decide(&self, key: BucketKey, now: Instant) -> Decision {
        // Every operation on the map is a single get or insert, so a poisoned lock holds
        // consistent data.
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let backlog = buckets.get(&key).map_or(Duration::ZERO, |tat| tat.saturating_duration_since(now));
        let after = backlog + self.interval;
        let window = self.window();
        if after > window {
            return Decision {
                allowed: false,
                limit: self.limit,
                remaining: 0,
                reset: backlog,
                retry_after: after - window,
            };
        }
        if buckets.len() >= self.max_keys && !buckets.contains_key(&key) {
            evict_idle(&mut buckets, now, self.max_keys);
        }
        buckets.insert(key, now + after);
        let remaining = (window - after).as_nanos() / self.interval.as_nanos().max(1);
        Decision {
            allowed: true,
            limit: self.limit,
            remaining: u32::try_from(remaining).unwrap_or(u32::MAX),
            reset: after,
            retry_after: Duration::ZERO,
        }
    }
}

/// An allowance every gateway instance shares, kept in Postgres by the database's clock
/// (`db::rate_limits`): one statement per check, so only for rare requests (logins).
pub struct SharedLimiter {
    /// Prefixes the key, naming the allowance.
    name: &'static str,
    limit: u32,
    interval: Duration,
}

impl SharedLimiter {
    /// `limit` requests per minute per key; a zero limit is treated as one.
    pub fn per_minute(name: &'static str, limit: u32) -> Self {
        let limit = limit.max(1);
        Self { name, limit, interval: Duration::from_secs(60) / limit }
    }

    /// Counts a request from `ip` against the shared allowance, if it has room.
    pub async fn check(&self, pool: &ajet_shared::db::PgPool, ip: IpAddr) -> Result<Decision, sqlx::Error> {
        let window = self.interval * self.limit;
        let key = format!("{}:{ip}", self.name);
        let taken = ajet_shared::db::rate_limits::take(pool, &key, self.interval, window).await?;
        Ok(if taken.allowed {
            let remaining = window.saturating_sub(taken.backlog).as_nanos() / self.interval.as_nanos().max(1);
            Decision {
                allowed: true,
                limit: self.limit,
                remaining: u32::try_from(remaining).unwrap_or(u32::MAX),
                reset: taken.backlog,
                retry_after: Duration::ZERO,
            }
        } else {
            Decision {
                allowed: false,
                limit: self.limit,
                remaining: 0,
                reset: taken.backlog,
                retry_after: (taken.backlog + self.interval).saturating_sub(window),
            }
        })
    }
}

/// Makes room in a full map: forgets replenished keys, then, if still full, the tenth (at
/// least one) whose allowance will be whole soonest.
fn evict_idle(buckets: &mut HashMap<BucketKey, Instant>, now: Instant, max_keys: usize) {
    buckets.retain(|_, tat| *tat > now);
    if buckets.len() < max_keys {
        return;
    }
    let mut arrivals: Vec<Instant> = buckets.values().copied().collect();
    let cut = (arrivals.len() / 10).max(1) - 1;
    let (_, threshold, _) = arrivals.select_nth_unstable(cut);
    let threshold = *threshold;
    buckets.retain(|_, tat| *tat > threshold);
}

/// Remembers when a client's burst of failed authentications was last written to the
/// audit log, so a flood makes one row a minute per address, not one per request.
#[derive(Default)]
pub struct BurstLog {
    last: Mutex<HashMap<IpAddr, Instant>>,
}

impl BurstLog {
    const EVERY: Duration = Duration::from_secs(60);

    /// Whether a burst from `ip` should be recorded now (and note that it is).
    pub fn should_record(&self, ip: IpAddr) -> bool {
        self.should_record_at(ip, Instant::now())
    }

    fn should_record_at(&self, ip: IpAddr, now: Instant) -> bool {
        let mut last = self.last.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if last.get(&ip).is_some_and(|at| now.duration_since(*at) < Self::EVERY) {
            return false;
        }
        if last.len() >= MAX_KEYS {
            last.retain(|_, at| now.duration_since(*at) < Self::EVERY);
            if last.len() >= MAX_KEYS {
                last.clear();
            }
        }
        last.insert(ip, now);
        true
    }
}

/// Counts refused login attempts per address: the `BURST`th within `WINDOW` of the first
/// is a burst to audit, and counting starts again.
#[derive(Default)]
pub struct FailedLogins {
    seen: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl FailedLogins {
    pub const BURST: u32 = 5;
    pub const WINDOW: Duration = Duration::from_secs(600);

    /// Notes a refused login from `ip`; `true` when it completes a burst.
    pub fn refused(&self, ip: IpAddr) -> bool {
        self.refused_at(ip, Instant::now())
    }

    fn refused_at(&self, ip: IpAddr, now: Instant) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if seen.len() >= MAX_KEYS && !seen.contains_key(&ip) {
            seen.retain(|_, (first, _)| now.duration_since(*first) < Self::WINDOW);
            if seen.len() >= MAX_KEYS {
                seen.clear();
            }
        }
        let entry = seen.entry(ip).or_insert((now, 0));
        if now.duration_since(entry.0) >= Self::WINDOW {
            *entry = (now, 0);
        }
        entry.1 += 1;
        if entry.1 >= Self::BURST {
            seen.remove(&ip);
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fifth_refused_login_within_ten_minutes_is_a_burst_and_counting_starts_again() {
        let failed = FailedLogins::default();
        let ip = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
        let other = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
        let start = Instant::now();
        let bursts: Vec<bool> = (0..5).map(|i| failed.refused_at(ip, start + Duration::from_secs(i))).collect();
        assert_eq!(bursts, [false, false, false, false, true]);
        assert!(!failed.refused_at(other, start), "per address");
        let later: Vec<bool> = (0..5).map(|i| failed.refused_at(ip, start + Duration::from_secs(10 + i))).collect();
        assert_eq!(later, [false, false, false, false, true], "counting starts again after a burst");
        let slow = start + Duration::from_secs(100);
        for i in 0..4 {
            assert!(!failed.refused_at(ip, slow + Duration::from_secs(i)));
        }
        assert!(!failed.refused_at(ip, slow + FailedLogins::WINDOW), "older attempts fall out of the window");
    }

    const KEY: BucketKey = BucketKey::Ip(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));

    #[test]
    fn a_burst_of_the_limit_passes_then_one_more_is_refused_until_time_passes() {
        let limiter = RateLimiter::per_minute(6);
        let start = Instant::now();
        for expected_remaining in (0..6).rev() {
            let decision = limiter.decide(KEY, start);
            assert!(decision.allowed);
            assert_eq!(decision.remaining, expected_remaining);
        }
        let refused = limiter.decide(KEY, start);
        assert!(!refused.allowed);
        assert_eq!(refused.retry_after, Duration::from_secs(10), "one request costs 60 s / 6");
        assert_eq!(refused.reset, Duration::from_secs(60));
        assert!(!limiter.decide(KEY, start + Duration::from_secs(9)).allowed);
        let later = limiter.decide(KEY, start + Duration::from_secs(10));
        assert!(later.allowed);
        assert_eq!(later.remaining, 0);
    }

    #[test]
    fn keys_have_separate_allowances() {
        let limiter = RateLimiter::per_minute(1);
        let start = Instant::now();
        assert!(limiter.decide(KEY, start).allowed);
        assert!(!limiter.decide(KEY, start).allowed);
        assert!(limiter.decide(BucketKey::User(UserId(uuid::Uuid::nil())), start).allowed);
    }

    fn ip(n: u8) -> BucketKey {
        BucketKey::Ip(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, n)))
    }

    #[test]
    fn a_full_limiter_forgets_its_most_idle_keys_not_every_busy_one() {
        let limiter = RateLimiter::per_minute(1).with_max_keys(4);
        let start = Instant::now();
        for n in 0..4 {
            assert!(limiter.decide(ip(n), start + Duration::from_secs(u64::from(n))).allowed);
        }
        let later = start + Duration::from_secs(5);
        assert!(limiter.decide(ip(9), later).allowed, "a new key finds room");
        for n in 1..4 {
            assert!(!limiter.decide(ip(n), later).allowed, "busy key {n} keeps its spent allowance");
        }
        assert!(limiter.decide(ip(0), later).allowed, "the most idle key was forgotten");
    }

    #[test]
    fn spent_peeks_without_counting() {
        let limiter = RateLimiter::per_minute(2);
        let start = Instant::now();
        assert!(limiter.spent_at(KEY, start).is_none());
        assert!(limiter.spent_at(KEY, start).is_none(), "peeking costs nothing");
        limiter.decide(KEY, start);
        limiter.decide(KEY, start);
        let refused = limiter.spent_at(KEY, start).expect("spent");
        assert!(!refused.allowed);
        assert_eq!(refused.retry_after, Duration::from_secs(30));
    }

    #[test]
    fn a_burst_is_recorded_once_a_minute_per_address() {
        let log = BurstLog::default();
        let start = Instant::now();
        let ip = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
        assert!(log.should_record_at(ip, start));
        assert!(!log.should_record_at(ip, start + Duration::from_secs(59)));
        assert!(log.should_record_at(IpAddr::V4(std::net::Ipv4Addr::BROADCAST), start));
        assert!(log.should_record_at(ip, start + Duration::from_secs(60)));
    }

    #[test]
    fn refusals_round_retry_after_up_to_whole_seconds() {
        let limiter = RateLimiter::per_minute(7);
        let start = Instant::now();
        for _ in 0..7 {
            limiter.decide(KEY, start);
        }
        let refused = limiter.decide(KEY, start).refusal();
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(refused.headers()["retry-after"], "9", "60/7 s = 8.57 s, rounded up");
        assert_eq!(refused.headers()["x-ratelimit-remaining"], "0");
        assert_eq!(refused.headers()["x-ratelimit-limit"], "7");
    }
}
