//! Bad input that never reaches validation: malformed or mistyped JSON (400), missing or wrong
//! keys (401), unknown routes and methods (404, 405), oversized bodies (413) and other media
//! types (415) — each with the contract's error body, changing nothing stored. Cases are text
//! tables: one request per line, the expected field (or `-`) first.

#![allow(clippy::unwrap_used)]

use crate::common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use common::bad_input::*;
use common::{API_KEY, TestApp, session_started};
use reqwest::StatusCode;
use serde_json::{Value, json};

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
