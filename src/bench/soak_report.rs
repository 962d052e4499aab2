//! What a soak prints: a line per interval (a table row, or a JSON object with `--json`) as each
//! ends, and the closing summary, which becomes the `soak` section of the bench's report.

use std::time::Duration;

use serde::Serialize;

use super::report::percentile;
use super::soak::Plan;
use super::soak_ledger::End;

/// What the ledger counted in one interval.
#[derive(Debug, Default)]
pub struct IntervalCounts {
    pub sent: u64,
    /// First arrivals of awaited deliveries.
    pub deliveries: u64,
    /// Each of those deliveries' latency, from its event's 202 to its arrival.
    pub latencies_ms: Vec<f64>,
}

/// What the service holds at an interval's end.
#[derive(Debug, Clone, Copy)]
pub struct Resources {
    pub rss_bytes: u64,
    pub database_bytes: u64,
    pub pending: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// While the events are sent.
    Soak,
    /// The wait for the last deliveries, after the last event was sent.
    Drain,
}

/// One interval: what happened in it, and what the service held at its end.
#[derive(Debug, Clone, Serialize)]
pub struct IntervalLine {
    pub phase: Phase,
    /// From the first event sent to the end of the interval.
    pub elapsed_s: f64,
    /// Events sent (their requests begun) in the interval.
    pub events_sent: u64,
    /// Deliveries that arrived in the interval (first arrivals).
    pub deliveries: u64,
    pub deliveries_per_s: f64,
    /// Latency from each event's 202 to its delivery's arrival, for the deliveries that arrived
    /// in the interval; null when none did.
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    /// The service's resident memory: the sum of its processes' `VmRSS`.
    pub rss_bytes: u64,
    /// SQLite: the file and its WAL; PostgreSQL: `pg_database_size`.
    pub database_bytes: u64,
    /// Deliveries in the `pending` state in the database.
    pub pending: u64,
}

impl IntervalLine {
    pub const HEADER: &str =
        "elapsed     sent  delivered  deliv/s   p50 ms   p99 ms   RSS MB    DB MB  pending";

    pub fn new(
        phase: Phase,
        elapsed: Duration,
        seconds: f64,
        mut counts: IntervalCounts,
        held: Resources,
    ) -> Self {
        counts.latencies_ms.sort_by(f64::total_cmp);
        let latencies = &counts.latencies_ms;
        let quantile = |q| (!latencies.is_empty()).then(|| percentile(latencies, q));
        Self {
            phase,
            elapsed_s: elapsed.as_secs_f64(),
            events_sent: counts.sent,
            deliveries: counts.deliveries,
            deliveries_per_s: per_s(counts.deliveries, seconds),
            p50_ms: quantile(0.50),
            p99_ms: quantile(0.99),
            rss_bytes: held.rss_bytes,
            database_bytes: held.database_bytes,
            pending: held.pending,
        }
    }

    /// The line as a row under [`Self::HEADER`].
    pub fn text(&self) -> String {
        let elapsed = match self.phase {
            Phase::Soak => clock(self.elapsed_s),
            Phase::Drain => "drain".into(),
        };
        format!(
            "{elapsed:>7} {:>8} {:>10} {:>8.0} {:>8} {:>8} {:>8.1} {:>8.1} {:>8}",
            self.events_sent,
            self.deliveries,
            self.deliveries_per_s,
            ms(self.p50_ms),
            ms(self.p99_ms),
            mb(self.rss_bytes),
            mb(self.database_bytes),
            self.pending,
        )
    }
}

