//! Conformance scenarios for tenants and their data: keys, isolation, webhooks, events,
//! idempotency, sessions, secret rotation and delivery stats.

use std::sync::Arc;

use speaknode_webhooks::domain::attempt::DeliveryState;
use speaknode_webhooks::domain::webhook::{DisabledReason, Secret};
use speaknode_webhooks::store::*;

use super::fixtures::*;

pub async fn an_api_key_finds_its_workspace_and_cannot_be_taken_by_another(store: Arc<dyn Store>) {
    let (a, b) = (workspace(&*store).await, workspace(&*store).await);
    store.add_api_key("key_1", &a, b"hash-a", T0).await.unwrap();
    assert_eq!(
        store.workspace_for_key(b"hash-a").await.unwrap(),
        Some(a.clone())
    );
    assert_eq!(store.workspace_for_key(b"unknown").await.unwrap(), None);
    // Another workspace adding the same hash is accepted and changes nothing.
    store.add_api_key("key_2", &b, b"hash-a", T0).await.unwrap();
    assert_eq!(store.workspace_for_key(b"hash-a").await.unwrap(), Some(a));
}

pub async fn a_workspace_never_sees_another_workspaces_webhooks(store: Arc<dyn Store>) {
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

pub async fn lists_page_newest_first_without_gaps(store: Arc<dyn Store>) {
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

pub async fn patching_changes_only_what_it_names_and_disabling_holds_deliveries(
    store: Arc<dyn Store>,
) {
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

pub async fn an_event_fans_out_to_enabled_subscribers_with_its_exact_payload(
    store: Arc<dyn Store>,
) {
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

pub async fn an_idempotency_key_replays_within_its_window_and_refuses_another_body(
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
    match store.ingest_event(keyed(b"h1", T0 - 1)).await.unwrap() {
        Ingested::Replayed(e) => assert_eq!(e.id, first.id),
        other => panic!("expected a replay, got {other:?}"),
    }
    assert!(matches!(
        store.ingest_event(keyed(b"h2", T0 - 1)).await.unwrap(),
        Ingested::KeyReused
    ));
    // Once the window has passed, the key is free again.
    let later = ingest(&*store, &keyed(b"h2", T0 + 1)).await;
    assert_ne!(later.id, first.id);
    assert_eq!(
        store
            .list_events(&ws, &EventFilter::default(), page(10))
            .await
            .unwrap()
            .items
            .len(),
        2
    );
}

pub async fn a_session_lives_until_it_expires_or_is_ended(store: Arc<dyn Store>) {
    let ws = workspace(&*store).await;
    let new = |hash: &[u8], created_at: i64| NewSession {
        token_hash: hash.to_vec(),
        workspace_id: ws.clone(),
        csrf_token: "csrf".into(),
        read_only: hash == b"ro",
        created_at,
        expires_at: created_at + 1_000,
    };
    store.create_session(&new(b"s1", T0)).await.unwrap();
    store.create_session(&new(b"ro", T0)).await.unwrap();
    assert!(store.session(b"ro", T0).await.unwrap().unwrap().read_only);
    let found = store.session(b"s1", T0 + 999).await.unwrap().unwrap();
    assert!(!found.read_only);
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

pub async fn a_portal_link_opens_once_before_it_expires(store: Arc<dyn Store>) {
    let ws = workspace(&*store).await;
    let link = |hash: &[u8], workspace_id: &str, read_only: bool, created_at: i64| NewPortalLink {
        token_hash: hash.to_vec(),
        workspace_id: workspace_id.to_string(),
        read_only,
        created_at,
        expires_at: created_at + 1_000,
    };
    assert!(
        store
            .create_portal_link(&link(b"l1", &ws, false, T0))
            .await
            .unwrap()
    );
    assert!(
        store
            .create_portal_link(&link(b"l2", &ws, true, T0))
            .await
            .unwrap()
    );
    assert!(
        !store
            .create_portal_link(&link(b"l3", "ws_nobody", false, T0))
            .await
            .unwrap(),
        "no link to a workspace that does not exist"
    );
    let grant = |workspace_id: &str, read_only| PortalGrant {
        workspace_id: workspace_id.to_string(),
        read_only,
    };
    assert_eq!(
        store.redeem_portal_link(b"l1", T0 + 999).await.unwrap(),
        Some(grant(&ws, false))
    );
    assert_eq!(
        store.redeem_portal_link(b"l1", T0 + 999).await.unwrap(),
        None,
        "a link opens once"
    );
    assert_eq!(
        store.redeem_portal_link(b"l2", T0 + 1_000).await.unwrap(),
        None,
        "expired"
    );
    assert_eq!(
        store.redeem_portal_link(b"unknown", T0).await.unwrap(),
        None
    );
    // Minting drops the links that expired before it.
    assert!(
        store
            .create_portal_link(&link(b"l4", &ws, true, T0 + 5_000))
            .await
            .unwrap()
    );
    assert_eq!(
        store.redeem_portal_link(b"l4", T0 + 5_001).await.unwrap(),
        Some(grant(&ws, true))
    );
}

pub async fn a_rotated_secret_signs_first_and_the_old_one_until_it_expires(store: Arc<dyn Store>) {
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

pub async fn pending_deliveries_are_counted_up_to_a_cap(store: Arc<dyn Store>) {
    let ws = workspace(&*store).await;
    let hook = webhook(&*store, &ws, &["SessionStarted"]).await;
    for i in 0..4 {
        ingest(&*store, &new_event(&ws, "SessionStarted", T0 + i)).await;
    }
    let claims = store.claim_due(&claim_at(T0 + 5, 2)).await.unwrap();
    store
        .record_attempt(&attempt_of(
            &claims[0],
            status(200),
            NextStep::Succeeded,
            T0 + 5,
        ))
        .await
        .unwrap();
    store
        .record_attempt(&attempt_of(
            &claims[1],
            status(500),
            NextStep::Failed,
            T0 + 5,
        ))
        .await
        .unwrap();
    let pending = |ws: String, cap: u64| {
        let store = store.clone();
        let hook = hook.id.clone();
        async move { store.pending_deliveries(&ws, &hook, cap).await.unwrap() }
    };
    assert_eq!(
        pending(ws.clone(), 100).await,
        2,
        "succeeded and failed ones are not"
    );
    assert_eq!(
        pending(ws.clone(), 1).await,
        1,
        "the count stops at the cap"
    );
    let other = workspace(&*store).await;
    assert_eq!(pending(other, 100).await, 0, "another workspace sees none");
}
