//! One conformance suite for every Store backend: SQLite always, PostgreSQL when
//! `SPEAKNODE_TEST_DATABASE_URL` is set (CI sets it). Each test gets its own database.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use speaknode_webhooks::domain::attempt::{DeliveryState, FailureKind, Outcome, Trigger};
use speaknode_webhooks::domain::ids;
use speaknode_webhooks::domain::webhook::{DisabledReason, Secret};
use speaknode_webhooks::store::*;

const T0: i64 = 1_800_000_000_000;
const DISABLE_AFTER: i64 = 5 * 86_400_000;

fn page(limit: u32) -> PageRequest {
    PageRequest {
        limit,
        cursor: None,
    }
}

async fn workspace(store: &dyn Store) -> String {
    let ws = Workspace {
        id: ids::new_id(ids::WORKSPACE),
        name: "Acme".into(),
        created_at: T0,
    };
    store.create_workspace(&ws, false).await.unwrap();
    ws.id
}

async fn webhook(store: &dyn Store, ws: &str, types: &[&str]) -> Webhook {
    store
        .create_webhook(&NewWebhook {
            id: ids::new_id(ids::WEBHOOK),
            workspace_id: ws.into(),
            url: "https://example.com/hooks".into(),
            description: "d".into(),
            event_types: types.iter().map(|t| t.to_string()).collect(),
            enabled: true,
            secret: Secret::generate(),
            now: T0,
        })
        .await
        .unwrap()
}

fn new_event(ws: &str, event_type: &str, at: i64) -> NewEvent {
    let id = ids::new_id(ids::EVENT);
    NewEvent {
        payload: format!(r#"{{"id":"{id}","type":"{event_type}","data":{{"k": "v"}}}}"#),
        id,
        workspace_id: ws.into(),
        event_type: event_type.into(),
        created_at: at,
        idempotency: None,
    }
}

async fn ingest(store: &dyn Store, event: &NewEvent) -> Event {
    match store.ingest_event(event).await.unwrap() {
        Ingested::Created(e) => e,
        other => panic!("expected a new event, got {other:?}"),
    }
}

fn claim_at(now: i64, limit: u32) -> ClaimRequest {
    ClaimRequest {
        owner: "w1".into(),
        now,
        lease_until: now + 60_000,
        limit,
        skip_webhooks: vec![],
    }
}

fn attempt_of(claim: &Claimed, outcome: Outcome, next: NextStep, at: i64) -> NewAttempt {
    NewAttempt {
        id: ids::new_id(ids::ATTEMPT),
        claim: claim.clone(),
        started_at: at,
        duration_ms: 5,
        outcome,
        next,
        disable_if_failing_since: at - DISABLE_AFTER,
    }
}

fn status(code: u16) -> Outcome {
    Outcome::Responded {
        status: code,
        body: format!("status {code}"),
        truncated: false,
        retry_after: None,
    }
}

async fn event_state(store: &dyn Store, ws: &str, id: &str) -> Vec<DeliverySummary> {
    store.event(ws, id).await.unwrap().unwrap().1
}

async fn an_api_key_finds_its_workspace_and_cannot_be_taken_by_another(store: Arc<dyn Store>) {
    let (a, b) = (workspace(&*store).await, workspace(&*store).await);
    store.add_api_key("key_1", &a, b"hash-a", T0).await.unwrap();
    assert_eq!(
        store.workspace_for_key(b"hash-a").await.unwrap(),
        Some(a.clone())
    );
    assert_eq!(store.workspace_for_key(b"unknown").await.unwrap(), None);
    let _ = store.add_api_key("key_2", &b, b"hash-a", T0).await;
    assert_eq!(store.workspace_for_key(b"hash-a").await.unwrap(), Some(a));
}

async fn a_workspace_never_sees_another_workspaces_webhooks(store: Arc<dyn Store>) {
    let (a, b) = (workspace(&*store).await, workspace(&*store).await);
    let hook = webhook(&*store, &a, &["SessionStarted"]).await;
    assert!(store.webhook(&b, &hook.id).await.unwrap().is_none());
    assert!(
        store
            .list_webhooks(&b, page(10))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let patch = WebhookPatch {
        enabled: Some(false),
        ..Default::default()
    };
    assert!(
        store
            .update_webhook(&b, &hook.id, &patch, T0)
            .await
            .unwrap()
            .is_none()
    );
    assert!(!store.delete_webhook(&b, &hook.id, T0).await.unwrap());
    assert!(
        store
            .webhook_secrets(&b, &hook.id, T0)
            .await
            .unwrap()
            .is_none()
    );
    let event = ingest(&*store, &new_event(&b, "SessionStarted", T0)).await;
    assert_eq!(
        event.delivery_count, 0,
        "b's events never reach a's webhooks"
    );
    assert!(store.event(&a, &event.id).await.unwrap().is_none());
    assert!(store.webhook(&a, &hook.id).await.unwrap().unwrap().enabled);
}

async fn lists_page_newest_first_without_gaps(store: Arc<dyn Store>) {
    let ws = workspace(&*store).await;
    let mut created = Vec::new();
    for _ in 0..5 {
        created.push(webhook(&*store, &ws, &["SessionStarted"]).await.id);
    }
    created.reverse();
    let mut seen = Vec::new();
    let mut request = page(2);
    loop {
        let page = store.list_webhooks(&ws, request).await.unwrap();
        seen.extend(page.items.iter().map(|w| w.id.clone()));
        match page.next_cursor {
            Some(cursor) => request.cursor = Some(cursor),
            None => break,
        }
    }
    assert_eq!(seen, created);
}

async fn patching_changes_only_what_it_names_and_disabling_holds_deliveries(store: Arc<dyn Store>) {
    let ws = workspace(&*store).await;
    let hook = webhook(&*store, &ws, &["SessionStarted"]).await;
    let same = store
        .update_webhook(&ws, &hook.id, &WebhookPatch::default(), T0 + 5)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(same.updated_at, T0, "a no-op keeps updated_at");

    let event = ingest(&*store, &new_event(&ws, "SessionStarted", T0)).await;
    let off = WebhookPatch {
        enabled: Some(false),
        ..Default::default()
    };
    let disabled = store
        .update_webhook(&ws, &hook.id, &off, T0 + 10)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (disabled.enabled, disabled.disabled_reason),
        (false, Some(DisabledReason::Manual))
    );
    assert_eq!(disabled.updated_at, T0 + 10);
    assert!(
        store
            .claim_due(&claim_at(T0 + 100, 10))
            .await
            .unwrap()
            .is_empty(),
        "held while disabled"
    );

    let on = WebhookPatch {
        enabled: Some(true),
        ..Default::default()
    };
    let enabled = store
        .update_webhook(&ws, &hook.id, &on, T0 + 20)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(enabled.disabled_reason, None);
    let claimed = store.claim_due(&claim_at(T0 + 100, 10)).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].event_id, event.id);
}

