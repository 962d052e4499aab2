//! The delivery queue. A claim leases due deliveries by moving `next_attempt_at` to the lease's
//! end and bumping `lease_token`, then commits: no transaction is ever open during an HTTP call.
//! If the worker dies, the lease simply runs out and the delivery is due again.

use std::collections::HashMap;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};

use super::rows::all;
use super::webhooks::valid_secrets;
use crate::domain::attempt::{DeliveryState, Outcome, Trigger};
use crate::domain::delivery_options::{Headers, WebhookTimeout};
use crate::domain::sealing::Sealer;
use crate::domain::time::Millis;
use crate::domain::webhook::{DisabledReason, Secret};
use crate::store::operational::{OperationalEvent, exhausts};
use crate::store::restricted::{RESTRICTED_COLUMNS, Restricted};
use crate::store::rows::{disable_reason, open_secret, retry_schedule_from};
use crate::store::{
    Attempt, ClaimOptions, ClaimRequest, Claimed, NewAttempt, NewTestDelivery, NextStep,
    StoreError, StoreResult,
};

/// How stale a webhook's "last attempt" may get while its outcomes do not change.
const HEALTH_REFRESH_MS: i64 = 1000;

/// A leased row, before its event and webhook are looked up.
struct Leased {
    delivery_id: String,
    workspace_id: String,
    webhook_id: String,
    event_id: String,
    trigger: String,
    attempts: i64,
    lease_token: i64,
    retry_schedule: Option<String>,
    lease_until: Millis,
}

/// What a lease sets: the owner, a new token, and the lease's end (longer by as much as the
/// webhook's own timeout exceeds the default, so a live attempt never outlasts its lease).
macro_rules! lease_columns {
    () => {
        "lease_owner = ?2, lease_token = lease_token + 1,
         next_attempt_at = ?1 + MAX(COALESCE((SELECT timeout_ms FROM webhooks w
                                              WHERE w.id = deliveries.webhook_id), 0) - ?3, 0)"
    };
}

macro_rules! leased_columns {
    () => {
        "id, workspace_id, webhook_id, event_id, next_trigger, attempts, lease_token,
         retry_schedule, next_attempt_at"
    };
}

fn leased_from(row: &rusqlite::Row<'_>) -> StoreResult<Leased> {
    Ok(Leased {
        delivery_id: row.get(0)?,
        workspace_id: row.get(1)?,
        webhook_id: row.get(2)?,
        event_id: row.get(3)?,
        trigger: row.get(4)?,
        attempts: row.get(5)?,
        lease_token: row.get(6)?,
        retry_schedule: row.get(7)?,
        lease_until: row.get(8)?,
    })
}

/// Leases what one ordered or rate-limited webhook allows now, at most `room`. An ordered
/// webhook offers only its oldest pending delivery, and only once that one is due: while it is
/// in flight (its lease is in the future) or waits for a retry, the ones behind it wait too.
fn claim_restricted(
    conn: &Connection,
    req: &ClaimRequest,
    webhook: &Restricted,
    room: i64,
) -> StoreResult<Vec<Leased>> {
    let allowed = webhook.allowance(req.now).min(room);
    if allowed == 0 {
        return Ok(Vec::new());
    }
    let seqs: Vec<i64> = if webhook.ordered {
        let head = conn
            .prepare_cached(
                "SELECT seq, next_attempt_at FROM deliveries
                 WHERE webhook_id = ?1 AND state = 'pending' AND held = 0
                   AND next_attempt_at IS NOT NULL
                 ORDER BY seq LIMIT 1",
            )?
            .query_row([&webhook.id], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
            })
            .optional()?;
        head.filter(|(_, due)| *due <= req.now)
            .map(|(seq, _)| seq)
            .into_iter()
            .collect()
    } else {
        conn.prepare_cached(
            "SELECT seq FROM deliveries
             WHERE webhook_id = ?1 AND state = 'pending' AND held = 0 AND next_attempt_at <= ?2
             ORDER BY next_attempt_at LIMIT ?3",
        )?
        .query_map(params![webhook.id, req.now, allowed], |r| r.get(0))?
        .collect::<Result<_, _>>()?
    };
    if seqs.is_empty() {
        return Ok(Vec::new());
    }
    let seqs = serde_json::to_string(&seqs).map_err(|e| StoreError::Internal(e.to_string()))?;
    let query = conn.prepare_cached(concat!(
        "UPDATE deliveries SET ",
        lease_columns!(),
        " WHERE seq IN (SELECT value FROM json_each(?4)) RETURNING ",
        leased_columns!()
    ))?;
    let params = params![req.lease_until, req.owner, req.default_timeout, seqs];
    all(query, params, leased_from)
}

