//! A webhook's delivery options through the API, end to end on real sockets: headers arrive
//! and reserved names are refused, a filter keeps events away, a webhook's timeout and retry
//! schedule override the settings. (Storage on both backends: `tests/it/conformance/options.rs`.)

#![allow(clippy::unwrap_used)]

use crate::common;

use common::{Receiver, Reply, TestApp, session_started};
use serde_json::{Value, json};

async fn create(app: &TestApp, body: Value) -> Value {
    let (status, created) = app.post("/api/v1/webhooks", body).await;
    assert_eq!(status, 201, "{created}");
    created
}

#[tokio::test]
async fn headers_arrive_with_every_attempt_and_reserved_names_are_refused() {
    let app = TestApp::start().await;
    let receiver = Receiver::ok().await;
    let webhook = create(
        &app,
        json!({"url": receiver.url, "event_types": ["SessionStarted"],
               "headers": {"Authorization": "Bearer gateway-token", "X-Tenant": "acme"}}),
    )
    .await;
    assert_eq!(
        webhook["headers"],
        json!({"Authorization": "Bearer gateway-token", "X-Tenant": "acme"})
    );
    for field in ["filter", "rate_limit", "timeout", "retry_schedule"] {
        assert_eq!(webhook[field], Value::Null, "{field} unset reads as null");
    }
    assert_eq!(webhook["ordered"], false);

    let event = app.emit("SessionStarted", session_started()).await;
    app.wait_for_event_settled(event["id"].as_str().unwrap())
        .await;
    let got = &receiver.received()[0];
    assert_eq!(got.header("authorization"), "Bearer gateway-token");
    assert_eq!(got.header("x-tenant"), "acme");
    assert_eq!(got.header("content-type"), "application/json");

    for name in [
        "Host",
        "content-type",
        "Content-Length",
        "Transfer-Encoding",
        "Connection",
        "User-Agent",
        "Traceparent",
        "X-SpeakNode-Signature",
        "x-speaknode-anything",
        "Webhook-Id",
    ] {
        let (status, body) = app
            .post(
                "/api/v1/webhooks",
                json!({"url": receiver.url, "event_types": ["SessionStarted"],
                       "headers": {name: "x"}}),
            )
            .await;
        assert_eq!(status, 422, "{name}: {body}");
        assert_eq!(body["error"]["code"], "validation_failed");
        assert_eq!(body["error"]["field"], format!("headers.{name}"), "{body}");
    }
    let id = webhook["id"].as_str().unwrap();
    let (status, body) = app
        .patch(
            &format!("/api/v1/webhooks/{id}"),
            json!({"headers": {"X-Bad": "line\r\nbreak"}}),
        )
        .await;
    assert_eq!(
        (status.as_u16(), body["error"]["field"].clone()),
        (422, json!("headers.X-Bad"))
    );
    let (_, kept) = app.get(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(
        kept["headers"]["X-Tenant"], "acme",
        "a refused PATCH changes nothing"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_filter_keeps_other_agents_events_away_and_is_read_back() {
    let app = TestApp::start().await;
    let receiver = Receiver::ok().await;
    let webhook = create(
        &app,
        json!({"url": receiver.url, "event_types": ["SessionStarted"],
               "filter": {"agent_id": ["agent_7"], "metadata.channel": ["phone"]}}),
    )
    .await;
    assert_eq!(
        webhook["filter"],
        json!({"agent_id": ["agent_7"], "metadata.channel": ["phone"]})
    );
    let mut other = session_started();
    other["agent_id"] = json!("agent_8");
    let skipped = app.emit("SessionStarted", other).await;
    assert_eq!(skipped["deliveries"], 0, "{skipped}");
    let mut mine = session_started();
    mine["agent_id"] = json!("agent_7");
    let sent = app.emit("SessionStarted", mine).await;
    assert_eq!(sent["deliveries"], 1, "{sent}");
    app.wait_for_event_settled(sent["id"].as_str().unwrap())
        .await;
    assert_eq!(receiver.received().len(), 1);

    let (status, body) = app
        .post(
            "/api/v1/webhooks",
            json!({"url": receiver.url, "event_types": ["SessionStarted"],
                   "filter": {"agent_id": []}}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "filter.agent_id");
    app.stop().await;
}

#[tokio::test]
async fn a_webhooks_timeout_and_retry_schedule_override_the_settings() {
    // The settings: 2 s timeout, retries after 50 ms and 50 ms (three attempts).
    let app = TestApp::start().await;
    let slow = Receiver::start(vec![], Reply::Slow(1_500)).await;
    let quick = create(
        &app,
        json!({"url": slow.url, "event_types": ["SessionStarted"],
               "timeout": "1s", "retry_schedule": ""}),
    )
    .await;
    assert_eq!(
        (quick["timeout"].clone(), quick["retry_schedule"].clone()),
        (json!("1s"), json!(""))
    );
    let patient = create(
        &app,
        json!({"url": slow.url, "event_types": ["SessionStarted"]}),
    )
    .await;

    let event = app.emit("SessionStarted", session_started()).await;
    let settled = app
        .wait_for_event_settled(event["id"].as_str().unwrap())
        .await;
    let state_of = |webhook: &Value| {
        settled["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["webhook_id"] == webhook["id"])
            .unwrap()["state"]
            .clone()
    };
    assert_eq!(state_of(&quick), "failed", "{settled}");
    assert_eq!(state_of(&patient), "succeeded", "{settled}");
    let history = app.attempts(quick["id"].as_str().unwrap()).await;
    assert_eq!(
        history.len(),
        1,
        "an empty schedule means one attempt: {history:?}"
    );
    assert_eq!(history[0]["error"], "timeout");

    for (body, field) in [
        (json!({"timeout": "500ms"}), "timeout"),
        (json!({"timeout": "61s"}), "timeout"),
        (json!({"retry_schedule": "8d"}), "retry_schedule"),
        (json!({"retry_schedule": 5}), "retry_schedule"),
    ] {
        let id = quick["id"].as_str().unwrap();
        let (status, answer) = app
            .patch(&format!("/api/v1/webhooks/{id}"), body.clone())
            .await;
        assert_eq!(status, 422, "{body}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{answer}");
    }
    let id = quick["id"].as_str().unwrap();
    let (status, cleared) = app
        .patch(
            &format!("/api/v1/webhooks/{id}"),
            json!({"timeout": null, "retry_schedule": null}),
        )
        .await;
    assert_eq!(status, 200, "{cleared}");
    assert_eq!(
        (
            cleared["timeout"].clone(),
            cleared["retry_schedule"].clone()
        ),
        (Value::Null, Value::Null)
    );
    app.stop().await;
}

#[tokio::test]
async fn a_rate_limit_spreads_attempts_over_seconds_and_loses_none() {
    let app = TestApp::start().await;
    let receiver = Receiver::ok().await;
    let limited = create(
        &app,
        json!({"url": receiver.url, "event_types": ["SessionStarted"], "rate_limit": 5}),
    )
    .await;
    assert_eq!(limited["rate_limit"], 5);
    for _ in 0..15 {
        app.emit("SessionStarted", session_started()).await;
    }
    let history = app
        .wait_for_attempts(limited["id"].as_str().unwrap(), 15)
        .await;
    assert_eq!(history.len(), 15, "every delivery made, none twice");
    assert_eq!(receiver.received().len(), 15);
    let mut started: Vec<i64> = history
        .iter()
        .map(|a| chrono_millis(a["timestamp"].as_str().unwrap()))
        .collect();
    started.sort_unstable();
    // Fifteen at five per second take three one-second windows.
    assert!(
        started[14] - started[0] >= 1_000,
        "spread over seconds: {started:?}"
    );
    let mut per_second = std::collections::HashMap::new();
    for at in &started {
        *per_second.entry(at / 1_000).or_insert(0) += 1;
    }
    assert!(
        per_second.values().all(|n| *n <= 6),
        "about five per second: {per_second:?}"
    );
    app.stop().await;
}

/// What an ordered webhook promises, not one exact sequence: delivery is at least once, so an
/// attempt whose request reached the receiver may be made again (its answer came after the
/// timeout, or its lease ran out while it was in flight, e.g. when the wall clock stepped
/// forward); order means an event is attempted only after the one before it succeeded. Each
/// check below says which of the two it is; every failure message shows the arrivals and the
/// Request History.
#[tokio::test]
async fn an_ordered_webhook_retries_the_first_event_before_the_second_is_attempted() {
    let app = TestApp::start().await;
    // The first two requests fail; everything after succeeds.
    let receiver = Receiver::start(
        vec![Reply::Status(500), Reply::Status(500)],
        Reply::Status(200),
    )
    .await;
    let bystander = Receiver::ok().await;
    // More retries than the two failures need, so that an attempt made again (see above) does
    // not use up the first event's schedule.
    let ordered = create(
        &app,
        json!({"url": receiver.url, "event_types": ["SessionStarted"], "ordered": true,
               "retry_schedule": "50ms,50ms,50ms,50ms,50ms"}),
    )
    .await;
    assert_eq!(ordered["ordered"], true);
    let ordered_id = ordered["id"].as_str().unwrap();
    let other = create(
        &app,
        json!({"url": bystander.url, "event_types": ["SessionStarted"]}),
    )
    .await;
    let mut accepted = Vec::new();
    for i in 0..3 {
        let mut data = session_started();
        data["session_id"] = json!(format!("sess_{i}"));
        accepted.push(
            app.emit("SessionStarted", data).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let mut states = Vec::new();
    for id in &accepted {
        let settled = app.wait_for_event_settled(id).await;
        for webhook in [&ordered, &other] {
            let delivery = settled["deliveries"]
                .as_array()
                .unwrap()
                .iter()
                .find(|d| d["webhook_id"] == webhook["id"])
                .unwrap();
            states.push(delivery["state"].clone());
        }
    }

    // Which of the three events an id is (e0, e1, e2), for the messages.
    let name = |id: &str| match accepted.iter().position(|a| a == id) {
        Some(i) => format!("e{i}"),
        None => format!("unknown {id}"),
    };
    let arrivals = |receiver: &Receiver| -> Vec<String> {
        receiver
            .received()
            .iter()
            .map(|r| r.header("webhook-id").to_string())
            .collect()
    };
    let count = |list: &[String], id: &str| list.iter().filter(|a| *a == id).count();
    // An attempt whose lease ran out while it was in flight is recorded after its delivery
    // settled: wait (within the usual deadline) until the history holds an attempt for every
    // arrival, then check.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    let (arrived, history) = loop {
        let arrived = arrivals(&receiver);
        let history = app.attempts(ordered_id).await;
        let recorded = |id: &str| history.iter().filter(|a| a["event_id"] == id).count();
        let accounted = accepted
            .iter()
            .all(|id| count(&arrived, id) <= recorded(id));
        if accounted || tokio::time::Instant::now() >= deadline {
            break (arrived, history);
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    let attempts: Vec<(String, bool, i64, i64)> = history
        .iter()
        .rev()
        .map(|a| {
            let succeeded =
                a["error"].is_null() && a["http_status"].as_u64().is_some_and(|s| s / 100 == 2);
            let started = chrono_millis(a["timestamp"].as_str().unwrap());
            let ended = started + a["duration_ms"].as_i64().unwrap();
            (
                a["event_id"].as_str().unwrap().to_string(),
                succeeded,
                started,
                ended,
            )
        })
        .collect();
    let story = format!(
        "arrivals at the ordered webhook's receiver: {:?}\nits Request History, in the order recorded:\n{}",
        arrived.iter().map(|id| name(id)).collect::<Vec<_>>(),
        history
            .iter()
            .rev()
            .map(|a| format!(
                "  {} #{} {} status {} error {} at {} for {} ms",
                name(a["event_id"].as_str().unwrap()),
                a["attempt"],
                a["trigger"],
                a["http_status"],
                a["error"],
                a["timestamp"],
                a["duration_ms"]
            ))
            .collect::<Vec<_>>()
            .join("\n")
    );

    // At least once: every delivery succeeded, and every event arrived; the first one at
    // least three times (two failures, then a success).
    assert!(
        states.iter().all(|s| s == "succeeded"),
        "every delivery succeeded, ordered webhook's and bystander's by event: {states:?}\n{story}"
    );
    assert!(
        arrived.iter().all(|id| accepted.contains(id)),
        "only the three events arrive\n{story}"
    );
    let times: Vec<usize> = accepted.iter().map(|id| count(&arrived, id)).collect();
    assert!(
        times[0] >= 3 && times[1] >= 1 && times[2] >= 1,
        "arrivals per event: {times:?}\n{story}"
    );
    // Order, as the receiver saw it: nothing goes before the first event's success, which can
    // only be the third request (the first two are answered 500), and each event first arrives
    // after the one before it.
    assert!(
        arrived[..3].iter().all(|id| *id == accepted[0]),
        "the first three requests are the first event's\n{story}"
    );
    let first_arrival: Vec<usize> = accepted
        .iter()
        .map(|id| arrived.iter().position(|a| a == id).unwrap())
        .collect();
    assert!(
        first_arrival.is_sorted(),
        "events first arrive in the order they were accepted: {first_arrival:?}\n{story}"
    );
    // Order, as the service recorded it: no attempt of an event starts before an attempt of
    // the one before it has succeeded (ended, with a 2xx).
    for pair in accepted.windows(2) {
        let succeeded_by = attempts
            .iter()
            .filter(|(id, succeeded, _, _)| *id == pair[0] && *succeeded)
            .map(|(_, _, _, ended)| *ended)
            .min();
        let first_started = attempts
            .iter()
            .filter(|(id, _, _, _)| *id == pair[1])
            .map(|(_, _, started, _)| *started)
            .min();
        assert!(
            succeeded_by.is_some_and(|ended| first_started.is_some_and(|s| s >= ended)),
            "{} is attempted only after {} succeeded\n{story}",
            name(&pair[1]),
            name(&pair[0])
        );
    }
    // Every arrival is an attempt the history shows: an event that arrived more often than
    // the sequence above needs was attempted again (its earlier attempt failed, timed out, or
    // outlived its lease), never sent without a record.
    for id in &accepted {
        let recorded = attempts.iter().filter(|(a, _, _, _)| a == id).count();
        assert!(
            count(&arrived, id) <= recorded,
            "{} arrived {} times but has {recorded} recorded attempts\n{story}",
            name(id),
            count(&arrived, id)
        );
    }
    // Other webhooks are not held up: the bystander gets every event.
    let seen = arrivals(&bystander);
    assert!(
        accepted.iter().all(|id| seen.contains(id)),
        "the bystander gets all three events: {:?}",
        seen.iter().map(|id| name(id)).collect::<Vec<_>>()
    );

    let (status, body) = app
        .post(
            "/api/v1/webhooks",
            json!({"url": receiver.url, "event_types": ["SessionStarted"], "rate_limit": 0}),
        )
        .await;
    assert_eq!(
        (status.as_u16(), body["error"]["field"].clone()),
        (422, json!("rate_limit"))
    );
    app.stop().await;
}

/// Milliseconds since the epoch of an RFC 3339 time as the API writes it.
fn chrono_millis(text: &str) -> i64 {
    speaknode_webhooks::domain::time::parse_rfc3339(text).unwrap()
}

#[tokio::test]
async fn a_replay_delivers_last_weeks_events_to_a_new_webhook_once() {
    let app = TestApp::start().await;
    for agent in ["agent_7", "agent_8", "agent_7"] {
        let mut data = session_started();
        data["agent_id"] = json!(agent);
        app.emit("SessionStarted", data).await;
    }
    let receiver = Receiver::ok().await;
    let webhook = create(
        &app,
        json!({"url": receiver.url, "event_types": ["SessionStarted"],
               "filter": {"agent_id": ["agent_7"]}}),
    )
    .await;
    let path = format!(
        "/api/v1/webhooks/{}/replay",
        webhook["id"].as_str().unwrap()
    );
    let (status, body) = app
        .post(&path, json!({"since": "2020-01-01T00:00:00Z"}))
        .await;
    assert_eq!(
        (status.as_u16(), body.clone()),
        (202, json!({"replayed": 2}))
    );
    app.wait_for_attempts(webhook["id"].as_str().unwrap(), 2)
        .await;
    let (status, body) = app
        .post(&path, json!({"since": "2020-01-01T00:00:00Z"}))
        .await;
    assert_eq!(
        (status.as_u16(), body.clone()),
        (202, json!({"replayed": 0})),
        "idempotent"
    );
    assert_eq!(receiver.received().len(), 2);

    let (status, body) = app.post(&path, json!({})).await;
    assert_eq!(
        (status.as_u16(), body["error"]["field"].clone()),
        (422, json!("since"))
    );
    let (status, body) = app
        .post(
            &path,
            json!({"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(
        (status.as_u16(), body["error"]["field"].clone()),
        (422, json!("until"))
    );
    let (status, _) = app
        .post(
            "/api/v1/webhooks/wh_missing/replay",
            json!({"since": "2020-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(status, 404);
    app.stop().await;
}
