//! The slow endpoints of the slow-neighbour scenario (`bench --slow-webhooks N`): receivers that
//! answer only after a delay, or never, so that their webhooks build a backlog in the service.
//! They record when each attempt reached them and when each delivery was answered, which is
//! what shows whether slow webhooks keep progressing while a prompt one is served.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use futures::StreamExt;

use super::receiver::Inner;

/// How long a slow endpoint takes to answer: `--slow-delay`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlowDelay {
    After(Duration),
    /// Never answers: the service's own delivery timeout ends each attempt.
    Hang,
}

impl Default for SlowDelay {
    fn default() -> Self {
        Self::After(Duration::from_secs(3))
    }
}

impl FromStr for SlowDelay {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.trim().eq_ignore_ascii_case("hang") {
            return Ok(Self::Hang);
        }
        humantime::parse_duration(text.trim())
            .map(Self::After)
            .map_err(|e| format!("expected a duration such as 3s or 500ms, or `hang`: {e}"))
    }
}

impl fmt::Display for SlowDelay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::After(delay) => write!(f, "{}", humantime::format_duration(*delay)),
            Self::Hang => f.write_str("hang"),
        }
    }
}

/// What the slow endpoints saw. Instants rather than counters, so that the report can count
/// what happened inside a window chosen after the fact.
#[derive(Default)]
pub struct SlowEndpoints {
    pub delay: SlowDelay,
    /// When each request reached a slow endpoint, retries included.
    attempts: Mutex<Vec<Instant>>,
    /// Delivery id → when it was first answered.
    answered: Mutex<HashMap<String, Instant>>,
}

impl SlowEndpoints {
    pub fn new(delay: SlowDelay) -> Self {
        Self {
            delay,
            ..Self::default()
        }
    }

    pub fn attempts(&self) -> usize {
        self.attempts.lock().map(|a| a.len()).unwrap_or(0)
    }

    pub fn attempts_between(&self, from: Instant, to: Instant) -> usize {
        self.attempts
            .lock()
            .map(|a| a.iter().filter(|at| (from..=to).contains(at)).count())
            .unwrap_or(0)
    }

    /// Distinct deliveries answered so far.
    pub fn answered(&self) -> usize {
        self.answered.lock().map(|a| a.len()).unwrap_or(0)
    }

    pub fn answered_between(&self, from: Instant, to: Instant) -> usize {
        self.answered
            .lock()
            .map(|a| a.values().filter(|at| (from..=to).contains(at)).count())
            .unwrap_or(0)
    }

    pub fn last_answer(&self) -> Option<Instant> {
        self.answered.lock().ok()?.values().max().copied()
    }

    fn attempt(&self) {
        if let Ok(mut attempts) = self.attempts.lock() {
            attempts.push(Instant::now());
        }
    }

    fn answer(&self, delivery: String) {
        if let Ok(mut answered) = self.answered.lock() {
            answered.entry(delivery).or_insert_with(Instant::now);
        }
    }
}

/// `POST /slow/{i}`: waits, then answers 200; or, with `hang`, never answers.
pub async fn receive(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    body: Body,
) -> &'static str {
    let slow = &inner.slow;
    slow.attempt();
    let delivery = headers
        .get("x-speaknode-delivery")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    match slow.delay {
        SlowDelay::After(delay) => {
            // The body stays unread (in the socket) during the delay: with N webhooks times the
            // service's concurrency waiting here, holding the bodies would make the receiver's
            // memory, not the service's, the figure.
            tokio::time::sleep(delay).await;
            if drain(body).await {
                slow.answer(delivery);
            }
        }
        SlowDelay::Hang => {
            // hyper notices that the client closed the connection (and drops this handler) only
            // once the request body has been consumed, so the body is drained, chunk by chunk
            // without keeping it, before waiting forever.
            drain(body).await;
            std::future::pending::<()>().await;
        }
    }
    "ok"
}

/// Reads the body to its end, dropping each chunk; false when the connection failed first (the
/// service gave up on the attempt).
pub(super) async fn drain(body: Body) -> bool {
    let mut chunks = body.into_data_stream();
    while let Some(chunk) = chunks.next().await {
        if chunk.is_err() {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::SlowDelay;
    use std::time::Duration;

    #[test]
    fn slow_delays_parse_durations_and_hang() {
        assert_eq!(
            "3s".parse::<SlowDelay>(),
            Ok(SlowDelay::After(Duration::from_secs(3)))
        );
        assert_eq!(
            "500ms".parse::<SlowDelay>(),
            Ok(SlowDelay::After(Duration::from_millis(500)))
        );
        assert_eq!("hang".parse::<SlowDelay>(), Ok(SlowDelay::Hang));
        assert!("soon".parse::<SlowDelay>().is_err());
        assert_eq!(SlowDelay::Hang.to_string(), "hang");
        assert_eq!(SlowDelay::default().to_string(), "3s");
    }
}
