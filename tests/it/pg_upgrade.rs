//! A PostgreSQL database written by the release before the queue and the partitioned history
//! (`tests/fixtures/make_pg_before_partitions.sh` made the dump with that release's binary)
//! upgrades in place when today's service opens it: every webhook, event, delivery and attempt
//! reads back, pending deliveries (one held by a disabled webhook) are in the queue and get
//! delivered, a failed one retried from the history is delivered, and a new event too.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use serde_json::{Value, json};
use sqlx::Connection;

use crate::common::pg::PgDb;
use crate::common::{Receiver, TestApp, eventually, session_started};

const DUMP: &str = include_str!("../fixtures/pg-before-partitions.sql");

async fn webhooks_by_description(app: &TestApp) -> HashMap<String, String> {
    let (status, webhooks) = app.get("/api/v1/webhooks").await;
    assert_eq!(status, 200, "{webhooks}");
    webhooks["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["description"].as_str().unwrap().to_string(),
                w["id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Every delivery's state, by its webhook's description, over every event.
async fn delivery_states(app: &TestApp, names: &HashMap<String, String>) -> Vec<(String, String)> {
    let (_, events) = app.get("/api/v1/events?limit=100").await;
    let mut states = Vec::new();
    for event in events["data"].as_array().unwrap() {
        let (status, event) = app
            .get(&format!("/api/v1/events/{}", event["id"].as_str().unwrap()))
            .await;
        assert_eq!(status, 200, "{event}");
        for d in event["deliveries"].as_array().unwrap() {
            let name = names
                .iter()
                .find(|(_, id)| **id == d["webhook_id"])
                .map(|(name, _)| name.clone())
                .unwrap();
            states.push((name, d["state"].as_str().unwrap().to_string()));
        }
    }
    states.sort();
    states
}

#[tokio::test]
async fn a_database_from_the_previous_release_upgrades_in_place_and_delivers() {
    let Some(db) = PgDb::create().await else {
        return;
    };
    let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(DUMP))
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();

    // Reading first, with no worker: the pending deliveries' retries are an hour away anyway.
    let url = db.url.clone();
    let app = TestApp::start_with(|args| {
        args.database_url = url;
        args.no_worker = true;
    })
    .await;
    let names = webhooks_by_description(&app).await;
    assert_eq!(names.len(), 4, "{names:?}");
    let (_, events) = app.get("/api/v1/events?limit=100").await;
    // Two SessionStarted, one ConversationComplete, and a DeliveryExhausted for each failure.
    assert_eq!(events["data"].as_array().unwrap().len(), 5, "{events}");
    let state = |name: &str, state: &str| (name.to_string(), state.to_string());
    assert_eq!(
        delivery_states(&app, &names).await,
        vec![
            state("answers 200", "succeeded"),
            state("answers 200", "succeeded"),
            state("answers 200", "succeeded"),
            state("answers 500, one retry", "failed"),
            state("answers 500, one retry", "failed"),
            state("answers 500, retries in an hour", "pending"),
            state("answers 500, retries in an hour", "pending"),
            state("disabled", "pending"),
        ]
    );
    assert_eq!(app.attempts(&names["answers 200"]).await.len(), 3);
    assert_eq!(
        app.attempts(&names["answers 500, one retry"]).await.len(),
        4
    );

    // Still with no worker (the pending deliveries' hour may have passed since the dump was
    // made, and they must not be tried at the old address first): every receiver moves to one
    // that answers 200, the disabled webhook is enabled again, and the three pending deliveries
    // (two due in an hour, one held) and one failed one, from the history, are retried.
    let receiver = Receiver::ok().await;
    for (name, id) in &names {
        let mut patch = json!({"url": receiver.url});
        if name == "disabled" {
            patch["enabled"] = json!(true);
        }
        let (status, body) = app.patch(&format!("/api/v1/webhooks/{id}"), patch).await;
        assert_eq!(status, 200, "{body}");
    }
    let mut retried = Vec::new();
    for name in ["answers 500, retries in an hour", "disabled"] {
        for attempt in app.attempts(&names[name]).await {
            retried.push((name, attempt["id"].as_str().unwrap().to_string()));
        }
    }
    let failed = app.attempts(&names["answers 500, one retry"]).await;
    retried.push((
        "answers 500, one retry",
        failed[0]["id"].as_str().unwrap().to_string(),
    ));
    assert_eq!(retried.len(), 4, "{retried:?}");
    for (name, attempt) in &retried {
        let (status, body) = app
            .post(
                &format!("/api/v1/webhooks/{}/attempts/{attempt}/retry", names[*name]),
                json!({}),
            )
            .await;
        assert_eq!(status, 202, "{body}");
    }
    app.stop().await;

    // The old tables are now the first partition of each partitioned one.
    let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let legacy: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::TEXT FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE c.relname LIKE '%legacy' ORDER BY 1",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        legacy,
        [
            "attempts_legacy",
            "events_legacy",
            "finished_deliveries_legacy"
        ]
    );
    conn.close().await.unwrap();

    // With a worker: the four are delivered.
    let url = db.url.clone();
    let app = TestApp::start_with(|args| args.database_url = url).await;
    eventually("the four retried deliveries", || async {
        receiver.received().len() == 4
    })
    .await;

    let event = app.emit("SessionStarted", session_started()).await;
    let settled = app
        .wait_for_event_settled(event["id"].as_str().unwrap())
        .await;
    let states: Vec<&Value> = settled["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["state"])
        .collect();
    assert!(
        !states.is_empty() && states.iter().all(|s| *s == "succeeded"),
        "{settled}"
    );
    let states = delivery_states(&app, &names).await;
    assert!(
        !states.iter().any(|(_, s)| s == "pending"),
        "nothing left pending: {states:?}"
    );
    app.stop().await;
    db.drop_database().await;
}
