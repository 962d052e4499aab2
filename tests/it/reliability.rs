//! Tenants and endpoint health through the real API: admin routes, workspace isolation, new
//! event types, 410 Gone, auto-disable after failing, Retry-After, and recovering failures.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::{API_KEY, Receiver, Reply, TestApp, session_started};
use reqwest::Method;
use serde_json::{Value, json};

const ADMIN: &str = "admin-token-for-the-tests-0123";

async fn call(
    app: &TestApp,
    key: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = app.client.request(method, app.url(path)).bearer_auth(key);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn admin_routes_do_not_exist_without_a_token_and_refuse_workspace_keys() {
    let app = TestApp::start().await;
    let (status, body) = call(&app, API_KEY, Method::GET, "/api/v1/workspaces", None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    app.stop().await;

    let app = TestApp::start_with(|a| a.admin_token = Some(ADMIN.into())).await;
    let (status, body) = call(&app, API_KEY, Method::GET, "/api/v1/workspaces", None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("unauthorized"))
    );
    let (status, _) = call(&app, ADMIN, Method::GET, "/api/v1/workspaces", None).await;
    assert_eq!(status, 200);
    app.stop().await;
}

#[tokio::test]
async fn workspaces_are_isolated_and_their_keys_can_be_revoked() {
    let app = TestApp::start_with(|a| a.admin_token = Some(ADMIN.into())).await;
    let (status, other) = call(
        &app,
        ADMIN,
        Method::POST,
        "/api/v1/workspaces",
        Some(json!({"name": "Other"})),
    )
    .await;
    assert_eq!(status, 201, "{other}");
    let other_key = other["api_key"].as_str().unwrap().to_string();
    assert!(other_key.starts_with("sk_"));

    let receiver = Receiver::ok().await;
    let mine = app.create_webhook(&receiver.url, &["SessionStarted"]).await;
    let path = format!("/api/v1/webhooks/{}", mine["id"].as_str().unwrap());
    for (method, suffix) in [
        (Method::GET, ""),
        (Method::DELETE, ""),
        (Method::GET, "/secret"),
        (Method::GET, "/attempts"),
    ] {
        let (status, _) = call(&app, &other_key, method, &format!("{path}{suffix}"), None).await;
        assert_eq!(
            status, 404,
            "another workspace's webhook is not found ({suffix})"
        );
    }
    let (status, event) = call(
        &app,
        &other_key,
        Method::POST,
        "/api/v1/events",
        Some(json!({"type": "SessionStarted", "data": session_started()})),
    )
    .await;
    assert_eq!(
        (status, event["deliveries"].as_u64()),
        (202, Some(0)),
        "events never cross workspaces"
    );
    let (_, listed) = call(&app, &other_key, Method::GET, "/api/v1/webhooks", None).await;
    assert!(listed["data"].as_array().unwrap().is_empty());

    let ws = other["id"].as_str().unwrap();
    let (status, second) = call(
        &app,
        ADMIN,
        Method::POST,
        &format!("/api/v1/workspaces/{ws}/api-keys"),
        None,
    )
    .await;
    assert_eq!(status, 201);
    let key_id = second["id"].as_str().unwrap();
    let second_key = second["api_key"].as_str().unwrap();
    assert_eq!(
        call(&app, second_key, Method::GET, "/api/v1/webhooks", None)
            .await
            .0,
        200
    );
    let (status, _) = call(
        &app,
        ADMIN,
        Method::DELETE,
        &format!("/api/v1/workspaces/{ws}/api-keys/{key_id}"),
        None,
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(
        call(&app, second_key, Method::GET, "/api/v1/webhooks", None)
            .await
            .0,
        401
    );
    assert_eq!(
        call(&app, &other_key, Method::GET, "/api/v1/webhooks", None)
            .await
            .0,
        200,
        "other keys still work"
    );
    let (_, list) = call(&app, ADMIN, Method::GET, "/api/v1/workspaces", None).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 2);
    app.stop().await;
}

#[tokio::test]
async fn a_registered_event_type_validates_its_example_and_then_its_events() {
    let app = TestApp::start_with(|a| a.admin_token = Some(ADMIN.into())).await;
    let schema = json!({"type": "object", "required": ["call_id"], "properties": {"call_id": {"type": "string"}}});
    let bad = json!({"name": "CallTransferred", "description": "A call was transferred.", "schema": schema, "example": {"call_id": 5}});
    let (status, body) = call(&app, ADMIN, Method::POST, "/api/v1/event-types", Some(bad)).await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("example.call_id"))
    );
    let good = json!({"name": "CallTransferred", "description": "A call was transferred.", "schema": schema, "example": {"call_id": "c1"}});
    assert_eq!(
        call(
            &app,
            ADMIN,
            Method::POST,
            "/api/v1/event-types",
            Some(good.clone())
        )
        .await
        .0,
        201
    );
    assert_eq!(
        call(&app, ADMIN, Method::POST, "/api/v1/event-types", Some(good))
            .await
            .0,
        409
    );

    let receiver = Receiver::ok().await;
    app.create_webhook(&receiver.url, &["CallTransferred"])
        .await;
    let (status, body) = app
        .post(
            "/api/v1/events",
            json!({"type": "CallTransferred", "data": {}}),
        )
        .await;
    assert_eq!(
        (status.as_u16(), body["error"]["field"].as_str()),
        (422, Some("data.call_id"))
    );
    let event = app.emit("CallTransferred", json!({"call_id": "c2"})).await;
    assert_eq!(event["deliveries"], 1);
    let (_, types) = app.get("/api/v1/event-types").await;
    assert!(
        types["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "CallTransferred")
    );
    app.stop().await;
}

