//! `SPEAKNODE_RATE_LIMIT`: a token bucket per API key, refilled at the configured rate and holding
//! two seconds' worth, so a client may burst briefly but not sustain more than the rate.
//!
//! Buckets are keyed by the SHA-256 of the key (what the store looks keys up by), so two keys of
//! one workspace have a bucket each. Only keys that authenticated get a bucket: a flood of wrong
//! keys cannot grow the map, which is bounded by the keys that exist. Buckets that have filled up
//! again are indistinguishable from new ones, so [`evict_idle_buckets`] drops them every minute.
//!
//! The buckets live in this process: with N API processes behind a load balancer, a key may make
//! up to N times the rate in all.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};
use tokio_util::sync::CancellationToken;

/// How often buckets that have filled up again are dropped.
const EVICT_EVERY: Duration = Duration::from_secs(60);

/// A key's hash, as [`crate::domain::ids::hash_key`] computes it.
type KeyHash = Vec<u8>;

pub struct ApiRateLimiter<C: Clock = DefaultClock> {
    rate: NonZeroU32,
    buckets: RateLimiter<KeyHash, DashMapStateStore<KeyHash>, C, NoOpMiddleware<C::Instant>>,
}

impl ApiRateLimiter {
    pub fn per_second(rate: NonZeroU32) -> Self {
        Self::with_clock(rate, DefaultClock::default())
    }
}

impl<C: Clock> ApiRateLimiter<C> {
    pub fn with_clock(rate: NonZeroU32, clock: C) -> Self {
        let quota = Quota::per_second(rate).allow_burst(Self::burst_of(rate));
        Self {
            rate,
            buckets: RateLimiter::new(quota, DashMapStateStore::default(), clock),
        }
    }

    fn burst_of(rate: NonZeroU32) -> NonZeroU32 {
        rate.saturating_add(rate.get())
    }

    /// Requests per second allowed per key.
    pub fn rate(&self) -> NonZeroU32 {
        self.rate
    }

    /// Requests a key may make at once, from a full bucket.
    pub fn burst(&self) -> NonZeroU32 {
        Self::burst_of(self.rate)
    }

    /// Takes one request from the key's bucket, or answers how long until the bucket holds one.
    pub fn check(&self, key_hash: &KeyHash) -> Result<(), Duration> {
        self.buckets
            .check_key(key_hash)
            .map_err(|not_until| not_until.wait_time_from(self.buckets.clock().now()))
    }

    /// Drops the buckets that are full again (their keys made no recent requests).
    pub fn evict_idle(&self) {
        self.buckets.retain_recent();
        self.buckets.shrink_to_fit();
    }

    /// How many keys have a bucket now.
    pub fn tracked(&self) -> usize {
        self.buckets.len()
    }
}

/// Keeps the map to the keys used in the last few seconds, until `shutdown`.
pub async fn evict_idle_buckets(limiter: Arc<ApiRateLimiter>, shutdown: CancellationToken) {
    let mut every = tokio::time::interval(EVICT_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = every.tick() => limiter.evict_idle(),
            () = shutdown.cancelled() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use governor::clock::FakeRelativeClock;

    use super::*;
    use crate::web::retry_after_seconds;

    fn limiter(rate: u32) -> (ApiRateLimiter<FakeRelativeClock>, FakeRelativeClock) {
        let clock = FakeRelativeClock::default();
        let rate = NonZeroU32::new(rate).expect("positive");
        (ApiRateLimiter::with_clock(rate, clock.clone()), clock)
    }

    fn allowed_now(limiter: &ApiRateLimiter<FakeRelativeClock>, key: &KeyHash) -> usize {
        std::iter::from_fn(|| limiter.check(key).ok())
            .take(1000)
            .count()
    }

    #[test]
    fn a_key_may_burst_two_seconds_worth_then_waits_for_the_rate() {
        let (limiter, clock) = limiter(5);
        let key = vec![1; 32];
        assert_eq!(allowed_now(&limiter, &key), 10);
        let wait = limiter.check(&key).expect_err("the bucket is empty");
        assert_eq!(wait, Duration::from_millis(200));
        assert_eq!(retry_after_seconds(wait), 1);
        clock.advance(Duration::from_millis(200));
        assert!(limiter.check(&key).is_ok());
        assert!(limiter.check(&key).is_err());
        clock.advance(Duration::from_secs(1));
        assert_eq!(allowed_now(&limiter, &key), 5);
    }

    #[test]
    fn each_key_has_its_own_bucket() {
        let (limiter, _) = limiter(1);
        let (busy, other) = (vec![1; 32], vec![2; 32]);
        assert_eq!(allowed_now(&limiter, &busy), 2);
        assert!(limiter.check(&busy).is_err());
        assert_eq!(allowed_now(&limiter, &other), 2);
    }

    #[test]
    fn buckets_that_filled_up_again_are_evicted() {
        let (limiter, clock) = limiter(10);
        for i in 0..100u8 {
            assert!(limiter.check(&vec![i; 32]).is_ok());
        }
        assert_eq!(limiter.tracked(), 100);
        limiter.evict_idle();
        assert_eq!(limiter.tracked(), 100, "recently used buckets stay");
        clock.advance(Duration::from_secs(3));
        assert!(limiter.check(&vec![0; 32]).is_ok());
        limiter.evict_idle();
        assert_eq!(limiter.tracked(), 1, "only the key used since is left");
    }
}
