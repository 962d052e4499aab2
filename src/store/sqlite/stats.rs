//! The queue's gauges for `/metrics`. The delivery counts walk the `deliveries_due` partial
//! index (pending, not held), never the whole table; the webhook count reads the small webhooks
//! table. With a million pending deliveries a scrape costs tens of milliseconds, on a reader.

use rusqlite::Connection;

use crate::domain::time::Millis;
use crate::store::{QueueStats, StoreResult};

pub fn queue_stats(conn: &Connection, now: Millis) -> StoreResult<QueueStats> {
    let (pending, due, earliest, disabled) = conn
        .prepare_cached(
            "SELECT
                 (SELECT COUNT(*) FROM deliveries WHERE state = 'pending' AND held = 0),
                 (SELECT COUNT(*) FROM deliveries
                     WHERE state = 'pending' AND held = 0 AND next_attempt_at <= ?1),
                 (SELECT MIN(next_attempt_at) FROM deliveries
                     WHERE state = 'pending' AND held = 0),
                 (SELECT COUNT(*) FROM webhooks WHERE enabled = 0)",
        )?
        .query_row([now], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Option<i64>>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })?;
    Ok(QueueStats {
        pending: pending as u64,
        due: due as u64,
        oldest_due_age_ms: earliest.map_or(0, |at| (now - at).max(0)),
        webhooks_disabled: disabled as u64,
    })
}
