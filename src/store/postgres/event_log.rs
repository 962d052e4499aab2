//! The events log: a workspace's events newest first, filtered by type, time, delivery state,
//! webhook and what their `data` holds. Its cost must not grow with the history kept:
//! - A time window is first turned into a range of `seq` (the order events were recorded in)
//!   with two seeks of `events_by_created`, so that a day three weeks ago reads that day only.
//!   The range is widened by [`CLOCK_SLACK_MS`] on each side because recording order and
//!   `created_at` can disagree slightly (events committed concurrently by several processes, a
//!   clock corrected backwards); `created_at` itself is still tested, so the answer is exact
//!   unless the clock stepped back by more than that.
//! - A search by `data` is one containment test on the payload's `data` that the GIN index
//!   `events_data` serves (migration 0010, whose expression the statement repeats exactly): its
//!   cost follows the number of matches, never the table (see `BY_DATA` for the plan).
//! - With no filter but time, a page is one indexed statement.
//! - With a type, state or webhook filter, which no index orders by `seq`, candidates are read
//!   newest first in chunks of [`CHUNK`], each chunk's matches found by one statement over its
//!   `seq` range (one probe of `deliveries_by_event` per candidate), and one page reads at most
//!   [`MAX_SCANNED`] candidates: a page that stops there answers what it found with a cursor past
//!   the last candidate read, so the next page goes on from there. Without this, a state or
//!   webhook that no event has made PostgreSQL read every event (4.4 s at 2,000,000).

use sqlx::Row;

use super::PgStore;
use super::db::{Run, query};
use crate::store::rows::{event_columns, event_from, page};
use crate::store::{Event, EventFilter, Page, PageRequest, StoreResult};

/// The most candidates one page of a type, state or webhook filter reads.
pub const MAX_SCANNED: usize = 20_000;
/// Candidates read per statement while filtering (a multiple divides [`MAX_SCANNED`]).
const CHUNK: i64 = 500;
/// How far recording order and `created_at` may disagree for a time window to stay exact.
pub const CLOCK_SLACK_MS: i64 = 60_000;

/// The workspace's events in `[$2, $3)` of `seq` within the time window. Given `seq + 0`, the
/// range is only a test: with a data search the GIN index must drive alone, or the planner
/// ANDs it with a scan of the primary key over the whole range (95 ms at 2,000,000 events
/// for a conversation id that the GIN index alone finds in under 1 ms).
macro_rules! in_range {
    () => {
        in_range!("seq")
    };
    ($seq:literal) => {
        concat!(
            " workspace_id = $1 AND NOT is_test AND ",
            $seq,
            " >= $2 AND ",
            $seq,
            " < $3
          AND ($4::BIGINT IS NULL OR created_at >= $4)
          AND ($5::BIGINT IS NULL OR created_at <= $5)"
        )
    };
}

/// The type, state and webhook tests, `$6` to `$8`.
macro_rules! sparse {
    () => {
        " AND ($6::TEXT IS NULL OR event_type = $6)
          AND ($7::TEXT IS NULL OR EXISTS (SELECT 1 FROM deliveries d
                                           WHERE d.event_id = e.id AND d.state = $7))
          AND ($8::TEXT IS NULL OR EXISTS (SELECT 1 FROM deliveries d
                                           WHERE d.event_id = e.id AND d.webhook_id = $8))"
    };
}

/// With no filter but time: the newest `$6` of the range.
const PLAIN: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM events WHERE",
    in_range!(),
    " ORDER BY seq DESC LIMIT $6"
);
/// A chunk of candidates, newest first.
const CANDIDATES: &str = concat!(
    "SELECT seq FROM events WHERE",
    in_range!(),
    " ORDER BY seq DESC LIMIT $6"
);
/// A chunk's matches.
const MATCHES: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM events e WHERE",
    in_range!(),
    sparse!(),
    " ORDER BY seq DESC"
);
/// With a data search: `seq + 0` keeps the planner off a backward walk of the primary key,
/// which it picks for the LIMIT because it cannot estimate how rare a `@>` match is (1 % by
/// default). Measured on 1,000,000 events: a conversation id (1 match) took 1.8 s that way and
/// 2 ms through the GIN index; a value held by 2 % of the events takes 111 ms through the index
/// (every match is read, then the newest kept). BENCHMARKS.md has the figures at 10 million.
macro_rules! by_data {
    ($seq:literal) => {
        concat!(
            "SELECT ",
            event_columns!(),
            " FROM events e WHERE",
            in_range!($seq),
            sparse!(),
            " AND (replace(payload, '\\u0000', '\\ufffd')::jsonb -> 'data') @> $10::jsonb
              ORDER BY seq + 0 DESC LIMIT $9"
        )
    };
}
/// A data search over all time: the GIN index alone.
const BY_DATA: &str = by_data!("seq + 0");
/// Within a time window: the planner may AND the GIN index with the window's range of the
/// primary key, which then reads only the matches in the window.
const BY_DATA_IN_WINDOW: &str = by_data!("seq");
/// The first event stamped after a time, and the last stamped before one.
const FIRST_AFTER: &str =
    "SELECT seq FROM events WHERE created_at > $1 ORDER BY created_at LIMIT 1";
