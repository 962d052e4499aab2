//! Delivery statistics: how the Request History is counted. Each attempt is tallied, as it is
//! recorded, under its webhook, the UTC minute and the UTC hour it started in, and its outcome;
//! the stats route and the Activity charts add those tallies up (see `store::Stats`), so their
//! cost follows the number of buckets, not of attempts.

use super::attempt::Outcome;
use super::time::Millis;

pub const MINUTE_MS: Millis = 60_000;
pub const HOUR_MS: Millis = 60 * MINUTE_MS;
pub const DAY_MS: Millis = 24 * HOUR_MS;

/// The spans attempts are tallied by: `(name as stored, length)`.
pub const SPANS: [(&str, Millis); 2] = [("m", MINUTE_MS), ("h", HOUR_MS)];

/// The start of the span of `length` that holds `at` (spans start on whole UTC units).
pub fn span_start(at: Millis, length: Millis) -> Millis {
    at - at.rem_euclid(length)
}

/// What an attempt is tallied as: its HTTP status (`"200"`, `"500"`), or, when no response came,
/// its error (`"timeout"`, `"connection"`, …).
pub fn outcome_key(outcome: &Outcome) -> String {
    match (outcome.http_status(), outcome.error()) {
        (Some(status), _) => status.to_string(),
        (None, Some(error)) => error.as_str().to_string(),
        (None, None) => "unknown".to_string(),
    }
}

/// The longest window the statistics answer.
pub const MAX_WINDOW_MS: Millis = 92 * DAY_MS;

/// How long each point of a series is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Minute,
    Hour,
    Day,
}

impl Bucket {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "minute" => Some(Self::Minute),
            "hour" => Some(Self::Hour),
            "day" => Some(Self::Day),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Minute => "minute",
            Self::Hour => "hour",
            Self::Day => "day",
        }
    }

    pub fn length(self) -> Millis {
        match self {
            Self::Minute => MINUTE_MS,
            Self::Hour => HOUR_MS,
            Self::Day => DAY_MS,
        }
    }

    /// The bucket a window gets when none is asked for: minutes up to 2 hours, hours up to
    /// 7 days, days beyond.
    pub fn for_window(length: Millis) -> Self {
        if length <= 2 * HOUR_MS {
            Self::Minute
        } else if length <= 7 * DAY_MS {
            Self::Hour
        } else {
            Self::Day
        }
    }
}

/// Where the counts of `[since, until)` come from: the attempts themselves for the parts of a
/// minute at each end (`raw`, each inside one minute), minute tallies up to whole hours (or for
/// everything, when the series is by the minute), and hour tallies for the whole hours between.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sources {
    pub raw: Vec<(Millis, Millis)>,
    pub minutes: Vec<(Millis, Millis)>,
    pub hours: Option<(Millis, Millis)>,
}

/// Splits a window into [`Sources`]; every instant of it is in exactly one range.
pub fn sources(since: Millis, until: Millis, bucket: Bucket) -> Sources {
    let mut sources = Sources::default();
    let ceil = |at: Millis, length: Millis| span_start(at + length - 1, length);
    let (first_minute, last_minute) = (ceil(since, MINUTE_MS), span_start(until, MINUTE_MS));
    if first_minute >= last_minute {
        // No whole minute inside: the attempts themselves, at most two minutes of them.
        sources.raw.push((since, until));
        return sources;
    }
    for (from, to) in [(since, first_minute), (last_minute, until)] {
        if from < to {
            sources.raw.push((from, to));
        }
    }
    let (first_hour, last_hour) = (
        ceil(first_minute, HOUR_MS),
        span_start(last_minute, HOUR_MS),
    );
    if bucket == Bucket::Minute || first_hour >= last_hour {
        sources.minutes.push((first_minute, last_minute));
        return sources;
    }
    for (from, to) in [(first_minute, first_hour), (last_hour, last_minute)] {
        if from < to {
            sources.minutes.push((from, to));
        }
    }
    sources.hours = Some((first_hour, last_hour));
    sources
}

/// Attempts, successes and failures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub attempts: u64,
    pub succeeded: u64,
    pub failed: u64,
}

impl Tally {
    fn add(&mut self, outcome: &str, attempts: u64) {
        self.attempts += attempts;
        if is_success(outcome) {
            self.succeeded += attempts;
        } else {
            self.failed += attempts;
        }
    }
}

/// The statistics of one window: totals, every bucket in order (empty ones too), and the
/// attempts by outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counts {
    pub since: Millis,
    pub until: Millis,
    pub bucket: Bucket,
    pub totals: Tally,
    /// `(start of the bucket, its tally)`; the first bucket holds `since`.
    pub series: Vec<(Millis, Tally)>,
    pub outcomes: std::collections::BTreeMap<String, u64>,
}

impl Counts {
    pub fn new(since: Millis, until: Millis, bucket: Bucket) -> Self {
        let length = bucket.length();
        let first = span_start(since, length);
        let series = (0..)
            .map(|i| first + i * length)
            .take_while(|start| *start < until)
            .map(|start| (start, Tally::default()))
            .collect();
        Self {
            since,
            until,
            bucket,
            totals: Tally::default(),
            series,
            outcomes: Default::default(),
        }
    }

