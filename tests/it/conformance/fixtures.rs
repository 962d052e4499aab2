//! Fixtures shared by the conformance scenarios: workspaces, webhooks, events, claims and
//! attempts at fixed times.

#![allow(dead_code)]

use std::time::Duration;

use speaknode_webhooks::domain::after_attempt::{self, Facts};
use speaknode_webhooks::domain::attempt::Outcome;
use speaknode_webhooks::domain::fair_share::Budget;
use speaknode_webhooks::domain::ids;
use speaknode_webhooks::domain::retry::RetrySchedule;
use speaknode_webhooks::domain::webhook::Secret;
use speaknode_webhooks::store::*;

pub const T0: i64 = 1_800_000_000_000;
pub const DISABLE_AFTER: i64 = 5 * 86_400_000;

pub fn page(limit: u32) -> PageRequest {
    PageRequest {
        limit,
        cursor: None,
    }
}

pub async fn workspace(store: &dyn Store) -> String {
    let ws = Workspace {
        id: ids::new_id(ids::WORKSPACE),
        name: "Acme".into(),
        created_at: T0,
    };
    store.create_workspace(&ws, false).await.unwrap();
    ws.id
}

pub async fn webhook(store: &dyn Store, ws: &str, types: &[&str]) -> Webhook {
    store
        .create_webhook(&NewWebhook {
            description: "d".into(),
            event_types: types.iter().map(|t| t.to_string()).collect(),
            ..new_webhook(ws)
        })
        .await
        .unwrap()
}

/// A SessionStarted webhook with the delivery options of an API body (`{"ordered": true}`).
pub async fn webhook_with(store: &dyn Store, ws: &str, options: serde_json::Value) -> Webhook {
    let options = DeliveryOptions::from_body(options.as_object().unwrap()).unwrap();
    store
        .create_webhook(&NewWebhook {
            options,
            ..new_webhook(ws)
        })
        .await
        .unwrap()
}

fn new_webhook(ws: &str) -> NewWebhook {
    NewWebhook {
        id: ids::new_id(ids::WEBHOOK),
        workspace_id: ws.into(),
        url: "https://example.com/hooks".into(),
        description: String::new(),
        event_types: vec!["SessionStarted".into()],
        enabled: true,
        secret: Secret::generate(),
        options: Default::default(),
        now: T0,
    }
}

pub fn new_event(ws: &str, event_type: &str, at: i64) -> NewEvent {
    let id = ids::new_id(ids::EVENT);
    NewEvent {
        payload: format!(r#"{{"id":"{id}","type":"{event_type}","data":{{"k": "v"}}}}"#),
        id,
        workspace_id: ws.into(),
        event_type: event_type.into(),
        created_at: at,
        idempotency: None,
        traceparent: None,
    }
}

pub async fn ingest(store: &dyn Store, event: &NewEvent) -> Event {
    match store.ingest_event(event.clone()).await.unwrap() {
        Ingested::Created(e) => e,
        other => panic!("expected a new event, got {other:?}"),
    }
}

pub fn claim_at(now: i64, limit: u32) -> ClaimRequest {
    ClaimRequest {
        owner: "w1".into(),
        now,
        lease_until: now + 60_000,
        default_timeout: 5_000,
        budget: Budget::open(limit),
    }
}

/// The attempt of `claim` made at `at` (5 ms long) with `outcome`, planned by
/// `after_attempt::plan` as the service plans it, on a retry schedule made up to lead to `next`
/// (a delay to that time, or none left). Each scenario still says which step it expects, and the
/// stores are only ever handed plans the service can make.
pub fn attempt_of(claim: &Claimed, outcome: Outcome, next: NextStep, at: i64) -> NewAttempt {
    let duration_ms = 5;
    let ended_at = at + duration_ms;
    let delays = match next {
        NextStep::RetryAt(due) => {
            let delay = u64::try_from(due - ended_at).expect("a retry after the attempt ends");
            vec![Duration::from_millis(delay); claim.attempts as usize + 1]
        }
        NextStep::Succeeded | NextStep::Failed => Vec::new(),
    };
    let plan = after_attempt::plan(&Facts {
        outcome: &outcome,
        trigger: claim.trigger,
        attempts: claim.attempts,
        event_type: &claim.event_type,
        own_schedule: None,
        default_schedule: &RetrySchedule::new(delays),
        started_at: at,
        ended_at,
        disable_after: Duration::from_millis(DISABLE_AFTER as u64),
    });
    assert_eq!(plan.next, next, "the plan for {outcome:?}");
    NewAttempt {
        id: ids::new_id(ids::ATTEMPT),
        claim: claim.clone(),
        started_at: at,
        duration_ms,
        outcome,
        plan,
    }
}

pub fn status(code: u16) -> Outcome {
    Outcome::Responded {
        status: code,
        body: format!("status {code}"),
        truncated: false,
        retry_after: None,
    }
}

pub async fn event_state(store: &dyn Store, ws: &str, id: &str) -> Vec<DeliverySummary> {
    store.event(ws, id).await.unwrap().unwrap().1
}
