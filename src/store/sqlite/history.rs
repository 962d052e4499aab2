//! The Request History: every attempt of a webhook, newest first.

use rusqlite::{Connection, OptionalExtension, params};

use super::rows::{attempt_columns, attempt_from, page};
use crate::domain::time::Millis;
use crate::store::{Attempt, AttemptFilter, MAX_DELIVERY_ATTEMPTS, Page, PageRequest, StoreResult};

pub fn list(
    conn: &Connection,
    workspace_id: &str,
    webhook_id: &str,
    filter: &AttemptFilter,
    req: PageRequest,
) -> StoreResult<Page<Attempt>> {
    let query = conn.prepare_cached(concat!(
        "SELECT ",
        attempt_columns!(),
        " FROM attempts a JOIN events e ON e.id = a.event_id
          WHERE a.webhook_id = ?1 AND a.workspace_id = ?2
            AND (?3 IS NULL OR a.succeeded = ?3)
            AND (?4 IS NULL OR a.event_type = ?4)
            AND (?5 IS NULL OR a.timestamp >= ?5)
            AND (?6 IS NULL OR a.timestamp < ?6)
            AND (?7 IS NULL OR a.seq < ?7)
          ORDER BY a.seq DESC LIMIT ?8"
    ))?;
    let params = params![
        webhook_id,
        workspace_id,
        filter.succeeded,
        filter.event_type,
        filter.since,
        filter.until,
        req.cursor,
        i64::from(req.limit) + 1
    ];
    page(query, params, req.limit, |r| attempt_from(r))
}

pub fn of_delivery(
    conn: &Connection,
    workspace_id: &str,
    delivery_id: &str,
) -> StoreResult<Vec<Attempt>> {
    let query = conn.prepare_cached(concat!(
        "SELECT ",
        attempt_columns!(),
        " FROM attempts a JOIN events e ON e.id = a.event_id
          WHERE a.delivery_id = ?1 AND a.workspace_id = ?2
          ORDER BY a.seq DESC LIMIT ?3"
    ))?;
    let params = params![delivery_id, workspace_id, MAX_DELIVERY_ATTEMPTS];
    Ok(page(query, params, MAX_DELIVERY_ATTEMPTS, |r| attempt_from(r))?.items)
}

pub fn get(
    conn: &Connection,
    workspace_id: &str,
    webhook_id: &str,
    id: &str,
) -> StoreResult<Option<Attempt>> {
    conn.prepare_cached(concat!(
        "SELECT ",
        attempt_columns!(),
        " FROM attempts a JOIN events e ON e.id = a.event_id
          WHERE a.id = ?1 AND a.webhook_id = ?2 AND a.workspace_id = ?3"
    ))?
    .query_row([id, webhook_id, workspace_id], |row| Ok(attempt_from(row)))
    .optional()?
    .transpose()
}

pub fn retry(
    conn: &Connection,
    workspace_id: &str,
    webhook_id: &str,
    attempt_id: &str,
    now: Millis,
) -> StoreResult<Option<String>> {
    let found = conn
        .prepare_cached(
            "SELECT a.delivery_id, w.enabled FROM attempts a JOIN webhooks w ON w.id = a.webhook_id
             WHERE a.id = ?1 AND a.webhook_id = ?2 AND a.workspace_id = ?3",
        )?
        .query_row([attempt_id, webhook_id, workspace_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, bool>(1)?))
        })
        .optional()?;
    let Some((delivery_id, enabled)) = found else {
        return Ok(None);
    };
    // Whatever its state, the delivery gets one more attempt now. A disabled webhook's delivery
    // waits (held) like its other deliveries until the webhook is enabled again.
    conn.prepare_cached(
        "UPDATE deliveries SET state = 'pending', next_attempt_at = ?1, next_trigger = 'manual',
             held = ?2, lease_owner = NULL, lease_token = lease_token + 1, updated_at = ?1
         WHERE id = ?3",
    )?
    .execute(params![now, !enabled, delivery_id])?;
    Ok(Some(delivery_id))
}
