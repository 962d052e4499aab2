//! The statistics tallies of one group commit, summed before they are written. Recording an
//! attempt counts it under its webhook, minute, hour and outcome (`domain::stats`); attempts of
//! one batch mostly share those, so instead of two upserts per attempt the writer adds them up
//! here while it runs the batch's jobs and writes one upsert per distinct tally just before it
//! commits: still in the same transaction as the attempts, so the statistics never disagree
//! with the history.
//!
//! The sums live in a thread-local because only the writer thread records attempts (see
//! `writer::apply`, which starts each transaction with [`discard`] and ends it with [`write`]).

use std::cell::RefCell;
use std::collections::HashMap;

use rusqlite::{Connection, params};

use crate::domain::stats::{SPANS, outcome_key, span_start};
use crate::domain::time::Millis;
use crate::store::{NewAttempt, StoreResult};

/// webhook, span, bucket start, outcome → (workspace, attempts).
type Sums = HashMap<(String, &'static str, i64, String), (String, i64)>;

thread_local! {
    static SUMS: RefCell<Sums> = RefCell::new(HashMap::new());
}

/// Counts `a` in the current transaction's tallies.
pub fn add(a: &NewAttempt) {
    let claim = &a.claim;
    let outcome = outcome_key(&a.outcome);
    count(
        &claim.webhook_id,
        &claim.workspace_id,
        a.started_at,
        &outcome,
    );
}

/// Counts an attempt of `webhook_id` made at `at` with `outcome`.
fn count(webhook_id: &str, workspace_id: &str, at: Millis, outcome: &str) {
    SUMS.with_borrow_mut(|sums| {
        for (span, length) in SPANS {
            let key = (
                webhook_id.to_string(),
                span,
                span_start(at, length),
                outcome.to_string(),
            );
            sums.entry(key)
                .or_insert_with(|| (workspace_id.to_string(), 0))
                .1 += 1;
        }
    });
}

/// Forgets what a transaction that will not commit counted.
pub fn discard() {
    SUMS.with_borrow_mut(Sums::clear);
}

/// Writes the sums into `attempt_stats`, inside the transaction about to commit.
pub fn write(conn: &Connection) -> StoreResult<()> {
    let sums = SUMS.with_borrow_mut(std::mem::take);
    if sums.is_empty() {
        return Ok(());
    }
    let mut upsert = conn.prepare_cached(
        "INSERT INTO attempt_stats (webhook_id, span, bucket_start, outcome, workspace_id, attempts)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (webhook_id, span, bucket_start, outcome)
         DO UPDATE SET attempts = attempts + excluded.attempts",
    )?;
    for ((webhook_id, span, bucket_start, outcome), (workspace_id, attempts)) in &sums {
        upsert.execute(params![
            webhook_id,
            span,
            bucket_start,
            outcome,
            workspace_id,
            attempts
        ])?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn tallies(conn: &Connection) -> Vec<(String, String, i64, String, i64)> {
        let mut query = conn
            .prepare(
                "SELECT webhook_id, span, bucket_start, outcome, attempts FROM attempt_stats
                 ORDER BY webhook_id, span, bucket_start, outcome",
            )
            .unwrap();
        query
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    #[test]
    fn a_commit_writes_one_sum_per_tally_and_a_discarded_one_nothing() {
        let mut conn = Connection::open_in_memory().unwrap();
        super::super::migrate::run(&mut conn).unwrap();
        // A batch that fails after counting: its counts must not reach the next commit.
        count("wh_a", "ws", 60_500, "200");
        discard();
        count("wh_a", "ws", 60_000, "200");
        count("wh_a", "ws", 119_999, "200");
        count("wh_a", "ws", 120_000, "timeout");
        count("wh_b", "ws", 60_000, "200");
        write(&conn).unwrap();
        let m = |webhook: &str, start: i64, outcome: &str, n: i64| {
            (
                webhook.to_string(),
                "m".to_string(),
                start,
                outcome.to_string(),
                n,
            )
        };
        let h = |webhook: &str, outcome: &str, n: i64| {
            (
                webhook.to_string(),
                "h".to_string(),
                0,
                outcome.to_string(),
                n,
            )
        };
        assert_eq!(
            tallies(&conn),
            vec![
                h("wh_a", "200", 2),
                h("wh_a", "timeout", 1),
                m("wh_a", 60_000, "200", 2),
                m("wh_a", 120_000, "timeout", 1),
                h("wh_b", "200", 1),
                m("wh_b", 60_000, "200", 1),
            ]
        );
        // The next commit adds to what is stored.
        count("wh_a", "ws", 61_000, "200");
        write(&conn).unwrap();
        assert!(tallies(&conn).contains(&m("wh_a", 60_000, "200", 3)));
        write(&conn).unwrap();
        assert!(
            tallies(&conn).contains(&m("wh_a", 60_000, "200", 3)),
            "written once"
        );
    }
}
