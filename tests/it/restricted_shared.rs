//! Two processes' stores on one PostgreSQL database, claiming at the same moment over and over:
//! together they never start more than a webhook's `rate_limit` in one second, and never hold
//! two deliveries of an `ordered` webhook at once.

#![allow(clippy::unwrap_used)]

use crate::common;
use crate::conformance::fixtures;

use std::sync::Arc;

use fixtures::*;
use serde_json::json;
use speaknode_webhooks::store::postgres::PgStore;
use speaknode_webhooks::store::*;

/// Every delivery claimed by `stores`, each claiming `rounds` times at `now`, all at once.
async fn claim_everywhere(stores: &[Arc<PgStore>], now: i64, rounds: usize) -> Vec<Claimed> {
    let mut tasks = tokio::task::JoinSet::new();
    for (i, store) in stores.iter().enumerate() {
        for _ in 0..rounds {
            let store = store.clone();
            tasks.spawn(async move {
                let mut request = claim_at(now, 50);
                request.owner = format!("process-{i}");
                store.claim_due(&request).await.unwrap()
            });
        }
    }
    let mut claimed = Vec::new();
    while let Some(batch) = tasks.join_next().await {
        claimed.extend(batch.unwrap());
    }
    claimed
}

#[tokio::test]
async fn two_processes_together_respect_a_rate_limit_and_an_ordered_webhook() {
    let Some(db) = common::pg::PgDb::create().await else {
        return;
    };
    let first = Arc::new(PgStore::open(&db.url, 8).await.unwrap());
    let second = Arc::new(PgStore::open(&db.url, 8).await.unwrap());
    let ws = workspace(&*first).await;
    let limited = webhook_with(&*first, &ws, json!({"rate_limit": 5})).await;
    let ordered = webhook_with(&*first, &ws, json!({"ordered": true})).await;
    for i in 0..40 {
        ingest(&*second, &new_event(&ws, "SessionStarted", T0 + i)).await;
    }
    let stores = [first.clone(), second.clone()];
    let count = |claims: &[Claimed], id: &str| claims.iter().filter(|c| c.webhook_id == id).count();
    let second_start = T0 + 1_000 - T0.rem_euclid(1_000);

    let claimed = claim_everywhere(&stores, second_start + 100, 8).await;
    assert_eq!(
        count(&claimed, &limited.id),
        5,
        "five in this second, not five per process"
    );
    assert_eq!(
        count(&claimed, &ordered.id),
        1,
        "one at a time, across processes"
    );
    let claimed = claim_everywhere(&stores, second_start + 900, 8).await;
    assert_eq!(count(&claimed, &limited.id), 0);
    assert_eq!(
        count(&claimed, &ordered.id),
        0,
        "the first is still in flight"
    );
    let claimed = claim_everywhere(&stores, second_start + 1_000, 8).await;
    assert_eq!(count(&claimed, &limited.id), 5, "the next second's five");
    db.drop_database().await;
}
