//! Accepting events: the event, its deliveries and the idempotency key in one transaction. The
//! key is claimed first with `INSERT … ON CONFLICT`, so two concurrent requests with the same key
//! (on any process) create one event: the second waits for the first to commit, then replays it.

use super::PgStore;
use super::db::{Run, query};
use super::partitions;
use sqlx::PgConnection;

use crate::domain::ids;
use crate::domain::routing::route;
use crate::store::operational::OperationalEvent;
use crate::store::rows::{Columns, Subscriber, delivery_summary_from, event_columns, event_from};
use crate::store::{DeliverySummary, Event, Ingested, NewEvent, StoreResult};

pub async fn ingest(store: &PgStore, event: &NewEvent) -> StoreResult<Ingested> {
    partitions::writing(&store.db, || ingest_once(store, event)).await
}

async fn ingest_once(store: &PgStore, event: &NewEvent) -> StoreResult<Ingested> {
    let mut tx = store.begin().await?;
    if let Some(idem) = &event.idempotency {
        let claimed = query(
            "INSERT INTO idempotency_keys (workspace_id, key, request_hash, event_id, created_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (workspace_id, key) DO UPDATE SET request_hash = excluded.request_hash,
                 event_id = excluded.event_id, created_at = excluded.created_at
             WHERE idempotency_keys.created_at < $6
             RETURNING event_id",
        )
        .bind(&event.workspace_id)
        .bind(&idem.key)
        .bind(&idem.request_hash)
        .bind(&event.id)
        .bind(event.created_at)
        .bind(idem.not_before)
        .fetch_optional(&mut *tx)
        .await?;
        if claimed.is_none() {
            let seen = query("SELECT request_hash, event_id FROM idempotency_keys WHERE workspace_id = $1 AND key = $2")
                .bind(&event.workspace_id)
                .bind(&idem.key)
                .fetch_one(&mut *tx)
                .await?;
            if seen.bytes("request_hash")? != idem.request_hash {
                return Ok(Ingested::KeyReused);
            }
            let first = query(concat!(
                "SELECT ",
                event_columns!(),
                " FROM events WHERE id = $1"
            ))
            .bind(seen.text("event_id")?)
            .fetch_one(&mut *tx)
            .await?;
            return Ok(Ingested::Replayed(event_from(&first)?));
        }
    }

    let delivery_count = insert(&mut tx, event, None).await?;
    tx.commit().await?;
    if delivery_count > 0 {
        store.wake_others.notify_one();
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
async fn insert(
    conn: &mut PgConnection,
    event: &NewEvent,
    exclude: Option<&str>,
) -> StoreResult<u32> {
    let candidates = query(
        "SELECT id, event_types, filter, retry_schedule FROM webhooks
         WHERE workspace_id = $1 AND enabled AND id IS DISTINCT FROM $2 ORDER BY seq",
    )
    .bind(&event.workspace_id)
    .bind(exclude)
    .fetch_all(&mut *conn)
    .await?;
    let candidates = candidates
        .iter()
        .map(Subscriber::from_row)
        .collect::<StoreResult<Vec<_>>>()?;
    let mut webhook_ids = Vec::new();
    let mut schedules = Vec::new();
    for subscriber in route(&event.event_type, &event.payload, &candidates) {
        webhook_ids.push(subscriber.id.clone());
        schedules.push(subscriber.retry_schedule.clone());
    }
    query(
        "INSERT INTO events (id, workspace_id, event_type, payload, created_at, delivery_count,
             traceparent)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&event.id)
    .bind(&event.workspace_id)
    .bind(&event.event_type)
    .bind(&event.payload)
    .bind(event.created_at)
    .bind(webhook_ids.len() as i64)
    .bind(&event.traceparent)
    .execute(&mut *conn)
    .await?;
    if !webhook_ids.is_empty() {
        let delivery_ids: Vec<String> = webhook_ids
            .iter()
            .map(|_| ids::new_id(ids::DELIVERY))
            .collect();
        query(
            "INSERT INTO pending_deliveries (id, workspace_id, webhook_id, event_id,
                 event_created_at, next_attempt_at, next_trigger, created_at, updated_at,
                 retry_schedule)
             SELECT d, $3, w, $4, $5, $5, 'scheduled', $5, $5, r
             FROM UNNEST($1::TEXT[], $2::TEXT[], $6::TEXT[]) AS t(d, w, r)",
        )
        .bind(&delivery_ids)
        .bind(&webhook_ids)
        .bind(&event.workspace_id)
        .bind(&event.id)
        .bind(event.created_at)
        .bind(&schedules)
        .execute(&mut *conn)
        .await?;
    }
    Ok(webhook_ids.len() as u32)
}

/// Stores an operational event inside the transaction that records the state change it
/// reports; it goes to every subscribed webhook but the one it is about.
pub(super) async fn emit(
    conn: &mut PgConnection,
    operational: &OperationalEvent,
) -> StoreResult<u32> {
    let about = Some(operational.about_webhook_id.as_str());
    insert(conn, &operational.event, about).await
}

pub async fn get(
    store: &PgStore,
    workspace_id: &str,
    id: &str,
) -> StoreResult<Option<(Event, Vec<DeliverySummary>)>> {
    let row = query(concat!(
        "SELECT ",
        event_columns!(),
        " FROM events WHERE workspace_id = $1 AND id = $2 AND NOT is_test"
    ))
    .bind(workspace_id)
    .bind(id)
    .fetch_optional_on(&store.db)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let deliveries = query(
        "SELECT id, webhook_id, state, attempts, next_attempt_at FROM deliveries WHERE event_id = $1 ORDER BY seq",
    )
    .bind(id)
    .fetch_all_on(&store.db)
    .await?;
    let deliveries = deliveries
        .iter()
        .map(delivery_summary_from)
        .collect::<StoreResult<_>>()?;
    Ok(Some((event_from(&row)?, deliveries)))
}
