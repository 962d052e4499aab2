//! Webhooks and their secrets.

use super::SqliteStore;
use super::rows::{page, webhook_columns, webhook_from};
use crate::domain::sealing::Sealer;
use crate::domain::time::Millis;
use crate::domain::webhook::{DisabledReason, Secret};
use crate::store::rows::secrets_from;
use crate::store::{NewWebhook, Page, PageRequest, StoreResult, Webhook, WebhookPatch};

fn to_json(names: &[String]) -> String {
    serde_json::Value::from(names.to_vec()).to_string()
}

pub async fn create(store: &SqliteStore, w: &NewWebhook) -> StoreResult<Webhook> {
    let mut tx = store.begin().await?;
    let reason = (!w.enabled).then_some(DisabledReason::Manual.as_str());
    sqlx::query(
        "INSERT INTO webhooks (id, workspace_id, url, description, event_types, enabled, disabled_reason,
             created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&w.id)
    .bind(&w.workspace_id)
    .bind(&w.url)
    .bind(&w.description)
    .bind(to_json(&w.event_types))
    .bind(w.enabled)
    .bind(reason)
    .bind(w.now)
    .bind(w.now)
    .execute(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO webhook_secrets (webhook_id, secret, created_at) VALUES (?, ?, ?)")
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
        created_at: w.now,
        updated_at: w.now,
        last_attempt: None,
    })
}

pub async fn list(
    store: &SqliteStore,
    workspace_id: &str,
    req: PageRequest,
) -> StoreResult<Page<Webhook>> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        webhook_columns!(),
        " FROM webhooks WHERE workspace_id = ?1 AND (?2 IS NULL OR seq < ?2) ORDER BY seq DESC LIMIT ?3"
    ))
    .bind(workspace_id)
    .bind(req.cursor)
    .bind(i64::from(req.limit) + 1)
    .fetch_all(&store.read)
    .await?;
    page(&rows, req.limit, webhook_from)
}

pub async fn get<'c, E>(executor: E, workspace_id: &str, id: &str) -> StoreResult<Option<Webhook>>
where
    E: sqlx::Executor<'c, Database = sqlx::Sqlite>,
{
    let row = sqlx::query(concat!(
        "SELECT ",
        webhook_columns!(),
        " FROM webhooks WHERE workspace_id = ? AND id = ?"
    ))
    .bind(workspace_id)
    .bind(id)
    .fetch_optional(executor)
    .await?;
    row.as_ref().map(webhook_from).transpose()
}

pub async fn update(
    store: &SqliteStore,
    workspace_id: &str,
    id: &str,
    patch: &WebhookPatch,
    now: Millis,
) -> StoreResult<Option<Webhook>> {
    let mut tx = store.begin().await?;
    let Some(before) = get(&mut *tx, workspace_id, id).await? else {
        return Ok(None);
    };
    let Some(webhook) = before.patched(patch, now) else {
        return Ok(Some(before));
    };
    sqlx::query(
        "UPDATE webhooks SET url = ?, description = ?, event_types = ?, enabled = ?, disabled_reason = ?,
             updated_at = ? WHERE id = ?",
    )
    .bind(&webhook.url)
    .bind(&webhook.description)
    .bind(to_json(&webhook.event_types))
    .bind(webhook.enabled)
    .bind(webhook.disabled_reason.map(DisabledReason::as_str))
    .bind(now)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    // A disabled webhook's deliveries wait (held) and resume, still due, when it is enabled again.
    sqlx::query(
        "UPDATE deliveries SET held = ? WHERE webhook_id = ? AND state = 'pending' AND held <> ?",
    )
    .bind(!webhook.enabled)
    .bind(id)
    .bind(!webhook.enabled)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some(webhook))
}

pub async fn delete(
    store: &SqliteStore,
    workspace_id: &str,
    id: &str,
    now: Millis,
) -> StoreResult<bool> {
    let mut tx = store.begin().await?;
    let found = sqlx::query("SELECT 1 FROM webhooks WHERE workspace_id = ? AND id = ?")
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    if found.is_none() {
        return Ok(false);
    }
    sqlx::query(
        "UPDATE deliveries SET state = 'cancelled', next_attempt_at = NULL, lease_owner = NULL, updated_at = ?
         WHERE webhook_id = ? AND state = 'pending'",
    )
    .bind(now)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM attempts WHERE webhook_id = ?")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM webhook_secrets WHERE webhook_id = ?")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM webhooks WHERE id = ?")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(true)
}

pub async fn secrets(
    store: &SqliteStore,
    workspace_id: &str,
    id: &str,
    now: Millis,
) -> StoreResult<Option<Vec<Secret>>> {
    if get(&store.read, workspace_id, id).await?.is_none() {
        return Ok(None);
    }
    let secrets = valid_secrets(&store.read, &store.sealer, &[id], now).await?;
    Ok(Some(secrets.into_iter().map(|(_, s)| s).collect()))
}

/// The signing secrets of the given webhooks that are valid at `now`, newest first.
pub async fn valid_secrets<'c, E>(
    executor: E,
    sealer: &Sealer,
    webhook_ids: &[&str],
    now: Millis,
) -> StoreResult<Vec<(String, Secret)>>
where
    E: sqlx::Executor<'c, Database = sqlx::Sqlite>,
{
    let mut query = sqlx::QueryBuilder::new(
        "SELECT webhook_id, secret FROM webhook_secrets WHERE webhook_id IN (",
    );
    let mut ids = query.separated(", ");
    for id in webhook_ids {
        ids.push_bind(id.to_string());
    }
    query
        .push(") AND (expires_at IS NULL OR expires_at > ")
        .push_bind(now)
        .push(") ORDER BY created_at DESC");
    let rows = query.build().fetch_all(executor).await?;
    secrets_from(&rows, sealer)
}

pub async fn rotate_secret(
    store: &SqliteStore,
    workspace_id: &str,
    id: &str,
    secret: &Secret,
    now: Millis,
    old_expires_at: Millis,
) -> StoreResult<bool> {
    let mut tx = store.begin().await?;
    if get(&mut *tx, workspace_id, id).await?.is_none() {
        return Ok(false);
    }
    sqlx::query(
        "UPDATE webhook_secrets SET expires_at = ? WHERE webhook_id = ? AND expires_at IS NULL",
    )
    .bind(old_expires_at)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    // Secrets sign newest first (by created_at): a rotation in the same millisecond as the
    // previous secret's creation must still sort first.
    sqlx::query(
        "INSERT INTO webhook_secrets (webhook_id, secret, created_at)
         SELECT ?1, ?2, MAX(?3, COALESCE(MAX(created_at) + 1, ?3)) FROM webhook_secrets
         WHERE webhook_id = ?1",
    )
    .bind(id)
    .bind(store.sealer.seal(secret))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}
