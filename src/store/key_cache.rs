//! Valid API keys (by hash) → workspace, so authenticating a request reads nothing. Exact, not a
//! TTL cache: it is only used where this process is the only writer (SQLite), and revoking a key
//! clears it. A generation counter keeps a lookup that raced with a revocation from caching the
//! key it read before the revocation committed.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

/// Bounds the cache; only valid keys enter it, so this is far more than any deployment has.
const MAX_KEYS: usize = 10_000;

#[derive(Default)]
pub struct KeyCache(Mutex<Inner>);

#[derive(Default)]
struct Inner {
    generation: u64,
    keys: HashMap<Vec<u8>, String>,
}

impl KeyCache {
    /// The cached workspace of a key, and the generation to pass to [`KeyCache::insert`] after
    /// reading the database on a miss.
    pub fn get(&self, key_hash: &[u8]) -> (Option<String>, u64) {
        let inner = self.lock();
        (inner.keys.get(key_hash).cloned(), inner.generation)
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
        inner
            .keys
            .insert(key_hash.to_vec(), workspace_id.to_string());
    }

    /// Forgets every key; call after a revocation has committed.
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.keys.clear();
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
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
}
