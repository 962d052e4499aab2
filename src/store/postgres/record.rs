//! Recording attempts on PostgreSQL, a batch at a time (see `batch`). One statement moves every
//! delivery on (only the current lease holder's attempt decides; a late one is counted but does
//! not overwrite the newer decision): a retry stays in the queue with its next due time, an end
//! leaves the queue and is written once into the history (`finished_deliveries`). It inserts every attempt with its number, and refreshes each
//! webhook's last-attempt summary and tallies the attempts in the statistics rollups
//! (`domain::stats`); a second statement, in the same transaction, disables the
//! webhooks that an attempt says must be disabled, and the operational events of what changed
//! (`WebhookDisabled`, `DeliveryExhausted`) are stored with their deliveries before the commit.
//! What to write comes from each attempt's plan (`domain::after_attempt`); nothing is decided
//! here. Batches whose plans can neither disable nor exhaust anything skip the explicit
//! transaction (the one statement is atomic by itself).

use super::db::query;
use std::collections::HashMap;

use async_trait::async_trait;
use sqlx::PgConnection;

use super::batch::BatchJob;
use super::db::Db;
use crate::domain::attempt::Outcome;
use crate::domain::webhook::DisabledReason;
use crate::store::operational::OperationalEvent;
use crate::store::rows::Columns;
use crate::store::{Attempt, NewAttempt, StoreError, StoreResult};

/// How stale a webhook's "last attempt" may get while its outcomes do not change. Rewriting the
/// webhook's row on every attempt made all attempts to one webhook wait on its row lock.
const HEALTH_REFRESH_MS: i64 = 1000;

pub(super) struct Record(pub NewAttempt);

#[async_trait]
impl BatchJob for Record {
    type Output = StoreResult<Attempt>;

    async fn write(db: &Db, jobs: &[Self]) -> StoreResult<Vec<Self::Output>> {
        if !jobs.iter().any(|j| j.0.plan.may_emit()) {
            let mut session = db.session().await?;
            let recorded = record_all(session.conn(), jobs).await?;
            session.finish().await?;
            return Ok(recorded);
        }
        let mut tx = db.begin().await?;
        let recorded = record_all(&mut tx, jobs).await?;
        tx.commit().await?;
        Ok(recorded)
    }

    fn key(&self) -> Option<&str> {
        Some(&self.0.claim.delivery_id)
    }
}

fn response_of(outcome: &Outcome) -> (&str, bool) {
    match outcome {
        Outcome::Responded {
            body, truncated, ..
        } => (body.as_str(), *truncated),
        Outcome::Failed(_) => ("", false),
    }
}

const RECORD: &str = "
WITH a AS (
    SELECT * FROM UNNEST($1::TEXT[], $2::TEXT[], $3::BIGINT[], $4::TEXT[], $5::BIGINT[],
        $6::BIGINT[], $7::TEXT[], $8::TEXT[], $9::TEXT[], $10::TEXT[], $11::TEXT[], $12::BIGINT[],
        $13::BIGINT[], $14::TEXT[], $15::BOOL[], $16::TEXT[], $17::BOOL[])
    AS a(id, delivery_id, token, state, next_at, started_at, workspace_id, webhook_id, event_id,
         event_type, trigger, http_status, duration_ms, error, succeeded, response, truncated)),
retried AS (
    UPDATE pending_deliveries d SET attempts = d.attempts + 1, next_attempt_at = a.next_at,
        next_trigger = 'retry', lease_owner = NULL, updated_at = a.started_at + a.duration_ms
    FROM a WHERE d.id = a.delivery_id AND d.lease_token = a.token AND a.state = 'pending'
    RETURNING d.id, d.attempts),
ended AS (
    DELETE FROM pending_deliveries d USING a
    WHERE d.id = a.delivery_id AND d.lease_token = a.token AND a.state <> 'pending'
    RETURNING d.*, a.state AS end_state, a.started_at + a.duration_ms AS ended_at),
finished AS (
    INSERT INTO finished_deliveries (seq, id, workspace_id, webhook_id, event_id, state,
        attempts, lease_token, created_at, updated_at, retry_schedule)
    SELECT seq, id, workspace_id, webhook_id, event_id, end_state, attempts + 1, lease_token,
        created_at, ended_at, retry_schedule
    FROM ended
    RETURNING id, attempts),
moved AS (SELECT id, attempts FROM retried UNION ALL SELECT id, attempts FROM finished),
-- An attempt whose lease ran out (another attempt holds the delivery now, or ended it) is
-- counted, and decides nothing.
late_pending AS (
    UPDATE pending_deliveries d SET attempts = d.attempts + 1
    FROM a WHERE d.id = a.delivery_id AND d.lease_token <> a.token
    RETURNING d.id, d.attempts),
