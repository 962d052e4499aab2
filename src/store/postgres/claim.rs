//! Claiming on PostgreSQL: find the webhooks with due deliveries, share the worker's budget
//! among them fairly (`domain::fair_share`: round-robin, each webhook within what it may start,
//! the byte cap), take each one's oldest due deliveries, and lease them, skipping rows another
//! process is claiming (`FOR UPDATE SKIP LOCKED`); the claim commits before any HTTP call. A dead
//! process's leases simply run out. Ordered and rate-limited webhooks are claimed with their
//! row held, so processes sharing the database take turns and never together exceed a rate nor
//! both start an ordered delivery.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use sqlx::PgConnection;
use sqlx::postgres::PgRow;

use super::PgStore;
use super::db::query;
use super::webhooks::valid_secrets;
use crate::domain::attempt::Trigger;
use crate::domain::fair_share::{Candidate, interleave_within, share};
use crate::domain::time::Millis;
use crate::store::restricted::Restricted;
use crate::store::rows::{Columns, claim_options_from};
use crate::store::{ClaimRequest, Claimed, StoreError, StoreResult};

/// How many due deliveries the first look at the queue reads, in due order. When there are
/// fewer, it has seen every webhook with due work; behind a larger backlog, the claim walks the
/// webhooks instead (one index seek each), so a backlog's size never decides who is served nor
/// what a claim costs.
const FIRST_LOOK: i64 = 64;

/// Leases due deliveries, fairly shared among the webhooks that have any, and returns them in
/// the order their attempts should start.
pub async fn claim_due(store: &PgStore, req: &ClaimRequest) -> StoreResult<Vec<Claimed>> {
    if req.budget.room == 0 {
        return Ok(Vec::new());
    }
    let mut session = store.db.session().await?;
    let most = req.budget.most_per_webhook();
    let (due, restricted) = due_webhooks(session.conn(), req.now, most).await?;
    let shares = share(&due, &req.budget);
    if shares.is_empty() {
        session.finish().await?;
        return Ok(Vec::new());
    }
    let leased = if shares.iter().any(|(id, _)| restricted.contains(id)) {
        session.finish().await?;
        let mut tx = store.begin().await?;
        let leased = claim_in(&mut tx, req, &shares, &restricted).await?;
        tx.commit().await?;
        leased
    } else {
        let leased = claim_in(session.conn(), req, &shares, &restricted).await?;
        session.finish().await?;
        leased
    };
    claimed_from(store, &leased, req.now).await
}

