//! The events log: a workspace's events newest first, filtered by type, time, delivery state,
//! webhook and what their `data` holds.
//!
//! Its cost must not grow with the history kept, and SQLite has no index for most filters: none
//! over JSON values, and a delivery state or webhook rare among the events could otherwise make
//! one page read them all. So:
//! - A time window is first turned into a range of `seq` (the order events were recorded in)
//!   with two seeks of `events_by_created`, so that a day three weeks ago reads that day only.
//!   The range is widened by [`CLOCK_SLACK_MS`] on each side because recording order and
//!   `created_at` can disagree slightly (requests accepted concurrently, a clock corrected
//!   backwards); `created_at` itself is still tested, so the answer is exact unless the clock
//!   stepped back by more than that.
//! - With no other filter, a page is one indexed statement.
//! - With one, candidates (the workspace's events in the range) are read newest first in
//!   chunks of [`CHUNK`], each chunk's matches found by one statement over its `seq` range (the
//!   delivery tests are one probe of `deliveries_by_event` per candidate) and a `data` search
//!   evaluated here in Rust on each payload. One page reads at most [`MAX_SCANNED`] candidates;
//!   a page that stops there answers what it found with a cursor past the last candidate read,
//!   so the next page goes on from there: a search costs at most that many events per request,
//!   however large the history.

use rusqlite::{Connection, OptionalExtension, params};

use super::rows::event_columns;
use crate::domain::routing::EventData;
use crate::store::rows::{Columns, event_from};
use crate::store::{Event, EventFilter, Page, PageRequest, StoreResult};

/// The most candidates one page of a filtered listing reads.
pub const MAX_SCANNED: usize = 20_000;
/// Candidates read per statement while filtering (a multiple divides [`MAX_SCANNED`]).
const CHUNK: i64 = 500;
/// How far recording order and `created_at` may disagree for a time window to stay exact.
pub const CLOCK_SLACK_MS: i64 = 60_000;

/// The workspace's events in `[?2, ?3)` of `seq` within the time window, newest first.
macro_rules! in_range {
    () => {
        " workspace_id = ?1 AND is_test = 0 AND seq >= ?2 AND seq < ?3
          AND (?4 IS NULL OR created_at >= ?4) AND (?5 IS NULL OR created_at <= ?5)"
    };
}

pub fn list(
    conn: &Connection,
    workspace_id: &str,
    filter: &EventFilter,
    req: PageRequest,
) -> StoreResult<Page<Event>> {
    list_reading_at_most(conn, workspace_id, filter, req, MAX_SCANNED)
}