late_finished AS (
    UPDATE finished_deliveries d SET attempts = d.attempts + 1
    FROM a WHERE d.id = a.delivery_id
        AND NOT EXISTS (SELECT 1 FROM pending_deliveries p WHERE p.id = a.delivery_id)
    RETURNING d.id, d.attempts),
late AS (SELECT id, attempts FROM late_pending UNION ALL SELECT id, attempts FROM late_finished),
numbered AS (
    SELECT id, attempts, TRUE AS moved FROM moved
    UNION ALL SELECT id, attempts, FALSE FROM late),
recorded AS (
    INSERT INTO attempts (id, workspace_id, webhook_id, delivery_id, event_id, event_type, attempt,
        trigger, timestamp, http_status, error, succeeded, duration_ms, response,
        response_truncated, next_attempt_at)
    SELECT a.id, a.workspace_id, a.webhook_id, a.delivery_id, a.event_id, a.event_type,
        n.attempts, a.trigger, a.started_at, a.http_status, a.error, a.succeeded, a.duration_ms,
        a.response, a.truncated, CASE WHEN n.moved THEN a.next_at END
    FROM a JOIN numbered n ON n.id = a.delivery_id),
tallied AS (
    INSERT INTO attempt_stats (webhook_id, span, bucket_start, outcome, workspace_id, attempts)
    SELECT a.webhook_id, s.span, a.started_at - a.started_at % s.len,
        COALESCE(a.http_status::TEXT, a.error, 'unknown'), a.workspace_id, COUNT(*)
    FROM a JOIN numbered n ON n.id = a.delivery_id
        CROSS JOIN (VALUES ('m', 60000::BIGINT), ('h', 3600000::BIGINT)) AS s(span, len)
    GROUP BY 1, 2, 3, 4, 5
    -- One order for every batch, so two processes' batches lock shared rows alike.
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (webhook_id, span, bucket_start, outcome)
    DO UPDATE SET attempts = attempt_stats.attempts + EXCLUDED.attempts),
h AS (
    SELECT * FROM UNNEST($18::TEXT[], $19::BIGINT[], $20::TEXT[], $21::BOOL[], $22::BIGINT[],
        $23::BIGINT[], $24::BIGINT[], $25::BOOL[])
    AS h(webhook_id, status, error, succeeded, at, success_at, failure_from, mixed)),
changed AS (
    UPDATE webhooks w SET last_status = h.status, last_error = h.error,
        last_succeeded = h.succeeded, last_attempt_at = h.at,
        last_success_at = COALESCE(h.success_at, w.last_success_at),
        failing_since = CASE WHEN h.succeeded THEN NULL
                             WHEN h.success_at IS NOT NULL THEN h.failure_from
                             ELSE COALESCE(w.failing_since, h.failure_from) END
    FROM h WHERE w.id = h.webhook_id
        AND (h.mixed OR w.last_succeeded IS DISTINCT FROM h.succeeded
             OR w.last_status IS DISTINCT FROM h.status OR w.last_error IS DISTINCT FROM h.error
             OR w.last_attempt_at IS NULL OR w.last_attempt_at < h.at - $26)
    RETURNING w.id, w.failing_since)
SELECT 'delivery' AS kind, id, attempts AS value, moved FROM numbered
UNION ALL SELECT 'webhook', id, failing_since, NULL::BOOL FROM changed
UNION ALL SELECT 'webhook', w.id, w.failing_since, NULL::BOOL
    FROM webhooks w JOIN h ON h.webhook_id = w.id
    WHERE NOT EXISTS (SELECT 1 FROM changed c WHERE c.id = w.id)";

/// A webhook's summary after this batch's attempts to it, taken in the order they were recorded.
#[derive(Default)]
struct Health {
    status: Option<i64>,
    error: Option<String>,
    succeeded: bool,
    at: i64,
    /// The start of the batch's last success, if it had one.
    success_at: Option<i64>,
    /// The start of the first failure after that success (or of the first failure at all).
    failure_from: Option<i64>,
    /// Whether the batch holds outcomes other than its last: the summary is then rewritten.
    mixed: bool,
}

fn health_by_webhook(jobs: &[&Record]) -> Vec<(String, Health)> {
    let mut order: Vec<String> = Vec::new();
    let mut health: HashMap<String, Health> = HashMap::new();
    for Record(a) in jobs.iter().copied() {
        let id = &a.claim.webhook_id;
        let planned = &a.plan.health;
        let status = planned.status.map(i64::from);
        let error = planned.error.map(|e| e.as_str().to_string());
        let succeeded = planned.succeeded;
        let h = health.entry(id.clone()).or_insert_with(|| {
            order.push(id.clone());
            Health::default()
        });
        if h.at != 0 && (h.status, &h.error, h.succeeded) != (status, &error, succeeded) {
            h.mixed = true;
        }
        if succeeded {
            h.success_at = Some(planned.at);
            h.failure_from = None;
        } else if h.failure_from.is_none() {
            h.failure_from = Some(planned.at);
        }
        (h.status, h.error, h.succeeded, h.at) = (status, error, succeeded, planned.at);
    }
    // A stable order of webhook rows makes concurrent batches lock them in the same order.
    order.sort();
    order
        .into_iter()
        .map(|id| {
            let h = health.remove(&id).unwrap_or_default();
            (id, h)
        })
        .collect()
}

