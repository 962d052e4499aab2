//! The delivery queue on PostgreSQL. A claim locks due rows with `FOR UPDATE SKIP LOCKED` (rows
//! another process is claiming are skipped, not waited for), moves them to the lease's end and
//! commits before any HTTP call. A dead process's leases simply run out.

use std::collections::HashMap;

use super::PgStore;
use super::webhooks::valid_secrets;
use crate::domain::attempt::{DeliveryState, Outcome, Trigger};
use crate::domain::time::Millis;
use crate::store::rows::{Columns, disable_reason, webhook_columns};
use crate::store::{
    Attempt, ClaimRequest, Claimed, NewAttempt, NewTestDelivery, NextStep, StoreError, StoreResult,
};

/// How stale a webhook's "last attempt" may get while its outcomes do not change.
const HEALTH_REFRESH_MS: i64 = 1000;

pub async fn claim_due(store: &PgStore, req: &ClaimRequest) -> StoreResult<Vec<Claimed>> {
    let mut tx = store.begin().await?;
    let leased = sqlx::query(
        "UPDATE deliveries SET next_attempt_at = $1, lease_owner = $2, lease_token = lease_token + 1
         WHERE seq IN (
             SELECT seq FROM deliveries
             WHERE state = 'pending' AND NOT held AND next_attempt_at <= $3 AND NOT (webhook_id = ANY($4))
             ORDER BY next_attempt_at LIMIT $5
             FOR UPDATE SKIP LOCKED)
         RETURNING id, workspace_id, webhook_id, event_id, next_trigger, attempts, lease_token",
    )
    .bind(req.lease_until)
    .bind(&req.owner)
    .bind(req.now)
    .bind(&req.skip_webhooks)
    .bind(i64::from(req.limit))
    .fetch_all(&mut *tx)
    .await?;
    if leased.is_empty() {
        tx.commit().await?;
        return Ok(Vec::new());
    }
    let mut webhook_ids: Vec<String> = Vec::new();
    let mut event_ids: Vec<String> = Vec::new();
    for row in &leased {
        let webhook_id = row.text("webhook_id")?;
        if !webhook_ids.contains(&webhook_id) {
            webhook_ids.push(webhook_id);
        }
        event_ids.push(row.text("event_id")?);
    }
    let events: HashMap<String, (String, String, Option<String>)> =
        sqlx::query("SELECT id, event_type, payload, traceparent FROM events WHERE id = ANY($1)")
            .bind(&event_ids)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| {
                let event = (
                    r.text("event_type")?,
                    r.text("payload")?,
                    r.opt_text("traceparent")?,
                );
                Ok((r.text("id")?, event))
            })
            .collect::<StoreResult<_>>()?;
    let urls: HashMap<String, String> =
        sqlx::query("SELECT id, url FROM webhooks WHERE id = ANY($1)")
            .bind(&webhook_ids)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| Ok((r.text("id")?, r.text("url")?)))
            .collect::<StoreResult<_>>()?;
    let secrets = valid_secrets(&mut *tx, &store.sealer, &webhook_ids, req.now).await?;
    tx.commit().await?;

    let mut claimed = Vec::with_capacity(leased.len());
    for row in &leased {
        let webhook_id = row.text("webhook_id")?;
        let event_id = row.text("event_id")?;
        let (Some(url), Some((event_type, payload, traceparent))) =
            (urls.get(&webhook_id), events.get(&event_id))
        else {
            return Err(StoreError::Internal(format!(
                "delivery of {event_id} lost its webhook or event"
            )));
        };
        claimed.push(Claimed {
            delivery_id: row.text("id")?,
            workspace_id: row.text("workspace_id")?,
            event_id,
            event_type: event_type.clone(),
            url: url.clone(),
            payload: payload.clone(),
            secrets: secrets
                .iter()
                .filter(|(w, _)| *w == webhook_id)
                .map(|(_, s)| s.clone())
                .collect(),
            trigger: Trigger::parse(&row.text("next_trigger")?).unwrap_or(Trigger::Retry),
            attempts: row.int("attempts")? as u32,
            lease_token: row.int("lease_token")?,
            traceparent: traceparent.clone(),
            webhook_id,
        });
    }
    Ok(claimed)
}

