//! Prometheus metrics, served at `/metrics` in the OpenMetrics text format. Counters and the
//! latency histogram are this process's own (with PostgreSQL each process reports its own);
//! the queue gauges are read from the database at scrape time, so they are the same on every
//! process. No label carries a workspace id or anything of a tenant's data. The one exception
//! is `speaknode_webhook_concurrency_limit`, labelled with the opaque webhook id so an operator
//! can see which endpoint is being held back; it has a series only for webhooks with an
//! attempt in the last 10 minutes, so the number of series follows the active webhooks.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::domain::attempt::{FailureKind, Outcome};
use crate::store::QueueStats;

/// Where an attempt's duration falls, in seconds: from a fast local receiver to the longest
/// timeout anyone should configure.
const DURATION_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The content type of [`Metrics::render`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WebhookLabels {
    webhook_id: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AttemptLabels {
    /// `succeeded`, `http_error` (any answer that is not 2xx) or the failure kind (`timeout`,
    /// `connection_error`, `dns_error`, `tls_error`, `blocked_address`).
    outcome: &'static str,
}

pub struct Metrics {
    registry: Registry,
    events_accepted: Counter,
    api_rate_limited: Counter,
    logins_throttled: Counter,
    attempts: Family<AttemptLabels, Counter>,
    attempt_duration: Histogram,
    database_up: Gauge,
    deliveries_pending: Gauge,
    deliveries_due: Gauge,
    oldest_due_age: Gauge<f64, AtomicU64>,
    webhooks_disabled: Gauge,
    attempts_in_flight: Gauge,
    in_flight_bytes: Gauge,
    webhook_limits: Family<WebhookLabels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        let metrics = Self {
            registry: Registry::default(),
            events_accepted: Counter::default(),
            api_rate_limited: Counter::default(),
            logins_throttled: Counter::default(),
            attempts: Family::default(),
            attempt_duration: Histogram::new(DURATION_BUCKETS),
            database_up: Gauge::default(),
            deliveries_pending: Gauge::default(),
            deliveries_due: Gauge::default(),
            oldest_due_age: Gauge::default(),
            webhooks_disabled: Gauge::default(),
            attempts_in_flight: Gauge::default(),
            in_flight_bytes: Gauge::default(),
            webhook_limits: Family::default(),
        };
        metrics.registered()
    }
}

impl Metrics {
    fn registered(mut self) -> Self {
        let r = &mut self.registry;
        r.register(
            "speaknode_events_accepted",
            "Events accepted (202, not counting Idempotency-Key replays)",
            self.events_accepted.clone(),
        );
        r.register(
            "speaknode_api_rate_limited",
            "API requests refused with 429 because their key was over SPEAKNODE_RATE_LIMIT",
            self.api_rate_limited.clone(),
        );
        r.register(
            "speaknode_login_throttled",
            "Dashboard sign-ins refused with 429 because their address failed too often \
             (SPEAKNODE_LOGIN_ATTEMPTS)",
            self.logins_throttled.clone(),
        );
        r.register(
            "speaknode_attempts",
            "Delivery attempts made, by outcome",
            self.attempts.clone(),
        );
        r.register(
            "speaknode_attempt_duration_seconds",
            "How long attempts took, from sending the request to the end of the answer",
            self.attempt_duration.clone(),
        );
        r.register(
            "speaknode_database_up",
            "1 when the database answered this scrape's queue queries, else 0",
            self.database_up.clone(),
        );
        r.register(
            "speaknode_deliveries_pending",
            "Deliveries waiting for an attempt (not counting those held for disabled webhooks)",
            self.deliveries_pending.clone(),
        );
        r.register(
            "speaknode_deliveries_due",
            "Pending deliveries whose attempt is due now and not yet claimed",
            self.deliveries_due.clone(),
        );
        r.register(
            "speaknode_oldest_due_age_seconds",
            "How long the longest-waiting due delivery has been due (0 when none is)",
            self.oldest_due_age.clone(),
        );
        r.register(
            "speaknode_webhooks_disabled",
            "Webhooks that are disabled (by hand, gone or failing)",
            self.webhooks_disabled.clone(),
        );
        r.register(
            "speaknode_attempts_in_flight",
            "Attempts this process has in flight (SPEAKNODE_MAX_IN_FLIGHT is the most)",
            self.attempts_in_flight.clone(),
        );
        r.register(
            "speaknode_attempts_in_flight_bytes",
            "Payload bytes held by this process's attempts in flight, each event's body counted \
             once (SPEAKNODE_MAX_IN_FLIGHT_BYTES is the most)",
            self.in_flight_bytes.clone(),
        );
        r.register(
            "speaknode_webhook_concurrency_limit",
            "Each active webhook's current limit of attempts in flight in this process, adapted \
             to how its endpoint answers (SPEAKNODE_MAX_IN_FLIGHT_PER_WEBHOOK is the most)",
            self.webhook_limits.clone(),
        );
        // Every outcome's series exists from the start, at 0, so rates and alerts work before
        // the first failure of a kind.
        let kinds = FailureKind::ALL.map(FailureKind::as_str);
        for outcome in ["succeeded", "http_error"].into_iter().chain(kinds) {
            drop(self.attempts.get_or_create(&AttemptLabels { outcome }));
        }
        self
    }

    pub fn event_accepted(&self) {
        self.events_accepted.inc();
    }

    pub fn api_rate_limited(&self) {
        self.api_rate_limited.inc();
    }

    pub fn login_throttled(&self) {
        self.logins_throttled.inc();
    }

    pub fn attempt_made(&self, outcome: &Outcome, seconds: f64) {
        let outcome = match (outcome.is_success(), outcome.error()) {
            (true, _) => "succeeded",
            (false, Some(kind)) => kind.as_str(),
            (false, None) => "http_error",
        };
        self.attempts
            .get_or_create(&AttemptLabels { outcome })
            .inc();
        self.attempt_duration.observe(seconds);
    }

    pub fn set_in_flight(&self, attempts: u64, bytes: u64) {
        self.attempts_in_flight.set(attempts as i64);
        self.in_flight_bytes.set(bytes as i64);
    }

    /// Replaces the per-webhook limit series with `limits` (webhooks no longer active lose
    /// theirs).
    pub fn set_webhook_limits(&self, limits: &[(String, u32)]) {
        self.webhook_limits.clear();
        for (webhook_id, limit) in limits {
            let labels = WebhookLabels {
                webhook_id: webhook_id.clone(),
            };
            self.webhook_limits
                .get_or_create(&labels)
                .set(i64::from(*limit));
        }
    }

    /// The metrics as OpenMetrics text, with the queue gauges from `queue` (`None`: the
    /// database did not answer; the gauges keep their last values and `database_up` is 0).
    pub fn render(&self, queue: Option<&QueueStats>) -> String {
        match queue {
            Some(q) => {
                self.database_up.set(1);
                self.deliveries_pending.set(q.pending as i64);
                self.deliveries_due.set(q.due as i64);
                self.oldest_due_age.set(q.oldest_due_age_ms as f64 / 1000.0);
                self.webhooks_disabled.set(q.webhooks_disabled as i64);
            }
            None => {
                self.database_up.set(0);
            }
        }
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_are_counted_by_outcome_and_timed() {
        let metrics = Metrics::default();
        metrics.event_accepted();
        metrics.api_rate_limited();
        metrics.api_rate_limited();
        let ok = Outcome::Responded {
            status: 204,
            body: String::new(),
            truncated: false,
            retry_after: None,
        };
        metrics.attempt_made(&ok, 0.003);
        metrics.attempt_made(&Outcome::Failed(FailureKind::Timeout), 5.0);
        let text = metrics.render(None);
        assert!(text.contains("speaknode_events_accepted_total 1"), "{text}");
        assert!(
            text.contains("speaknode_api_rate_limited_total 2"),
            "{text}"
        );
        assert!(text.contains("speaknode_login_throttled_total 0"), "{text}");
        assert!(text.contains(r#"speaknode_attempts_total{outcome="succeeded"} 1"#));
        assert!(text.contains(r#"speaknode_attempts_total{outcome="timeout"} 1"#));
        assert!(text.contains("speaknode_attempt_duration_seconds_count 2"));
        assert!(text.contains("speaknode_database_up 0"));
        metrics.set_in_flight(3, 2048);
        metrics.set_webhook_limits(&[("wh_a".into(), 4), ("wh_b".into(), 32)]);
        metrics.set_webhook_limits(&[("wh_b".into(), 16)]);
        let text = metrics.render(None);
        assert!(text.contains("speaknode_attempts_in_flight 3"), "{text}");
        assert!(
            text.contains("speaknode_attempts_in_flight_bytes 2048"),
            "{text}"
        );
        assert!(text.contains(r#"speaknode_webhook_concurrency_limit{webhook_id="wh_b"} 16"#));
        assert!(
            !text.contains("wh_a"),
            "an inactive webhook's series is gone: {text}"
        );
        assert!(text.ends_with("# EOF\n"));
    }
}
