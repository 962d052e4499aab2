//! How records read on the wire. Timestamps are RFC 3339 UTC; payloads are embedded as the exact
//! JSON that was sent.

use serde::Serialize;
use serde_json::value::RawValue;

use super::extract::encode_cursor;
use crate::domain::time::{Millis, rfc3339};
use crate::store::{Attempt, DeliverySummary, Event, Page, Webhook};

#[derive(Serialize)]
pub struct List<T> {
    pub data: Vec<T>,
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

#[derive(Serialize)]
pub struct WebhookView {
    pub id: String,
    pub url: String,
    pub description: String,
    pub event_types: Vec<String>,
    pub enabled: bool,
    pub disabled_reason: Option<&'static str>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

pub fn webhook(w: Webhook) -> WebhookView {
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
    }
}

#[derive(Serialize)]
pub struct AttemptView {
    pub id: String,
    pub webhook_id: String,
    pub delivery_id: String,
    pub event_id: String,
    pub event_type: String,
    pub attempt: u32,
    pub trigger: &'static str,
    pub timestamp: String,
    pub http_status: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: i64,
    pub payload: Box<RawValue>,
    pub response: String,
    pub response_truncated: bool,
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

#[derive(Serialize)]
pub struct EventAccepted {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub created_at: String,
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

#[derive(Serialize)]
pub struct EventView {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub created_at: String,
    pub data: Box<RawValue>,
    pub deliveries: Vec<DeliveryView>,
}

#[derive(Serialize)]
pub struct EventListItem {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub created_at: String,
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

#[derive(Serialize)]
pub struct DeliveryView {
    pub id: String,
    pub webhook_id: String,
    pub state: &'static str,
    pub attempts: u32,
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
