//! The delivery queue. A claim leases due deliveries by moving `next_attempt_at` to the lease's
//! end and bumping `lease_token`, then commits: no transaction is ever open during an HTTP call.
//! If the worker dies, the lease simply runs out and the delivery is due again.

use std::collections::HashMap;

use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};

use super::SqliteStore;
use super::rows::webhook_columns;
use super::webhooks::valid_secrets;
use crate::domain::attempt::{DeliveryState, Trigger};
use crate::domain::time::Millis;
use crate::domain::webhook::DisabledReason;
use crate::store::rows::{Columns, disable_reason};
use crate::store::{
    Attempt, ClaimRequest, Claimed, NewAttempt, NewTestDelivery, NextStep, StoreError, StoreResult,
};

fn push_list(query: &mut QueryBuilder<Sqlite>, values: impl IntoIterator<Item = String>) {
    query.push("(");
    let mut list = query.separated(", ");
    for value in values {
        list.push_bind(value);
    }
    query.push(")");
}

pub async fn claim_due(store: &SqliteStore, req: &ClaimRequest) -> StoreResult<Vec<Claimed>> {
    let mut tx = store.begin().await?;
    let mut claim = QueryBuilder::<Sqlite>::new("UPDATE deliveries SET next_attempt_at = ");
    claim
        .push_bind(req.lease_until)
        .push(", lease_owner = ")
        .push_bind(req.owner.clone())
        .push(", lease_token = lease_token + 1 WHERE seq IN (SELECT seq FROM deliveries")
        .push(" WHERE state = 'pending' AND held = 0 AND next_attempt_at <= ")
        .push_bind(req.now);
    if !req.skip_webhooks.is_empty() {
        claim.push(" AND webhook_id NOT IN ");
        push_list(&mut claim, req.skip_webhooks.iter().cloned());
    }
    claim
        .push(" ORDER BY next_attempt_at LIMIT ")
        .push_bind(i64::from(req.limit))
        .push(") RETURNING id, workspace_id, webhook_id, event_id, next_trigger, attempts, lease_token");
    let leased = claim.build().fetch_all(&mut *tx).await?;
    if leased.is_empty() {
        tx.commit().await?;
        return Ok(Vec::new());
    }

    let mut webhook_ids: Vec<String> = Vec::new();
    let mut event_ids: Vec<String> = Vec::new();
    for row in &leased {
        let webhook_id: String = row.try_get("webhook_id")?;
        if !webhook_ids.contains(&webhook_id) {
            webhook_ids.push(webhook_id);
        }
        event_ids.push(row.try_get("event_id")?);
    }
    let mut events =
        QueryBuilder::<Sqlite>::new("SELECT id, event_type, payload FROM events WHERE id IN ");
    push_list(&mut events, event_ids);
    let events: HashMap<String, (String, String)> = events
        .build()
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.try_get("id")?,
                (r.try_get("event_type")?, r.try_get("payload")?),
            ))
        })
        .collect::<StoreResult<_>>()?;
    let mut urls = QueryBuilder::<Sqlite>::new("SELECT id, url FROM webhooks WHERE id IN ");
    push_list(&mut urls, webhook_ids.iter().cloned());
    let urls: HashMap<String, String> = urls
        .build()
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("url")?)))
        .collect::<StoreResult<_>>()?;
    let id_refs: Vec<&str> = webhook_ids.iter().map(String::as_str).collect();
    let secrets = valid_secrets(&mut *tx, &store.sealer, &id_refs, req.now).await?;
    tx.commit().await?;

    let mut claimed = Vec::with_capacity(leased.len());
    for row in &leased {
        let webhook_id: String = row.try_get("webhook_id")?;
        let event_id: String = row.try_get("event_id")?;
        let trigger: String = row.try_get("next_trigger")?;
        let (Some(url), Some((event_type, payload))) =
            (urls.get(&webhook_id), events.get(&event_id))
        else {
            return Err(StoreError::Internal(format!(
                "delivery of {event_id} lost its webhook or event"
            )));
        };
        claimed.push(Claimed {
            delivery_id: row.try_get("id")?,
            workspace_id: row.try_get("workspace_id")?,
            event_id,
            event_type: event_type.clone(),
            url: url.clone(),
            payload: payload.clone(),
            secrets: secrets
                .iter()
                .filter(|(w, _)| *w == webhook_id)
                .map(|(_, s)| s.clone())
                .collect(),
            trigger: Trigger::parse(&trigger).unwrap_or(Trigger::Retry),
            attempts: row.try_get::<i64, _>("attempts")? as u32,
            lease_token: row.try_get("lease_token")?,
            webhook_id,
        });
    }
    Ok(claimed)
}

