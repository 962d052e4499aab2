//! The events log: a workspace's events newest first, filtered by type, time, delivery state,
//! webhook and what their `data` holds.
//!
//! A search by `data` is evaluated here, in Rust, on each candidate's payload (SQLite has no
//! index over JSON values): candidates are read newest first in chunks, and one page reads at
//! most [`MAX_SCANNED`] of them. A page that stops there answers what it found with a cursor
//! past the last event read, so the next page goes on from there: a search costs at most that
//! many payloads per request, however large the history.

use rusqlite::{Connection, params};

use super::rows::event_columns;
use crate::domain::routing::EventData;
use crate::store::rows::{Columns, event_from};
use crate::store::{Event, EventFilter, Page, PageRequest, StoreResult};

/// The most events one page of a `data` search reads.
pub const MAX_SCANNED: usize = 20_000;
/// Candidates read per statement while searching (a multiple divides [`MAX_SCANNED`]).
const CHUNK: i64 = 500;

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
    let mut query = conn.prepare_cached(concat!(
        "SELECT ",
        event_columns!(),
        " FROM events e WHERE workspace_id = ?1 AND is_test = 0
          AND (?2 IS NULL OR event_type = ?2)
          AND (?3 IS NULL OR seq < ?3)
          AND (?4 IS NULL OR created_at >= ?4)
          AND (?5 IS NULL OR created_at <= ?5)
          AND (?6 IS NULL OR EXISTS (SELECT 1 FROM deliveries d
                                     WHERE d.event_id = e.id AND d.state = ?6))
          AND (?7 IS NULL OR EXISTS (SELECT 1 FROM deliveries d
                                     WHERE d.event_id = e.id AND d.webhook_id = ?7))
          ORDER BY seq DESC LIMIT ?8"
    ))?;
    let wanted = req.limit as usize;
    let chunk = match filter.data {
        Some(_) => CHUNK,
        // Without a data search every candidate is a match: one more tells if a page follows.
        None => i64::from(req.limit) + 1,
    };
    let state = filter.state.map(|s| s.as_str());
    let mut items = Vec::new();
    let mut cursor = req.cursor;
    let mut scanned = 0;
    loop {
        let mut rows = query.query(params![
            workspace_id,
            filter.event_type,
            cursor,
            filter.since,
            filter.until,
            state,
            filter.webhook_id,
            chunk
        ])?;
        let mut read = 0;
        while let Some(row) = rows.next()? {
            read += 1;
            scanned += 1;
            let seq = row.int("seq")?;
            let event = event_from(row)?;
            if passes(filter, &event) {
                if items.len() == wanted {
                    // A match beyond the page: the next page starts after the last one shown.
                    return Ok(Page {
                        next_cursor: cursor_after(&items),
                        items: items.into_iter().map(|(_, e)| e).collect(),
                    });
                }
                items.push((seq, event));
            }
            cursor = Some(seq);
        }
        if read < chunk {
            // Every candidate was read.
            return Ok(Page {
                items: items.into_iter().map(|(_, e)| e).collect(),
                next_cursor: None,
            });
        }
        if scanned >= max_scanned {
            // The bound: answer what was found, and go on past the last event read.
            return Ok(Page {
                items: items.into_iter().map(|(_, e)| e).collect(),
                next_cursor: cursor,
            });
        }
    }
}

fn passes(filter: &EventFilter, event: &Event) -> bool {
    filter.data.as_ref().is_none_or(|search| {
        let mut data = EventData::new(&event.payload);
        data.value().is_some_and(|data| search.matches(data))
    })
}

fn cursor_after(items: &[(i64, Event)]) -> Option<i64> {
    items.last().map(|(seq, _)| *seq)
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
