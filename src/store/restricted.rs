//! Webhooks a claim treats one by one: `ordered` (one attempt at a time, in accept order) and
//! `rate_limit` (at most N attempts started per second). Both backends claim their deliveries
//! with the webhook's row held for the claim, so processes sharing a database take turns, and
//! count the attempts of the current one-second window on the row itself.

use crate::domain::time::Millis;
use crate::store::StoreResult;
use crate::store::rows::Columns;

/// A restricted webhook as a claim reads it.
#[derive(Debug, Clone)]
pub struct Restricted {
    pub id: String,
    pub ordered: bool,
    pub rate_limit: Option<i64>,
    window_start: Millis,
    window_count: i64,
}

/// The column list `Restricted::from_row` reads.
pub const RESTRICTED_COLUMNS: &str =
    "id, ordered, rate_limit, rate_window_start, rate_window_count";

impl Restricted {
    pub fn from_row(row: &impl Columns) -> StoreResult<Self> {
        Ok(Self {
            id: row.text("id")?,
            ordered: row.flag("ordered")?,
            rate_limit: row.opt_int("rate_limit")?,
            window_start: row.int("rate_window_start")?,
            window_count: row.int("rate_window_count")?,
        })
    }

    /// How many of its deliveries may start now: what is left of this second's rate, and one
    /// at most when ordered.
    pub fn allowance(&self, now: Millis) -> i64 {
        let left = match self.rate_limit {
            Some(limit) if self.window_start == window_of(now) => limit - self.window_count,
            Some(limit) => limit,
            None => i64::MAX,
        };
        let left = left.max(0);
        if self.ordered { left.min(1) } else { left }
    }

    /// The window to store after `taken` more attempts start at `now`.
    pub fn window_after(&self, now: Millis, taken: i64) -> (Millis, i64) {
        let window = window_of(now);
        let before = if self.window_start == window {
            self.window_count
        } else {
            0
        };
        (window, before + taken)
    }
}

fn window_of(now: Millis) -> Millis {
    now - now.rem_euclid(1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn webhook(ordered: bool, rate_limit: Option<i64>, start: Millis, count: i64) -> Restricted {
        Restricted {
            id: "wh".into(),
            ordered,
            rate_limit,
            window_start: start,
            window_count: count,
        }
    }

    #[test]
    fn the_rate_counts_per_second_and_ordered_takes_one() {
        assert_eq!(webhook(false, Some(5), 0, 0).allowance(10_500), 5);
        assert_eq!(webhook(false, Some(5), 10_000, 3).allowance(10_999), 2);
        assert_eq!(webhook(false, Some(5), 10_000, 5).allowance(10_999), 0);
        assert_eq!(
            webhook(false, Some(5), 10_000, 5).allowance(11_000),
            5,
            "a new second"
        );
        assert_eq!(webhook(true, None, 0, 0).allowance(5), 1);
        assert_eq!(webhook(true, Some(5), 10_000, 5).allowance(10_001), 0);
        assert_eq!(
            webhook(false, Some(5), 10_000, 3).window_after(10_700, 2),
            (10_000, 5)
        );
        assert_eq!(
            webhook(false, Some(5), 10_000, 3).window_after(11_200, 1),
            (11_000, 1)
        );
    }
}