/// Every webhook with a due delivery, sorted by id, with how many it has due (counted up to
/// `most`, what one webhook can get), and which of them are ordered or rate-limited.
async fn due_webhooks(
    conn: &mut PgConnection,
    now: Millis,
    most: u32,
) -> StoreResult<(Vec<(String, u32)>, HashSet<String>)> {
    let rows = query(
        "WITH look AS (SELECT webhook_id FROM deliveries
                       WHERE state = 'pending' AND NOT held AND next_attempt_at <= $1
                       ORDER BY next_attempt_at LIMIT $2),
              counted AS (SELECT webhook_id, count(*) AS due FROM look GROUP BY webhook_id)
         SELECT w.id, (w.ordered OR w.rate_limit IS NOT NULL) AS restricted, c.due,
             (SELECT count(*) FROM look) AS seen
         FROM counted c JOIN webhooks w ON w.id = c.webhook_id",
    )
    .bind(now)
    .bind(FIRST_LOOK)
    .fetch_all(&mut *conn)
    .await?;
    let seen_all = match rows.first() {
        Some(row) => row.int("seen")? < FIRST_LOOK,
        None => true,
    };
    let rows = if seen_all {
        rows
    } else {
        // A skip-scan: the first entry of each webhook in `deliveries_due_by_webhook` is its
        // earliest pending delivery, so it says whether the webhook has anything due.
        query(
            "WITH RECURSIVE heads AS (
                 (SELECT webhook_id, next_attempt_at FROM deliveries
                  WHERE state = 'pending' AND NOT held AND next_attempt_at IS NOT NULL
                  ORDER BY webhook_id, next_attempt_at LIMIT 1)
                 UNION ALL
                 SELECT n.webhook_id, n.next_attempt_at FROM heads h CROSS JOIN LATERAL (
                     SELECT webhook_id, next_attempt_at FROM deliveries
                     WHERE state = 'pending' AND NOT held AND next_attempt_at IS NOT NULL
                       AND webhook_id > h.webhook_id
                     ORDER BY webhook_id, next_attempt_at LIMIT 1) n)
             SELECT w.id, (w.ordered OR w.rate_limit IS NOT NULL) AS restricted,
                 (SELECT count(*) FROM (SELECT 1 FROM deliveries d
                      WHERE d.webhook_id = h.webhook_id AND d.state = 'pending' AND NOT d.held
                        AND d.next_attempt_at IS NOT NULL AND d.next_attempt_at <= $1
                      LIMIT $2) c) AS due
             FROM heads h JOIN webhooks w ON w.id = h.webhook_id
             WHERE h.next_attempt_at <= $1",
        )
        .bind(now)
        .bind(i64::from(most))
        .fetch_all(&mut *conn)
        .await?
    };
    let mut due = Vec::with_capacity(rows.len());
    let mut restricted = HashSet::new();
    for row in &rows {
        let id = row.text("id")?;
        if row.flag("restricted")? {
            restricted.insert(id.clone());
        }
        let count = row.int("due")? as u32;
        due.push((id, count));
    }
    // Sorted here, not by the database's collation: `share` rotates in this order.
    due.sort();
    Ok((due, restricted))
}

/// Picks and leases the shares' deliveries on one connection (a transaction when restricted
/// webhooks are among them: their rows stay locked until it commits).
async fn claim_in(
    conn: &mut PgConnection,
    req: &ClaimRequest,
    shares: &[(String, u32)],
    restricted: &HashSet<String>,
) -> StoreResult<Vec<PgRow>> {
    let locked = lock_restricted(conn, shares, restricted).await?;
    let mut per_webhook: HashMap<String, Vec<Candidate>> =
        regular_candidates(conn, req.now, shares, restricted).await?;
    for (id, n) in shares {
        if let Some(webhook) = locked.get(id) {
            let taken = restricted_candidates(conn, req.now, webhook, i64::from(*n)).await?;
            per_webhook.insert(id.clone(), taken);
        }
    }
    let in_order = shares
        .iter()
        .map(|(id, _)| per_webhook.remove(id).unwrap_or_default())
        .collect();
    let picked = interleave_within(in_order, req.budget.max_bytes);
    for webhook in locked.values().filter(|w| w.rate_limit.is_some()) {
        let taken = picked.iter().filter(|c| c.webhook_id == webhook.id).count() as i64;
        if taken > 0 {
            let (start, count) = webhook.window_after(req.now, taken);
            query(
                "UPDATE webhooks SET rate_window_start = $1, rate_window_count = $2 WHERE id = $3",
            )
            .bind(start)
            .bind(count)
            .bind(&webhook.id)
            .execute(&mut *conn)
            .await?;
        }
    }
    lease(conn, req, &picked).await
}

/// Holds the rows of the restricted webhooks among the shares; one another process holds is
/// left to it this time.
async fn lock_restricted(
    conn: &mut PgConnection,
    shares: &[(String, u32)],
    restricted: &HashSet<String>,
) -> StoreResult<HashMap<String, Restricted>> {
    let ids: Vec<&String> = shares
        .iter()
        .map(|(id, _)| id)
        .filter(|id| restricted.contains(*id))
        .collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = query(
        "SELECT id, ordered, rate_limit, rate_window_start, rate_window_count FROM webhooks
         WHERE id = ANY($1) AND (ordered OR rate_limit IS NOT NULL)
         ORDER BY id FOR UPDATE SKIP LOCKED",
    )
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| Restricted::from_row(row).map(|w| (w.id.clone(), w)))
        .collect()
}

