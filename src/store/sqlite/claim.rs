//! Claiming on SQLite, inside the writer's transaction: find the webhooks with due deliveries,
//! share the worker's budget among them fairly (`domain::fair_share`: round-robin, each webhook
//! within what it may start, the byte cap), take each one's oldest due deliveries, and lease
//! them by moving `next_attempt_at` to the lease's end and bumping `lease_token`. The claim then
//! commits: no transaction is ever open during an HTTP call. If the worker dies, the lease
//! simply runs out and the delivery is due again.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};

use super::rows::all;
use crate::domain::attempt::Trigger;
use crate::domain::delivery_options::Headers;
use crate::domain::fair_share::{Candidate, interleave_within, share};
use crate::domain::sealing::Sealer;
use crate::domain::time::Millis;
use crate::domain::webhook::Secret;
use crate::store::restricted::{RESTRICTED_COLUMNS, Restricted};
use crate::store::rows::{open_secret, retry_schedule_from};
use crate::store::{ClaimOptions, ClaimRequest, Claimed, StoreError, StoreResult};

/// How many due deliveries the first look at the queue reads, in due order. When there are
/// fewer, it has seen every webhook with due work; behind a larger backlog, the claim walks the
/// webhooks instead (one index seek each), so a backlog's size never decides who is served nor
/// what a claim costs.
const FIRST_LOOK: i64 = 64;

/// A leased row, before its event and webhook are looked up.
struct Leased {
    seq: i64,
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
        "seq, id, workspace_id, webhook_id, event_id, next_trigger, attempts, lease_token,
         retry_schedule, next_attempt_at"
    };
}

fn leased_from(row: &rusqlite::Row<'_>) -> StoreResult<Leased> {
    Ok(Leased {
        seq: row.get(0)?,
        delivery_id: row.get(1)?,
        workspace_id: row.get(2)?,
        webhook_id: row.get(3)?,
        event_id: row.get(4)?,
        trigger: row.get(5)?,
        attempts: row.get(6)?,
        lease_token: row.get(7)?,
        retry_schedule: row.get(8)?,
        lease_until: row.get(9)?,
    })
}

/// Leases due deliveries, fairly shared among the webhooks that have any (see the module
/// comment), and returns them in the order their attempts should start.
pub fn claim(conn: &Connection, req: &ClaimRequest, sealer: &Sealer) -> StoreResult<Vec<Claimed>> {
    let budget = &req.budget;
    if budget.room == 0 {
        return Ok(Vec::new());
    }
    let due = due_webhooks(conn, req.now, budget.most_per_webhook())?;
    let shares = share(&due, budget);
    if shares.is_empty() {
        return Ok(Vec::new());
    }
    let restricted = restricted_webhooks(conn)?;
    let mut per_webhook = Vec::with_capacity(shares.len());
    for (webhook_id, n) in &shares {
        per_webhook.push(match restricted.get(webhook_id) {
            Some(webhook) => restricted_candidates(conn, req.now, webhook, i64::from(*n))?,
            None => candidates(conn, req.now, webhook_id, i64::from(*n))?,
        });
    }
    let picked = interleave_within(per_webhook, budget.max_bytes);
    count_rate_windows(conn, req.now, &restricted, &picked)?;
    let leased = lease(conn, req, &picked)?;
    claimed_from(conn, sealer, leased, req.now)
}

