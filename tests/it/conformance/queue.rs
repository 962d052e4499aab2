//! Conformance scenarios for the delivery queue: claims and leases, attempts and history,
//! endpoint health, test deliveries and pruning.

use std::sync::Arc;

use speaknode_webhooks::domain::attempt::{DeliveryState, FailureKind, Outcome, Trigger};
use speaknode_webhooks::domain::fair_share::Allowance;
use speaknode_webhooks::domain::ids;
use speaknode_webhooks::domain::webhook::DisabledReason;
use speaknode_webhooks::store::*;

use super::fixtures::*;

pub async fn a_claim_leases_due_deliveries_until_the_lease_runs_out(store: Arc<dyn Store>) {
    let ws = workspace(&*store).await;
    webhook(&*store, &ws, &["SessionStarted"]).await;
    ingest(&*store, &new_event(&ws, "SessionStarted", T0)).await;
    assert!(
        store
            .claim_due(&claim_at(T0 - 1, 10))
            .await
            .unwrap()
            .is_empty(),
        "not due yet"
    );
    assert_eq!(store.next_due_at().await.unwrap(), Some(T0));
    let first = store.claim_due(&claim_at(T0, 10)).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(
        (first[0].trigger, first[0].attempts),
        (Trigger::Scheduled, 0)
    );
    assert!(
        store
            .claim_due(&claim_at(T0 + 1, 10))
            .await
            .unwrap()
            .is_empty(),
        "leased"
    );
    let again = store.claim_due(&claim_at(T0 + 60_000, 10)).await.unwrap();
    assert_eq!(
        again.len(),
        1,
        "an expired lease makes the delivery claimable"
    );
    assert!(again[0].lease_token > first[0].lease_token);

    // The first holder's late result is recorded but does not move the delivery on.
    let late = attempt_of(&first[0], status(200), NextStep::Succeeded, T0 + 61_000);
    store.record_attempt(&late).await.unwrap();
    let state = event_state(&*store, &ws, &first[0].event_id).await;
    assert_eq!(
        (state[0].state, state[0].attempts),
        (DeliveryState::Pending, 1)
    );
    let current = attempt_of(&again[0], status(200), NextStep::Succeeded, T0 + 62_000);
    let recorded = store.record_attempt(&current).await.unwrap();
    assert_eq!(recorded.attempt, 2);
    let state = event_state(&*store, &ws, &first[0].event_id).await;
    assert_eq!(state[0].state, DeliveryState::Succeeded);
}

pub async fn an_events_trace_context_reaches_every_claim_of_it(store: Arc<dyn Store>) {
    let ws = workspace(&*store).await;
    webhook(&*store, &ws, &["SessionStarted"]).await;
    webhook(&*store, &ws, &["SessionStarted"]).await;
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let traced = NewEvent {
        traceparent: Some(traceparent.into()),
        ..new_event(&ws, "SessionStarted", T0)
    };
    ingest(&*store, &traced).await;
    ingest(&*store, &new_event(&ws, "SessionStarted", T0 + 1)).await;
    let claims = store.claim_due(&claim_at(T0 + 1, 10)).await.unwrap();
    assert_eq!(claims.len(), 4);
    for claim in claims {
        let expected = (claim.event_id == traced.id).then_some(traceparent);
        assert_eq!(claim.traceparent.as_deref(), expected, "{}", claim.event_id);
    }
}

pub async fn concurrent_claims_never_share_a_delivery(store: Arc<dyn Store>) {
    let ws = workspace(&*store).await;
    for _ in 0..4 {
        webhook(&*store, &ws, &["SessionStarted"]).await;
    }
    for i in 0..50 {
        ingest(&*store, &new_event(&ws, "SessionStarted", T0 + i)).await;
    }
    let claims = (0..6).map(|_| {
        let store = store.clone();
        tokio::spawn(async move { store.claim_due(&claim_at(T0 + 1_000, 60)).await.unwrap() })
    });
    let mut ids: Vec<String> = Vec::new();
    for claim in claims {
        ids.extend(claim.await.unwrap().into_iter().map(|c| c.delivery_id));
    }
    let total = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), total, "no delivery was claimed twice");
    assert_eq!(total, 200, "every due delivery was claimed once");
}

