//! Webhooks and their secrets. Writes run on the writer thread, reads on a reader (see `mod`).

use rusqlite::{Connection, OptionalExtension, params};

use super::rows::{page, webhook_columns, webhook_from};
use crate::domain::sealing::Sealer;
use crate::domain::time::Millis;
use crate::domain::webhook::{DisabledReason, Secret};
use crate::store::rows::{OptionColumns, open_secret};
use crate::store::{NewWebhook, Page, PageRequest, StoreResult, Webhook, WebhookPatch};

fn to_json(names: &[String]) -> String {
    serde_json::Value::from(names.to_vec()).to_string()
}

pub fn create(conn: &Connection, sealer: &Sealer, w: &NewWebhook) -> StoreResult<Webhook> {
    let reason = (!w.enabled).then_some(DisabledReason::Manual.as_str());
    let o = OptionColumns::from(&w.options);
    conn.prepare_cached(
        "INSERT INTO webhooks (id, workspace_id, url, description, event_types, enabled,
             disabled_reason, created_at, updated_at, headers, filter, rate_limit, ordered,
             timeout_ms, retry_schedule, disabled_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?10, ?11, ?12, ?13, ?14,
             CASE WHEN ?6 THEN NULL ELSE ?8 END)",
    )?
    .execute(params![
        w.id,
        w.workspace_id,
        w.url,
        w.description,
        to_json(&w.event_types),
        w.enabled,
        reason,
        w.now,
        o.headers,
        o.filter,
        o.rate_limit,
        o.ordered,
        o.timeout_ms,
        o.retry_schedule
    ])?;
    conn.prepare_cached(
        "INSERT INTO webhook_secrets (webhook_id, secret, created_at) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![w.id, sealer.seal(&w.secret), w.now])?;
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

pub fn list(conn: &Connection, workspace_id: &str, req: PageRequest) -> StoreResult<Page<Webhook>> {
    let query = conn.prepare_cached(concat!(
        "SELECT ",
        webhook_columns!(),
        " FROM webhooks WHERE workspace_id = ?1 AND (?2 IS NULL OR seq < ?2) ORDER BY seq DESC LIMIT ?3"
    ))?;
    let params = params![workspace_id, req.cursor, i64::from(req.limit) + 1];
    page(query, params, req.limit, |r| webhook_from(r))
}

pub fn get(conn: &Connection, workspace_id: &str, id: &str) -> StoreResult<Option<Webhook>> {
    conn.prepare_cached(concat!(
        "SELECT ",
        webhook_columns!(),
        " FROM webhooks WHERE workspace_id = ?1 AND id = ?2"
    ))?
    .query_row([workspace_id, id], |row| Ok(webhook_from(row)))
    .optional()?
    .transpose()
}

pub fn update(
    conn: &Connection,
    workspace_id: &str,
    id: &str,
    patch: &WebhookPatch,
    now: Millis,
) -> StoreResult<Option<Webhook>> {
    let Some(before) = get(conn, workspace_id, id)? else {
        return Ok(None);
    };
    let Some(webhook) = before.patched(patch, now) else {
        return Ok(Some(before));
    };
    let o = OptionColumns::from(&webhook.options);
    conn.prepare_cached(
        "UPDATE webhooks SET url = ?1, description = ?2, event_types = ?3, enabled = ?4,
             disabled_reason = ?5, updated_at = ?6, headers = ?8, filter = ?9, rate_limit = ?10,
             ordered = ?11, timeout_ms = ?12, retry_schedule = ?13, disabled_at = ?14
         WHERE id = ?7",
    )?
    .execute(params![
        webhook.url,
        webhook.description,
        to_json(&webhook.event_types),
        webhook.enabled,
        webhook.disabled_reason.map(DisabledReason::as_str),
        now,
        id,
        o.headers,
        o.filter,
        o.rate_limit,
        o.ordered,
        o.timeout_ms,
        o.retry_schedule,
        webhook.disabled_at
    ])?;
    // A disabled webhook's deliveries wait (held) and resume, still due, when it is enabled again.
    conn.prepare_cached(
        "UPDATE deliveries SET held = ?1 WHERE webhook_id = ?2 AND state = 'pending' AND held <> ?1",
    )?
    .execute(params![!webhook.enabled, id])?;
    Ok(Some(webhook))
}

pub fn delete(conn: &Connection, workspace_id: &str, id: &str, now: Millis) -> StoreResult<bool> {
    let found = conn
        .prepare_cached("SELECT 1 FROM webhooks WHERE workspace_id = ?1 AND id = ?2")?
        .exists([workspace_id, id])?;
    if !found {
        return Ok(false);
    }
    conn.prepare_cached(
        "UPDATE deliveries SET state = 'cancelled', next_attempt_at = NULL, lease_owner = NULL,
             updated_at = ?1
         WHERE webhook_id = ?2 AND state = 'pending'",
    )?
    .execute(params![now, id])?;
    for sql in [
        "DELETE FROM attempts WHERE webhook_id = ?1",
        "DELETE FROM attempt_stats WHERE webhook_id = ?1",
        "DELETE FROM webhook_secrets WHERE webhook_id = ?1",
        "DELETE FROM webhooks WHERE id = ?1",
    ] {
        conn.prepare_cached(sql)?.execute([id])?;
    }
    Ok(true)
}

pub fn secrets(
    conn: &Connection,
    sealer: &Sealer,
    workspace_id: &str,
    id: &str,
    now: Millis,
) -> StoreResult<Option<Vec<Secret>>> {
    if get(conn, workspace_id, id)?.is_none() {
        return Ok(None);
    }
    Ok(Some(valid_secrets(conn, sealer, id, now)?))
}

/// The signing secrets of a webhook that are valid at `now`, newest first. A secret that cannot
/// be opened is left out (see `open_secret`).
pub fn valid_secrets(
    conn: &Connection,
    sealer: &Sealer,
    webhook_id: &str,
    now: Millis,
) -> StoreResult<Vec<Secret>> {
    let sealed = conn
        .prepare_cached(
            "SELECT secret FROM webhook_secrets
             WHERE webhook_id = ?1 AND (expires_at IS NULL OR expires_at > ?2)
             ORDER BY created_at DESC",
        )?
        .query_map(params![webhook_id, now], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(sealed
        .into_iter()
        .filter_map(|s| open_secret(sealer, webhook_id, s))
        .collect())
}

/// Ends the current secret at `old_expires_at` and adds `sealed` (already sealed) as the newest.
pub fn rotate_secret(
    conn: &Connection,
    workspace_id: &str,
    id: &str,
    sealed: &str,
    now: Millis,
    old_expires_at: Millis,
) -> StoreResult<bool> {
    if get(conn, workspace_id, id)?.is_none() {
        return Ok(false);
    }
    conn.prepare_cached(
        "UPDATE webhook_secrets SET expires_at = ?1 WHERE webhook_id = ?2 AND expires_at IS NULL",
    )?
    .execute(params![old_expires_at, id])?;
    // Secrets sign newest first (by created_at): a rotation in the same millisecond as the
    // previous secret's creation must still sort first.
    conn.prepare_cached(
        "INSERT INTO webhook_secrets (webhook_id, secret, created_at)
         SELECT ?1, ?2, MAX(?3, COALESCE(MAX(created_at) + 1, ?3)) FROM webhook_secrets
         WHERE webhook_id = ?1",
    )?
    .execute(params![id, sealed, now])?;
    Ok(true)
}
