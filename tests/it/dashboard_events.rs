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

/// A search whose page reads its bound of events without a match says so and offers Older,
/// which goes on and finds the match: it does not say "No events match".
#[tokio::test]
async fn a_search_page_without_a_match_in_its_bound_offers_older_events() {
    let app = TestApp::start().await;
    let receiver = Receiver::ok().await;
    app.create_webhook(&receiver.url, &["SessionStarted"]).await;
    let mut data = session_started();
    data["agent_id"] = json!("agent_rare");
    let rare = app.emit("SessionStarted", data).await;
    let rare_id = rare["id"].as_str().unwrap().to_string();
    // Seeded straight into the file after it: more events than one page of a search reads.
    let db = app.db_path.clone();
    tokio::task::spawn_blocking(move || {
        let conn = rusqlite::Connection::open(db).unwrap();
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .unwrap();
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20100)
             INSERT INTO events (id, workspace_id, event_type, payload, created_at, delivery_count)
             SELECT printf('evt_later%010d', i), e.workspace_id, 'SessionStarted',
                 '{\"data\":{\"agent_id\":\"agent_other\"}}', e.created_at + i, 0
             FROM n, events e WHERE e.id = ?1",
            [&rare_id],
        )
        .unwrap();
    })
    .await
    .unwrap();

    let mut visitor = signed_in(&app).await;
    let first = visitor.get("/events?q=agent_id+%3D+agent_rare").await;
    assert_eq!(first.status, 200);
    assert!(
        first.body.contains("No match in these events"),
        "{}",
        first.body
    );
    assert!(!first.body.contains("No events match"));
    let older = first
        .body
        .split("href=\"")
        .filter_map(|s| s.split('"').next())
        .find(|href| href.contains("before="))
        .expect("an Older link")
        .replace("&#38;", "&");
    let second = visitor.get(&older).await;
    assert!(
        second.body.contains(rare["id"].as_str().unwrap()),
        "{}",
        second.body
    );
    app.stop().await;
}
