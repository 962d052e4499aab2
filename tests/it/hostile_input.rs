//! Hostile input: a generated corpus of thousands of malformed or hostile requests against every
//! route of the API and the dashboard (garbage credentials, ids that name nothing, random and
//! deeply nested bodies, huge numbers, invalid UTF-8, NUL bytes, SQL in every string, oversize
//! headers and bodies, wrong content types, duplicate keys, path and protocol tricks) never gets
//! a 5xx or a panic, always gets the contract's error body from the API, and changes nothing
//! stored. SQL-looking strings that are valid input round-trip exactly and match nothing else.

#![allow(clippy::unwrap_used)]

use crate::common;
use crate::hostile;

use std::collections::BTreeMap;

use common::pg::PgDb;
use common::{API_KEY, Receiver, Reply, TestApp, session_started};
use hostile::corpus::{self, Case};
use hostile::values::SQL;
use hostile::{ADMIN_TOKEN, Answer, Fixture, exchange};
use serde_json::{Value, json};

/// The error code each status must carry.
fn code_for(status: u16) -> &'static [&'static str] {
    match status {
        400 => &["bad_request"],
        401 => &["unauthorized"],
        404 => &["not_found"],
        405 => &["method_not_allowed"],
        409 => &["conflict"],
        413 => &["payload_too_large"],
        415 => &["unsupported_media_type"],
        422 => &["validation_failed", "blocked_address"],
        _ => &[],
    }
}

/// What is wrong with this answer to this request, if anything.
fn judge(case: &Case, answer: Result<Option<Answer>, String>) -> Option<String> {
    let answer = match answer {
        Err(e) => return Some(e),
        Ok(None) if case.protocol => return None,
        Ok(None) => return Some("the connection closed without an answer".into()),
        Ok(Some(answer)) => answer,
    };
    if answer.status >= 500 {
        let body = String::from_utf8_lossy(&answer.body);
        return Some(format!("answered {}: {body}", answer.status));
    }
    if !case.api || answer.status < 400 {
        return None;
    }
    let body: Value = match serde_json::from_slice(&answer.body) {
        Ok(body) => body,
        Err(_) => {
            let body = String::from_utf8_lossy(&answer.body);
            return Some(format!("{} without a JSON body: {body:?}", answer.status));
        }
    };
    let code = body["error"]["code"].as_str().unwrap_or("");
    let message = body["error"]["message"].as_str().unwrap_or("");
    let json_type = answer.header("content-type") == Some("application/json");
    if !code_for(answer.status).contains(&code) || message.is_empty() || !json_type {
        return Some(format!(
            "{} with a body off the contract: {body}",
            answer.status
        ));
    }
    None
}

/// Sends the whole corpus to a service on this database and checks every answer, the panics,
/// the health check and what is stored.
async fn barrage(database_url: Option<&str>) {
    hostile::record_panics();
    let f = Fixture::start(database_url).await;
    let before = f.snapshot().await;
    let cases = corpus::build(&f);
    assert!(cases.len() > 1000, "{} cases", cases.len());

    let mut failures = Vec::new();
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for case in &cases {
        *kinds.entry(case.kind).or_default() += 1;
        if let Some(problem) = judge(case, exchange(&f.addr, case.request.clone()).await) {
            failures.push(format!("{}\n    -> {problem}", case.label()));
        }
    }
    println!("{} hostile requests: {kinds:#?}", cases.len());
    for failure in &failures {
        println!("FAILURE {failure}");
    }
    let shown: Vec<_> = failures.iter().take(40).collect();
    assert!(
        failures.is_empty(),
        "{} of {} requests failed:\n{shown:#?}",
        failures.len(),
        cases.len()
    );
    assert_eq!(
        hostile::panics(),
        Vec::<String>::new(),
        "panics in the service"
    );
    f.assert_healthy().await;
    assert_eq!(f.snapshot().await, before, "something stored changed");
    f.app.stop().await;
}

#[tokio::test]
async fn no_hostile_request_gets_a_5xx_or_a_panic_or_changes_anything_stored() {
    barrage(None).await;
}

#[tokio::test]
async fn on_postgresql_no_hostile_request_gets_a_5xx_or_a_panic_or_changes_anything_stored() {
    let Some(db) = PgDb::create().await else {
        return;
    };
    barrage(Some(&db.url)).await;
    db.drop_database().await;
}