pub async fn release(store: &PgStore, claims: &[Claimed], now: Millis) -> StoreResult<()> {
    let ids: Vec<String> = claims.iter().map(|c| c.delivery_id.clone()).collect();
    let tokens: Vec<i64> = claims.iter().map(|c| c.lease_token).collect();
    sqlx::query(
        "UPDATE deliveries d SET next_attempt_at = $1, lease_owner = NULL
         FROM UNNEST($2::TEXT[], $3::BIGINT[]) AS c(id, token)
         WHERE d.id = c.id AND d.lease_token = c.token AND d.state = 'pending'",
    )
    .bind(now)
    .bind(&ids)
    .bind(&tokens)
    .execute(&store.pool)
    .await?;
    Ok(())
}

pub async fn release_leases(store: &PgStore, owner: Option<&str>, now: Millis) -> StoreResult<u64> {
    let done = sqlx::query(
        "UPDATE deliveries SET next_attempt_at = $1, lease_owner = NULL
         WHERE state = 'pending' AND lease_owner IS NOT NULL AND ($2::TEXT IS NULL OR lease_owner = $2)",
    )
    .bind(now)
    .bind(owner)
    .execute(&store.pool)
    .await?;
    Ok(done.rows_affected())
}

pub async fn next_due_at(store: &PgStore) -> StoreResult<Option<Millis>> {
    let row = sqlx::query(
        "SELECT MIN(next_attempt_at) AS due FROM deliveries WHERE state = 'pending' AND NOT held",
    )
    .fetch_one(&store.pool)
    .await?;
    row.opt_int("due")
}

