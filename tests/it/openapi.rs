//! The OpenAPI document at `/api/v1/openapi.json`, on the real service: it passes an independent
//! validator (Python's `openapi-spec-validator`, see `common::python`), states what the contract
//! fixes, and describes what the service really answers. `/docs` is tested in `tests/it/docs_page.rs`.
//!
//! That every registered route is in the document is checked where the route table is
//! (`src/http/openapi.rs`).

#![allow(clippy::unwrap_used)]

use crate::common;

use common::{TestApp, openapi_document as document, session_started};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Runs `python -m openapi_spec_validator` on the document; answers its verdict and its output,
/// or `None` when the Python tests are skipped by name.
fn validate(document: &Value) -> Option<(bool, String)> {
    let mut python = common::python::python(&["openapi_spec_validator"])?;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, serde_json::to_vec_pretty(document).unwrap()).unwrap();
    let output = python
        .args(["-m", "openapi_spec_validator", "--schema", "3.1"])
        .arg(&file)
        .output()
        .unwrap();
    let mut said = String::from_utf8_lossy(&output.stdout).into_owned();
    said.push_str(&String::from_utf8_lossy(&output.stderr));
    // The validator quotes the whole document on some errors; the start says what is wrong.
    let said: String = said.chars().take(3000).collect();
    Some((output.status.success(), said))
}

#[tokio::test]
async fn the_openapi_document_passes_an_independent_validator() {
    let app = TestApp::start().await;
    let Some((valid, said)) = validate(&document(&app).await) else {
        return;
    };
    assert!(
        valid,
        "openapi-spec-validator refused the document:\n{said}"
    );
}

#[tokio::test]
async fn the_validator_refuses_a_document_with_a_dangling_reference() {
    // Proves the validator above checks something: a schema the document refers to goes missing.
    let app = TestApp::start().await;
    let mut broken = document(&app).await;
    broken["components"]["schemas"]
        .as_object_mut()
        .unwrap()
        .remove("Webhook");
    let Some((valid, said)) = validate(&broken) else {
        return;
    };
    assert!(!valid, "the validator accepted a dangling $ref:\n{said}");
    assert!(said.contains("Webhook"), "{said}");
}

/// Follows a local `$ref` (`#/components/...`) if `value` is one.
fn resolve<'d>(doc: &'d Value, value: &'d Value) -> &'d Value {
    match value["$ref"].as_str() {
        Some(r) => doc.pointer(r.trim_start_matches('#')).unwrap(),
        None => value,
    }
}

fn operation<'d>(doc: &'d Value, method: &str, path: &str) -> &'d Value {
    let op = &doc["paths"][path][method];
    assert!(op.is_object(), "{method} {path} is not in the document");
    op
}

/// The JSON schema of an operation's answer with this status.
fn answer_schema<'d>(doc: &'d Value, method: &str, path: &str, status: &str) -> &'d Value {
    let response = &operation(doc, method, path)["responses"][status];
    assert!(
        response.is_object(),
        "{method} {path} does not list {status}"
    );
    &resolve(doc, response)["content"]["application/json"]["schema"]
}

#[tokio::test]
async fn the_document_states_what_the_contract_fixes() {
    let app = TestApp::start().await;
    let doc = document(&app).await;
    assert_eq!(doc["openapi"], "3.1.0");

    let emit = operation(&doc, "post", "/api/v1/events");
    for status in ["202", "400", "401", "409", "413", "415", "422", "503"] {
        assert!(
            emit["responses"][status].is_object(),
            "POST /events {status}"
        );
    }
    let error = resolve(&doc, answer_schema(&doc, "post", "/api/v1/events", "422"));
    let detail = resolve(&doc, &error["properties"]["error"]);
    assert_eq!(detail["required"], json!(["code", "message"]));
    assert!(detail["properties"]["field"].is_object());
    let codes = &resolve(&doc, &detail["properties"]["code"])["enum"];
    for code in [
        "bad_request",
        "unauthorized",
        "not_found",
        "conflict",
        "payload_too_large",
        "unsupported_media_type",
        "validation_failed",
        "blocked_address",
    ] {
        assert!(codes.as_array().unwrap().contains(&json!(code)), "{code}");
    }

    for scheme in ["api_key", "admin_token"] {
        let scheme = &doc["components"]["securitySchemes"][scheme];
        assert_eq!(
            (&scheme["type"], &scheme["scheme"]),
            (&json!("http"), &json!("bearer"))
        );
    }
    let create = operation(&doc, "post", "/api/v1/webhooks");
    let body = resolve(
        &doc,
        &create["requestBody"]["content"]["application/json"]["schema"],
    );
    assert_eq!(body["required"], json!(["url", "event_types"]));
    let list = operation(&doc, "get", "/api/v1/webhooks");
    let params: Vec<&Value> = list["parameters"].as_array().unwrap().iter().collect();
    let limit = params.iter().find(|p| p["name"] == "limit").unwrap();
    assert_eq!(
        (&limit["schema"]["minimum"], &limit["schema"]["maximum"]),
        (&json!(1), &json!(100))
    );
    assert!(params.iter().any(|p| p["name"] == "cursor"));
    assert!(operation(&doc, "get", "/healthz")["responses"]["503"].is_object());
    let metrics = &operation(&doc, "get", "/metrics")["responses"]["200"]["content"];
    assert!(
        metrics
            .as_object()
            .unwrap()
            .keys()
            .all(|t| t.starts_with("application/openmetrics-text"))
    );
    assert!(
        operation(&doc, "get", "/docs")["responses"]["200"]["content"]["text/html"].is_object()
    );
}