async fn an_event_fans_out_to_enabled_subscribers_with_its_exact_payload(store: Arc<dyn Store>) {
    let ws = workspace(&*store).await;
    let sessions = webhook(&*store, &ws, &["SessionStarted"]).await;
    webhook(&*store, &ws, &["ConversationComplete"]).await;
    let both = webhook(&*store, &ws, &["ConversationComplete", "SessionStarted"]).await;
    let event = new_event(&ws, "SessionStarted", T0);
    let stored = ingest(&*store, &event).await;
    assert_eq!(stored.delivery_count, 2);
    let (read, deliveries) = store.event(&ws, &event.id).await.unwrap().unwrap();
    assert_eq!(read.payload, event.payload);
    let mut targets: Vec<_> = deliveries.iter().map(|d| d.webhook_id.clone()).collect();
    targets.sort();
    let mut expected = vec![sessions.id, both.id];
    expected.sort();
    assert_eq!(targets, expected);
    assert!(
        deliveries
            .iter()
            .all(|d| d.state == DeliveryState::Pending && d.attempts == 0)
    );
}

async fn an_idempotency_key_replays_within_its_window_and_refuses_another_body(
    store: Arc<dyn Store>,
) {
    let ws = workspace(&*store).await;
    let keyed = |hash: &[u8], not_before: i64| {
        let mut e = new_event(&ws, "SessionStarted", T0);
        e.idempotency = Some(Idempotency {
            key: "k1".into(),
            request_hash: hash.to_vec(),
            not_before,
        });
        e
    };
    let first = ingest(&*store, &keyed(b"h1", T0 - 1)).await;
    match store.ingest_event(&keyed(b"h1", T0 - 1)).await.unwrap() {
        Ingested::Replayed(e) => assert_eq!(e.id, first.id),
        other => panic!("expected a replay, got {other:?}"),
    }
    assert!(matches!(
        store.ingest_event(&keyed(b"h2", T0 - 1)).await.unwrap(),
        Ingested::KeyReused
    ));
    // Once the window has passed, the key is free again.
    let later = ingest(&*store, &keyed(b"h2", T0 + 1)).await;
    assert_ne!(later.id, first.id);
    assert_eq!(
        store
            .list_events(&ws, None, page(10))
            .await
            .unwrap()
            .items
            .len(),
        2
    );
}

