//! Input that parses but is not acceptable: invalid values (422 naming the field), blocked
//! addresses, reused idempotency keys (409), and bad requests in bulk — none of which changes
//! anything stored. Cases are text tables: one request per line, the expected field (or `-`)
//! first.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::bad_input::*;
use common::{API_KEY, TestApp, session_started};
use reqwest::StatusCode;
use serde_json::{Value, json};

const WEBHOOK_422: &str = r#"
    url             {"event_types": ["SessionStarted"]}
    url             {"url": null, "event_types": ["SessionStarted"]}
    event_types     {"url": "https://example.com/hooks"}
    event_types     {"url": "https://example.com/hooks", "event_types": []}
    event_types[0]  {"url": "https://example.com/hooks", "event_types": ["Nope"]}
    event_types[1]  {"url": "https://example.com/hooks", "event_types": ["SessionStarted", "SessionStarted"]}
    event_types[1]  {"url": "https://example.com/hooks", "event_types": ["SessionStarted", "sessionstarted"]}
    url             {"url": "ftp://example.com/hooks", "event_types": ["SessionStarted"]}
    url             {"url": "javascript:alert(1)", "event_types": ["SessionStarted"]}
    url             {"url": "not a url", "event_types": ["SessionStarted"]}
    url             {"url": "https://", "event_types": ["SessionStarted"]}
    url             {"url": "", "event_types": ["SessionStarted"]}
"#;

#[tokio::test]
async fn invalid_webhook_values_are_422_naming_the_field_and_lengths_count_characters() {
    let app = TestApp::start().await;
    for (field, body) in rows(WEBHOOK_422) {
        let got = send(&app, "POST /api/v1/webhooks", body).await;
        check(&got, "422 validation_failed", field, body);
    }
    let url = |n: usize| format!("https://example.com/{}", "a".repeat(n - 20));
    let webhook = |url: String, description: String| json!({"url": url, "event_types": ["SessionStarted"], "description": description});
    let too_long = [
        (webhook(url(2049), String::new()), "url"),
        (webhook(url(30), "é".repeat(1001)), "description"),
    ];
    for (body, field) in too_long {
        let got = app.post("/api/v1/webhooks", body.clone()).await;
        check(&got, "422 validation_failed", field, &body.to_string());
    }
    assert_eq!(snapshot(&app).await.0, json!([]));

    // The limits themselves are valid: 2048 characters of URL, 1000 (2000 bytes) of description.
    let at_limit = webhook(url(2048), "é".repeat(1000));
    let (status, created) = app.post("/api/v1/webhooks", at_limit.clone()).await;
    assert_eq!(status, 201, "{created}");
    let read = read_back(&app, "webhooks", &created).await;
    assert_eq!(
        (&read["url"], &read["description"]),
        (&at_limit["url"], &at_limit["description"])
    );
    app.stop().await;
}

const EVENT_422: &str = r#"
    type  {"data": {}}
    type  {"type": "Nope", "data": {}}
    type  {"type": "", "data": {}}
    data  {"type": "SessionStarted"}
    type  {"type": "WebhookDisabled", "data": {"webhook_id": "wh_1", "url": "https://x.example/h", "reason": "gone", "disabled_at": "2026-11-26T16:58:01Z"}}
    type  {"type": "DeliveryExhausted", "data": {"webhook_id": "wh_1", "delivery_id": "dlv_1", "event_id": "evt_1", "event_type": "SessionStarted", "attempts": 1, "last_http_status": 500, "last_error": null}}
"#;

/// Rows of "<field> <type> <patch>": the type's example with the patch's keys replaced (null
/// removes one) must be refused naming the field.
const SCHEMA_422: &str = r#"
    data.transcript              ConversationComplete  {"transcript": null}
    data.transcript[0].role      ConversationComplete  {"transcript": [{"role": "robot", "text": "hi"}]}
    data.transcript[1].text      ConversationComplete  {"transcript": [{"role": "user", "text": "hi"}, {"role": "agent", "text": 5}]}
    data.transcript[0].start_ms  ConversationComplete  {"transcript": [{"role": "user", "text": "hi", "start_ms": -1}]}
    data.started_at              ConversationComplete  {"started_at": "yesterday"}
    data.duration_seconds        ConversationComplete  {"duration_seconds": -5}
    data.started_at              SessionStarted        {"started_at": "26/11/2026 16:58"}
    data.session_id              SessionStarted        {"session_id": null}
    data.agent_id                SessionStarted        {"agent_id": 5}
    data.metadata                SessionStarted        {"metadata": "x"}