/// The soak's summary.
#[derive(Debug, Serialize)]
pub struct SoakReport {
    /// `--soak`.
    pub duration_s: f64,
    /// `--rate`, events/s.
    pub rate: u32,
    /// `--retention`: the service's `SPEAKNODE_RETENTION`.
    pub retention_s: f64,
    /// `--soak-interval`.
    pub interval_s: f64,
    /// Lines printed while the events were sent (the drain line is not one of them).
    pub intervals: usize,
    pub events_sent: u64,
    pub accepted: u64,
    /// Events not answered 202, or whose answer did not reach the driver; any fails the bench.
    pub refused: u64,
    /// Deliveries of accepted events that arrived (first arrivals).
    pub deliveries: u64,
    /// Deliveries that arrived again within two minutes of their first arrival.
    pub duplicates: u64,
    /// Deliveries of accepted events still missing 30 s after the last event was sent.
    pub lost: u64,
    /// Arrivals of no accepted event: of an event whose 202 never reached the driver, or a
    /// duplicate more than two minutes after its first arrival.
    pub unexpected: u64,
    /// How long the soak waited for the last deliveries after the last event was sent.
    pub drain_s: f64,
    /// The line with the highest p99; null when no delivery arrived.
    pub worst_p99: Option<WorstP99>,
    /// From the first line at or after the retention and a pruning pass to the last line while
    /// sending; null when the soak was shorter than that plus one interval, and growth cannot
    /// be judged.
    pub growth: Option<Growth>,
}

#[derive(Debug, Serialize)]
pub struct WorstP99 {
    pub p99_ms: f64,
    /// When its line ended.
    pub elapsed_s: f64,
    pub phase: Phase,
}

/// How the database and the service's memory changed once the retention had passed: from then
/// on the pruner deletes about as much as comes in, and both should stay flat.
#[derive(Debug, Serialize)]
pub struct Growth {
    /// The end of the first interval at or after the retention and a pruning pass.
    pub from_s: f64,
    /// The end of the last interval while sending.
    pub to_s: f64,
    pub database: Change,
    pub rss: Change,
}

#[derive(Debug, Serialize)]
pub struct Change {
    pub from_bytes: u64,
    pub to_bytes: u64,
    /// `to_bytes - from_bytes`: negative when it shrank.
    pub bytes: i64,
    pub percent: f64,
}

impl Change {
    fn between(from: u64, to: u64) -> Self {
        let bytes = to as i64 - from as i64;
        let percent = if from > 0 {
            bytes as f64 / from as f64 * 100.0
        } else {
            0.0
        };
        Self {
            from_bytes: from,
            to_bytes: to,
            bytes,
            percent,
        }
    }

    /// `+1.2 MB (+3.4 %), 35.0 → 36.2 MB`.
    fn text(&self) -> String {
        format!(
            "{:+.1} MB ({:+.1} %), {:.1} → {:.1} MB",
            self.bytes as f64 / 1e6,
            self.percent,
            mb(self.from_bytes),
            mb(self.to_bytes),
        )
    }
}

impl SoakReport {
    pub fn compute(plan: &Plan, lines: &[IntervalLine], end: End, drained_for: Duration) -> Self {
        let soak: Vec<&IntervalLine> = lines.iter().filter(|l| l.phase == Phase::Soak).collect();
        Self {
            duration_s: plan.duration.as_secs_f64(),
            rate: plan.rate,
            retention_s: plan.retention.as_secs_f64(),
            interval_s: plan.every.as_secs_f64(),
            intervals: soak.len(),
            events_sent: end.totals.sent,
            accepted: end.totals.accepted,
            refused: end.totals.refused,
            deliveries: end.totals.deliveries,
            duplicates: end.totals.duplicates,
            lost: end.lost,
            unexpected: end.unexpected,
            drain_s: drained_for.as_secs_f64(),
            worst_p99: worst_p99(lines),
            growth: growth(&soak, plan.retention),
        }
    }

    /// Nothing lost, nothing refused (bad signatures are the report's).
    pub fn ok(&self) -> bool {
        self.lost == 0 && self.refused == 0
    }