/// Every webhook with a due delivery, sorted by id, with how many it has due (counted up to
/// `most`, what one webhook can get).
fn due_webhooks(conn: &Connection, now: Millis, most: u32) -> StoreResult<Vec<(String, u32)>> {
    let mut first_look = conn.prepare_cached(
        "SELECT webhook_id FROM deliveries INDEXED BY deliveries_due
         WHERE state = 'pending' AND held = 0 AND next_attempt_at <= ?1
         ORDER BY next_attempt_at LIMIT ?2",
    )?;
    let mut rows = first_look.query(params![now, FIRST_LOOK])?;
    let (mut seen, mut read) = (BTreeMap::new(), 0);
    while let Some(row) = rows.next()? {
        *seen.entry(row.get::<_, String>(0)?).or_insert(0u32) += 1;
        read += 1;
    }
    if read < FIRST_LOOK {
        return Ok(seen.into_iter().collect());
    }
    // A skip-scan: the first entry of each webhook in `deliveries_due_by_webhook` is its
    // earliest pending delivery, so it says whether the webhook has anything due.
    let mut next = conn.prepare_cached(
        "SELECT webhook_id, next_attempt_at FROM deliveries INDEXED BY deliveries_due_by_webhook
         WHERE state = 'pending' AND held = 0 AND next_attempt_at IS NOT NULL AND webhook_id > ?1
         ORDER BY webhook_id, next_attempt_at LIMIT 1",
    )?;
    let mut count = conn.prepare_cached(
        "SELECT count(*) FROM (SELECT 1 FROM deliveries INDEXED BY deliveries_due_by_webhook
             WHERE webhook_id = ?1 AND state = 'pending' AND held = 0
               AND next_attempt_at IS NOT NULL AND next_attempt_at <= ?2 LIMIT ?3)",
    )?;
    let (mut due, mut after) = (Vec::new(), String::new());
    while let Some((webhook_id, due_at)) = next
        .query_row([&after], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Millis>(1)?))
        })
        .optional()?
    {
        if due_at <= now {
            let n: u32 = count.query_row(params![webhook_id, now, most], |r| r.get(0))?;
            due.push((webhook_id.clone(), n));
        }
        after = webhook_id;
    }
    Ok(due)
}

/// The ordered and rate-limited webhooks (few), by id.
fn restricted_webhooks(conn: &Connection) -> StoreResult<HashMap<String, Restricted>> {
    let query = conn.prepare_cached(&format!(
        "SELECT {RESTRICTED_COLUMNS} FROM webhooks WHERE ordered = 1 OR rate_limit IS NOT NULL"
    ))?;
    let list = all(query, [], |row| Restricted::from_row(row))?;
    Ok(list.into_iter().map(|w| (w.id.clone(), w)).collect())
}

fn candidate_from(webhook_id: &str) -> impl Fn(&rusqlite::Row<'_>) -> StoreResult<Candidate> {
    move |row| {
        Ok(Candidate {
            seq: row.get(0)?,
            webhook_id: webhook_id.to_string(),
            event_id: row.get(1)?,
            payload_bytes: row.get::<_, i64>(2)?.max(0) as u64,
        })
    }
}

/// A webhook's `n` oldest due deliveries, with their payload's size (read from the record's
/// header, not the payload).
fn candidates(
    conn: &Connection,
    now: Millis,
    webhook_id: &str,
    n: i64,
) -> StoreResult<Vec<Candidate>> {
    let query = conn.prepare_cached(
        "SELECT d.seq, d.event_id, octet_length(e.payload)
         FROM deliveries d INDEXED BY deliveries_due_by_webhook JOIN events e ON e.id = d.event_id
         WHERE d.webhook_id = ?1 AND d.state = 'pending' AND d.held = 0
           AND d.next_attempt_at IS NOT NULL AND d.next_attempt_at <= ?2
         ORDER BY d.next_attempt_at LIMIT ?3",
    )?;
    all(
        query,
        params![webhook_id, now, n],
        candidate_from(webhook_id),
    )
}