"#;

#[tokio::test]
async fn invalid_events_are_422_naming_the_first_failing_path() {
    let app = TestApp::start().await;
    for (field, body) in rows(EVENT_422) {
        let got = send(&app, "POST /api/v1/events", body).await;
        check(&got, "422 validation_failed", field, body);
    }
    let (_, types) = app.get("/api/v1/event-types").await;
    for (field, rest) in rows(SCHEMA_422) {
        let (name, patch) = rest.split_once(' ').unwrap();
        let types = types["data"].as_array().unwrap();
        let mut data = types.iter().find(|t| t["name"] == name).unwrap()["example"].clone();
        let data_fields = data.as_object_mut().unwrap();
        let patch: serde_json::Map<String, Value> = serde_json::from_str(patch).unwrap();
        for (key, value) in patch {
            match value {
                Value::Null => data_fields.remove(&key),
                _ => data_fields.insert(key, value),
            };
        }
        let got = app
            .post("/api/v1/events", json!({"type": name, "data": data}))
            .await;
        check(&got, "422 validation_failed", field, rest);
    }
    assert_eq!(snapshot(&app).await.1, json!([]));
    app.stop().await;
}

#[tokio::test]
async fn bad_list_parameters_are_422_naming_the_parameter() {
    let app = TestApp::start().await;
    let attempts = format!("/api/v1/webhooks/{}/attempts", new_webhook(&app).await);
    for list in ["/api/v1/webhooks", "/api/v1/events", &attempts] {
        for query in "limit=0 limit=101 limit=abc limit=-1 limit= cursor=garbage".split(' ') {
            let path = format!("{list}?{query}");
            let field = query.split('=').next().unwrap();
            check(&app.get(&path).await, "422 validation_failed", field, &path);
        }
        for query in ["limit=1", "limit=100"] {
            let path = format!("{list}?{query}");
            assert_eq!(app.get(&path).await.0, 200, "{path}");
        }
    }
    for query in "status=maybe since=yesterday until=2026-13-01T00:00:00Z".split(' ') {
        let path = format!("{attempts}?{query}");
        let field = query.split('=').next().unwrap();
        check(&app.get(&path).await, "422 validation_failed", field, &path);
    }
    app.stop().await;
}

const BLOCKED: &str = "
    http://127.0.0.1/  http://localhost:8080/  http://[::1]/  http://[::ffff:127.0.0.1]/
    http://10.0.0.1/  http://169.254.169.254/latest/meta-data  http://2130706433/  http://0x7f.0.0.1/
    http://100.64.0.1/  http://0.0.0.0/  https://192.168.1.10/hooks  http://172.16.0.1/
    http://[fe80::1]/  http://[fd00::1]/  http://LOCALHOST./  http://api.localhost/  http://127.1/
";

#[tokio::test]
async fn loopback_private_and_metadata_urls_are_422_blocked_address_on_create_and_update() {
    let app = TestApp::start_with(|a| a.allow_private_targets = "false".into()).await;
    let path = format!("/api/v1/webhooks/{}", new_webhook(&app).await);
    let before = (snapshot(&app).await, app.get(&path).await);
    for url in BLOCKED.split_whitespace() {
        let create = json!({"url": url, "event_types": ["SessionStarted"]});
        let got = app.post("/api/v1/webhooks", create).await;
        check(&got, "422 blocked_address", "url", &format!("create {url}"));
        let update = json!({"url": url, "description": "moved"});
        let got = app.patch(&path, update).await;
        check(&got, "422 blocked_address", "url", &format!("update {url}"));
    }
    assert_eq!((snapshot(&app).await, app.get(&path).await), before);
    app.stop().await;
}

