//! Operational events: the two event types the service emits itself, into the workspace
//! concerned, when a webhook stops getting deliveries. They are delivered like any event to the
//! workspace's webhooks subscribed to them, never to the webhook they are about (a broken
//! endpoint must not feed itself), and the platform cannot emit them through the API.

use serde_json::{Value, json};

use super::event_type::EventTypeDef;
use super::time::{Millis, rfc3339};
use super::webhook::DisabledReason;

/// Emitted when the service disables a webhook (not when a user does).
pub const WEBHOOK_DISABLED: &str = "WebhookDisabled";
/// Emitted when a delivery's last scheduled attempt fails.
pub const DELIVERY_EXHAUSTED: &str = "DeliveryExhausted";

/// Whether only the service may emit events of this type.
pub fn is_operational(event_type: &str) -> bool {
    event_type == WEBHOOK_DISABLED || event_type == DELIVERY_EXHAUSTED
}

/// The data of a `WebhookDisabled` event.
pub fn webhook_disabled(
    webhook_id: &str,
    url: &str,
    reason: DisabledReason,
    disabled_at: Millis,
) -> Value {
    json!({
        "webhook_id": webhook_id,
        "url": url,
        "reason": reason.as_str(),
        "disabled_at": rfc3339(disabled_at),
    })
}

/// What a `DeliveryExhausted` event says about the delivery that gave up.
pub struct Exhausted<'a> {
    pub webhook_id: &'a str,
    pub delivery_id: &'a str,
    pub event_id: &'a str,
    pub event_type: &'a str,
    pub attempts: i64,
    pub last_http_status: Option<u16>,
    pub last_error: Option<&'a str>,
}

/// The data of a `DeliveryExhausted` event.
pub fn delivery_exhausted(e: &Exhausted<'_>) -> Value {
    json!({
        "webhook_id": e.webhook_id,
        "delivery_id": e.delivery_id,
        "event_id": e.event_id,
        "event_type": e.event_type,
        "attempts": e.attempts,
        "last_http_status": e.last_http_status,
        "last_error": e.last_error,
    })
}

/// Both types, with their schemas and examples, registered at start-up like the shipped ones.
pub fn defs() -> Vec<EventTypeDef> {
    vec![webhook_disabled_def(), delivery_exhausted_def()]
}

fn webhook_disabled_def() -> EventTypeDef {
    EventTypeDef {
        name: WEBHOOK_DISABLED.into(),
        description: "Sent by the service when it disables a webhook: the endpoint answered 410 \
            Gone, or it failed without a single success for SPEAKNODE_DISABLE_AFTER. Never sent \
            to the webhook it is about."
            .into(),
        schema: json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "required": ["webhook_id", "url", "reason", "disabled_at"],
            "properties": {
                "webhook_id": {"type": "string"},
                "url": {"type": "string"},
                "reason": {"enum": ["failing", "gone"]},
                "disabled_at": {"type": "string", "format": "date-time"}
            },
            "additionalProperties": true
        }),
        example: webhook_disabled(
            "wh_2Zk9mQ4rT7xW1bN8cV3pL6",
            "https://crm.example.com/hooks/speaknode",
            DisabledReason::Failing,
            1_796_083_200_000,
        ),
    }
}

fn delivery_exhausted_def() -> EventTypeDef {
    EventTypeDef {
        name: DELIVERY_EXHAUSTED.into(),
        description: "Sent by the service when a delivery's last scheduled attempt fails: the \
            event will not be sent to that webhook again unless someone retries it. Never sent \
            to the webhook it is about."
            .into(),
        schema: json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "required": ["webhook_id", "delivery_id", "event_id", "event_type", "attempts",
                         "last_http_status", "last_error"],
            "properties": {
                "webhook_id": {"type": "string"},
                "delivery_id": {"type": "string"},
                "event_id": {"type": "string"},
                "event_type": {"type": "string"},
                "attempts": {"type": "integer", "minimum": 1},
                "last_http_status": {"type": ["integer", "null"]},
                "last_error": {"type": ["string", "null"]}
            },
            "additionalProperties": true
        }),
        example: delivery_exhausted(&Exhausted {
            webhook_id: "wh_2Zk9mQ4rT7xW1bN8cV3pL6",
            delivery_id: "dlv_7Yh3nB5sK2qR9tM4wX8cZ1",
            event_id: "evt_4Fp8vL2mN6kJ9sD3hG7bQ5",
            event_type: "ConversationComplete",
            attempts: 8,
            last_http_status: Some(503),
            last_error: None,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::event_type::EventType;

    #[test]
    fn the_data_the_service_builds_validates_against_the_published_schemas() {
        let disabled = EventType::compile(webhook_disabled_def()).expect("compiles");
        let exhausted = EventType::compile(delivery_exhausted_def()).expect("compiles");
        for reason in [DisabledReason::Failing, DisabledReason::Gone] {
            let data = webhook_disabled("wh_1", "https://x.example/h", reason, 0);
            assert!(disabled.validate(&data).is_ok(), "{data}");
        }
        let timed_out = delivery_exhausted(&Exhausted {
            webhook_id: "wh_1",
            delivery_id: "dlv_1",
            event_id: "evt_1",
            event_type: "SessionStarted",
            attempts: 1,
            last_http_status: None,
            last_error: Some("timeout"),
        });
        assert!(exhausted.validate(&timed_out).is_ok(), "{timed_out}");
        assert_eq!(timed_out["last_http_status"], Value::Null);
    }

    #[test]
    fn only_the_two_operational_types_are_reserved() {
        assert!(is_operational(WEBHOOK_DISABLED));
        assert!(is_operational(DELIVERY_EXHAUSTED));
        assert!(!is_operational("SessionStarted"));
        assert!(!is_operational("webhookdisabled"));
    }
}