const LAST_BEFORE: &str =
    "SELECT seq FROM events WHERE created_at < $1 ORDER BY created_at DESC LIMIT 1";

pub async fn list(
    store: &PgStore,
    workspace_id: &str,
    filter: &EventFilter,
    req: PageRequest,
) -> StoreResult<Page<Event>> {
    let none = || Page {
        items: Vec::new(),
        next_cursor: None,
    };
    let Some((low, high)) = seq_range(store, filter, req.cursor).await? else {
        return Ok(none());
    };
    let in_range = |sql: &'static str| {
        query(sql)
            .bind(workspace_id)
            .bind(low)
            .bind(high)
            .bind(filter.since)
            .bind(filter.until)
    };
    let sparse = |statement: super::db::Query| {
        statement
            .bind(filter.event_type.as_deref())
            .bind(filter.state.map(|s| s.as_str()))
            .bind(filter.webhook_id.as_deref())
    };
    let one_more = i64::from(req.limit) + 1;
    if let Some(search) = &filter.data {
        // Contradicting conditions: no event can match.
        let Some(document) = search.containment() else {
            return Ok(none());
        };
        let windowed = filter.since.is_some() || filter.until.is_some();
        let rows = sparse(in_range(if windowed { BY_DATA_IN_WINDOW } else { BY_DATA }))
            .bind(one_more)
            .bind(document.to_string())
            .fetch_all_on(&store.db)
            .await?;
        return page(&rows, req.limit, event_from);
    }
    if filter.event_type.is_none() && filter.state.is_none() && filter.webhook_id.is_none() {
        let rows = in_range(PLAIN)
            .bind(one_more)
            .fetch_all_on(&store.db)
            .await?;
        return page(&rows, req.limit, event_from);
    }
    let wanted = req.limit as usize;
    let mut items: Vec<(i64, Event)> = Vec::new();
    let mut top = high;
    let mut scanned = 0;
    loop {
        let seqs: Vec<i64> = query(CANDIDATES)
            .bind(workspace_id)
            .bind(low)
            .bind(top)
            .bind(filter.since)
            .bind(filter.until)
            .bind(CHUNK)
            .fetch_all_on(&store.db)
            .await?
            .iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, _>>()?;
        let Some(&oldest) = seqs.last() else {
            return Ok(finished(items, None));
        };
        scanned += seqs.len();
        let rows = sparse(
            query(MATCHES)
                .bind(workspace_id)
                .bind(oldest)
                .bind(top)
                .bind(filter.since)
                .bind(filter.until),
        )
        .fetch_all_on(&store.db)
        .await?;
        for row in &rows {
            if items.len() == wanted {
                // A match beyond the page: the next page starts after the last one shown.
                let next = items.last().map(|(seq, _)| *seq);
                return Ok(finished(items, next));
            }
            items.push((row.try_get("seq")?, event_from(row)?));
        }
        if seqs.len() < CHUNK as usize {
            // Every candidate was read.
            return Ok(finished(items, None));
        }
        top = oldest;
        if scanned >= MAX_SCANNED {
            // The bound: answer what was found, and go on past the last event read.
            return Ok(finished(items, Some(oldest)));
        }
    }
}

fn finished(items: Vec<(i64, Event)>, next_cursor: Option<i64>) -> Page<Event> {
    Page {
        items: items.into_iter().map(|(_, e)| e).collect(),
        next_cursor,
    }
}

/// The `[low, high)` range of `seq` that can hold the events wanted: below the cursor, above
/// the last event stamped more than [`CLOCK_SLACK_MS`] before `since`, below the first stamped
/// more than that after `until` (each one seek of `events_by_created`); `None` when empty.
async fn seq_range(
    store: &PgStore,
    filter: &EventFilter,
    cursor: Option<i64>,
) -> StoreResult<Option<(i64, i64)>> {
    let seek = |sql: &'static str, at: i64| async move {
        match query(sql).bind(at).fetch_optional_on(&store.db).await? {
            Some(row) => Ok::<_, crate::store::StoreError>(Some(row.try_get::<i64, _>(0)?)),
            None => Ok(None),
        }
    };
    let mut high = cursor.unwrap_or(i64::MAX);
    if let Some(until) = filter.until {
        let after = seek(FIRST_AFTER, until.saturating_add(CLOCK_SLACK_MS)).await?;
        high = high.min(after.unwrap_or(i64::MAX));
    }
    let mut low = 0;
    if let Some(since) = filter.since {
        let before = seek(LAST_BEFORE, since.saturating_sub(CLOCK_SLACK_MS)).await?;
        low = before.map_or(0, |seq| seq + 1);
    }
    Ok((low < high).then_some((low, high)))
}
