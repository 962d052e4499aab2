//! Operational events on every backend: stored with the state change they report, routed to the
//! workspace's subscribers but never to the webhook they are about, and emitted once.

use std::sync::Arc;

use serde_json::{Value, json};
use speaknode_webhooks::domain::attempt::{FailureKind, Outcome};
use speaknode_webhooks::domain::time::rfc3339;
use speaknode_webhooks::store::*;

use super::fixtures::*;

const DISABLED: &str = "WebhookDisabled";
const EXHAUSTED: &str = "DeliveryExhausted";

/// The workspace's events of one type, oldest first.
async fn events_of(store: &dyn Store, ws: &str, event_type: &str) -> Vec<Event> {
    let mut events = store
        .list_events(ws, &EventFilter::of_type(event_type), page(100))
        .await
        .unwrap()
        .items;
    events.reverse();
    events
}

fn data(event: &Event) -> Value {
    let envelope: Value = serde_json::from_str(&event.payload).unwrap();
    assert_eq!(envelope["id"], event.id.as_str(), "{envelope}");
    assert_eq!(envelope["type"], event.event_type.as_str(), "{envelope}");
    envelope["data"].clone()
}

/// The webhooks the event has a delivery to.
async fn delivered_to(store: &dyn Store, ws: &str, event: &Event) -> Vec<String> {
    let (_, deliveries) = store.event(ws, &event.id).await.unwrap().unwrap();
    deliveries.into_iter().map(|d| d.webhook_id).collect()
}

pub async fn a_webhook_the_service_disables_is_announced_to_the_others_never_to_itself(
    store: Arc<dyn Store>,
) {
    let ws = workspace(&*store).await;
    let broken = webhook(&*store, &ws, &["SessionStarted", DISABLED]).await;
    let watcher = webhook(&*store, &ws, &[DISABLED]).await;
    let other_ws = workspace(&*store).await;
    let outsider = webhook(&*store, &other_ws, &[DISABLED]).await;
    ingest(&*store, &new_event(&ws, "SessionStarted", T0)).await;
    ingest(&*store, &new_event(&ws, "SessionStarted", T0 + 1)).await;

    let claims = store.claim_due(&claim_at(T0 + 1, 2)).await.unwrap();
    assert_eq!(claims.len(), 2);
    for claim in &claims {
        // Both answer 410 in one batch: the webhook is disabled once.
        let attempt = attempt_of(claim, status(410), NextStep::Failed, T0 + 2);
        store.record_attempt(&attempt).await.unwrap();
    }
    let disabled = events_of(&*store, &ws, DISABLED).await;
    assert_eq!(disabled.len(), 1, "one WebhookDisabled: {disabled:?}");
    assert_eq!(
        data(&disabled[0]),
        json!({"webhook_id": broken.id, "url": broken.url, "reason": "gone",
               "disabled_at": rfc3339(T0 + 2 + 5)})
    );
    assert_eq!(
        delivered_to(&*store, &ws, &disabled[0]).await,
        vec![watcher.id.clone()],
        "to the watcher, not to the disabled webhook"
    );
    assert!(events_of(&*store, &other_ws, DISABLED).await.is_empty());
    let gone = store.webhook(&ws, &broken.id).await.unwrap().unwrap();
    assert_eq!(gone.disabled_at, Some(T0 + 2 + 5));

    // The announcement is a delivery like any other: the watcher's is claimable now.
    let next = store.claim_due(&claim_at(T0 + 10, 10)).await.unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(
        (next[0].webhook_id.as_str(), next[0].event_type.as_str()),
        (watcher.id.as_str(), DISABLED)
    );
    assert_ne!(next[0].webhook_id, outsider.id);

    // A user disabling a webhook is not announced; enabling clears when it was disabled.
    let off = WebhookPatch {
        enabled: Some(false),
        ..Default::default()
    };
    let manual = store
        .update_webhook(&ws, &watcher.id, &off, T0 + 20)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(manual.disabled_at, Some(T0 + 20));
    assert_eq!(events_of(&*store, &ws, DISABLED).await.len(), 1);
    let on = WebhookPatch {
        enabled: Some(true),
        ..Default::default()
    };
    let back = store
        .update_webhook(&ws, &broken.id, &on, T0 + 30)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((back.disabled_reason, back.disabled_at), (None, None));
}

pub async fn failing_too_long_is_announced_with_the_reason_failing(store: Arc<dyn Store>) {
    let ws = workspace(&*store).await;
    let failing = webhook(&*store, &ws, &["SessionStarted"]).await;
    let watcher = webhook(&*store, &ws, &[DISABLED]).await;
    one_failure(&*store, &ws, T0).await;
    one_failure(&*store, &ws, T0 + DISABLE_AFTER - 1).await;
    assert!(events_of(&*store, &ws, DISABLED).await.is_empty());
    one_failure(&*store, &ws, T0 + DISABLE_AFTER).await;
    let disabled = events_of(&*store, &ws, DISABLED).await;
    assert_eq!(disabled.len(), 1);
    assert_eq!(data(&disabled[0])["reason"], "failing");
    assert_eq!(data(&disabled[0])["webhook_id"], failing.id.as_str());
    assert_eq!(
        delivered_to(&*store, &ws, &disabled[0]).await,
        vec![watcher.id]
    );
}

