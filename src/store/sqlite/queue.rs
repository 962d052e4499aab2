//! The delivery queue after a claim (see `claim`): recording an attempt and moving its delivery
//! on, giving leases back, and the one-attempt deliveries of test sends.

use rusqlite::{Connection, OptionalExtension, params};

use super::webhooks::valid_secrets;
use crate::domain::attempt::{Outcome, Trigger};
use crate::domain::delivery_options::WebhookTimeout;
use crate::domain::sealing::Sealer;
use crate::domain::time::Millis;
use crate::domain::webhook::DisabledReason;
use crate::store::operational::OperationalEvent;
use crate::store::{Attempt, ClaimOptions, Claimed, NewAttempt, NewTestDelivery, StoreResult};

/// How stale a webhook's "last attempt" may get while its outcomes do not change.
const HEALTH_REFRESH_MS: i64 = 1000;

/// Gives leased deliveries back, due at `now`, inside the writer's transaction.
pub fn release(conn: &Connection, leases: &[(String, i64)], now: Millis) -> StoreResult<()> {
    let mut release = conn.prepare_cached(
        "UPDATE deliveries SET next_attempt_at = ?1, lease_owner = NULL
         WHERE id = ?2 AND lease_token = ?3 AND state = 'pending'",
    )?;
    for (delivery_id, lease_token) in leases {
        release.execute(params![now, delivery_id, lease_token])?;
    }
    Ok(())
}

/// Gives back the leases of `owner` (all leases when `None`), due at `now`.
pub fn release_leases(conn: &Connection, owner: Option<&str>, now: Millis) -> StoreResult<u64> {
    let released = conn
        .prepare_cached(
            "UPDATE deliveries SET next_attempt_at = ?1, lease_owner = NULL
             WHERE state = 'pending' AND lease_owner IS NOT NULL
               AND (?2 IS NULL OR lease_owner = ?2)",
        )?
        .execute(params![now, owner])?;
    Ok(released as u64)
}

pub fn next_due_at(conn: &Connection) -> StoreResult<Option<Millis>> {
    Ok(conn
        .prepare_cached(
            "SELECT MIN(next_attempt_at) FROM deliveries WHERE state = 'pending' AND held = 0",
        )?
        .query_row([], |r| r.get(0))?)
}