fn candidate_from(row: &PgRow) -> StoreResult<Candidate> {
    Ok(Candidate {
        seq: row.int("seq")?,
        webhook_id: row.text("webhook_id")?,
        event_id: row.text("event_id")?,
        payload_bytes: row.int("payload_bytes")?.max(0) as u64,
    })
}

/// The oldest due deliveries of each regular webhook of the shares, as many as its share, in
/// one statement; with their payload's size (from the value's header, not the payload).
async fn regular_candidates(
    conn: &mut PgConnection,
    now: Millis,
    shares: &[(String, u32)],
    restricted: &HashSet<String>,
) -> StoreResult<HashMap<String, Vec<Candidate>>> {
    let (ids, counts): (Vec<&String>, Vec<i64>) = shares
        .iter()
        .filter(|(id, _)| !restricted.contains(id))
        .map(|(id, n)| (id, i64::from(*n)))
        .unzip();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = query(
        "SELECT c.seq, q.id AS webhook_id, c.event_id, octet_length(e.payload)::BIGINT AS payload_bytes
         FROM UNNEST($1::TEXT[], $2::BIGINT[]) AS q(id, n)
         CROSS JOIN LATERAL (
             SELECT d.seq, d.event_id, d.next_attempt_at FROM deliveries d
             WHERE d.webhook_id = q.id AND d.state = 'pending' AND NOT d.held
               AND d.next_attempt_at IS NOT NULL AND d.next_attempt_at <= $3
             ORDER BY d.next_attempt_at LIMIT q.n) c
         JOIN events e ON e.id = c.event_id
         ORDER BY q.id, c.next_attempt_at",
    )
    .bind(ids)
    .bind(counts)
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    let mut per_webhook: HashMap<String, Vec<Candidate>> = HashMap::new();
    for row in &rows {
        let candidate = candidate_from(row)?;
        per_webhook
            .entry(candidate.webhook_id.clone())
            .or_default()
            .push(candidate);
    }
    Ok(per_webhook)
}

/// What a locked ordered or rate-limited webhook allows now, at most `n`. An ordered webhook
/// offers only its oldest pending delivery, and only once that one is due: while it is in
/// flight (its lease is in the future) or waits for a retry, the ones behind it wait too.
async fn restricted_candidates(
    conn: &mut PgConnection,
    now: Millis,
    webhook: &Restricted,
    n: i64,
) -> StoreResult<Vec<Candidate>> {
    let allowed = webhook.allowance(now).min(n);
    if allowed <= 0 {
        return Ok(Vec::new());
    }
    let rows = if webhook.ordered {
        query(
            "SELECT * FROM (
                 SELECT d.seq, d.webhook_id, d.event_id, d.next_attempt_at,
                     octet_length(e.payload)::BIGINT AS payload_bytes
                 FROM deliveries d JOIN events e ON e.id = d.event_id
                 WHERE d.webhook_id = $1 AND d.state = 'pending' AND NOT d.held
                   AND d.next_attempt_at IS NOT NULL
                 ORDER BY d.seq LIMIT 1) head
             WHERE head.next_attempt_at <= $2",
        )
        .bind(&webhook.id)
        .bind(now)
        .fetch_all(&mut *conn)
        .await?
    } else {
        query(
            "SELECT d.seq, d.webhook_id, d.event_id, octet_length(e.payload)::BIGINT AS payload_bytes
             FROM deliveries d JOIN events e ON e.id = d.event_id
             WHERE d.webhook_id = $1 AND d.state = 'pending' AND NOT d.held
               AND d.next_attempt_at IS NOT NULL AND d.next_attempt_at <= $2
             ORDER BY d.next_attempt_at LIMIT $3",
        )
        .bind(&webhook.id)
        .bind(now)
        .bind(allowed)
        .fetch_all(&mut *conn)
        .await?
    };
    rows.iter().map(candidate_from).collect()
}

