//! Operational events as the backends write them: built and stored inside the transaction that
//! records the state change they report (a webhook disabled, a delivery given up), so a crash can
//! neither lose one nor emit it twice. See `domain::operational` for the types themselves.

use crate::domain::attempt::FailureKind;
use crate::domain::envelope::payload;
use crate::domain::ids;
use crate::domain::operational::{self, Exhausted};
use crate::domain::time::{Millis, rfc3339};
use crate::domain::webhook::DisabledReason;
use crate::store::{NewAttempt, NewEvent};

/// An event the service emits about one webhook; it is never delivered to that webhook.
#[derive(Debug, Clone)]
pub struct OperationalEvent {
    pub about_webhook_id: String,
    pub event: NewEvent,
}

impl OperationalEvent {
    fn new(
        workspace_id: &str,
        about_webhook_id: &str,
        event_type: &str,
        data: String,
        created_at: Millis,
    ) -> Self {
        let id = ids::new_id(ids::EVENT);
        Self {
            about_webhook_id: about_webhook_id.to_string(),
            event: NewEvent {
                payload: payload(&id, event_type, &rfc3339(created_at), &data),
                id,
                workspace_id: workspace_id.to_string(),
                event_type: event_type.to_string(),
                created_at,
                idempotency: None,
                traceparent: None,
            },
        }
    }

    /// `WebhookDisabled`, when the service disabled a webhook at `at`.
    pub fn webhook_disabled(
        workspace_id: &str,
        webhook_id: &str,
        url: &str,
        reason: DisabledReason,
        at: Millis,
    ) -> Self {
        let data = operational::webhook_disabled(webhook_id, url, reason, at);
        let event_type = operational::WEBHOOK_DISABLED;
        Self::new(workspace_id, webhook_id, event_type, data.to_string(), at)
    }

    /// `DeliveryExhausted`, when `attempt` (the delivery's `attempts`-th) was its last (its plan
    /// says so, see `Plan::exhausted`); emitted as the attempt ends.
    pub fn delivery_exhausted(attempt: &NewAttempt, attempts: i64) -> Self {
        let claim = &attempt.claim;
        let data = operational::delivery_exhausted(&Exhausted {
            webhook_id: &claim.webhook_id,
            delivery_id: &claim.delivery_id,
            event_id: &claim.event_id,
            event_type: &claim.event_type,
            attempts,
            last_http_status: attempt.outcome.http_status(),
            last_error: attempt.outcome.error().map(FailureKind::as_str),
        });
        Self::new(
            &claim.workspace_id,
            &claim.webhook_id,
            operational::DELIVERY_EXHAUSTED,
            data.to_string(),
            attempt.ended_at(),
        )
    }
}
