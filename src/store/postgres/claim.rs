//! Claiming on PostgreSQL: find the webhooks with due deliveries, share the worker's budget
//! among them fairly (`domain::fair_share`: round-robin, each webhook within what it may start,
//! the byte cap), take each one's oldest due deliveries, and lease them, skipping rows another
//! process is claiming (`FOR UPDATE SKIP LOCKED`); the claim commits before any HTTP call. A dead
//! process's leases simply run out. Ordered and rate-limited webhooks are claimed with their
//! row held, so processes sharing the database take turns and never together exceed a rate nor
//! both start an ordered delivery.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use super::PgStore;
use super::db::query;
use crate::domain::attempt::Trigger;
use crate::domain::fair_share::{Candidate, interleave_within, share};
use crate::domain::time::Millis;
use crate::domain::webhook::Secret;
use crate::store::restricted::Restricted;
use crate::store::rows::{Columns, claim_options_from, open_secret};
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
    claimed_from(store, &leased.0, &leased.1).await
}

/// Every webhook with a due delivery, sorted by id, with how many it has due (counted up to
/// `most`, what one webhook can get), and which of them are ordered or rate-limited.
async fn due_webhooks(
    conn: &mut PgConnection,
    now: Millis,
    most: u32,
) -> StoreResult<(Vec<(String, u32)>, HashSet<String>)> {
    // One statement: the first look, and only when it is full (a one-time filter) a
    // skip-scan, where the first entry of each webhook in `pending_due_by_webhook` is its
    // earliest pending delivery, so it says whether the webhook has anything due.
    let rows = query(
        "WITH RECURSIVE look AS (
             SELECT webhook_id FROM pending_deliveries
             WHERE NOT held AND next_attempt_at <= $1
             ORDER BY next_attempt_at LIMIT $2),
         heads AS (
             (SELECT webhook_id, next_attempt_at FROM pending_deliveries
              WHERE NOT held AND next_attempt_at IS NOT NULL
              ORDER BY webhook_id, next_attempt_at LIMIT 1)
             UNION ALL
             SELECT n.webhook_id, n.next_attempt_at FROM heads h CROSS JOIN LATERAL (
                 SELECT webhook_id, next_attempt_at FROM pending_deliveries
                 WHERE NOT held AND next_attempt_at IS NOT NULL
                   AND webhook_id > h.webhook_id
                 ORDER BY webhook_id, next_attempt_at LIMIT 1) n),
         due AS (
             SELECT webhook_id, count(*) AS due FROM look
             WHERE (SELECT count(*) FROM look) < $2 GROUP BY webhook_id
             UNION ALL
             SELECT h.webhook_id,
                 (SELECT count(*) FROM (SELECT 1 FROM pending_deliveries d
                      WHERE d.webhook_id = h.webhook_id AND NOT d.held
                        AND d.next_attempt_at IS NOT NULL AND d.next_attempt_at <= $1
                      LIMIT $3) c)
             FROM heads h
             WHERE (SELECT count(*) FROM look) >= $2 AND h.next_attempt_at <= $1)
         SELECT w.id, (w.ordered OR w.rate_limit IS NOT NULL) AS restricted, due.due
         FROM due JOIN webhooks w ON w.id = due.webhook_id",
    )
    .bind(now)
    .bind(FIRST_LOOK)
    .bind(i64::from(most))
    .fetch_all(&mut *conn)
    .await?;
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

