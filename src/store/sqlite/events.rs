//! Accepting events: the event, one delivery per subscribed webhook and the idempotency key are
//! committed together, so a 202 means all of it is on disk.

use sqlx::SqliteConnection;

use super::SqliteStore;
use super::rows::{delivery_summary_from, event_columns, event_from, page};
use crate::domain::ids;
use crate::store::rows::{Columns, subscribers};
use crate::store::{DeliverySummary, Event, Ingested, NewEvent, Page, PageRequest, StoreResult};

/// Ingests one event inside the caller's transaction (the writer groups many into one commit).
pub async fn ingest_in(tx: &mut SqliteConnection, event: &NewEvent) -> StoreResult<Ingested> {
    if let Some(idem) = &event.idempotency {
        let seen = sqlx::query(
            "SELECT request_hash, event_id FROM idempotency_keys
             WHERE workspace_id = ? AND key = ? AND created_at >= ?",
        )
        .bind(&event.workspace_id)
        .bind(&idem.key)
        .bind(idem.not_before)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(seen) = seen {
            let hash = seen.bytes("request_hash")?;
            if hash != idem.request_hash {
                return Ok(Ingested::KeyReused);
            }
            let event_id = seen.text("event_id")?;
            let first = sqlx::query(concat!(
                "SELECT ",
                event_columns!(),
                " FROM events WHERE id = ?"
            ))
            .bind(&event_id)
            .fetch_one(&mut *tx)
            .await?;
            return Ok(Ingested::Replayed(event_from(&first)?));
        }
    }

    let candidates =
        sqlx::query("SELECT id, event_types FROM webhooks WHERE workspace_id = ? AND enabled = 1")
            .bind(&event.workspace_id)
            .fetch_all(&mut *tx)
            .await?;
    let webhook_ids = subscribers(&candidates, &event.event_type)?;

    sqlx::query(
        "INSERT INTO events (id, workspace_id, event_type, payload, created_at, delivery_count)
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(&event.id)
    .bind(&event.workspace_id)
    .bind(&event.event_type)
    .bind(&event.payload)
    .bind(event.created_at)
    .bind(webhook_ids.len() as i64)
    .execute(&mut *tx)
    .await?;
    for webhook_id in &webhook_ids {
        sqlx::query(
            "INSERT INTO deliveries (id, workspace_id, webhook_id, event_id, state, next_attempt_at,
                 next_trigger, created_at, updated_at)
             VALUES (?, ?, ?, ?, 'pending', ?, 'scheduled', ?, ?)",
        )
        .bind(ids::new_id(ids::DELIVERY))
        .bind(&event.workspace_id)
        .bind(webhook_id)
        .bind(&event.id)
        .bind(event.created_at)
        .bind(event.created_at)
        .bind(event.created_at)
        .execute(&mut *tx)
        .await?;
    }
    if let Some(idem) = &event.idempotency {
        sqlx::query(
            "INSERT INTO idempotency_keys (workspace_id, key, request_hash, event_id, created_at)
             VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (workspace_id, key) DO UPDATE SET request_hash = excluded.request_hash,
                 event_id = excluded.event_id, created_at = excluded.created_at",
        )
        .bind(&event.workspace_id)
        .bind(&idem.key)
        .bind(&idem.request_hash)
        .bind(&event.id)
        .bind(event.created_at)
        .execute(&mut *tx)
        .await?;
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
