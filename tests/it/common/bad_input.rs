//! Sending bad input to the API and reading the contract's error body back: shared by the
//! bad-input suites (tests/it/api_errors.rs, tests/it/api_validation.rs).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use speaknode_webhooks::domain::operational;

use super::{API_KEY, TestApp, session_started};

pub const JSON: &str = "application/json";
pub const WEBHOOK: &str =
    r#"{"url": "https://example.com/hooks", "event_types": ["SessionStarted"]}"#;

/// Sends `body` to `route` ("METHOD /path") with exactly these headers; answers the status and the
/// body text.
pub async fn raw_text(
    app: &TestApp,
    route: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (StatusCode, String) {
    let (method, path) = route.split_once(' ').unwrap();
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = app.client.request(method, app.url(path));
    if !body.is_empty() {
        req = req.body(body.to_vec());
    }
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let resp = req.send().await.unwrap();
    (resp.status(), resp.text().await.unwrap())
}

/// Like [`raw_text`], with the body parsed as JSON (kept as a string when it is not JSON).
pub async fn raw(
    app: &TestApp,
    route: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (StatusCode, Value) {
    let (status, text) = raw_text(app, route, headers, body).await;
    let value = match text.as_str() {
        "" => Value::Null,
        _ => serde_json::from_str(&text).unwrap_or(Value::String(text)),
    };
    (status, value)
}

/// Sends `body` as `application/json` with the valid API key.
pub async fn send(app: &TestApp, route: &str, body: impl AsRef<[u8]>) -> (StatusCode, Value) {
    let auth = format!("Bearer {API_KEY}");
    let headers = [("authorization", auth.as_str()), ("content-type", JSON)];
    raw(app, route, &headers, body.as_ref()).await
}

/// Asserts the contract's error body: `want` is "status code"; `field`, unless `-`, must be named.
#[track_caller]
pub fn check(got: &(StatusCode, Value), want: &str, field: &str, context: &str) {
    let (status, body) = got;
    let context: String = context.chars().take(120).collect();
    let error = &body["error"];
    let code = error["code"].as_str().unwrap_or("?");
    assert_eq!(
        format!("{} {code}", status.as_str()),
        want,
        "{context}: {body}"
    );
    let message = error["message"].as_str().unwrap_or("");
    assert!(!message.is_empty(), "no message: {context}: {body}");
    if field != "-" {
        assert_eq!(error["field"], field, "{context}: {body}");
    }
}

/// The rows of a text table: first word, rest of the line.
pub fn rows(table: &str) -> impl Iterator<Item = (&str, &str)> {
    let rows = table.lines().map(str::trim).filter(|l| !l.is_empty());
    rows.map(|l| l.split_once(' ').map_or((l, ""), |(a, b)| (a, b.trim())))
}

pub async fn new_webhook(app: &TestApp) -> String {
    let url = "https://example.com/hooks";
    let webhook = app.create_webhook(url, &["SessionStarted"]).await;
    webhook["id"].as_str().unwrap().to_string()
}

/// GETs `{collection}/{id of value}`.
pub async fn read_back(app: &TestApp, collection: &str, value: &Value) -> Value {
    let path = format!("/api/v1/{collection}/{}", value["id"].as_str().unwrap());
    let (status, body) = app.get(&path).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

pub fn count(list: &Value) -> usize {
    list.as_array().unwrap().len()
}

/// Sends `body` with these headers and answers only the status.
pub async fn status_of(app: &TestApp, route: &str, headers: &[(&str, &str)], body: &[u8]) -> u16 {
    raw(app, route, headers, body).await.0.as_u16()
}

pub fn event_body() -> Vec<u8> {
    serde_json::to_vec(&json!({"type": "SessionStarted", "data": session_started()})).unwrap()
}

/// Everything the workspace has stored, as the API lists it. The service's own operational
/// events are left out: deliveries to unreachable test URLs give up, and announce it, on their
/// own schedule while a test runs.
pub async fn snapshot(app: &TestApp) -> (Value, Value) {
    let (s1, webhooks) = app.get("/api/v1/webhooks?limit=100").await;
    let (s2, events) = app.get("/api/v1/events?limit=100").await;
    assert_eq!((s1, s2), (StatusCode::OK, StatusCode::OK));
    let emitted: Vec<Value> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| !operational::is_operational(e["type"].as_str().unwrap_or("")))
        .cloned()
        .collect();
    (webhooks["data"].clone(), Value::Array(emitted))
}
