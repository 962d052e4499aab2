//! `SPEAKNODE_LOG_FORMAT=json`: the real binary logs one JSON object per line, exactly one line
//! per attempt with its ids and outcome, and never a secret or an API key.

#![allow(clippy::unwrap_used)]

use crate::common;

use std::process::Stdio;

use common::process::{signal, start_logging_to};
use common::{Receiver, Reply, eventually, session_started};
use serde_json::{Value, json};

const KEY: &str = "sk_logs_test_key_0123456789abcdef";

#[tokio::test]
async fn json_logs_have_one_line_per_attempt_and_no_secrets() {
    speaknode_webhooks::delivery::sender::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("service.log");
    let log_file = std::fs::File::create(&log_path).unwrap();
    let db = format!("sqlite://{}", dir.path().join("logs.db").display());
    let env = [
        ("SPEAKNODE_LOG_FORMAT", "json"),
        ("SPEAKNODE_API_KEY", KEY),
        ("SPEAKNODE_ALLOW_PRIVATE_TARGETS", "true"),
        ("SPEAKNODE_RETRY_SCHEDULE", ""),
    ];
    let mut service = start_logging_to(&db, &env, Stdio::from(log_file));
    let client = reqwest::Client::new();
    let api = |path: &str| format!("{}/api/v1{path}", service.base);

    let ok = Receiver::ok().await;
    let failing = Receiver::start(vec![], Reply::Status(500)).await;
    let mut secrets = Vec::new();
    for url in [&ok.url, &failing.url] {
        let created: Value = client
            .post(api("/webhooks"))
            .bearer_auth(KEY)
            .json(&json!({"url": url, "event_types": ["SessionStarted"]}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        secrets.push(created["secret"].as_str().unwrap().to_string());
    }
    let event: Value = client
        .post(api("/events"))
        .bearer_auth(KEY)
        .json(&json!({"type": "SessionStarted", "data": session_started()}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let event_id = event["id"].as_str().unwrap().to_string();
    eventually("both deliveries are settled", || async {
        let got: Value = client
            .get(api(&format!("/events/{event_id}")))
            .bearer_auth(KEY)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        got["deliveries"]
            .as_array()
            .is_some_and(|d| d.iter().all(|d| d["state"] != "pending"))
    })
    .await;
    signal(&service.child, "TERM");
    assert!(service.child.wait().unwrap().success());

    let logs = std::fs::read_to_string(&log_path).unwrap();
    let lines: Vec<Value> = logs
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let attempts: Vec<&Value> = lines
        .iter()
        .filter(|l| l["event_id"] == event_id.as_str())
        .collect();
    assert_eq!(attempts.len(), 2, "one line per attempt: {logs}");
    let outcome = |line: &Value| {
        (
            line["level"].as_str().unwrap().to_string(),
            line["http_status"].as_u64(),
        )
    };
    let mut outcomes: Vec<_> = attempts.iter().map(|l| outcome(l)).collect();
    outcomes.sort();
    assert_eq!(
        outcomes,
        [
            ("INFO".to_string(), Some(200)),
            ("WARN".to_string(), Some(500))
        ]
    );
    for line in attempts {
        for field in ["delivery_id", "webhook_id", "trigger", "duration_ms"] {
            assert!(!line[field].is_null(), "{field} in {line}");
        }
        assert_eq!(line["attempt"], 1);
    }
    for secret in &secrets {
        assert!(
            !logs.contains(secret.as_str()),
            "a webhook secret was logged"
        );
        assert!(!logs.contains(&secret[6..]), "a webhook secret was logged");
    }
    assert!(!logs.contains(KEY), "the API key was logged");
}
