//! The statistics' tallies, kept by `queue::record` (see `domain::stats`).

use rusqlite::{Connection, params};

use crate::domain::time::Millis;
use crate::store::StoreResult;

pub fn tallies(
    conn: &Connection,
    workspace_id: &str,
    webhook_id: Option<&str>,
    span: &str,
    from: Millis,
    to: Millis,
) -> StoreResult<Vec<(Millis, String, u64)>> {
    let mut query = conn.prepare_cached(
        "SELECT bucket_start, outcome, SUM(attempts) FROM attempt_stats
         WHERE workspace_id = ?1 AND (?2 IS NULL OR webhook_id = ?2) AND span = ?3
           AND bucket_start >= ?4 AND bucket_start < ?5
         GROUP BY bucket_start, outcome",
    )?;
    let rows = query.query_map(params![workspace_id, webhook_id, span, from, to], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? as u64))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn outcome_counts(
    conn: &Connection,
    workspace_id: &str,
    webhook_id: Option<&str>,
    from: Millis,
    to: Millis,
) -> StoreResult<Vec<(String, u64)>> {
    let mut query = conn.prepare_cached(
        "SELECT COALESCE(CAST(http_status AS TEXT), error, 'unknown'), COUNT(*) FROM attempts
         WHERE workspace_id = ?1 AND (?2 IS NULL OR webhook_id = ?2)
           AND timestamp >= ?3 AND timestamp < ?4
         GROUP BY 1",
    )?;
    let rows = query.query_map(params![workspace_id, webhook_id, from, to], |r| {
        Ok((r.get(0)?, r.get::<_, i64>(1)? as u64))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