    pub fn table(&self) -> String {
        let duration = |s: f64| humantime::format_duration(Duration::from_secs_f64(s));
        let worst = match &self.worst_p99 {
            Some(w) if w.phase == Phase::Soak => {
                format!(
                    "{:.2} ms (interval ending {})",
                    w.p99_ms,
                    clock(w.elapsed_s)
                )
            }
            Some(w) => format!("{:.2} ms (while draining)", w.p99_ms),
            None => "- (no delivery arrived)".into(),
        };
        let growth = match &self.growth {
            Some(g) => format!(
                "database growth     {} from {} to {}\nservice RSS growth  {} from {} to {}",
                g.database.text(),
                clock(g.from_s),
                clock(g.to_s),
                g.rss.text(),
                clock(g.from_s),
                clock(g.to_s),
            ),
            None => format!(
                "growth              cannot be judged: the soak ({}) is shorter than the \
                 retention ({}), a pruning pass (1m) and one interval ({})",
                duration(self.duration_s),
                duration(self.retention_s),
                duration(self.interval_s),
            ),
        };
        format!(
            "soak                {} at {} events/s, retention {}, {} lines of {}\nevents              {} sent, {} accepted, {} refused\ndeliveries          {}: {} lost, {} duplicates, {} unexpected (waited {:.1} s after the last event)\nworst p99           {worst}\n{growth}",
            duration(self.duration_s),
            self.rate,
            duration(self.retention_s),
            self.intervals,
            duration(self.interval_s),
            self.events_sent,
            self.accepted,
            self.refused,
            self.deliveries,
            self.lost,
            self.duplicates,
            self.unexpected,
            self.drain_s,
        )
    }
}

fn worst_p99(lines: &[IntervalLine]) -> Option<WorstP99> {
    lines
        .iter()
        .filter_map(|l| l.p99_ms.map(|p99| (p99, l)))
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(p99_ms, l)| WorstP99 {
            p99_ms,
            elapsed_s: l.elapsed_s,
            phase: l.phase,
        })
}

/// From the first line at or after `retention` plus one pass of the pruner (the first events
/// past the retention are pruned only by its next pass, up to a minute later: judged earlier, a
/// file that then stays flat would show that minute's growth) to the last; `None` when there is
/// no line after that first one.
fn growth(lines: &[&IntervalLine], retention: Duration) -> Option<Growth> {
    let settled = retention + crate::delivery::pruner::EVERY;
    let from = lines
        .iter()
        .position(|l| l.elapsed_s >= settled.as_secs_f64())?;
    let to = lines.len() - 1;
    if from == to {
        return None;
    }
    let (from, to) = (lines[from], lines[to]);
    Some(Growth {
        from_s: from.elapsed_s,
        to_s: to.elapsed_s,
        database: Change::between(from.database_bytes, to.database_bytes),
        rss: Change::between(from.rss_bytes, to.rss_bytes),
    })
}

fn per_s(n: u64, seconds: f64) -> f64 {
    if seconds > 0.0 {
        n as f64 / seconds
    } else {
        0.0
    }
}

/// `mm:ss`.
fn clock(seconds: f64) -> String {
    let s = seconds.round() as u64;
    format!("{:02}:{:02}", s / 60, s % 60)
}

fn ms(latency: Option<f64>) -> String {
    latency.map_or("-".into(), |ms| format!("{ms:.2}"))
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(elapsed: u64, database_bytes: u64) -> IntervalLine {
        let held = Resources {
            rss_bytes: 1000,
            database_bytes,
            pending: 0,
        };
        IntervalLine::new(
            Phase::Soak,
            Duration::from_secs(elapsed),
            1.0,
            IntervalCounts::default(),
            held,
        )
    }

    #[test]
    fn growth_is_judged_from_the_first_line_after_the_retention_and_a_pruning_pass() {
        let lines = [line(60, 100), line(80, 150), line(100, 150), line(120, 200)];
        let lines: Vec<&IntervalLine> = lines.iter().collect();
        let growth = growth(&lines, Duration::from_secs(30)).unwrap();
        assert_eq!((growth.from_s, growth.to_s), (100.0, 120.0));
        assert_eq!(growth.database.bytes, 50);
        assert!((growth.database.percent - 100.0 / 3.0).abs() < 1e-9);
        assert_eq!(growth.rss.bytes, 0);
    }

    #[test]
    fn growth_cannot_be_judged_without_a_line_after_the_first_past_the_retention() {
        let lines = [line(80, 100), line(100, 150)];
        let lines: Vec<&IntervalLine> = lines.iter().collect();
        assert!(growth(&lines, Duration::from_secs(40)).is_none());
        assert!(growth(&lines, Duration::from_secs(60)).is_none());
    }

    #[test]
    fn a_line_without_deliveries_has_no_percentiles() {
        let quiet = line(20, 100);
        assert_eq!((quiet.p50_ms, quiet.p99_ms), (None, None));
        assert!(quiet.text().contains(" - "), "{}", quiet.text());
    }
}
