//! Valid API keys (by hash) → workspace, so authenticating a request reads nothing. Revoking a
//! key through this process clears the cache; a generation counter keeps a lookup that raced with
//! the revocation from caching the key it read before the revocation committed. Where this
//! process is the only writer (SQLite) that makes the cache exact; where other processes may
//! revoke keys (PostgreSQL), entries also expire after a short time to live.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Bounds the cache; only valid keys enter it, so this is far more than any deployment has.
const MAX_KEYS: usize = 10_000;

#[derive(Default)]
pub struct KeyCache {
    inner: Mutex<Inner>,
    /// How long an entry is trusted; `None`: until a revocation through this process.
    ttl: Option<Duration>,
}

#[derive(Default)]
struct Inner {
    generation: u64,
    keys: HashMap<Vec<u8>, (String, Instant)>,
}

impl KeyCache {
    /// A cache whose entries expire after `ttl` (revocations by other processes show by then).
    pub fn with_ttl(ttl: Duration) -> Self {
        Self {
            ttl: Some(ttl),
            ..Self::default()
        }
    }

    /// The cached workspace of a key, and the generation to pass to [`KeyCache::insert`] after
    /// reading the database on a miss.
    pub fn get(&self, key_hash: &[u8]) -> (Option<String>, u64) {
        let inner = self.lock();
        let fresh = |cached_at: &Instant| self.ttl.is_none_or(|ttl| cached_at.elapsed() < ttl);
        let workspace = inner
            .keys
            .get(key_hash)
            .filter(|(_, cached_at)| fresh(cached_at))
            .map(|(workspace, _)| workspace.clone());
        (workspace, inner.generation)
    }

    /// Caches a key read from the database, unless a revocation happened since `generation`.
    pub fn insert(&self, key_hash: &[u8], workspace_id: &str, generation: u64) {
        let mut inner = self.lock();
        if inner.generation != generation {
            return;
        }
        if inner.keys.len() >= MAX_KEYS {
            inner.keys.clear();
        }
        let entry = (workspace_id.to_string(), Instant::now());
        inner.keys.insert(key_hash.to_vec(), entry);
    }

    /// Forgets every key; call after a revocation has committed.
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.keys.clear();
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lookup_that_raced_with_a_revocation_is_not_cached() {
        let cache = KeyCache::default();
        let (miss, generation) = cache.get(b"k");
        assert_eq!(miss, None);
        cache.clear(); // a revocation commits while the lookup reads the database
        cache.insert(b"k", "ws_1", generation);
        assert_eq!(cache.get(b"k").0, None);

        let (_, generation) = cache.get(b"k");
        cache.insert(b"k", "ws_1", generation);
        assert_eq!(cache.get(b"k").0.as_deref(), Some("ws_1"));
        cache.clear();
        assert_eq!(cache.get(b"k").0, None);
    }

    #[test]
    fn entries_expire_after_the_time_to_live() {
        let cache = KeyCache::with_ttl(Duration::ZERO);
        let (_, generation) = cache.get(b"k");
        cache.insert(b"k", "ws_1", generation);
        assert_eq!(cache.get(b"k").0, None);
    }
}