/// Rules every operation follows, so a new route cannot be described carelessly.
#[tokio::test]
async fn every_operation_declares_its_auth_its_path_parameters_and_its_errors() {
    let app = TestApp::start().await;
    let doc = document(&app).await;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let route = format!("{} {path}", method.to_uppercase());
            let has = |status: &str| op["responses"][status].is_object();
            let security = op["security"].to_string();
            let public = ["/healthz", "/metrics", "/docs", "/api/v1/openapi.json"];
            if public.contains(&path.as_str()) {
                assert!(op["security"].is_null(), "{route} needs no key");
            } else {
                let admin = path.starts_with("/api/v1/workspaces")
                    || (method == "post" && path == "/api/v1/event-types");
                let scheme = if admin { "admin_token" } else { "api_key" };
                assert!(security.contains(scheme), "{route}: {security}");
                assert!(has("401") && has("503"), "{route} lists 401 and 503");
            }
            for name in path
                .split('{')
                .skip(1)
                .map(|s| s.split('}').next().unwrap())
            {
                let declared = op["parameters"].as_array().into_iter().flatten();
                let declared = declared
                    .clone()
                    .any(|p| p["name"] == name && p["in"] == "path");
                assert!(declared, "{route} declares its path parameter {name}");
            }
            if op["requestBody"].is_object() {
                for status in ["400", "413", "415"] {
                    assert!(has(status), "{route} takes a body, so lists {status}");
                }
                // A portal link's body is one optional boolean: a wrong type is a 400, and no
                // value of it can be refused with a 422.
                let one_flag = path.ends_with("/portal/sessions");
                assert_eq!(
                    has("422"),
                    !one_flag,
                    "{route} lists 422 iff it can answer it"
                );
            }
            assert!(
                op["summary"].as_str().is_some_and(|s| !s.contains('\n')),
                "{route}"
            );
        }
    }
}

/// A validator for the schema `schema` of the document, strict about fields: an object schema
/// that lists its properties allows no others, so an undocumented field in an answer fails.
fn strict_validator(doc: &Value, schema: &Value) -> jsonschema::Validator {
    fn close_objects(value: &mut Value) {
        match value {
            Value::Object(map) => {
                if map.get("properties").is_some_and(Value::is_object) {
                    map.entry("additionalProperties").or_insert(json!(false));
                }
                map.values_mut().for_each(close_objects);
            }
            Value::Array(items) => items.iter_mut().for_each(close_objects),
            _ => {}
        }
    }
    let mut components = doc["components"].clone();
    close_objects(&mut components);
    let root = json!({"allOf": [schema], "components": components});
    jsonschema::options()
        .should_validate_formats(true)
        .build(&root)
        .unwrap()
}

/// Asserts that the document lists this answer for the operation and that the body fits it.
fn assert_described(doc: &Value, route: &str, (status, body): &(StatusCode, Value)) {
    let (method, path) = route.split_once(' ').unwrap();
    let schema = answer_schema(doc, &method.to_lowercase(), path, status.as_str());
    if schema.is_null() {
        assert!(
            body.is_null(),
            "{route} {status}: no body is described, got {body}"
        );
        return;
    }
    let validator = strict_validator(doc, schema);
    let errors: Vec<String> = validator.iter_errors(body).map(|e| e.to_string()).collect();
    assert!(
        errors.is_empty(),
        "{route} {status} {body}\ndoes not fit: {errors:?}"
    );
}

