//! The queue's gauges for `/metrics`. The delivery counts walk the `deliveries_due` partial
//! index (pending, not held), never the whole table; the webhook count reads the small webhooks
//! table. With a million pending deliveries a scrape costs tens of milliseconds, on the read pool.

use sqlx::Row;

use super::SqliteStore;
use crate::domain::time::Millis;
use crate::store::{QueueStats, StoreResult};

pub async fn queue_stats(store: &SqliteStore, now: Millis) -> StoreResult<QueueStats> {
    let row = sqlx::query(
        "SELECT
             (SELECT COUNT(*) FROM deliveries WHERE state = 'pending' AND held = 0) AS pending,
             (SELECT COUNT(*) FROM deliveries
                 WHERE state = 'pending' AND held = 0 AND next_attempt_at <= ?1) AS due,
             (SELECT MIN(next_attempt_at) FROM deliveries
                 WHERE state = 'pending' AND held = 0) AS earliest,
             (SELECT COUNT(*) FROM webhooks WHERE enabled = 0) AS disabled",
    )
    .bind(now)
    .fetch_one(&store.read)
    .await?;
    let earliest: Option<i64> = row.try_get("earliest")?;
    Ok(QueueStats {
        pending: row.try_get::<i64, _>("pending")? as u64,
        due: row.try_get::<i64, _>("due")? as u64,
        oldest_due_age_ms: earliest.map_or(0, |at| (now - at).max(0)),
        webhooks_disabled: row.try_get::<i64, _>("disabled")? as u64,
    })
}