/// An event's type, payload and trace context, as a claim needs them.
type StoredEvent = (String, String, Option<String>);

/// Leases due deliveries inside the writer's transaction: first those of the ordered and
/// rate-limited webhooks, each within what it allows now (see `store::restricted`), then any
/// other due ones, walking the `deliveries_due` index in due order so the cost does not grow
/// with the backlog.
pub fn claim(conn: &Connection, req: &ClaimRequest, sealer: &Sealer) -> StoreResult<Vec<Claimed>> {
    let restricted = all(
        conn.prepare_cached(&format!(
            "SELECT {RESTRICTED_COLUMNS} FROM webhooks WHERE ordered = 1 OR rate_limit IS NOT NULL"
        ))?,
        [],
        |row| Restricted::from_row(row),
    )?;
    let mut leased = Vec::new();
    for webhook in &restricted {
        let room = i64::from(req.limit) - leased.len() as i64;
        if room <= 0 || req.skip_webhooks.contains(&webhook.id) {
            continue;
        }
        let taken = claim_restricted(conn, req, webhook, room)?;
        if webhook.rate_limit.is_some() && !taken.is_empty() {
            let (start, count) = webhook.window_after(req.now, taken.len() as i64);
            conn.prepare_cached(
                "UPDATE webhooks SET rate_window_start = ?1, rate_window_count = ?2 WHERE id = ?3",
            )?
            .execute(params![start, count, webhook.id])?;
        }
        leased.extend(taken);
    }
    let room = i64::from(req.limit) - leased.len() as i64;
    if room > 0 {
        let skip = serde_json::to_string(
            &req.skip_webhooks
                .iter()
                .chain(restricted.iter().map(|w| &w.id))
                .collect::<Vec<_>>(),
        )
        .map_err(|e| StoreError::Internal(e.to_string()))?;
        let query = conn.prepare_cached(concat!(
            "UPDATE deliveries SET ",
            lease_columns!(),
            " WHERE seq IN (SELECT seq FROM deliveries
                 WHERE state = 'pending' AND held = 0 AND next_attempt_at <= ?4
                   AND webhook_id NOT IN (SELECT value FROM json_each(?5))
                 ORDER BY next_attempt_at LIMIT ?6)
             RETURNING ",
            leased_columns!()
        ))?;
        let params = params![
            req.lease_until,
            req.owner,
            req.default_timeout,
            req.now,
            skip,
            room
        ];
        leased.extend(all(query, params, leased_from)?);
    }
    if leased.is_empty() {
        return Ok(Vec::new());
    }
    let events = stored_events(conn, &leased)?;
    let webhooks = signing_details(conn, sealer, &leased, req.now)?;
    let mut claimed = Vec::with_capacity(leased.len());
    for row in leased {
        let (Some((event_type, payload, traceparent)), Some(webhook)) =
            (events.get(&row.event_id), webhooks.get(&row.webhook_id))
        else {
            return Err(lost(&row.event_id));
        };
        claimed.push(Claimed {
            delivery_id: row.delivery_id,
            workspace_id: row.workspace_id,
            event_type: event_type.clone(),
            url: webhook.url.clone(),
            payload: payload.clone(),
            secrets: webhook.secrets.clone(),
            trigger: Trigger::parse(&row.trigger).unwrap_or(Trigger::Retry),
            attempts: row.attempts as u32,
            lease_token: row.lease_token,
            lease_until: row.lease_until,
            traceparent: traceparent.clone(),
            webhook: ClaimOptions {
                headers: webhook.headers.clone(),
                timeout: webhook.timeout,
                retry_schedule: retry_schedule_from(row.retry_schedule)?,
            },
            webhook_id: row.webhook_id,
            event_id: row.event_id,
        });
    }
    Ok(claimed)
}

/// The claimed deliveries' events, in one statement for the whole claim.
fn stored_events(
    conn: &Connection,
    leased: &[Leased],
) -> StoreResult<HashMap<String, StoredEvent>> {
    let ids = json_list(leased.iter().map(|l| &l.event_id))?;
    let mut query = conn.prepare_cached(
        "SELECT id, event_type, payload, traceparent FROM events
         WHERE id IN (SELECT value FROM json_each(?1))",
    )?;
    let mut rows = query.query([ids])?;
    let mut events = HashMap::new();
    while let Some(row) = rows.next()? {
        events.insert(row.get(0)?, (row.get(1)?, row.get(2)?, row.get(3)?));
    }
    Ok(events)
}