async fn admin_post(app: &TestApp, path: &str, body: Value) -> (u16, Value) {
    let response = app
        .client
        .post(app.url(path))
        .bearer_auth(ADMIN_TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn admin_get(app: &TestApp, path: &str) -> Value {
    let response = app
        .client
        .get(app.url(path))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    response.json().await.unwrap()
}

fn encoded(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[tokio::test]
async fn sql_looking_strings_in_every_field_round_trip_exactly_and_match_nothing_else() {
    round_trip(None).await;
}

#[tokio::test]
async fn on_postgresql_sql_looking_strings_round_trip_exactly_and_match_nothing_else() {
    let Some(db) = PgDb::create().await else {
        return;
    };
    round_trip(Some(&db.url)).await;
    db.drop_database().await;
}

async fn round_trip(database_url: Option<&str>) {
    let app = hostile::start_app(database_url).await;
    let receiver = Receiver::ok().await;
    let mut emitted = Vec::new();
    for (i, sql) in SQL.iter().enumerate() {
        // Webhooks: the URL (normalized by the URL standard, so compared with the same parse)
        // and the description.
        let url = format!("{}?q={sql}#{sql}", receiver.url);
        let body = json!({"url": url, "description": sql, "event_types": ["SessionStarted"]});
        let (status, created) = app.post("/api/v1/webhooks", body).await;
        assert_eq!(status, 201, "{created}");
        let path = format!("/api/v1/webhooks/{}", created["id"].as_str().unwrap());
        let normalized = url::Url::parse(&url).unwrap().to_string();
        let read = app.get(&path).await.1;
        assert_eq!(
            (&read["url"], &read["description"]),
            (&json!(normalized), &json!(sql))
        );

        // Event data: keys and values at every depth, and the Idempotency-Key header.
        let mut data = session_started();
        data["agent_id"] = json!(sql);
        data["metadata"] = json!({*sql: sql, "nested": [sql, {"deeper": sql}]});
        data[*sql] = json!(sql);
        let raw = serde_json::to_string(&json!({"type": "SessionStarted", "data": data})).unwrap();
        let send = || {
            app.client
                .post(app.url("/api/v1/events"))
                .bearer_auth(API_KEY)
                .header("content-type", "application/json")
                .header("idempotency-key", format!("{sql} #{i}"))
                .body(raw.clone())
                .send()
        };
        let first: Value = send().await.unwrap().json().await.unwrap();
        let again: Value = send().await.unwrap().json().await.unwrap();
        assert_eq!(first["id"], again["id"], "the key {sql:?} did not replay");
        let event_path = format!("/api/v1/events/{}", first["id"].as_str().unwrap());
        assert_eq!(app.get(&event_path).await.1["data"], data);
        emitted.push((first["id"].clone(), serde_json::to_string(&data).unwrap()));

        // Workspaces and event types, through the admin routes.
        let (status, workspace) =
            admin_post(&app, "/api/v1/workspaces", json!({"name": sql})).await;
        assert_eq!((status, &workspace["name"]), (201, &json!(sql)));
        let name = format!("Drop.TABLE--events_{i}");
        let schema =
            json!({"type": "object", "properties": {*sql: {"type": "string", "description": sql}}});
        let def =
            json!({"name": name, "description": sql, "schema": schema, "example": {*sql: sql}});
        let (status, answer) = admin_post(&app, "/api/v1/event-types", def.clone()).await;
        assert_eq!(status, 201, "{answer}");
        let types = app.get("/api/v1/event-types").await.1;
        let listed = types["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == json!(name));
        assert_eq!(listed, Some(&def));
    }
    let workspaces = admin_get(&app, "/api/v1/workspaces?limit=100").await;
    let mut names: Vec<_> = workspaces["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["name"].clone())
        .collect();
    names.retain(|n| n != "Default");
    assert_eq!(names.len(), SQL.len());
    assert!(SQL.iter().all(|s| names.contains(&json!(s))));

    // Every delivery carries the data exactly as it was sent, byte for byte.
    for (id, _) in &emitted {
        app.wait_for_event_settled(id.as_str().unwrap()).await;
    }
    let bodies: Vec<String> = receiver
        .received()
        .iter()
        .map(|r| String::from_utf8(r.body.to_vec()).unwrap())
        .collect();
    for (id, data) in &emitted {
        let body = bodies
            .iter()
            .find(|b| b.contains(id.as_str().unwrap()))
            .unwrap();
        assert!(body.ends_with(&format!(r#""data":{data}}}"#)), "{body}");
    }

    // Injection in ids and filters matches nothing: not every row, not a pattern.
    let (_, events) = app.get("/api/v1/events?limit=100").await;
    assert_eq!(events["data"].as_array().unwrap().len(), SQL.len());
    let webhook = app.get("/api/v1/webhooks").await.1["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    for sql in SQL
        .iter()
        .chain(&["%", "_", "SessionStarted%", "_essionStarted", "*"])
    {
        let (status, list) = app
            .get(&format!("/api/v1/events?type={}", encoded(sql)))
            .await;
        assert_eq!(
            (status.as_u16(), &list["data"]),
            (200, &json!([])),
            "type={sql}"
        );
        let attempts = format!(
            "/api/v1/webhooks/{webhook}/attempts?event_type={}",
            encoded(sql)
        );
        let (status, list) = app.get(&attempts).await;
        assert_eq!(
            (status.as_u16(), &list["data"]),
            (200, &json!([])),
            "event_type={sql}"
        );
        for path in [
            "/api/v1/webhooks/",
            "/api/v1/events/",
            "/api/v1/webhooks/wh_",
        ] {
            let path = format!("{path}{}", encoded(sql).replace('+', "%20"));
            let (status, body) = app.get(&path).await;
            assert_eq!(
                (status.as_u16(), &body["error"]["code"]),
                (404, &json!("not_found")),
                "{path}"
            );
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn nul_is_refused_in_free_text_ids_and_filters_kept_in_event_data_and_replaced_in_answers() {
    nul_characters(None).await;
}

#[tokio::test]
async fn on_postgresql_nul_is_refused_in_free_text_ids_and_filters_kept_in_event_data() {
    let Some(db) = PgDb::create().await else {
        return;
    };
    nul_characters(Some(&db.url)).await;
    db.drop_database().await;
}

/// NUL (U+0000) cannot be stored in PostgreSQL's text, so every backend refuses it where it
/// would be stored as text (422) or looked up (404 for ids, 422 for filters); inside event data it
/// is JSON-escaped and round-trips exactly; in a receiver's answer it reads as U+FFFD, so the
/// attempt is recorded instead of the delivery being sent again and again.
async fn nul_characters(database_url: Option<&str>) {
    let app = hostile::start_app(database_url).await;
    let receiver = Receiver::start(vec![], Reply::Full(200, "ok\0bye", vec![])).await;
    let refused = |answer: (u16, Value), field: &str| {
        let wanted = (422, json!("validation_failed"), json!(field));
        let error = &answer.1["error"];
        assert_eq!(
            (answer.0, error["code"].clone(), error["field"].clone()),
            wanted,
            "{}",
            answer.1
        );
    };
    let body =
        json!({"url": receiver.url, "description": "a\0b", "event_types": ["SessionStarted"]});
    let (status, answer) = app.post("/api/v1/webhooks", body).await;
    refused((status.as_u16(), answer), "description");
    let webhook = app.create_webhook(&receiver.url, &["SessionStarted"]).await;
    let path = format!("/api/v1/webhooks/{}", webhook["id"].as_str().unwrap());
    let (status, answer) = app.patch(&path, json!({"description": "\0"})).await;
    refused((status.as_u16(), answer), "description");
    refused(
        admin_post(&app, "/api/v1/workspaces", json!({"name": "ws\0"})).await,
        "name",
    );
    let def = json!({"name": "Nul", "description": "\0", "schema": {}, "example": {}});
    refused(
        admin_post(&app, "/api/v1/event-types", def).await,
        "description",
    );
    let (status, answer) = app.get("/api/v1/events?type=%00").await;
    refused((status.as_u16(), answer), "type");
    let (status, answer) = app
        .get(&format!("{path}/attempts?event_type=Session%00"))
        .await;
    refused((status.as_u16(), answer), "event_type");
    for id in [
        format!("{path}%00"),
        format!("{path}%00/secret"),
        "/api/v1/events/evt_%00".into(),
    ] {
        let (status, answer) = app.get(&id).await;
        assert_eq!(
            (status.as_u16(), &answer["error"]["code"]),
            (404, &json!("not_found")),
            "{id}"
        );
    }
    let page = app
        .client
        .get(app.url(&format!("/webhooks/{}%00", webhook["id"].as_str().unwrap())));
    assert_eq!(page.send().await.unwrap().status(), 404);

    let mut data = session_started();
    data["agent_id"] = json!("nul \0 here");
    data["metadata"] = json!({"\0": ["\0", {"k\0": "\0\0"}]});
    let event = app.emit("SessionStarted", data.clone()).await;
    let event_id = event["id"].as_str().unwrap();
    app.wait_for_event_settled(event_id).await;
    assert_eq!(
        app.get(&format!("/api/v1/events/{event_id}")).await.1["data"],
        data
    );
    let attempts = app.attempts(webhook["id"].as_str().unwrap()).await;
    assert_eq!(
        (&attempts[0]["http_status"], &attempts[0]["response"]),
        (&json!(200), &json!("ok\u{FFFD}bye"))
    );
    let sent: Value = serde_json::from_slice(&receiver.received()[0].body).unwrap();
    assert_eq!(sent["data"], data);
    assert_eq!(
        app.get("/api/v1/webhooks").await.1["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let workspaces = admin_get(&app, "/api/v1/workspaces").await;
    assert_eq!(workspaces["data"].as_array().unwrap().len(), 1);
    app.stop().await;
}
