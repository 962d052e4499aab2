//! What the dashboard needs beyond the API's records: sign-in sessions and delivery stats.

use sqlx::Row;

use super::SqliteStore;
use crate::domain::time::Millis;
use crate::store::{DeliveryStats, NewSession, Session, StoreResult};

pub async fn create_session(store: &SqliteStore, s: &NewSession) -> StoreResult<()> {
    let mut tx = store.begin().await?;
    // Sessions are short-lived; dropping the expired ones at each sign-in keeps the table small
    // without a sweeper.
    sqlx::query("DELETE FROM dashboard_sessions WHERE expires_at <= ?")
        .bind(s.created_at)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO dashboard_sessions (token_hash, workspace_id, csrf_token, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(&s.token_hash)
    .bind(&s.workspace_id)
    .bind(&s.csrf_token)
    .bind(s.created_at)
    .bind(s.expires_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn session(
    store: &SqliteStore,
    token_hash: &[u8],
    now: Millis,
) -> StoreResult<Option<Session>> {
    let row = sqlx::query(
        "SELECT s.workspace_id, w.name, s.csrf_token, s.expires_at
         FROM dashboard_sessions s JOIN workspaces w ON w.id = s.workspace_id
         WHERE s.token_hash = ? AND s.expires_at > ?",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(&store.read)
    .await?;
    row.map(|r| {
        Ok(Session {
            workspace_id: r.try_get("workspace_id")?,
            workspace_name: r.try_get("name")?,
            csrf_token: r.try_get("csrf_token")?,
            expires_at: r.try_get("expires_at")?,
        })
    })
    .transpose()
}

pub async fn delete_session(store: &SqliteStore, token_hash: &[u8]) -> StoreResult<()> {
    sqlx::query("DELETE FROM dashboard_sessions WHERE token_hash = ?")
        .bind(token_hash)
        .execute(&store.write)
        .await?;
    Ok(())
}

pub async fn delivery_stats(
    store: &SqliteStore,
    workspace_id: &str,
    webhook_id: &str,
    since: Millis,
) -> StoreResult<DeliveryStats> {
    let rows = sqlx::query(
        "SELECT state, COUNT(*) AS n FROM deliveries
         WHERE webhook_id = ? AND workspace_id = ? AND created_at >= ? GROUP BY state",
    )
    .bind(webhook_id)
    .bind(workspace_id)
    .bind(since)
    .fetch_all(&store.read)
    .await?;
    let mut stats = DeliveryStats::default();
    for row in rows {
        let n = u64::try_from(row.try_get::<i64, _>("n")?).unwrap_or(0);
        match row.try_get::<String, _>("state")?.as_str() {
            "succeeded" => stats.succeeded = n,
            "pending" => stats.pending = n,
            "failed" => stats.failed = n,
            _ => {}
        }
    }
    Ok(stats)
}
