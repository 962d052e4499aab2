//! A webhook's delivery options through the API, end to end on real sockets: headers arrive
//! and reserved names are refused, a filter keeps events away, a webhook's timeout and retry
//! schedule override the settings. (Storage on both backends: `tests/conformance/options.rs`.)

#![allow(clippy::unwrap_used)]

mod common;

use common::{Receiver, Reply, TestApp, session_started};
use serde_json::{Value, json};

async fn create(app: &TestApp, body: Value) -> Value {
    let (status, created) = app.post("/api/v1/webhooks", body).await;
    assert_eq!(status, 201, "{created}");
    created
}

#[tokio::test]
async fn headers_arrive_with_every_attempt_and_reserved_names_are_refused() {
    let app = TestApp::start().await;
    let receiver = Receiver::ok().await;
    let webhook = create(
        &app,
        json!({"url": receiver.url, "event_types": ["SessionStarted"],
               "headers": {"Authorization": "Bearer gateway-token", "X-Tenant": "acme"}}),
    )
    .await;
    assert_eq!(
        webhook["headers"],
        json!({"Authorization": "Bearer gateway-token", "X-Tenant": "acme"})
    );
    for field in ["filter", "rate_limit", "timeout", "retry_schedule"] {
        assert_eq!(webhook[field], Value::Null, "{field} unset reads as null");
    }
    assert_eq!(webhook["ordered"], false);

    let event = app.emit("SessionStarted", session_started()).await;
    app.wait_for_event_settled(event["id"].as_str().unwrap())
        .await;
    let got = &receiver.received()[0];
    assert_eq!(got.header("authorization"), "Bearer gateway-token");
    assert_eq!(got.header("x-tenant"), "acme");
    assert_eq!(got.header("content-type"), "application/json");

    for name in [
        "Host",
        "content-type",
        "Content-Length",
        "Transfer-Encoding",
        "Connection",
        "User-Agent",
        "Traceparent",
        "X-SpeakNode-Signature",
        "x-speaknode-anything",
        "Webhook-Id",
    ] {
        let (status, body) = app
            .post(
                "/api/v1/webhooks",
                json!({"url": receiver.url, "event_types": ["SessionStarted"],
                       "headers": {name: "x"}}),
            )
            .await;
        assert_eq!(status, 422, "{name}: {body}");
        assert_eq!(body["error"]["code"], "validation_failed");
        assert_eq!(body["error"]["field"], format!("headers.{name}"), "{body}");
    }
    let id = webhook["id"].as_str().unwrap();
    let (status, body) = app
        .patch(
            &format!("/api/v1/webhooks/{id}"),
            json!({"headers": {"X-Bad": "line\r\nbreak"}}),
        )
        .await;
    assert_eq!(
        (status.as_u16(), body["error"]["field"].clone()),
        (422, json!("headers.X-Bad"))
    );
    let (_, kept) = app.get(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(
        kept["headers"]["X-Tenant"], "acme",
        "a refused PATCH changes nothing"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_filter_keeps_other_agents_events_away_and_is_read_back() {
    let app = TestApp::start().await;
    let receiver = Receiver::ok().await;
    let webhook = create(
        &app,
        json!({"url": receiver.url, "event_types": ["SessionStarted"],
               "filter": {"agent_id": ["agent_7"], "metadata.channel": ["phone"]}}),
    )
    .await;
    assert_eq!(
        webhook["filter"],
        json!({"agent_id": ["agent_7"], "metadata.channel": ["phone"]})
    );
    let mut other = session_started();
    other["agent_id"] = json!("agent_8");
    let skipped = app.emit("SessionStarted", other).await;
    assert_eq!(skipped["deliveries"], 0, "{skipped}");
    let mut mine = session_started();
    mine["agent_id"] = json!("agent_7");
    let sent = app.emit("SessionStarted", mine).await;
    assert_eq!(sent["deliveries"], 1, "{sent}");
    app.wait_for_event_settled(sent["id"].as_str().unwrap())
        .await;
    assert_eq!(receiver.received().len(), 1);

    let (status, body) = app
        .post(
            "/api/v1/webhooks",
            json!({"url": receiver.url, "event_types": ["SessionStarted"],
                   "filter": {"agent_id": []}}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "filter.agent_id");
    app.stop().await;
}

#[tokio::test]
async fn a_webhooks_timeout_and_retry_schedule_override_the_settings() {
    // The settings: 2 s timeout, retries after 50 ms and 50 ms (three attempts).
    let app = TestApp::start().await;
    let slow = Receiver::start(vec![], Reply::Slow(1_500)).await;
    let quick = create(
        &app,
        json!({"url": slow.url, "event_types": ["SessionStarted"],
               "timeout": "1s", "retry_schedule": ""}),
    )
    .await;
    assert_eq!(
        (quick["timeout"].clone(), quick["retry_schedule"].clone()),
        (json!("1s"), json!(""))
    );
    let patient = create(
        &app,
        json!({"url": slow.url, "event_types": ["SessionStarted"]}),
    )
    .await;

    let event = app.emit("SessionStarted", session_started()).await;
    let settled = app
        .wait_for_event_settled(event["id"].as_str().unwrap())
        .await;
    let state_of = |webhook: &Value| {
        settled["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["webhook_id"] == webhook["id"])
            .unwrap()["state"]
            .clone()
    };
    assert_eq!(state_of(&quick), "failed", "{settled}");
    assert_eq!(state_of(&patient), "succeeded", "{settled}");
    let history = app.attempts(quick["id"].as_str().unwrap()).await;
    assert_eq!(
        history.len(),
        1,
        "an empty schedule means one attempt: {history:?}"
    );
    assert_eq!(history[0]["error"], "timeout");

    for (body, field) in [
        (json!({"timeout": "500ms"}), "timeout"),
        (json!({"timeout": "61s"}), "timeout"),
        (json!({"retry_schedule": "8d"}), "retry_schedule"),
        (json!({"retry_schedule": 5}), "retry_schedule"),
    ] {
        let id = quick["id"].as_str().unwrap();
        let (status, answer) = app
            .patch(&format!("/api/v1/webhooks/{id}"), body.clone())
            .await;
        assert_eq!(status, 422, "{body}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{answer}");
    }
    let id = quick["id"].as_str().unwrap();
    let (status, cleared) = app
        .patch(
            &format!("/api/v1/webhooks/{id}"),
            json!({"timeout": null, "retry_schedule": null}),
        )
        .await;
    assert_eq!(status, 200, "{cleared}");
    assert_eq!(
        (
            cleared["timeout"].clone(),
            cleared["retry_schedule"].clone()
        ),
        (Value::Null, Value::Null)
    );
    app.stop().await;
}
