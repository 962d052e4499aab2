//! How records read on the wire. Timestamps are RFC 3339 UTC; payloads are embedded as the exact
//! JSON that was sent. Each view is also its schema in the OpenAPI document (`ToSchema`).

use serde::Serialize;
use serde_json::value::RawValue;
use utoipa::ToSchema;

use super::extract::encode_cursor;
use super::openapi::enums;
use crate::domain::time::{Millis, rfc3339};
use crate::store::{Attempt, DeliverySummary, Event, Page, Webhook};

/// One page of a list, newest first.
#[derive(Serialize, ToSchema)]
pub struct List<T> {
    pub data: Vec<T>,
    /// Pass as `?cursor=` for the next page; null on the last page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

pub fn list<R, T>(page: Page<R>, view: impl Fn(R) -> T) -> List<T> {
    List {
        data: page.items.into_iter().map(view).collect(),
        next_cursor: page.next_cursor.map(encode_cursor),
    }
}

fn time(ms: Millis) -> String {
    rfc3339(ms)
}

/// Stored payloads are JSON we wrote ourselves; if one is ever unreadable it is shown as a string
/// rather than failing the whole response.
pub fn raw_json(text: &str) -> Box<RawValue> {
    RawValue::from_string(text.to_string())
        .or_else(|_| RawValue::from_string(serde_json::Value::from(text).to_string()))
        .unwrap_or_else(|_| Box::<RawValue>::default())
}

/// A webhook: where to send which event types.
#[derive(Serialize, ToSchema)]
#[schema(as = Webhook)]
pub struct WebhookView {
    #[schema(example = "wh_2Vb8kQ4hN1xZ")]
    pub id: String,
    #[schema(example = "https://example.com/hooks")]
    pub url: String,
    pub description: String,
    #[schema(example = json!(["ConversationComplete"]))]
    pub event_types: Vec<String>,
    pub enabled: bool,
    /// Null while enabled; else why not.
    #[schema(schema_with = enums::disabled_reason)]
    pub disabled_reason: Option<&'static str>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// The signing secret (`whsec_…`): only in the answer to create.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub secret: Option<String>,
    /// Sent with every attempt; `{}` when none.
    #[schema(value_type = Object, example = json!({"Authorization": "Bearer 3f9c…"}))]
    pub headers: serde_json::Value,
    /// Dotted path in `data` → accepted values; null: every event of its types.
    #[schema(value_type = Option<Object>, example = json!({"agent_id": ["agent_7"]}))]
    pub filter: serde_json::Value,
    /// Attempts per second that may start; null: no limit.
    #[schema(value_type = Option<u32>)]
    pub rate_limit: serde_json::Value,
    /// One attempt at a time, in the order the events were accepted.
    pub ordered: bool,
    /// The attempt timeout of this webhook; null: the service's setting.
    #[schema(value_type = Option<String>, example = "10s")]
    pub timeout: serde_json::Value,
    /// The retry schedule of deliveries created from now on; null: the service's.
    #[schema(value_type = Option<String>, example = "5s,1m,10m")]
    pub retry_schedule: serde_json::Value,
}

pub fn webhook(w: Webhook) -> WebhookView {
    let mut options = w.options.read_fields();
    let mut take = |name: &str| options.remove(name).unwrap_or(serde_json::Value::Null);
    WebhookView {
        id: w.id,
        url: w.url,
        description: w.description,
        event_types: w.event_types,
        enabled: w.enabled,
        disabled_reason: w.disabled_reason.map(|r| r.as_str()),
        created_at: time(w.created_at),
        updated_at: time(w.updated_at),
        secret: None,
        headers: take("headers"),
        filter: take("filter"),
        rate_limit: take("rate_limit"),
        ordered: w.options.ordered,
        timeout: take("timeout"),
        retry_schedule: take("retry_schedule"),
    }
}

/// One HTTP request of a delivery: an entry of the Request History.
#[derive(Serialize, ToSchema)]
#[schema(as = Attempt)]
pub struct AttemptView {
    pub id: String,
    pub webhook_id: String,
    pub delivery_id: String,
    pub event_id: String,
    pub event_type: String,
    /// 1 for the first attempt of the delivery.
    #[schema(minimum = 1)]
    pub attempt: u32,
    #[schema(schema_with = enums::trigger)]
    pub trigger: &'static str,
    #[schema(format = DateTime)]
    pub timestamp: String,
    /// Null when no response came; then `error` says why.
    pub http_status: Option<u16>,
    #[schema(schema_with = enums::failure)]
    pub error: Option<String>,
    pub duration_ms: i64,
    /// The JSON body that was sent.
    #[schema(value_type = Object)]
    pub payload: Box<RawValue>,
    /// The first 64 KiB of the body that came back.
    pub response: String,
    pub response_truncated: bool,
    /// When the follow-up attempt was scheduled, if one was.
    #[schema(format = DateTime)]
    pub next_attempt_at: Option<String>,
}

pub fn attempt(a: Attempt) -> AttemptView {
    AttemptView {
        payload: raw_json(&a.payload),
        id: a.id,
        webhook_id: a.webhook_id,
        delivery_id: a.delivery_id,
        event_id: a.event_id,
        event_type: a.event_type,
        attempt: a.attempt,
        trigger: a.trigger.as_str(),
        timestamp: time(a.timestamp),
        http_status: a.http_status,
        error: a.error,
        duration_ms: a.duration_ms,
        response: a.response,
        response_truncated: a.response_truncated,
        next_attempt_at: a.next_attempt_at.map(time),
    }
}

/// The `data` member of a stored payload, as raw JSON.
fn event_data(payload: &str) -> Box<RawValue> {
    #[derive(serde::Deserialize)]
    struct Envelope {
        data: Box<RawValue>,
    }
    serde_json::from_str::<Envelope>(payload)
        .map(|e| e.data)
        .unwrap_or_else(|_| raw_json("null"))
}

/// An event that was stored with all its deliveries.
#[derive(Serialize, ToSchema)]
pub struct EventAccepted {
    #[schema(example = "evt_7Qm2pX9cL0aT")]
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// How many webhooks it will be delivered to.
    pub deliveries: u32,
}

pub fn event_accepted(e: &Event) -> EventAccepted {
    EventAccepted {
        id: e.id.clone(),
        event_type: e.event_type.clone(),
        created_at: time(e.created_at),
        deliveries: e.delivery_count,
    }
}

/// An event with its deliveries.
#[derive(Serialize, ToSchema)]
#[schema(as = Event)]
pub struct EventView {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// The event's data, exactly as it was emitted.
    #[schema(value_type = Object)]
    pub data: Box<RawValue>,
    pub deliveries: Vec<DeliveryView>,
}

/// An event as lists show it: with the number of its deliveries.
#[derive(Serialize, ToSchema)]
#[schema(as = EventSummary)]
pub struct EventListItem {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(value_type = Object)]
    pub data: Box<RawValue>,
    pub deliveries: u32,
}

