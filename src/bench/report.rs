//! What the benchmark measured, as a table or one JSON line, and the progress line on stderr.

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::task::JoinHandle;

use super::receiver::{Arrivals, Receiver};
use super::slow::SlowReport;
use super::soak_report::SoakReport;
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
    /// The soak (`--soak`); null when it did not run. When it ran, the counts above (events,
    /// accepted, deliveries, lost, duplicates) and the rates are its totals, `peak_rss_bytes` is
    /// the load driver's, and the latencies are in its interval lines only (`latency_ms` is 0).
    pub soak: Option<SoakReport>,
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
            soak: None,
        }
    }

    /// Takes a soak's totals as the report's, so that the exit code and its message read the
    /// same fields in every scenario.
    pub fn set_soak(&mut self, soak: SoakReport) {
        self.events = soak.events_sent as usize;
        self.accepted = soak.accepted as usize;
        self.deliveries = soak.deliveries as usize;
        self.lost = soak.lost as usize;
        self.duplicates = soak.duplicates;
        self.events_per_s = soak.accepted as f64 / soak.duration_s;
        self.deliveries_per_s = soak.deliveries as f64 / (soak.duration_s + soak.drain_s);
        self.soak = Some(soak);
    }

    pub fn ok(&self) -> bool {
        self.lost == 0
            && self.bad_signatures == 0
            && self.concurrent_double_attempts == 0
            && self.soak.as_ref().is_none_or(SoakReport::ok)
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
        if let Some(soak) = &self.soak {
            return format!(
                "{}
service             {processes}
bad signatures      {} of {} checked
attempts/process    {}
concurrent doubles  {}
load driver RSS     {:.1} MB at its peak",
                soak.table(),
                self.bad_signatures,
                self.signatures_checked,
                attempts.join(" / "),
                self.concurrent_double_attempts,
                self.peak_rss_bytes as f64 / 1e6,
            );
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

/// The nearest-rank `q` quantile of `sorted`; 0 when empty.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// The process's peak resident memory (service, receiver and load driver together).
fn peak_rss_bytes() -> u64 {
    memory_bytes("self", "VmHWM").unwrap_or(0)
}

/// A memory figure (`VmRSS`, `VmHWM`, …) of process `pid` (or `self`) from its
/// `/proc/<pid>/status`; `None` when the process is gone.
pub fn memory_bytes(pid: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| {
        l.strip_prefix(field)
            .is_some_and(|rest| rest.starts_with(':'))
    })?;
    let kb = line.split_whitespace().nth(1)?.parse::<u64>().ok()?;
    Some(kb * 1024)
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
