//! Replaying past events to a webhook, one transaction per chunk of events, so a backlog of any
//! size is never held in memory and no transaction stays open for long.

use super::db::query;
use super::{PgStore, notify_wake};
use crate::domain::ids;
use crate::store::rows::{Columns, ReplayCandidate, Subscriber, replayed};
use crate::store::{REPLAY_CHUNK, Replay, StoreResult};

pub async fn replay(store: &PgStore, replay: &Replay) -> StoreResult<Option<u64>> {
    let mut total = 0;
    let mut after = 0;
    loop {
        let Some((made, next)) = chunk(store, replay, after).await? else {
            return Ok(None);
        };
        total += made;
        match next {
            Some(seq) => after = seq,
            None => return Ok(Some(total)),
        }
    }
}

/// One chunk: the events after `after` (by `seq`); `None` when the webhook does not exist,
/// else how many deliveries were made and where the next chunk starts (`None`: done).
async fn chunk(
    store: &PgStore,
    replay: &Replay,
    after: i64,
) -> StoreResult<Option<(u64, Option<i64>)>> {
    let mut tx = store.begin().await?;
    // Holding the webhook's row makes two replays of it take turns, so neither duplicates.
    let row = query(
        "SELECT id, event_types, filter, retry_schedule, enabled FROM webhooks
         WHERE workspace_id = $1 AND id = $2 FOR UPDATE",
    )
    .bind(&replay.workspace_id)
    .bind(&replay.webhook_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let webhook = Subscriber::from_row(&row)?;
    let enabled = row.flag("enabled")?;
    let rows = query(
        "SELECT seq, id, event_type, payload FROM events e
         WHERE workspace_id = $1 AND NOT is_test AND seq > $2
           AND created_at >= $3 AND created_at <= $4
           AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.webhook_id = $5)
         ORDER BY seq LIMIT $6",
    )
    .bind(&replay.workspace_id)
    .bind(after)
    .bind(replay.since)
    .bind(replay.until)
    .bind(&replay.webhook_id)
    .bind(REPLAY_CHUNK)
    .fetch_all(&mut *tx)
    .await?;
    let candidates = rows
        .iter()
        .map(ReplayCandidate::from_row)
        .collect::<StoreResult<Vec<_>>>()?;
    let (events, last) = replayed(&candidates, &webhook);
    if !events.is_empty() {
        let delivery_ids: Vec<String> = events.iter().map(|_| ids::new_id(ids::DELIVERY)).collect();
        query(
            "WITH made AS (
                 INSERT INTO pending_deliveries (id, workspace_id, webhook_id, event_id,
                     event_created_at, next_attempt_at, next_trigger, held, created_at,
                     updated_at, retry_schedule)
                 SELECT t.d, $3, $4, t.e, ev.created_at, $5, 'scheduled', $6, $5, $5, $7
                 FROM UNNEST($1::TEXT[], $2::TEXT[]) AS t(d, e)
                     JOIN events ev ON ev.id = t.e AND ev.workspace_id = $3
                 RETURNING event_id)
             UPDATE events SET delivery_count = delivery_count + 1
             WHERE id IN (SELECT event_id FROM made)",
        )
        .bind(&delivery_ids)
        .bind(&events)
        .bind(&replay.workspace_id)
        .bind(&replay.webhook_id)
        .bind(replay.now)
        .bind(!enabled)
        .bind(&webhook.retry_schedule)
        .execute(&mut *tx)
        .await?;
        notify_wake(&mut tx).await?;
    }
    tx.commit().await?;
    let next = last.filter(|_| candidates.len() as i64 == REPLAY_CHUNK);
    Ok(Some((events.len() as u64, next)))
}
