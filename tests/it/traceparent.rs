//! A `traceparent` sent when an event is emitted reaches the receiver with every attempt of
//! every delivery of that event; an invalid one is ignored, not an error.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::{API_KEY, Receiver, Reply, TestApp, session_started};
use serde_json::{Value, json};

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

async fn emit_with_traceparent(app: &TestApp, traceparent: &str) -> Value {
    let response = reqwest::Client::new()
        .post(app.url("/api/v1/events"))
        .bearer_auth(API_KEY)
        .header("traceparent", traceparent)
        .json(&json!({"type": "SessionStarted", "data": session_started()}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    response.json().await.unwrap()
}

#[tokio::test]
async fn every_attempt_of_every_delivery_carries_the_events_traceparent() {
    let app = TestApp::start().await;
    // The first receiver fails once, so the retry is checked too.
    let flaky = Receiver::start(vec![Reply::Status(500)], Reply::Status(200)).await;
    let steady = Receiver::ok().await;
    app.create_webhook(&flaky.url, &["SessionStarted"]).await;
    app.create_webhook(&steady.url, &["SessionStarted"]).await;

    let traced = emit_with_traceparent(&app, TRACEPARENT).await;
    app.wait_for_event_settled(traced["id"].as_str().unwrap())
        .await;
    let untraced = app.emit("SessionStarted", session_started()).await;
    app.wait_for_event_settled(untraced["id"].as_str().unwrap())
        .await;

    let all: Vec<_> = flaky
        .received()
        .into_iter()
        .chain(steady.received())
        .collect();
    assert_eq!(
        all.len(),
        5,
        "2 + 1 attempts of the traced event, 2 of the other"
    );
    for request in all {
        let expected = if request.header("webhook-id") == traced["id"] {
            TRACEPARENT
        } else {
            ""
        };
        assert_eq!(request.header("traceparent"), expected);
    }
}

#[tokio::test]
async fn an_invalid_traceparent_is_ignored() {
    let app = TestApp::start().await;
    let receiver = Receiver::ok().await;
    app.create_webhook(&receiver.url, &["SessionStarted"]).await;
    let event = emit_with_traceparent(&app, "00-not-a-trace-context-01").await;
    app.wait_for_event_settled(event["id"].as_str().unwrap())
        .await;
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].header("traceparent"), "");
}
