//! The soak's bookkeeping (see `soak`): which deliveries are still owed, which arrived lately
//! (so that a second arrival counts as a duplicate), and the current interval's latencies. A
//! soak of 30 minutes at 2,000 events/s is 3.6 million events: everything older is a count.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::soak_report::IntervalCounts;

/// How long an arrived delivery is remembered, so that a second arrival counts as a duplicate. A
/// duplicate comes from a claim taken over after its lease ran out (the delivery timeout plus the
/// lease margin: 35 s by default); one arriving later than this is not told from a delivery of
/// an event the driver never saw accepted, and is counted as `unexpected` instead.
const REMEMBER: Duration = Duration::from_secs(120);
/// How often the remembered arrivals are swept of those older than [`REMEMBER`].
const SWEEP_EVERY: Duration = Duration::from_secs(10);

/// One delivery the soak awaits: an event's id and the index of one of the webhooks (the
/// receiver's `/hook/{i}`). Each event goes to every webhook once.
type Key = (String, usize);

/// The soak's bookkeeping of events and deliveries, shared by the senders and the receiver. It
/// holds only the deliveries still awaited, those that arrived in the last [`REMEMBER`], and the
/// current interval's latencies; everything else is a count.
pub struct Ledger {
    webhooks: usize,
    book: Mutex<Book>,
}

#[derive(Default)]
struct Book {
    /// Deliveries owed, → when their event's 202 came. Each leaves on its first arrival.
    awaited: HashMap<Key, Instant>,
    /// Deliveries that arrived before the driver had read their event's 202 (the service may
    /// deliver first), → when they arrived; matched when the 202 is read.
    early: HashMap<Key, Instant>,
    /// Deliveries that arrived in the last [`REMEMBER`], → when they first did.
    arrived: HashMap<Key, Instant>,
    last_sweep: Option<Instant>,
    interval: IntervalCounts,
    totals: Totals,
    first_refusal: Option<anyhow::Error>,
}

/// The whole run's counts.
#[derive(Debug, Default, Clone)]
pub struct Totals {
    pub sent: u64,
    pub accepted: u64,
    pub refused: u64,
    pub deliveries: u64,
    pub duplicates: u64,
}

/// What the ledger says once the soak is over.
#[derive(Debug)]
pub struct End {
    pub totals: Totals,
    /// Deliveries of accepted events that never arrived.
    pub lost: u64,
    /// Arrivals matched to no accepted event.
    pub unexpected: u64,
}

impl Ledger {
    pub fn new(webhooks: usize) -> Self {
        Self {
            webhooks,
            book: Mutex::default(),
        }
    }

    /// A panic elsewhere while the lock was held leaves the counts as they were: keep counting.
    fn book(&self) -> MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn sent(&self) {
        let mut book = self.book();
        book.interval.sent += 1;
        book.totals.sent += 1;
    }

    /// `event` was answered 202 `at`: one delivery to each webhook is now owed.
    pub(super) fn accepted(&self, event: &str, at: Instant) {
        let mut book = self.book();
        book.totals.accepted += 1;
        for webhook in 0..self.webhooks {
            let key = (event.to_string(), webhook);
            match book.early.remove(&key) {
                Some(arrived) => book.delivered(at, arrived),
                None => {
                    book.awaited.insert(key, at);
                }
            }
        }
    }

    pub(super) fn refused(&self, why: anyhow::Error) {
        let mut book = self.book();
        book.totals.refused += 1;
        book.first_refusal.get_or_insert(why);
    }

    /// The receiver got a delivery of `event` at `/hook/{webhook}`.
    pub fn arrived(&self, event: &str, webhook: usize, at: Instant) {
        let mut book = self.book();
        book.forget_old(at);
        let key = (event.to_string(), webhook);
        if book.arrived.contains_key(&key) {
            book.totals.duplicates += 1;
            return;
        }
        match book.awaited.remove(&key) {
            Some(accepted) => book.delivered(accepted, at),
            None => {
                book.early.insert(key.clone(), at);
            }
        }
        book.arrived.insert(key, at);
    }

    /// The current interval's counts, and a new interval begun.
    pub(super) fn take_interval(&self) -> IntervalCounts {
        std::mem::take(&mut self.book().interval)
    }

    pub(super) fn awaited(&self) -> usize {
        self.book().awaited.len()
    }

    pub(super) fn first_refusal(&self) -> Option<String> {
        self.book().first_refusal.as_ref().map(|e| format!("{e:#}"))
    }

    pub(super) fn end(&self) -> End {
        let book = self.book();
        End {
            totals: book.totals.clone(),
            lost: book.awaited.len() as u64,
            unexpected: book.early.len() as u64,
        }
    }
}

impl Book {
    /// A delivery's first arrival, matched with its event's 202.
    fn delivered(&mut self, accepted: Instant, arrived: Instant) {
        // Arriving before the 202 was read counts as 0.
        let latency = arrived.saturating_duration_since(accepted);
        self.interval.deliveries += 1;
        self.interval
            .latencies_ms
            .push(latency.as_nanos() as f64 / 1e6);
        self.totals.deliveries += 1;
    }

    /// Forgets the arrivals older than [`REMEMBER`], every [`SWEEP_EVERY`].
    fn forget_old(&mut self, now: Instant) {
        if self
            .last_sweep
            .is_some_and(|last| now.saturating_duration_since(last) < SWEEP_EVERY)
        {
            return;
        }
        self.last_sweep = Some(now);
        self.arrived
            .retain(|_, at| now.saturating_duration_since(*at) < REMEMBER);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ledger() -> Ledger {
        Ledger::new(2)
    }

    #[test]
    fn each_webhook_owes_one_delivery_and_a_second_arrival_is_a_duplicate() {
        let ledger = ledger();
        let t0 = Instant::now();
        ledger.accepted("evt_1", t0);
        assert_eq!(ledger.awaited(), 2);
        ledger.arrived("evt_1", 0, t0 + Duration::from_millis(5));
        ledger.arrived("evt_1", 0, t0 + Duration::from_millis(6));
        let end = ledger.end();
        assert_eq!((end.totals.deliveries, end.totals.duplicates), (1, 1));
        assert_eq!(end.lost, 1, "webhook 1's delivery never came");
        let interval = ledger.take_interval();
        assert_eq!(interval.latencies_ms, vec![5.0]);
        assert_eq!(
            ledger.take_interval().deliveries,
            0,
            "a new interval begins"
        );
    }

    #[test]
    fn a_delivery_arriving_before_its_202_is_read_is_matched_with_no_latency() {
        let ledger = ledger();
        let t0 = Instant::now();
        ledger.arrived("evt_1", 0, t0);
        assert_eq!(ledger.end().unexpected, 1, "not matched yet");
        ledger.accepted("evt_1", t0 + Duration::from_millis(3));
        ledger.arrived("evt_1", 1, t0 + Duration::from_millis(4));
        let end = ledger.end();
        assert_eq!((end.totals.deliveries, end.lost, end.unexpected), (2, 0, 0));
        assert_eq!(ledger.take_interval().latencies_ms, vec![0.0, 1.0]);
    }

    #[test]
    fn arrivals_are_forgotten_after_a_while() {
        let ledger = ledger();
        let t0 = Instant::now();
        ledger.accepted("evt_1", t0);
        ledger.arrived("evt_1", 0, t0);
        ledger.arrived("evt_2", 0, t0 + REMEMBER + SWEEP_EVERY);
        assert!(!ledger.book().arrived.contains_key(&("evt_1".into(), 0)));
    }
}
