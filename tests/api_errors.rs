//! Every kind of bad input gets its exact status, error code and field, and changes nothing stored.
//! Cases are text tables: one request per line, the expected field (or `-`) first.

#![allow(clippy::unwrap_used)]

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use common::{API_KEY, TestApp, session_started};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const JSON: &str = "application/json";
const WEBHOOK: &str = r#"{"url": "https://example.com/hooks", "event_types": ["SessionStarted"]}"#;

/// Sends `body` to `route` ("METHOD /path") with exactly these headers; answers the status and the
/// body text.
async fn raw_text(
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
async fn raw(
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
async fn send(app: &TestApp, route: &str, body: impl AsRef<[u8]>) -> (StatusCode, Value) {
    let auth = format!("Bearer {API_KEY}");
    let headers = [("authorization", auth.as_str()), ("content-type", JSON)];
    raw(app, route, &headers, body.as_ref()).await
}

/// Asserts the contract's error body: `want` is "status code"; `field`, unless `-`, must be named.
#[track_caller]
fn check(got: &(StatusCode, Value), want: &str, field: &str, context: &str) {
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
fn rows(table: &str) -> impl Iterator<Item = (&str, &str)> {
    let rows = table.lines().map(str::trim).filter(|l| !l.is_empty());
    rows.map(|l| l.split_once(' ').map_or((l, ""), |(a, b)| (a, b.trim())))
}

async fn new_webhook(app: &TestApp) -> String {
    let url = "https://example.com/hooks";
    let webhook = app.create_webhook(url, &["SessionStarted"]).await;
    webhook["id"].as_str().unwrap().to_string()
}

/// GETs `{collection}/{id of value}`.
async fn read_back(app: &TestApp, collection: &str, value: &Value) -> Value {
    let path = format!("/api/v1/{collection}/{}", value["id"].as_str().unwrap());
    let (status, body) = app.get(&path).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

fn count(list: &Value) -> usize {
    list.as_array().unwrap().len()
}

/// Sends `body` with these headers and answers only the status.
async fn status_of(app: &TestApp, route: &str, headers: &[(&str, &str)], body: &[u8]) -> u16 {
    raw(app, route, headers, body).await.0.as_u16()
}

fn event_body() -> Vec<u8> {
    serde_json::to_vec(&json!({"type": "SessionStarted", "data": session_started()})).unwrap()
}

/// Everything the workspace has stored, as the API lists it.
async fn snapshot(app: &TestApp) -> (Value, Value) {
    let (s1, webhooks) = app.get("/api/v1/webhooks?limit=100").await;
    let (s2, events) = app.get("/api/v1/events?limit=100").await;
    assert_eq!((s1, s2), (StatusCode::OK, StatusCode::OK));
    (webhooks["data"].clone(), events["data"].clone())
}

const WEBHOOK_400: &str = r#"
    -            {
    -            {} []
    -            null
    -            "https://example.com/hooks"
    colour       {"url": "https://example.com/", "event_types": ["SessionStarted"], "colour": 1}
    enabled      {"url": "https://example.com/", "event_types": ["SessionStarted"], "enabled": "yes"}
    event_types  {"url": "https://example.com/", "event_types": "SessionStarted"}
    url          {"url": 5, "event_types": ["SessionStarted"]}
    description  {"url": "https://example.com/", "event_types": ["SessionStarted"], "description": 7}
"#;

#[tokio::test]
async fn malformed_json_unknown_fields_and_wrong_types_on_a_webhook_are_400_naming_the_field() {
    let app = TestApp::start().await;
    for (field, body) in rows(WEBHOOK_400) {
        let got = send(&app, "POST /api/v1/webhooks", body).await;
        check(&got, "400 bad_request", field, body);
    }
    let bad_utf8 =
        b"{\"url\": \"https://example.com/\xff\xfe\", \"event_types\": [\"SessionStarted\"]}";
    for body in [&b""[..], bad_utf8, "[".repeat(10_000).as_bytes()] {
        let got = send(&app, "POST /api/v1/webhooks", body).await;
        check(&got, "400 bad_request", "-", &String::from_utf8_lossy(body));
    }
    assert_eq!(snapshot(&app).await.0, json!([]));
    app.stop().await;
}

const EVENT_400: &str = r#"
    -      {
    -      {} []
    extra  {"type": "SessionStarted", "data": {}, "extra": 1}
    data   {"type": "SessionStarted", "data": "a string"}
    data   {"type": "SessionStarted", "data": [1, 2]}
    data   {"type": "SessionStarted", "data": 42}
    type   {"type": 7, "data": {}}
"#;

#[tokio::test]
async fn event_bodies_with_unknown_fields_non_object_data_bad_utf8_or_deep_nesting_are_400() {
    let app = TestApp::start().await;
    for (field, body) in rows(EVENT_400) {
        let got = send(&app, "POST /api/v1/events", body).await;
        check(&got, "400 bad_request", field, body);
    }
    let deep_arrays = format!(
        r#"{{"type": "SessionStarted", "data": {}"#,
        "[".repeat(10_000)
    );
    let deep_objects = format!(
        r#"{{"type": "SessionStarted", "data": {}"#,
        "{\"a\":".repeat(10_000)
    );
    let bad_utf8 = b"{\"type\": \"SessionStarted\", \"data\": {\"session_id\": \"\xc3\x28\", \
        \"agent_id\": \"a\", \"started_at\": \"2026-11-26T16:58:01Z\"}}";
    for body in [deep_arrays.as_bytes(), deep_objects.as_bytes(), bad_utf8] {
        let got = send(&app, "POST /api/v1/events", body).await;
        check(&got, "400 bad_request", "-", &String::from_utf8_lossy(body));
    }
    assert_eq!(snapshot(&app).await.1, json!([]));
    app.stop().await;
}

const ROUTES_401: &str = "
    GET /api/v1/webhooks
    POST /api/v1/webhooks
    GET /api/v1/webhooks/{id}
    PATCH /api/v1/webhooks/{id}
    DELETE /api/v1/webhooks/{id}
    GET /api/v1/webhooks/{id}/secret
    GET /api/v1/webhooks/{id}/attempts
    POST /api/v1/events
    GET /api/v1/events
    GET /api/v1/event-types
";

#[tokio::test]
async fn requests_without_a_valid_bearer_key_are_401_on_every_route() {
    let app = TestApp::start().await;
    let id = new_webhook(&app).await;
    let basic = format!("Basic {}", BASE64.encode(format!("{API_KEY}:")));
    let auths = [
        None,
        Some("Bearer sk_wrong_key_0123456789abcdef"),
        Some("Bearer "),
        Some("Bearer"),
        Some(basic.as_str()),
        Some(API_KEY),
    ];
    let before = snapshot(&app).await;
    for (method, path) in rows(ROUTES_401) {
        let route = format!("{method} {}", path.replace("{id}", &id));
        // Good bodies, so that only the key is wrong.
        let body = match route.as_str() {
            "POST /api/v1/events" => event_body(),
            _ if method == "POST" || method == "PATCH" => WEBHOOK.as_bytes().to_vec(),
            _ => Vec::new(),
        };
        for auth in auths {
            let mut headers = vec![("content-type", JSON)];
            headers.extend(auth.map(|a| ("authorization", a)));
            let got = raw(&app, &route, &headers, &body).await;
            let context = format!("{route} with {auth:?}");
            check(&got, "401 unauthorized", "-", &context);
        }
    }
    assert_eq!(snapshot(&app).await, before);
    app.stop().await;
}

const ROUTES_404: &str = "
    GET /api/v1/webhooks/wh_nope
    PATCH /api/v1/webhooks/wh_nope
    DELETE /api/v1/webhooks/wh_nope
    GET /api/v1/webhooks/wh_nope/secret
    GET /api/v1/webhooks/wh_nope/attempts
    POST /api/v1/webhooks/wh_nope/test
    GET /api/v1/webhooks/wh_nope/attempts/att_nope
    POST /api/v1/webhooks/wh_nope/attempts/att_nope/retry
    GET /api/v1/webhooks/{id}/attempts/att_nope
    POST /api/v1/webhooks/{id}/attempts/att_nope/retry
    GET /api/v1/events/evt_nope
    GET /api/v1/nope
    POST /api/v1/nope
    GET /api/v1/webhooks/{id}/nope
";

const ROUTES_405: &str = "
    DELETE /api/v1/webhooks
    PUT /api/v1/webhooks/{id}
    POST /api/v1/webhooks/{id}
    GET /api/v1/webhooks/{id}/test
    DELETE /api/v1/events
    PATCH /api/v1/event-types
";

#[tokio::test]
async fn unknown_ids_and_routes_are_404_and_wrong_methods_are_405_with_a_json_body() {
    let app = TestApp::start().await;
    let id = new_webhook(&app).await;
    let tables = [
        (ROUTES_404, "404 not_found"),
        (ROUTES_405, "405 method_not_allowed"),
    ];
    for (table, want) in tables {
        for (method, path) in rows(table) {
            let route = format!("{method} {}", path.replace("{id}", &id));
            check(&send(&app, &route, "{}").await, want, "-", &route);
        }
    }
    app.stop().await;
}

/// POSTs a chunked body (no Content-Length) over a plain socket, since the tests' reqwest cannot
/// stream a body; answers the status and the JSON body.
async fn post_chunked(app: &TestApp, path: &str, body: Vec<u8>) -> (StatusCode, Value) {
    use std::io::{Read, Write};
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {API_KEY}\r\n\
         Content-Type: {JSON}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    for chunk in body.chunks(256) {
        request.extend(format!("{:x}\r\n", chunk.len()).as_bytes());
        request.extend(chunk);
        request.extend(b"\r\n");
    }
    request.extend(b"0\r\n\r\n");
    let response = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        let timeout = std::time::Duration::from_secs(10);
        stream.set_read_timeout(Some(timeout)).unwrap();
        stream.write_all(&request).unwrap();
        let mut response = Vec::new();
        // The server may close the connection without reading the rest of the body.
        let _ = stream.read_to_end(&mut response);
        String::from_utf8(response).unwrap()
    })
    .await
    .unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let status = StatusCode::from_bytes(&head.as_bytes()[9..12]).unwrap();
    let length = |l: &str| {
        l.to_lowercase()
            .strip_prefix("content-length: ")?
            .parse()
            .ok()
    };
    let end = head.lines().find_map(length).unwrap_or(body.len());
    (status, serde_json::from_str(&body[..end]).unwrap())
}

#[tokio::test]
async fn bodies_over_the_payload_limit_are_413_with_or_without_a_content_length() {
    let app = TestApp::start_with(|a| a.max_payload_bytes = "1024".into()).await;
    let pad = "a".repeat(2048);
    let webhook = json!({"url": "https://example.com/", "event_types": ["SessionStarted"],
                         "description": pad});
    let event = json!({"type": "SessionStarted", "data": {"session_id": pad, "agent_id": "a",
                       "started_at": "2026-11-26T16:58:01Z"}});
    for (path, body) in [("/api/v1/webhooks", webhook), ("/api/v1/events", event)] {
        let body = serde_json::to_vec(&body).unwrap();
        let got = send(&app, &format!("POST {path}"), &body).await;
        check(&got, "413 payload_too_large", "-", path);
        let chunked = post_chunked(&app, path, body).await;
        check(
            &chunked,
            "413 payload_too_large",
            "-",
            &format!("{path} chunked"),
        );
    }
    // A body of exactly the limit is accepted, with or without a Content-Length.
    let mut exact = json!({"type": "SessionStarted", "data": session_started()});
    let fill = 1024 - serde_json::to_vec(&exact).unwrap().len() - r#","pad":"""#.len();
    exact["data"]["pad"] = json!("p".repeat(fill));
    let exact = serde_json::to_vec(&exact).unwrap();
    assert_eq!(exact.len(), 1024);
    assert_eq!(send(&app, "POST /api/v1/events", &exact).await.0, 202);
    assert_eq!(post_chunked(&app, "/api/v1/events", exact).await.0, 202);
    let (webhooks, events) = snapshot(&app).await;
    assert_eq!((count(&webhooks), count(&events)), (0, 2));
    app.stop().await;
}

#[tokio::test]
async fn bodies_that_are_not_application_json_are_415() {
    let app = TestApp::start().await;
    let id = new_webhook(&app).await;
    let auth = format!("Bearer {API_KEY}");
    let before = snapshot(&app).await;
    let patch = format!("PATCH /api/v1/webhooks/{id}");
    let event = event_body();
    let routes = [
        ("POST /api/v1/webhooks", WEBHOOK.as_bytes()),
        (patch.as_str(), WEBHOOK.as_bytes()),
        ("POST /api/v1/events", event.as_slice()),
    ];
    for (route, body) in routes {
        let form = "application/x-www-form-urlencoded";
        for kind in [None, Some("text/plain"), Some(form), Some("json")] {
            let mut headers = vec![("authorization", auth.as_str())];
            headers.extend(kind.map(|c| ("content-type", c)));
            let got = raw(&app, route, &headers, body).await;
            let context = format!("{route} as {kind:?}");
            check(&got, "415 unsupported_media_type", "-", &context);
        }
    }
    assert_eq!(snapshot(&app).await, before);
    // Media type parameters and case do not matter.
    let json_utf8 = "Application/JSON; charset=utf-8";
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", json_utf8),
    ];
    let status = status_of(&app, "POST /api/v1/webhooks", &headers, WEBHOOK.as_bytes()).await;
    assert_eq!(status, 201);
    app.stop().await;
}

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
