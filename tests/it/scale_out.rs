//! Several `serve` processes sharing one PostgreSQL database: no double work, no lost work, and
//! riding out the database going away. Runs when `SPEAKNODE_TEST_DATABASE_URL` is set (CI sets it).

#![allow(clippy::unwrap_used)]

use crate::common;
use crate::visitor;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::HeaderMap;
use common::pg::PgDb;
use common::process::{Service, start_on};
use common::{eventually, session_started};
use futures::StreamExt;
use serde_json::json;
use sqlx::Row;

const KEY: &str = "sk_scale_out_test_key_0123456789";
const WEBHOOKS: usize = 5;
const EVENTS: usize = 2_000;

/// A receiver that notices when two requests of one delivery overlap in time.
#[derive(Default)]
struct Watch {
    in_flight: Mutex<HashSet<String>>,
    overlaps: Mutex<usize>,
    seen: Mutex<HashMap<String, usize>>,
}

struct InFlight {
    watch: Arc<Watch>,
    id: String,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.watch.in_flight.lock().unwrap().remove(&self.id);
    }
}

async fn start_watching_receiver() -> (String, Arc<Watch>) {
    let watch = Arc::new(Watch::default());
    let state = watch.clone();
    let app = Router::new().fallback(move |headers: HeaderMap| {
        let watch = state.clone();
        async move {
            let id = headers["x-speaknode-delivery"]
                .to_str()
                .unwrap()
                .to_string();
            if !watch.in_flight.lock().unwrap().insert(id.clone()) {
                *watch.overlaps.lock().unwrap() += 1;
            }
            *watch.seen.lock().unwrap().entry(id.clone()).or_default() += 1;
            // Leaves `in_flight` even when the handler is dropped midway: a killed process's
            // request is cut off, and its later retry by another process is no overlap.
            let _leaving = InFlight { watch, id };
            tokio::time::sleep(Duration::from_millis(2)).await;
            "ok"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, watch)
}

fn service_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("SPEAKNODE_API_KEY", KEY),
        ("SPEAKNODE_ALLOW_PRIVATE_TARGETS", "true"),
        // Generous, so that no attempt times out on our side while the receiver (in this loaded
        // test process) is still handling it: that would be a legitimate retry, not double work.
        ("SPEAKNODE_DELIVERY_TIMEOUT", "10s"),
        ("SPEAKNODE_LEASE_MARGIN", "2s"),
        ("SPEAKNODE_RETRY_SCHEDULE", "100ms,200ms,500ms,1s,1s,1s"),
        ("SPEAKNODE_DATABASE_MAX_CONNECTIONS", "8"),
    ]
}