/// Leases the picked deliveries that are still due and that no other process is claiming
/// right now, moving each to its lease's end (longer by as much as its webhook's own timeout
/// exceeds the default, so a live attempt never outlasts its lease); returns them in the order
/// they were picked, with what an attempt needs of their event and webhook.
async fn lease(
    conn: &mut PgConnection,
    req: &ClaimRequest,
    picked: &[Candidate],
) -> StoreResult<Vec<PgRow>> {
    if picked.is_empty() {
        return Ok(Vec::new());
    }
    let seqs: Vec<i64> = picked.iter().map(|c| c.seq).collect();
    let mut rows = query(
        "WITH picked AS (
             SELECT d.seq, w.timeout_ms FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id
             WHERE d.seq = ANY($4) AND d.state = 'pending' AND NOT d.held
               AND d.next_attempt_at <= $5
             FOR UPDATE OF d SKIP LOCKED
         ), leased AS (
             UPDATE deliveries d SET lease_owner = $2, lease_token = d.lease_token + 1,
                 next_attempt_at = $1 + GREATEST(COALESCE(picked.timeout_ms, 0) - $3, 0)
             FROM picked WHERE d.seq = picked.seq
             RETURNING d.seq, d.id, d.workspace_id, d.webhook_id, d.event_id, d.next_trigger,
                 d.attempts, d.lease_token, d.retry_schedule, d.next_attempt_at AS lease_until)
         SELECT l.*, e.event_type, e.traceparent, w.url, w.headers, w.timeout_ms,
             -- Each payload once, however many of its event's deliveries are leased.
             CASE WHEN row_number() OVER (PARTITION BY l.event_id) = 1 THEN e.payload END
                 AS payload
         FROM leased l LEFT JOIN events e ON e.id = l.event_id
             LEFT JOIN webhooks w ON w.id = l.webhook_id",
    )
    .bind(req.lease_until)
    .bind(&req.owner)
    .bind(req.default_timeout)
    .bind(&seqs)
    .bind(req.now)
    .fetch_all(&mut *conn)
    .await?;
    let order: HashMap<i64, usize> = seqs.iter().enumerate().map(|(i, s)| (*s, i)).collect();
    rows.sort_by_key(|row| {
        row.int("seq")
            .ok()
            .and_then(|seq| order.get(&seq).copied())
            .unwrap_or(usize::MAX)
    });
    Ok(rows)
}

/// The leased rows as attempts-to-be, with each webhook's valid signing secrets; deliveries of
/// one event share one payload buffer.
async fn claimed_from(store: &PgStore, leased: &[PgRow], now: Millis) -> StoreResult<Vec<Claimed>> {
    if leased.is_empty() {
        return Ok(Vec::new());
    }
    let mut webhook_ids: Vec<String> = Vec::new();
    for row in leased {
        let webhook_id = row.text("webhook_id")?;
        if !webhook_ids.contains(&webhook_id) {
            webhook_ids.push(webhook_id);
        }
    }
    let mut session = store.db.session().await?;
    let secrets = valid_secrets(session.conn(), &store.sealer, &webhook_ids, now).await?;
    session.finish().await?;

    let mut payloads: HashMap<String, Arc<str>> = HashMap::new();
    for row in leased {
        if let Some(payload) = row.opt_text("payload")? {
            payloads.insert(row.text("event_id")?, payload.into());
        }
    }
    let mut claimed = Vec::with_capacity(leased.len());
    for row in leased {
        let webhook_id = row.text("webhook_id")?;
        let event_id = row.text("event_id")?;
        let (Some(url), Some(event_type), Some(payload)) = (
            row.opt_text("url")?,
            row.opt_text("event_type")?,
            payloads.get(&event_id).cloned(),
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