#[tokio::test]
async fn a_410_disables_the_webhook_as_gone() {
    let app = TestApp::start().await;
    let receiver = Receiver::start(vec![], Reply::Status(410)).await;
    let webhook = app.create_webhook(&receiver.url, &["SessionStarted"]).await;
    let event = app.emit("SessionStarted", session_started()).await;
    let settled = app
        .wait_for_event_settled(event["id"].as_str().unwrap())
        .await;
    assert_eq!(settled["deliveries"][0]["state"], "failed");
    let (_, now) = app
        .get(&format!(
            "/api/v1/webhooks/{}",
            webhook["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        (now["enabled"].as_bool(), now["disabled_reason"].as_str()),
        (Some(false), Some("gone"))
    );
    assert_eq!(receiver.received().len(), 1, "no retries after Gone");
    app.stop().await;
}

#[tokio::test]
async fn a_webhook_failing_for_longer_than_disable_after_is_disabled_as_failing() {
    let app = TestApp::start_with(|a| {
        a.disable_after = "100ms".into();
        a.retry_schedule = "200ms,200ms".into();
    })
    .await;
    let receiver = Receiver::start(vec![], Reply::Status(500)).await;
    let webhook = app.create_webhook(&receiver.url, &["SessionStarted"]).await;
    let id = webhook["id"].as_str().unwrap();
    app.emit("SessionStarted", session_started()).await;
    app.wait_for_attempts(id, 2).await;
    common::eventually("the webhook to be disabled", || async {
        app.get(&format!("/api/v1/webhooks/{id}")).await.1["disabled_reason"] == "failing"
    })
    .await;
    let (_, event_list) = app.get("/api/v1/events?type=SessionStarted").await;
    let event_id = event_list["data"][0]["id"].as_str().unwrap();
    let (_, event) = app.get(&format!("/api/v1/events/{event_id}")).await;
    assert_eq!(
        event["deliveries"][0]["state"], "pending",
        "its retry waits until it is enabled"
    );
    app.stop().await;
}

#[tokio::test]
async fn retry_after_is_honoured_when_later_than_the_schedule() {
    let app = TestApp::start_with(|a| a.retry_schedule = "50ms".into()).await;
    let slow_down = Reply::Full(503, "busy", vec![("retry-after", "2".into())]);
    let receiver = Receiver::start(vec![slow_down], Reply::Status(200)).await;
    let webhook = app.create_webhook(&receiver.url, &["SessionStarted"]).await;
    app.emit("SessionStarted", session_started()).await;
    let attempts = app
        .wait_for_attempts(webhook["id"].as_str().unwrap(), 1)
        .await;
    let at =
        chrono::DateTime::parse_from_rfc3339(attempts[0]["timestamp"].as_str().unwrap()).unwrap();
    let next =
        chrono::DateTime::parse_from_rfc3339(attempts[0]["next_attempt_at"].as_str().unwrap())
            .unwrap();
    assert!(
        (next - at).num_milliseconds() >= 2_000,
        "the retry waits the 2 s the receiver asked for"
    );
    app.stop().await;
}

#[tokio::test]
async fn recover_requeues_failed_deliveries_since_a_time() {
    let app = TestApp::start_with(|a| a.retry_schedule = "".into()).await;
    let receiver = Receiver::start(
        vec![Reply::Status(500), Reply::Status(500)],
        Reply::Status(200),
    )
    .await;
    let webhook = app.create_webhook(&receiver.url, &["SessionStarted"]).await;
    let id = webhook["id"].as_str().unwrap();
    let mut events = Vec::new();
    for _ in 0..2 {
        let e = app.emit("SessionStarted", session_started()).await;
        app.wait_for_event_settled(e["id"].as_str().unwrap()).await;
        events.push(e);
    }
    let (status, body) = app
        .post(
            &format!("/api/v1/webhooks/{id}/recover"),
            json!({"since": "2000-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!((status.as_u16(), body["requeued"].as_u64()), (202, Some(2)));
    for e in &events {
        let settled = app.wait_for_event_settled(e["id"].as_str().unwrap()).await;
        assert_eq!(settled["deliveries"][0]["state"], "succeeded");
    }
    let (status, body) = app
        .post(
            &format!("/api/v1/webhooks/{id}/recover"),
            json!({"since": "soon"}),
        )
        .await;
    assert_eq!(
        (status.as_u16(), body["error"]["field"].as_str()),
        (422, Some("since"))
    );
    app.stop().await;
}
