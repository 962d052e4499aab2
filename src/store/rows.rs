//! Turning database rows into records, for every backend: each backend's row type implements
//! [`Columns`], and the mapping from columns to records is written once.

use sqlx::Row;
use sqlx::postgres::PgRow;

use std::time::Duration;

use super::{
    Attempt, ClaimOptions, DeliveryOptions, DeliverySummary, Event, LastAttempt, Page, StoreError,
    StoreResult, Webhook,
};
use crate::domain::attempt::{DeliveryState, Trigger};
use crate::domain::delivery_options::{Filter, Headers, RateLimit, WebhookTimeout};
use crate::domain::event_type::EventTypeDef;
use crate::domain::retry::RetrySchedule;
use crate::domain::webhook::DisabledReason;

// Column lists shared by the backends' queries, as macros so they can be `concat!`ed into
// static SQL (sqlx accepts only `&'static str` queries without an explicit assertion).
macro_rules! webhook_columns {
    () => {
        "seq, id, workspace_id, url, description, event_types, enabled,
    disabled_reason, disabled_at, created_at, updated_at, last_status, last_error, last_succeeded, last_attempt_at,
    last_success_at, failing_since, headers, filter, rate_limit, ordered, timeout_ms, retry_schedule"
    };
}
pub(crate) use webhook_columns;

macro_rules! event_columns {
    () => {
        "seq, id, workspace_id, event_type, payload, created_at, delivery_count"
    };
}
pub(crate) use event_columns;

macro_rules! attempt_columns {
    () => {
        "a.seq, a.id, a.webhook_id, a.delivery_id, a.event_id, a.event_type,
    a.attempt, a.trigger, a.timestamp, a.http_status, a.error, a.duration_ms, a.response,
    a.response_truncated, a.next_attempt_at, e.payload"
    };
}
pub(crate) use attempt_columns;

/// Typed column access, the same on every backend.
pub trait Columns {
    fn text(&self, col: &str) -> StoreResult<String>;
    fn opt_text(&self, col: &str) -> StoreResult<Option<String>>;
    fn int(&self, col: &str) -> StoreResult<i64>;
    fn opt_int(&self, col: &str) -> StoreResult<Option<i64>>;
    fn flag(&self, col: &str) -> StoreResult<bool>;
    fn opt_flag(&self, col: &str) -> StoreResult<Option<bool>>;
    fn bytes(&self, col: &str) -> StoreResult<Vec<u8>>;
}

macro_rules! impl_columns {
    ($row:ty) => {
        impl Columns for $row {
            fn text(&self, col: &str) -> StoreResult<String> {
                Ok(self.try_get(col)?)
            }
            fn opt_text(&self, col: &str) -> StoreResult<Option<String>> {
                Ok(self.try_get(col)?)
            }
            fn int(&self, col: &str) -> StoreResult<i64> {
                Ok(self.try_get(col)?)
            }
            fn opt_int(&self, col: &str) -> StoreResult<Option<i64>> {
                Ok(self.try_get(col)?)
            }
            fn flag(&self, col: &str) -> StoreResult<bool> {
                Ok(self.try_get(col)?)
            }
            fn opt_flag(&self, col: &str) -> StoreResult<Option<bool>> {
                Ok(self.try_get(col)?)
            }
            fn bytes(&self, col: &str) -> StoreResult<Vec<u8>> {
                Ok(self.try_get(col)?)
            }
        }
    };
}

impl_columns!(PgRow);

/// SQLite's rows (`rusqlite`, see `store::sqlite`).
impl Columns for rusqlite::Row<'_> {
    fn text(&self, col: &str) -> StoreResult<String> {
        Ok(self.get(col)?)
    }
    fn opt_text(&self, col: &str) -> StoreResult<Option<String>> {
        Ok(self.get(col)?)
    }
    fn int(&self, col: &str) -> StoreResult<i64> {
        Ok(self.get(col)?)
    }
    fn opt_int(&self, col: &str) -> StoreResult<Option<i64>> {
        Ok(self.get(col)?)
    }
    fn flag(&self, col: &str) -> StoreResult<bool> {
        Ok(self.get(col)?)
    }
    fn opt_flag(&self, col: &str) -> StoreResult<Option<bool>> {
        Ok(self.get(col)?)
    }
    fn bytes(&self, col: &str) -> StoreResult<Vec<u8>> {
        Ok(self.get(col)?)
    }
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::internal(format!("unexpected {what} {value:?} in the database"))
}

pub fn json<T: serde::de::DeserializeOwned>(text: &str) -> StoreResult<T> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::internal(format!("bad JSON in the database: {e}")))
}

