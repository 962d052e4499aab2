//! The worker loop: claim what is due (in batches, fairly shared among the webhooks that have
//! due work, within the limits of `limits`), run each attempt as its own task, and sleep until
//! something is due, a new event arrives, an attempt ends, or shutdown.
//!
//! One webhook never waits for another: each webhook's concurrency adapts to how its endpoint
//! answers, slow and failing webhooks share only part of the slots, a claim serves every due
//! webhook in turn, and the bodies in flight are capped in bytes (see `limits` and
//! `domain::fair_share`).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::Deliverer;
use super::limits::{Answer, LimitSettings, Limits};
use super::payloads::Payloads;
use crate::domain::attempt::Trigger;
use crate::domain::ids;
use crate::domain::time::Millis;
use crate::store::{ClaimRequest, Claimed};

/// The most deliveries one claim takes.
const CLAIM_BATCH: u32 = 128;
/// How long the worker sleeps at most when nothing is due (other processes may add work).
const MAX_IDLE: Duration = Duration::from_secs(1);
/// How often the per-webhook limit gauges are refreshed.
const GAUGES_EVERY: Duration = Duration::from_secs(1);
/// A webhook's starting concurrency, before it has answered (at most the ceiling).
const INITIAL_PER_WEBHOOK: u32 = 8;

/// What the attempts in flight and the deliveries claimed ahead hold: their slots and their
/// bodies.
#[derive(Debug)]
struct InFlight {
    limits: Limits,
    payloads: Payloads,
    /// Claimed for a prompt webhook at its limit; each starts as soon as it has a slot (see
    /// `limits`: "claimed ahead").
    waiting: VecDeque<Claimed>,
}

pub struct Worker {
    deliverer: Arc<Deliverer>,
    owner: String,
    wake: Arc<Notify>,
    lease: Duration,
    grace: Duration,
    /// How long an attempt may take unless its webhook says otherwise.
    timeout: Duration,
    max_bytes: u64,
    in_flight: Arc<Mutex<InFlight>>,
    /// Told when an attempt's HTTP exchange is over, so a waiting delivery takes its slot at
    /// once rather than after the attempt is recorded.
    freed: Arc<Notify>,
}

/// The limits' settings from the configuration: a quarter of the slots kept for prompt
/// webhooks, and each webhook starting at [`INITIAL_PER_WEBHOOK`].
pub fn limit_settings(config: &crate::config::Config) -> LimitSettings {
    let max_in_flight = u32::try_from(config.max_in_flight).unwrap_or(u32::MAX);
    let max_per_webhook = u32::try_from(config.max_in_flight_per_webhook).unwrap_or(u32::MAX);
    LimitSettings {
        max_in_flight,
        prompt_reserve: max_in_flight / 4,
        max_per_webhook,
        initial_per_webhook: INITIAL_PER_WEBHOOK.min(max_per_webhook),
        slow_after: config.slow_attempt.as_millis() as Millis,
    }
}

impl Worker {
    /// A worker whose leases last one delivery timeout plus `lease_margin`: long enough that a
    /// live worker always records before its lease runs out, short enough that a dead worker's
    /// deliveries are taken over soon.
    pub fn new(
        deliverer: Arc<Deliverer>,
        wake: Arc<Notify>,
        config: &crate::config::Config,
    ) -> Self {
        Self {
            deliverer,
            owner: ids::new_id("worker"),
            wake,
            lease: config.delivery_timeout + config.lease_margin,
            grace: config.delivery_timeout + Duration::from_secs(1),
            timeout: config.delivery_timeout,
            max_bytes: config.max_in_flight_bytes as u64,
            in_flight: Arc::new(Mutex::new(InFlight {
                limits: Limits::new(limit_settings(config)),
                payloads: Payloads::default(),
                waiting: VecDeque::new(),
            })),
            freed: Arc::new(Notify::new()),
        }
    }

