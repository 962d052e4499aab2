//! A client for the SpeakNode Webhooks API, for Rust platforms.
//!
//! [`SpeakNode::emit`] is the call that matters: it mints one `Idempotency-Key` per event and
//! sends it with every one of its own tries (429 after `Retry-After`, 502/503/504, connection
//! errors, timeouts; bounded, with backoff), so however many tries reach the service, one event
//! is stored. The other methods are the routes a platform scripts: webhooks, events, the Request
//! History and statistics.
//!
//! This crate is thin and typed over the routes rather than generated: the Rust generators read
//! OpenAPI 3.0 and the service serves 3.1. A test of the service checks that every route in
//! [`ROUTES`] is in the document it serves, and runs this client against the real service.
//!
//! ```no_run
//! # async fn run() -> Result<(), speaknode_client::Error> {
//! use serde_json::json;
//! use speaknode_client::SpeakNode;
//!
//! let sn = SpeakNode::new("http://127.0.0.1:8080", "sk_…")?;
//! let event = sn
//!     .emit("SessionStarted", &json!({"session_id": "sess_41aa", "agent_id": "agent_support_en",
//!                                     "started_at": "2026-11-26T16:58:01Z"}))
//!     .await?;
//! println!("{} will be delivered to {} webhooks", event.id, event.deliveries);
//! # Ok(()) }
//! ```

mod error;
mod retry;
mod types;

use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response, Url};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

pub use error::{Error, ErrorBody, ErrorDetail};
pub use retry::RetryPolicy;
pub use types::{
    Attempt, EventAccepted, EventSummary, NewWebhook, Page, Stats, StatsPoint, StatsTotals, Webhook,
};

/// Every route this crate calls, as `(method, path)` of the OpenAPI document.
pub const ROUTES: &[(&str, &str)] = &[
    ("post", "/api/v1/events"),
    ("get", "/api/v1/events"),
    ("post", "/api/v1/webhooks"),
    ("get", "/api/v1/webhooks"),
    ("get", "/api/v1/webhooks/{id}"),
    ("delete", "/api/v1/webhooks/{id}"),
    ("get", "/api/v1/webhooks/{id}/attempts"),
    ("get", "/api/v1/stats"),
];

/// A workspace's view of the API.
#[derive(Clone)]
pub struct SpeakNode {
    http: reqwest::Client,
    base: Url,
    key: String,
    retry: RetryPolicy,
}

impl std::fmt::Debug for SpeakNode {
    // The API key stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpeakNode")
            .field("base", &self.base)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl SpeakNode {
    /// A client for the service at `base_url` (`https://webhooks.example.com`) with a workspace
    /// API key; each request may take 10 s (see [`SpeakNode::with_timeout`]).
    pub fn new(base_url: &str, api_key: &str) -> Result<Self, Error> {
        Self::with_timeout(base_url, api_key, Duration::from_secs(10))
    }

    /// As [`SpeakNode::new`], with a limit for one request, connect to last byte.
    pub fn with_timeout(base_url: &str, api_key: &str, timeout: Duration) -> Result<Self, Error> {
        // reqwest's rustls is built without a default provider, as in the server; ring it is.
        // An application that installed another one first keeps it.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let base = Url::parse(base_url).map_err(|e| Error::BadUrl(format!("{base_url}: {e}")))?;
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(Error::Build)?;
        Ok(Self {
            http,
            base,
            key: api_key.to_string(),
            retry: RetryPolicy::default(),
        })
    }

    /// Replaces how `emit` retries.
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.request_with::<&str>(method, path, &[])
    }