pub async fn release(store: &SqliteStore, claims: &[Claimed], now: Millis) -> StoreResult<()> {
    let mut tx = store.begin().await?;
    for claim in claims {
        sqlx::query(
            "UPDATE deliveries SET next_attempt_at = ?, lease_owner = NULL
             WHERE id = ? AND lease_token = ? AND state = 'pending'",
        )
        .bind(now)
        .bind(&claim.delivery_id)
        .bind(claim.lease_token)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn release_leases(
    store: &SqliteStore,
    owner: Option<&str>,
    now: Millis,
) -> StoreResult<u64> {
    let done = sqlx::query(
        "UPDATE deliveries SET next_attempt_at = ?1, lease_owner = NULL
         WHERE state = 'pending' AND lease_owner IS NOT NULL AND (?2 IS NULL OR lease_owner = ?2)",
    )
    .bind(now)
    .bind(owner)
    .execute(&store.write)
    .await?;
    Ok(done.rows_affected())
}

pub async fn next_due_at(store: &SqliteStore) -> StoreResult<Option<Millis>> {
    let row = sqlx::query(
        "SELECT MIN(next_attempt_at) AS due FROM deliveries WHERE state = 'pending' AND held = 0",
    )
    .fetch_one(&store.read)
    .await?;
    Ok(row.try_get("due")?)
}

/// Records one attempt inside the caller's transaction (the writer groups many into one commit).
pub async fn record_in(tx: &mut SqliteConnection, a: &NewAttempt) -> StoreResult<Attempt> {
    let claim = &a.claim;
    let row = sqlx::query("SELECT attempts, lease_token, state FROM deliveries WHERE id = ?")
        .bind(&claim.delivery_id)
        .fetch_one(&mut *tx)
        .await?;
    let attempt_no = row.try_get::<i64, _>("attempts")? + 1;
    let state: String = row.try_get("state")?;
    // Only the current lease holder moves the delivery on; a late attempt (its lease expired and
    // someone else claimed it) is still recorded, but does not overwrite the newer decision.
    let holds_lease =
        row.try_get::<i64, _>("lease_token")? == claim.lease_token && state == "pending";
    let mut next_attempt_at = None;
    if holds_lease {
        let (state, next) = match a.next {
            NextStep::Succeeded => (DeliveryState::Succeeded, None),
            NextStep::Failed => (DeliveryState::Failed, None),
            NextStep::RetryAt(at) => (DeliveryState::Pending, Some(at)),
        };
        next_attempt_at = next;
        sqlx::query(
            "UPDATE deliveries SET attempts = attempts + 1, state = ?, next_attempt_at = ?, next_trigger = 'retry',
                 lease_owner = NULL, updated_at = ? WHERE id = ?",
        )
        .bind(state.as_str())
        .bind(next)
        .bind(a.started_at + a.duration_ms)
        .bind(&claim.delivery_id)
        .execute(&mut *tx)
        .await?;
    } else {
        sqlx::query("UPDATE deliveries SET attempts = attempts + 1 WHERE id = ?")
            .bind(&claim.delivery_id)
            .execute(&mut *tx)
            .await?;
    }

    let (response, truncated) = match &a.outcome {
        crate::domain::attempt::Outcome::Responded {
            body, truncated, ..
        } => (body.as_str(), *truncated),
        crate::domain::attempt::Outcome::Failed(_) => ("", false),
    };
    let succeeded = a.outcome.is_success();
    let error = a.outcome.error().map(|e| e.as_str());
    sqlx::query(
        "INSERT INTO attempts (id, workspace_id, webhook_id, delivery_id, event_id, event_type, attempt, trigger,
             timestamp, http_status, error, succeeded, duration_ms, response, response_truncated, next_attempt_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&a.id)
    .bind(&claim.workspace_id)
    .bind(&claim.webhook_id)
    .bind(&claim.delivery_id)
    .bind(&claim.event_id)
    .bind(&claim.event_type)
    .bind(attempt_no)
    .bind(claim.trigger.as_str())
    .bind(a.started_at)
    .bind(a.outcome.http_status().map(i64::from))
    .bind(error)
    .bind(succeeded)
    .bind(a.duration_ms)
    .bind(response)
    .bind(truncated)
    .bind(next_attempt_at)
    .execute(&mut *tx)
    .await?;

    let failing_since = sqlx::query(
        "UPDATE webhooks SET last_status = ?1, last_error = ?2, last_succeeded = ?3, last_attempt_at = ?4,
             last_success_at = CASE WHEN ?3 THEN ?4 ELSE last_success_at END,
             failing_since = CASE WHEN ?3 THEN NULL ELSE COALESCE(failing_since, ?4) END
         WHERE id = ?5 RETURNING failing_since",
    )
    .bind(a.outcome.http_status().map(i64::from))
    .bind(error)
    .bind(succeeded)
    .bind(a.started_at)
    .bind(&claim.webhook_id)
    .fetch_optional(&mut *tx)
    .await?
    .map(|row| row.opt_int("failing_since"))
    .transpose()?
    .flatten();
    if let Some(reason) = disable_reason(&a.outcome, failing_since, a.disable_if_failing_since) {
        disable(tx, &claim.webhook_id, reason, a.started_at).await?;
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

async fn disable(
    tx: &mut SqliteConnection,
    webhook_id: &str,
    reason: DisabledReason,
    now: Millis,
) -> StoreResult<()> {
    sqlx::query("UPDATE webhooks SET enabled = 0, disabled_reason = ?, updated_at = ? WHERE id = ? AND enabled = 1")
        .bind(reason.as_str())
        .bind(now)
        .bind(webhook_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE deliveries SET held = 1 WHERE webhook_id = ? AND state = 'pending'")
        .bind(webhook_id)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

pub async fn create_test_delivery(
    store: &SqliteStore,
    t: &NewTestDelivery,
) -> StoreResult<Option<Claimed>> {
    let mut tx = store.begin().await?;
    let webhook = sqlx::query(concat!(
        "SELECT ",
        webhook_columns!(),
        " FROM webhooks WHERE workspace_id = ? AND id = ?"
    ))
    .bind(&t.workspace_id)
    .bind(&t.webhook_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(webhook) = webhook else {
        return Ok(None);
    };
    let url: String = webhook.try_get("url")?;
    sqlx::query(
        "INSERT INTO events (id, workspace_id, event_type, payload, created_at, delivery_count, is_test)
         VALUES (?, ?, ?, ?, ?, 1, 1)",
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
         VALUES (?, ?, ?, ?, 'pending', NULL, 'test', 'test', 1, ?, ?)",
    )
    .bind(&t.delivery_id)
    .bind(&t.workspace_id)
    .bind(&t.webhook_id)
    .bind(&t.event_id)
    .bind(t.now)
    .bind(t.now)
    .execute(&mut *tx)
    .await?;
    let secrets = valid_secrets(&mut *tx, &store.sealer, &[t.webhook_id.as_str()], t.now).await?;
    tx.commit().await?;
    Ok(Some(Claimed {
        delivery_id: t.delivery_id.clone(),
        workspace_id: t.workspace_id.clone(),
        webhook_id: t.webhook_id.clone(),
        event_id: t.event_id.clone(),
        event_type: t.event_type.clone(),
        url,
        payload: t.payload.clone(),
        secrets: secrets.into_iter().map(|(_, s)| s).collect(),
        trigger: Trigger::Test,
        attempts: 0,
        lease_token: 1,
    }))
}