async fn count(pool: &sqlx::PgPool, sql: &'static str) -> i64 {
    sqlx::query(sql)
        .fetch_one(pool)
        .await
        .unwrap()
        .get::<i64, _>(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_share_the_work_and_survive_one_being_killed() {
    let Some(db) = PgDb::create().await else {
        return;
    };
    speaknode_webhooks::delivery::sender::install_crypto_provider();
    let (receiver, watch) = start_watching_receiver().await;
    let env = service_env();
    let mut services: Vec<Service> = (0..3).map(|_| start_on(&db.url, &env)).collect();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    for _ in 0..WEBHOOKS {
        let body = json!({"url": receiver, "event_types": ["SessionStarted"]});
        let resp = client
            .post(format!("{}/api/v1/webhooks", services[0].base))
            .bearer_auth(KEY)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
    }

    // Events go through the two processes that survive; all three deliver.
    let apis = [services[1].base.clone(), services[2].base.clone()];
    let emitting = tokio::spawn({
        let client = client.clone();
        async move {
            futures::stream::iter(0..EVENTS)
                .map(|i| {
                    let (client, api) = (client.clone(), apis[i % 2].clone());
                    async move {
                        let body = json!({"type": "SessionStarted", "data": session_started()});
                        let resp = client
                            .post(format!("{api}/api/v1/events"))
                            .bearer_auth(KEY)
                            .json(&body)
                            .send()
                            .await
                            .unwrap();
                        assert_eq!(resp.status(), 202);
                    }
                })
                .buffer_unordered(16)
                .collect::<Vec<()>>()
                .await
        }
    });

    eventually("deliveries to be under way", || async {
        watch.seen.lock().unwrap().len() >= 1_500
    })
    .await;
    services[0].child.kill().unwrap();
    services[0].child.wait().unwrap();
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let leased_at_kill = count(
        &pool,
        "SELECT COUNT(*) FROM deliveries WHERE state = 'pending' AND lease_owner IS NOT NULL",
    )
    .await;
    emitting.await.unwrap();

    let expected = (EVENTS * WEBHOOKS) as i64;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(240);
    loop {
        let done = count(
            &pool,
            "SELECT COUNT(*) FROM deliveries WHERE state = 'succeeded'",
        )
        .await;
        if done == expected {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {done} of {expected} deliveries succeeded"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        count(&pool, "SELECT COUNT(*) FROM deliveries").await,
        expected,
        "nothing lost, nothing extra"
    );

    let seen = watch.seen.lock().unwrap().clone();
    let duplicates: usize = seen.values().map(|n| n - 1).sum();
    assert_eq!(
        seen.len() as i64,
        expected,
        "every delivery reached the receiver"
    );
    assert_eq!(
        *watch.overlaps.lock().unwrap(),
        0,
        "no delivery was attempted by two processes at once"
    );
    assert!(
        duplicates as i64 <= leased_at_kill,
        "{duplicates} duplicates, but only {leased_at_kill} deliveries were in flight at the kill"
    );
    println!(
        "{expected} deliveries, {duplicates} duplicates, {leased_at_kill} in flight at the kill"
    );
    for mut service in services.into_iter().skip(1) {
        service.child.kill().unwrap();
        service.child.wait().unwrap();
    }
    pool.close().await;
    db.drop_database().await;
}

#[tokio::test]
async fn the_service_rides_out_the_database_going_away_and_loses_nothing() {
    let Some(db) = PgDb::create().await else {
        return;
    };
    let mut url = url::Url::parse(&db.url).unwrap();
    let target = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
    let target = tokio::net::lookup_host(target)
        .await
        .unwrap()
        .next()
        .unwrap();
    let proxy = common::proxy::Proxy::start(target).await;
    url.set_port(Some(proxy.addr.port())).unwrap();
    let app = common::TestApp::start_with(|a| {
        a.database_url = url.to_string();
        a.retry_schedule = "100ms,200ms,500ms,1s,2s,2s,2s,2s".into();
        a.lease_margin = "1s".into();
    })
    .await;
    // Slow answers keep deliveries in flight when the database goes away.
    let receiver = common::Receiver::start(vec![], common::Reply::Slow(200)).await;
    app.create_webhook(&receiver.url, &["SessionStarted"]).await;
    let mut accepted = Vec::new();
    for _ in 0..20 {
        accepted.push(
            app.emit("SessionStarted", session_started()).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }

    proxy.cut();
    // Requests racing the cut may still be accepted (and must then be delivered); after that the
    // API answers 503 with the error body.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = app
            .post(
                "/api/v1/events",
                json!({"type": "SessionStarted", "data": session_started()}),
            )
            .await;
        match status.as_u16() {
            202 => accepted.push(body["id"].as_str().unwrap().to_string()),
            503 if body["error"]["code"] == "unavailable" => break,
            other => panic!("unexpected {other}: {body}"),
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the API never noticed the outage"
        );
    }
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 503);
    // Stay away long enough for attempts to finish and fail to be recorded; that is the point.
    tokio::time::sleep(Duration::from_secs(2)).await;

    proxy.restore();
    eventually("the service to recover by itself", || async {
        app.client
            .get(app.url("/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
    })
    .await;
    for _ in 0..20 {
        accepted.push(
            app.emit("SessionStarted", session_started()).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    eventually("every accepted event to reach the receiver", || async {
        let got: HashSet<String> = receiver
            .received()
            .iter()
            .map(|r| r.header("webhook-id").to_string())
            .collect();
        accepted.iter().all(|id| got.contains(id))
    })
    .await;
    for id in &accepted {
        let event = app.wait_for_event_settled(id).await;
        assert_eq!(event["deliveries"][0]["state"], "succeeded", "{event}");
    }
    app.stop().await;
    db.drop_database().await;
}

/// One registry that every process keeps current: a type registered through one process is
/// listed by the other's API and offered by its dashboard form at once, with no request on
/// the second process having named it first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_type_registered_through_one_process_is_offered_by_the_other_at_once() {
    let Some(db) = PgDb::create().await else {
        return;
    };
    const ADMIN: &str = "admin_token_for_the_registry_test_0123";
    speaknode_webhooks::delivery::sender::install_crypto_provider();
    let mut env = service_env();
    env.push(("SPEAKNODE_ADMIN_TOKEN", ADMIN));
    let mut services: Vec<Service> = (0..2).map(|_| start_on(&db.url, &env)).collect();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let (first, second) = (services[0].base.clone(), services[1].base.clone());
    // The second process has read the registry already (at start, and here).
    let listed = |base: String| {
        let client = client.clone();
        async move {
            let resp = client
                .get(format!("{base}/api/v1/event-types"))
                .bearer_auth(KEY)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200);
            let body: serde_json::Value = resp.json().await.unwrap();
            body["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["name"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert!(
        !listed(second.clone())
            .await
            .contains(&"CallTransferred".to_string())
    );
    let mut visitor = visitor::Visitor::new(&second);
    assert_eq!(visitor.sign_in(KEY).await.status, 303);
    assert!(
        !visitor
            .get("/webhooks/new")
            .await
            .body
            .contains("CallTransferred")
    );

    let definition = json!({"name": "CallTransferred", "description": "A call was handed to a person",
        "schema": {"type": "object"}, "example": {"queue": "billing"}});
    let resp = client
        .post(format!("{first}/api/v1/event-types"))
        .bearer_auth(ADMIN)
        .json(&definition)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);

    assert!(
        listed(second.clone())
            .await
            .contains(&"CallTransferred".to_string())
    );
    let form = visitor.get("/webhooks/new").await;
    assert_eq!(form.status, 200);
    assert!(
        form.body.contains(r#"value="CallTransferred""#),
        "the form offers the new type: {}",
        form.body
    );
    assert!(
        visitor
            .get("/event-types")
            .await
            .body
            .contains("A call was handed to a person")
    );
    for service in &mut services {
        service.child.kill().unwrap();
        service.child.wait().unwrap();
    }
    db.drop_database().await;
}