    /// Counts `attempts` with `outcome` at `at` (an attempt's time, or a tally's start: a
    /// tally never spans two buckets, see [`sources`]).
    pub fn add(&mut self, at: Millis, outcome: &str, attempts: u64) {
        let Some(first) = self.series.first().map(|(start, _)| *start) else {
            return;
        };
        let index = usize::try_from((at - first) / self.bucket.length()).unwrap_or(0);
        if let Some((_, tally)) = self.series.get_mut(index) {
            tally.add(outcome, attempts);
            self.totals.add(outcome, attempts);
            *self.outcomes.entry(outcome.to_string()).or_default() += attempts;
        }
    }
}

/// Whether an outcome key counts as a success (a 2xx status).
pub fn is_success(key: &str) -> bool {
    key.len() == 3 && key.starts_with('2') && key.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::attempt::FailureKind;

    #[test]
    fn spans_start_on_whole_utc_units() {
        let at = 1_796_000_123_456; // 2026-11-30T…:23.456Z
        assert_eq!(span_start(at, MINUTE_MS) % MINUTE_MS, 0);
        assert!(at - span_start(at, MINUTE_MS) < MINUTE_MS);
        assert_eq!(span_start(at, HOUR_MS) % HOUR_MS, 0);
        assert_eq!(
            span_start(120_000, MINUTE_MS),
            120_000,
            "a start is its own span"
        );
    }

    const T: Millis = 1_796_000_000_000 - 1_796_000_000_000 % DAY_MS; // a UTC midnight

    #[test]
    fn a_window_splits_into_raw_edges_minutes_and_whole_hours() {
        let since = T + 30 * MINUTE_MS + 15_000; // 00:30:15
        let until = T + 3 * HOUR_MS + 10 * MINUTE_MS + 5_000; // 03:10:05
        assert_eq!(
            sources(since, until, Bucket::Hour),
            Sources {
                raw: vec![
                    (since, T + 31 * MINUTE_MS),
                    (T + 3 * HOUR_MS + 10 * MINUTE_MS, until)
                ],
                minutes: vec![
                    (T + 31 * MINUTE_MS, T + HOUR_MS),
                    (T + 3 * HOUR_MS, T + 3 * HOUR_MS + 10 * MINUTE_MS)
                ],
                hours: Some((T + HOUR_MS, T + 3 * HOUR_MS)),
            }
        );
        let by_minute = sources(since, until, Bucket::Minute);
        assert_eq!(
            by_minute.minutes,
            [(T + 31 * MINUTE_MS, T + 3 * HOUR_MS + 10 * MINUTE_MS)]
        );
        assert_eq!(by_minute.hours, None);
        let aligned = sources(T, T + DAY_MS, Bucket::Day);
        assert_eq!(
            aligned,
            Sources {
                raw: vec![],
                minutes: vec![],
                hours: Some((T, T + DAY_MS))
            }
        );
        let inside_a_minute = sources(T + 1_000, T + 2_000, Bucket::Minute);
        assert_eq!(inside_a_minute.raw, [(T + 1_000, T + 2_000)]);
        assert!(inside_a_minute.minutes.is_empty());
    }

    #[test]
    fn counts_fill_every_bucket_from_the_one_holding_since() {
        let mut counts = Counts::new(T + 90_000, T + 4 * MINUTE_MS, Bucket::Minute);
        let starts: Vec<Millis> = counts.series.iter().map(|(s, _)| *s).collect();
        assert_eq!(
            starts,
            [T + MINUTE_MS, T + 2 * MINUTE_MS, T + 3 * MINUTE_MS]
        );
        counts.add(T + 90_000, "200", 2);
        counts.add(T + 3 * MINUTE_MS, "500", 1);
        counts.add(T + 3 * MINUTE_MS + 59_999, "timeout", 1);
        assert_eq!(
            counts.totals,
            Tally {
                attempts: 4,
                succeeded: 2,
                failed: 2
            }
        );
        assert_eq!(
            counts.series[1].1,
            Tally::default(),
            "an empty bucket stays"
        );
        assert_eq!(counts.series[2].1.failed, 2);
        assert_eq!(counts.outcomes.get("200"), Some(&2));
        assert_eq!(Bucket::for_window(2 * HOUR_MS), Bucket::Minute);
        assert_eq!(Bucket::for_window(2 * HOUR_MS + 1), Bucket::Hour);
        assert_eq!(Bucket::for_window(8 * DAY_MS), Bucket::Day);
    }

    #[test]
    fn outcomes_are_statuses_or_errors() {
        let responded = |status| Outcome::Responded {
            status,
            body: String::new(),
            truncated: false,
            retry_after: None,
        };
        assert_eq!(outcome_key(&responded(204)), "204");
        assert_eq!(outcome_key(&responded(503)), "503");
        assert_eq!(
            outcome_key(&Outcome::Failed(FailureKind::Timeout)),
            "timeout"
        );
        assert!(is_success("200") && is_success("299"));
        assert!(!is_success("300") && !is_success("timeout") && !is_success("2000"));
    }
}
