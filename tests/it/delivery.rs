//! The delivery engine end to end: real service, real SQLite file, real receivers on sockets.

#![allow(clippy::unwrap_used)]

use crate::common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use common::{Receiver, Reply, TestApp, conversation_complete, session_started};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

async fn secret_of(app: &TestApp, webhook_id: &str) -> String {
    let (status, body) = app
        .get(&format!("/api/v1/webhooks/{webhook_id}/secret"))
        .await;
    assert_eq!(status, 200);
    body["secret"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_delivery_arrives_with_every_contract_header_and_verifies() {
    let app = TestApp::start().await;
    let receiver = Receiver::ok().await;
    let webhook = app
        .create_webhook(&receiver.url, &["ConversationComplete"])
        .await;
    let secret = webhook["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));
    assert_eq!(BASE64.decode(&secret[6..]).unwrap().len(), 32);

    let event = app
        .emit("ConversationComplete", conversation_complete())
        .await;
    assert_eq!(event["deliveries"], 1);
    let settled = app
        .wait_for_event_settled(event["id"].as_str().unwrap())
        .await;
    assert_eq!(settled["deliveries"][0]["state"], "succeeded");

    let got = receiver.received();
    assert_eq!(got.len(), 1);
    let request = &got[0];
    assert_eq!(request.header("content-type"), "application/json");
    assert!(
        request
            .header("user-agent")
            .starts_with("SpeakNode-Webhooks/")
    );
    assert_eq!(request.header("x-speaknode-event"), "ConversationComplete");
    assert_eq!(
        request.header("x-speaknode-delivery"),
        settled["deliveries"][0]["id"].as_str().unwrap()
    );
    assert_eq!(request.header("webhook-id"), event["id"].as_str().unwrap());

    // X-SpeakNode-Signature: hex HMAC of the raw body keyed with the whole secret string.
    let expected = hex::encode(hmac_sha256(secret.as_bytes(), &request.body));
    assert_eq!(request.header("x-speaknode-signature"), expected);

    // Standard Webhooks: base64 HMAC of "id.timestamp.body" keyed with the decoded secret.
    let timestamp: i64 = request.header("webhook-timestamp").parse().unwrap();
    assert!((chrono::Utc::now().timestamp() - timestamp).abs() < 60);
    let signed = format!(
        "{}.{}.{}",
        request.header("webhook-id"),
        timestamp,
        std::str::from_utf8(&request.body).unwrap()
    );
    let expected = format!(
        "v1,{}",
        BASE64.encode(hmac_sha256(
            &BASE64.decode(&secret[6..]).unwrap(),
            signed.as_bytes()
        ))
    );
    assert_eq!(request.header("webhook-signature"), expected);

    let body: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body["id"], event["id"]);
    assert_eq!(body["type"], "ConversationComplete");
    assert_eq!(body["created_at"], event["created_at"]);
    assert_eq!(body["data"], conversation_complete());
    app.stop().await;
}

#[tokio::test]
async fn retries_after_a_500_until_the_receiver_recovers_with_identical_bodies() {
    let app = TestApp::start().await;
    let receiver = Receiver::start(
        vec![Reply::Status(500), Reply::Status(500)],
        Reply::Status(200),
    )
    .await;
    let webhook = app.create_webhook(&receiver.url, &["SessionStarted"]).await;
    let id = webhook["id"].as_str().unwrap();
    let event = app.emit("SessionStarted", session_started()).await;
    let settled = app
        .wait_for_event_settled(event["id"].as_str().unwrap())
        .await;
    assert_eq!(settled["deliveries"][0]["state"], "succeeded");
    assert_eq!(settled["deliveries"][0]["attempts"], 3);

    let attempts = app.attempts(id).await;
    let statuses: Vec<_> = attempts
        .iter()
        .map(|a| a["http_status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [200, 500, 500], "newest first");
    let triggers: Vec<_> = attempts
        .iter()
        .map(|a| a["trigger"].as_str().unwrap())
        .collect();
    assert_eq!(triggers, ["retry", "retry", "scheduled"]);
    let numbers: Vec<_> = attempts
        .iter()
        .map(|a| a["attempt"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, [3, 2, 1]);
    assert!(attempts[0]["next_attempt_at"].is_null());
    assert!(attempts[1]["next_attempt_at"].is_string());
    assert_eq!(attempts[2]["response"], "status 500");

    let got = receiver.received();
    assert_eq!(got.len(), 3);
    assert!(
        got.iter().all(|r| r.body == got[0].body),
        "every attempt sends the same bytes"
    );
    assert!(
        got.iter()
            .all(|r| r.header("x-speaknode-delivery") == got[0].header("x-speaknode-delivery"))
    );
    assert!(
        got.iter()
            .all(|r| r.header("webhook-id") == event["id"].as_str().unwrap())
    );
    app.stop().await;
}

#[tokio::test]
async fn an_always_failing_receiver_exhausts_the_schedule() {
    let app = TestApp::start().await;
    let receiver = Receiver::start(vec![], Reply::Status(500)).await;
    let webhook = app.create_webhook(&receiver.url, &["SessionStarted"]).await;
    let event = app.emit("SessionStarted", session_started()).await;
    let settled = app
        .wait_for_event_settled(event["id"].as_str().unwrap())
        .await;
    assert_eq!(settled["deliveries"][0]["state"], "failed");
    assert_eq!(
        settled["deliveries"][0]["attempts"], 3,
        "schedule 50ms,50ms gives three attempts"
    );
    assert!(settled["deliveries"][0]["next_attempt_at"].is_null());
    let attempts = app.attempts(webhook["id"].as_str().unwrap()).await;
    assert_eq!(attempts.len(), 3);
    assert!(
        attempts[0]["next_attempt_at"].is_null(),
        "the last attempt schedules nothing"
    );
    assert_eq!(receiver.received().len(), 3);
    app.stop().await;
}

#[tokio::test]
async fn a_hanging_receiver_is_recorded_as_a_timeout() {
    let app = TestApp::start_with(|a| {
        a.delivery_timeout = "300ms".into();
        a.retry_schedule = "".into();
    })
    .await;
    let receiver = Receiver::start(vec![], Reply::Hang).await;
    let webhook = app.create_webhook(&receiver.url, &["SessionStarted"]).await;
    app.emit("SessionStarted", session_started()).await;
    let attempts = app
        .wait_for_attempts(webhook["id"].as_str().unwrap(), 1)
        .await;
    assert_eq!(attempts[0]["error"], "timeout");
    assert!(attempts[0]["http_status"].is_null());
    assert!(attempts[0]["duration_ms"].as_i64().unwrap() >= 300);
    app.stop().await;
}

#[tokio::test]
async fn a_closed_port_is_recorded_as_a_connection_error() {
    let app = TestApp::start_with(|a| a.retry_schedule = "".into()).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", closed.local_addr().unwrap());
    drop(closed);
    let webhook = app.create_webhook(&url, &["SessionStarted"]).await;
    app.emit("SessionStarted", session_started()).await;
    let attempts = app
        .wait_for_attempts(webhook["id"].as_str().unwrap(), 1)
        .await;
    assert_eq!(attempts[0]["error"], "connection_error");
    app.stop().await;
}

#[tokio::test]
async fn a_redirect_is_a_failure_and_is_not_followed() {
    let app = TestApp::start_with(|a| a.retry_schedule = "".into()).await;
    let elsewhere = Receiver::ok().await;
    let redirecting = Receiver::start(
        vec![],
        Reply::Full(302, "moved", vec![("location", elsewhere.url.clone())]),
    )
    .await;
    let webhook = app
        .create_webhook(&redirecting.url, &["SessionStarted"])
        .await;
    let event = app.emit("SessionStarted", session_started()).await;
    let settled = app
        .wait_for_event_settled(event["id"].as_str().unwrap())
        .await;
    assert_eq!(settled["deliveries"][0]["state"], "failed");
    let attempts = app.attempts(webhook["id"].as_str().unwrap()).await;
    assert_eq!(attempts[0]["http_status"], 302);
    assert!(
        elsewhere.received().is_empty(),
        "the redirect target was never called"
    );
    app.stop().await;
}

#[tokio::test]
async fn only_webhooks_subscribed_to_the_type_get_the_event() {
    let app = TestApp::start().await;
    let sessions = Receiver::ok().await;
    let conversations = Receiver::ok().await;
    app.create_webhook(&sessions.url, &["SessionStarted"]).await;
    app.create_webhook(&conversations.url, &["ConversationComplete"])
        .await;
    let event = app.emit("SessionStarted", session_started()).await;
    assert_eq!(event["deliveries"], 1);
    app.wait_for_event_settled(event["id"].as_str().unwrap())
        .await;
    assert_eq!(sessions.received().len(), 1);
    assert!(conversations.received().is_empty());
    app.stop().await;
}

#[tokio::test]
async fn a_disabled_webhook_gets_nothing_until_enabled_and_then_only_new_events() {
    let app = TestApp::start().await;
    let receiver = Receiver::ok().await;
    let webhook = app.create_webhook(&receiver.url, &["SessionStarted"]).await;
    let path = format!("/api/v1/webhooks/{}", webhook["id"].as_str().unwrap());
    let (status, disabled) = app.patch(&path, json!({"enabled": false})).await;
    assert_eq!(status, 200);
    assert_eq!(disabled["disabled_reason"], "manual");
    let event = app.emit("SessionStarted", session_started()).await;
    assert_eq!(event["deliveries"], 0);

    let (_, enabled) = app.patch(&path, json!({"enabled": true})).await;
    assert!(enabled["disabled_reason"].is_null());
    let event = app.emit("SessionStarted", session_started()).await;
    assert_eq!(event["deliveries"], 1);
    app.wait_for_event_settled(event["id"].as_str().unwrap())
        .await;
    assert_eq!(receiver.received().len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn due_retries_of_a_disabled_webhook_wait_and_resume_when_it_is_enabled() {
    let app = TestApp::start_with(|a| a.retry_schedule = "200ms".into()).await;
    let receiver = Receiver::start(vec![Reply::Status(503)], Reply::Status(200)).await;
    let webhook = app.create_webhook(&receiver.url, &["SessionStarted"]).await;
    let id = webhook["id"].as_str().unwrap();
    let event = app.emit("SessionStarted", session_started()).await;
    let event_path = format!("/api/v1/events/{}", event["id"].as_str().unwrap());
    app.wait_for_attempts(id, 1).await;
    app.patch(&format!("/api/v1/webhooks/{id}"), json!({"enabled": false}))
        .await;

    // The retry falls due while the webhook is disabled; waiting past that moment is the point.
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(receiver.received().len(), 1, "no attempt while disabled");
    let (_, held) = app.get(&event_path).await;
    assert_eq!(held["deliveries"][0]["state"], "pending");
    assert_eq!(held["deliveries"][0]["attempts"], 1);

    app.patch(&format!("/api/v1/webhooks/{id}"), json!({"enabled": true}))
        .await;
    let settled = app
        .wait_for_event_settled(event["id"].as_str().unwrap())
        .await;
    assert_eq!(settled["deliveries"][0]["state"], "succeeded");
    assert_eq!(receiver.received().len(), 2);
    app.stop().await;
}

#[tokio::test]
async fn an_idempotency_key_replays_the_first_answer_without_a_new_event() {
    let app = TestApp::start().await;
    let receiver = Receiver::ok().await;
    app.create_webhook(&receiver.url, &["SessionStarted"]).await;
    let body = json!({"type": "SessionStarted", "data": session_started()});
    let send = |body: Value| {
        app.client
            .post(app.url("/api/v1/events"))
            .bearer_auth(common::API_KEY)
            .header("Idempotency-Key", "order-42")
            .json(&body)
            .send()
    };
    let first = send(body.clone()).await.unwrap();
    assert_eq!(first.status(), 202);
    let first: Value = first.json().await.unwrap();
    let again = send(body.clone()).await.unwrap();
    assert_eq!(again.status(), 202);
    assert_eq!(again.json::<Value>().await.unwrap(), first);

    let mut other = body.clone();
    other["data"]["session_id"] = json!("sess_other");
    let reused = send(other).await.unwrap();
    assert_eq!(reused.status(), 409);
    assert_eq!(
        reused.json::<Value>().await.unwrap()["error"]["code"],
        "conflict"
    );

    let (_, events) = app.get("/api/v1/events").await;
    assert_eq!(events["data"].as_array().unwrap().len(), 1);
    app.wait_for_event_settled(first["id"].as_str().unwrap())
        .await;
    assert_eq!(receiver.received().len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn pending_deliveries_survive_stopping_and_restarting_the_service() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("restart.db");
    let receiver = Receiver::ok().await;
    let without_workers = TestApp::start_on(&db, |a| a.no_worker = true).await;
    let webhook = without_workers
        .create_webhook(&receiver.url, &["SessionStarted"])
        .await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(
            without_workers
                .emit("SessionStarted", session_started())
                .await["id"]
                .clone(),
        );
    }
    without_workers.stop().await;
    assert!(receiver.received().is_empty());

    let app = TestApp::start_on(&db, |_| {}).await;
    app.wait_for_attempts(webhook["id"].as_str().unwrap(), 5)
        .await;
    for id in ids {
        let settled = app.wait_for_event_settled(id.as_str().unwrap()).await;
        assert_eq!(settled["deliveries"][0]["state"], "succeeded");
    }
    assert_eq!(receiver.received().len(), 5);
    app.stop().await;
}

#[tokio::test]
async fn a_test_send_delivers_the_example_signed_and_creates_no_event() {
    let app = TestApp::start().await;
    let receiver = Receiver::ok().await;
    let webhook = app.create_webhook(&receiver.url, &["SessionStarted"]).await;
    let id = webhook["id"].as_str().unwrap();
    let (status, attempt) = app
        .post(
            &format!("/api/v1/webhooks/{id}/test"),
            json!({"event_type": "ConversationComplete"}),
        )
        .await;
    assert_eq!(status, 200, "{attempt}");
    assert_eq!(attempt["trigger"], "test");
    assert_eq!(attempt["http_status"], 200);
    assert_eq!(attempt["event_type"], "ConversationComplete");
    let (_, types) = app.get("/api/v1/event-types").await;
    let example = types["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "ConversationComplete")
        .unwrap()["example"]
        .clone();
    assert_eq!(attempt["payload"]["data"], example);

    let got = receiver.received();
    assert_eq!(got.len(), 1);
    let secret = secret_of(&app, id).await;
    assert_eq!(
        got[0].header("x-speaknode-signature"),
        hex::encode(hmac_sha256(secret.as_bytes(), &got[0].body))
    );
    let (_, events) = app.get("/api/v1/events").await;
    assert!(events["data"].as_array().unwrap().is_empty());
    assert_eq!(
        app.attempts(id).await.len(),
        1,
        "the test attempt is in the Request History"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_manual_retry_makes_one_more_attempt_of_a_failed_delivery() {
    let app = TestApp::start_with(|a| a.retry_schedule = "".into()).await;
    let receiver = Receiver::start(vec![Reply::Status(500)], Reply::Status(200)).await;
    let webhook = app.create_webhook(&receiver.url, &["SessionStarted"]).await;
    let id = webhook["id"].as_str().unwrap();
    let event = app.emit("SessionStarted", session_started()).await;
    let settled = app
        .wait_for_event_settled(event["id"].as_str().unwrap())
        .await;
    assert_eq!(settled["deliveries"][0]["state"], "failed");
    let failed = &app.attempts(id).await[0];

    let (status, body) = app
        .post(
            &format!(
                "/api/v1/webhooks/{id}/attempts/{}/retry",
                failed["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    assert_eq!(status, 202);
    assert_eq!(body["delivery_id"], failed["delivery_id"]);
    let attempts = app.wait_for_attempts(id, 2).await;
    assert_eq!(attempts[0]["trigger"], "manual");
    assert_eq!(attempts[0]["http_status"], 200);
    assert_eq!(attempts[0]["attempt"], 2);
    let settled = app
        .wait_for_event_settled(event["id"].as_str().unwrap())
        .await;
    assert_eq!(settled["deliveries"][0]["state"], "succeeded");
    app.stop().await;
}

#[tokio::test]
async fn the_request_history_filters_and_pages() {
    let app = TestApp::start_with(|a| a.retry_schedule = "".into()).await;
    let receiver = Receiver::start(
        vec![Reply::Status(500), Reply::Status(500)],
        Reply::Status(200),
    )
    .await;
    let webhook = app
        .create_webhook(&receiver.url, &["SessionStarted", "ConversationComplete"])
        .await;
    let id = webhook["id"].as_str().unwrap();
    for _ in 0..2 {
        let e = app.emit("SessionStarted", session_started()).await;
        app.wait_for_event_settled(e["id"].as_str().unwrap()).await;
    }
    for _ in 0..3 {
        let e = app
            .emit("ConversationComplete", conversation_complete())
            .await;
        app.wait_for_event_settled(e["id"].as_str().unwrap()).await;
    }
    let base = format!("/api/v1/webhooks/{id}/attempts");
    let count = |body: &Value| body["data"].as_array().unwrap().len();
    assert_eq!(count(&app.get(&format!("{base}?status=failed")).await.1), 2);
    assert_eq!(
        count(&app.get(&format!("{base}?status=succeeded")).await.1),
        3
    );
    assert_eq!(
        count(
            &app.get(&format!("{base}?event_type=ConversationComplete"))
                .await
                .1
        ),
        3
    );
    assert_eq!(
        count(
            &app.get(&format!("{base}?since=2999-01-01T00:00:00Z"))
                .await
                .1
        ),
        0
    );
    assert_eq!(
        count(
            &app.get(&format!("{base}?until=2999-01-01T00:00:00Z"))
                .await
                .1
        ),
        5
    );

    let (_, first) = app.get(&format!("{base}?limit=2")).await;
    assert_eq!(count(&first), 2);
    let mut seen: Vec<Value> = first["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].clone())
        .collect();
    let mut cursor = first["next_cursor"].as_str().unwrap().to_string();
    loop {
        let (_, page) = app.get(&format!("{base}?limit=2&cursor={cursor}")).await;
        seen.extend(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["id"].clone()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = next.to_string(),
            None => break,
        }
    }
    let all: Vec<Value> = app
        .attempts(id)
        .await
        .iter()
        .map(|a| a["id"].clone())
        .collect();
    assert_eq!(
        seen, all,
        "paging walks the whole history, newest first, once"
    );

    let one = &all[0];
    let (status, attempt) = app.get(&format!("{base}/{}", one.as_str().unwrap())).await;
    assert_eq!(status, 200);
    assert_eq!(&attempt["id"], one);
    app.stop().await;
}

#[tokio::test]
async fn a_hanging_and_a_failing_webhook_do_not_hold_up_a_healthy_one() {
    let app = TestApp::start_with(|a| {
        a.max_in_flight_per_webhook = "2".into();
        a.max_in_flight = "8".into();
        a.delivery_timeout = "30s".into();
        a.retry_schedule = "10ms,10ms,10ms".into();
    })
    .await;
    let hanging = Receiver::start(vec![], Reply::Hang).await;
    let failing = Receiver::start(vec![], Reply::Status(500)).await;
    let healthy = Receiver::ok().await;
    app.create_webhook(&hanging.url, &["SessionStarted"]).await;
    app.create_webhook(&failing.url, &["SessionStarted"]).await;
    let good = app.create_webhook(&healthy.url, &["SessionStarted"]).await;
    for _ in 0..20 {
        app.emit("SessionStarted", session_started()).await;
    }
    app.wait_for_attempts(good["id"].as_str().unwrap(), 20)
        .await;
    assert_eq!(healthy.received().len(), 20);
    assert!(
        hanging.received().len() <= 2,
        "the hanging webhook holds at most its own two slots"
    );
    assert!(
        !failing.received().is_empty(),
        "the failing one keeps being tried meanwhile"
    );
}

#[tokio::test]
async fn a_target_that_became_private_is_refused_at_delivery_time() {
    // Created while private targets were allowed; delivered after they are not.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("blocked.db");
    let receiver = Receiver::ok().await;
    let permissive = TestApp::start_on(&db, |a| a.no_worker = true).await;
    let literal = permissive
        .create_webhook(&receiver.url, &["SessionStarted"])
        .await;
    let by_name = receiver.url.replace("127.0.0.1", "localhost");
    let named = permissive
        .create_webhook(&by_name, &["SessionStarted"])
        .await;
    permissive.emit("SessionStarted", session_started()).await;
    permissive.stop().await;

    let strict = TestApp::start_on(&db, |a| {
        a.allow_private_targets = "false".into();
        a.retry_schedule = "".into();
    })
    .await;
    for webhook in [&literal, &named] {
        let attempts = strict
            .wait_for_attempts(webhook["id"].as_str().unwrap(), 1)
            .await;
        assert_eq!(attempts[0]["error"], "blocked_address");
        assert!(attempts[0]["http_status"].is_null());
    }
    assert!(receiver.received().is_empty(), "no connection was made");
    strict.stop().await;
}
