//! A short-lived, bounded cache of validated tokens, so a busy client does not cost a
//! database lookup per request (the gateway's and the api's). Entries live at most `ttl` (a few seconds): that is the
//! whole staleness bound for a token revoked elsewhere (another gateway instance, an admin),
//! while a revocation through this process evicts its entry at once. Entries are keyed by
//! the token's SHA-256, so the cache never holds a plaintext token. Only valid tokens are
//! cached: a refusal is always re-checked.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{Credential, Identity};

pub struct AuthCache {
    ttl: Duration,
    capacity: usize,
    entries: Mutex<HashMap<[u8; 32], (Identity, Instant)>>,
}

impl std::fmt::Debug for AuthCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthCache").field("ttl", &self.ttl).field("capacity", &self.capacity).finish_non_exhaustive()
    }
}

impl AuthCache {
    /// A cache keeping at most `capacity` identities for at most `ttl` each; a zero `ttl`
    /// or `capacity` disables it.
    #[must_use]
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self { ttl, capacity, entries: Mutex::new(HashMap::new()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], (Identity, Instant)>> {
        // A panic while holding the lock cannot leave the map inconsistent (every
        // operation is a single insert or remove), so a poisoned lock is still usable.
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The cached identity for the token with hash `token_hash`, if still fresh.
    #[must_use]
    pub fn get(&self, token_hash: &[u8; 32]) -> Option<Identity> {
        self.get_at(token_hash, Instant::now())
    }

    fn get_at(&self, token_hash: &[u8; 32], now: Instant) -> Option<Identity> {
        let mut entries = self.lock();
        match entries.get(token_hash) {
            Some((identity, stored)) if now.duration_since(*stored) < self.ttl => Some(*identity),
            Some(_) => {
                entries.remove(token_hash);
                None
            }
            None => None,
        }
    }

    /// Remembers that `token_hash` stands for `identity`, as of now.
    pub fn insert(&self, token_hash: [u8; 32], identity: Identity) {
        self.insert_at(token_hash, identity, Instant::now());
    }

    fn insert_at(&self, token_hash: [u8; 32], identity: Identity, now: Instant) {
        if self.ttl.is_zero() || self.capacity == 0 {
            return;
        }
        let mut entries = self.lock();
        if entries.len() >= self.capacity && !entries.contains_key(&token_hash) {
            entries.retain(|_, (_, stored)| now.duration_since(*stored) < self.ttl);
            if entries.len() >= self.capacity {
                // Still full of fresh entries: start over rather than grow. The cost is
                // one database lookup per evicted token.
                entries.clear();
            }
        }
        entries.insert(token_hash, (identity, now));
    }

    /// Forgets `token_hash` (it was just revoked here).
    pub fn remove(&self, token_hash: &[u8; 32]) {
        self.lock().remove(token_hash);
    }

    /// Forgets every token of `credential` (revoked by its id, not its token).
    pub fn forget(&self, credential: Credential) {
        self.lock().retain(|_, (identity, _)| identity.credential != credential);
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Scopes;
    use crate::domain::ids::{SessionId, UserId};

    fn identity() -> Identity {
        Identity {
            user_id: UserId(uuid::Uuid::now_v7()),
            credential: Credential::Session(SessionId(uuid::Uuid::now_v7())),
            scopes: Scopes::ALL,
        }
    }

    #[test]
    fn entries_expire_after_the_ttl() {
        let cache = AuthCache::new(Duration::from_secs(2), 10);
        let start = Instant::now();
        let who = identity();
        cache.insert_at([1; 32], who, start);
        assert_eq!(cache.get_at(&[1; 32], start + Duration::from_millis(1999)), Some(who));
        assert_eq!(cache.get_at(&[1; 32], start + Duration::from_secs(2)), None);
        assert!(cache.is_empty(), "an expired entry is dropped when seen");
    }

    #[test]
    fn removal_is_immediate() {
        let cache = AuthCache::new(Duration::from_secs(2), 10);
        cache.insert([1; 32], identity());
        cache.remove(&[1; 32]);
        assert_eq!(cache.get(&[1; 32]), None);
    }

    #[test]
    fn forgetting_a_credential_drops_its_entries_only() {
        let cache = AuthCache::new(Duration::from_secs(2), 10);
        let (revoked, kept) = (identity(), identity());
        cache.insert([1; 32], revoked);
        cache.insert([2; 32], kept);
        cache.forget(revoked.credential);
        assert_eq!(cache.get(&[1; 32]), None);
        assert_eq!(cache.get(&[2; 32]), Some(kept));
    }

    #[test]
    fn the_cache_never_grows_past_its_capacity() {
        let cache = AuthCache::new(Duration::from_secs(2), 3);
        let start = Instant::now();
        for n in 0..3u8 {
            cache.insert_at([n; 32], identity(), start);
        }
        // Full of fresh entries: the next insert starts over.
        cache.insert_at([9; 32], identity(), start);
        assert_eq!(cache.len(), 1);
        // Full with expired entries: those go, fresh ones stay.
        for n in 0..2u8 {
            cache.insert_at([n; 32], identity(), start);
        }
        let later = start + Duration::from_secs(3);
        cache.insert_at([7; 32], identity(), later);
        cache.insert_at([8; 32], identity(), later);
        assert!(cache.len() <= 3);
        assert!(cache.get_at(&[8; 32], later).is_some());
    }

    #[test]
    fn a_zero_ttl_disables_caching() {
        let cache = AuthCache::new(Duration::ZERO, 10);
        cache.insert([1; 32], identity());
        assert!(cache.is_empty());
    }
}
