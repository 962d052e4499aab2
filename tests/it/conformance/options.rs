//! Conformance scenarios for a webhook's delivery options: stored and read back on every
//! backend, filters applied at ingest, and what a claim hands the attempt (headers, timeout,
//! and the retry schedule the delivery was created with).

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use speaknode_webhooks::domain::attempt::Trigger;
use speaknode_webhooks::domain::delivery_options::{
    DeliveryOptions, Headers, WebhookTimeout, parse_retry_schedule,
};
use speaknode_webhooks::domain::ids;
use speaknode_webhooks::domain::retry::RetrySchedule;
use speaknode_webhooks::store::*;

use super::fixtures::*;

fn options(value: Value) -> DeliveryOptions {
    DeliveryOptions::from_body(value.as_object().unwrap()).unwrap()
}

fn event_with_data(ws: &str, data: Value) -> NewEvent {
    let id = ids::new_id(ids::EVENT);
    NewEvent {
        payload: json!({"id": id, "type": "SessionStarted", "data": data}).to_string(),
        id,
        workspace_id: ws.into(),
        event_type: "SessionStarted".into(),
        created_at: T0,
        idempotency: None,
        traceparent: None,
    }
}

pub async fn delivery_options_are_stored_and_patched_field_by_field(store: Arc<dyn Store>) {
    let ws = workspace(&*store).await;
    let body = json!({
        "headers": {"Authorization": "Bearer t0k3n", "X-Tenant": "acme"},
        "filter": {"agent_id": ["agent_1", "agent_2"], "meta.priority": [1, 2.5], "vip": [true]},
        "timeout": "12s",
        "retry_schedule": "1s,90s,2h",
    });
    let set = options(body.clone());
    let created = webhook_with(&*store, &ws, body).await;
    assert_eq!(created.options, set);
    let read = store.webhook(&ws, &created.id).await.unwrap().unwrap();
    assert_eq!(read.options, set, "every option reads back as it was saved");

    let patch = WebhookPatch {
        options: OptionsPatch {
            filter: Some(None),
            timeout: Some(WebhookTimeout::parse(&json!("3s")).unwrap()),
            ..OptionsPatch::default()
        },
        ..WebhookPatch::default()
    };
    let patched = store
        .update_webhook(&ws, &created.id, &patch, T0 + 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(patched.options.filter, None, "null cleared the filter");
    assert_eq!(
        patched.options.timeout.map(WebhookTimeout::duration),
        Some(Duration::from_secs(3))
    );
    assert_eq!(patched.options.headers, set.headers, "left out: kept");
    assert_eq!(patched.options.retry_schedule, set.retry_schedule);
    let read = store.webhook(&ws, &created.id).await.unwrap().unwrap();
    assert_eq!(read.options, patched.options);
    assert_eq!(read.updated_at, T0 + 1, "an options change is a change");

    let plain = webhook(&*store, &ws, &["SessionStarted"]).await;
    let listed = store.list_webhooks(&ws, page(10)).await.unwrap().items;
    let plain = listed.iter().find(|w| w.id == plain.id).unwrap();
    assert_eq!(
        plain.options,
        DeliveryOptions::default(),
        "unset by default"
    );
}

pub async fn a_filter_is_applied_at_ingest_on_nested_paths_numbers_and_booleans(
    store: Arc<dyn Store>,
) {
    let ws = workspace(&*store).await;
    let agent_1 = webhook_with(&*store, &ws, json!({"filter": {"agent_id": ["agent_1"]}})).await;
    let nested = webhook_with(
        &*store,
        &ws,
        json!({"filter": {"call.score": [5], "call.vip": [true]}}),
    )
    .await;
    let everything = webhook(&*store, &ws, &["SessionStarted"]).await;

    let cases = [
        (
            json!({"agent_id": "agent_1"}),
            vec![&agent_1.id, &everything.id],
        ),
        (json!({"agent_id": "agent_2"}), vec![&everything.id]),
        (
            json!({"agent_id": "agent_2", "call": {"score": 5.0, "vip": true}}),
            vec![&nested.id, &everything.id],
        ),
        (
            json!({"call": {"score": 5, "vip": "true"}}),
            vec![&everything.id],
        ),
        (json!({"call": {"score": 5}}), vec![&everything.id]),
        (json!({"call": 5}), vec![&everything.id]),
        (json!({"agent_id": ["agent_1"]}), vec![&everything.id]),
    ];
    for (data, expected) in cases {
        let event = ingest(&*store, &event_with_data(&ws, data.clone())).await;
        let got: Vec<String> = event_state(&*store, &ws, &event.id)
            .await
            .into_iter()
            .map(|d| d.webhook_id)
            .collect();
        let mut got = got;
        got.sort();
        let mut expected: Vec<String> = expected.into_iter().cloned().collect();
        expected.sort();
        assert_eq!(got, expected, "data {data}");
        assert_eq!(event.delivery_count as usize, expected.len(), "data {data}");
    }
    let unmatched = ingest(
        &*store,
        &event_with_data(&ws, json!({"agent_id": "nobody"})),
    )
    .await;
    store.delete_webhook(&ws, &everything.id, T0).await.unwrap();
    let none = ingest(
        &*store,
        &event_with_data(&ws, json!({"agent_id": "nobody"})),
    )
    .await;
    assert_eq!(
        none.delivery_count, 0,
        "matching no webhook is still accepted"
    );
    assert_eq!(unmatched.delivery_count, 1);
}

pub async fn a_claim_carries_the_headers_the_timeout_and_the_schedule_the_delivery_was_made_with(
    store: Arc<dyn Store>,
) {
    let ws = workspace(&*store).await;
    let hook = webhook_with(
        &*store,
        &ws,
        json!({
            "headers": {"X-Tenant": "acme"},
            "timeout": "20s",
            "retry_schedule": "1s",
        }),
    )
    .await;
    ingest(&*store, &new_event(&ws, "SessionStarted", T0)).await;
    // A later change of schedule applies to deliveries created afterwards only.
    let patch = WebhookPatch {
        options: OptionsPatch {
            retry_schedule: Some(parse_retry_schedule(&json!("")).unwrap()),
            ..OptionsPatch::default()
        },
        ..WebhookPatch::default()
    };
    store
        .update_webhook(&ws, &hook.id, &patch, T0)
        .await
        .unwrap();
    ingest(&*store, &new_event(&ws, "SessionStarted", T0 + 1)).await;

    let request = claim_at(T0 + 1, 10);
    let claims = store.claim_due(&request).await.unwrap();
    assert_eq!(claims.len(), 2);
    let expected_headers = Headers::parse(&json!({"X-Tenant": "acme"})).unwrap();
    for claim in &claims {
        assert_eq!(claim.webhook.headers, expected_headers);
        assert_eq!(claim.webhook.timeout, Some(Duration::from_secs(20)));
        assert_eq!(
            claim.lease_until,
            request.lease_until + 20_000 - request.default_timeout,
            "the lease covers the webhook's longer timeout"
        );
    }
    assert_eq!(
        claims[0].webhook.retry_schedule,
        Some(RetrySchedule::parse("1s").unwrap()),
        "made before the change"
    );
    assert_eq!(
        claims[1].webhook.retry_schedule,
        Some(RetrySchedule::parse("").unwrap()),
        "made after the change"
    );

    // A webhook without options: the default lease, no headers, the service's schedule.
    let ws2 = workspace(&*store).await;
    webhook(&*store, &ws2, &["SessionStarted"]).await;
    ingest(&*store, &new_event(&ws2, "SessionStarted", T0 + 2)).await;
    let claims = store.claim_due(&claim_at(T0 + 2, 10)).await.unwrap();
    assert_eq!(claims.len(), 1);
    assert!(claims[0].webhook.headers.is_empty());
    assert_eq!(claims[0].webhook.timeout, None);
    assert_eq!(claims[0].webhook.retry_schedule, None);
    assert_eq!(claims[0].lease_until, T0 + 2 + 60_000);
}

pub async fn a_rate_limited_webhook_gets_its_share_per_second_and_others_are_not_held_up(
    store: Arc<dyn Store>,
) {
    let ws = workspace(&*store).await;
    let limited = webhook_with(&*store, &ws, json!({"rate_limit": 5})).await;
    let other = webhook(&*store, &ws, &["SessionStarted"]).await;
    for i in 0..12 {
        ingest(&*store, &new_event(&ws, "SessionStarted", T0 + i)).await;
    }
    let count = |claims: &[Claimed], id: &str| claims.iter().filter(|c| c.webhook_id == id).count();
    let second = T0 + 1_000 - T0.rem_euclid(1_000);
    let first = store.claim_due(&claim_at(second, 100)).await.unwrap();
    assert_eq!(count(&first, &limited.id), 5, "five per second");
    assert_eq!(
        count(&first, &other.id),
        12,
        "the other webhook is not held up"
    );
    let again = store.claim_due(&claim_at(second + 999, 100)).await.unwrap();
    assert_eq!(
        count(&again, &limited.id),
        0,
        "this second's five are taken"
    );
    let next = store
        .claim_due(&claim_at(second + 1_000, 100))
        .await
        .unwrap();
    assert_eq!(count(&next, &limited.id), 5, "a new second");
    let last = store
        .claim_due(&claim_at(second + 2_500, 100))
        .await
        .unwrap();
    assert_eq!(count(&last, &limited.id), 2, "what is left");
}

pub async fn an_ordered_webhook_offers_one_delivery_at_a_time_in_accept_order(
    store: Arc<dyn Store>,
) {
    let ws = workspace(&*store).await;
    let ordered = webhook_with(&*store, &ws, json!({"ordered": true})).await;
    let other = webhook(&*store, &ws, &["SessionStarted"]).await;
    let mut events = Vec::new();
    for i in 0..3 {
        events.push(
            ingest(&*store, &new_event(&ws, "SessionStarted", T0 + i))
                .await
                .id,
        );
    }
    let mine = |claims: Vec<Claimed>| -> Vec<Claimed> {
        claims
            .into_iter()
            .filter(|c| c.webhook_id == ordered.id)
            .collect()
    };
    let now = T0 + 10;
    let all = store.claim_due(&claim_at(now, 100)).await.unwrap();
    assert_eq!(all.iter().filter(|c| c.webhook_id == other.id).count(), 3);
    let first = mine(all);
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].event_id, events[0], "the oldest first");
    assert!(
        mine(store.claim_due(&claim_at(now, 100)).await.unwrap()).is_empty(),
        "in flight"
    );

    // A failure with a retry holds the ones behind it until the retry is due.
    let retry_at = now + 5_000;
    store
        .record_attempt(&attempt_of(
            &first[0],
            status(500),
            NextStep::RetryAt(retry_at),
            now,
        ))
        .await
        .unwrap();
    assert!(mine(store.claim_due(&claim_at(now + 1, 100)).await.unwrap()).is_empty());
    let retried = mine(store.claim_due(&claim_at(retry_at, 100)).await.unwrap());
    assert_eq!(retried.len(), 1);
    assert_eq!(retried[0].event_id, events[0], "the same delivery again");
    store
        .record_attempt(&attempt_of(
            &retried[0],
            status(200),
            NextStep::Succeeded,
            retry_at,
        ))
        .await
        .unwrap();
    let second = mine(store.claim_due(&claim_at(retry_at, 100)).await.unwrap());
    assert_eq!(second.len(), 1);
    assert_eq!(
        second[0].event_id, events[1],
        "then the next one in accept order"
    );
    // Exhausted (failed for good): the third goes next.
    store
        .record_attempt(&attempt_of(
            &second[0],
            status(500),
            NextStep::Failed,
            retry_at,
        ))
        .await
        .unwrap();
    let third = mine(store.claim_due(&claim_at(retry_at, 100)).await.unwrap());
    assert_eq!(third[0].event_id, events[2]);
}

