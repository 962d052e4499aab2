//! `/metrics` against a real service: counters agree with what was accepted and attempted, the
//! histogram counts every attempt, and the queue gauges follow the database. On SQLite always,
//! and on PostgreSQL when `SPEAKNODE_TEST_DATABASE_URL` is set.

#![allow(clippy::unwrap_used)]

use crate::common;

use std::collections::HashMap;

use common::pg::PgDb;
use common::{API_KEY, Receiver, Reply, TestApp, session_started};
use serde_json::json;

/// The samples of an OpenMetrics text, as `name{labels}` → value.
fn samples(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (name, value) = l.rsplit_once(' ').unwrap();
            (name.to_string(), value.parse().unwrap())
        })
        .collect()
}

/// Parses the exposition with the Prometheus project's own Python parser (PyPI
/// `prometheus-client`, see `common::python`): a missing module fails the test.
fn check_with_the_reference_parser(text: &str) {
    let Some(mut python) = common::python::python(&["prometheus_client"]) else {
        return;
    };
    let script = "import sys\n\
        from prometheus_client.openmetrics.parser import text_string_to_metric_families\n\
        names = [f.name for f in text_string_to_metric_families(sys.stdin.read())]\n\
        print(' '.join(sorted(names)))";
    let mut child = python
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), text.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the parser refused the metrics: {stderr}"
    );
    let families = String::from_utf8_lossy(&output.stdout);
    for name in [
        "speaknode_events_accepted",
        "speaknode_attempts",
        "speaknode_attempt_duration_seconds",
        "speaknode_deliveries_pending",
        "speaknode_deliveries_due",
        "speaknode_oldest_due_age_seconds",
        "speaknode_webhooks_disabled",
    ] {
        assert!(
            families.split_whitespace().any(|f| f == name),
            "{name} in {families}"
        );
    }
}

async fn scrape(app: &TestApp) -> HashMap<String, f64> {
    let response = reqwest::get(app.url("/metrics")).await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    let text = response.text().await.unwrap();
    assert!(text.ends_with("# EOF\n"), "{text}");
    check_with_the_reference_parser(&text);
    samples(&text)
}

async fn emit_with_key(app: &TestApp, key: &str) -> u16 {
    reqwest::Client::new()
        .post(app.url("/api/v1/events"))
        .bearer_auth(API_KEY)
        .header("Idempotency-Key", key)
        .json(&json!({"type": "SessionStarted", "data": session_started()}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn metrics_follow_the_work(app: TestApp) {
    let ok = Receiver::ok().await;
    let failing = Receiver::start(vec![], Reply::Status(500)).await;
    app.create_webhook(&ok.url, &["SessionStarted"]).await;
    let broken = app.create_webhook(&failing.url, &["SessionStarted"]).await;
    let broken_id = broken["id"].as_str().unwrap();

    let before = scrape(&app).await;
    assert_eq!(before["speaknode_events_accepted_total"], 0.0);
    assert_eq!(before["speaknode_database_up"], 1.0);
    assert_eq!(before["speaknode_webhooks_disabled"], 0.0);

    // Two events (one sent twice with one Idempotency-Key: counted once).
    assert_eq!(emit_with_key(&app, "metrics-1").await, 202);
    assert_eq!(emit_with_key(&app, "metrics-1").await, 202);
    let second = app.emit("SessionStarted", session_started()).await;
    // Each event: one success, and a 500 then its two retries (the test schedule is 50ms,50ms).
    app.wait_for_event_settled(second["id"].as_str().unwrap())
        .await;
    app.wait_for_attempts(broken_id, 6).await;

    let after = scrape(&app).await;
    assert_eq!(after["speaknode_events_accepted_total"], 2.0);
    assert_eq!(
        after[r#"speaknode_attempts_total{outcome="succeeded"}"#],
        2.0
    );
    assert_eq!(
        after[r#"speaknode_attempts_total{outcome="http_error"}"#],
        6.0
    );
    assert_eq!(after["speaknode_attempt_duration_seconds_count"], 8.0);
    assert_eq!(
        after[r#"speaknode_attempt_duration_seconds_bucket{le="+Inf"}"#],
        8.0
    );
    assert_eq!(after["speaknode_deliveries_pending"], 0.0);
    assert_eq!(after["speaknode_deliveries_due"], 0.0);

    // A disabled webhook is counted, and its new deliveries wait (held: not pending, not due).
    let (status, _) = app
        .patch(
            &format!("/api/v1/webhooks/{broken_id}"),
            json!({"enabled": false}),
        )
        .await;
    assert_eq!(status, 200);
    let held = scrape(&app).await;
    assert_eq!(held["speaknode_webhooks_disabled"], 1.0);
    assert_eq!(held["speaknode_oldest_due_age_seconds"], 0.0);
    app.stop().await;
}

#[tokio::test]
async fn metrics_follow_the_work_on_sqlite() {
    metrics_follow_the_work(TestApp::start().await).await;
}

#[tokio::test]
async fn metrics_follow_the_work_on_postgresql() {
    let Some(db) = PgDb::create().await else {
        return;
    };
    let app = TestApp::start_with(|args| args.database_url = db.url.clone()).await;
    metrics_follow_the_work(app).await;
    db.drop_database().await;
}

#[tokio::test]
async fn pending_and_due_deliveries_and_their_age_show_while_no_worker_runs() {
    // An API-only process: nothing is attempted, so accepted deliveries stay due.
    let app = TestApp::start_with(|args| args.no_worker = true).await;
    let receiver = Receiver::ok().await;
    app.create_webhook(&receiver.url, &["SessionStarted"]).await;
    app.create_webhook(&receiver.url, &["SessionStarted"]).await;
    app.emit("SessionStarted", session_started()).await;
    common::eventually("the oldest due delivery has aged", || async {
        scrape(&app).await["speaknode_oldest_due_age_seconds"] > 0.0
    })
    .await;
    let now = scrape(&app).await;
    assert_eq!(now["speaknode_deliveries_pending"], 2.0);
    assert_eq!(now["speaknode_deliveries_due"], 2.0);
    assert!(receiver.received().is_empty());
    app.stop().await;
}
