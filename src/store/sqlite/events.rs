//! Accepting events: the event, one delivery per subscribed webhook and the idempotency key are
//! committed together, so a 202 means all of it is on disk.

use rusqlite::{Connection, OptionalExtension, params};

use super::rows::{all, delivery_summary_from, event_columns, event_from};
use crate::domain::ids;
use crate::domain::routing::route;
use crate::store::operational::OperationalEvent;
use crate::store::rows::Subscriber;
use crate::store::{DeliverySummary, Event, Ingested, NewEvent, StoreResult};

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

    let delivery_count = insert(conn, event, None)?;
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
        delivery_count,
    }))
}

/// Stores the event with one delivery per webhook it goes to (subscribed, enabled, its filter
/// passed, and not `exclude`); returns how many.
fn insert(conn: &Connection, event: &NewEvent, exclude: Option<&str>) -> StoreResult<u32> {
    let candidates = all(
        conn.prepare_cached(
            "SELECT id, filter, retry_schedule FROM webhooks
             WHERE workspace_id = ?1 AND enabled = 1 AND id IS NOT ?3
               AND EXISTS (SELECT 1 FROM json_each(webhooks.event_types) WHERE value = ?2)
             ORDER BY seq",
        )?,
        params![event.workspace_id, event.event_type, exclude],
        |row| Subscriber::subscribed_from_row(row),
    )?;
    let routed = route(&event.event_type, &event.payload, &candidates);

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
        routed.len() as i64,
        event.traceparent
    ])?;
    if !routed.is_empty() {
        // All of the event's deliveries in one statement, whatever the fan-out.
        let deliveries: Vec<(String, &String, &Option<String>)> = routed
            .iter()
            .map(|webhook| {
                (
                    ids::new_id(ids::DELIVERY),
                    &webhook.id,
                    &webhook.retry_schedule,
                )
            })
            .collect();
        let deliveries = serde_json::to_string(&deliveries)
            .map_err(|e| crate::store::StoreError::internal(e.to_string()))?;
        conn.prepare_cached(
            "INSERT INTO deliveries (id, workspace_id, webhook_id, event_id, state, next_attempt_at,
                 next_trigger, created_at, updated_at, retry_schedule)
             SELECT d.value ->> 0, ?2, d.value ->> 1, ?3, 'pending', ?4, 'scheduled', ?4, ?4,
                 d.value ->> 2
             FROM json_each(?1) d",
        )?
        .execute(params![
            deliveries,
            event.workspace_id,
            event.id,
            event.created_at
        ])?;
    }
    Ok(routed.len() as u32)
}

/// Stores an operational event inside the writer's transaction that records the state change it
/// reports; it goes to every subscribed webhook but the one it is about.
pub fn emit(conn: &Connection, operational: &OperationalEvent) -> StoreResult<u32> {
    insert(
        conn,
        &operational.event,
        Some(&operational.about_webhook_id),
    )
}

pub fn get(
    conn: &Connection,
    workspace_id: &str,
    id: &str,
) -> StoreResult<Option<(Event, Vec<DeliverySummary>)>> {
    let event = conn
        .prepare_cached(concat!(
            "SELECT ",
            event_columns!(),
            " FROM events WHERE workspace_id = ?1 AND id = ?2 AND is_test = 0"
        ))?
        .query_row([workspace_id, id], |row| Ok(event_from(row)))
        .optional()?
        .transpose()?;
    let Some(event) = event else { return Ok(None) };
    let deliveries = all(
        conn.prepare_cached(
            "SELECT id, webhook_id, state, attempts, next_attempt_at FROM deliveries
             WHERE event_id = ?1 ORDER BY seq",
        )?,
        [id],
        |r| delivery_summary_from(r),
    )?;
    Ok(Some((event, deliveries)))
}