    /// A request to `path` under the base URL (which may have a path of its own, behind a
    /// proxy), with `query` percent-encoded.
    fn request_with<Q: AsRef<str>>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, Q)],
    ) -> RequestBuilder {
        let mut url = self.base.clone();
        url.set_path(&format!("{}{path}", self.base.path().trim_end_matches('/')));
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (k, v.as_ref())));
        }
        self.http.request(method, url).bearer_auth(&self.key)
    }

    /// Emits one event with a key of its own; see the crate's overview.
    pub async fn emit(&self, event_type: &str, data: &Value) -> Result<EventAccepted, Error> {
        self.emit_with_key(event_type, data, &retry::new_key())
            .await
    }

    /// Emits one event with your key (1 to 255 visible ASCII characters): to try again later,
    /// even from another process, with the key a failed emit handed back.
    pub async fn emit_with_key(
        &self,
        event_type: &str,
        data: &Value,
        key: &str,
    ) -> Result<EventAccepted, Error> {
        // Serialised once: every try sends the same bytes, as the service requires of a repeat.
        let body = serde_json::to_vec(&json!({"type": event_type, "data": data}))
            .unwrap_or_else(|_| unreachable!("a JSON value always serialises"));
        let send = || {
            self.request(Method::POST, "/api/v1/events")
                .header("content-type", "application/json")
                .header("idempotency-key", key)
                .body(body.clone())
                .send()
        };
        let response = self.retry.run(send).await.map_err(|e| e.with_key(key))?;
        response.json().await.map_err(Error::Decode)
    }

    /// Creates a webhook; the answer holds its `secret`.
    pub async fn create_webhook(&self, webhook: &NewWebhook) -> Result<Webhook, Error> {
        read(self.request(Method::POST, "/api/v1/webhooks").json(webhook)).await
    }

    /// One page of webhooks (`limit` 1 to 100).
    pub async fn list_webhooks(
        &self,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page<Webhook>, Error> {
        let query = page_query(limit, cursor);
        read(self.request_with(Method::GET, "/api/v1/webhooks", &query)).await
    }

    /// A webhook by id.
    pub async fn get_webhook(&self, id: &str) -> Result<Webhook, Error> {
        read(self.request(Method::GET, &format!("/api/v1/webhooks/{}", segment(id)))).await
    }

    /// Deletes a webhook; its pending deliveries are cancelled and its history removed.
    pub async fn delete_webhook(&self, id: &str) -> Result<(), Error> {
        let path = format!("/api/v1/webhooks/{}", segment(id));
        checked(self.request(Method::DELETE, &path).send().await).await?;
        Ok(())
    }

    /// One page of events, newest first; `filters` are the route's query parameters
    /// (`("type", "SessionStarted")`, `("data.session_id", "sess_41aa")`, …).
    pub async fn list_events(&self, filters: &[(&str, &str)]) -> Result<Page<EventSummary>, Error> {
        read(self.request_with(Method::GET, "/api/v1/events", filters)).await
    }

    /// One page of a webhook's Request History, newest first; `filters` as the route takes them
    /// (`("status", "failed")`, `("limit", "100")`, …).
    pub async fn list_attempts(
        &self,
        webhook_id: &str,
        filters: &[(&str, &str)],
    ) -> Result<Page<Attempt>, Error> {
        let path = format!("/api/v1/webhooks/{}/attempts", segment(webhook_id));
        read(self.request_with(Method::GET, &path, filters)).await
    }

    /// Attempt counts (`since`, `until`, `webhook_id`, `bucket` as the route takes them).
    pub async fn stats(&self, filters: &[(&str, &str)]) -> Result<Stats, Error> {
        read(self.request_with(Method::GET, "/api/v1/stats", filters)).await
    }
}

fn page_query(limit: u32, cursor: Option<&str>) -> Vec<(&str, String)> {
    let mut query = vec![("limit", limit.to_string())];
    if let Some(c) = cursor {
        query.push(("cursor", c.to_owned()));
    }
    query
}

/// An id as one path segment: ids are `[A-Za-z0-9_]`, but a caller's typo must not reach
/// another route.
fn segment(id: &str) -> String {
    id.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' => char::from(b).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

async fn read<T: DeserializeOwned>(request: RequestBuilder) -> Result<T, Error> {
    let response = checked(request.send().await).await?;
    response.json().await.map_err(Error::Decode)
}

/// The response if it is a success, else the contract's error it carries.
async fn checked(sent: Result<Response, reqwest::Error>) -> Result<Response, Error> {
    let response = sent.map_err(|source| Error::Connection {
        source,
        idempotency_key: None,
    })?;
    if response.status().is_success() {
        Ok(response)
    } else {
        Err(retry::api_error(response).await)
    }
}