pub async fn record_attempt(store: &PgStore, a: &NewAttempt) -> StoreResult<Attempt> {
    let claim = &a.claim;
    let (state, next) = match a.next {
        NextStep::Succeeded => (DeliveryState::Succeeded, None),
        NextStep::Failed => (DeliveryState::Failed, None),
        NextStep::RetryAt(at) => (DeliveryState::Pending, Some(at)),
    };
    let mut tx = store.begin().await?;
    // Only the current lease holder moves the delivery on; a late attempt (its lease expired and
    // someone else claimed it) is still recorded, but does not overwrite the newer decision.
    let moved_on = sqlx::query(
        "UPDATE deliveries SET attempts = attempts + 1, state = $1, next_attempt_at = $2,
             next_trigger = 'retry', lease_owner = NULL, updated_at = $3
         WHERE id = $4 AND lease_token = $5 AND state = 'pending' RETURNING attempts",
    )
    .bind(state.as_str())
    .bind(next)
    .bind(a.started_at + a.duration_ms)
    .bind(&claim.delivery_id)
    .bind(claim.lease_token)
    .fetch_optional(&mut *tx)
    .await?;
    let (attempt_no, next_attempt_at) = match moved_on {
        Some(row) => (row.int("attempts")?, next),
        None => {
            let row = sqlx::query(
                "UPDATE deliveries SET attempts = attempts + 1 WHERE id = $1 RETURNING attempts",
            )
            .bind(&claim.delivery_id)
            .fetch_one(&mut *tx)
            .await?;
            (row.int("attempts")?, None)
        }
    };

    let (response, truncated) = match &a.outcome {
        Outcome::Responded {
            body, truncated, ..
        } => (body.as_str(), *truncated),
        Outcome::Failed(_) => ("", false),
    };
    let succeeded = a.outcome.is_success();
    let error = a.outcome.error().map(|e| e.as_str());
    // One statement records the attempt and the webhook's health. The health is rewritten only
    // when the outcome differs from the last one or is over a second old: an UPDATE of the
    // webhook's row in every attempt's transaction made all attempts to one webhook wait for
    // each other's commit (row lock).
    let failing_since = sqlx::query(
        "WITH recorded AS (
             INSERT INTO attempts (id, workspace_id, webhook_id, delivery_id, event_id, event_type,
                 attempt, trigger, timestamp, http_status, error, succeeded, duration_ms, response,
                 response_truncated, next_attempt_at)
             VALUES ($6, $7, $5, $8, $9, $10, $11, $12, $4, $1, $2, $3, $13, $14, $15, $16)),
         changed AS (
             UPDATE webhooks SET last_status = $1, last_error = $2, last_succeeded = $3,
                 last_attempt_at = $4,
                 last_success_at = CASE WHEN $3 THEN $4 ELSE last_success_at END,
                 failing_since = CASE WHEN $3 THEN NULL ELSE COALESCE(failing_since, $4) END
             WHERE id = $5 AND (last_succeeded IS DISTINCT FROM $3 OR last_status IS DISTINCT FROM $1
                 OR last_error IS DISTINCT FROM $2 OR last_attempt_at IS NULL
                 OR last_attempt_at < $4 - $17)
             RETURNING failing_since)
         SELECT failing_since FROM changed
         UNION ALL
         SELECT failing_since FROM webhooks WHERE id = $5 AND NOT EXISTS (SELECT 1 FROM changed)",
    )
    .bind(a.outcome.http_status().map(i64::from))
    .bind(error)
    .bind(succeeded)
    .bind(a.started_at)
    .bind(&claim.webhook_id)
    .bind(&a.id)
    .bind(&claim.workspace_id)
    .bind(&claim.delivery_id)
    .bind(&claim.event_id)
    .bind(&claim.event_type)
    .bind(attempt_no)
    .bind(claim.trigger.as_str())
    .bind(a.duration_ms)
    .bind(response)
    .bind(truncated)
    .bind(next_attempt_at)
    .bind(HEALTH_REFRESH_MS)
    .fetch_optional(&mut *tx)
    .await?
    .map(|row| row.opt_int("failing_since"))
    .transpose()?
    .flatten();
    if let Some(reason) = disable_reason(&a.outcome, failing_since, a.disable_if_failing_since) {
        sqlx::query("UPDATE webhooks SET enabled = FALSE, disabled_reason = $1, updated_at = $2 WHERE id = $3 AND enabled")
            .bind(reason.as_str())
            .bind(a.started_at)
            .bind(&claim.webhook_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE deliveries SET held = TRUE WHERE webhook_id = $1 AND state = 'pending'",
        )
        .bind(&claim.webhook_id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;

    Ok(Attempt {
        id: a.id.clone(),
        webhook_id: claim.webhook_id.clone(),
        delivery_id: claim.delivery_id.clone(),
        event_id: claim.event_id.clone(),
        event_type: claim.event_type.clone(),
        attempt: attempt_no as u32,
        trigger: claim.trigger,
        timestamp: a.started_at,
        http_status: a.outcome.http_status(),
        error: error.map(str::to_string),
        duration_ms: a.duration_ms,
        payload: claim.payload.clone(),
        response: response.to_string(),
        response_truncated: truncated,
        next_attempt_at,
    })
}

pub async fn create_test_delivery(
    store: &PgStore,
    t: &NewTestDelivery,
) -> StoreResult<Option<Claimed>> {
    let mut tx = store.begin().await?;
    let webhook = sqlx::query(concat!(
        "SELECT ",
        webhook_columns!(),
        " FROM webhooks WHERE workspace_id = $1 AND id = $2"
    ))
    .bind(&t.workspace_id)
    .bind(&t.webhook_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(webhook) = webhook else {
        return Ok(None);
    };
    sqlx::query(
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
    sqlx::query(
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
        url: webhook.text("url")?,
        payload: t.payload.clone(),
        secrets: secrets.into_iter().map(|(_, s)| s).collect(),
        trigger: Trigger::Test,
        attempts: 0,
        lease_token: 1,
        traceparent: None,
    }))
}