/// Attempt numbers (and whether the lease holder moved the delivery on) by delivery id, and
/// each webhook's `failing_since` after the batch.
type Recorded = (HashMap<String, (i64, bool)>, HashMap<String, Option<i64>>);

/// Runs [`RECORD`] for `jobs`, the statement that does a batch's work.
async fn run_record(conn: &mut PgConnection, jobs: &[&Record]) -> StoreResult<Recorded> {
    let mut cols = AttemptColumns::default();
    for Record(a) in jobs.iter().copied() {
        cols.push(a);
    }
    let health = health_by_webhook(jobs);
    let h = |f: fn(&Health) -> Option<i64>| health.iter().map(|(_, h)| f(h)).collect::<Vec<_>>();
    let rows = cols
        .bind(query(RECORD))
        .bind(health.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>())
        .bind(h(|h| h.status))
        .bind(
            health
                .iter()
                .map(|(_, h)| h.error.clone())
                .collect::<Vec<_>>(),
        )
        .bind(health.iter().map(|(_, h)| h.succeeded).collect::<Vec<_>>())
        .bind(h(|h| Some(h.at)))
        .bind(h(|h| h.success_at))
        .bind(h(|h| h.failure_from))
        .bind(health.iter().map(|(_, h)| h.mixed).collect::<Vec<_>>())
        .bind(HEALTH_REFRESH_MS)
        .fetch_all(&mut *conn)
        .await?;
    let mut numbers = HashMap::with_capacity(jobs.len());
    let mut failing_since = HashMap::new();
    for row in &rows {
        let id = row.text("id")?;
        if row.text("kind")? == "delivery" {
            let moved = row.opt_flag("moved")?.unwrap_or(false);
            numbers.insert(id, (row.int("value")?, moved));
        } else {
            failing_since.insert(id, row.opt_int("value")?);
        }
    }
    Ok((numbers, failing_since))
}

async fn record_all(
    conn: &mut PgConnection,
    jobs: &[Record],
) -> StoreResult<Vec<StoreResult<Attempt>>> {
    let all: Vec<&Record> = jobs.iter().collect();
    let (mut numbers, mut failing_since) = run_record(conn, &all).await?;
    // A delivery that another process claimed while this statement ran matches neither of its
    // UPDATEs (both judge the row as it was when the statement began). A second statement sees
    // the new row and counts the attempt as late; only a delivery that is gone stays unnumbered.
    let missed: Vec<&Record> = all
        .into_iter()
        .filter(|j| !numbers.contains_key(&j.0.claim.delivery_id))
        .collect();
    if !missed.is_empty() {
        let (late, health) = run_record(conn, &missed).await?;
        numbers.extend(late);
        failing_since.extend(health);
    }
    let disabled = disable_where_due(conn, jobs, &failing_since).await?;
    let exhausted = jobs.iter().filter_map(|Record(a)| {
        let (number, moved) = numbers.get(&a.claim.delivery_id).copied()?;
        a.plan
            .exhausted(moved)
            .then(|| OperationalEvent::delivery_exhausted(a, number))
    });
    let mut queued = 0;
    for operational in disabled.into_iter().chain(exhausted) {
        queued += super::events::emit(conn, &operational).await?;
    }
    if queued > 0 {
        super::notify_wake(conn).await?;
    }

    Ok(jobs
        .iter()
        .map(|Record(a)| {
            let (number, moved) = numbers.get(&a.claim.delivery_id).copied().ok_or_else(|| {
                StoreError::internal(format!("delivery {} is gone", a.claim.delivery_id))
            })?;
            let next_attempt_at = if moved { a.plan.next.state().1 } else { None };
            Ok(attempt_of(a, number, next_attempt_at))
        })
        .collect())
}

