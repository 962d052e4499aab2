//! The receiver examples in `examples/receivers/` work against the real service: each one gets a
//! real delivery (the attempt in the Request History must be a 2xx, and the example must say it
//! handled the event), then requests forged in every way a receiver must catch (4xx).
//!
//! Python needs the `standardwebhooks` package (`scripts/test` installs it, see `common::python`),
//! Node.js 20 or later.
//! The Rust example's handler is compiled into this test and served in-process on a real
//! socket: building the example binary from a test would mean a nested cargo build.

#![allow(clippy::unwrap_used)]

use crate::common;

#[path = "../../examples/receivers/rust/receiver.rs"]
#[allow(dead_code)]
mod rust_receiver;

use std::process::Command;

use common::child::Child;
use common::{TestApp, session_started, signed};
use serde_json::{Value, json};

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/receivers");

/// A webhook for `SessionStarted` whose URL is set once its receiver is up (the receiver needs
/// the secret first). Its placeholder URL never receives anything: no event is emitted before.
async fn webhook(app: &TestApp) -> (String, String) {
    let webhook = app
        .create_webhook("http://127.0.0.1:9/webhooks", &["SessionStarted"])
        .await;
    (
        webhook["id"].as_str().unwrap().to_string(),
        webhook["secret"].as_str().unwrap().to_string(),
    )
}

/// Points the webhook at `url`, emits an event and checks that its one attempt got a 2xx.
/// Returns the event id.
async fn deliver_to(app: &TestApp, webhook_id: &str, url: &str) -> String {
    let (status, body) = app
        .patch(
            &format!("/api/v1/webhooks/{webhook_id}"),
            json!({"url": url}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let event = app.emit("SessionStarted", session_started()).await;
    let event_id = event["id"].as_str().unwrap().to_string();
    let settled = app.wait_for_event_settled(&event_id).await;
    let attempts = app.wait_for_attempts(webhook_id, 1).await;
    let status = attempts[0]["http_status"].as_u64();
    assert!(
        status.is_some_and(|s| (200..300).contains(&s)),
        "the example answered the real delivery with {:?}: {}",
        attempts[0]["http_status"],
        attempts[0]["response"]
    );
    assert_eq!(settled["deliveries"][0]["state"], Value::from("succeeded"));
    event_id
}

fn example(mut command: Command, file: &str, secret: &str) -> Command {
    command
        .arg(format!("{EXAMPLES}/{file}"))
        .env("SPEAKNODE_WEBHOOK_SECRET", secret)
        .env("PORT", "0");
    command
}

#[tokio::test]
async fn the_python_example_accepts_a_real_delivery_and_refuses_forgeries() {
    let app = TestApp::start().await;
    let (webhook_id, secret) = webhook(&app).await;
    let Some(python) = common::python::python(&["standardwebhooks"]) else {
        return;
    };
    let receiver = Child::start(example(python, "python/receiver.py", &secret)).await;

    let event_id = deliver_to(&app, &webhook_id, &receiver.url).await;
    receiver
        .wait_for_output(&format!("received SessionStarted {event_id}"))
        .await;
    signed::receiver_refuses_forgeries(&receiver.url, &secret).await;
    app.stop().await;
}

#[tokio::test]
async fn the_node_example_accepts_a_real_delivery_and_refuses_forgeries() {
    let app = TestApp::start().await;
    let (webhook_id, secret) = webhook(&app).await;
    let receiver = Child::start(example(Command::new("node"), "node/receiver.mjs", &secret)).await;

    let event_id = deliver_to(&app, &webhook_id, &receiver.url).await;
    receiver
        .wait_for_output(&format!("received SessionStarted {event_id}"))
        .await;
    signed::receiver_refuses_forgeries(&receiver.url, &secret).await;
    app.stop().await;
}

#[tokio::test]
async fn the_rust_example_accepts_a_real_delivery_and_refuses_forgeries() {
    let app = TestApp::start().await;
    let (webhook_id, secret) = webhook(&app).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks", listener.local_addr().unwrap());
    let router = rust_receiver::app(&secret);
    tokio::spawn(async move { axum::serve(listener, router).await });

    deliver_to(&app, &webhook_id, &url).await;
    signed::receiver_refuses_forgeries(&url, &secret).await;
    app.stop().await;
}
