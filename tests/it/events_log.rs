//! `GET /api/v1/events` with its filters over real HTTP: the `data.<path>` search as a URL
//! spells it, each bad parameter a 422 naming it, and another workspace's webhook a 404. Every
//! filter's meaning on both backends is in the store conformance suite (`events_log`).

#![allow(clippy::unwrap_used)]

use crate::common;

use common::{Receiver, TestApp, session_started};
use serde_json::json;

fn ids(list: &serde_json::Value) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn events_are_found_by_what_their_data_holds() {
    let app = TestApp::start().await;
    let receiver = Receiver::ok().await;
    let webhook = app.create_webhook(&receiver.url, &["SessionStarted"]).await;
    let mut support = session_started();
    support["agent_id"] = json!("agent_support_en");
    let mut sales = session_started();
    sales["agent_id"] = json!("agent sales & co");
    let first = app.emit("SessionStarted", support).await;
    let second = app.emit("SessionStarted", sales).await;

    let (status, found) = app
        .get("/api/v1/events?data.agent_id=agent_support_en")
        .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(ids(&found), [first["id"].as_str().unwrap()]);
    let (_, found) = app
        .get("/api/v1/events?data.agent_id=agent%20sales%20%26%20co&type=SessionStarted")
        .await;
    assert_eq!(
        ids(&found),
        [second["id"].as_str().unwrap()],
        "percent-encoded text"
    );
    let id = webhook["id"].as_str().unwrap();
    let (_, found) = app.get(&format!("/api/v1/events?webhook_id={id}")).await;
    assert_eq!(ids(&found).len(), 2);
    let (_, found) = app
        .get("/api/v1/events?since=2000-01-01T00:00:00Z&until=2000-01-02T00:00:00Z")
        .await;
    assert!(ids(&found).is_empty());
    app.stop().await;
}

#[tokio::test]
async fn each_bad_filter_is_a_422_naming_it_and_a_foreign_webhook_is_404() {
    let admin = "admin_token_for_events_log_0123";
    let app = TestApp::start_with(|a| a.admin_token = Some(admin.into())).await;
    let client = reqwest::Client::new();
    let other: serde_json::Value = client
        .post(app.url("/api/v1/workspaces"))
        .bearer_auth(admin)
        .json(&json!({"name": "Other"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let foreign: serde_json::Value = client
        .post(app.url("/api/v1/webhooks"))
        .bearer_auth(other["api_key"].as_str().unwrap())
        .json(&json!({"url": "https://example.com/x", "event_types": ["SessionStarted"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let foreign_id = foreign["id"].as_str().unwrap();
    for (query, field) in [
        ("state=done", "state"),
        ("since=yesterday", "since"),
        ("until=2026-13-01T00:00:00Z", "until"),
        (
            "since=2026-12-02T00:00:00Z&until=2026-12-01T00:00:00Z",
            "until",
        ),
        ("webhook_id=", "webhook_id"),
        ("data.=x", "data."),
        ("data.a..b=x", "data.a..b"),
        ("data.agent_id=", "data.agent_id"),
        ("data.agent_id=%22open", "data.agent_id"),
    ] {
        let (status, body) = app.get(&format!("/api/v1/events?{query}")).await;
        assert_eq!(
            (status.as_u16(), body["error"]["field"].as_str()),
            (422, Some(field)),
            "{query}: {body}"
        );
    }
    let (status, body) = app
        .get(&format!("/api/v1/events?webhook_id={foreign_id}"))
        .await;
    assert_eq!(status, 404, "{body}");
    app.stop().await;
}
