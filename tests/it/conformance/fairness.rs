//! Fair claiming on every backend: a claim serves every webhook with due work in turn, within
//! what each may start and the byte cap, however large another webhook's backlog is.

use std::sync::Arc;

use speaknode_webhooks::domain::fair_share::{Allowance, Budget};
use speaknode_webhooks::store::*;

use super::fixtures::*;

/// `n` events into `ws`, accepted concurrently (the stores commit them in groups).
async fn events(store: &Arc<dyn Store>, ws: &str, n: usize, at: i64) {
    for chunk in (0..n).collect::<Vec<_>>().chunks(200) {
        let ingests = chunk.iter().map(|i| {
            let store = store.clone();
            let event = new_event(ws, "SessionStarted", at + *i as i64);
            async move { ingest(&*store, &event).await }
        });
        futures::future::join_all(ingests).await;
    }
}

fn claim_with(now: i64, budget: Budget) -> ClaimRequest {
    ClaimRequest {
        budget,
        ..claim_at(now, 0)
    }
}

/// A webhook with `backlog` due deliveries, all older than the 5 of a second webhook in
/// another workspace: a claim of 20 takes all 5 of the second, and all its allowance of the
/// first, not the whole batch.
async fn behind_a_backlog_of(store: Arc<dyn Store>, backlog: usize) {
    let (busy_ws, quiet_ws) = (workspace(&*store).await, workspace(&*store).await);
    let busy = webhook(&*store, &busy_ws, &["SessionStarted"]).await;
    let quiet = webhook(&*store, &quiet_ws, &["SessionStarted"]).await;
    events(&store, &busy_ws, backlog, T0).await;
    events(&store, &quiet_ws, 5, T0 + backlog as i64 + 1).await;
    let mut budget = Budget::open(20);
    budget.unseen = Allowance::prompt(12);
    let claimed = store
        .claim_due(&claim_with(T0 + 10 * backlog as i64, budget))
        .await
        .unwrap();
    let of = |id: &str| claimed.iter().filter(|c| c.webhook_id == id).count();
    assert_eq!(of(&quiet.id), 5, "every due delivery of the quiet webhook");
    let expected = if backlog < 1024 { 12 } else { 10 };
    assert_eq!(
        of(&busy.id),
        expected,
        "the busy one gets its share, not the batch"
    );
}

pub async fn a_small_backlog_never_fills_a_claim(store: Arc<dyn Store>) {
    behind_a_backlog_of(store, 30).await;
}

/// Far past the first look at the queue (64 rows), the claim walks the webhooks instead.
pub async fn a_backlog_larger_than_the_first_look_never_fills_a_claim(store: Arc<dyn Store>) {
    behind_a_backlog_of(store, 300).await;
}

pub async fn claims_serve_webhooks_in_turn_starting_after_the_last_one_served(
    store: Arc<dyn Store>,
) {
    let ws = workspace(&*store).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(webhook(&*store, &ws, &["SessionStarted"]).await.id);
    }
    ids.sort();
    events(&store, &ws, 4, T0).await;
    let mut budget = Budget::open(2);
    budget.unseen = Allowance::prompt(1);
    let first = store
        .claim_due(&claim_with(T0 + 10, budget.clone()))
        .await
        .unwrap();
    let served: Vec<&str> = first.iter().map(|c| c.webhook_id.as_str()).collect();
    assert_eq!(served, [ids[0].as_str(), ids[1].as_str()]);
    budget.after = Some(ids[1].clone());
    let second = store.claim_due(&claim_with(T0 + 10, budget)).await.unwrap();
    let served: Vec<&str> = second.iter().map(|c| c.webhook_id.as_str()).collect();
    assert_eq!(
        served,
        [ids[2].as_str(), ids[0].as_str()],
        "round-robin wraps"
    );
}

pub async fn slow_webhooks_get_only_the_unproven_share(store: Arc<dyn Store>) {
    let ws = workspace(&*store).await;
    let slow = webhook(&*store, &ws, &["SessionStarted"]).await;
    let prompt = webhook(&*store, &ws, &["SessionStarted"]).await;
    events(&store, &ws, 10, T0).await;
    let mut budget = Budget::open(20);
    budget.unproven_room = 3;
    budget
        .webhooks
        .insert(slow.id.clone(), Allowance::unproven(10));
    budget
        .webhooks
        .insert(prompt.id.clone(), Allowance::prompt(10));
    let claimed = store
        .claim_due(&claim_with(T0 + 100, budget))
        .await
        .unwrap();
    let of = |id: &str| claimed.iter().filter(|c| c.webhook_id == id).count();
    assert_eq!((of(&slow.id), of(&prompt.id)), (3, 10));
}

pub async fn a_claim_stops_at_the_byte_cap_counting_each_event_once(store: Arc<dyn Store>) {
    let ws = workspace(&*store).await;
    for _ in 0..2 {
        webhook(&*store, &ws, &["SessionStarted"]).await;
    }
    events(&store, &ws, 5, T0).await;
    let size = new_event(&ws, "SessionStarted", T0).payload.len() as u64;
    let mut budget = Budget::open(100);
    // Room for two events' bodies: their four deliveries, not two deliveries.
    budget.max_bytes = 2 * size + size / 2;
    let claimed = store
        .claim_due(&claim_with(T0 + 100, budget))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 4);
    let mut events: Vec<&str> = claimed.iter().map(|c| c.event_id.as_str()).collect();
    events.sort();
    events.dedup();
    assert_eq!(events.len(), 2);
    // Deliveries of one event share one buffer.
    let same: Vec<&Claimed> = claimed.iter().filter(|c| c.event_id == events[0]).collect();
    assert!(Arc::ptr_eq(&same[0].payload, &same[1].payload));
    // Whatever the cap, one event always goes out (to each webhook, since that costs nothing).
    let mut budget = Budget::open(100);
    budget.max_bytes = 1;
    let claimed = store
        .claim_due(&claim_with(T0 + 100, budget))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 2);
    assert_eq!(claimed[0].event_id, claimed[1].event_id);
}
