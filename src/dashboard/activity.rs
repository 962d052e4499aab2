//! The Activity chart: succeeded and failed attempts per bucket over 1 h, 24 h, 7 d or 30 d,
//! and the outcome breakdown, for the whole workspace (the Webhooks page) or one webhook (its
//! page). Drawn on the server as SVG from the same statistics as `GET /api/v1/stats`
//! (`service::stats`), with a table of the same numbers for screen readers and a text summary.

use crate::domain::stats::{Bucket, Counts, MINUTE_MS, Tally, span_start};
use crate::domain::time::Millis;
use crate::service::{Service, ServiceError, StatsQuery};

use super::format;

/// The windows the chart offers: `(query value, label, length)`.
const WINDOWS: [(&str, &str, Millis); 4] = [
    ("1h", "1 hour", 3_600_000),
    ("24h", "24 hours", 86_400_000),
    ("7d", "7 days", 7 * 86_400_000),
    ("30d", "30 days", 30 * 86_400_000),
];

/// The chart's drawing area, in SVG units.
const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 120.0;

pub struct WindowTab {
    pub label: &'static str,
    pub href: String,
    pub active: bool,
}

/// One bucket: its bars (SVG coordinates as text) and its numbers.
pub struct Bar {
    pub x: String,
    pub width: String,
    pub ok_y: String,
    pub ok_height: String,
    pub fail_y: String,
    pub fail_height: String,
    pub start: String,
    pub succeeded: u64,
    pub failed: u64,
}

pub struct Activity {
    pub window: &'static str,
    pub tabs: Vec<WindowTab>,
    pub bars: Vec<Bar>,
    pub attempts: u64,
    pub succeeded: u64,
    pub failed: u64,
    /// `(outcome, attempts, pill class)`, most frequent first.
    pub outcomes: Vec<(String, u64, &'static str)>,
}

/// The window a page asks for (`?activity=`), 24 hours by default.
fn chosen(asked: Option<&str>) -> (&'static str, &'static str, Millis) {
    WINDOWS
        .iter()
        .copied()
        .find(|(value, _, _)| Some(*value) == asked)
        .unwrap_or(WINDOWS[1])
}

/// The statistics a chart shows: windows end at the end of the current minute, so they are
/// read from tallies only (see `domain::stats::sources`).
pub async fn load(
    service: &Service,
    workspace_id: &str,
    webhook_id: Option<&str>,
    asked: Option<&str>,
    link: impl Fn(&str) -> String,
) -> Result<Activity, ServiceError> {
    let (value, label, length) = chosen(asked);
    let until = span_start(service.clock.now(), MINUTE_MS) + MINUTE_MS;
    let query = StatsQuery {
        since: Some(until - length),
        until: Some(until),
        webhook_id: webhook_id.map(str::to_string),
        bucket: None,
    };
    let counts = service.stats(workspace_id, query).await?;
    let tabs = WINDOWS
        .iter()
        .map(|(v, l, _)| WindowTab {
            label: l,
            href: link(v),
            active: *v == value,
        })
        .collect();
    Ok(draw(counts, label, tabs))
}

/// One webhook's totals over the last 24 hours (to the end of the current minute), for its row
/// in the list.
pub async fn last_day(
    service: &Service,
    workspace_id: &str,
    webhook_id: &str,
) -> Result<Tally, ServiceError> {
    let (_, _, length) = WINDOWS[1];
    let until = span_start(service.clock.now(), MINUTE_MS) + MINUTE_MS;
    let query = StatsQuery {
        since: Some(until - length),
        until: Some(until),
        webhook_id: Some(webhook_id.to_string()),
        bucket: Some(Bucket::Day),
    };
    Ok(service.stats(workspace_id, query).await?.totals)
}

fn draw(counts: Counts, window: &'static str, tabs: Vec<WindowTab>) -> Activity {
    let tallest = counts
        .series
        .iter()
        .map(|(_, t)| t.attempts)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let slot = WIDTH / counts.series.len().max(1) as f64;
    let bars = counts
        .series
        .iter()
        .enumerate()
        .map(|(i, (start, t))| {
            let ok_height = HEIGHT * t.succeeded as f64 / tallest;
            let fail_height = HEIGHT * t.failed as f64 / tallest;
            let coordinate = |v: f64| format!("{v:.2}");
            Bar {
                x: coordinate(i as f64 * slot),
                width: coordinate((slot * 0.8).max(0.5)),
                ok_y: coordinate(HEIGHT - ok_height),
                ok_height: coordinate(ok_height),
                fail_y: coordinate(HEIGHT - ok_height - fail_height),
                fail_height: coordinate(fail_height),
                start: format::time(*start),
                succeeded: t.succeeded,
                failed: t.failed,
            }
        })
        .collect();
    let mut outcomes: Vec<(String, u64, &'static str)> = counts
        .outcomes
        .into_iter()
        .map(|(outcome, n)| {
            let class = match outcome.parse::<u16>() {
                Ok(status) => format::outcome(Some(status), None).1,
                Err(_) => "error",
            };
            (outcome, n, class)
        })
        .collect();
    outcomes.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Activity {
        window,
        tabs,
        bars,
        attempts: counts.totals.attempts,
        succeeded: counts.totals.succeeded,
        failed: counts.totals.failed,
        outcomes,
    }
}
