//! Webhooks and their secrets.

use super::db::{Run, query};
use super::{PgStore, notify_wake};
use crate::domain::sealing::Sealer;
use crate::domain::time::Millis;
use crate::domain::webhook::{DisabledReason, Secret};
use crate::store::rows::{OptionColumns, page, secrets_from, webhook_columns, webhook_from};
use crate::store::{NewWebhook, Page, PageRequest, StoreResult, Webhook, WebhookPatch};

fn to_json(names: &[String]) -> String {
    serde_json::Value::from(names.to_vec()).to_string()
}

pub async fn create(store: &PgStore, w: &NewWebhook) -> StoreResult<Webhook> {
    let mut tx = store.begin().await?;
    let reason = (!w.enabled).then_some(DisabledReason::Manual.as_str());
    let o = OptionColumns::from(&w.options);
    query(
        "INSERT INTO webhooks (id, workspace_id, url, description, event_types, enabled, disabled_reason,
             created_at, updated_at, headers, filter, rate_limit, ordered, timeout_ms, retry_schedule,
             disabled_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10, $11, $12, $13, $14,
             CASE WHEN $6 THEN NULL ELSE $8 END)",
    )
    .bind(&w.id)
    .bind(&w.workspace_id)
    .bind(&w.url)
    .bind(&w.description)
    .bind(to_json(&w.event_types))
    .bind(w.enabled)
    .bind(reason)
    .bind(w.now)
    .bind(&o.headers)
    .bind(&o.filter)
    .bind(o.rate_limit)
    .bind(o.ordered)
    .bind(o.timeout_ms)
    .bind(&o.retry_schedule)
    .execute(&mut *tx)
    .await?;
    query("INSERT INTO webhook_secrets (webhook_id, secret, created_at) VALUES ($1, $2, $3)")
        .bind(&w.id)
        .bind(store.sealer.seal(&w.secret))
        .bind(w.now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Webhook {
        id: w.id.clone(),
        workspace_id: w.workspace_id.clone(),
        url: w.url.clone(),
        description: w.description.clone(),
        event_types: w.event_types.clone(),
        enabled: w.enabled,
        disabled_reason: (!w.enabled).then_some(DisabledReason::Manual),
        disabled_at: (!w.enabled).then_some(w.now),
        created_at: w.now,
        updated_at: w.now,
        last_attempt: None,
        options: w.options.clone(),
    })
}

pub async fn list(
    store: &PgStore,
    workspace_id: &str,
    req: PageRequest,
) -> StoreResult<Page<Webhook>> {
    let rows = query(concat!(
        "SELECT ",
        webhook_columns!(),
        " FROM webhooks WHERE workspace_id = $1 AND ($2::BIGINT IS NULL OR seq < $2) ORDER BY seq DESC LIMIT $3"
    ))
    .bind(workspace_id)
    .bind(req.cursor)
    .bind(i64::from(req.limit) + 1)
    .fetch_all_on(&store.db)
    .await?;
    page(&rows, req.limit, webhook_from)
}

pub async fn get<'c, E>(executor: E, workspace_id: &str, id: &str) -> StoreResult<Option<Webhook>>
where
    E: sqlx::Executor<'c, Database = sqlx::Postgres>,
{
    let row = query(concat!(
        "SELECT ",
        webhook_columns!(),
        " FROM webhooks WHERE workspace_id = $1 AND id = $2"
    ))
    .bind(workspace_id)
    .bind(id)
    .fetch_optional(executor)
    .await?;
    row.as_ref().map(webhook_from).transpose()
}

