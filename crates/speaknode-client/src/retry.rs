//! How `emit` retries: which answers may pass on a later try, how long to wait, when to stop.
//! Pure decisions ([`RetryPolicy::after`]) are kept apart from the loop that sleeps, so they are
//! tested without a clock or a network.

use std::future::Future;
use std::time::Duration;

use rand::Rng;
use reqwest::Response;

use crate::error::{Error, ErrorBody, ErrorDetail};

/// Bounds on `emit`'s own retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries in all, the first included (default 5).
    pub max_attempts: u32,
    /// Wait after the first failed try (default 500 ms), doubled per try up to `max_backoff`.
    pub backoff: Duration,
    /// Longest wait between tries (default 8 s).
    pub max_backoff: Duration,
    /// A longer `Retry-After` than this (default 60 s) is returned as the error, not waited for.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

/// Answers that say "not now" rather than "no": rate limited, the service (or a proxy in front of
/// it) unavailable. Any other error would answer the same again.
pub const RETRYABLE_STATUSES: [u16; 4] = [429, 502, 503, 504];

impl RetryPolicy {
    /// After failed try number `attempt` (from 1): how long to wait before the next, or `None`
    /// to give up and return the error.
    pub fn after(&self, attempt: u32, error: &Error, jitter: f64) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        let backoff = || {
            let doubled = self.backoff.saturating_mul(1 << (attempt - 1).min(16));
            // Between half and all of the ceiling, so processes retrying after one outage spread.
            doubled
                .min(self.max_backoff)
                .mul_f64(0.5 + jitter.clamp(0.0, 1.0) / 2.0)
        };
        match error {
            // A request reqwest could not even build (a bad base URL) fails the same every time.
            Error::Connection { source, .. } if !source.is_builder() => Some(backoff()),
            Error::Api {
                status,
                retry_after,
                ..
            } if RETRYABLE_STATUSES.contains(status) => match retry_after {
                Some(wait) if *wait > self.max_retry_after => None,
                Some(wait) => Some(*wait),
                None => Some(backoff()),
            },
            _ => None,
        }
    }

    /// Sends with `send` until a success or the policy gives up.
    pub(crate) async fn run<F, Fut>(&self, send: F) -> Result<Response, Error>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<Response, reqwest::Error>>,
    {
        let mut attempt = 1;
        loop {
            let error = match send().await {
                Ok(response) if response.status().is_success() => return Ok(response),
                Ok(response) => api_error(response).await,
                Err(source) => Error::Connection {
                    source,
                    idempotency_key: None,
                },
            };
            let jitter = rand::rng().random::<f64>();
            match self.after(attempt, &error, jitter) {
                Some(wait) => tokio::time::sleep(wait).await,
                None => return Err(error),
            }
            attempt += 1;
        }
    }
}

/// A fresh Idempotency-Key: 128 random bits, hex.
pub(crate) fn new_key() -> String {
    format!("sn_{:032x}", rand::rng().random::<u128>())
}

/// The contract's error from a refused answer (`http_error` when a proxy answered without it).
pub(crate) async fn api_error(response: Response) -> Error {
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let text = response.text().await.unwrap_or_default();
    let detail = match serde_json::from_str::<ErrorBody>(&text) {
        Ok(body) => body.error,
        Err(_) => ErrorDetail {
            code: "http_error".into(),
            message: text.chars().take(200).collect(),
            field: None,
        },
    };
    Error::Api {
        status,
        detail,
        retry_after,
        idempotency_key: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, retry_after: Option<u64>) -> Error {
        Error::Api {
            status,
            detail: ErrorDetail {
                code: "x".into(),
                message: "x".into(),
                field: None,
            },
            retry_after: retry_after.map(Duration::from_secs),
            idempotency_key: None,
        }
    }

    #[test]
    fn retries_not_now_answers_with_backoff_and_honours_retry_after() {
        let p = RetryPolicy::default();
        let ms = |d: Option<Duration>| d.map(|d| d.as_millis());
        // Jitter 1.0 is the ceiling: 500 ms, doubled per try, capped at 8 s.
        assert_eq!(ms(p.after(1, &api(503, None), 1.0)), Some(500));
        assert_eq!(ms(p.after(2, &api(502, None), 1.0)), Some(1000));
        assert_eq!(ms(p.after(4, &api(504, None), 0.0)), Some(2000));
        assert_eq!(ms(p.after(3, &api(429, Some(7)), 0.3)), Some(7000));
        let long = RetryPolicy {
            max_attempts: 20,
            ..p
        };
        assert_eq!(ms(long.after(12, &api(503, None), 1.0)), Some(8000));
    }

    #[test]
    fn gives_up_on_refusals_on_the_last_try_and_on_long_retry_after() {
        let p = RetryPolicy::default();
        for status in [400, 401, 404, 409, 413, 415, 422, 500] {
            assert_eq!(p.after(1, &api(status, None), 0.5), None, "{status}");
        }
        assert_eq!(p.after(5, &api(503, None), 0.5), None);
        assert_eq!(p.after(1, &api(429, Some(3600)), 0.5), None);
    }

    #[test]
    fn keys_are_fresh_and_valid_header_values() {
        let (a, b) = (new_key(), new_key());
        assert_ne!(a, b);
        assert_eq!(a.len(), 3 + 32);
        assert!(a.bytes().all(|c| c.is_ascii_graphic()));
    }
}
