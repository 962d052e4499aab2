//! The delivery queue on PostgreSQL. A claim locks due rows with `FOR UPDATE SKIP LOCKED` (rows
//! another process is claiming are skipped, not waited for), moves them to the lease's end and
//! commits before any HTTP call, in one statement sized to the worker's free slots. A dead
//! process's leases simply run out. Attempts are recorded in batches (`record`).

use super::PgStore;
use super::db::{Run, query};
use super::webhooks::valid_secrets;
use crate::domain::attempt::Trigger;
use crate::domain::delivery_options::WebhookTimeout;
use crate::domain::time::Millis;
use crate::store::restricted::Restricted;
use crate::store::rows::{Columns, claim_options_from, webhook_columns, webhook_from};
use crate::store::{ClaimOptions, ClaimRequest, Claimed, NewTestDelivery, StoreError, StoreResult};

/// What a lease sets: the owner, a new token, and the lease's end (longer by as much as the
/// webhook's own timeout exceeds the default, so a live attempt never outlasts its lease); and
/// what the claim reads back with the leased rows.
macro_rules! lease_and_read {
    ($picked:literal) => {
        concat!(
            "WITH picked AS (",
            $picked,
            "), leased AS (
                 UPDATE deliveries d SET lease_owner = $2, lease_token = d.lease_token + 1,
                     next_attempt_at = $1 + GREATEST(COALESCE(picked.timeout_ms, 0) - $3, 0)
                 FROM picked WHERE d.seq = picked.seq
                 RETURNING d.seq, d.id, d.workspace_id, d.webhook_id, d.event_id, d.next_trigger,
                     d.attempts, d.lease_token, d.retry_schedule, d.next_attempt_at AS lease_until)
             SELECT l.*, e.event_type, e.payload, e.traceparent, w.url, w.headers, w.timeout_ms
             FROM leased l LEFT JOIN events e ON e.id = l.event_id
                 LEFT JOIN webhooks w ON w.id = l.webhook_id
             ORDER BY l.seq"
        )
    };
}

/// Leases due deliveries: first those of the ordered and rate-limited webhooks, each within
/// what it allows now (see `store::restricted`), then any other due ones, in one statement that
/// skips rows other processes are claiming.
pub async fn claim_due(store: &PgStore, req: &ClaimRequest) -> StoreResult<Vec<Claimed>> {
    let mut leased = Vec::new();
    if store.restricted.any(&store.db).await? {
        leased = claim_restricted(store, req).await?;
    }
    let room = i64::from(req.limit) - leased.len() as i64;
    if room > 0 {
        // Deliveries of restricted webhooks are never taken here, whatever the cache said.
        let regular = query(lease_and_read!(
            "SELECT d.seq, w.timeout_ms FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id
             WHERE d.state = 'pending' AND NOT d.held AND d.next_attempt_at <= $4
                 AND NOT (d.webhook_id = ANY($5))
                 AND NOT w.ordered AND w.rate_limit IS NULL
             ORDER BY d.next_attempt_at LIMIT $6
             FOR UPDATE OF d SKIP LOCKED"
        ))
        .bind(req.lease_until)
        .bind(&req.owner)
        .bind(req.default_timeout)
        .bind(req.now)
        .bind(&req.skip_webhooks)
        .bind(room)
        .fetch_all_on(&store.db)
        .await?;
        leased.extend(regular);
    }
    if leased.is_empty() {
        return Ok(Vec::new());
    }
    let mut webhook_ids: Vec<String> = Vec::new();
    for row in &leased {
        let webhook_id = row.text("webhook_id")?;
        if !webhook_ids.contains(&webhook_id) {
            webhook_ids.push(webhook_id);
        }
    }
    let mut session = store.db.session().await?;
    let secrets = valid_secrets(session.conn(), &store.sealer, &webhook_ids, req.now).await?;
    session.finish().await?;

    let mut claimed = Vec::with_capacity(leased.len());
    for row in &leased {
        let webhook_id = row.text("webhook_id")?;
        let event_id = row.text("event_id")?;
        let (Some(url), Some(event_type), Some(payload)) = (
            row.opt_text("url")?,
            row.opt_text("event_type")?,
            row.opt_text("payload")?,
        ) else {
            return Err(StoreError::Internal(format!(
                "delivery of {event_id} lost its webhook or event"
            )));
        };
        claimed.push(Claimed {
            delivery_id: row.text("id")?,
            workspace_id: row.text("workspace_id")?,
            event_id,
            event_type,
            url,
            payload,
            secrets: secrets
                .iter()
                .filter(|(w, _)| *w == webhook_id)
                .map(|(_, s)| s.clone())
                .collect(),
            trigger: Trigger::parse(&row.text("next_trigger")?).unwrap_or(Trigger::Retry),
            attempts: row.int("attempts")? as u32,
            lease_token: row.int("lease_token")?,
            lease_until: row.int("lease_until")?,
            traceparent: row.opt_text("traceparent")?,
            webhook: claim_options_from(row)?,
            webhook_id,
        });
    }
    Ok(claimed)
}

