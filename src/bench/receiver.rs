//! The benchmark's receiver: answers 200 at once, records when each delivery arrived, counts
//! duplicates, and checks the signature of every 50th request with an independent HMAC.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::post;
use hmac::{Hmac, Mac};
use sha2::Sha256;

const CHECK_EVERY: u64 = 50;

#[derive(Default)]
pub struct Inner {
    secrets: Mutex<HashMap<usize, String>>,
    /// delivery id → (event id, first arrival, times seen)
    pub arrivals: Mutex<HashMap<String, (String, Instant, u32)>>,
    pub requests: AtomicU64,
    pub checked: AtomicU64,
    pub bad_signatures: AtomicU64,
}

#[derive(Clone)]
pub struct Receiver {
    base: String,
    pub inner: Arc<Inner>,
}

impl Receiver {
    pub async fn start() -> anyhow::Result<Self> {
        let inner = Arc::new(Inner::default());
        let app = Router::new()
            .route("/hook/{i}", post(receive))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(Self { base, inner })
    }

    pub fn url(&self, webhook: usize) -> String {
        format!("{}/hook/{webhook}", self.base)
    }

    pub fn add_secret(&self, webhook: usize, secret: String) {
        if let Ok(mut secrets) = self.inner.secrets.lock() {
            secrets.insert(webhook, secret);
        }
    }

    pub fn unique(&self) -> usize {
        self.inner.arrivals.lock().map(|a| a.len()).unwrap_or(0)
    }

    /// Waits until `expected` distinct deliveries arrived, or nothing new came for `idle`.
    /// Returns when the last one arrived.
    pub async fn wait_for(&self, expected: usize, idle: Duration) -> Option<Instant> {
        let mut last_count = 0;
        let mut last_change = Instant::now();
        loop {
            let count = self.unique();
            if count >= expected {
                return self.last_arrival();
            }
            if count != last_count {
                (last_count, last_change) = (count, Instant::now());
            } else if last_change.elapsed() > idle {
                return self.last_arrival();
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    fn last_arrival(&self) -> Option<Instant> {
        self.inner
            .arrivals
            .lock()
            .ok()?
            .values()
            .map(|(_, at, _)| *at)
            .max()
    }
}

async fn receive(
    State(inner): State<Arc<Inner>>,
    Path(webhook): Path<usize>,
    headers: HeaderMap,
    body: Bytes,
) -> &'static str {
    let now = Instant::now();
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let n = inner.requests.fetch_add(1, Ordering::Relaxed);
    if n % CHECK_EVERY == 0 {
        inner.checked.fetch_add(1, Ordering::Relaxed);
        let secret = inner
            .secrets
            .lock()
            .ok()
            .and_then(|s| s.get(&webhook).cloned())
            .unwrap_or_default();
        if !signature_ok(&secret, &body, &header("x-speaknode-signature")) {
            inner.bad_signatures.fetch_add(1, Ordering::Relaxed);
        }
    }
    if let Ok(mut arrivals) = inner.arrivals.lock() {
        arrivals
            .entry(header("x-speaknode-delivery"))
            .and_modify(|(_, _, seen)| *seen += 1)
            .or_insert((header("webhook-id"), now, 1));
    }
    "ok"
}

fn signature_ok(secret: &str, body: &[u8], signature: &str) -> bool {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    hex::decode(signature).is_ok_and(|sig| mac.verify_slice(&sig).is_ok())
}
