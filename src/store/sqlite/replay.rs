//! Replaying past events to a webhook, a chunk of events per writer job so that deliveries keep
//! flowing between chunks and a backlog of any size is never held in memory.

use rusqlite::{Connection, OptionalExtension, params};

use super::rows::all;
use crate::domain::ids;
use crate::store::rows::{ReplayCandidate, Subscriber, replayed};
use crate::store::{REPLAY_CHUNK, Replay, StoreResult};

/// One chunk: the events after `after` (by `seq`); `None` when the webhook does not exist,
/// else how many deliveries were made and where the next chunk starts (`None`: done).
pub fn chunk(
    conn: &Connection,
    replay: &Replay,
    after: i64,
) -> StoreResult<Option<(u64, Option<i64>)>> {
    let webhook = conn
        .prepare_cached(
            "SELECT id, event_types, filter, retry_schedule, enabled FROM webhooks
             WHERE workspace_id = ?1 AND id = ?2",
        )?
        .query_row([&replay.workspace_id, &replay.webhook_id], |row| {
            Ok(Subscriber::from_row(row).map(|s| (s, row.get::<_, bool>("enabled"))))
        })
        .optional()?
        .transpose()?;
    let Some((webhook, enabled)) = webhook else {
        return Ok(None);
    };
    let enabled = enabled?;
    let candidates = all(
        conn.prepare_cached(
            // The unary `+`s keep the planner on the right indexes: the events in `seq` order
            // from the cursor (not the whole window by `created_at`), and an event's deliveries
            // by `event_id` (not every delivery of the webhook, which grows as the replay goes).
            "SELECT seq, id, event_type, payload FROM events e
             WHERE workspace_id = ?1 AND is_test = 0 AND seq > ?2
               AND +created_at >= ?3 AND +created_at <= ?4
               AND NOT EXISTS (SELECT 1 FROM deliveries d
                               WHERE d.event_id = e.id AND +d.webhook_id = ?5)
             ORDER BY seq LIMIT ?6",
        )?,
        params![
            replay.workspace_id,
            after,
            replay.since,
            replay.until,
            replay.webhook_id,
            REPLAY_CHUNK
        ],
        |row| ReplayCandidate::from_row(row),
    )?;
    let (events, last) = replayed(&candidates, &webhook);
    let mut insert = conn.prepare_cached(
        "INSERT INTO deliveries (id, workspace_id, webhook_id, event_id, state, next_attempt_at,
             next_trigger, held, created_at, updated_at, retry_schedule)
         VALUES (?1, ?2, ?3, ?4, 'pending', ?5, 'scheduled', ?6, ?5, ?5, ?7)",
    )?;
    let mut count =
        conn.prepare_cached("UPDATE events SET delivery_count = delivery_count + 1 WHERE id = ?1")?;
    for event_id in &events {
        insert.execute(params![
            ids::new_id(ids::DELIVERY),
            replay.workspace_id,
            replay.webhook_id,
            event_id,
            replay.now,
            !enabled,
            webhook.retry_schedule
        ])?;
        count.execute([event_id])?;
    }
    let next = last.filter(|_| candidates.len() as i64 == REPLAY_CHUNK);
    Ok(Some((events.len() as u64, next)))
}
