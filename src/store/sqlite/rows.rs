//! Turning SQLite rows into records.

use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::domain::attempt::{DeliveryState, Trigger};
use crate::domain::event_type::EventTypeDef;
use crate::domain::webhook::DisabledReason;
use crate::store::{
    Attempt, DeliverySummary, Event, LastAttempt, Page, StoreError, StoreResult, Webhook,
};

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Internal(format!("unexpected {what} {value:?} in the database"))
}

fn json<T: serde::de::DeserializeOwned>(text: &str) -> StoreResult<T> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Internal(format!("bad JSON in the database: {e}")))
}

/// Columns of a webhook row, for `concat!` into static SQL.
macro_rules! webhook_columns {
    () => {
        "seq, id, workspace_id, url, description, event_types, enabled,
    disabled_reason, created_at, updated_at, last_status, last_error, last_succeeded, last_attempt_at"
    };
}
pub(crate) use webhook_columns;

pub fn webhook_from(row: &SqliteRow) -> StoreResult<Webhook> {
    let event_types: String = row.try_get("event_types")?;
    let reason: Option<String> = row.try_get("disabled_reason")?;
    let last_at: Option<i64> = row.try_get("last_attempt_at")?;
    let last_status: Option<i64> = row.try_get("last_status")?;
    Ok(Webhook {
        id: row.try_get("id")?,
        workspace_id: row.try_get("workspace_id")?,
        url: row.try_get("url")?,
        description: row.try_get("description")?,
        event_types: json(&event_types)?,
        enabled: row.try_get("enabled")?,
        disabled_reason: reason
            .map(|r| DisabledReason::parse(&r).ok_or_else(|| corrupt("disabled reason", &r)))
            .transpose()?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        last_attempt: match last_at {
            Some(at) => Some(LastAttempt {
                http_status: last_status.map(|s| s as u16),
                error: row.try_get("last_error")?,
                succeeded: row
                    .try_get::<Option<bool>, _>("last_succeeded")?
                    .unwrap_or(false),
                at,
            }),
            None => None,
        },
    })
}

macro_rules! event_columns {
    () => {
        "seq, id, workspace_id, event_type, payload, created_at, delivery_count"
    };
}
pub(crate) use event_columns;

pub fn event_from(row: &SqliteRow) -> StoreResult<Event> {
    Ok(Event {
        id: row.try_get("id")?,
        workspace_id: row.try_get("workspace_id")?,
        event_type: row.try_get("event_type")?,
        payload: row.try_get("payload")?,
        created_at: row.try_get("created_at")?,
        delivery_count: row.try_get::<i64, _>("delivery_count")? as u32,
    })
}

pub fn delivery_summary_from(row: &SqliteRow) -> StoreResult<DeliverySummary> {
    let state: String = row.try_get("state")?;
    let state = DeliveryState::parse(&state).ok_or_else(|| corrupt("delivery state", &state))?;
    Ok(DeliverySummary {
        id: row.try_get("id")?,
        webhook_id: row.try_get("webhook_id")?,
        state,
        attempts: row.try_get::<i64, _>("attempts")? as u32,
        // While a lease is held, `next_attempt_at` is the lease's end; it is still the earliest
        // time the next attempt can happen, so it is shown as is.
        next_attempt_at: if state == DeliveryState::Pending {
            row.try_get("next_attempt_at")?
        } else {
            None
        },
    })
}

macro_rules! attempt_columns {
    () => {
        "a.seq, a.id, a.webhook_id, a.delivery_id, a.event_id, a.event_type,
    a.attempt, a.trigger, a.timestamp, a.http_status, a.error, a.duration_ms, a.response,
    a.response_truncated, a.next_attempt_at, e.payload"
    };
}
pub(crate) use attempt_columns;

pub fn attempt_from(row: &SqliteRow) -> StoreResult<Attempt> {
    let trigger: String = row.try_get("trigger")?;
    Ok(Attempt {
        id: row.try_get("id")?,
        webhook_id: row.try_get("webhook_id")?,
        delivery_id: row.try_get("delivery_id")?,
        event_id: row.try_get("event_id")?,
        event_type: row.try_get("event_type")?,
        attempt: row.try_get::<i64, _>("attempt")? as u32,
        trigger: Trigger::parse(&trigger).ok_or_else(|| corrupt("trigger", &trigger))?,
        timestamp: row.try_get("timestamp")?,
        http_status: row
            .try_get::<Option<i64>, _>("http_status")?
            .map(|s| s as u16),
        error: row.try_get("error")?,
        duration_ms: row.try_get("duration_ms")?,
        payload: row.try_get("payload")?,
        response: row.try_get("response")?,
        response_truncated: row.try_get("response_truncated")?,
        next_attempt_at: row.try_get("next_attempt_at")?,
    })
}

pub fn event_type_from(row: &SqliteRow) -> StoreResult<EventTypeDef> {
    let schema: String = row.try_get("schema")?;
    let example: String = row.try_get("example")?;
    Ok(EventTypeDef {
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        schema: json(&schema)?,
        example: json(&example)?,
    })
}

/// Builds a page from rows fetched with `LIMIT limit + 1`: the extra row only says "there is more".
pub fn page<T>(
    rows: &[SqliteRow],
    limit: u32,
    convert: impl Fn(&SqliteRow) -> StoreResult<T>,
) -> StoreResult<Page<T>> {
    let limit = limit as usize;
    let mut items = Vec::with_capacity(rows.len().min(limit));
    let mut next_cursor = None;
    for row in rows.iter().take(limit) {
        items.push(convert(row)?);
        next_cursor = Some(row.try_get::<i64, _>("seq")?);
    }
    if rows.len() <= limit {
        next_cursor = None;
    }
    Ok(Page { items, next_cursor })
}
