//! The test harness: the real service on 127.0.0.1:0 with a real SQLite file, a scriptable
//! receiver on a real socket, and polling with a deadline instead of sleeping.

#![allow(dead_code, clippy::unwrap_used)]

pub mod bad_input;
pub mod child;
pub mod forward_proxy;
pub mod pg;
pub mod process;
pub mod proxy;
pub mod python;
pub mod receiver;
pub mod signed;

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use speaknode_webhooks::config::{Config, ServeArgs};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

#[allow(unused_imports)]
pub use receiver::{Receiver, Reply};

pub const API_KEY: &str = "sk_test_integration_key_0123456789";

/// A running service.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub db_path: PathBuf,
    shutdown: CancellationToken,
    task: Option<JoinHandle<anyhow::Result<()>>>,
    _dir: Option<tempfile::TempDir>,
}

/// Settings for tests: private targets allowed (receivers are on loopback), quick retries.
pub fn test_args(db_path: &std::path::Path) -> ServeArgs {
    let mut args = ServeArgs::defaults();
    args.database_url = format!("sqlite://{}", db_path.display());
    args.api_key = Some(API_KEY.into());
    args.allow_private_targets = "true".into();
    args.retry_schedule = "50ms,50ms".into();
    args.delivery_timeout = "2s".into();
    args
}

impl TestApp {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut ServeArgs)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db_path = dir.path().join("speaknode.db");
        let mut app = Self::start_on(&db_path, adjust).await;
        app._dir = Some(dir);
        app
    }

    /// Starts a service on an existing database file (for restarts).
    pub async fn start_on(db_path: &std::path::Path, adjust: impl FnOnce(&mut ServeArgs)) -> Self {
        let mut args = test_args(db_path);
        adjust(&mut args);
        let config = Config::from_args(&args).unwrap();
        speaknode_webhooks::delivery::sender::install_crypto_provider();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(speaknode_webhooks::app::serve(
            config,
            listener,
            shutdown.clone(),
        ));
        let app = Self {
            base,
            client: reqwest::Client::builder().no_proxy().build().unwrap(),
            db_path: db_path.to_path_buf(),
            shutdown,
            task: Some(task),
            _dir: None,
        };
        let health = format!("{}/healthz", app.base);
        eventually("the service to answer /healthz", || async {
            app.client
                .get(&health)
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
        })
        .await;
        app
    }

    /// Stops the service gracefully and waits for it; keeps the database directory alive.
    pub async fn stop(mut self) -> Option<tempfile::TempDir> {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
        self._dir.take()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .request(method, self.url(path))
            .bearer_auth(API_KEY);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        };
        (status, value)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.request(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.request(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.request(Method::PATCH, path, Some(body)).await
    }

    pub async fn create_webhook(&self, url: &str, event_types: &[&str]) -> Value {
        let (status, body) = self
            .post(
                "/api/v1/webhooks",
                json!({"url": url, "event_types": event_types}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body
    }

    pub async fn emit(&self, event_type: &str, data: Value) -> Value {
        let (status, body) = self
            .post("/api/v1/events", json!({"type": event_type, "data": data}))
            .await;
        assert_eq!(status, 202, "{body}");
        body
    }

    pub async fn attempts(&self, webhook_id: &str) -> Vec<Value> {
        let (status, body) = self
            .get(&format!("/api/v1/webhooks/{webhook_id}/attempts?limit=100"))
            .await;
        assert_eq!(status, 200, "{body}");
        body["data"].as_array().unwrap().clone()
    }

    /// Waits until the webhook's Request History holds `n` attempts, and returns them.
    pub async fn wait_for_attempts(&self, webhook_id: &str, n: usize) -> Vec<Value> {
        eventually(&format!("{n} attempts on {webhook_id}"), || async {
            self.attempts(webhook_id).await.len() >= n
        })
        .await;
        self.attempts(webhook_id).await
    }

    /// Waits until every delivery of the event has left `pending`, and returns the event.
    pub async fn wait_for_event_settled(&self, event_id: &str) -> Value {
        let path = format!("/api/v1/events/{event_id}");
        eventually(&format!("event {event_id} to settle"), || async {
            let (_, event) = self.get(&path).await;
            event["deliveries"]
                .as_array()
                .unwrap()
                .iter()
                .all(|d| d["state"] != "pending")
        })
        .await;
        self.get(&path).await.1
    }
}

/// Fetches the OpenAPI document as any client would, with no key, and checks its content type.
pub async fn openapi_document(app: &TestApp) -> Value {
    let response = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    response.json().await.unwrap()
}

/// Polls `check` until it holds, failing the test after a generous deadline.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if check().await {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub fn session_started() -> Value {
    json!({"session_id": "sess_41aa", "agent_id": "agent_support_en", "started_at": "2026-11-26T16:58:01Z",
           "metadata": {"channel": "phone"}})
}

pub fn conversation_complete() -> Value {
    json!({"conversation_id": "conv_8f2c", "session_id": "sess_41aa", "agent_id": "agent_support_en",
           "started_at": "2026-11-26T16:58:01Z", "ended_at": "2026-11-26T17:03:44Z",
           "transcript": [{"role": "agent", "text": "Hi, how can I help?", "start_ms": 0, "end_ms": 2300},
                          {"role": "user", "text": "Change my address, please.", "start_ms": 2900, "end_ms": 5100}]})
}
