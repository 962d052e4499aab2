//! The real binary as an operator runs it: start-up output, settings errors, graceful stop,
//! and a SIGKILL in the middle of deliveries.

#![allow(clippy::unwrap_used)]

use crate::common;

use std::process::Command;

use common::{Receiver, Reply, eventually, session_started};
use serde_json::{Value, json};

use common::process::{BIN, signal, start};

async fn call(
    base: &str,
    key: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let mut req = client
        .request(method, format!("{base}{path}"))
        .bearer_auth(key);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn serve_generates_a_key_once_and_keeps_it_across_a_graceful_restart() {
    speaknode_webhooks::delivery::sender::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fresh.db");
    let mut first = start(&db, &[]);
    let key = first
        .generated_key
        .clone()
        .expect("a fresh database prints a generated key");
    assert!(key.starts_with("sk_") && key.len() >= 35, "{key}");
    assert!(db.exists(), "the SQLite file is created");
    let (status, _) = call(
        &first.base,
        &key,
        reqwest::Method::GET,
        "/api/v1/webhooks",
        None,
    )
    .await;
    assert_eq!(status, 200);

    signal(&first.child, "TERM");
    assert!(
        first.child.wait().unwrap().success(),
        "SIGTERM is a clean exit"
    );

    let mut second = start(&db, &[]);
    assert_eq!(second.generated_key, None, "the key is printed only once");
    let (status, _) = call(
        &second.base,
        &key,
        reqwest::Method::GET,
        "/api/v1/webhooks",
        None,
    )
    .await;
    assert_eq!(status, 200, "the generated key still works after a restart");
    let (status, _) = call(
        &second.base,
        "sk_wrong_key_0000000000000000",
        reqwest::Method::GET,
        "/api/v1/webhooks",
        None,
    )
    .await;
    assert_eq!(status, 401);
    second.child.kill().unwrap();
    second.child.wait().unwrap();
}

#[test]
fn a_second_process_on_the_same_sqlite_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("one.db");
    let mut first = start(&db, &[]);
    let second = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env(
            "SPEAKNODE_DATABASE_URL",
            format!("sqlite://{}", db.display()),
        )
        .output()
        .unwrap();
    assert!(
        !second.status.success(),
        "the second process must not start"
    );
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("in use by another speaknode-webhooks process"),
        "{stderr}"
    );
    signal(&first.child, "TERM");
    assert!(first.child.wait().unwrap().success());
    // Once the first has stopped, the file is free again.
    let mut again = start(&db, &[]);
    signal(&again.child, "TERM");
    assert!(again.child.wait().unwrap().success());
}

#[test]
fn a_bad_setting_stops_start_up_with_one_line_naming_it() {
    for (name, value) in [
        ("SPEAKNODE_DELIVERY_TIMEOUT", "soon"),
        ("SPEAKNODE_RETRY_SCHEDULE", "5s,later"),
        ("SPEAKNODE_API_KEY", "short"),
        ("SPEAKNODE_MAX_PAYLOAD_BYTES", "-1"),
        ("SPEAKNODE_ALLOW_PRIVATE_TARGETS", "perhaps"),
        ("SPEAKNODE_DATABASE_URL", "mysql://x"),
        ("SPEAKNODE_LOG_FORMAT", "yaml"),
        ("SPEAKNODE_RATE_LIMIT", "fast"),
        ("SPEAKNODE_LOGIN_ATTEMPTS", "10 per minute"),
        ("SPEAKNODE_PROXY_URL", "socks5://egress:hunter2@proxy:1080"),
    ] {
        let output = Command::new(BIN)
            .arg("serve")
            .env(name, value)
            .output()
            .unwrap();
        assert!(
            !output.status.success(),
            "{name}={value} must stop start-up"
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        let lines: Vec<_> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "one line for {name}: {stderr}");
        assert!(lines[0].contains(name), "{name} is named: {stderr}");
        assert!(
            !stderr.contains("hunter2"),
            "no password in errors: {stderr}"
        );
    }
}

