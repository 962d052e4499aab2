//! The worker loop: claim what is due (in batches, within the in-flight limits), run each attempt
//! as its own task, and sleep until something is due, a new event arrives, or shutdown.
//!
//! Two limits keep one bad endpoint from hurting the others: a global cap on attempts in flight,
//! and a per-webhook cap. Webhooks at their cap are skipped by the claim, so a hanging receiver
//! ties up at most its own share of the workers.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::Deliverer;
use crate::domain::ids;
use crate::domain::time::Millis;
use crate::store::{ClaimRequest, Claimed};

/// The most deliveries one claim takes.
const CLAIM_BATCH: usize = 128;
/// How long the worker sleeps at most when nothing is due (other processes may add work).
const MAX_IDLE: Duration = Duration::from_secs(1);

pub struct Worker {
    deliverer: Arc<Deliverer>,
    owner: String,
    wake: Arc<Notify>,
    max_in_flight: usize,
    max_per_webhook: usize,
    lease: Duration,
    grace: Duration,
    in_flight: Arc<Mutex<HashMap<String, usize>>>,
    /// Claimed deliveries whose webhook was at its in-flight cap, with their lease's end: they
    /// start as slots free up, instead of being given back and claimed again (which doubled the
    /// queue's writes when one webhook received a burst).
    waiting: Mutex<VecDeque<Claimed>>,
    /// How long an attempt may take unless its webhook says otherwise: a waiting delivery
    /// starts only if its lease outlasts its timeout.
    timeout: Duration,
}

impl Worker {
    /// A worker whose leases last one delivery timeout plus `lease_margin`: long enough that a
    /// live worker always records before its lease runs out, short enough that a dead worker's
    /// deliveries are taken over soon.
    pub fn new(
        deliverer: Arc<Deliverer>,
        wake: Arc<Notify>,
        limits: &crate::config::Config,
    ) -> Self {
        Self {
            deliverer,
            owner: ids::new_id("worker"),
            wake,
            max_in_flight: limits.max_in_flight,
            max_per_webhook: limits.max_in_flight_per_webhook,
            lease: limits.delivery_timeout + limits.lease_margin,
            grace: limits.delivery_timeout + Duration::from_secs(1),
            in_flight: Arc::default(),
            waiting: Mutex::default(),
            timeout: limits.delivery_timeout,
        }
    }

    /// Runs until `shutdown`; then stops claiming, lets attempts in flight finish within one
    /// delivery timeout, and gives back the leases of any that did not.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut tasks = JoinSet::new();
        while !shutdown.is_cancelled() {
            while tasks.try_join_next().is_some() {}
            let claimed = self.claim_and_spawn(&mut tasks).await;
            let full = tasks.len() >= self.max_in_flight;
            if claimed.is_some_and(|n| n > 0) && !full {
                continue;
            }
            let pause = match claimed {
                None => MAX_IDLE, // the database is unavailable: back off
                Some(_) => self.idle_time().await,
            };
            tokio::select! {
                _ = shutdown.cancelled() => {}
                _ = self.wake.notified() => {}
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
                _ = tokio::time::sleep(pause), if !full => {}
            }
        }
        self.drain(tasks).await;
    }

    /// Starts waiting deliveries that have a slot now, then claims as much as there is room for
    /// and starts an attempt for each; `None` on a store error.
    async fn claim_and_spawn(&self, tasks: &mut JoinSet<()>) -> Option<usize> {
        let now = self.deliverer.clock.now();
        let started = self.start_waiting(tasks, now).await;
        let waiting = self.waiting_len();
        let room = self
            .max_in_flight
            .saturating_sub(tasks.len() + waiting)
            .min(CLAIM_BATCH);
        if room == 0 {
            return Some(started);
        }
        let lease_until = now + self.lease.as_millis() as i64;
        let request = ClaimRequest {
            owner: self.owner.clone(),
            now,
            lease_until,
            default_timeout: self.timeout.as_millis() as i64,
            limit: room as u32,
            skip_webhooks: self.saturated(),
        };
        let claims = match self.deliverer.store.claim_due(&request).await {
            Ok(claims) => claims,
            Err(e) => {
                tracing::warn!(error = %e, "claiming deliveries failed; backing off");
                return None;
            }
        };
        let count = claims.len();
        for claim in claims {
            if self.take_slot(&claim.webhook_id) {
                self.spawn_attempt(tasks, claim);
            } else {
                self.lock_waiting().push_back(claim);
            }
        }
        Some(started + count)
    }

    /// Starts the waiting deliveries whose webhook has a free slot. One whose lease would run
    /// out during the attempt is given back instead, so no other worker can take it mid-send.
    async fn start_waiting(&self, tasks: &mut JoinSet<()>, now: Millis) -> usize {
        let mut expiring = Vec::new();
        let mut started = 0;
        let ready: Vec<Claimed> = {
            let mut waiting = self.lock_waiting();
            let mut ready = Vec::new();
            waiting.retain_mut(|claim| {
                let timeout = claim.webhook.timeout.unwrap_or(self.timeout);
                if claim.lease_until <= now + timeout.as_millis() as i64 {
                    expiring.push(claim.clone());
                    false
                } else if self.take_slot(&claim.webhook_id) {
                    ready.push(claim.clone());
                    false
                } else {
                    true
                }
            });
            ready
        };
        for claim in ready {
            self.spawn_attempt(tasks, claim);
            started += 1;
        }
        if !expiring.is_empty()
            && let Err(e) = self.deliverer.store.release(&expiring, now).await
        {
            tracing::warn!(error = %e, "releasing deliveries failed; their leases will expire");
        }
        started
    }

    fn spawn_attempt(&self, tasks: &mut JoinSet<()>, claim: Claimed) {
        let deliverer = self.deliverer.clone();
        let in_flight = self.in_flight.clone();
        tasks.spawn(async move {
            let webhook_id = claim.webhook_id.clone();
            let sent = || release_slot(&in_flight, &webhook_id);
            if let Err(e) = deliverer.attempt_then(claim, sent).await {
                tracing::error!(webhook = %webhook_id, error = %e, "an attempt could not be recorded");
            }
        });
    }

    fn lock_waiting(&self) -> std::sync::MutexGuard<'_, VecDeque<Claimed>> {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn waiting_len(&self) -> usize {
        self.lock_waiting().len()
    }

    fn saturated(&self) -> Vec<String> {
        let in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        in_flight
            .iter()
            .filter(|(_, n)| **n >= self.max_per_webhook)
            .map(|(id, _)| id.clone())
            .collect()
    }

    fn take_slot(&self, webhook_id: &str) -> bool {
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        let n = in_flight.entry(webhook_id.to_string()).or_insert(0);
        if *n >= self.max_per_webhook {
            return false;
        }
        *n += 1;
        true
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

fn release_slot(in_flight: &Mutex<HashMap<String, usize>>, webhook_id: &str) {
    let mut in_flight = in_flight.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(n) = in_flight.get_mut(webhook_id) {
        *n -= 1;
        if *n == 0 {
            in_flight.remove(webhook_id);
        }
    }
}