pub fn event_list_item(e: Event) -> EventListItem {
    EventListItem {
        data: event_data(&e.payload),
        id: e.id,
        event_type: e.event_type,
        created_at: time(e.created_at),
        deliveries: e.delivery_count,
    }
}

/// One event owed to one webhook.
#[derive(Serialize, ToSchema)]
#[schema(as = Delivery)]
pub struct DeliveryView {
    pub id: String,
    pub webhook_id: String,
    #[schema(schema_with = enums::delivery_state)]
    pub state: &'static str,
    /// Attempts made so far.
    pub attempts: u32,
    #[schema(format = DateTime)]
    pub next_attempt_at: Option<String>,
}

pub fn event(e: Event, deliveries: Vec<DeliverySummary>) -> EventView {
    EventView {
        data: event_data(&e.payload),
        id: e.id,
        event_type: e.event_type,
        created_at: time(e.created_at),
        deliveries: deliveries
            .into_iter()
            .map(|d| DeliveryView {
                id: d.id,
                webhook_id: d.webhook_id,
                state: d.state.as_str(),
                attempts: d.attempts,
                next_attempt_at: d.next_attempt_at.map(time),
            })
            .collect(),
    }
}

/// A webhook's signing secret.
#[derive(Serialize, ToSchema)]
pub struct WebhookSecret {
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: String,
}

/// A delivery made due now for one more attempt.
#[derive(Serialize, ToSchema)]
pub struct RetryAccepted {
    pub delivery_id: String,
}

/// How many failed deliveries were requeued.
#[derive(Serialize, ToSchema)]
pub struct Requeued {
    pub requeued: u64,
}