pub fn webhook_from(row: &impl Columns) -> StoreResult<Webhook> {
    let reason = row.opt_text("disabled_reason")?;
    Ok(Webhook {
        id: row.text("id")?,
        workspace_id: row.text("workspace_id")?,
        url: row.text("url")?,
        description: row.text("description")?,
        event_types: json(&row.text("event_types")?)?,
        enabled: row.flag("enabled")?,
        disabled_reason: reason
            .map(|r| DisabledReason::parse(&r).ok_or_else(|| corrupt("disabled reason", &r)))
            .transpose()?,
        disabled_at: row.opt_int("disabled_at")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
        last_attempt: match row.opt_int("last_attempt_at")? {
            Some(at) => Some(LastAttempt {
                http_status: row.opt_int("last_status")?.map(|s| s as u16),
                error: row.opt_text("last_error")?,
                succeeded: row.opt_flag("last_succeeded")?.unwrap_or(false),
                at,
                last_success_at: row.opt_int("last_success_at")?,
                failing_since: row.opt_int("failing_since")?,
            }),
            None => None,
        },
        options: options_from(row)?,
    })
}

/// A webhook's options from its `webhook_columns!()`.
pub fn options_from(row: &impl Columns) -> StoreResult<DeliveryOptions> {
    Ok(DeliveryOptions {
        headers: headers_from(&row.text("headers")?)?,
        filter: row
            .opt_text("filter")?
            .map(|f| Filter::from_stored(&f).ok_or_else(|| corrupt("filter", &f)))
            .transpose()?,
        rate_limit: row
            .opt_int("rate_limit")?
            .map(|n| {
                RateLimit::parse(&serde_json::Value::from(n))
                    .ok()
                    .flatten()
                    .ok_or_else(|| corrupt("rate limit", &n.to_string()))
            })
            .transpose()?,
        ordered: row.flag("ordered")?,
        timeout: row.opt_int("timeout_ms")?.map(timeout_from).transpose()?,
        retry_schedule: retry_schedule_from(row.opt_text("retry_schedule")?)?,
    })
}

fn headers_from(text: &str) -> StoreResult<Headers> {
    Headers::from_stored(text).ok_or_else(|| corrupt("headers", text))
}

fn timeout_from(ms: i64) -> StoreResult<WebhookTimeout> {
    WebhookTimeout::parse(&serde_json::Value::String(format!("{ms}ms")))
        .ok()
        .flatten()
        .ok_or_else(|| corrupt("timeout", &ms.to_string()))
}

/// A stored retry schedule (a webhook's, or the copy a delivery keeps).
pub fn retry_schedule_from(text: Option<String>) -> StoreResult<Option<RetrySchedule>> {
    text.map(|t| RetrySchedule::parse(&t).map_err(|_| corrupt("retry schedule", &t)))
        .transpose()
}

/// What a claimed delivery's attempt needs of its webhook's options: the columns `headers` and
/// `timeout_ms` of the webhook and `retry_schedule` of the delivery.
pub fn claim_options_from(row: &impl Columns) -> StoreResult<ClaimOptions> {
    Ok(ClaimOptions {
        headers: headers_from(&row.text("headers")?)?,
        timeout: row
            .opt_int("timeout_ms")?
            .map(|ms| Duration::from_millis(ms as u64)),
        retry_schedule: retry_schedule_from(row.opt_text("retry_schedule")?)?,
    })
}

/// The options as the columns store them, the same on every backend.
pub struct OptionColumns {
    pub headers: String,
    pub filter: Option<String>,
    pub rate_limit: Option<i64>,
    pub ordered: bool,
    pub timeout_ms: Option<i64>,
    pub retry_schedule: Option<String>,
}

impl From<&DeliveryOptions> for OptionColumns {
    fn from(o: &DeliveryOptions) -> Self {
        Self {
            headers: o.headers.to_json(),
            filter: o.filter.as_ref().map(Filter::to_json),
            rate_limit: o.rate_limit.map(|r| i64::from(r.per_second())),
            ordered: o.ordered,
            timeout_ms: o.timeout.map(|t| t.duration().as_millis() as i64),
            retry_schedule: o.retry_schedule.as_ref().map(RetrySchedule::to_text),
        }
    }
}

pub fn event_from(row: &impl Columns) -> StoreResult<Event> {
    Ok(Event {
        id: row.text("id")?,
        workspace_id: row.text("workspace_id")?,
        event_type: row.text("event_type")?,
        payload: row.text("payload")?,
        created_at: row.int("created_at")?,
        delivery_count: row.int("delivery_count")? as u32,
    })
}

pub fn delivery_summary_from(row: &impl Columns) -> StoreResult<DeliverySummary> {
    let state = row.text("state")?;
    let state = DeliveryState::parse(&state).ok_or_else(|| corrupt("delivery state", &state))?;
    Ok(DeliverySummary {
        id: row.text("id")?,
        webhook_id: row.text("webhook_id")?,
        state,
        attempts: row.int("attempts")? as u32,
        // While a lease is held, `next_attempt_at` is the lease's end: still the earliest time
        // the next attempt can happen, so it is shown as is.
        next_attempt_at: if state == DeliveryState::Pending {
            row.opt_int("next_attempt_at")?
        } else {
            None
        },
    })
}

