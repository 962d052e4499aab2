//! The benchmark's receiver: answers 200 at once, records when each delivery arrived, counts
//! duplicates, checks the signature of every 50th request with an independent HMAC, and counts
//! concurrent double attempts: a request for a delivery id while another request of the same id
//! is still being handled here (from its headers' arrival, through reading its body, to the
//! answer). With `--receiver-delay` it answers after that delay instead; with
//! `--slow-webhooks` it also serves the slow endpoints (see `slow_receiver`). In a soak
//! (`--soak`) the arrivals go to the soak's bounded [`Ledger`] instead of the map, which would
//! hold every delivery of the run.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::post;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::slow_receiver::{self, SlowDelay, SlowEndpoints};
use super::soak_ledger::Ledger;

const CHECK_EVERY: u64 = 50;

/// Delivery id → (event id, first arrival, times seen).
pub type Arrivals = HashMap<String, (String, Instant, u32)>;

#[derive(Default)]
pub struct Inner {
    secrets: Mutex<HashMap<usize, String>>,
    pub arrivals: Mutex<Arrivals>,
    pub requests: AtomicU64,
    pub checked: AtomicU64,
    pub bad_signatures: AtomicU64,
    /// Delivery ids whose request is being handled right now.
    in_flight: Mutex<HashSet<String>>,
    pub concurrent_double_attempts: AtomicU64,
    /// `--receiver-delay`: how long every `/hook/{i}` request waits before it is read and
    /// answered.
    delay: Option<Duration>,
    /// Bodies read after `delay`: picks the ones whose signature is checked.
    delayed_reads: AtomicU64,
    pub slow: SlowEndpoints,
    /// The soak's bookkeeping: when set, arrivals are recorded there and not in `arrivals`.
    soak: Option<Arc<Ledger>>,
}

/// A delivery id's stay in [`Inner::in_flight`]: it leaves on drop, so a handler cancelled midway
/// (its connection cut) leaves no stale entry behind. Only the request that entered the set
/// removes the id; an overlapping request that found it there does not.
struct InFlight {
    inner: Arc<Inner>,
    id: Option<String>,
}

impl InFlight {
    fn enter(inner: &Arc<Inner>, id: &str) -> Self {
        let entered = inner
            .in_flight
            .lock()
            .map(|mut set| set.insert(id.to_string()))
            .unwrap_or(true);
        if !entered {
            inner
                .concurrent_double_attempts
                .fetch_add(1, Ordering::Relaxed);
        }
        Self {
            inner: inner.clone(),
            id: entered.then(|| id.to_string()),
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(id) = self.id.take()
            && let Ok(mut set) = self.inner.in_flight.lock()
        {
            set.remove(&id);
        }
    }
}

#[derive(Clone)]
pub struct Receiver {
    base: String,
    pub inner: Arc<Inner>,
}

impl Receiver {
    /// With `soak`, the arrivals are recorded in that ledger (see [`Inner::soak`]).
    pub async fn start(
        delay: Option<Duration>,
        slow_delay: SlowDelay,
        soak: Option<Arc<Ledger>>,
    ) -> anyhow::Result<Self> {
        let inner = Arc::new(Inner {
            delay,
            slow: SlowEndpoints::new(slow_delay),
            soak,
            ..Inner::default()
        });
        let app = Router::new()
            .route("/hook/{i}", post(receive))
            .route("/slow/{i}", post(slow_receiver::receive))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(Self { base, inner })
    }

    pub fn url(&self, webhook: usize) -> String {
        format!("{}/hook/{webhook}", self.base)
    }

    /// The URL of slow endpoint `i`.
    pub fn slow_url(&self, webhook: usize) -> String {
        format!("{}/slow/{webhook}", self.base)
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

    /// A copy of the arrivals so far.
    pub fn arrivals(&self) -> Arrivals {
        self.inner
            .arrivals
            .lock()
            .map(|a| a.clone())
            .unwrap_or_default()
    }

    pub fn last_arrival(&self) -> Option<Instant> {
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
    body: Body,
) -> &'static str {
    let now = Instant::now();
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let delivery = header("x-speaknode-delivery");
    // Entered before the body is read, so the time the body takes to arrive counts as handling.
    let _in_flight = InFlight::enter(&inner, &delivery);
    let (body, sampled) = match inner.delay {
        None => match axum::body::to_bytes(body, usize::MAX).await {
            Ok(body) => (body, None),
            Err(_) => return "ok",
        },
        Some(delay) => match read_after(&inner, delay, body).await {
            Some((body, sampled)) => (body, Some(sampled)),
            None => return "ok",
        },
    };
    let n = inner.requests.fetch_add(1, Ordering::Relaxed);
    if sampled.unwrap_or(n % CHECK_EVERY == 0) {
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
    if let Some(ledger) = &inner.soak {
        ledger.arrived(&header("webhook-id"), webhook, now);
    } else if let Ok(mut arrivals) = inner.arrivals.lock() {
        arrivals
            .entry(delivery)
            .and_modify(|(_, _, seen)| *seen += 1)
            .or_insert((header("webhook-id"), now, 1));
    }
    "ok"
}

/// `--receiver-delay`: waits, then reads the body, keeping it only when its signature is to be
/// checked (one in 50; the bool says so). The receiver must not hold the bodies itself, neither during
/// the delay (they stay in the socket) nor after it: the delays started by a burst of deliveries
/// end in a burst, and the scenario measures the service's memory, not the receiver's.
async fn read_after(inner: &Inner, delay: Duration, body: Body) -> Option<(bytes::Bytes, bool)> {
    tokio::time::sleep(delay).await;
    if inner
        .delayed_reads
        .fetch_add(1, Ordering::Relaxed)
        .is_multiple_of(CHECK_EVERY)
    {
        let body = axum::body::to_bytes(body, usize::MAX).await.ok()?;
        Some((body, true))
    } else {
        slow_receiver::drain(body)
            .await
            .then(|| (bytes::Bytes::new(), false))
    }
}

fn signature_ok(secret: &str, body: &[u8], signature: &str) -> bool {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    hex::decode(signature).is_ok_and(|sig| mac.verify_slice(&sig).is_ok())
}
