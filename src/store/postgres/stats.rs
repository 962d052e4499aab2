//! The queue's gauges for `/metrics`. The delivery counts walk the `pending_due` partial
//! index of the queue (not held), never the history; the webhook count reads the small webhooks
//! table.

use super::PgStore;
use super::db::{Run, query};
use crate::domain::time::Millis;
use crate::store::rows::Columns;
use crate::store::{QueueStats, StoreResult};

pub async fn queue_stats(store: &PgStore, now: Millis) -> StoreResult<QueueStats> {
    let row = query(
        "SELECT
             (SELECT COUNT(*) FROM pending_deliveries WHERE NOT held) AS pending,
             (SELECT COUNT(*) FROM pending_deliveries
                 WHERE NOT held AND next_attempt_at <= $1) AS due,
             (SELECT MIN(next_attempt_at) FROM pending_deliveries WHERE NOT held) AS earliest,
             (SELECT COUNT(*) FROM webhooks WHERE NOT enabled) AS disabled",
    )
    .bind(now)
    .fetch_one_on(&store.db)
    .await?;
    let earliest = row.opt_int("earliest")?;
    Ok(QueueStats {
        pending: row.int("pending")? as u64,
        due: row.int("due")? as u64,
        oldest_due_age_ms: earliest.map_or(0, |at| (now - at).max(0)),
        webhooks_disabled: row.int("disabled")? as u64,
    })
}
