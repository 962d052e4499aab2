//! The operator's side: workspaces, key revocation, new event types, and requeueing failures.

use super::db::{Run, query};
use super::queue::requeue;
use super::{PgStore, notify_wake};
use crate::domain::event_type::EventTypeDef;
use crate::domain::time::Millis;
use crate::store::rows::{Columns, page};
use crate::store::{Page, PageRequest, StoreResult, Workspace};

pub async fn list_workspaces(store: &PgStore, req: PageRequest) -> StoreResult<Page<Workspace>> {
    let rows = query(
        "SELECT seq, id, name, created_at FROM workspaces
         WHERE ($1::BIGINT IS NULL OR seq < $1) ORDER BY seq DESC LIMIT $2",
    )
    .bind(req.cursor)
    .bind(i64::from(req.limit) + 1)
    .fetch_all_on(&store.db)
    .await?;
    page(&rows, req.limit, |r| {
        Ok(Workspace {
            id: r.text("id")?,
            name: r.text("name")?,
            created_at: r.int("created_at")?,
        })
    })
}

pub async fn revoke_api_key(
    store: &PgStore,
    workspace_id: &str,
    key_id: &str,
    now: Millis,
) -> StoreResult<bool> {
    let done = query(
        "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE workspace_id = $2 AND id = $3",
    )
    .bind(now)
    .bind(workspace_id)
    .bind(key_id)
    .execute_on(&store.db)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn insert_event_type(
    store: &PgStore,
    def: &EventTypeDef,
    now: Millis,
) -> StoreResult<bool> {
    let done = query(
        "INSERT INTO event_types (name, description, schema, example, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (name) DO NOTHING",
    )
    .bind(&def.name)
    .bind(&def.description)
    .bind(def.schema.to_string())
    .bind(def.example.to_string())
    .bind(now)
    .execute_on(&store.db)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn requeue_failed(
    store: &PgStore,
    workspace_id: &str,
    webhook_id: &str,
    since: Millis,
    now: Millis,
) -> StoreResult<Option<u64>> {
    let mut tx = store.begin().await?;
    let webhook =
        query("SELECT enabled FROM webhooks WHERE workspace_id = $1 AND id = $2 FOR UPDATE")
            .bind(workspace_id)
            .bind(webhook_id)
            .fetch_optional(&mut *tx)
            .await?;
    let Some(webhook) = webhook else {
        return Ok(None);
    };
    let done = query(concat!(
        "WITH back AS (DELETE FROM finished_deliveries
             WHERE webhook_id = $3 AND state = 'failed' AND created_at >= $4 RETURNING *) ",
        requeue!()
    ))
    .bind(now)
    .bind(!webhook.flag("enabled")?)
    .bind(webhook_id)
    .bind(since)
    .execute(&mut *tx)
    .await?;
    notify_wake(&mut tx).await?;
    tx.commit().await?;
    Ok(Some(done.rows_affected()))
}
