//! The Activity chart over real HTTP: on the Webhooks page (every webhook) and on a webhook's
//! page (its own attempts), the same numbers as `GET /api/v1/stats`, with the outcome breakdown,
//! a table of the numbers and the window tabs.

#![allow(clippy::unwrap_used)]

use crate::common;
use crate::visitor;

use common::{Receiver, Reply, TestApp, session_started};
use visitor::signed_in;

fn summary(body: &str) -> String {
    let start = body.find("class=\"activity-summary\"").unwrap();
    let text = &body[start..];
    text[..text.find("</p>").unwrap()].to_string()
}

#[tokio::test]
async fn the_activity_chart_shows_the_numbers_of_the_stats_route() {
    let app = TestApp::start_with(|a| a.retry_schedule = String::new()).await;
    let ok = Receiver::ok().await;
    let failing = Receiver::start(vec![], Reply::Status(503)).await;
    let good = app.create_webhook(&ok.url, &["SessionStarted"]).await;
    let bad = app.create_webhook(&failing.url, &["SessionStarted"]).await;
    for _ in 0..2 {
        app.emit("SessionStarted", session_started()).await;
    }
    let bad_id = bad["id"].as_str().unwrap();
    app.wait_for_attempts(good["id"].as_str().unwrap(), 2).await;
    app.wait_for_attempts(bad_id, 2).await;
    let (_, all) = app.get("/api/v1/stats").await;
    assert_eq!(all["totals"]["attempts"], 4);

    let mut visitor = signed_in(&app).await;
    let list = visitor.get("/webhooks").await;
    assert_eq!(
        summary(&list.body),
        "class=\"activity-summary\">4 attempts: <strong>2</strong> succeeded, <strong>2</strong> failed."
    );
    assert!(
        list.body.contains("<span class=\"pill fail\">503</span> 2"),
        "the breakdown"
    );
    assert!(
        list.body.contains("aria-current=\"page\">24 hours</a>"),
        "24 h by default"
    );

    let (_, one) = app.get(&format!("/api/v1/stats?webhook_id={bad_id}")).await;
    let page = visitor
        .get(&format!("/webhooks/{bad_id}?activity=1h"))
        .await;
    assert_eq!(
        summary(&page.body),
        format!(
            "class=\"activity-summary\">{} attempts: <strong>0</strong> succeeded, <strong>{}</strong> failed.",
            one["totals"]["attempts"], one["totals"]["failed"]
        )
    );
    assert!(page.body.contains("aria-current=\"page\">1 hour</a>"));
    assert!(
        page.body.contains("The chart's numbers"),
        "a table for screen readers"
    );
    app.stop().await;
}