fn list_reading_at_most(
    conn: &Connection,
    workspace_id: &str,
    filter: &EventFilter,
    req: PageRequest,
    max_scanned: usize,
) -> StoreResult<Page<Event>> {
    let Some((low, high)) = seq_range(conn, filter, req.cursor)? else {
        return Ok(Page {
            items: Vec::new(),
            next_cursor: None,
        });
    };
    let sparse = filter.event_type.is_some()
        || filter.state.is_some()
        || filter.webhook_id.is_some()
        || filter.data.is_some();
    if !sparse {
        let query = conn.prepare_cached(concat!(
            "SELECT ",
            event_columns!(),
            " FROM events WHERE",
            in_range!(),
            " ORDER BY seq DESC LIMIT ?6"
        ))?;
        return super::rows::page(
            query,
            params![
                workspace_id,
                low,
                high,
                filter.since,
                filter.until,
                i64::from(req.limit) + 1
            ],
            req.limit,
            |r| event_from(r),
        );
    }
    let mut candidates = conn.prepare_cached(concat!(
        "SELECT seq FROM events WHERE",
        in_range!(),
        " ORDER BY seq DESC LIMIT ?6"
    ))?;
    // `+d.…`: never the index on that column, which would read every delivery of the state
    // or webhook for each candidate; `deliveries_by_event` finds the event's one or few.
    let mut matches = conn.prepare_cached(concat!(
        "SELECT ",
        event_columns!(),
        " FROM events e WHERE",
        in_range!(),
        " AND (?6 IS NULL OR event_type = ?6)
          AND (?7 IS NULL OR EXISTS (SELECT 1 FROM deliveries d
                                     WHERE d.event_id = e.id AND +d.state = ?7))
          AND (?8 IS NULL OR EXISTS (SELECT 1 FROM deliveries d
                                     WHERE d.event_id = e.id AND +d.webhook_id = ?8))
          ORDER BY seq DESC"
    ))?;
    let wanted = req.limit as usize;
    let state = filter.state.map(|s| s.as_str());
    let mut items: Vec<(i64, Event)> = Vec::new();
    let mut top = high;
    let mut scanned = 0;
    loop {
        let seqs: Vec<i64> = candidates
            .query_map(
                params![workspace_id, low, top, filter.since, filter.until, CHUNK],
                |r| r.get(0),
            )?
            .collect::<Result<_, _>>()?;
        let Some(&oldest) = seqs.last() else {
            return Ok(finished(items, None));
        };
        scanned += seqs.len();
        let mut rows = matches.query(params![
            workspace_id,
            oldest,
            top,
            filter.since,
            filter.until,
            filter.event_type,
            state,
            filter.webhook_id
        ])?;
        while let Some(row) = rows.next()? {
            let seq = row.int("seq")?;
            let event = event_from(row)?;
            if passes(filter, &event) {
                if items.len() == wanted {
                    // A match beyond the page: the next page starts after the last one shown.
                    let next = items.last().map(|(seq, _)| *seq);
                    return Ok(finished(items, next));
                }
                items.push((seq, event));
            }
        }
        if seqs.len() < CHUNK as usize {
            // Every candidate was read.
            return Ok(finished(items, None));
        }
        top = oldest;
        if scanned >= max_scanned {
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
fn seq_range(
    conn: &Connection,
    filter: &EventFilter,
    cursor: Option<i64>,
) -> StoreResult<Option<(i64, i64)>> {
    let seek = |sql: &str, at: i64| -> StoreResult<Option<i64>> {
        let mut query = conn.prepare_cached(sql)?;
        Ok(query.query_row([at], |r| r.get(0)).optional()?)
    };
    let mut high = cursor.unwrap_or(i64::MAX);
    if let Some(until) = filter.until {
        let after = seek(
            "SELECT seq FROM events WHERE created_at > ?1 ORDER BY created_at, seq LIMIT 1",
            until.saturating_add(CLOCK_SLACK_MS),
        )?;
        high = high.min(after.unwrap_or(i64::MAX));
    }
    let mut low = 0;
    if let Some(since) = filter.since {
        let before = seek(
            "SELECT seq FROM events WHERE created_at < ?1
             ORDER BY created_at DESC, seq DESC LIMIT 1",
            since.saturating_sub(CLOCK_SLACK_MS),
        )?;
        low = before.map_or(0, |seq| seq + 1);
    }
    Ok((low < high).then_some((low, high)))
}

fn passes(filter: &EventFilter, event: &Event) -> bool {
    filter.data.as_ref().is_none_or(|search| {
        let mut data = EventData::new(&event.payload);
        data.value().is_some_and(|data| search.matches(data))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::data_search::DataSearch;

    /// A database of `n` events, the every-100th one (from the oldest) holding `agent_id`
    /// `wanted`, the others `other`.
    fn events(n: usize) -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        super::super::migrate::run(&mut conn).unwrap();
        let mut insert = conn
            .prepare(
                "INSERT INTO events (id, workspace_id, event_type, payload, created_at,
                     delivery_count) VALUES (?1, 'ws', 'SessionStarted', ?2, ?3, 0)",
            )
            .unwrap();
        for i in 0..n {
            let agent = if i % 100 == 0 { "wanted" } else { "other" };
            let payload = format!(r#"{{"id":"evt_{i}","data":{{"agent_id":"{agent}"}}}}"#);
            insert
                .execute(params![format!("evt_{i}"), payload, i as i64])
                .unwrap();
        }
        drop(insert);
        conn
    }

    fn search() -> EventFilter {
        let condition = [("agent_id".to_string(), "wanted".to_string())];
        EventFilter {
            data: DataSearch::parse(&condition).unwrap(),
            ..EventFilter::default()
        }
    }

    #[test]
    fn a_data_search_reads_a_bounded_number_of_events_per_page_and_goes_on_from_there() {
        let conn = events(3_000);
        let mut cursor = None;
        let mut found = Vec::new();
        let mut pages = 0;
        loop {
            let request = PageRequest { limit: 50, cursor };
            let page = list_reading_at_most(&conn, "ws", &search(), request, 1_000).unwrap();
            pages += 1;
            assert!(
                page.items.len() <= 10,
                "1,000 events read hold 10 matches at most"
            );
            found.extend(page.items.into_iter().map(|e| e.id));
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        // Three pages read 1,000 events each; the third stops at its bound on the oldest event,
        // so it cannot know it was the last: a fourth, empty page says so.
        assert_eq!(pages, 4);
        let expected: Vec<String> = (0..30).rev().map(|i| format!("evt_{}", i * 100)).collect();
        assert_eq!(found, expected, "every match once, newest first");
    }
}