pub async fn a_replay_sends_past_events_once_within_its_window_types_and_filter(
    store: Arc<dyn Store>,
) {
    let ws = workspace(&*store).await;
    // 1,234 events cross two chunk boundaries; every third is from agent_1.
    let mut expected = 0;
    for i in 0..1_234 {
        let agent = if i % 3 == 0 { "agent_1" } else { "agent_2" };
        let mut event = event_with_data(&ws, json!({"agent_id": agent}));
        event.created_at = T0 + i;
        ingest(&*store, &event).await;
        expected += u64::from(agent == "agent_1" && i >= 100);
    }
    ingest(&*store, &new_event(&ws, "ConversationComplete", T0 + 50)).await;
    let hook = webhook_with(&*store, &ws, json!({"filter": {"agent_id": ["agent_1"]}})).await;
    let replay = Replay {
        workspace_id: ws.clone(),
        webhook_id: hook.id.clone(),
        since: T0 + 100,
        until: T0 + 10_000,
        now: T0 + 20_000,
    };
    assert_eq!(store.replay(&replay).await.unwrap(), Some(expected));
    assert_eq!(
        store.replay(&replay).await.unwrap(),
        Some(0),
        "nothing new the second time"
    );
    let wider = Replay {
        since: T0,
        ..replay.clone()
    };
    assert_eq!(
        store.replay(&wider).await.unwrap(),
        Some(34),
        "only the 34 before the window"
    );

    let claims = store
        .claim_due(&claim_at(T0 + 20_000, 2_000))
        .await
        .unwrap();
    assert_eq!(claims.len() as u64, expected + 34);
    assert!(
        claims
            .iter()
            .all(|c| c.webhook_id == hook.id && c.trigger == Trigger::Scheduled)
    );
    let elsewhere = Replay {
        webhook_id: "wh_missing".into(),
        ..replay.clone()
    };
    assert_eq!(store.replay(&elsewhere).await.unwrap(), None);
    let other_ws = workspace(&*store).await;
    let foreign = Replay {
        workspace_id: other_ws,
        ..replay
    };
    assert_eq!(
        store.replay(&foreign).await.unwrap(),
        None,
        "another workspace's webhook"
    );
}
