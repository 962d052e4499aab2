//! What follows an attempt, decided once as data: the delivery's next step, the webhook's
//! health, whether the webhook is disabled and whether the delivery is given up. [`plan`] is the
//! whole rule; the `Deliverer` makes the plan and both stores only execute it (in
//! `record_attempt`), so SQLite and PostgreSQL cannot drift apart on what an outcome means.
//!
//! Two facts are known only inside the store's transaction: the webhook's `failing_since` after
//! this attempt's health update, and whether this attempt still held the lease (so it moved the
//! delivery on). [`Plan::disable_reason`] and [`Plan::exhausted`] answer for them, so the
//! store never decides anything itself.

use std::time::Duration;

use super::attempt::{DeliveryState, FailureKind, Outcome, Trigger};
use super::operational::is_operational;
use super::retry::RetrySchedule;
use super::time::Millis;
use super::webhook::DisabledReason;

/// What is known when an attempt ends, before anything is written.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    pub outcome: &'a Outcome,
    pub trigger: Trigger,
    /// Attempts the delivery had before this one.
    pub attempts: u32,
    pub event_type: &'a str,
    /// The schedule the delivery was created with, when its webhook had one of its own.
    pub own_schedule: Option<&'a RetrySchedule>,
    /// `SPEAKNODE_RETRY_SCHEDULE`, for deliveries without a schedule of their own.
    pub default_schedule: &'a RetrySchedule,
    pub started_at: Millis,
    /// Retries are due a delay after this.
    pub ended_at: Millis,
    /// `SPEAKNODE_DISABLE_AFTER`: how long a webhook may fail without a success.
    pub disable_after: Duration,
}

/// What happens to the delivery after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    Succeeded,
    RetryAt(Millis),
    Failed,
}

impl NextStep {
    /// The delivery's state and when its next attempt is due, as the stores keep them.
    pub fn state(self) -> (DeliveryState, Option<Millis>) {
        match self {
            Self::Succeeded => (DeliveryState::Succeeded, None),
            Self::Failed => (DeliveryState::Failed, None),
            Self::RetryAt(at) => (DeliveryState::Pending, Some(at)),
        }
    }
}

/// The webhook's last-attempt summary after this attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    pub succeeded: bool,
    pub status: Option<u16>,
    pub error: Option<FailureKind>,
    /// When the attempt started: a failure begins the webhook's failing streak then.
    pub at: Millis,
}

/// Whether the attempt disables its webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disable {
    /// A success: the webhook works.
    Never,
    /// Whatever came before (a 410 says the endpoint is gone).
    Now(DisabledReason),
    /// A failure: if, after this attempt, the webhook has been failing without a success since
    /// this time or earlier (`SPEAKNODE_DISABLE_AFTER` before the attempt started).
    IfFailingSince(Millis),
}

impl Disable {
    /// Whether the answer depends on the webhook's `failing_since`, so the store must read it.
    pub fn needs_failing_since(self) -> bool {
        matches!(self, Self::IfFailingSince(_))
    }
}

/// Everything that follows one attempt; see the module's comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub next: NextStep,
    pub health: Health,
    pub disable: Disable,
    /// Whether the delivery is given up (announced as `DeliveryExhausted`) if this attempt moves
    /// it on; see [`Plan::exhausted`].
    pub exhausts: bool,
}

/// The whole rule. Test sends get exactly one attempt; a 410 ends the delivery and disables the
/// webhook as `gone`; other failures follow the delivery's retry schedule (its webhook's own
/// when it had one, else the default), a `Retry-After` winning when it asks for later.
pub fn plan(f: &Facts<'_>) -> Plan {
    let next = if f.outcome.is_success() {
        NextStep::Succeeded
    } else if f.trigger == Trigger::Test || f.outcome.is_gone() {
        NextStep::Failed
    } else {
        let schedule = f.own_schedule.unwrap_or(f.default_schedule);
        match schedule.next_delay(f.attempts + 1, f.outcome.retry_after()) {
            Some(delay) => NextStep::RetryAt(f.ended_at + delay.as_millis() as i64),
            None => NextStep::Failed,
        }
    };
    let disable = if f.outcome.is_gone() {
        Disable::Now(DisabledReason::Gone)
    } else if f.outcome.is_success() {
        Disable::Never
    } else {
        Disable::IfFailingSince(f.started_at - f.disable_after.as_millis() as i64)
    };
    // Only an automatic attempt (the first or a retry) gives a delivery up: a manual retry or a
    // test send has a person watching it. An operational event's own delivery giving up is not
    // reported again, or two broken webhooks subscribed to each other's events would feed each
    // other forever.
    let exhausts = next == NextStep::Failed
        && matches!(f.trigger, Trigger::Scheduled | Trigger::Retry)
        && !is_operational(f.event_type);
    Plan {
        next,
        health: Health {
            succeeded: f.outcome.is_success(),
            status: f.outcome.http_status(),
            error: f.outcome.error(),
            at: f.started_at,
        },
        disable,
        exhausts,
    }
}

impl Plan {
    /// Why the webhook is disabled, given its `failing_since` after this attempt's health update
    /// (`None`: not failing), or `None` when it stays enabled.
    pub fn disable_reason(&self, failing_since: Option<Millis>) -> Option<DisabledReason> {
        match self.disable {
            Disable::Never => None,
            Disable::Now(reason) => Some(reason),
            Disable::IfFailingSince(cutoff) => failing_since
                .is_some_and(|since| since <= cutoff)
                .then_some(DisabledReason::Failing),
        }
    }

    /// Whether the delivery was given up, given whether this attempt moved it on. A late attempt
    /// (its lease ran out and another worker took the delivery) is recorded, but the current
    /// lease holder decides, and announces, what becomes of the delivery.
    pub fn exhausted(&self, moved: bool) -> bool {
        moved && self.exhausts
    }

    /// Whether recording may disable the webhook or give the delivery up, and so store an
    /// operational event: only then must the store's statements share one transaction.
    pub fn may_emit(&self) -> bool {
        self.disable != Disable::Never || self.exhausts
    }
}

#[cfg(test)]
mod tests;