#[tokio::test]
async fn real_answers_fit_the_schemas_the_document_gives_them() {
    const ADMIN: &str = "admin-token-for-the-openapi-test";
    let receiver = common::Receiver::ok().await;
    let app = TestApp::start_with(|args| args.admin_token = Some(ADMIN.into())).await;
    let doc = document(&app).await;

    let created = app
        .post(
            "/api/v1/webhooks",
            json!({"url": receiver.url, "event_types": ["SessionStarted"]}),
        )
        .await;
    assert_described(&doc, "POST /api/v1/webhooks", &created);
    let id = created.1["id"].as_str().unwrap().to_string();
    let webhook = format!("/api/v1/webhooks/{id}");
    let emitted = app
        .post(
            "/api/v1/events",
            json!({"type": "SessionStarted", "data": session_started()}),
        )
        .await;
    assert_described(&doc, "POST /api/v1/events", &emitted);
    let event_id = emitted.1["id"].as_str().unwrap();
    app.wait_for_event_settled(event_id).await;
    let sent = app
        .post(
            &format!("{webhook}/test"),
            json!({"event_type": "ConversationComplete"}),
        )
        .await;
    assert_described(&doc, "POST /api/v1/webhooks/{id}/test", &sent);
    let attempt = format!("{webhook}/attempts/{}", sent.1["id"].as_str().unwrap());

    let reads = [
        ("GET /api/v1/webhooks", app.get("/api/v1/webhooks").await),
        ("GET /api/v1/webhooks/{id}", app.get(&webhook).await),
        (
            "GET /api/v1/webhooks/{id}/secret",
            app.get(&format!("{webhook}/secret")).await,
        ),
        (
            "GET /api/v1/webhooks/{id}/attempts",
            app.get(&format!("{webhook}/attempts")).await,
        ),
        (
            "GET /api/v1/webhooks/{id}/attempts/{attempt_id}",
            app.get(&attempt).await,
        ),
        ("GET /api/v1/events", app.get("/api/v1/events").await),
        (
            "GET /api/v1/events/{id}",
            app.get(&format!("/api/v1/events/{event_id}")).await,
        ),
        (
            "GET /api/v1/event-types",
            app.get("/api/v1/event-types").await,
        ),
        ("GET /healthz", app.get("/healthz").await),
    ];
    for (route, answer) in &reads {
        assert_eq!(answer.0, 200, "{route} {}", answer.1);
        assert_described(&doc, route, answer);
    }
    let writes = [
        (
            "POST /api/v1/webhooks/{id}/attempts/{attempt_id}/retry",
            app.post(&format!("{attempt}/retry"), json!({})).await,
        ),
        (
            "POST /api/v1/webhooks/{id}/recover",
            app.post(
                &format!("{webhook}/recover"),
                json!({"since": "2026-01-01T00:00:00Z"}),
            )
            .await,
        ),
        (
            "POST /api/v1/webhooks/{id}/secret/rotate",
            app.post(&format!("{webhook}/secret/rotate"), json!({}))
                .await,
        ),
        (
            "PATCH /api/v1/webhooks/{id}",
            app.patch(&webhook, json!({"enabled": false})).await,
        ),
        // Errors: each in the error schema, with a status the document lists for the route.
        (
            "POST /api/v1/webhooks",
            app.post("/api/v1/webhooks", json!({"event_types": []}))
                .await,
        ),
        (
            "PATCH /api/v1/webhooks/{id}",
            app.patch(&webhook, json!({"colour": 1})).await,
        ),
        (
            "GET /api/v1/events/{id}",
            app.get("/api/v1/events/evt_missing").await,
        ),
        (
            "GET /api/v1/webhooks",
            app.get("/api/v1/webhooks?limit=0").await,
        ),
        (
            "DELETE /api/v1/webhooks/{id}",
            app.request(reqwest::Method::DELETE, &webhook, None).await,
        ),
        (
            "POST /api/v1/workspaces",
            app.post("/api/v1/workspaces", json!({"name": "x"})).await,
        ),
    ];
    for (route, answer) in &writes {
        assert_described(&doc, route, answer);
    }

    let admin = |method, path: &str| app.client.request(method, app.url(path)).bearer_auth(ADMIN);
    let workspace = admin(reqwest::Method::POST, "/api/v1/workspaces")
        .json(&json!({"name": "Acme"}))
        .send()
        .await
        .unwrap();
    let workspace = (workspace.status(), workspace.json::<Value>().await.unwrap());
    assert_described(&doc, "POST /api/v1/workspaces", &workspace);
    let keys = format!(
        "/api/v1/workspaces/{}/api-keys",
        workspace.1["id"].as_str().unwrap()
    );
    let key = admin(reqwest::Method::POST, &keys).send().await.unwrap();
    let key = (key.status(), key.json::<Value>().await.unwrap());
    assert_described(&doc, "POST /api/v1/workspaces/{id}/api-keys", &key);
    let listed = admin(reqwest::Method::GET, "/api/v1/workspaces")
        .send()
        .await
        .unwrap();
    let listed = (listed.status(), listed.json::<Value>().await.unwrap());
    assert_described(&doc, "GET /api/v1/workspaces", &listed);
}