/// Records one attempt inside the writer's transaction and executes its plan (see
/// `domain::after_attempt`): moves its delivery on, updates its webhook's health, disables the
/// webhook and stores the operational events when the plan says so.
pub fn record(conn: &Connection, a: &NewAttempt) -> StoreResult<Attempt> {
    let claim = &a.claim;
    let plan = &a.plan;
    let (state, next) = plan.next.state();
    // Only the current lease holder moves the delivery on; a late attempt (its lease expired and
    // someone else claimed it) is still recorded, but does not overwrite the newer decision.
    let moved_on = conn
        .prepare_cached(
            "UPDATE deliveries SET attempts = attempts + 1, state = ?1, next_attempt_at = ?2,
                 next_trigger = 'retry', lease_owner = NULL, updated_at = ?3
             WHERE id = ?4 AND lease_token = ?5 AND state = 'pending' RETURNING attempts",
        )?
        .query_row(
            params![
                state.as_str(),
                next,
                a.ended_at(),
                claim.delivery_id,
                claim.lease_token
            ],
            |r| r.get::<_, i64>(0),
        )
        .optional()?;
    let (attempt_no, next_attempt_at) = match moved_on {
        Some(attempts) => (attempts, next),
        None => {
            let attempts = conn
                .prepare_cached(
                    "UPDATE deliveries SET attempts = attempts + 1 WHERE id = ?1 RETURNING attempts",
                )?
                .query_row([&claim.delivery_id], |r| r.get::<_, i64>(0))?;
            (attempts, None)
        }
    };

    let (response, truncated) = match &a.outcome {
        Outcome::Responded {
            body, truncated, ..
        } => (body.as_str(), *truncated),
        Outcome::Failed(_) => ("", false),
    };
    let error = a.outcome.error().map(|e| e.as_str());
    let http_status = a.outcome.http_status().map(i64::from);
    conn.prepare_cached(
        "INSERT INTO attempts (id, workspace_id, webhook_id, delivery_id, event_id, event_type, attempt,
             trigger, timestamp, http_status, error, succeeded, duration_ms, response,
             response_truncated, next_attempt_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
    )?
    .execute(params![
        a.id,
        claim.workspace_id,
        claim.webhook_id,
        claim.delivery_id,
        claim.event_id,
        claim.event_type,
        attempt_no,
        claim.trigger.as_str(),
        a.started_at,
        http_status,
        error,
        a.outcome.is_success(),
        a.duration_ms,
        response,
        truncated,
        next_attempt_at
    ])?;

    // Counted in the statistics by the writer's commit (one upsert per tally per batch).
    super::commit_tallies::add(a);

    // The webhook's health is rewritten only when the outcome differs from the last one or is
    // over a second old (as on PostgreSQL): a row write per attempt was wasted work in a burst.
    let health = &plan.health;
    let failing_since = conn
        .prepare_cached(
            "UPDATE webhooks SET last_status = ?1, last_error = ?2, last_succeeded = ?3,
                 last_attempt_at = ?4,
                 last_success_at = CASE WHEN ?3 THEN ?4 ELSE last_success_at END,
                 failing_since = CASE WHEN ?3 THEN NULL ELSE COALESCE(failing_since, ?4) END
             WHERE id = ?5 AND (last_succeeded IS NOT ?3 OR last_status IS NOT ?1
                 OR last_error IS NOT ?2 OR last_attempt_at IS NULL OR last_attempt_at < ?4 - ?6)
             RETURNING failing_since",
        )?
        .query_row(
            params![
                health.status.map(i64::from),
                health.error.map(|e| e.as_str()),
                health.succeeded,
                health.at,
                claim.webhook_id,
                HEALTH_REFRESH_MS
            ],
            |r| r.get::<_, Option<i64>>(0),
        )
        .optional()?;
    let failing_since = match failing_since {
        Some(updated) => updated,
        // Only "failing since the cut-off" needs the unchanged row read.
        None if !plan.disable.needs_failing_since() => None,
        None => conn
            .prepare_cached("SELECT failing_since FROM webhooks WHERE id = ?1")?
            .query_row([&claim.webhook_id], |r| r.get::<_, Option<i64>>(0))
            .optional()?
            .flatten(),
    };
    let ended_at = a.ended_at();
    if let Some(reason) = plan.disable_reason(failing_since)
        && let Some(url) = disable(conn, &claim.webhook_id, reason, ended_at)?
    {
        let disabled = OperationalEvent::webhook_disabled(
            &claim.workspace_id,
            &claim.webhook_id,
            &url,
            reason,
            ended_at,
        );
        super::events::emit(conn, &disabled)?;
    }
    if plan.exhausted(moved_on.is_some()) {
        let exhausted = OperationalEvent::delivery_exhausted(a, attempt_no);
        super::events::emit(conn, &exhausted)?;
    }

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

/// Disables the webhook and holds its pending deliveries until it is enabled again. Returns the
/// webhook's URL if this disabled it (it was still enabled), for the `WebhookDisabled` event.
fn disable(
    conn: &Connection,
    webhook_id: &str,
    reason: DisabledReason,
    now: Millis,
) -> StoreResult<Option<String>> {
    let url = conn
        .prepare_cached(
            "UPDATE webhooks SET enabled = 0, disabled_reason = ?1, disabled_at = ?2,
                 updated_at = ?2
             WHERE id = ?3 AND enabled = 1 RETURNING url",
        )?
        .query_row(params![reason.as_str(), now, webhook_id], |r| r.get(0))
        .optional()?;
    conn.prepare_cached(
        "UPDATE deliveries SET held = 1 WHERE webhook_id = ?1 AND state = 'pending'",
    )?
    .execute([webhook_id])?;
    Ok(url)
}

/// The one attempt of a test send: an event marked as a test and a delivery leased to the
/// request that asked for it (not queued: no `next_attempt_at`).
pub fn create_test_delivery(
    conn: &Connection,
    sealer: &Sealer,
    t: &NewTestDelivery,
) -> StoreResult<Option<Claimed>> {
    let Some(webhook) = super::webhooks::get(conn, &t.workspace_id, &t.webhook_id)? else {
        return Ok(None);
    };
    conn.prepare_cached(
        "INSERT INTO events (id, workspace_id, event_type, payload, created_at, delivery_count,
             is_test)
         VALUES (?1, ?2, ?3, ?4, ?5, 1, 1)",
    )?
    .execute(params![
        t.event_id,
        t.workspace_id,
        t.event_type,
        t.payload,
        t.now
    ])?;
    conn.prepare_cached(
        "INSERT INTO deliveries (id, workspace_id, webhook_id, event_id, state, next_attempt_at,
             next_trigger, lease_owner, lease_token, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, 'pending', NULL, 'test', 'test', 1, ?5, ?5)",
    )?
    .execute(params![
        t.delivery_id,
        t.workspace_id,
        t.webhook_id,
        t.event_id,
        t.now
    ])?;
    let secrets = valid_secrets(conn, sealer, &t.webhook_id, t.now)?;
    Ok(Some(Claimed {
        delivery_id: t.delivery_id.clone(),
        workspace_id: t.workspace_id.clone(),
        webhook_id: t.webhook_id.clone(),
        event_id: t.event_id.clone(),
        event_type: t.event_type.clone(),
        url: webhook.url,
        payload: t.payload.as_str().into(),
        secrets,
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
