//! "One webhook never waits for another": however many other webhooks (of any workspace) answer
//! slowly, time out, refuse connections or fail, and however large their backlog, a webhook whose
//! endpoint answers promptly gets each delivery within a second of the 202. On SQLite, and on
//! PostgreSQL with two `serve` processes sharing the database.

#![allow(clippy::unwrap_used)]

use crate::common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::HeaderMap;
use common::pg::PgDb;
use common::{Receiver, Reply, TestApp, eventually, session_started};
use futures::StreamExt;
use serde_json::{Value, json};

const KEY: &str = "sk_test_integration_key_0123456789";
const ADMIN: &str = "admin_token_for_the_fairness_tests_0123";
/// The contract's bound, generous for a loaded test machine.
const PROMPTLY: Duration = Duration::from_secs(1);
const PROMPT_EVENTS: usize = 20;

/// When each event reached the prompt receiver, by event id.
type Arrivals = Arc<Mutex<HashMap<String, Instant>>>;

async fn prompt_receiver() -> (String, Arrivals) {
    let arrivals: Arrivals = Arc::default();
    let seen = arrivals.clone();
    let app = Router::new().fallback(move |headers: HeaderMap| {
        let seen = seen.clone();
        async move {
            let event = headers["webhook-id"].to_str().unwrap().to_string();
            seen.lock()
                .unwrap()
                .entry(event)
                .or_insert_with(Instant::now);
            "ok"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, arrivals)
}

/// A URL on which nothing listens: every attempt is refused.
async fn refusing_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    drop(listener);
    url
}

struct Api {
    client: reqwest::Client,
    bases: Vec<String>,
}

impl Api {
    async fn post(&self, i: usize, path: &str, key: &str, body: Value) -> Value {
        let base = &self.bases[i % self.bases.len()];
        let resp = self
            .client
            .post(format!("{base}{path}"))
            .bearer_auth(key)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        resp.json().await.unwrap()
    }

    async fn webhook(&self, key: &str, url: &str) {
        let body = json!({"url": url, "event_types": ["SessionStarted"]});
        self.post(0, "/api/v1/webhooks", key, body).await;
    }

    async fn emit(&self, i: usize, key: &str) -> String {
        let body = json!({"type": "SessionStarted", "data": session_started()});
        let event = self.post(i, "/api/v1/events", key, body).await;
        event["id"].as_str().unwrap().to_string()
    }
}

/// Gives the default workspace's `neighbours` a backlog of `backlog` events each, then sends
/// the prompt webhook of another workspace an event every 50 ms, and checks each one arrives
/// within [`PROMPTLY`] of its 202.
async fn a_prompt_webhook_is_not_held_up_by(api: &Api, neighbours: &[String], backlog: usize) {
    for url in neighbours {
        api.webhook(KEY, url).await;
    }
    futures::stream::iter(0..backlog)
        .map(|i| api.emit(i, KEY))
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;

    let workspace = api
        .post(0, "/api/v1/workspaces", ADMIN, json!({"name": "Prompt"}))
        .await;
    let prompt_key = workspace["api_key"].as_str().unwrap().to_string();
    let (url, arrivals) = prompt_receiver().await;
    api.webhook(&prompt_key, &url).await;
    let mut accepted = Vec::new();
    for i in 0..PROMPT_EVENTS {
        let id = api.emit(i, &prompt_key).await;
        accepted.push((id, Instant::now()));
        // The steady 20 events/s of a live customer is the behaviour under test, not a wait.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eventually("every prompt delivery to arrive", || async {
        arrivals.lock().unwrap().len() == PROMPT_EVENTS
    })
    .await;
    let arrivals = arrivals.lock().unwrap();
    let late: Vec<String> = accepted
        .iter()
        .map(|(id, at)| (id, arrivals[id].saturating_duration_since(*at)))
        .filter(|(_, waited)| *waited > PROMPTLY)
        .map(|(id, waited)| format!("{id} after {waited:?}"))
        .collect();
    assert!(late.is_empty(), "prompt deliveries held up: {late:?}");
}

async fn sqlite_app(timeout: &str) -> TestApp {
    let timeout = timeout.to_string();
    TestApp::start_with(move |a| {
        a.admin_token = Some(ADMIN.into());
        a.delivery_timeout = timeout;
        a.retry_schedule = "1s,1s,1s".into();
    })
    .await
}

fn api_of(bases: Vec<String>) -> Api {
    Api {
        client: reqwest::Client::builder().no_proxy().build().unwrap(),
        bases,
    }
}

async fn slow_neighbours(n: usize, reply: Reply) -> (Receiver, Vec<String>) {
    let receiver = Receiver::start(vec![], reply).await;
    let urls = (0..n).map(|i| format!("{}/{i}", receiver.url)).collect();
    (receiver, urls)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_slow_webhooks_with_a_backlog_never_delay_a_prompt_one_on_sqlite() {
    let app = sqlite_app("5s").await;
    let (_slow, urls) = slow_neighbours(10, Reply::Slow(2_000)).await;
    a_prompt_webhook_is_not_held_up_by(&api_of(vec![app.base.clone()]), &urls, 100).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hanging_refusing_and_failing_webhooks_never_delay_a_prompt_one_on_sqlite() {
    let app = sqlite_app("2s").await;
    let (_hanging, mut urls) = slow_neighbours(10, Reply::Hang).await;
    let (_failing, failing) = slow_neighbours(3, Reply::Status(500)).await;
    urls.extend(failing);
    for _ in 0..3 {
        urls.push(refusing_url().await);
    }
    a_prompt_webhook_is_not_held_up_by(&api_of(vec![app.base.clone()]), &urls, 100).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_webhooks_never_delay_a_prompt_one_on_two_postgresql_processes() {
    let Some(db) = PgDb::create().await else {
        return;
    };
    let env = [
        ("SPEAKNODE_API_KEY", KEY),
        ("SPEAKNODE_ADMIN_TOKEN", ADMIN),
        ("SPEAKNODE_ALLOW_PRIVATE_TARGETS", "true"),
        ("SPEAKNODE_RETRY_SCHEDULE", "1s,1s,1s"),
        ("SPEAKNODE_DATABASE_MAX_CONNECTIONS", "8"),
    ];
    let mut first = common::process::start_on(&db.url, &env);
    let mut second = common::process::start_on(&db.url, &env);
    let (_slow, mut urls) = slow_neighbours(8, Reply::Slow(2_000)).await;
    let (_hanging, hanging) = slow_neighbours(4, Reply::Hang).await;
    urls.extend(hanging);
    let api = api_of(vec![first.base.clone(), second.base.clone()]);
    a_prompt_webhook_is_not_held_up_by(&api, &urls, 100).await;
    first.child.kill().unwrap();
    second.child.kill().unwrap();
    let _ = (first.child.wait(), second.child.wait());
    db.drop_database().await;
}