#[tokio::test]
async fn deliveries_in_flight_when_the_process_is_killed_are_delivered_after_a_restart() {
    speaknode_webhooks::delivery::sender::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.db");
    let key = "sk_process_test_key_0123456789";
    let env = [
        ("SPEAKNODE_API_KEY", key),
        ("SPEAKNODE_ALLOW_PRIVATE_TARGETS", "true"),
        ("SPEAKNODE_DELIVERY_TIMEOUT", "30s"),
    ];
    let receiver = Receiver::start(
        vec![Reply::Hang, Reply::Hang, Reply::Hang],
        Reply::Status(200),
    )
    .await;
    let mut first = start(&db, &env);
    let (status, webhook) = call(
        &first.base,
        key,
        reqwest::Method::POST,
        "/api/v1/webhooks",
        Some(json!({"url": receiver.url, "event_types": ["SessionStarted"]})),
    )
    .await;
    assert_eq!(status, 201);
    let mut events = Vec::new();
    for _ in 0..3 {
        let body = json!({"type": "SessionStarted", "data": session_started()});
        let (status, event) = call(
            &first.base,
            key,
            reqwest::Method::POST,
            "/api/v1/events",
            Some(body),
        )
        .await;
        assert_eq!(status, 202);
        events.push(event["id"].as_str().unwrap().to_string());
    }
    eventually("all three deliveries in flight", || async {
        receiver.received().len() == 3
    })
    .await;
    first.child.kill().unwrap(); // SIGKILL: no chance to release anything
    first.child.wait().unwrap();

    let mut second = start(&db, &env);
    for id in &events {
        let path = format!("/api/v1/events/{id}");
        eventually("the killed delivery to succeed", || async {
            let (_, event) = call(&second.base, key, reqwest::Method::GET, &path, None).await;
            event["deliveries"][0]["state"] == "succeeded"
        })
        .await;
    }
    assert_eq!(
        receiver.received().len(),
        6,
        "each in-flight delivery was sent again exactly once"
    );
    let path = format!(
        "/api/v1/webhooks/{}/attempts",
        webhook["id"].as_str().unwrap()
    );
    let (_, attempts) = call(&second.base, key, reqwest::Method::GET, &path, None).await;
    assert_eq!(
        attempts["data"].as_array().unwrap().len(),
        3,
        "the killed attempts left no record; the new ones did"
    );
    second.child.kill().unwrap();
    second.child.wait().unwrap();
}

#[tokio::test]
async fn every_accepted_event_of_a_burst_cut_by_sigkill_is_delivered_after_a_restart() {
    speaknode_webhooks::delivery::sender::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("burst.db");
    let key = "sk_burst_test_key_0123456789abc";
    let env = [
        ("SPEAKNODE_API_KEY", key),
        ("SPEAKNODE_ALLOW_PRIVATE_TARGETS", "true"),
    ];
    let receiver = Receiver::start(vec![], Reply::Slow(20)).await;
    let mut first = start(&db, &env);
    let body = json!({"url": receiver.url, "event_types": ["SessionStarted"]});
    let (status, _) = call(
        &first.base,
        key,
        reqwest::Method::POST,
        "/api/v1/webhooks",
        Some(body),
    )
    .await;
    assert_eq!(status, 201);

    // 16 senders emit until the process dies under them; only 202s count as accepted.
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let senders: Vec<_> = (0..16)
        .map(|_| {
            let (client, url) = (client.clone(), format!("{}/api/v1/events", first.base));
            tokio::spawn(async move {
                let mut accepted = Vec::new();
                for _ in 0..200 {
                    let body = json!({"type": "SessionStarted", "data": session_started()});
                    let Ok(resp) = client.post(&url).bearer_auth(key).json(&body).send().await
                    else {
                        break;
                    };
                    if resp.status() != 202 {
                        break;
                    }
                    let Ok(event) = resp.json::<Value>().await else {
                        break;
                    };
                    accepted.push(event["id"].as_str().unwrap().to_string());
                }
                accepted
            })
        })
        .collect();
    eventually("deliveries in flight mid-burst", || async {
        receiver.received().len() >= 100
    })
    .await;
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    let mut accepted = Vec::new();
    for sender in senders {
        accepted.extend(sender.await.unwrap());
    }
    assert!(
        accepted.len() >= 100,
        "the burst was under way when the process died"
    );

    let mut second = start(&db, &env);
    eventually("every accepted event to arrive", || async {
        let got: std::collections::HashSet<String> = receiver
            .received()
            .iter()
            .map(|r| r.header("webhook-id").to_string())
            .collect();
        accepted.iter().all(|id| got.contains(id))
    })
    .await;
    second.child.kill().unwrap();
    second.child.wait().unwrap();
}

/// `SPEAKNODE_API_KEY` set to a key of another workspace cannot become the default workspace's
/// key: start-up stops and says so, instead of starting with a key that signs in elsewhere.
#[tokio::test]
async fn a_key_of_another_workspace_as_speaknode_api_key_stops_start_up() {
    const ADMIN: &str = "admin_token_for_the_start_up_test_0123";
    let app = common::TestApp::start_with(|a| a.admin_token = Some(ADMIN.into())).await;
    let resp = app
        .client
        .post(app.url("/api/v1/workspaces"))
        .bearer_auth(ADMIN)
        .json(&json!({"name": "Other"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let other: Value = resp.json().await.unwrap();
    let other_key = other["api_key"].as_str().unwrap().to_string();
    let db_path = app.db_path.clone();
    let _dir = app.stop().await;

    let mut args = common::test_args(&db_path);
    args.api_key = Some(other_key.clone());
    let config = speaknode_webhooks::config::Config::from_args(&args).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let serving = speaknode_webhooks::app::serve(config, listener, shutdown);
    let error = tokio::time::timeout(std::time::Duration::from_secs(20), serving)
        .await
        .expect("start-up stops instead of serving")
        .unwrap_err();
    let message = format!("{error:#}");
    assert!(
        message.contains("SPEAKNODE_API_KEY is already a key of another workspace"),
        "{message}"
    );
    assert!(
        !message.contains(&other_key),
        "the key is never printed: {message}"
    );
}