    /// Runs until `shutdown`; then stops claiming, lets attempts in flight finish within one
    /// delivery timeout, and gives back the leases of any that did not.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut tasks = JoinSet::new();
        // Round-robin position: the next claim starts after the webhook served last.
        let mut after: Option<String> = None;
        let mut gauges_at = Instant::now();
        // Whether to ask the queue: always after a new event, a timer or a productive claim;
        // after an answer, only when it may bring something (see `wants_claim`).
        let mut claim_due = true;
        while !shutdown.is_cancelled() {
            while tasks.try_join_next().is_some() {}
            let now = self.deliverer.clock.now();
            self.start_waiting(&mut tasks, now).await;
            let claimed = if claim_due {
                self.claim_and_spawn(&mut tasks, &mut after, now).await
            } else {
                Some(0)
            };
            if gauges_at.elapsed() >= GAUGES_EVERY {
                self.refresh_gauges();
                gauges_at = Instant::now();
            }
            let full = self.full();
            if claimed.is_some_and(|n| n > 0) && !full {
                continue;
            }
            let pause = match claimed {
                Some(_) if claim_due => self.idle_time().await,
                _ => MAX_IDLE, // the database is unavailable (back off), or attempts are running
            };
            claim_due = tokio::select! {
                _ = shutdown.cancelled() => true,
                _ = self.wake.notified() => true,
                // A freed slot first goes to a waiting delivery; the attempt's end (below)
                // follows soon and asks the queue if nothing waits.
                _ = self.freed.notified() => self.lock().limits.refill_wanted(),
                Some(_) = tasks.join_next(), if !tasks.is_empty() => self.wants_claim(),
                _ = tokio::time::sleep(pause), if !full => true,
            };
        }
        self.drain(tasks).await;
    }

    /// Whether an answer makes a claim worth its round trip: when nothing waits in memory
    /// (the freed slot may be for a webhook with due work), or a prompt webhook's deliveries
    /// claimed ahead are down to one window.
    fn wants_claim(&self) -> bool {
        let in_flight = self.lock();
        in_flight.waiting.is_empty() || in_flight.limits.refill_wanted()
    }

    /// Claims what the limits allow now and starts an attempt for each (or keeps it waiting);
    /// `None` on a store error.
    async fn claim_and_spawn(
        &self,
        tasks: &mut JoinSet<()>,
        after: &mut Option<String>,
        now: Millis,
    ) -> Option<usize> {
        let mut budget = {
            let mut in_flight = self.lock();
            let bytes = in_flight.payloads.bytes();
            let attempts = u64::from(in_flight.limits.in_flight());
            self.deliverer.metrics.set_in_flight(attempts, bytes);
            let mut budget = in_flight.limits.budget(now, CLAIM_BATCH);
            budget.max_bytes = self.max_bytes.saturating_sub(bytes);
            budget
        };
        if budget.room == 0 || budget.max_bytes == 0 {
            return Some(0);
        }
        budget.after = after.clone();
        let request = ClaimRequest {
            owner: self.owner.clone(),
            now,
            lease_until: now + self.lease.as_millis() as i64,
            default_timeout: self.timeout.as_millis() as i64,
            budget,
        };
        let claims = match self.deliverer.store.claim_due(&request).await {
            Ok(claims) => claims,
            Err(e) => {
                tracing::warn!(error = %e, "claiming deliveries failed; backing off");
                return None;
            }
        };
        if let Some(last) = claims.last() {
            *after = Some(last.webhook_id.clone());
        }
        let count = claims.len();
        for mut claim in claims {
            let mut in_flight = self.lock();
            claim.payload = in_flight
                .payloads
                .hold(&claim.event_id, claim.payload.clone());
            if in_flight.limits.has_slot(&claim.webhook_id) {
                drop(in_flight);
                self.spawn_attempt(tasks, claim);
            } else {
                in_flight.limits.wait(&claim.webhook_id, now);
                in_flight.waiting.push_back(claim);
            }
        }
        Some(count)
    }

    /// Starts the waiting deliveries whose webhook has a slot now. One whose lease would run
    /// out during the attempt is given back instead, so no other worker can take it mid-send.
    async fn start_waiting(&self, tasks: &mut JoinSet<()>, now: Millis) -> usize {
        let (ready, expiring) = {
            let mut in_flight = self.lock();
            let waiting = std::mem::take(&mut in_flight.waiting);
            let (mut ready, mut expiring, mut still) = (Vec::new(), Vec::new(), VecDeque::new());
            for claim in waiting {
                let timeout = claim.webhook.timeout.unwrap_or(self.timeout);
                if claim.lease_until <= now + timeout.as_millis() as i64 {
                    in_flight.limits.give_back(&claim.webhook_id);
                    in_flight.payloads.release(&claim.event_id);
                    expiring.push(claim);
                } else if in_flight.limits.has_slot(&claim.webhook_id) {
                    // Counted as started now, so the next one of its webhook sees the slot taken.
                    let retry = claim.trigger == Trigger::Retry;
                    in_flight.limits.start(&claim.webhook_id, now, retry, true);
                    ready.push(claim);
                } else {
                    still.push_back(claim);
                }
            }
            in_flight.waiting = still;
            (ready, expiring)
        };
        let started = ready.len();
        for claim in ready {
            self.spawn_started(tasks, claim, now);
        }
        if !expiring.is_empty()
            && let Err(e) = self.deliverer.store.release(&expiring, now).await
        {
            tracing::warn!(error = %e, "releasing deliveries failed; their leases will expire");
        }
        started
    }

    /// Starts an attempt of a claimed delivery whose body is already held.
    fn spawn_attempt(&self, tasks: &mut JoinSet<()>, claim: Claimed) {
        let started = self.deliverer.clock.now();
        let retry = claim.trigger == Trigger::Retry;
        self.lock()
            .limits
            .start(&claim.webhook_id, started, retry, false);
        self.spawn_started(tasks, claim, started);
    }

    /// Runs the attempt of a delivery already counted as started at `started`.
    fn spawn_started(&self, tasks: &mut JoinSet<()>, claim: Claimed, started: Millis) {
        let clock = self.deliverer.clock.clone();
        let deliverer = self.deliverer.clone();
        let shared = self.in_flight.clone();
        let freed = self.freed.clone();
        tasks.spawn(async move {
            let webhook_id = claim.webhook_id.clone();
            let event_id = claim.event_id.clone();
            // The slot is free as soon as the HTTP exchange is over, before the record.
            let sent = |outcome: Option<&crate::domain::attempt::Outcome>| {
                let answer = outcome.map(Answer::of);
                lock(&shared)
                    .limits
                    .finish(&webhook_id, started, clock.now(), answer);
                freed.notify_one();
            };
            if let Err(e) = deliverer.attempt_then(claim, sent).await {
                tracing::error!(webhook = %webhook_id, error = %e, "an attempt could not be recorded");
            }
            lock(&shared).payloads.release(&event_id);
        });
    }

    fn lock(&self) -> MutexGuard<'_, InFlight> {
        lock(&self.in_flight)
    }

    /// No attempt may start until one ends: every slot is taken, or the bodies in flight are
    /// at the byte cap.
    fn full(&self) -> bool {
        let in_flight = self.lock();
        in_flight.limits.free_slots() == 0 || in_flight.payloads.bytes() >= self.max_bytes
    }

    fn refresh_gauges(&self) {
        let limits: Vec<(String, u32)> = self
            .lock()
            .limits
            .limits()
            .map(|(id, limit)| (id.to_string(), limit))
            .collect();
        self.deliverer.metrics.set_webhook_limits(&limits);
    }

    /// How long to sleep: until the next delivery is due, at most [`MAX_IDLE`].
    async fn idle_time(&self) -> Duration {
        match self.deliverer.store.next_due_at().await {
            Ok(Some(due)) => {
                let wait = due - self.deliverer.clock.now();
                if wait <= 0 {
                    MAX_IDLE
                } else {
                    Duration::from_millis(wait as u64).min(MAX_IDLE)
                }
            }
            _ => MAX_IDLE,
        }
    }

    async fn drain(&self, mut tasks: JoinSet<()>) {
        let finished = tokio::time::timeout(self.grace, async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
        if finished.is_err() {
            tasks.abort_all();
        }
        match self
            .deliverer
            .store
            .release_leases(Some(&self.owner), self.deliverer.clock.now())
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(released = n, "gave back unfinished deliveries"),
            Err(e) => tracing::warn!(error = %e, "could not give back leases; they will expire"),
        }
    }
}

fn lock(in_flight: &Mutex<InFlight>) -> MutexGuard<'_, InFlight> {
    in_flight.lock().unwrap_or_else(|e| e.into_inner())
}