/// Leases the shares' deliveries on one connection (a transaction when restricted webhooks
/// are among them: their rows stay locked until it commits), in one statement; then gives back
/// at once whatever the byte cap leaves out (rarely anything: only when large bodies fill it).
async fn claim_in(
    conn: &mut PgConnection,
    req: &ClaimRequest,
    shares: &[(String, u32)],
    restricted: &HashSet<String>,
) -> StoreResult<(Vec<PgRow>, LeasedEvents)> {
    let locked = lock_restricted(conn, shares, restricted).await?;
    let mut wanted = Wanted::default();
    for (id, n) in shares {
        let (n, ordered) = match (restricted.contains(id), locked.get(id)) {
            (false, _) => (i64::from(*n), false),
            // Another process holds it: left to that one this time.
            (true, None) => continue,
            (true, Some(webhook)) => (
                webhook.allowance(req.now).min(i64::from(*n)),
                webhook.ordered,
            ),
        };
        if n > 0 {
            wanted.ids.push(id.clone());
            wanted.counts.push(n);
            wanted.ordered.push(ordered);
        }
    }
    let leased = lease(conn, req, &wanted).await?;
    let events = events_of(conn, &leased).await?;
    let (kept, over) = within_bytes(leased, &events, shares, req.budget.max_bytes)?;
    if !over.is_empty() {
        query("UPDATE pending_deliveries SET next_attempt_at = $1, lease_owner = NULL WHERE seq = ANY($2)")
            .bind(req.now)
            .bind(&over)
            .execute(&mut *conn)
            .await?;
    }
    for webhook in locked.values().filter(|w| w.rate_limit.is_some()) {
        let mut taken = 0;
        for row in &kept {
            taken += i64::from(row.text("webhook_id")? == webhook.id);
        }
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
    Ok((kept, events))
}

/// What an attempt needs of a leased delivery's event; its payload is one buffer shared by the
/// event's deliveries.
struct LeasedEvent {
    event_type: String,
    traceparent: Option<String>,
    payload: Arc<str>,
}

/// The leased deliveries' events, each once, by id.
type LeasedEvents = HashMap<String, LeasedEvent>;

/// What the lease asks of each webhook: how many of its oldest due deliveries (only its oldest
/// pending one, once due, when it is ordered).
#[derive(Default)]
struct Wanted {
    ids: Vec<String>,
    counts: Vec<i64>,
    ordered: Vec<bool>,
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

/// Leases what `wanted` asks, skipping rows another process is claiming right now, moving each
/// to its lease's end (longer by as much as its webhook's own timeout exceeds the default, so
/// a live attempt never outlasts its lease); returns the rows with what an attempt needs of
/// their webhook. Their events are read by the next statement (`events_of`): joined here, the
/// planner would weigh every partition of `events` at each claim (PostgreSQL plans this
/// statement afresh each time), 1.4 ms with 5 partitions and 3.8 ms with 35.
async fn lease(
    conn: &mut PgConnection,
    req: &ClaimRequest,
    wanted: &Wanted,
) -> StoreResult<Vec<PgRow>> {
    if wanted.ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = query(
        "WITH q AS (SELECT * FROM UNNEST($4::TEXT[], $5::BIGINT[], $6::BOOL[]) AS q(id, n, ordered)),
         picked AS (
             SELECT c.seq FROM q CROSS JOIN LATERAL (
                 SELECT d.seq FROM pending_deliveries d
                 WHERE NOT q.ordered AND d.webhook_id = q.id AND NOT d.held
                   AND d.next_attempt_at IS NOT NULL AND d.next_attempt_at <= $7
                 ORDER BY d.next_attempt_at LIMIT q.n
                 FOR UPDATE SKIP LOCKED) c
             UNION ALL
             SELECT h.seq FROM q CROSS JOIN LATERAL (
                 SELECT d.seq, d.next_attempt_at FROM pending_deliveries d
                 WHERE q.ordered AND d.webhook_id = q.id AND NOT d.held
                   AND d.next_attempt_at IS NOT NULL
                 ORDER BY d.seq LIMIT 1) h
             WHERE h.next_attempt_at <= $7),
         leased AS (
             UPDATE pending_deliveries d SET lease_owner = $2, lease_token = d.lease_token + 1,
                 next_attempt_at = $1 + GREATEST(COALESCE(w.timeout_ms, 0) - $3, 0)
             FROM picked p, webhooks w WHERE d.seq = p.seq AND w.id = d.webhook_id
             RETURNING d.seq, d.id, d.workspace_id, d.webhook_id, d.event_id, d.next_trigger,
                 d.attempts, d.lease_token, d.retry_schedule, d.next_attempt_at AS lease_until,
                 d.event_created_at)
         SELECT l.*, w.url, w.headers, w.timeout_ms,
             -- The secrets that sign now, newest first, in the same round trip.
             ARRAY(SELECT s.secret FROM webhook_secrets s
                   WHERE s.webhook_id = l.webhook_id
                     AND (s.expires_at IS NULL OR s.expires_at > $7)
                   ORDER BY s.created_at DESC) AS secrets
         FROM leased l LEFT JOIN webhooks w ON w.id = l.webhook_id
         ORDER BY l.webhook_id, l.lease_until, l.seq",
    )
    .bind(req.lease_until)
    .bind(&req.owner)
    .bind(req.default_timeout)
    .bind(&wanted.ids)
    .bind(&wanted.counts)
    .bind(&wanted.ordered)
    .bind(req.now)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows)
}

/// The leased deliveries' events, each read once. Their creation times bound the partitions
/// to read: given as values, the planner drops the other partitions before planning (usually
/// all but one), where a join on them would plan, lock and open every day's partition.
async fn events_of(conn: &mut PgConnection, leased: &[PgRow]) -> StoreResult<LeasedEvents> {
    let mut ids = Vec::new();
    let mut seen = HashSet::new();
    let (mut oldest, mut newest) = (i64::MAX, i64::MIN);
    for row in leased {
        let id = row.text("event_id")?;
        let created_at = row.int("event_created_at")?;
        oldest = oldest.min(created_at);
        newest = newest.max(created_at);
        if seen.insert(id.clone()) {
            ids.push(id);
        }
    }
    if ids.is_empty() {
        return Ok(LeasedEvents::new());
    }
    let rows = query(
        "SELECT e.id, e.event_type, e.traceparent, e.payload FROM events e
         WHERE e.created_at BETWEEN $2 AND $3 AND e.id = ANY($1)",
    )
    .bind(&ids)
    .bind(oldest)
    .bind(newest)
    .fetch_all(&mut *conn)
    .await?;
    let mut events = LeasedEvents::with_capacity(rows.len());
    for row in &rows {
        let event = LeasedEvent {
            event_type: row.text("event_type")?,
            traceparent: row.opt_text("traceparent")?,
            payload: row.text("payload")?.into(),
        };
        events.insert(row.text("id")?, event);
    }
    Ok(events)
}

/// The leased rows in the order their attempts should start (one per webhook per round, in
/// `shares`' order), within the byte cap, and the `seq`s of those past it.
fn within_bytes(
    leased: Vec<PgRow>,
    events: &LeasedEvents,
    shares: &[(String, u32)],
    max_bytes: u64,
) -> StoreResult<(Vec<PgRow>, Vec<i64>)> {
    let position: HashMap<&str, usize> = shares
        .iter()
        .enumerate()
        .map(|(i, (id, _))| (id.as_str(), i))
        .collect();
    let mut per_webhook: Vec<Vec<Candidate>> = vec![Vec::new(); shares.len()];
    let mut by_seq = HashMap::with_capacity(leased.len());
    for row in leased {
        let event_id = row.text("event_id")?;
        let candidate = Candidate {
            seq: row.int("seq")?,
            webhook_id: row.text("webhook_id")?,
            payload_bytes: events.get(&event_id).map_or(0, |e| e.payload.len() as u64),
            event_id,
        };
        if let Some(i) = position.get(candidate.webhook_id.as_str()) {
            per_webhook[*i].push(candidate.clone());
        }
        by_seq.insert(candidate.seq, row);
    }
    let mut kept = Vec::with_capacity(by_seq.len());
    for candidate in interleave_within(per_webhook, max_bytes) {
        if let Some(row) = by_seq.remove(&candidate.seq) {
            kept.push(row);
        }
    }
    Ok((kept, by_seq.into_keys().collect()))
}

/// The leased rows as attempts-to-be, with each webhook's valid signing secrets; deliveries of
/// one event share one payload buffer.
async fn claimed_from(
    store: &PgStore,
    leased: &[PgRow],
    events: &LeasedEvents,
) -> StoreResult<Vec<Claimed>> {
    // Each webhook's secrets opened once, however many of its deliveries were leased.
    let mut signing: HashMap<String, Vec<Secret>> = HashMap::new();
    for row in leased {
        if let Entry::Vacant(slot) = signing.entry(row.text("webhook_id")?) {
            let stored: Vec<String> = row.try_get("secrets")?;
            let opened = stored
                .into_iter()
                .filter_map(|s| open_secret(&store.sealer, slot.key(), s))
                .collect();
            slot.insert(opened);
        }
    }

    let mut claimed = Vec::with_capacity(leased.len());
    for row in leased {
        let webhook_id = row.text("webhook_id")?;
        let event_id = row.text("event_id")?;
        let (Some(url), Some(event)) = (row.opt_text("url")?, events.get(&event_id)) else {
            return Err(StoreError::internal(format!(
                "delivery of {event_id} lost its webhook or event"
            )));
        };
        claimed.push(Claimed {
            delivery_id: row.text("id")?,
            workspace_id: row.text("workspace_id")?,
            event_type: event.event_type.clone(),
            url,
            payload: event.payload.clone(),
            secrets: signing.get(&webhook_id).cloned().unwrap_or_default(),
            trigger: Trigger::parse(&row.text("next_trigger")?).unwrap_or(Trigger::Retry),
            attempts: row.int("attempts")? as u32,
            lease_token: row.int("lease_token")?,
            lease_until: row.int("lease_until")?,
            traceparent: event.traceparent.clone(),
            webhook: claim_options_from(row)?,
            webhook_id,
            event_id,
        });
    }
    Ok(claimed)
}