/// What an ordered or rate-limited webhook allows now, at most `n`. An ordered webhook offers
/// only its oldest pending delivery, and only once that one is due: while it is in flight (its
/// lease is in the future) or waits for a retry, the ones behind it wait too.
fn restricted_candidates(
    conn: &Connection,
    now: Millis,
    webhook: &Restricted,
    n: i64,
) -> StoreResult<Vec<Candidate>> {
    let allowed = webhook.allowance(now).min(n);
    if allowed == 0 {
        return Ok(Vec::new());
    }
    if !webhook.ordered {
        return candidates(conn, now, &webhook.id, allowed);
    }
    let head = conn.prepare_cached(
        "SELECT d.seq, d.event_id, octet_length(e.payload), d.next_attempt_at
         FROM deliveries d JOIN events e ON e.id = d.event_id
         WHERE d.webhook_id = ?1 AND d.state = 'pending' AND d.held = 0
           AND d.next_attempt_at IS NOT NULL
         ORDER BY d.seq LIMIT 1",
    )?;
    let due = |row: &rusqlite::Row<'_>| -> StoreResult<Option<Candidate>> {
        let due_at: Millis = row.get(3)?;
        (due_at <= now)
            .then(|| candidate_from(&webhook.id)(row))
            .transpose()
    };
    Ok(all(head, [&webhook.id], due)?
        .into_iter()
        .flatten()
        .collect())
}

/// Counts the attempts this claim starts against each rate-limited webhook's current second.
fn count_rate_windows(
    conn: &Connection,
    now: Millis,
    restricted: &HashMap<String, Restricted>,
    picked: &[Candidate],
) -> StoreResult<()> {
    for webhook in restricted.values().filter(|w| w.rate_limit.is_some()) {
        let taken = picked.iter().filter(|c| c.webhook_id == webhook.id).count() as i64;
        if taken > 0 {
            let (start, count) = webhook.window_after(now, taken);
            conn.prepare_cached(
                "UPDATE webhooks SET rate_window_start = ?1, rate_window_count = ?2 WHERE id = ?3",
            )?
            .execute(params![start, count, webhook.id])?;
        }
    }
    Ok(())
}

/// Leases the picked deliveries, in the order they were picked.
fn lease(conn: &Connection, req: &ClaimRequest, picked: &[Candidate]) -> StoreResult<Vec<Leased>> {
    if picked.is_empty() {
        return Ok(Vec::new());
    }
    let seqs: Vec<i64> = picked.iter().map(|c| c.seq).collect();
    let order: HashMap<i64, usize> = seqs.iter().enumerate().map(|(i, s)| (*s, i)).collect();
    let seqs = serde_json::to_string(&seqs)
        .map_err(|e| StoreError::internal(e.to_string()).caused_by(e))?;
    let query = conn.prepare_cached(concat!(
        "UPDATE deliveries SET ",
        lease_columns!(),
        " WHERE seq IN (SELECT value FROM json_each(?4)) RETURNING ",
        leased_columns!()
    ))?;
    let params = params![req.lease_until, req.owner, req.default_timeout, seqs];
    let mut leased = all(query, params, leased_from)?;
    leased.sort_by_key(|l| order.get(&l.seq).copied().unwrap_or(usize::MAX));
    Ok(leased)
}

/// What an attempt needs of each leased delivery: its event and its webhook's URL, options and
/// signing secrets, read in one statement each for the whole claim. Deliveries of one event
/// share one payload buffer.
fn claimed_from(
    conn: &Connection,
    sealer: &Sealer,
    leased: Vec<Leased>,
    now: Millis,
) -> StoreResult<Vec<Claimed>> {
    if leased.is_empty() {
        return Ok(Vec::new());
    }
    let events = stored_events(conn, &leased)?;
    let webhooks = signing_details(conn, sealer, &leased, now)?;
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

/// An event's type, payload (one buffer, shared by its deliveries) and trace context.
type StoredEvent = (String, Arc<str>, Option<String>);

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
        let payload: String = row.get(2)?;
        events.insert(row.get(0)?, (row.get(1)?, payload.into(), row.get(3)?));
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
                .ok_or_else(|| StoreError::internal(format!("bad headers {stored:?} stored")))?;
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
    serde_json::to_string(&distinct).map_err(|e| StoreError::internal(e.to_string()).caused_by(e))
}

fn lost(event_id: &str) -> StoreError {
    StoreError::internal(format!("delivery of {event_id} lost its webhook or event"))
}
