//! Pruning: events older than `SPEAKNODE_RETENTION`, with their deliveries, attempts and statistics, in small
//! batches. `SKIP LOCKED` lets several processes prune at once without waiting on each other.

use super::PgStore;
use super::db::query;
use crate::domain::time::Millis;
use crate::store::StoreResult;
use crate::store::rows::Columns;

pub async fn prune(store: &PgStore, cutoff: Millis, limit: u32) -> StoreResult<u64> {
    let mut tx = store.db.begin().await?;
    // An event with a delivery still pending is kept: accepted work is never dropped.
    let ids: Vec<String> = query(
        "SELECT id FROM events e WHERE created_at < $1
           AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.state = 'pending')
         ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED",
    )
    .bind(cutoff)
    .bind(i64::from(limit))
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|r| r.text("id"))
    .collect::<StoreResult<_>>()?;
    for sql in [
        "DELETE FROM attempts WHERE event_id = ANY($1)",
        "DELETE FROM deliveries WHERE event_id = ANY($1)",
        "DELETE FROM events WHERE id = ANY($1)",
    ] {
        query(sql).bind(&ids).execute(&mut *tx).await?;
    }
    query(
        "DELETE FROM idempotency_keys WHERE (workspace_id, key) IN
           (SELECT workspace_id, key FROM idempotency_keys WHERE created_at < $1 LIMIT $2)",
    )
    .bind(cutoff)
    .bind(i64::from(limit))
    .execute(&mut *tx)
    .await?;
    // Statistics whose whole bucket is older than the history kept.
    query(
        "DELETE FROM attempt_stats WHERE (webhook_id, span, bucket_start, outcome) IN
           (SELECT webhook_id, span, bucket_start, outcome FROM attempt_stats
            WHERE bucket_start + CASE span WHEN 'h' THEN 3600000 ELSE 60000 END <= $1 LIMIT $2)",
    )
    .bind(cutoff)
    .bind(i64::from(limit))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(ids.len() as u64)
}
