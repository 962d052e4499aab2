//! Pruning: events older than `SPEAKNODE_RETENTION`, with their deliveries, attempts and statistics, in small
//! batches on the writer thread, so deliveries keep flowing between them.

use rusqlite::{Connection, params};

use crate::domain::time::Millis;
use crate::store::StoreResult;

pub fn prune(conn: &Connection, cutoff: Millis, limit: u32) -> StoreResult<u64> {
    // An event with a delivery still pending is kept: accepted work is never dropped. The batch
    // is chosen once, into a temporary table, and each table is pruned with one statement.
    conn.prepare_cached("CREATE TEMP TABLE IF NOT EXISTS pruned (id TEXT PRIMARY KEY)")?
        .execute([])?;
    conn.prepare_cached("DELETE FROM temp.pruned")?
        .execute([])?;
    let pruned = conn
        .prepare_cached(
            "INSERT INTO temp.pruned (id)
             SELECT id FROM events e WHERE created_at < ?1
               AND NOT EXISTS (SELECT 1 FROM deliveries d
                               WHERE d.event_id = e.id AND d.state = 'pending')
             ORDER BY created_at LIMIT ?2",
        )?
        .execute(params![cutoff, limit])?;
    if pruned > 0 {
        for sql in [
            // Through the events' deliveries: attempts have no index by event (migration 0012).
            "DELETE FROM attempts WHERE delivery_id IN
                 (SELECT d.id FROM deliveries d WHERE d.event_id IN (SELECT id FROM temp.pruned))",
            "DELETE FROM deliveries WHERE event_id IN (SELECT id FROM temp.pruned)",
            "DELETE FROM events WHERE id IN (SELECT id FROM temp.pruned)",
        ] {
            conn.prepare_cached(sql)?.execute([])?;
        }
    }
    conn.prepare_cached(
        "DELETE FROM idempotency_keys WHERE rowid IN
             (SELECT rowid FROM idempotency_keys WHERE created_at < ?1 LIMIT ?2)",
    )?
    .execute(params![cutoff, limit])?;
    // Statistics whose whole bucket is older than the history kept.
    conn.prepare_cached(
        "DELETE FROM attempt_stats WHERE (webhook_id, span, bucket_start, outcome) IN
             (SELECT webhook_id, span, bucket_start, outcome FROM attempt_stats
              WHERE bucket_start + CASE span WHEN 'h' THEN 3600000 ELSE 60000 END <= ?1
              LIMIT ?2)",
    )?
    .execute(params![cutoff, limit])?;
    Ok(pruned as u64)
}
