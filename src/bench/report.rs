//! What the benchmark measured, as a table or one JSON line, and the progress line on stderr.

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::task::JoinHandle;

use super::receiver::{Arrivals, Receiver};
use super::slow::SlowReport;
use super::{Accepted, BenchArgs};

#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub webhooks: usize,
    /// Pending deliveries seeded before the run (`--backlog`).
    pub backlog: u64,
    pub events: usize,
    pub accepted: usize,
    pub deliveries: usize,
    pub events_per_s: f64,
    pub deliveries_per_s: f64,
    pub latency_ms: Latency,
    pub lost: usize,
    pub duplicates: u64,
    pub signatures_checked: u64,
    pub bad_signatures: u64,
    /// Service processes (`--processes`); `None` when the service ran in the bench's process.
    pub processes: Option<u32>,
    /// Attempts made by each service process (`speaknode_attempts_total` from its `/metrics`),
    /// in start order; one entry when the service ran in the bench's process.
    pub per_process_attempts: Vec<u64>,
    /// Requests for a delivery that arrived while another request of the same delivery was
    /// still being handled by the receiver: two processes working on one delivery. Must be 0.
    pub concurrent_double_attempts: u64,
    /// Of the bench's own process (with `--processes`: receiver and load driver only).
    pub peak_rss_bytes: u64,
    /// The slow-neighbour scenario (`--slow-webhooks`); null when it did not run. When it ran,
    /// the fields above are the prompt webhook's.
    pub slow: Option<SlowReport>,
    /// The history scenario (`--history`); null when it did not run.
    pub history: Option<super::reads::HistoryReport>,
}

impl Report {
    pub fn compute(
        args: &BenchArgs,
        accepted: &Accepted,
        arrivals: &Arrivals,
        receiver: &Receiver,
        sent_for: Duration,
        last: Option<Instant>,
    ) -> Self {
        let accepted = accepted.lock().map(|a| a.clone()).unwrap_or_default();
        let first_accept = accepted.values().min().copied();
        let delivering_for = match (first_accept, last) {
            (Some(first), Some(last)) => last.saturating_duration_since(first).as_secs_f64(),
            _ => 0.0,
        };
        let per_s = |n: usize, secs: f64| if secs > 0.0 { n as f64 / secs } else { 0.0 };
        let expected = accepted.len() * args.webhooks;
        Self {
            webhooks: args.webhooks,
            backlog: args.backlog,
            events: args.events,
            accepted: accepted.len(),
            deliveries: arrivals.len(),
            events_per_s: per_s(accepted.len(), sent_for.as_secs_f64()),
            deliveries_per_s: per_s(arrivals.len(), delivering_for),
            latency_ms: latency(&accepted, arrivals),
            lost: expected.saturating_sub(arrivals.len())
                + (args.events - accepted.len()) * args.webhooks,
            duplicates: arrivals
                .values()
                .map(|(_, _, seen)| u64::from(seen - 1))
                .sum(),
            signatures_checked: receiver.inner.checked.load(Ordering::Relaxed),
            bad_signatures: receiver.inner.bad_signatures.load(Ordering::Relaxed),
            processes: args.processes,
            per_process_attempts: Vec::new(),
            concurrent_double_attempts: receiver
                .inner
                .concurrent_double_attempts
                .load(Ordering::Relaxed),
            peak_rss_bytes: peak_rss_bytes(),
            slow: None,
            history: None,
        }
    }

    pub fn ok(&self) -> bool {
        self.lost == 0 && self.bad_signatures == 0 && self.concurrent_double_attempts == 0
    }

    pub fn table(&self) -> String {
        let processes = match self.processes {
            Some(n) => format!("{n} (child processes)"),
            None => "in the bench's process".into(),
        };
        let attempts: Vec<String> = self
            .per_process_attempts
            .iter()
            .map(u64::to_string)
            .collect();
        let table = format!(
            "service             {processes}\nwebhooks            {}\nevents accepted     {} of {}\nevents/s            {:.0}\ndeliveries          {}\ndeliveries/s        {:.0}\nlatency p50/p95/p99 {:.2} / {:.2} / {:.2} ms (max {:.2})\nlost                {}\nduplicates          {}\nbad signatures      {} of {} checked\nattempts/process    {}\nconcurrent doubles  {}\npeak RSS            {:.1} MB",
            self.webhooks,
            self.accepted,
            self.events,
            self.events_per_s,
            self.deliveries,
            self.deliveries_per_s,
            self.latency_ms.p50,
            self.latency_ms.p95,
            self.latency_ms.p99,
            self.latency_ms.max,
            self.lost,
            self.duplicates,
            self.bad_signatures,
            self.signatures_checked,
            attempts.join(" / "),
            self.concurrent_double_attempts,
            self.peak_rss_bytes as f64 / 1e6,
        );
        if let Some(history) = &self.history {
            return history.table();
        }
        match &self.slow {
            Some(slow) => format!("{table}\n{}", slow.table()),
            None => table,
        }
    }
}

/// Latency from each event's 202 to each of its deliveries' arrival at the receiver.
pub fn latency(accepted: &HashMap<String, Instant>, arrivals: &Arrivals) -> Latency {
    let mut latencies: Vec<f64> = arrivals
        .values()
        .filter_map(|(event, at, _)| {
            let sent = accepted.get(event)?;
            // The delivery may arrive before the client has read its 202: that counts as 0.
            Some(at.saturating_duration_since(*sent).as_secs_f64() * 1000.0)
        })
        .collect();
    latencies.sort_by(f64::total_cmp);
    Latency {
        p50: percentile(&latencies, 0.50),
        p95: percentile(&latencies, 0.95),
        p99: percentile(&latencies, 0.99),
        max: latencies.last().copied().unwrap_or(0.0),
    }
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// The process's peak resident memory (service, receiver and load driver together).
fn peak_rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(str::to_string)
        })
        .and_then(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// A progress line on stderr, redrawn five times a second.
pub struct Progress(JoinHandle<()>);

impl Progress {
    pub fn start(receiver: Receiver, expected: usize) -> Self {
        Self(tokio::spawn(async move {
            loop {
                let done = receiver.unique();
                let width = 30;
                let filled = (done * width).checked_div(expected).unwrap_or(width);
                eprint!(
                    "\r[{}{}] {done}/{expected} deliveries",
                    "#".repeat(filled.min(width)),
                    " ".repeat(width - filled.min(width))
                );
                let _ = std::io::stderr().flush();
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }))
    }

    pub fn stop(self) {
        self.0.abort();
        eprintln!();
    }
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&values, 0.50), 50.0);
        assert_eq!(percentile(&values, 0.99), 99.0);
        assert_eq!(percentile(&[7.0], 0.95), 7.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
    }
}