pub fn attempt_from(row: &impl Columns) -> StoreResult<Attempt> {
    let trigger = row.text("trigger")?;
    Ok(Attempt {
        id: row.text("id")?,
        webhook_id: row.text("webhook_id")?,
        delivery_id: row.text("delivery_id")?,
        event_id: row.text("event_id")?,
        event_type: row.text("event_type")?,
        attempt: row.int("attempt")? as u32,
        trigger: Trigger::parse(&trigger).ok_or_else(|| corrupt("trigger", &trigger))?,
        timestamp: row.int("timestamp")?,
        http_status: row.opt_int("http_status")?.map(|s| s as u16),
        error: row.opt_text("error")?,
        duration_ms: row.int("duration_ms")?,
        payload: row.text("payload")?.into(),
        response: row.text("response")?,
        response_truncated: row.flag("response_truncated")?,
        next_attempt_at: row.opt_int("next_attempt_at")?,
    })
}

pub fn event_type_from(row: &impl Columns) -> StoreResult<EventTypeDef> {
    Ok(EventTypeDef {
        name: row.text("name")?,
        description: row.text("description")?,
        schema: json(&row.text("schema")?)?,
        example: json(&row.text("example")?)?,
    })
}

/// Builds a page from rows fetched with `LIMIT limit + 1`: the extra row only says "there is more".
pub fn page<R: Columns, T>(
    rows: &[R],
    limit: u32,
    convert: impl Fn(&R) -> StoreResult<T>,
) -> StoreResult<Page<T>> {
    let limit = limit as usize;
    let mut items = Vec::with_capacity(rows.len().min(limit));
    let mut next_cursor = None;
    for row in rows.iter().take(limit) {
        items.push(convert(row)?);
        next_cursor = Some(row.int("seq")?);
    }
    if rows.len() <= limit {
        next_cursor = None;
    }
    Ok(Page { items, next_cursor })
}

pub use crate::domain::routing::{EventData, Subscriber};

impl Subscriber {
    pub fn from_row(row: &impl Columns) -> StoreResult<Self> {
        Ok(Self {
            event_types: Some(json(&row.text("event_types")?)?),
            ..Self::subscribed_from_row(row)?
        })
    }

    /// From a row of a query that kept only the webhooks subscribed to the event's type (the
    /// columns `id, filter, retry_schedule`).
    pub fn subscribed_from_row(row: &impl Columns) -> StoreResult<Self> {
        Ok(Self {
            id: row.text("id")?,
            event_types: None,
            filter: row
                .opt_text("filter")?
                .map(|f| Filter::from_stored(&f).ok_or_else(|| corrupt("filter", &f)))
                .transpose()?,
            retry_schedule: row.opt_text("retry_schedule")?,
        })
    }
}

/// `(webhook_id, secret)` rows opened with the sealer. A secret that cannot be opened (encrypted,
/// but the key is missing or wrong) is left out and logged, so one misconfigured secret does not
/// stop the whole queue; a delivery left with no secret is not sent (see `Deliverer::attempt`).
pub fn secrets_from(
    rows: &[impl Columns],
    sealer: &crate::domain::sealing::Sealer,
) -> StoreResult<Vec<(String, crate::domain::webhook::Secret)>> {
    let mut secrets = Vec::with_capacity(rows.len());
    for row in rows {
        let webhook_id = row.text("webhook_id")?;
        if let Some(secret) = open_secret(sealer, &webhook_id, row.text("secret")?) {
            secrets.push((webhook_id, secret));
        }
    }
    Ok(secrets)
}

/// One stored secret opened with the sealer, or `None` (logged) when it cannot be read.
pub fn open_secret(
    sealer: &crate::domain::sealing::Sealer,
    webhook_id: &str,
    stored: String,
) -> Option<crate::domain::webhook::Secret> {
    sealer
        .open(stored)
        .map_err(
            |e| tracing::error!(webhook = %webhook_id, error = %e, "cannot read a signing secret"),
        )
        .ok()
}

/// An event a replay chunk read: `seq, id, event_type, payload`.
pub struct ReplayCandidate {
    pub seq: i64,
    pub id: String,
    pub event_type: String,
    pub payload: String,
}

impl ReplayCandidate {
    pub fn from_row(row: &impl Columns) -> StoreResult<Self> {
        Ok(Self {
            seq: row.int("seq")?,
            id: row.text("id")?,
            event_type: row.text("event_type")?,
            payload: row.text("payload")?,
        })
    }
}

/// The events of one replay chunk that go to the webhook (it subscribes to the type and its
/// filter passes), with the last `seq` read: the next chunk starts after it.
pub fn replayed(
    candidates: &[ReplayCandidate],
    webhook: &Subscriber,
) -> (Vec<String>, Option<i64>) {
    let events = candidates
        .iter()
        .filter(|e| webhook.wants(&e.event_type, &mut EventData::new(&e.payload)))
        .map(|e| e.id.clone())
        .collect();
    (events, candidates.last().map(|e| e.seq))
}
