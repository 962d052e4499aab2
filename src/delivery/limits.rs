//! How many attempts a worker lets run, and to whom: the policy behind "one webhook never waits
//! for another". Pure (time is passed in), so it is tested by known answers.
//!
//! - **A limit per webhook that follows how its endpoint answers** (AIMD, as TCP does): it
//!   starts at `initial_per_webhook`, grows by one with every answer, and halves when an attempt
//!   times out, cannot connect, gets a 5xx or 429, or takes more than twice the endpoint's usual
//!   time and longer than `slow_after`. One halving per episode: attempts that started before
//!   the last halving do not halve it again. It never drops below one, so a broken endpoint
//!   keeps being retried, and never passes `max_per_webhook`.
//! - **Slots kept for prompt webhooks.** A webhook is *prompt* while its last attempt was
//!   answered within `slow_after` and none of its attempts in flight has been running longer.
//!   Every other webhook (slow, failing, or not seen yet), and every retry, shares what is left
//!   after `prompt_reserve` slots: however many endpoints hang, prompt ones always find room.
//! - **Claimed ahead, for prompt webhooks only.** A prompt webhook busy at its limit may have up
//!   to two more windows of deliveries claimed and waiting in memory, so a slot that frees
//!   starts the next attempt at once and the queue is asked in batches, not once per answer.
//!   Slow webhooks get nothing ahead: it would only hold leases and memory.
//! - **A global limit** sized for asynchronous I/O: an attempt in flight is a task and a socket,
//!   not a thread (see docs/operating.md for the memory it costs).

use std::collections::HashMap;

use crate::domain::attempt::Outcome;
use crate::domain::fair_share::{Allowance, Budget};
use crate::domain::time::Millis;

/// The policy's settings (`SPEAKNODE_MAX_IN_FLIGHT*`, `SPEAKNODE_SLOW_ATTEMPT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitSettings {
    pub max_in_flight: u32,
    /// Slots only prompt webhooks may use.
    pub prompt_reserve: u32,
    pub max_per_webhook: u32,
    pub initial_per_webhook: u32,
    /// An attempt taking longer than this marks its webhook slow.
    pub slow_after: Millis,
}

/// How an attempt's endpoint answered, as the limits see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// It answered (any status but 5xx and 429).
    Answered,
    /// No answer (timeout, connection or TLS error), a 5xx or a 429: back off.
    Trouble,
}

impl Answer {
    pub fn of(outcome: &Outcome) -> Self {
        match outcome.http_status() {
            Some(status) if status < 500 && status != 429 => Self::Answered,
            _ => Self::Trouble,
        }
    }
}

/// One webhook's state.
#[derive(Debug, Clone)]
struct Endpoint {
    limit: f64,
    /// When each attempt in flight started, and whether it is a retry.
    in_flight: Vec<(Millis, bool)>,
    /// Claimed, waiting for a slot.
    waiting: u32,
    /// The last attempt was answered within `slow_after`.
    answered_promptly: bool,
    /// The endpoint's usual answer time: the lowest seen, drifting up slowly.
    usual_ms: Option<f64>,
    /// Attempts started before this do not halve the limit again.
    halved_at: Millis,
    last_seen: Millis,
}

/// An idle webhook's state is forgotten after this long.
const FORGET_AFTER: Millis = 10 * 60 * 1000;

#[derive(Debug)]
pub struct Limits {
    settings: LimitSettings,
    webhooks: HashMap<String, Endpoint>,
    in_flight: u32,
    waiting: u32,
    last_sweep: Millis,
}

impl Limits {
    pub fn new(settings: LimitSettings) -> Self {
        Self {
            settings,
            webhooks: HashMap::new(),
            in_flight: 0,
            waiting: 0,
            last_sweep: 0,
        }
    }

    pub fn in_flight(&self) -> u32 {
        self.in_flight
    }

    /// Attempts that may still start or be claimed, all webhooks together.
    pub fn free_slots(&self) -> u32 {
        self.settings
            .max_in_flight
            .saturating_sub(self.in_flight + self.waiting)
    }

    /// Whether a webhook's deliveries claimed ahead are down to one window, so a claim may
    /// top them up.
    pub fn refill_wanted(&self) -> bool {
        self.webhooks
            .values()
            .any(|e| e.waiting > 0 && e.waiting <= e.limit as u32)
    }

    /// Whether an attempt of `webhook_id` may start now.
    pub fn has_slot(&self, webhook_id: &str) -> bool {
        self.webhooks
            .get(webhook_id)
            .is_none_or(|e| (e.in_flight.len() as u32) < e.limit as u32)
    }

    /// A webhook's current concurrency limit (its starting limit if it was never seen).
    pub fn limit_of(&self, webhook_id: &str) -> u32 {
        self.webhooks
            .get(webhook_id)
            .map_or(self.settings.initial_per_webhook, |e| e.limit as u32)
    }

    /// Every webhook's current limit, for the metrics.
    pub fn limits(&self) -> impl Iterator<Item = (&str, u32)> {
        self.webhooks
            .iter()
            .map(|(id, e)| (id.as_str(), e.limit as u32))
    }