#[tokio::test]
async fn an_idempotency_key_reused_with_a_different_body_is_409_and_stores_nothing() {
    let app = TestApp::start().await;
    let auth = format!("Bearer {API_KEY}");
    let key = ("idempotency-key", "k-42");
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", JSON),
        key,
    ];
    let (status, accepted) = raw(&app, "POST /api/v1/events", &headers, &event_body()).await;
    assert_eq!(status, 202, "{accepted}");
    let replayed = raw(&app, "POST /api/v1/events", &headers, &event_body()).await;
    assert_eq!(replayed, (StatusCode::ACCEPTED, accepted));

    let before = snapshot(&app).await;
    let other = json!({"type": "SessionStarted", "data": {"session_id": "other", "agent_id": "a",
                       "started_at": "2026-11-26T16:58:01Z"}});
    let other = other.to_string();
    let got = raw(&app, "POST /api/v1/events", &headers, other.as_bytes()).await;
    check(&got, "409 conflict", "-", "reused Idempotency-Key");
    assert_eq!(snapshot(&app).await, before);
    assert_eq!(before.1.as_array().unwrap().len(), 1);
    app.stop().await;
}

/// Rows of "<status> <route> <body>" that must all fail; `{id}` is an existing webhook.
const BARRAGE: &str = r#"
    422 PATCH /api/v1/webhooks/{id} {"description": "half", "event_types": []}
    422 PATCH /api/v1/webhooks/{id} {"description": "half", "event_types": ["Nope"]}
    422 PATCH /api/v1/webhooks/{id} {"description": "half", "url": "ftp://example.com/"}
    422 PATCH /api/v1/webhooks/{id} {"enabled": false, "url": ""}
    400 PATCH /api/v1/webhooks/{id} {"description": "half", "colour": "red"}
    400 PATCH /api/v1/webhooks/{id} {"description": "half", "enabled": "no"}
    400 PATCH /api/v1/webhooks/{id} {"url": null, "event_types": null, "description": 5}
    400 PATCH /api/v1/webhooks/{id} {"description": "half"
    400 POST /api/v1/webhooks {"url": "https://example.com/b", "event_types": ["SessionStarted"], "enabled": 1}
    422 POST /api/v1/webhooks {"url": "https://example.com/b", "event_types": ["SessionStarted", "Nope"]}
    422 POST /api/v1/webhooks {"url": "https://example.com/b"}
    422 POST /api/v1/events {"type": "SessionStarted", "data": {"session_id": "s"}}
    400 POST /api/v1/events {"type": "SessionStarted", "data": "x"}
    422 POST /api/v1/events {"type": "SessionStarted"}
    404 POST /api/v1/webhooks/{id}/attempts/att_nope/retry {}
"#;

#[tokio::test]
async fn a_barrage_of_bad_requests_changes_nothing_stored() {
    let app = TestApp::start().await;
    let id = new_webhook(&app).await;
    let path = format!("/api/v1/webhooks/{id}");
    app.emit("SessionStarted", session_started()).await;
    let before = (snapshot(&app).await, app.get(&path).await);

    for (status, rest) in rows(BARRAGE) {
        let (method, rest) = rest.split_once(' ').unwrap();
        let (route, body) = rest.split_once(' ').unwrap();
        let route = format!("{method} {}", route.replace("{id}", &id));
        let (got, answer) = send(&app, &route, body).await;
        assert_eq!(got.as_str(), status, "{route} {body}: {answer}");
    }
    let long = json!({"description": "x".repeat(1001)}).to_string();
    assert_eq!(send(&app, &format!("PATCH {path}"), long).await.0, 422);
    // Good bodies with a wrong key or the wrong content type store nothing either.
    let wrong = [
        ("authorization", "Bearer sk_not_a_key_0123456789"),
        ("content-type", JSON),
    ];
    let (delete, patch) = (format!("DELETE {path}"), format!("PATCH {path}"));
    assert_eq!(
        status_of(&app, "POST /api/v1/events", &wrong, &event_body()).await,
        401
    );
    assert_eq!(status_of(&app, &delete, &wrong, b"").await, 401);
    assert_eq!(
        status_of(&app, &patch, &wrong, br#"{"enabled": false}"#).await,
        401
    );
    let auth = format!("Bearer {API_KEY}");
    let text = [
        ("authorization", auth.as_str()),
        ("content-type", "text/plain"),
    ];
    assert_eq!(
        status_of(&app, "POST /api/v1/events", &text, &event_body()).await,
        415
    );

    assert_eq!((snapshot(&app).await, app.get(&path).await), before);
    app.stop().await;
}

#[tokio::test]
async fn sql_looking_and_unusual_strings_round_trip_byte_for_byte() {
    let app = TestApp::start().await;
    let strings = [
        "'); DROP TABLE webhooks; --",
        "Robert'); DELETE FROM events WHERE ('1'='1",
        "quotes \" and ' and `back`ticks`, back\\slashes \\\\ and \\n not-a-newline",
        "emoji 🎙️👩🏽‍💻 and RTL مرحبا and 𝄞, %s %n {} <script>alert(1)</script>",
        // NUL (U+0000) is refused in descriptions, which PostgreSQL cannot store: see hostile_input.rs.
        "line\nbreak\ttab\r\nand a control \u{1} here",
    ];
    for text in strings {
        let body = json!({"url": "https://example.com/hooks", "event_types": ["SessionStarted"],
                          "description": text});
        let (status, created) = app.post("/api/v1/webhooks", body).await;
        assert_eq!(
            (status, &created["description"]),
            (StatusCode::CREATED, &json!(text))
        );
        assert_eq!(
            read_back(&app, "webhooks", &created).await["description"],
            text
        );

        let mut data = session_started();
        data["agent_id"] = json!(text);
        let event = app.emit("SessionStarted", data.clone()).await;
        assert_eq!(read_back(&app, "events", &event).await["data"], data);
    }
    let (webhooks, events) = snapshot(&app).await;
    let webhooks = webhooks.as_array().unwrap();
    let mut listed: Vec<_> = webhooks
        .iter()
        .map(|w| w["description"].as_str().unwrap())
        .collect();
    let mut expected = strings.to_vec();
    listed.sort_unstable();
    expected.sort_unstable();
    assert_eq!(listed, expected);
    assert_eq!(count(&events), strings.len());
    app.stop().await;
}

#[tokio::test]
async fn delete_answers_204_with_an_empty_body_and_an_empty_patch_changes_nothing() {
    let app = TestApp::start().await;
    let keep = format!("/api/v1/webhooks/{}", new_webhook(&app).await);
    let (_, before) = app.get(&keep).await;
    let gone = format!("/api/v1/webhooks/{}", new_webhook(&app).await);
    let auth = format!("Bearer {API_KEY}");
    let delete = format!("DELETE {gone}");
    let deleted = raw_text(&app, &delete, &[("authorization", &auth)], b"").await;
    assert_eq!(deleted, (StatusCode::NO_CONTENT, String::new()));
    for route in [format!("GET {gone}"), delete, format!("GET {gone}/secret")] {
        check(&send(&app, &route, "").await, "404 not_found", "-", &route);
    }
    assert_eq!(snapshot(&app).await.0, json!([before]));

    // Once the clock has passed `updated_at` (so a needless touch of it would show), an empty
    // PATCH answers the webhook exactly as it was.
    let updated = chrono::DateTime::parse_from_rfc3339(before["updated_at"].as_str().unwrap());
    while chrono::Utc::now().timestamp_millis() <= updated.unwrap().timestamp_millis() {
        tokio::task::yield_now().await;
    }
    assert_eq!(
        app.patch(&keep, json!({})).await,
        (StatusCode::OK, before.clone())
    );
    assert_eq!(app.get(&keep).await.1, before);
    app.stop().await;
}

/// Rows of "<route> <body>": a JSON array where an object is expected must not be read as the
/// struct's fields in order.
const ARRAY_BODIES: &str = r#"
    POST /api/v1/webhooks ["https://example.com/array", "", ["SessionStarted"], true]
    PATCH /api/v1/webhooks/{id} ["https://example.com/moved", "moved", ["SessionStarted"], false]
    POST /api/v1/events ["SessionStarted", {"session_id": "s", "agent_id": "a", "started_at": "2026-11-26T16:58:01Z"}]
"#;

#[tokio::test]
async fn a_json_array_instead_of_an_object_is_400_and_stores_nothing() {
    let app = TestApp::start().await;
    let id = new_webhook(&app).await;
    let path = format!("/api/v1/webhooks/{id}");
    let before = (snapshot(&app).await, app.get(&path).await);
    let mut failures = Vec::new();
    for (method, rest) in rows(ARRAY_BODIES) {
        let (route, body) = rest.split_once(' ').unwrap();
        let route = format!("{method} {}", route.replace("{id}", &id));
        let (status, answer) = send(&app, &route, body).await;
        if (status.as_u16(), &answer["error"]["code"]) != (400, &json!("bad_request")) {
            failures.push(format!("{route} {body} -> {status} {answer}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!((snapshot(&app).await, app.get(&path).await), before);
    app.stop().await;
}