/// Disables each webhook that one of its attempts in the batch says must go (410, or failing
/// for too long), and holds its pending deliveries. Returns a `WebhookDisabled` event for each
/// webhook this disabled (one still enabled when the statement ran).
async fn disable_where_due(
    conn: &mut PgConnection,
    jobs: &[Record],
    failing_since: &HashMap<String, Option<i64>>,
) -> StoreResult<Vec<OperationalEvent>> {
    let mut ids: Vec<String> = Vec::new();
    let mut reasons: Vec<&str> = Vec::new();
    let mut times: Vec<i64> = Vec::new();
    for Record(a) in jobs {
        let since = failing_since.get(&a.claim.webhook_id).copied().flatten();
        if let Some(reason) = a.plan.disable_reason(since)
            && !ids.contains(&a.claim.webhook_id)
        {
            ids.push(a.claim.webhook_id.clone());
            reasons.push(reason.as_str());
            times.push(a.ended_at());
        }
    }
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = query(
        "WITH off AS (
             UPDATE webhooks w SET enabled = FALSE, disabled_reason = r.reason,
                 disabled_at = r.at, updated_at = r.at
             FROM UNNEST($1::TEXT[], $2::TEXT[], $3::BIGINT[]) AS r(id, reason, at)
             WHERE w.id = r.id AND w.enabled
             RETURNING w.id, w.workspace_id, w.url, r.reason, r.at),
         held AS (
             UPDATE pending_deliveries SET held = TRUE WHERE webhook_id = ANY($1))
         SELECT id, workspace_id, url, reason, at FROM off",
    )
    .bind(&ids)
    .bind(&reasons)
    .bind(&times)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            let reason = row.text("reason")?;
            let reason = DisabledReason::parse(&reason)
                .ok_or_else(|| StoreError::internal(format!("bad reason {reason:?}")))?;
            Ok(OperationalEvent::webhook_disabled(
                &row.text("workspace_id")?,
                &row.text("id")?,
                &row.text("url")?,
                reason,
                row.int("at")?,
            ))
        })
        .collect()
}

fn attempt_of(a: &NewAttempt, number: i64, next_attempt_at: Option<i64>) -> Attempt {
    let claim = &a.claim;
    let (response, truncated) = response_of(&a.outcome);
    Attempt {
        id: a.id.clone(),
        webhook_id: claim.webhook_id.clone(),
        delivery_id: claim.delivery_id.clone(),
        event_id: claim.event_id.clone(),
        event_type: claim.event_type.clone(),
        attempt: number as u32,
        trigger: claim.trigger,
        timestamp: a.started_at,
        http_status: a.outcome.http_status(),
        error: a.outcome.error().map(|e| e.as_str().to_string()),
        duration_ms: a.duration_ms,
        payload: claim.payload.clone(),
        response: response.to_string(),
        response_truncated: truncated,
        next_attempt_at,
    }
}

/// The batch's attempts as one array per column, bound as `$1` to `$17` of [`RECORD`].
#[derive(Default)]
struct AttemptColumns {
    id: Vec<String>,
    delivery_id: Vec<String>,
    token: Vec<i64>,
    state: Vec<&'static str>,
    next_at: Vec<Option<i64>>,
    started_at: Vec<i64>,
    workspace_id: Vec<String>,
    webhook_id: Vec<String>,
    event_id: Vec<String>,
    event_type: Vec<String>,
    trigger: Vec<&'static str>,
    http_status: Vec<Option<i64>>,
    duration_ms: Vec<i64>,
    error: Vec<Option<&'static str>>,
    succeeded: Vec<bool>,
    response: Vec<String>,
    truncated: Vec<bool>,
}

impl AttemptColumns {
    fn push(&mut self, a: &NewAttempt) {
        let (state, next_at) = a.plan.next.state();
        let (response, truncated) = response_of(&a.outcome);
        self.id.push(a.id.clone());
        self.delivery_id.push(a.claim.delivery_id.clone());
        self.token.push(a.claim.lease_token);
        self.state.push(state.as_str());
        self.next_at.push(next_at);
        self.started_at.push(a.started_at);
        self.workspace_id.push(a.claim.workspace_id.clone());
        self.webhook_id.push(a.claim.webhook_id.clone());
        self.event_id.push(a.claim.event_id.clone());
        self.event_type.push(a.claim.event_type.clone());
        self.trigger.push(a.claim.trigger.as_str());
        self.http_status
            .push(a.outcome.http_status().map(i64::from));
        self.duration_ms.push(a.duration_ms);
        self.error.push(a.outcome.error().map(|e| e.as_str()));
        self.succeeded.push(a.outcome.is_success());
        self.response.push(response.to_string());
        self.truncated.push(truncated);
    }

    fn bind<'q>(
        self,
        query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    ) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
        query
            .bind(self.id)
            .bind(self.delivery_id)
            .bind(self.token)
            .bind(self.state)
            .bind(self.next_at)
            .bind(self.started_at)
            .bind(self.workspace_id)
            .bind(self.webhook_id)
            .bind(self.event_id)
            .bind(self.event_type)
            .bind(self.trigger)
            .bind(self.http_status)
            .bind(self.duration_ms)
            .bind(self.error)
            .bind(self.succeeded)
            .bind(self.response)
            .bind(self.truncated)
    }
}
