//! The bodies the routes read and answer, as the OpenAPI document names them. Timestamps stay
//! RFC 3339 strings (no date library forced on you); event data and payloads stay JSON values,
//! since each event type has its own schema. Fields the service adds later are ignored, so a
//! newer service does not break an older client.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A page of a list: `data`, and the cursor of the next page (`None` on the last).
#[derive(Debug, Clone, Deserialize)]
pub struct Page<T> {
    /// The items, newest first.
    pub data: Vec<T>,
    /// Pass it as `cursor` to get the next page.
    pub next_cursor: Option<String>,
}

/// `POST /api/v1/webhooks`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NewWebhook {
    /// http or https, at most 2048 characters.
    pub url: String,
    /// Registered event types, at least one, no repeats.
    pub event_types: Vec<String>,
    /// At most 1000 characters (default "").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Default true.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// A webhook. `secret` is only in the answer to its creation.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct Webhook {
    /// `wh_…`
    pub id: String,
    /// Where deliveries go.
    pub url: String,
    /// Free text.
    pub description: String,
    /// The types it receives.
    pub event_types: Vec<String>,
    /// Whether it receives deliveries.
    pub enabled: bool,
    /// `manual`, `failing` or `gone` while disabled.
    #[serde(default)]
    pub disabled_reason: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
    /// `whsec_…`, on creation only.
    #[serde(default)]
    pub secret: Option<String>,
}

/// The answer to an emit: the event as stored.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct EventAccepted {
    /// `evt_…`
    pub id: String,
    /// The event type.
    #[serde(rename = "type")]
    pub event_type: String,
    /// RFC 3339.
    pub created_at: String,
    /// How many webhooks it will be delivered to.
    pub deliveries: u64,
}

/// An event in `GET /api/v1/events`.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct EventSummary {
    /// `evt_…`
    pub id: String,
    /// The event type.
    #[serde(rename = "type")]
    pub event_type: String,
    /// RFC 3339.
    pub created_at: String,
    /// What was emitted.
    pub data: Value,
}

/// One HTTP request of a delivery: a row of the Request History.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct Attempt {
    /// `att_…`
    pub id: String,
    /// `wh_…`
    pub webhook_id: String,
    /// `dlv_…`
    pub delivery_id: String,
    /// `evt_…`
    pub event_id: String,
    /// The event type.
    pub event_type: String,
    /// 1 for the first attempt of its delivery.
    pub attempt: u32,
    /// `scheduled`, `retry`, `manual` or `test`.
    pub trigger: String,
    /// RFC 3339.
    pub timestamp: String,
    /// `None` when no response came; then `error` says why.
    #[serde(default)]
    pub http_status: Option<u16>,
    /// `timeout`, `connection_error`, `dns_error`, `tls_error`, `blocked_address`.
    #[serde(default)]
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: u64,
    /// The JSON body that was sent.
    pub payload: Value,
    /// The first 64 KiB of what came back.
    pub response: String,
    /// Whether `response` was cut.
    pub response_truncated: bool,
    /// When the next retry is due, if one is.
    #[serde(default)]
    pub next_attempt_at: Option<String>,
}

/// `GET /api/v1/stats`: attempts counted over a window.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct Stats {
    /// RFC 3339, inclusive.
    pub since: String,
    /// RFC 3339, exclusive.
    pub until: String,
    /// `minute`, `hour` or `day`.
    pub bucket: String,
    /// Over the whole window.
    pub totals: StatsTotals,
    /// Every bucket of the window, in order.
    pub series: Vec<StatsPoint>,
    /// Attempts by HTTP status, or by `error` when no response came.
    pub outcomes: BTreeMap<String, u64>,
}

/// Attempt counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct StatsTotals {
    /// All attempts.
    pub attempts: u64,
    /// 2xx answers.
    pub succeeded: u64,
    /// The rest.
    pub failed: u64,
}

/// One bucket of the series.
#[derive(Debug, Clone, Deserialize)]
pub struct StatsPoint {
    /// RFC 3339 start of the bucket.
    pub start: String,
    /// All attempts.
    pub attempts: u64,
    /// 2xx answers.
    pub succeeded: u64,
    /// The rest.
    pub failed: u64,
}