pub async fn update(
    store: &PgStore,
    workspace_id: &str,
    id: &str,
    patch: &WebhookPatch,
    now: Millis,
) -> StoreResult<Option<Webhook>> {
    let mut tx = store.begin().await?;
    // Locks the row, so concurrent updates apply one after the other instead of losing one.
    let row = query(concat!(
        "SELECT ",
        webhook_columns!(),
        " FROM webhooks WHERE workspace_id = $1 AND id = $2 FOR UPDATE"
    ))
    .bind(workspace_id)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(before) = row.as_ref().map(webhook_from).transpose()? else {
        return Ok(None);
    };
    let Some(webhook) = before.patched(patch, now) else {
        return Ok(Some(before));
    };
    let o = OptionColumns::from(&webhook.options);
    query(
        "UPDATE webhooks SET url = $1, description = $2, event_types = $3, enabled = $4, disabled_reason = $5,
             updated_at = $6, headers = $8, filter = $9, rate_limit = $10, ordered = $11,
             timeout_ms = $12, retry_schedule = $13, disabled_at = $14
         WHERE id = $7",
    )
    .bind(&webhook.url)
    .bind(&webhook.description)
    .bind(to_json(&webhook.event_types))
    .bind(webhook.enabled)
    .bind(webhook.disabled_reason.map(DisabledReason::as_str))
    .bind(now)
    .bind(id)
    .bind(&o.headers)
    .bind(&o.filter)
    .bind(o.rate_limit)
    .bind(o.ordered)
    .bind(o.timeout_ms)
    .bind(&o.retry_schedule)
    .bind(webhook.disabled_at)
    .execute(&mut *tx)
    .await?;
    // A disabled webhook's deliveries wait (held) and resume, still due, when it is enabled again.
    query("UPDATE pending_deliveries SET held = $1 WHERE webhook_id = $2 AND held <> $1")
        .bind(!webhook.enabled)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if webhook.enabled && !before.enabled {
        notify_wake(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(Some(webhook))
}

pub async fn delete(
    store: &PgStore,
    workspace_id: &str,
    id: &str,
    now: Millis,
) -> StoreResult<bool> {
    let mut tx = store.begin().await?;
    let found = query("SELECT 1 FROM webhooks WHERE workspace_id = $1 AND id = $2 FOR UPDATE")
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    if found.is_none() {
        return Ok(false);
    }
    // Its pending deliveries end, cancelled: out of the queue, into the history.
    query(
        "WITH gone AS (DELETE FROM pending_deliveries WHERE webhook_id = $2 RETURNING *)
         INSERT INTO finished_deliveries (seq, id, workspace_id, webhook_id, event_id, state,
             attempts, lease_token, created_at, updated_at, retry_schedule)
         SELECT seq, id, workspace_id, webhook_id, event_id, 'cancelled', attempts, lease_token,
             created_at, $1, retry_schedule
         FROM gone",
    )
    .bind(now)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    query("DELETE FROM attempts WHERE webhook_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    query("DELETE FROM attempt_stats WHERE webhook_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    query("DELETE FROM webhook_secrets WHERE webhook_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    query("DELETE FROM webhooks WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(true)
}

pub async fn secrets(
    store: &PgStore,
    workspace_id: &str,
    id: &str,
    now: Millis,
) -> StoreResult<Option<Vec<Secret>>> {
    let mut session = store.db.session().await?;
    if get(session.conn(), workspace_id, id).await?.is_none() {
        return Ok(None);
    }
    let secrets = valid_secrets(session.conn(), &store.sealer, &[id.to_string()], now).await?;
    session.finish().await?;
    Ok(Some(secrets.into_iter().map(|(_, s)| s).collect()))
}

/// The signing secrets of the given webhooks that are valid at `now`, newest first.
pub async fn valid_secrets<'c, E>(
    executor: E,
    sealer: &Sealer,
    webhook_ids: &[String],
    now: Millis,
) -> StoreResult<Vec<(String, Secret)>>
where
    E: sqlx::Executor<'c, Database = sqlx::Postgres>,
{
    let rows = query(
        "SELECT webhook_id, secret FROM webhook_secrets WHERE webhook_id = ANY($1)
           AND (expires_at IS NULL OR expires_at > $2) ORDER BY created_at DESC",
    )
    .bind(webhook_ids)
    .bind(now)
    .fetch_all(executor)
    .await?;
    secrets_from(&rows, sealer)
}
