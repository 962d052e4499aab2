//! Retention on PostgreSQL: the history's partitions past `SPEAKNODE_RETENTION` are dropped
//! whole (`partitions`), and the small tables that grow with traffic (idempotency keys,
//! statistics buckets) lose their old rows in batches of the limit.

use super::PgStore;
use super::db::{Run, query};
use super::partitions;
use crate::domain::clock::{Clock, SystemClock};
use crate::domain::time::Millis;
use crate::store::StoreResult;

/// Makes the partitions ahead of time, drops those past `cutoff`, and deletes the old
/// idempotency keys and statistics buckets, `limit` at a time; answers how many events went.
pub async fn prune(store: &PgStore, cutoff: Millis, limit: u32) -> StoreResult<u64> {
    partitions::make_ahead(&store.db, SystemClock.now()).await?;
    let events = partitions::drop_expired(&store.db, cutoff).await?;
    for sql in [
        "DELETE FROM idempotency_keys WHERE (workspace_id, key) IN
           (SELECT workspace_id, key FROM idempotency_keys WHERE created_at < $1 LIMIT $2)",
        // Statistics whose whole bucket is older than the history kept.
        "DELETE FROM attempt_stats WHERE (webhook_id, span, bucket_start, outcome) IN
           (SELECT webhook_id, span, bucket_start, outcome FROM attempt_stats
            WHERE bucket_start + CASE span WHEN 'h' THEN 3600000 ELSE 60000 END <= $1 LIMIT $2)",
    ] {
        while query(sql)
            .bind(cutoff)
            .bind(i64::from(limit))
            .execute_on(&store.db)
            .await?
            .rows_affected()
            == u64::from(limit)
        {}
    }
    Ok(events)
}
