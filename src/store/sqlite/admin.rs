//! The operator's side: workspaces, key revocation, new event types, and requeueing failures.

use rusqlite::{Connection, OptionalExtension, params};

use super::rows::page;
use crate::domain::event_type::EventTypeDef;
use crate::domain::time::Millis;
use crate::store::rows::Columns;
use crate::store::{Page, PageRequest, StoreResult, Workspace};

pub fn list_workspaces(conn: &Connection, req: PageRequest) -> StoreResult<Page<Workspace>> {
    let query = conn.prepare_cached(
        "SELECT rowid AS seq, id, name, created_at FROM workspaces
         WHERE (?1 IS NULL OR rowid < ?1) ORDER BY rowid DESC LIMIT ?2",
    )?;
    page(
        query,
        params![req.cursor, i64::from(req.limit) + 1],
        req.limit,
        |r| {
            Ok(Workspace {
                id: r.text("id")?,
                name: r.text("name")?,
                created_at: r.int("created_at")?,
            })
        },
    )
}

pub fn revoke_api_key(
    conn: &Connection,
    workspace_id: &str,
    key_id: &str,
    now: Millis,
) -> StoreResult<bool> {
    let revoked = conn
        .prepare_cached(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?1)
             WHERE workspace_id = ?2 AND id = ?3",
        )?
        .execute(params![now, workspace_id, key_id])?;
    Ok(revoked > 0)
}

pub fn insert_event_type(conn: &Connection, def: &EventTypeDef, now: Millis) -> StoreResult<bool> {
    let inserted = conn
        .prepare_cached(
            "INSERT INTO event_types (name, description, schema, example, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT (name) DO NOTHING",
        )?
        .execute(params![
            def.name,
            def.description,
            def.schema.to_string(),
            def.example.to_string(),
            now
        ])?;
    Ok(inserted > 0)
}

pub fn requeue_failed(
    conn: &Connection,
    workspace_id: &str,
    webhook_id: &str,
    since: Millis,
    now: Millis,
) -> StoreResult<Option<u64>> {
    let enabled = conn
        .prepare_cached("SELECT enabled FROM webhooks WHERE workspace_id = ?1 AND id = ?2")?
        .query_row([workspace_id, webhook_id], |r| r.get::<_, bool>(0))
        .optional()?;
    let Some(enabled) = enabled else {
        return Ok(None);
    };
    let requeued = conn
        .prepare_cached(
            "UPDATE deliveries SET state = 'pending', next_attempt_at = ?1, next_trigger = 'manual',
                 held = ?2, lease_owner = NULL, lease_token = lease_token + 1, updated_at = ?1
             WHERE webhook_id = ?3 AND state = 'failed' AND created_at >= ?4",
        )?
        .execute(params![now, !enabled, webhook_id, since])?;
    Ok(Some(requeued as u64))
}
