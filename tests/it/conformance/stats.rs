//! The statistics' tallies on every backend: kept with each attempt, by minute and hour and
//! outcome, per webhook, for the workspace only; the raw counts of a window's edges; and gone
//! with the webhook they count.

use std::sync::Arc;

use speaknode_webhooks::domain::attempt::{FailureKind, Outcome};
use speaknode_webhooks::domain::stats::{HOUR_MS, MINUTE_MS};
use speaknode_webhooks::store::*;

use super::fixtures::*;

pub async fn attempts_are_tallied_by_minute_hour_and_outcome(store: Arc<dyn Store>) {
    assert_eq!(T0 % HOUR_MS, 0, "T0 starts an hour");
    let ws = workspace(&*store).await;
    let first = webhook(&*store, &ws, &["SessionStarted"]).await;
    let second = webhook(&*store, &ws, &["ConversationComplete"]).await;
    for event_type in ["SessionStarted", "SessionStarted", "ConversationComplete"] {
        ingest(&*store, &new_event(&ws, event_type, T0)).await;
    }
    let other = workspace(&*store).await;
    webhook(&*store, &other, &["SessionStarted"]).await;
    ingest(&*store, &new_event(&other, "SessionStarted", T0)).await;

    let claims = store.claim_due(&claim_at(T0, 10)).await.unwrap();
    let of = |webhook: &Webhook| -> Vec<&Claimed> {
        claims
            .iter()
            .filter(|c| c.webhook_id == webhook.id)
            .collect()
    };
    let (to_first, to_second) = (of(&first), of(&second));
    let timeout = Outcome::Failed(FailureKind::Timeout);
    let made = [
        (to_first[0], status(200), NextStep::Succeeded, T0 + 10_000),
        (to_first[1], status(500), NextStep::Failed, T0 + 70_000),
        (
            to_second[0],
            timeout,
            NextStep::Failed,
            T0 + HOUR_MS + MINUTE_MS + 1,
        ),
    ];
    for (claim, outcome, next, at) in made {
        store
            .record_attempt(&attempt_of(claim, outcome, next, at))
            .await
            .unwrap();
    }

    let sorted = |mut rows: Vec<(i64, String, u64)>| {
        rows.sort();
        rows
    };
    let row = |at: i64, outcome: &str| (at, outcome.to_string(), 1);
    let window = (T0, T0 + 2 * HOUR_MS);
    let minutes = store
        .tallies(&ws, None, "m", window.0, window.1)
        .await
        .unwrap();
    assert_eq!(
        sorted(minutes),
        [
            row(T0, "200"),
            row(T0 + MINUTE_MS, "500"),
            row(T0 + HOUR_MS + MINUTE_MS, "timeout")
        ]
    );
    let hours = store
        .tallies(&ws, None, "h", window.0, window.1)
        .await
        .unwrap();
    assert_eq!(
        sorted(hours),
        [row(T0, "200"), row(T0, "500"), row(T0 + HOUR_MS, "timeout")]
    );
    let only_first = store
        .tallies(&ws, Some(&first.id), "h", window.0, window.1)
        .await
        .unwrap();
    assert_eq!(sorted(only_first), [row(T0, "200"), row(T0, "500")]);
    let before = store
        .tallies(&ws, None, "m", T0, T0 + MINUTE_MS)
        .await
        .unwrap();
    assert_eq!(before, [row(T0, "200")], "the end of a range is excluded");
    let elsewhere = store
        .tallies(&other, None, "m", window.0, window.1)
        .await
        .unwrap();
    assert!(
        elsewhere.is_empty(),
        "another workspace's attempts are not counted"
    );

    let edge = |from, to| store.outcome_counts(&ws, None, from, to);
    assert_eq!(
        edge(T0, T0 + MINUTE_MS).await.unwrap(),
        [("200".to_string(), 1)]
    );
    assert!(
        edge(T0, T0 + 10_000).await.unwrap().is_empty(),
        "ends excluded"
    );
    assert_eq!(
        edge(T0 + 10_000, T0 + 10_001).await.unwrap().len(),
        1,
        "starts included"
    );
    let second_only = store
        .outcome_counts(&ws, Some(&second.id), T0, T0 + 2 * HOUR_MS)
        .await
        .unwrap();
    assert_eq!(second_only, [("timeout".to_string(), 1)]);

    // A deleted webhook's history is gone, and so are its tallies.
    assert!(
        store
            .delete_webhook(&ws, &second.id, T0 + 3 * HOUR_MS)
            .await
            .unwrap()
    );
    let hours = store
        .tallies(&ws, None, "h", window.0, window.1)
        .await
        .unwrap();
    assert_eq!(sorted(hours), [row(T0, "200"), row(T0, "500")]);
}
