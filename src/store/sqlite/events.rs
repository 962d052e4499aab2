//! Accepting events: the event, one delivery per subscribed webhook and the idempotency key are
//! committed together, so a 202 means all of it is on disk.

use rusqlite::{Connection, OptionalExtension, params};

use super::SqliteStore;
use super::rows::{delivery_summary_from, event_columns, event_from, page};
use crate::domain::ids;
use crate::store::{DeliverySummary, Event, Ingested, NewEvent, Page, PageRequest, StoreResult};

/// Ingests one event inside the writer's transaction (see `writer`: many share one commit).
pub fn ingest(conn: &Connection, event: &NewEvent) -> StoreResult<Ingested> {
    if let Some(idem) = &event.idempotency {
        let seen = conn
            .prepare_cached(
                "SELECT request_hash, event_id FROM idempotency_keys
                 WHERE workspace_id = ?1 AND key = ?2 AND created_at >= ?3",
            )?
            .query_row(
                params![event.workspace_id, idem.key, idem.not_before],
                |row| Ok((row.get::<_, Vec<u8>>(0)?, row.get::<_, String>(1)?)),
            )
            .optional()?;
        if let Some((hash, event_id)) = seen {
            if hash != idem.request_hash {
                return Ok(Ingested::KeyReused);
            }
            let first = conn
                .prepare_cached(concat!(
                    "SELECT ",
                    event_columns!(),
                    " FROM events WHERE id = ?1"
                ))?
                .query_row([&event_id], |row| Ok(event_from(row)))??;
            return Ok(Ingested::Replayed(first));
        }
    }

    let webhook_ids = conn
        .prepare_cached(
            "SELECT id FROM webhooks WHERE workspace_id = ?1 AND enabled = 1
               AND EXISTS (SELECT 1 FROM json_each(webhooks.event_types) WHERE value = ?2)
             ORDER BY seq",
        )?
        .query_map(params![event.workspace_id, event.event_type], |row| {
            row.get::<_, String>(0)
        })?
        .collect::<Result<Vec<_>, _>>()?;

    conn.prepare_cached(
        "INSERT INTO events (id, workspace_id, event_type, payload, created_at, delivery_count,
             traceparent)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        event.id,
        event.workspace_id,
        event.event_type,
        event.payload,
        event.created_at,
        webhook_ids.len() as i64,
        event.traceparent
    ])?;
    let mut insert_delivery = conn.prepare_cached(
        "INSERT INTO deliveries (id, workspace_id, webhook_id, event_id, state, next_attempt_at,
             next_trigger, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, 'pending', ?5, 'scheduled', ?5, ?5)",
    )?;
    for webhook_id in &webhook_ids {
        insert_delivery.execute(params![
            ids::new_id(ids::DELIVERY),
            event.workspace_id,
            webhook_id,
            event.id,
            event.created_at
        ])?;
    }
    if let Some(idem) = &event.idempotency {
        conn.prepare_cached(
            "INSERT INTO idempotency_keys (workspace_id, key, request_hash, event_id, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (workspace_id, key) DO UPDATE SET request_hash = excluded.request_hash,
                 event_id = excluded.event_id, created_at = excluded.created_at",
        )?
        .execute(params![
            event.workspace_id,
            idem.key,
            idem.request_hash,
            event.id,
            event.created_at
        ])?;
    }
    Ok(Ingested::Created(Event {
        id: event.id.clone(),
        workspace_id: event.workspace_id.clone(),
        event_type: event.event_type.clone(),
        payload: event.payload.clone(),
        created_at: event.created_at,
        delivery_count: webhook_ids.len() as u32,
    }))
}

pub async fn list(
    store: &SqliteStore,
    workspace_id: &str,
    event_type: Option<&str>,
    req: PageRequest,
) -> StoreResult<Page<Event>> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        event_columns!(),
        " FROM events WHERE workspace_id = ?1 AND is_test = 0 AND (?2 IS NULL OR event_type = ?2)
          AND (?3 IS NULL OR seq < ?3) ORDER BY seq DESC LIMIT ?4"
    ))
    .bind(workspace_id)
    .bind(event_type)
    .bind(req.cursor)
    .bind(i64::from(req.limit) + 1)
    .fetch_all(&store.read)
    .await?;
    page(&rows, req.limit, event_from)
}

pub async fn get(
    store: &SqliteStore,
    workspace_id: &str,
    id: &str,
) -> StoreResult<Option<(Event, Vec<DeliverySummary>)>> {
    let row = sqlx::query(concat!(
        "SELECT ",
        event_columns!(),
        " FROM events WHERE workspace_id = ? AND id = ? AND is_test = 0"
    ))
    .bind(workspace_id)
    .bind(id)
    .fetch_optional(&store.read)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let deliveries = sqlx::query(
        "SELECT id, webhook_id, state, attempts, next_attempt_at FROM deliveries WHERE event_id = ? ORDER BY seq",
    )
    .bind(id)
    .fetch_all(&store.read)
    .await?;
    let deliveries = deliveries
        .iter()
        .map(delivery_summary_from)
        .collect::<StoreResult<_>>()?;
    Ok(Some((event_from(&row)?, deliveries)))
}