pub async fn a_claim_skips_webhooks_at_their_limit_and_a_release_gives_back(store: Arc<dyn Store>) {
    let ws = workspace(&*store).await;
    let busy = webhook(&*store, &ws, &["SessionStarted"]).await;
    let _idle = webhook(&*store, &ws, &["SessionStarted"]).await;
    ingest(&*store, &new_event(&ws, "SessionStarted", T0)).await;
    let mut request = claim_at(T0, 10);
    let at_its_limit = Allowance::prompt(0);
    request
        .budget
        .webhooks
        .insert(busy.id.clone(), at_its_limit);
    let claimed = store.claim_due(&request).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_ne!(claimed[0].webhook_id, busy.id);
    store.release(&claimed, T0 + 5).await.unwrap();
    let back = store.claim_due(&claim_at(T0 + 5, 10)).await.unwrap();
    assert_eq!(
        back.len(),
        2,
        "the released delivery is due again, with the skipped one"
    );
    assert_eq!(store.release_leases(Some("w1"), T0 + 6).await.unwrap(), 2);
    assert_eq!(store.next_due_at().await.unwrap(), Some(T0 + 6));
}

pub async fn recorded_attempts_follow_the_next_step_and_form_the_history(store: Arc<dyn Store>) {
    let ws = workspace(&*store).await;
    let hook = webhook(&*store, &ws, &["SessionStarted"]).await;
    let event = ingest(&*store, &new_event(&ws, "SessionStarted", T0)).await;
    let claim = store.claim_due(&claim_at(T0, 1)).await.unwrap().remove(0);
    let first = store
        .record_attempt(&attempt_of(
            &claim,
            status(500),
            NextStep::RetryAt(T0 + 5_000),
            T0,
        ))
        .await
        .unwrap();
    assert_eq!(
        (first.attempt, first.next_attempt_at),
        (1, Some(T0 + 5_000))
    );
    assert!(
        store
            .claim_due(&claim_at(T0 + 4_999, 1))
            .await
            .unwrap()
            .is_empty()
    );
    let retry = store
        .claim_due(&claim_at(T0 + 5_000, 1))
        .await
        .unwrap()
        .remove(0);
    assert_eq!((retry.trigger, retry.attempts), (Trigger::Retry, 1));
    let timeout = Outcome::Failed(FailureKind::Timeout);
    store
        .record_attempt(&attempt_of(&retry, timeout, NextStep::Failed, T0 + 5_000))
        .await
        .unwrap();
    let state = event_state(&*store, &ws, &event.id).await;
    assert_eq!(
        (state[0].state, state[0].attempts, state[0].next_attempt_at),
        (DeliveryState::Failed, 2, None)
    );

    let history = store
        .list_attempts(&ws, &hook.id, &AttemptFilter::default(), page(10))
        .await
        .unwrap();
    assert_eq!(
        history.items.iter().map(|a| a.attempt).collect::<Vec<_>>(),
        [2, 1]
    );
    assert_eq!(history.items[0].error.as_deref(), Some("timeout"));
    assert_eq!(history.items[1].http_status, Some(500));
    assert_eq!(&*history.items[1].payload, event.payload.as_str());
    let failed_only = AttemptFilter {
        succeeded: Some(false),
        since: Some(T0 + 1),
        ..Default::default()
    };
    assert_eq!(
        store
            .list_attempts(&ws, &hook.id, &failed_only, page(10))
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    let webhook_now = store.webhook(&ws, &hook.id).await.unwrap().unwrap();
    assert_eq!(
        webhook_now.last_attempt.unwrap().error.as_deref(),
        Some("timeout")
    );

    // A manual retry makes the failed delivery due now, with the trigger `manual`.
    let delivery = store
        .retry_delivery(&ws, &hook.id, &first.id, T0 + 9_000)
        .await
        .unwrap();
    assert_eq!(delivery, Some(claim.delivery_id.clone()));
    let manual = store
        .claim_due(&claim_at(T0 + 9_000, 1))
        .await
        .unwrap()
        .remove(0);
    assert_eq!((manual.trigger, manual.attempts), (Trigger::Manual, 2));
    assert!(
        store
            .retry_delivery(&ws, &hook.id, "att_nope", T0)
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn a_410_disables_the_webhook_as_gone_and_holds_its_deliveries(store: Arc<dyn Store>) {
    let ws = workspace(&*store).await;
    let hook = webhook(&*store, &ws, &["SessionStarted"]).await;
    ingest(&*store, &new_event(&ws, "SessionStarted", T0)).await;
    ingest(&*store, &new_event(&ws, "SessionStarted", T0 + 10_000)).await;
    let claim = store.claim_due(&claim_at(T0, 1)).await.unwrap().remove(0);
    store
        .record_attempt(&attempt_of(&claim, status(410), NextStep::Failed, T0))
        .await
        .unwrap();
    let gone = store.webhook(&ws, &hook.id).await.unwrap().unwrap();
    assert_eq!(
        (gone.enabled, gone.disabled_reason),
        (false, Some(DisabledReason::Gone))
    );
    assert!(
        store
            .claim_due(&claim_at(T0 + 20_000, 10))
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn deleting_a_webhook_cancels_its_deliveries_and_removes_its_history(
    store: Arc<dyn Store>,
) {
    let ws = workspace(&*store).await;
    let hook = webhook(&*store, &ws, &["SessionStarted"]).await;
    let done = ingest(&*store, &new_event(&ws, "SessionStarted", T0)).await;
    let claim = store.claim_due(&claim_at(T0, 1)).await.unwrap().remove(0);
    store
        .record_attempt(&attempt_of(&claim, status(200), NextStep::Succeeded, T0))
        .await
        .unwrap();
    let pending = ingest(&*store, &new_event(&ws, "SessionStarted", T0 + 1)).await;
    assert!(store.delete_webhook(&ws, &hook.id, T0 + 2).await.unwrap());
    assert_eq!(
        event_state(&*store, &ws, &pending.id).await[0].state,
        DeliveryState::Cancelled
    );
    assert_eq!(
        event_state(&*store, &ws, &done.id).await[0].state,
        DeliveryState::Succeeded
    );
    assert!(
        store
            .list_attempts(&ws, &hook.id, &AttemptFilter::default(), page(10))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        store
            .claim_due(&claim_at(T0 + 10, 10))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.webhook(&ws, &hook.id).await.unwrap().is_none());
}

pub async fn a_test_delivery_is_neither_listed_nor_queued(store: Arc<dyn Store>) {
    let ws = workspace(&*store).await;
    let hook = webhook(&*store, &ws, &["SessionStarted"]).await;
    let test = NewTestDelivery {
        workspace_id: ws.clone(),
        webhook_id: hook.id.clone(),
        event_id: ids::new_id(ids::EVENT),
        delivery_id: ids::new_id(ids::DELIVERY),
        event_type: "ConversationComplete".into(),
        payload: "{}".into(),
        now: T0,
    };
    let claim = store.create_test_delivery(&test).await.unwrap().unwrap();
    assert_eq!(claim.trigger, Trigger::Test);
    assert_eq!(claim.secrets.len(), 1);
    assert!(
        store
            .claim_due(&claim_at(T0 + 1_000_000, 10))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .list_events(&ws, &EventFilter::default(), page(10))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let recorded = store
        .record_attempt(&attempt_of(&claim, status(200), NextStep::Succeeded, T0))
        .await
        .unwrap();
    assert_eq!(recorded.trigger, Trigger::Test);
    let other = workspace(&*store).await;
    let foreign = NewTestDelivery {
        workspace_id: other,
        ..test
    };
    assert!(
        store
            .create_test_delivery(&foreign)
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn failing_without_a_success_for_too_long_disables_the_webhook(store: Arc<dyn Store>) {
    let ws = workspace(&*store).await;
    let hook = webhook(&*store, &ws, &["SessionStarted"]).await;
    let mut at = T0;
    // Failures for four days, a success, then failures for another four days: still enabled.
    for day in 0..4 {
        at = T0 + day * 86_400_000;
        one_attempt(&*store, &ws, status(500), at).await;
    }
    one_attempt(&*store, &ws, status(200), at + 1).await;
    for day in 0..5 {
        one_attempt(&*store, &ws, status(500), at + 2 + day * 86_400_000).await;
    }
    let now = store.webhook(&ws, &hook.id).await.unwrap().unwrap();
    assert!(now.enabled, "under five days since the last success");
    one_attempt(&*store, &ws, status(500), at + 2 + 5 * 86_400_000).await;
    let now = store.webhook(&ws, &hook.id).await.unwrap().unwrap();
    assert_eq!(
        (now.enabled, now.disabled_reason),
        (false, Some(DisabledReason::Failing))
    );
}

pub async fn a_webhooks_last_attempt_follows_changes_and_is_refreshed_every_second(
    store: Arc<dyn Store>,
) {
    let ws = workspace(&*store).await;
    let hook = webhook(&*store, &ws, &["SessionStarted"]).await;
    let last = || async {
        let now = store.webhook(&ws, &hook.id).await.unwrap().unwrap();
        let last = now.last_attempt.unwrap();
        (last.at, last.http_status)
    };
    one_attempt(&*store, &ws, status(200), T0).await;
    assert_eq!(last().await, (T0, Some(200)));
    one_attempt(&*store, &ws, status(200), T0 + 10).await;
    assert_eq!(
        last().await,
        (T0, Some(200)),
        "same outcome within a second"
    );
    one_attempt(&*store, &ws, status(500), T0 + 20).await;
    assert_eq!(last().await, (T0 + 20, Some(500)), "a change shows at once");
    one_attempt(&*store, &ws, status(500), T0 + 1_500).await;
    assert_eq!(
        last().await,
        (T0 + 1_500, Some(500)),
        "refreshed after a second"
    );
}

pub async fn one_attempt(store: &dyn Store, ws: &str, outcome: Outcome, at: i64) {
    ingest(store, &new_event(ws, "SessionStarted", at)).await;
    let claim = store.claim_due(&claim_at(at, 1)).await.unwrap().remove(0);
    let next = if outcome.is_success() {
        NextStep::Succeeded
    } else {
        NextStep::Failed
    };
    store
        .record_attempt(&attempt_of(&claim, outcome, next, at))
        .await
        .unwrap();
}

/// Retention: events older than the cutoff go with their deliveries and attempts, pending work
/// and what is newer stay. SQLite deletes old events in batches of the limit; PostgreSQL drops
/// the history's partitions (a day each) that lie wholly before the cutoff, so the old events
/// here sit a day before the pending one, and the cutoff two days after them.
pub async fn pruning_removes_old_finished_events_and_keeps_pending_work(store: Arc<dyn Store>) {
    const DAY: i64 = 86_400_000;
    let ws = workspace(&*store).await;
    let hook = webhook(&*store, &ws, &["SessionStarted"]).await;
    let mut old = Vec::new();
    for i in 0..3 {
        let event = ingest(&*store, &new_event(&ws, "SessionStarted", T0 + i)).await;
        let claim = store
            .claim_due(&claim_at(T0 + i, 1))
            .await
            .unwrap()
            .remove(0);
        store
            .record_attempt(&attempt_of(
                &claim,
                status(200),
                NextStep::Succeeded,
                T0 + i,
            ))
            .await
            .unwrap();
        old.push(event.id);
    }
    let still_pending = ingest(&*store, &new_event(&ws, "SessionStarted", T0 + DAY)).await;
    let recent = ingest(
        &*store,
        &new_event(&ws, "ConversationComplete", T0 + 3 * DAY),
    )
    .await;

    let mut pruned = 0;
    for _ in 0..10 {
        match store.prune(T0 + 2 * DAY, 2).await.unwrap() {
            0 => break,
            n => pruned += n,
        }
    }
    assert_eq!(pruned, 3, "the three old events, and nothing else");
    for id in &old {
        assert!(store.event(&ws, id).await.unwrap().is_none());
    }
    assert!(
        store
            .list_attempts(&ws, &hook.id, &AttemptFilter::default(), page(10))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        store.event(&ws, &still_pending.id).await.unwrap().is_some(),
        "pending work is never pruned"
    );
    assert!(store.event(&ws, &recent.id).await.unwrap().is_some());
    assert_eq!(
        store
            .claim_due(&claim_at(T0 + 3 * DAY, 10))
            .await
            .unwrap()
            .len(),
        1,
        "the pending delivery is still delivered"
    );
}
