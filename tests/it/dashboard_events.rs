//! The dashboard's Events page and an event's page over real HTTP: the list, the search box
//! (an event id or `path = value`), the filters, the event's payload with its deliveries and
//! attempts, Retry, and another workspace's event not found.

#![allow(clippy::unwrap_used)]

use crate::common;
use crate::visitor;

use common::{Receiver, TestApp, session_started};
use serde_json::json;
use visitor::signed_in;

#[tokio::test]
async fn events_are_listed_searched_and_opened_with_their_deliveries() {
    let app = TestApp::start().await;
    let receiver = Receiver::ok().await;
    let webhook = app.create_webhook(&receiver.url, &["SessionStarted"]).await;
    let mut support = session_started();
    support["agent_id"] = json!("agent_support_en");
    let mut sales = session_started();
    sales["agent_id"] = json!("agent_sales");
    let first = app.emit("SessionStarted", support).await;
    let second = app.emit("SessionStarted", sales).await;
    let (first_id, second_id) = (
        first["id"].as_str().unwrap(),
        second["id"].as_str().unwrap(),
    );
    let attempts = app
        .wait_for_attempts(webhook["id"].as_str().unwrap(), 2)
        .await;

    let mut visitor = signed_in(&app).await;
    let page = visitor.get("/events").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(first_id) && page.body.contains(second_id));
    assert!(page.body.contains("aria-current=\"page\">") && page.body.contains(">Events</a>"));

    let found = visitor.get("/events?q=agent_id+%3D+agent_support_en").await;
    assert!(found.body.contains(first_id), "{}", found.body);
    assert!(
        !found.body.contains(second_id),
        "the search keeps only the match"
    );
    let by_id = visitor.get(&format!("/events?q={second_id}")).await;
    assert_eq!(
        by_id.location.as_deref(),
        Some(format!("/events/{second_id}").as_str())
    );
    let unclear = visitor.get("/events?q=just+words").await;
    assert_eq!(unclear.status, 200);
    assert!(
        unclear.body.contains("Search for an event id"),
        "{}",
        unclear.body
    );
    let failed = visitor.get("/events?state=failed").await;
    assert!(failed.body.contains("No events match"));
    let succeeded = visitor.get("/events?state=succeeded").await;
    assert!(succeeded.body.contains(first_id) && succeeded.body.contains(second_id));

    let event = visitor.get(&format!("/events/{first_id}")).await;
    assert_eq!(event.status, 200);
    assert!(event.body.contains("agent_support_en"), "the payload");
    assert!(event.body.contains(&receiver.url), "the webhook");
    let attempt = attempts
        .iter()
        .find(|a| a["event_id"] == first["id"])
        .unwrap();
    let attempt_id = attempt["id"].as_str().unwrap();
    assert!(event.body.contains(attempt_id), "its attempt");
    assert!(
        event
            .body
            .contains(&format!("/attempts/{attempt_id}/retry")),
        "with Retry"
    );
    let csrf = event.csrf();
    let hook = webhook["id"].as_str().unwrap();
    let retried = visitor
        .post(
            &format!("/webhooks/{hook}/attempts/{attempt_id}/retry"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(retried.status, 303);
    app.wait_for_attempts(hook, 3).await;

    assert_eq!(
        visitor
            .get("/events/evt_not_in_this_workspace")
            .await
            .status,
        404
    );
    app.stop().await;
}
