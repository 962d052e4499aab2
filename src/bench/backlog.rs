//! Scenario D: a large backlog already in the database when the run starts. `--backlog N`
//! seeds N pending deliveries (one small event each) to a webhook of their own, due in 24 hours
//! (retries waiting for a failing endpoint), written straight into the database in bulk. They are
//! not due during the run, so they show whether claiming and ingesting stay cheap when the queue
//! tables are large: claims walk the due index, which ends at "now".

use anyhow::Context;

/// How far in the future the seeded deliveries are due.
const DUE_IN_MS: i64 = 24 * 60 * 60 * 1000;

/// Seeds `count` pending deliveries to `webhook_id`.
pub async fn seed(database_url: &str, webhook_id: &str, count: u64) -> anyhow::Result<()> {
    use crate::domain::clock::{Clock, SystemClock};
    let now = SystemClock.now();
    if database_url.starts_with("sqlite:") {
        let path = crate::store::sqlite::file_path(database_url)?;
        let webhook_id = webhook_id.to_string();
        tokio::task::spawn_blocking(move || seed_sqlite(&path, &webhook_id, count, now))
            .await
            .context("the seeding task failed")?
    } else {
        seed_postgres(database_url, webhook_id, count, now).await
    }
}

fn seed_sqlite(
    path: &std::path::Path,
    webhook_id: &str,
    count: u64,
    now: i64,
) -> anyhow::Result<()> {
    let mut conn = rusqlite::Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    tx.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?2)
         INSERT INTO events (id, workspace_id, event_type, payload, created_at, delivery_count)
         SELECT printf('evt_backlog%010d', i), w.workspace_id, 'ConversationComplete', '{}', ?3, 1
         FROM n, webhooks w WHERE w.id = ?1",
        rusqlite::params![webhook_id, count as i64, now],
    )?;
    let seeded = tx.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?2)
         INSERT INTO deliveries (id, workspace_id, webhook_id, event_id, state, attempts,
             next_attempt_at, next_trigger, created_at, updated_at)
         SELECT printf('dlv_backlog%010d', i), w.workspace_id, w.id, printf('evt_backlog%010d', i),
             'pending', 1, ?4, 'retry', ?3, ?3
         FROM n, webhooks w WHERE w.id = ?1",
        rusqlite::params![webhook_id, count as i64, now, now + DUE_IN_MS],
    )?;
    anyhow::ensure!(
        seeded as u64 == count,
        "seeded {seeded} deliveries, not {count}"
    );
    tx.commit()?;
    // Start the run with the WAL folded into the database file, as a long-running service's is.
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(())
}

async fn seed_postgres(url: &str, webhook_id: &str, count: u64, now: i64) -> anyhow::Result<()> {
    let pool = sqlx::PgPool::connect(url).await?;
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO events (id, workspace_id, event_type, payload, created_at, delivery_count)
         SELECT 'evt_backlog' || lpad(i::text, 10, '0'), w.workspace_id, 'ConversationComplete',
             '{}', $3, 1
         FROM generate_series(1, $2) AS i, webhooks w WHERE w.id = $1",
    )
    .bind(webhook_id)
    .bind(count as i64)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let seeded = sqlx::query(
        "INSERT INTO pending_deliveries (id, workspace_id, webhook_id, event_id, event_created_at,
             attempts, next_attempt_at, next_trigger, created_at, updated_at)
         SELECT 'dlv_backlog' || lpad(i::text, 10, '0'), w.workspace_id, w.id,
             'evt_backlog' || lpad(i::text, 10, '0'), $3, 1, $4, 'retry', $3, $3
         FROM generate_series(1, $2) AS i, webhooks w WHERE w.id = $1",
    )
    .bind(webhook_id)
    .bind(count as i64)
    .bind(now)
    .bind(now + DUE_IN_MS)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    anyhow::ensure!(seeded == count, "seeded {seeded} deliveries, not {count}");
    tx.commit().await?;
    sqlx::query("ANALYZE").execute(&pool).await?;
    pool.close().await;
    Ok(())
}
