//! The webhook page's Replay action: past events of the window, the webhook's types and filter,
//! delivered once however often it is pressed.

#![allow(clippy::unwrap_used)]

use crate::common;
use crate::visitor;

use common::{Receiver, TestApp, session_started};
use serde_json::json;
use visitor::signed_in;

#[tokio::test]
async fn replay_delivers_the_windows_matching_events_once() {
    let app = TestApp::start().await;
    for agent in ["agent_7", "agent_8", "agent_7"] {
        let mut data = session_started();
        data["agent_id"] = json!(agent);
        app.emit("SessionStarted", data).await;
    }
    let receiver = Receiver::ok().await;
    let (status, webhook) = app
        .post(
            "/api/v1/webhooks",
            json!({"url": receiver.url, "event_types": ["SessionStarted"],
                   "filter": {"agent_id": ["agent_7"]}, "ordered": true}),
        )
        .await;
    assert_eq!(status, 201, "{webhook}");
    let id = webhook["id"].as_str().unwrap();

    let mut visitor = signed_in(&app).await;
    let page = visitor.get(&format!("/webhooks/{id}")).await;
    assert!(page.body.contains("action=\"/webhooks/") && page.body.contains("/replay\""));
    assert!(page.section("id=\"option-ordered\"").contains("Yes"));
    let csrf = page.csrf();
    let replay = [("csrf", csrf.as_str()), ("window", "7d")];
    let answer = visitor
        .post(&format!("/webhooks/{id}/replay"), &replay)
        .await;
    assert_eq!(
        answer.location.unwrap(),
        format!("/webhooks/{id}?notice=replayed#history")
    );
    app.wait_for_attempts(id, 2).await;
    let answer = visitor
        .post(&format!("/webhooks/{id}/replay"), &replay)
        .await;
    assert_eq!(
        answer.location.unwrap(),
        format!("/webhooks/{id}?notice=replayed_none#history"),
        "nothing twice"
    );
    assert_eq!(receiver.received().len(), 2, "the two agent_7 events");

    let bad = visitor
        .post(
            &format!("/webhooks/{id}/replay"),
            &[("csrf", csrf.as_str()), ("window", "1y")],
        )
        .await;
    assert_eq!(bad.status, 422);
    app.stop().await;
}
