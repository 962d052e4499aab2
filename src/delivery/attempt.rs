//! One attempt from start to finish: send, plan what comes next (`domain::after_attempt`),
//! record. Shared by the workers and by test sends, so both behave the same way.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::domain::after_attempt::{self, Facts};
use crate::domain::attempt::Outcome;
use crate::domain::clock::Clock;
use crate::domain::ids;
use crate::domain::retry::RetrySchedule;
use crate::store::{Attempt, Claimed, NewAttempt, Queue, StoreResult};

pub struct Deliverer {
    /// The queue role only: a worker claims, records and gives back, nothing else.
    pub store: Arc<dyn Queue>,
    pub sender: super::Sender,
    pub schedule: RetrySchedule,
    pub clock: Arc<dyn Clock>,
    /// `SPEAKNODE_DISABLE_AFTER`: how long a webhook may fail without a success.
    pub disable_after: Duration,
    pub metrics: Arc<crate::metrics::Metrics>,
}

impl Deliverer {
    /// Makes one attempt of a claimed delivery and records it.
    pub async fn attempt(&self, claim: Claimed) -> StoreResult<Option<Attempt>> {
        self.attempt_then(claim, |_| {}).await
    }

    /// Like [`Deliverer::attempt`], calling `sent` with the outcome as soon as the HTTP
    /// exchange is over, before the attempt is recorded: the receiver's share of the in-flight
    /// limit is free again then (`None`: nothing was sent).
    pub async fn attempt_then(
        &self,
        claim: Claimed,
        sent: impl FnOnce(Option<&Outcome>),
    ) -> StoreResult<Option<Attempt>> {
        if claim.secrets.is_empty() {
            sent(None);
            // Never send unsigned: the delivery stays pending and is tried again when its lease
            // runs out (e.g. after SPEAKNODE_ENCRYPTION_KEY is fixed).
            tracing::error!(delivery = %claim.delivery_id, webhook = %claim.webhook_id, "no readable signing secret; not sending");
            return Ok(None);
        }
        let started_at = self.clock.now();
        let timer = Instant::now();
        let outcome = self.sender.send(&claim, started_at.div_euclid(1000)).await;
        let elapsed = timer.elapsed();
        let duration_ms = elapsed.as_millis() as i64;
        sent(Some(&outcome));
        self.metrics.attempt_made(&outcome, elapsed.as_secs_f64());
        let plan = after_attempt::plan(&Facts {
            outcome: &outcome,
            trigger: claim.trigger,
            attempts: claim.attempts,
            event_type: &claim.event_type,
            own_schedule: claim.webhook.retry_schedule.as_ref(),
            default_schedule: &self.schedule,
            started_at,
            ended_at: started_at + duration_ms,
            disable_after: self.disable_after,
        });
        let record = NewAttempt {
            id: ids::new_id(ids::ATTEMPT),
            claim,
            started_at,
            duration_ms,
            outcome,
            plan,
        };
        let recorded = self.record(&record).await?;
        log_attempt(&recorded, &record.claim);
        Ok(Some(recorded))
    }

    /// Records the attempt, retrying a little while the database is briefly unavailable. If it
    /// stays down, the lease runs out and the delivery is attempted again: at least once.
    async fn record(&self, attempt: &NewAttempt) -> StoreResult<Attempt> {
        let mut backoff = Duration::from_millis(50);
        let mut tries = 0;
        loop {
            match self.store.record_attempt(attempt).await {
                Ok(recorded) => return Ok(recorded),
                Err(e @ crate::store::StoreError::Unavailable { .. }) if tries < 8 => {
                    tracing::warn!(delivery = %attempt.claim.delivery_id, error = %e, "recording an attempt failed; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                    tries += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// The one log line of an attempt: ids and outcome, never the secret, the signature or the body.
fn log_attempt(attempt: &Attempt, claim: &Claimed) {
    let next_attempt_at = attempt.next_attempt_at.map(crate::domain::time::rfc3339);
    macro_rules! line {
        ($level:ident, $message:literal) => {
            tracing::$level!(
                event_id = %attempt.event_id,
                delivery_id = %attempt.delivery_id,
                webhook_id = %attempt.webhook_id,
                attempt = attempt.attempt,
                trigger = attempt.trigger.as_str(),
                http_status = attempt.http_status.map(u64::from),
                error = attempt.error.as_deref(),
                duration_ms = attempt.duration_ms,
                next_attempt_at = next_attempt_at.as_deref(),
                url_host = claim_host(claim),
                $message
            )
        };
    }
    if attempt.error.is_none() && attempt.http_status.is_some_and(|s| (200..300).contains(&s)) {
        line!(info, "delivery attempt succeeded");
    } else {
        line!(warn, "delivery attempt failed");
    }
}

/// The receiver's host, for telling endpoints apart in logs (a URL's path or query may carry a
/// token, so only the host is logged).
fn claim_host(claim: &Claimed) -> Option<String> {
    url::Url::parse(&claim.url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
}
