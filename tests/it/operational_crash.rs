//! The real binary killed (SIGKILL) after a delivery gave up and while its `DeliveryExhausted`
//! announcement is in flight: after a restart the announcement is delivered, and it exists once.
//! On SQLite and on PostgreSQL.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::pg::PgDb;
use common::process::{Service, start_on};
use common::{Receiver, Reply, eventually, session_started};
use serde_json::{Value, json};

const KEY: &str = "sk_operational_crash_key_0123456789";

const ENV: [(&str, &str); 4] = [
    ("SPEAKNODE_API_KEY", KEY),
    ("SPEAKNODE_ALLOW_PRIVATE_TARGETS", "true"),
    // On PostgreSQL the killed process's lease must run out before the restart may retry.
    ("SPEAKNODE_DELIVERY_TIMEOUT", "2s"),
    ("SPEAKNODE_LEASE_MARGIN", "1s"),
];

async fn call(
    service: &Service,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Value {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let mut req = client
        .request(method, format!("{}{path}", service.base))
        .bearer_auth(KEY);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.unwrap();
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
    resp.json().await.unwrap()
}

async fn exhausted_events(service: &Service) -> Vec<Value> {
    let page = call(
        service,
        reqwest::Method::GET,
        "/api/v1/events?type=DeliveryExhausted",
        None,
    )
    .await;
    page["data"].as_array().unwrap().clone()
}

async fn an_announcement_in_flight_at_a_sigkill_is_delivered_once_after_restart(
    database_url: &str,
) {
    speaknode_webhooks::delivery::sender::install_crypto_provider();
    let failing = Receiver::start(vec![], Reply::Status(503)).await;
    // The announcement's first attempt never answers: the process is killed meanwhile.
    let watching = Receiver::start(vec![Reply::Hang], Reply::Status(200)).await;
    let mut first = start_on(database_url, &ENV);
    let post = reqwest::Method::POST;
    call(
        &first,
        post.clone(),
        "/api/v1/webhooks",
        Some(json!({"url": failing.url, "event_types": ["SessionStarted"], "retry_schedule": ""})),
    )
    .await;
    let watcher = call(
        &first,
        post.clone(),
        "/api/v1/webhooks",
        Some(json!({"url": watching.url, "event_types": ["DeliveryExhausted"]})),
    )
    .await;
    call(
        &first,
        post,
        "/api/v1/events",
        Some(json!({"type": "SessionStarted", "data": session_started()})),
    )
    .await;
    eventually("the announcement to be in flight", || async {
        !watching.received().is_empty()
    })
    .await;
    first.child.kill().unwrap(); // SIGKILL
    first.child.wait().unwrap();

    let mut second = start_on(database_url, &ENV);
    let events = exhausted_events(&second).await;
    assert_eq!(
        events.len(),
        1,
        "stored once, with the delivery's end: {events:?}"
    );
    let id = events[0]["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/events/{id}");
    eventually(
        "the announcement to be delivered after the restart",
        || async {
            let event = call(&second, reqwest::Method::GET, &path, None).await;
            event["deliveries"][0]["state"] == "succeeded"
        },
    )
    .await;
    let event = call(&second, reqwest::Method::GET, &path, None).await;
    assert_eq!(event["deliveries"].as_array().unwrap().len(), 1);
    assert_eq!(event["deliveries"][0]["webhook_id"], watcher["id"]);
    let ids: Vec<String> = watching
        .received()
        .iter()
        .map(|r| serde_json::from_slice::<Value>(&r.body).unwrap()["id"].to_string())
        .collect();
    assert_eq!(
        ids,
        vec![format!("{id:?}"), format!("{id:?}")],
        "the killed attempt, then the one that succeeded, both of the same event"
    );
    assert_eq!(exhausted_events(&second).await.len(), 1);
    second.child.kill().unwrap();
    second.child.wait().unwrap();
}

#[tokio::test]
async fn on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("crash.db").display());
    an_announcement_in_flight_at_a_sigkill_is_delivered_once_after_restart(&url).await;
}

#[tokio::test]
async fn on_postgres() {
    let Some(db) = PgDb::create().await else {
        return;
    };
    an_announcement_in_flight_at_a_sigkill_is_delivered_once_after_restart(&db.url).await;
    db.drop_database().await;
}