/// Leases what the ordered and rate-limited webhooks allow now, in one transaction that holds
/// their rows (`FOR UPDATE SKIP LOCKED`: a webhook another process is claiming for is left to
/// it), so two processes never together exceed a rate nor both start an ordered delivery.
async fn claim_restricted(
    store: &PgStore,
    req: &ClaimRequest,
) -> StoreResult<Vec<sqlx::postgres::PgRow>> {
    let mut tx = store.begin().await?;
    let webhooks = query(
        "SELECT id, ordered, rate_limit, rate_window_start, rate_window_count FROM webhooks
         WHERE (ordered OR rate_limit IS NOT NULL) AND NOT (id = ANY($1))
         ORDER BY id FOR UPDATE SKIP LOCKED",
    )
    .bind(&req.skip_webhooks)
    .fetch_all(&mut *tx)
    .await?;
    let mut leased = Vec::new();
    for row in &webhooks {
        let webhook = Restricted::from_row(row)?;
        let allowed = webhook
            .allowance(req.now)
            .min(i64::from(req.limit) - leased.len() as i64);
        if allowed <= 0 {
            continue;
        }
        let seqs: Vec<i64> = if webhook.ordered {
            // Only the oldest pending delivery, once it is due: while it is in flight (its
            // lease is in the future) or waits for a retry, the ones behind it wait too.
            let head = query(
                "SELECT seq, next_attempt_at FROM deliveries
                 WHERE webhook_id = $1 AND state = 'pending' AND NOT held
                   AND next_attempt_at IS NOT NULL
                 ORDER BY seq LIMIT 1",
            )
            .bind(&webhook.id)
            .fetch_optional(&mut *tx)
            .await?;
            match head {
                Some(head) if head.int("next_attempt_at")? <= req.now => vec![head.int("seq")?],
                _ => Vec::new(),
            }
        } else {
            query(
                "SELECT seq FROM deliveries
                 WHERE webhook_id = $1 AND state = 'pending' AND NOT held AND next_attempt_at <= $2
                 ORDER BY next_attempt_at LIMIT $3",
            )
            .bind(&webhook.id)
            .bind(req.now)
            .bind(allowed)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.int("seq"))
            .collect::<StoreResult<_>>()?
        };
        if seqs.is_empty() {
            continue;
        }
        let taken = query(lease_and_read!(
            "SELECT d.seq, w.timeout_ms FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id
             WHERE d.seq = ANY($4) AND d.state = 'pending'"
        ))
        .bind(req.lease_until)
        .bind(&req.owner)
        .bind(req.default_timeout)
        .bind(&seqs)
        .fetch_all(&mut *tx)
        .await?;
        if webhook.rate_limit.is_some() {
            let (start, count) = webhook.window_after(req.now, taken.len() as i64);
            query(
                "UPDATE webhooks SET rate_window_start = $1, rate_window_count = $2 WHERE id = $3",
            )
            .bind(start)
            .bind(count)
            .bind(&webhook.id)
            .execute(&mut *tx)
            .await?;
        }
        leased.extend(taken);
    }
    tx.commit().await?;
    Ok(leased)
}

pub async fn release(store: &PgStore, claims: &[Claimed], now: Millis) -> StoreResult<()> {
    let ids: Vec<String> = claims.iter().map(|c| c.delivery_id.clone()).collect();
    let tokens: Vec<i64> = claims.iter().map(|c| c.lease_token).collect();
    query(
        "UPDATE deliveries d SET next_attempt_at = $1, lease_owner = NULL
         FROM UNNEST($2::TEXT[], $3::BIGINT[]) AS c(id, token)
         WHERE d.id = c.id AND d.lease_token = c.token AND d.state = 'pending'",
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
        "UPDATE deliveries SET next_attempt_at = $1, lease_owner = NULL
         WHERE state = 'pending' AND lease_owner IS NOT NULL AND ($2::TEXT IS NULL OR lease_owner = $2)",
    )
    .bind(now)
    .bind(owner)
    .execute_on(&store.db)
    .await?;
    Ok(done.rows_affected())
}

pub async fn next_due_at(store: &PgStore) -> StoreResult<Option<Millis>> {
    let row = query(
        "SELECT MIN(next_attempt_at) AS due FROM deliveries WHERE state = 'pending' AND NOT held",
    )
    .fetch_one_on(&store.db)
    .await?;
    row.opt_int("due")
}

pub async fn create_test_delivery(
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
        "INSERT INTO deliveries (id, workspace_id, webhook_id, event_id, state, next_attempt_at, next_trigger,
             lease_owner, lease_token, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 'pending', NULL, 'test', 'test', 1, $5, $5)",
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
        payload: t.payload.clone(),
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

/// How long this process trusts its answer to "is any webhook ordered or rate-limited?". Another
/// process's change is seen within this time; until then its restricted deliveries just wait
/// (the regular claim never takes them).
const RESTRICTED_TTL: std::time::Duration = std::time::Duration::from_millis(500);

/// Whether any webhook is ordered or rate-limited: usually none, and then a claim is one
/// statement as before.
#[derive(Default)]
pub struct RestrictedCache(std::sync::Mutex<Option<(std::time::Instant, bool)>>);

impl RestrictedCache {
    pub async fn any(&self, db: &super::db::Db) -> StoreResult<bool> {
        if let Some((at, any)) = *self.lock()
            && at.elapsed() < RESTRICTED_TTL
        {
            return Ok(any);
        }
        let any = query(
            "SELECT EXISTS (SELECT 1 FROM webhooks WHERE ordered OR rate_limit IS NOT NULL) AS any",
        )
        .fetch_one_on(db)
        .await?
        .flag("any")?;
        *self.lock() = Some((std::time::Instant::now(), any));
        Ok(any)
    }

    /// Called when this process changes a webhook, so its own change applies at once.
    pub fn forget(&self) {
        *self.lock() = None;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(std::time::Instant, bool)>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}
