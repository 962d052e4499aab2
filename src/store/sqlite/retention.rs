//! Pruning: events older than `SPEAKNODE_RETENTION`, with their deliveries and attempts, in small
//! batches so the single writer is never held for long and deliveries keep flowing.

use super::SqliteStore;
use crate::domain::time::Millis;
use crate::store::StoreResult;
use crate::store::rows::Columns;

pub async fn prune(store: &SqliteStore, cutoff: Millis, limit: u32) -> StoreResult<u64> {
    let mut tx = store.begin().await?;
    // An event with a delivery still pending is kept: accepted work is never dropped.
    let ids: Vec<String> = sqlx::query(
        "SELECT id FROM events e WHERE created_at < ?1
           AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.state = 'pending')
         ORDER BY created_at LIMIT ?2",
    )
    .bind(cutoff)
    .bind(i64::from(limit))
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|r| r.text("id"))
    .collect::<StoreResult<_>>()?;
    for id in &ids {
        for sql in [
            "DELETE FROM attempts WHERE event_id = ?",
            "DELETE FROM deliveries WHERE event_id = ?",
            "DELETE FROM events WHERE id = ?",
        ] {
            sqlx::query(sql).bind(id).execute(&mut *tx).await?;
        }
    }
    sqlx::query("DELETE FROM idempotency_keys WHERE rowid IN (SELECT rowid FROM idempotency_keys WHERE created_at < ?1 LIMIT ?2)")
        .bind(cutoff)
        .bind(i64::from(limit))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(ids.len() as u64)
}