    /// What a claim at `now` may take, at most `batch` attempts.
    pub fn budget(&mut self, now: Millis, batch: u32) -> Budget {
        self.forget_idle(now);
        let room = self.free_slots().min(batch);
        let mut unproven_in_flight = 0u32;
        let mut webhooks = HashMap::with_capacity(self.webhooks.len());
        for (id, endpoint) in &self.webhooks {
            let prompt = endpoint.is_prompt(now, self.settings.slow_after);
            let running = endpoint.in_flight.len() as u32;
            unproven_in_flight += if prompt {
                endpoint
                    .in_flight
                    .iter()
                    .filter(|(_, retry)| *retry)
                    .count() as u32
            } else {
                running + endpoint.waiting
            };
            let limit = endpoint.limit as u32;
            let allowance = if prompt {
                Allowance::prompt(endpoint.ahead_room(limit))
            } else {
                Allowance::unproven(limit.saturating_sub(running + endpoint.waiting))
            };
            webhooks.insert(id.clone(), allowance);
        }
        let unproven_cap = self
            .settings
            .max_in_flight
            .saturating_sub(self.settings.prompt_reserve);
        Budget {
            room,
            unproven_room: unproven_cap.saturating_sub(unproven_in_flight).min(room),
            webhooks,
            // A webhook never seen gets one attempt out of the reserved slots: how it answers
            // decides its class, and a prompt newcomer is not kept waiting behind slow ones.
            unseen: Allowance {
                free: self.settings.initial_per_webhook,
                reserved: 1,
            },
            after: None,
            max_bytes: u64::MAX,
        }
    }

    /// A delivery of `webhook_id` was claimed and waits for a slot.
    pub fn wait(&mut self, webhook_id: &str, now: Millis) {
        self.endpoint(webhook_id, now).waiting += 1;
        self.waiting += 1;
    }

    /// A waiting delivery of `webhook_id` was given back unattempted.
    pub fn give_back(&mut self, webhook_id: &str) {
        if let Some(endpoint) = self.webhooks.get_mut(webhook_id) {
            endpoint.waiting = endpoint.waiting.saturating_sub(1);
            self.waiting = self.waiting.saturating_sub(1);
        }
    }

    /// An attempt of `webhook_id` starts at `now` (a waiting delivery, if `waited`).
    pub fn start(&mut self, webhook_id: &str, now: Millis, retry: bool, waited: bool) {
        if waited {
            self.give_back(webhook_id);
        }
        let endpoint = self.endpoint(webhook_id, now);
        endpoint.in_flight.push((now, retry));
        endpoint.last_seen = now;
        self.in_flight += 1;
    }

    fn endpoint(&mut self, webhook_id: &str, now: Millis) -> &mut Endpoint {
        let initial = self.settings.initial_per_webhook;
        self.webhooks
            .entry(webhook_id.to_string())
            .or_insert_with(|| Endpoint::new(initial, now))
    }

    /// The attempt of `webhook_id` that started at `started` ended at `now` with `answer`
    /// (`None`: it was not sent, so it tells nothing about the endpoint).
    pub fn finish(
        &mut self,
        webhook_id: &str,
        started: Millis,
        now: Millis,
        answer: Option<Answer>,
    ) {
        let Some(endpoint) = self.webhooks.get_mut(webhook_id) else {
            return;
        };
        if let Some(i) = endpoint.in_flight.iter().position(|(at, _)| *at == started) {
            endpoint.in_flight.swap_remove(i);
            self.in_flight = self.in_flight.saturating_sub(1);
        }
        endpoint.last_seen = now;
        if let Some(answer) = answer {
            endpoint.learn(&self.settings, started, now, answer);
        }
    }

    /// Forgets webhooks with nothing in flight and no attempt for a while, at most every 10 s.
    fn forget_idle(&mut self, now: Millis) {
        if now - self.last_sweep < 10_000 {
            return;
        }
        self.last_sweep = now;
        self.webhooks.retain(|_, e| {
            !e.in_flight.is_empty() || e.waiting > 0 || now - e.last_seen < FORGET_AFTER
        });
    }
}

impl Endpoint {
    fn new(initial: u32, now: Millis) -> Self {
        Self {
            limit: f64::from(initial),
            in_flight: Vec::new(),
            waiting: 0,
            answered_promptly: false,
            usual_ms: None,
            halved_at: Millis::MIN,
            last_seen: now,
        }
    }

    /// What a prompt webhook may still be claimed: up to three windows (its limit) in flight
    /// and waiting together, asked for only once it has no more than one window waiting, so
    /// claims come in batches of at least a window.
    fn ahead_room(&self, limit: u32) -> u32 {
        if self.waiting > limit {
            return 0;
        }
        (3 * limit).saturating_sub(self.in_flight.len() as u32 + self.waiting)
    }

    fn is_prompt(&self, now: Millis, slow_after: Millis) -> bool {
        self.answered_promptly && self.in_flight.iter().all(|(at, _)| now - at <= slow_after)
    }

    fn learn(&mut self, settings: &LimitSettings, started: Millis, now: Millis, answer: Answer) {
        let took = (now - started).max(0) as f64;
        let slow = took > settings.slow_after as f64;
        let slower_than_usual = self.usual_ms.is_some_and(|usual| took > 2.0 * usual);
        self.answered_promptly = answer == Answer::Answered && !slow;
        if answer == Answer::Trouble || (slow && slower_than_usual) {
            if started >= self.halved_at {
                self.limit = (self.limit / 2.0).floor().max(1.0);
                self.halved_at = now;
            }
        } else {
            self.limit = (self.limit + 1.0).min(f64::from(settings.max_per_webhook));
        }
        if answer == Answer::Answered {
            self.usual_ms = Some(match self.usual_ms {
                Some(usual) if took >= usual => usual + (took - usual) / 32.0,
                _ => took,
            });
        }
    }
}

#[cfg(test)]
mod tests;
