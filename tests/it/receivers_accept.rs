//! Receivers that nobody here wrote must accept our deliveries: a real delivery is captured and
//! handed to Python, which checks it with the reference snippet of docs/receiving-webhooks.md and
//! the `standardwebhooks` package (see `common::python`).

#![allow(clippy::unwrap_used)]

use crate::common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use common::{Receiver, TestApp, conversation_complete};
use serde_json::{Map, Value, json};

fn python_verifies(
    mut python: std::process::Command,
    secret: &str,
    received: &common::receiver::Received,
) -> std::process::Output {
    let headers: Map<String, Value> = received
        .headers
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), Value::from(v.to_str().unwrap())))
        .collect();
    let capture =
        json!({"secret": secret, "headers": headers, "body_base64": BASE64.encode(&received.body)});
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("capture.json");
    std::fs::write(&path, capture.to_string()).unwrap();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/receivers/verify_delivery.py"
    );
    python.arg(script).arg(&path).output().unwrap()
}

#[tokio::test]
async fn python_receivers_accept_a_real_delivery_with_both_signatures() {
    let python = || common::python::python(&["standardwebhooks"]);
    if python().is_none() {
        return;
    }
    let app = TestApp::start().await;
    let receiver = Receiver::ok().await;
    let webhook = app
        .create_webhook(&receiver.url, &["ConversationComplete"])
        .await;
    let secret = webhook["secret"].as_str().unwrap();
    let event = app
        .emit("ConversationComplete", conversation_complete())
        .await;
    app.wait_for_event_settled(event["id"].as_str().unwrap())
        .await;
    let received = &receiver.received()[0];

    let output = python_verifies(python().unwrap(), secret, received);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "python rejected the delivery: {stderr}"
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains(event["id"].as_str().unwrap()));

    // And the same receivers reject a tampered body, so the check above can fail.
    let mut tampered = received.clone();
    tampered.body = received.body.slice(..received.body.len() - 1);
    assert!(
        !python_verifies(python().unwrap(), secret, &tampered)
            .status
            .success()
    );
    app.stop().await;
}
