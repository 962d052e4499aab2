//! The Request History: every attempt of a webhook, newest first.

use super::db::{Run, query};
use super::queue::requeue;
use super::{PgStore, notify_wake};
use crate::domain::time::Millis;
use crate::store::rows::{Columns, attempt_columns, attempt_from, page};
use crate::store::{Attempt, AttemptFilter, MAX_DELIVERY_ATTEMPTS, Page, PageRequest, StoreResult};

pub async fn list(
    store: &PgStore,
    workspace_id: &str,
    webhook_id: &str,
    filter: &AttemptFilter,
    req: PageRequest,
) -> StoreResult<Page<Attempt>> {
    let rows = query(concat!(
        "SELECT ",
        attempt_columns!(),
        " FROM attempts a JOIN events e ON e.id = a.event_id
          WHERE a.webhook_id = $1 AND a.workspace_id = $2
            AND ($3::BOOLEAN IS NULL OR a.succeeded = $3)
            AND ($4::TEXT IS NULL OR a.event_type = $4)
            AND ($5::BIGINT IS NULL OR a.timestamp >= $5)
            AND ($6::BIGINT IS NULL OR a.timestamp < $6)
            AND ($7::BIGINT IS NULL OR a.seq < $7)
          ORDER BY a.seq DESC LIMIT $8"
    ))
    .bind(webhook_id)
    .bind(workspace_id)
    .bind(filter.succeeded)
    .bind(filter.event_type.as_deref())
    .bind(filter.since)
    .bind(filter.until)
    .bind(req.cursor)
    .bind(i64::from(req.limit) + 1)
    .fetch_all_on(&store.db)
    .await?;
    page(&rows, req.limit, attempt_from)
}

pub async fn of_delivery(
    store: &PgStore,
    workspace_id: &str,
    delivery_id: &str,
) -> StoreResult<Vec<Attempt>> {
    let rows = query(concat!(
        "SELECT ",
        attempt_columns!(),
        " FROM attempts a JOIN events e ON e.id = a.event_id
          WHERE a.delivery_id = $1 AND a.workspace_id = $2
          ORDER BY a.seq DESC LIMIT $3"
    ))
    .bind(delivery_id)
    .bind(workspace_id)
    .bind(i64::from(MAX_DELIVERY_ATTEMPTS))
    .fetch_all_on(&store.db)
    .await?;
    rows.iter().map(attempt_from).collect()
}

pub async fn get(
    store: &PgStore,
    workspace_id: &str,
    webhook_id: &str,
    id: &str,
) -> StoreResult<Option<Attempt>> {
    let row = query(concat!(
        "SELECT ",
        attempt_columns!(),
        " FROM attempts a JOIN events e ON e.id = a.event_id
          WHERE a.id = $1 AND a.webhook_id = $2 AND a.workspace_id = $3"
    ))
    .bind(id)
    .bind(webhook_id)
    .bind(workspace_id)
    .fetch_optional_on(&store.db)
    .await?;
    row.as_ref().map(attempt_from).transpose()
}

pub async fn retry(
    store: &PgStore,
    workspace_id: &str,
    webhook_id: &str,
    attempt_id: &str,
    now: Millis,
) -> StoreResult<Option<String>> {
    let mut tx = store.begin().await?;
    let row = query(
        "SELECT a.delivery_id, w.enabled FROM attempts a JOIN webhooks w ON w.id = a.webhook_id
         WHERE a.id = $1 AND a.webhook_id = $2 AND a.workspace_id = $3",
    )
    .bind(attempt_id)
    .bind(webhook_id)
    .bind(workspace_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let delivery_id = row.text("delivery_id")?;
    let enabled = row.flag("enabled")?;
    // Whatever its state, the delivery gets one more attempt now; a disabled webhook's waits.
    query(
        "UPDATE pending_deliveries SET next_attempt_at = $1, next_trigger = 'manual', held = $2,
             lease_owner = NULL, lease_token = lease_token + 1, updated_at = $1 WHERE id = $3",
    )
    .bind(now)
    .bind(!enabled)
    .bind(&delivery_id)
    .execute(&mut *tx)
    .await?;
    // An ended delivery goes back from the history into the queue.
    query(concat!(
        "WITH back AS (DELETE FROM finished_deliveries WHERE id = $3 RETURNING *) ",
        requeue!()
    ))
    .bind(now)
    .bind(!enabled)
    .bind(&delivery_id)
    .execute(&mut *tx)
    .await?;
    notify_wake(&mut tx).await?;
    tx.commit().await?;
    Ok(Some(delivery_id))
}