/// What the claimed deliveries need of their webhook.
struct Signing {
    url: String,
    secrets: Vec<Secret>,
    headers: Headers,
    timeout: Option<Duration>,
}

/// Each claimed webhook's URL, options and the secrets that sign its deliveries now, newest
/// first, in one statement for the whole claim.
fn signing_details(
    conn: &Connection,
    sealer: &Sealer,
    leased: &[Leased],
    now: Millis,
) -> StoreResult<HashMap<String, Signing>> {
    let ids = json_list(leased.iter().map(|l| &l.webhook_id))?;
    let mut query = conn.prepare_cached(
        "SELECT w.id, w.url, s.secret, w.headers, w.timeout_ms FROM webhooks w
             LEFT JOIN webhook_secrets s ON s.webhook_id = w.id
                 AND (s.expires_at IS NULL OR s.expires_at > ?2)
         WHERE w.id IN (SELECT value FROM json_each(?1))
         ORDER BY w.id, s.created_at DESC",
    )?;
    let mut rows = query.query(params![ids, now])?;
    let mut webhooks: HashMap<String, Signing> = HashMap::new();
    while let Some(row) = rows.next()? {
        let webhook_id: String = row.get(0)?;
        let sealed: Option<String> = row.get(2)?;
        let secret = sealed.and_then(|s| open_secret(sealer, &webhook_id, s));
        if !webhooks.contains_key(&webhook_id) {
            let stored: String = row.get(3)?;
            let headers = Headers::from_stored(&stored)
                .ok_or_else(|| StoreError::Internal(format!("bad headers {stored:?} stored")))?;
            let signing = Signing {
                url: row.get(1)?,
                secrets: Vec::new(),
                headers,
                timeout: row
                    .get::<_, Option<i64>>(4)?
                    .map(|ms| Duration::from_millis(ms as u64)),
            };
            webhooks.insert(webhook_id.clone(), signing);
        }
        if let (Some(signing), Some(secret)) = (webhooks.get_mut(&webhook_id), secret) {
            signing.secrets.push(secret);
        }
    }
    Ok(webhooks)
}

/// A JSON array of the distinct values, for `json_each`.
fn json_list<'a>(values: impl Iterator<Item = &'a String>) -> StoreResult<String> {
    let mut distinct: Vec<&String> = values.collect();
    distinct.sort();
    distinct.dedup();
    serde_json::to_string(&distinct).map_err(|e| StoreError::Internal(e.to_string()))
}

fn lost(event_id: &str) -> StoreError {
    StoreError::Internal(format!("delivery of {event_id} lost its webhook or event"))
}

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

/// Records one attempt inside the writer's transaction and moves its delivery on.
pub fn record(conn: &Connection, a: &NewAttempt) -> StoreResult<Attempt> {
    let claim = &a.claim;
    let (state, next) = match a.next {
        NextStep::Succeeded => (DeliveryState::Succeeded, None),
        NextStep::Failed => (DeliveryState::Failed, None),
        NextStep::RetryAt(at) => (DeliveryState::Pending, Some(at)),
    };
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
                a.started_at + a.duration_ms,
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
    let succeeded = a.outcome.is_success();
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
        succeeded,
        a.duration_ms,
        response,
        truncated,
        next_attempt_at
    ])?;

    // The webhook's health is rewritten only when the outcome differs from the last one or is
    // over a second old (as on PostgreSQL): a row write per attempt was wasted work in a burst.
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
                http_status,
                error,
                succeeded,
                a.started_at,
                claim.webhook_id,
                HEALTH_REFRESH_MS
            ],
            |r| r.get::<_, Option<i64>>(0),
        )
        .optional()?;
    let failing_since = match failing_since {
        Some(updated) => updated,
        // A success never disables its webhook, so the unchanged row need not be read.
        None if a.outcome.is_success() => None,
        None => conn
            .prepare_cached("SELECT failing_since FROM webhooks WHERE id = ?1")?
            .query_row([&claim.webhook_id], |r| r.get::<_, Option<i64>>(0))
            .optional()?
            .flatten(),
    };
    let ended_at = a.started_at + a.duration_ms;
    if let Some(reason) = disable_reason(&a.outcome, failing_since, a.disable_if_failing_since)
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
    if moved_on.is_some() && exhausts(a) {
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
        payload: t.payload.clone(),
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
