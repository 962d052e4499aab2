//! A database written by the release before the SQLite store moved to one driver (sqlx applied
//! its migrations and served its reads; `tests/fixtures/make_sqlite_v0_1.sh` made the file)
//! opens with today's code, keeps everything it held, and serves: its webhooks, events and
//! Request History read back, the failed deliveries retried from the history arrive signed with
//! the webhook's rotated secret, and a new event is delivered.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::{Receiver, TestApp, eventually, session_started};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sqlite-v0.1.db");

#[tokio::test]
async fn a_database_from_the_previous_release_opens_and_serves() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("speaknode-webhooks.db");
    std::fs::copy(FIXTURE, &db).unwrap();
    // Reading first, with no worker: the failed deliveries' retries fell due an hour after the
    // file was made, and a worker would add attempts to the history being checked.
    let app = TestApp::start_on(&db, |args| args.no_worker = true).await;

    let (status, webhooks) = app.get("/api/v1/webhooks").await;
    assert_eq!(status, 200, "{webhooks}");
    let webhooks = webhooks["data"].as_array().unwrap().clone();
    assert_eq!(webhooks.len(), 2, "{webhooks:?}");
    let old = webhooks
        .iter()
        .find(|w| w["description"] == "made before the one-driver store")
        .expect("the first webhook");
    let id = old["id"].as_str().unwrap();
    assert_eq!(
        old["event_types"],
        json!(["SessionStarted", "ConversationComplete"])
    );

    let (_, events) = app.get("/api/v1/events?limit=100").await;
    let events = events["data"].as_array().unwrap().clone();
    assert_eq!(
        events.len(),
        6,
        "five SessionStarted and one ConversationComplete"
    );

    let history = app.attempts(id).await;
    assert_eq!(history.len(), 6, "{history:?}");
    let failed: Vec<&Value> = history
        .iter()
        .filter(|a| a["http_status"].is_null())
        .collect();
    assert_eq!(failed.len(), 2, "the two sent while the receiver was down");
    assert!(
        failed
            .iter()
            .all(|a| a["error"].is_string() && a["next_attempt_at"].is_string())
    );
    assert!(history.iter().filter(|a| a["http_status"] == 200).count() == 4);

    // The receiver moved: point the webhook at a new one and make both failed deliveries due.
    let receiver = Receiver::ok().await;
    let (status, body) = app
        .patch(
            &format!("/api/v1/webhooks/{id}"),
            json!({"url": receiver.url}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    for attempt in &failed {
        let attempt = attempt["id"].as_str().unwrap();
        let (status, body) = app
            .post(
                &format!("/api/v1/webhooks/{id}/attempts/{attempt}/retry"),
                json!({}),
            )
            .await;
        assert_eq!(status, 202, "{body}");
    }
    app.stop().await;

    let app = TestApp::start_on(&db, |_| {}).await;
    eventually("the two retried deliveries", || async {
        receiver.received().len() == 2
    })
    .await;
    let (_, secret) = app.get(&format!("/api/v1/webhooks/{id}/secret")).await;
    let secret = secret["secret"].as_str().unwrap();
    for got in receiver.received() {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(&got.body);
        assert_eq!(
            got.header("x-speaknode-signature"),
            hex::encode(mac.finalize().into_bytes()),
            "signed with the secret the old release rotated in"
        );
        let body: Value = serde_json::from_slice(&got.body).unwrap();
        assert_eq!(body["type"], "SessionStarted");
    }

    let event = app.emit("SessionStarted", session_started()).await;
    let settled = app
        .wait_for_event_settled(event["id"].as_str().unwrap())
        .await;
    assert_eq!(settled["deliveries"][0]["state"], "succeeded", "{settled}");
    assert_eq!(receiver.received().len(), 3);
    app.stop().await;
}
