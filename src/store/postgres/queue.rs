//! The delivery queue on PostgreSQL. A claim locks due rows with `FOR UPDATE SKIP LOCKED` (rows
//! another process is claiming are skipped, not waited for), moves them to the lease's end and
//! commits before any HTTP call, in one statement sized to the worker's free slots. A dead
//! process's leases simply run out. Attempts are recorded in batches (`record`).

use super::PgStore;
use super::db::Db;
use super::db::{Run, query};
use super::partitions;
use super::webhooks::valid_secrets;
use crate::domain::attempt::Trigger;
use crate::domain::delivery_options::WebhookTimeout;
use crate::domain::time::Millis;
use crate::store::rows::{Columns, webhook_columns, webhook_from};
use crate::store::{ClaimOptions, Claimed, NewTestDelivery, StoreResult};
use sqlx::ConnectOptions;
use tokio_util::sync::CancellationToken;

/// The tail of a statement that puts the ended deliveries in `back` (rows deleted from
/// `finished_deliveries`) into the queue again, due at `$1` for a manual attempt and held when
/// `$2`; their lease token moves on, so an attempt of an earlier lease decides nothing.
macro_rules! requeue {
    () => {
        "INSERT INTO pending_deliveries (seq, id, workspace_id, webhook_id, event_id,
             event_created_at, attempts, next_attempt_at, next_trigger, held, lease_token,
             retry_schedule, created_at, updated_at)
         SELECT b.seq, b.id, b.workspace_id, b.webhook_id, b.event_id,
             COALESCE((SELECT e.created_at FROM events e WHERE e.id = b.event_id), b.created_at),
             b.attempts, $1, 'manual', $2, b.lease_token + 1, b.retry_schedule, b.created_at, $1
         FROM back b"
    };
}
pub(super) use requeue;

/// How often each process vacuums the queue.
const VACUUM_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Vacuums the queue every [`VACUUM_EVERY`] until `stop`, on a connection of its own (no pool
/// slot taken; no slow-statement warnings: a pass behind a busy queue may take a second or
/// more, and nothing waits for it). Every delivery leaves two dead row versions in
/// `pending_deliveries` (its claim's update and its end's delete), and claims read the queue's
/// due indexes from their oldest end, where those pile up: with autovacuum off, a soak at 1,000
/// events/s went from 4 ms to 40 s between an event and its delivery within four minutes; with
/// these passes it held 12–30 ms. The queue's live rows are only the backlog, so a pass is
/// cheap; `SKIP_LOCKED` lets another process's pass (or autovacuum's) go first.
pub(super) async fn vacuum_queue(db: Db, stop: CancellationToken) {
    // A pass that finds another one running says so in a WARNING notice: expected, not logged.
    let options = db
        .pool
        .connect_options()
        .as_ref()
        .clone()
        .options([("client_min_messages", "error")])
        .disable_statement_logging();
    let mut conn = None;
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(VACUUM_EVERY) => {}
        }
        if conn.is_none() {
            conn = options.connect().await.ok();
        }
        let Some(c) = conn.as_mut() else { continue };
        if let Err(e) = sqlx::raw_sql("VACUUM (SKIP_LOCKED) pending_deliveries")
            .execute(&mut *c)
            .await
        {
            tracing::warn!(error = %e, "vacuuming the queue failed; will try again");
            conn = None;
        }
    }
}

pub async fn release(store: &PgStore, claims: &[Claimed], now: Millis) -> StoreResult<()> {
    let ids: Vec<String> = claims.iter().map(|c| c.delivery_id.clone()).collect();
    let tokens: Vec<i64> = claims.iter().map(|c| c.lease_token).collect();
    query(
        "UPDATE pending_deliveries d SET next_attempt_at = $1, lease_owner = NULL
         FROM UNNEST($2::TEXT[], $3::BIGINT[]) AS c(id, token)
         WHERE d.id = c.id AND d.lease_token = c.token",
    )
    .bind(now)
    .bind(&ids)
    .bind(&tokens)
    .execute_on(&store.db)
    .await?;
    Ok(())
}

pub async fn release_leases(store: &PgStore, owner: Option<&str>, now: Millis) -> StoreResult<u64> {
    let done = query(
        "UPDATE pending_deliveries SET next_attempt_at = $1, lease_owner = NULL
         WHERE lease_owner IS NOT NULL AND ($2::TEXT IS NULL OR lease_owner = $2)",
    )
    .bind(now)
    .bind(owner)
    .execute_on(&store.db)
    .await?;
    Ok(done.rows_affected())
}

pub async fn next_due_at(store: &PgStore) -> StoreResult<Option<Millis>> {
    let row = query("SELECT MIN(next_attempt_at) AS due FROM pending_deliveries WHERE NOT held")
        .fetch_one_on(&store.db)
        .await?;
    row.opt_int("due")
}

pub async fn create_test_delivery(
    store: &PgStore,
    t: &NewTestDelivery,
) -> StoreResult<Option<Claimed>> {
    partitions::writing(&store.db, || create_test_delivery_once(store, t)).await
}

async fn create_test_delivery_once(
    store: &PgStore,
    t: &NewTestDelivery,
) -> StoreResult<Option<Claimed>> {
    let mut tx = store.begin().await?;
    let webhook = query(concat!(
        "SELECT ",
        webhook_columns!(),
        " FROM webhooks WHERE workspace_id = $1 AND id = $2"
    ))
    .bind(&t.workspace_id)
    .bind(&t.webhook_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(webhook) = webhook.as_ref().map(webhook_from).transpose()? else {
        return Ok(None);
    };
    query(
        "INSERT INTO events (id, workspace_id, event_type, payload, created_at, delivery_count, is_test)
         VALUES ($1, $2, $3, $4, $5, 1, TRUE)",
    )
    .bind(&t.event_id)
    .bind(&t.workspace_id)
    .bind(&t.event_type)
    .bind(&t.payload)
    .bind(t.now)
    .execute(&mut *tx)
    .await?;
    // Not queued (no `next_attempt_at`): the request that asked for it makes the one attempt.
    query(
        "INSERT INTO pending_deliveries (id, workspace_id, webhook_id, event_id, event_created_at,
             next_attempt_at, next_trigger, lease_owner, lease_token, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, NULL, 'test', 'test', 1, $5, $5)",
    )
    .bind(&t.delivery_id)
    .bind(&t.workspace_id)
    .bind(&t.webhook_id)
    .bind(&t.event_id)
    .bind(t.now)
    .execute(&mut *tx)
    .await?;
    let secrets = valid_secrets(
        &mut *tx,
        &store.sealer,
        std::slice::from_ref(&t.webhook_id),
        t.now,
    )
    .await?;
    tx.commit().await?;
    Ok(Some(Claimed {
        delivery_id: t.delivery_id.clone(),
        workspace_id: t.workspace_id.clone(),
        webhook_id: t.webhook_id.clone(),
        event_id: t.event_id.clone(),
        event_type: t.event_type.clone(),
        url: webhook.url,
        payload: t.payload.as_str().into(),
        secrets: secrets.into_iter().map(|(_, s)| s).collect(),
        trigger: Trigger::Test,
        attempts: 0,
        lease_token: 1,
        // Not leased from the queue: the request that asked for it makes the one attempt.
        lease_until: t.now,
        traceparent: None,
        webhook: ClaimOptions {
            headers: webhook.options.headers,
            timeout: webhook.options.timeout.map(WebhookTimeout::duration),
            retry_schedule: None,
        },
    }))
}
