//! `GET /api/v1/stats` over real HTTP: real attempts counted by outcome and bucket, the
//! default buckets and windows, one webhook's share, and each bad parameter a 422 naming it.
//! The counting itself, at bucket edges, is in `domain::stats` and the store conformance suite.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::{Receiver, Reply, TestApp, session_started};
use serde_json::{Value, json};

fn series_sum(stats: &Value, field: &str) -> u64 {
    stats["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[field].as_u64().unwrap())
        .sum()
}

#[tokio::test]
async fn real_attempts_are_counted_by_outcome_and_bucket() {
    let app = TestApp::start_with(|a| a.retry_schedule = String::new()).await;
    let ok = Receiver::ok().await;
    let failing = Receiver::start(vec![], Reply::Status(503)).await;
    let good = app.create_webhook(&ok.url, &["SessionStarted"]).await;
    let bad = app.create_webhook(&failing.url, &["SessionStarted"]).await;
    for _ in 0..3 {
        app.emit("SessionStarted", session_started()).await;
    }
    app.wait_for_attempts(good["id"].as_str().unwrap(), 3).await;
    app.wait_for_attempts(bad["id"].as_str().unwrap(), 3).await;

    let (status, stats) = app.get("/api/v1/stats").await;
    assert_eq!(status, 200, "{stats}");
    assert_eq!(stats["bucket"], "hour", "24 h by default, by the hour");
    let buckets = stats["series"].as_array().unwrap().len();
    assert!(
        (24..=25).contains(&buckets),
        "24 h from the hour holding `since`: {buckets}"
    );
    assert_eq!(
        stats["totals"],
        json!({"attempts": 6, "succeeded": 3, "failed": 3})
    );
    assert_eq!(stats["outcomes"], json!({"200": 3, "503": 3}));
    for field in ["attempts", "succeeded", "failed"] {
        assert_eq!(
            series_sum(&stats, field),
            stats["totals"][field].as_u64().unwrap()
        );
    }

    let bad_id = bad["id"].as_str().unwrap();
    let (_, one) = app
        .get(&format!("/api/v1/stats?webhook_id={bad_id}&bucket=minute&since=2000-01-01T00:00:00Z&until=2000-01-01T01:00:00Z"))
        .await;
    assert_eq!(one["totals"]["attempts"], 0, "nothing then");
    assert_eq!(one["series"].as_array().unwrap().len(), 60);
    let (_, recent) = app.get(&format!("/api/v1/stats?webhook_id={bad_id}")).await;
    assert_eq!(
        recent["totals"],
        json!({"attempts": 3, "succeeded": 0, "failed": 3})
    );
    let (_, by_day) = app.get("/api/v1/stats?bucket=day").await;
    assert_eq!(by_day["totals"]["attempts"], 6);
    app.stop().await;
}

#[tokio::test]
async fn each_bad_parameter_is_a_422_naming_it_and_a_foreign_webhook_is_404() {
    let app = TestApp::start().await;
    for (query, field) in [
        ("bucket=week", "bucket"),
        ("since=yesterday", "since"),
        ("until=soon", "until"),
        (
            "since=2026-12-02T00:00:00Z&until=2026-12-02T00:00:00Z",
            "since",
        ),
        (
            "since=2026-12-02T00:00:00Z&until=2026-12-01T00:00:00Z",
            "since",
        ),
        (
            "since=2026-01-01T00:00:00Z&until=2026-06-01T00:00:00Z",
            "since",
        ),
        ("webhook_id=", "webhook_id"),
    ] {
        let (status, body) = app.get(&format!("/api/v1/stats?{query}")).await;
        assert_eq!(
            (status.as_u16(), body["error"]["field"].as_str()),
            (422, Some(field)),
            "{query}: {body}"
        );
    }
    let (status, _) = app.get("/api/v1/stats?webhook_id=wh_nobody").await;
    assert_eq!(status, 404);
    let (ok, body) = app
        .get("/api/v1/stats?since=2026-01-01T00:00:00Z&until=2026-04-03T00:00:00Z")
        .await;
    assert_eq!(ok, 200, "92 days exactly: {body}");
    app.stop().await;
}