async fn a_claim_leases_due_deliveries_until_the_lease_runs_out(store: Arc<dyn Store>) {
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

async fn concurrent_claims_never_share_a_delivery(store: Arc<dyn Store>) {
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

async fn a_claim_skips_webhooks_at_their_limit_and_a_release_gives_back(store: Arc<dyn Store>) {
    let ws = workspace(&*store).await;
    let busy = webhook(&*store, &ws, &["SessionStarted"]).await;
    let _idle = webhook(&*store, &ws, &["SessionStarted"]).await;
    ingest(&*store, &new_event(&ws, "SessionStarted", T0)).await;
    let mut request = claim_at(T0, 10);
    request.skip_webhooks = vec![busy.id.clone()];
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

async fn recorded_attempts_follow_the_next_step_and_form_the_history(store: Arc<dyn Store>) {
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
    assert_eq!(history.items[1].payload, event.payload);
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

async fn a_410_disables_the_webhook_as_gone_and_holds_its_deliveries(store: Arc<dyn Store>) {
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

async fn deleting_a_webhook_cancels_its_deliveries_and_removes_its_history(store: Arc<dyn Store>) {
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

async fn a_test_delivery_is_neither_listed_nor_queued(store: Arc<dyn Store>) {
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
            .list_events(&ws, None, page(10))
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

async fn a_session_lives_until_it_expires_or_is_ended(store: Arc<dyn Store>) {
    let ws = workspace(&*store).await;
    let new = |hash: &[u8], created_at: i64| NewSession {
        token_hash: hash.to_vec(),
        workspace_id: ws.clone(),
        csrf_token: "csrf".into(),
        created_at,
        expires_at: created_at + 1_000,
    };
    store.create_session(&new(b"s1", T0)).await.unwrap();
    let found = store.session(b"s1", T0 + 999).await.unwrap().unwrap();
    assert_eq!(
        (
            found.workspace_id.as_str(),
            found.workspace_name.as_str(),
            found.csrf_token.as_str()
        ),
        (ws.as_str(), "Acme", "csrf")
    );
    assert!(
        store.session(b"s1", T0 + 1_000).await.unwrap().is_none(),
        "expired"
    );
    assert!(store.session(b"other", T0).await.unwrap().is_none());
    store.create_session(&new(b"s2", T0 + 5_000)).await.unwrap();
    store.delete_session(b"s2").await.unwrap();
    assert!(
        store.session(b"s2", T0 + 5_001).await.unwrap().is_none(),
        "signed out"
    );
}

async fn a_rotated_secret_signs_first_and_the_old_one_until_it_expires(store: Arc<dyn Store>) {
    let ws = workspace(&*store).await;
    let hook = webhook(&*store, &ws, &["SessionStarted"]).await;
    let old = store
        .webhook_secrets(&ws, &hook.id, T0)
        .await
        .unwrap()
        .unwrap();
    let new = Secret::generate();
    assert!(
        store
            .rotate_webhook_secret(&ws, &hook.id, &new, T0, T0 + 1_000)
            .await
            .unwrap()
    );
    let valid = store
        .webhook_secrets(&ws, &hook.id, T0 + 999)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        valid,
        [new.clone(), old[0].clone()],
        "newest first, the old one still valid"
    );
    assert_eq!(
        store
            .webhook_secrets(&ws, &hook.id, T0 + 1_000)
            .await
            .unwrap()
            .unwrap(),
        [new]
    );
    let other = workspace(&*store).await;
    assert!(
        !store
            .rotate_webhook_secret(&other, &hook.id, &Secret::generate(), T0, T0)
            .await
            .unwrap()
    );
}

async fn delivery_stats_count_recent_deliveries_by_state(store: Arc<dyn Store>) {
    let ws = workspace(&*store).await;
    let hook = webhook(&*store, &ws, &["SessionStarted"]).await;
    ingest(&*store, &new_event(&ws, "SessionStarted", T0 - 10)).await;
    for i in 0..3 {
        ingest(&*store, &new_event(&ws, "SessionStarted", T0 + i)).await;
    }
    let claims = store.claim_due(&claim_at(T0 - 10, 1)).await.unwrap();
    store
        .record_attempt(&attempt_of(
            &claims[0],
            status(200),
            NextStep::Succeeded,
            T0,
        ))
        .await
        .unwrap();
    let claims = store.claim_due(&claim_at(T0 + 5, 2)).await.unwrap();
    store
        .record_attempt(&attempt_of(
            &claims[0],
            status(200),
            NextStep::Succeeded,
            T0,
        ))
        .await
        .unwrap();
    store
        .record_attempt(&attempt_of(&claims[1], status(500), NextStep::Failed, T0))
        .await
        .unwrap();
    let stats = store.delivery_stats(&ws, &hook.id, T0).await.unwrap();
    assert_eq!(
        (stats.succeeded, stats.pending, stats.failed),
        (1, 1, 1),
        "the older success is outside the window"
    );
}

async fn failing_without_a_success_for_too_long_disables_the_webhook(store: Arc<dyn Store>) {
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

async fn one_attempt(store: &dyn Store, ws: &str, outcome: Outcome, at: i64) {
    ingest(store, &new_event(ws, "SessionStarted", at)).await;
    let claim = store.claim_due(&claim_at(at, 1)).await.unwrap().remove(0);
    store
        .record_attempt(&attempt_of(&claim, outcome, NextStep::Failed, at))
        .await
        .unwrap();
}

async fn pruning_removes_old_finished_events_in_batches_and_keeps_pending_work(
    store: Arc<dyn Store>,
) {
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
    let still_pending = ingest(&*store, &new_event(&ws, "SessionStarted", T0 + 10)).await;
    let recent = ingest(&*store, &new_event(&ws, "ConversationComplete", T0 + 1_000)).await;

    assert_eq!(
        store.prune(T0 + 500, 2).await.unwrap(),
        2,
        "a batch is at most the limit"
    );
    assert_eq!(store.prune(T0 + 500, 2).await.unwrap(), 1);
    assert_eq!(store.prune(T0 + 500, 2).await.unwrap(), 0);
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
            .claim_due(&claim_at(T0 + 2_000, 10))
            .await
            .unwrap()
            .len(),
        1
    );
}

/// Runs each scenario against SQLite and, when configured, PostgreSQL.
macro_rules! conformance {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $scenario() {
                    let dir = tempfile::tempdir().unwrap();
                    let url = format!("sqlite://{}", dir.path().join("store.db").display());
                    let store = speaknode_webhooks::store::sqlite::SqliteStore::open(&url).await.unwrap();
                    super::$scenario(std::sync::Arc::new(store)).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $scenario() {
                    let Some(db) = crate::common::pg::PgDb::create().await else {
                        eprintln!("{} is not set: PostgreSQL side not run here", crate::common::pg::ENV);
                        return;
                    };
                    let store = speaknode_webhooks::store::postgres::PgStore::open(&db.url, 8).await.unwrap();
                    super::$scenario(std::sync::Arc::new(store)).await;
                    db.drop_database().await;
                }
            )*
        }
    };
}

conformance!(
    an_api_key_finds_its_workspace_and_cannot_be_taken_by_another,
    a_workspace_never_sees_another_workspaces_webhooks,
    lists_page_newest_first_without_gaps,
    patching_changes_only_what_it_names_and_disabling_holds_deliveries,
    an_event_fans_out_to_enabled_subscribers_with_its_exact_payload,
    an_idempotency_key_replays_within_its_window_and_refuses_another_body,
    a_claim_leases_due_deliveries_until_the_lease_runs_out,
    concurrent_claims_never_share_a_delivery,
    a_claim_skips_webhooks_at_their_limit_and_a_release_gives_back,
    recorded_attempts_follow_the_next_step_and_form_the_history,
    a_410_disables_the_webhook_as_gone_and_holds_its_deliveries,
    deleting_a_webhook_cancels_its_deliveries_and_removes_its_history,
    a_test_delivery_is_neither_listed_nor_queued,
    a_session_lives_until_it_expires_or_is_ended,
    a_rotated_secret_signs_first_and_the_old_one_until_it_expires,
    delivery_stats_count_recent_deliveries_by_state,
    failing_without_a_success_for_too_long_disables_the_webhook,
    pruning_removes_old_finished_events_in_batches_and_keeps_pending_work,
);