/// One SessionStarted delivery to the workspace's one SessionStarted webhook, answered 500 and
/// retried later (so it is not exhausted).
async fn one_failure(store: &dyn Store, ws: &str, at: i64) {
    ingest(store, &new_event(ws, "SessionStarted", at)).await;
    let claims = store.claim_due(&claim_at(at, 10)).await.unwrap();
    let (fresh, others): (Vec<Claimed>, Vec<Claimed>) = claims
        .into_iter()
        .partition(|c| c.event_type == "SessionStarted" && c.attempts == 0);
    let attempt = attempt_of(
        &fresh[0],
        status(500),
        NextStep::RetryAt(at + 86_400_000),
        at,
    );
    store.record_attempt(&attempt).await.unwrap();
    store.release(&others, at).await.unwrap();
}

pub async fn an_exhausted_delivery_is_announced_once_with_its_last_outcome(store: Arc<dyn Store>) {
    let ws = workspace(&*store).await;
    let hook = webhook(&*store, &ws, &["SessionStarted", EXHAUSTED]).await;
    let watcher = webhook(&*store, &ws, &[EXHAUSTED]).await;
    let event = ingest(&*store, &new_event(&ws, "SessionStarted", T0)).await;

    let first = store.claim_due(&claim_at(T0, 1)).await.unwrap().remove(0);
    let retry = NextStep::RetryAt(T0 + 1_000);
    store
        .record_attempt(&attempt_of(&first, status(503), retry, T0))
        .await
        .unwrap();
    assert!(events_of(&*store, &ws, EXHAUSTED).await.is_empty());

    let last = store
        .claim_due(&claim_at(T0 + 1_000, 1))
        .await
        .unwrap()
        .remove(0);
    let timed_out = Outcome::Failed(FailureKind::Timeout);
    let recorded = store
        .record_attempt(&attempt_of(&last, timed_out, NextStep::Failed, T0 + 1_000))
        .await
        .unwrap();
    let exhausted = events_of(&*store, &ws, EXHAUSTED).await;
    assert_eq!(exhausted.len(), 1);
    assert_eq!(
        data(&exhausted[0]),
        json!({"webhook_id": hook.id, "delivery_id": last.delivery_id, "event_id": event.id,
               "event_type": "SessionStarted", "attempts": 2, "last_http_status": null,
               "last_error": "timeout"})
    );
    assert_eq!(recorded.attempt, 2);
    assert_eq!(
        delivered_to(&*store, &ws, &exhausted[0]).await,
        vec![watcher.id.clone()],
        "never to the webhook whose delivery gave up"
    );

    // The watcher's own delivery of the announcement giving up is not announced again.
    let notice = store
        .claim_due(&claim_at(T0 + 2_000, 10))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(notice.event_type, EXHAUSTED);
    store
        .record_attempt(&attempt_of(
            &notice,
            status(500),
            NextStep::Failed,
            T0 + 2_000,
        ))
        .await
        .unwrap();
    // Nor is a manual retry that fails: someone is watching it.
    let again = store
        .retry_delivery(&ws, &hook.id, &recorded.id, T0 + 3_000)
        .await
        .unwrap();
    assert_eq!(again.as_deref(), Some(last.delivery_id.as_str()));
    let manual = store
        .claim_due(&claim_at(T0 + 3_000, 10))
        .await
        .unwrap()
        .remove(0);
    store
        .record_attempt(&attempt_of(
            &manual,
            status(500),
            NextStep::Failed,
            T0 + 3_000,
        ))
        .await
        .unwrap();
    assert_eq!(events_of(&*store, &ws, EXHAUSTED).await.len(), 1);
}

pub async fn a_late_attempt_does_not_announce_what_the_lease_holder_decides(store: Arc<dyn Store>) {
    let ws = workspace(&*store).await;
    webhook(&*store, &ws, &["SessionStarted"]).await;
    webhook(&*store, &ws, &[EXHAUSTED]).await;
    ingest(&*store, &new_event(&ws, "SessionStarted", T0)).await;
    let stale = store.claim_due(&claim_at(T0, 1)).await.unwrap().remove(0);
    // The first lease ran out and another worker took the delivery and succeeded.
    let current = store
        .claim_due(&claim_at(T0 + 120_000, 1))
        .await
        .unwrap()
        .remove(0);
    store
        .record_attempt(&attempt_of(
            &current,
            status(200),
            NextStep::Succeeded,
            T0 + 120_000,
        ))
        .await
        .unwrap();
    store
        .record_attempt(&attempt_of(
            &stale,
            status(500),
            NextStep::Failed,
            T0 + 120_001,
        ))
        .await
        .unwrap();
    assert!(events_of(&*store, &ws, EXHAUSTED).await.is_empty());
}
