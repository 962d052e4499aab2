//! What the dashboard needs beyond the API's records: sign-in sessions and delivery stats.

use rusqlite::{Connection, OptionalExtension, params};

use crate::domain::time::Millis;
use crate::store::{DeliveryStats, NewSession, Session, StoreResult};

pub fn create_session(conn: &Connection, s: &NewSession) -> StoreResult<()> {
    // Sessions are short-lived; dropping the expired ones at each sign-in keeps the table small
    // without a sweeper.
    conn.prepare_cached("DELETE FROM dashboard_sessions WHERE expires_at <= ?1")?
        .execute([s.created_at])?;
    conn.prepare_cached(
        "INSERT INTO dashboard_sessions (token_hash, workspace_id, csrf_token, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        s.token_hash,
        s.workspace_id,
        s.csrf_token,
        s.created_at,
        s.expires_at
    ])?;
    Ok(())
}

pub fn session(conn: &Connection, token_hash: &[u8], now: Millis) -> StoreResult<Option<Session>> {
    Ok(conn
        .prepare_cached(
            "SELECT s.workspace_id, w.name, s.csrf_token, s.expires_at
             FROM dashboard_sessions s JOIN workspaces w ON w.id = s.workspace_id
             WHERE s.token_hash = ?1 AND s.expires_at > ?2",
        )?
        .query_row(params![token_hash, now], |r| {
            Ok(Session {
                workspace_id: r.get(0)?,
                workspace_name: r.get(1)?,
                csrf_token: r.get(2)?,
                expires_at: r.get(3)?,
            })
        })
        .optional()?)
}

pub fn delete_session(conn: &Connection, token_hash: &[u8]) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM dashboard_sessions WHERE token_hash = ?1")?
        .execute([token_hash])?;
    Ok(())
}

pub fn delivery_stats(
    conn: &Connection,
    workspace_id: &str,
    webhook_id: &str,
    since: Millis,
) -> StoreResult<DeliveryStats> {
    let mut query = conn.prepare_cached(
        "SELECT state, COUNT(*) FROM deliveries
         WHERE webhook_id = ?1 AND workspace_id = ?2 AND created_at >= ?3 GROUP BY state",
    )?;
    let mut rows = query.query(params![webhook_id, workspace_id, since])?;
    let mut stats = DeliveryStats::default();
    while let Some(row) = rows.next()? {
        let n = u64::try_from(row.get::<_, i64>(1)?).unwrap_or(0);
        match row.get::<_, String>(0)?.as_str() {
            "succeeded" => stats.succeeded = n,
            "pending" => stats.pending = n,
            "failed" => stats.failed = n,
            _ => {}
        }
    }
    Ok(stats)
}
