//! The statistics' tallies, kept by `record` (see `domain::stats`).

use super::PgStore;
use super::db::{Run, query};
use crate::domain::time::Millis;
use crate::store::StoreResult;
use crate::store::rows::Columns;

pub async fn tallies(
    store: &PgStore,
    workspace_id: &str,
    webhook_id: Option<&str>,
    span: &str,
    from: Millis,
    to: Millis,
) -> StoreResult<Vec<(Millis, String, u64)>> {
    let rows = query(
        "SELECT bucket_start, outcome, SUM(attempts)::BIGINT AS attempts FROM attempt_stats
         WHERE workspace_id = $1 AND ($2::TEXT IS NULL OR webhook_id = $2) AND span = $3
           AND bucket_start >= $4 AND bucket_start < $5
         GROUP BY bucket_start, outcome",
    )
    .bind(workspace_id)
    .bind(webhook_id)
    .bind(span)
    .bind(from)
    .bind(to)
    .fetch_all_on(&store.db)
    .await?;
    rows.iter()
        .map(|r| {
            let attempts = r.int("attempts")? as u64;
            Ok((r.int("bucket_start")?, r.text("outcome")?, attempts))
        })
        .collect()
}

pub async fn outcome_counts(
    store: &PgStore,
    workspace_id: &str,
    webhook_id: Option<&str>,
    from: Millis,
    to: Millis,
) -> StoreResult<Vec<(String, u64)>> {
    let rows = query(
        "SELECT COALESCE(http_status::TEXT, error, 'unknown') AS outcome, COUNT(*) AS attempts
         FROM attempts
         WHERE workspace_id = $1 AND ($2::TEXT IS NULL OR webhook_id = $2)
           AND timestamp >= $3 AND timestamp < $4
         GROUP BY 1",
    )
    .bind(workspace_id)
    .bind(webhook_id)
    .bind(from)
    .bind(to)
    .fetch_all_on(&store.db)
    .await?;
    rows.iter()
        .map(|r| Ok((r.text("outcome")?, r.int("attempts")? as u64)))
        .collect()
}
