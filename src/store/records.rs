//! The rows the store reads and writes, in the service's vocabulary.

use std::sync::Arc;
use std::time::Duration;

pub use crate::domain::after_attempt::NextStep;
use crate::domain::after_attempt::Plan;
use crate::domain::attempt::{DeliveryState, Outcome, Trigger};
use crate::domain::data_search::DataSearch;
pub use crate::domain::delivery_options::DeliveryOptions;
use crate::domain::delivery_options::{Filter, Headers, RateLimit, WebhookTimeout};
use crate::domain::fair_share::Budget;
use crate::domain::retry::RetrySchedule;
use crate::domain::time::Millis;
use crate::domain::webhook::{DisabledReason, Secret};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    pub id: String,
    pub name: String,
    pub created_at: Millis,
}

/// Keyset paging: `cursor` is the position (an opaque sequence number) after which to continue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    pub cursor: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct Webhook {
    pub id: String,
    pub workspace_id: String,
    pub url: String,
    pub description: String,
    pub event_types: Vec<String>,
    pub enabled: bool,
    pub disabled_reason: Option<DisabledReason>,
    /// When it was disabled, by a user or by the service; `None` while enabled.
    pub disabled_at: Option<Millis>,
    pub created_at: Millis,
    pub updated_at: Millis,
    /// The latest attempt: its HTTP status or error, and when.
    pub last_attempt: Option<LastAttempt>,
    pub options: DeliveryOptions,
}

/// Changes to the options: `None` leaves one as it is; `Some(None)` clears a nullable one.
#[derive(Debug, Clone, Default)]
pub struct OptionsPatch {
    pub headers: Option<Headers>,
    pub filter: Option<Option<Filter>>,
    pub rate_limit: Option<Option<RateLimit>>,
    pub ordered: Option<bool>,
    pub timeout: Option<Option<WebhookTimeout>>,
    pub retry_schedule: Option<Option<RetrySchedule>>,
}

impl OptionsPatch {
    /// `options` with this patch applied.
    pub fn apply(&self, options: &DeliveryOptions) -> DeliveryOptions {
        let this = options;
        DeliveryOptions {
            headers: self.headers.clone().unwrap_or_else(|| this.headers.clone()),
            filter: self.filter.clone().unwrap_or_else(|| this.filter.clone()),
            rate_limit: self.rate_limit.unwrap_or(this.rate_limit),
            ordered: self.ordered.unwrap_or(this.ordered),
            timeout: self.timeout.unwrap_or(this.timeout),
            retry_schedule: self
                .retry_schedule
                .clone()
                .unwrap_or_else(|| this.retry_schedule.clone()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct LastAttempt {
    pub http_status: Option<u16>,
    pub error: Option<String>,
    pub succeeded: bool,
    pub at: Millis,
    /// The start of its latest successful attempt, if it ever had one.
    pub last_success_at: Option<Millis>,
    /// Since when it has been failing without a success (`None` while it succeeds).
    pub failing_since: Option<Millis>,
}

#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub id: String,
    pub workspace_id: String,
    pub url: String,
    pub description: String,
    pub event_types: Vec<String>,
    pub enabled: bool,
    pub secret: Secret,
    pub options: DeliveryOptions,
    pub now: Millis,
}

#[derive(Debug, Clone, Default)]
pub struct WebhookPatch {
    pub url: Option<String>,
    pub description: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub enabled: Option<bool>,
    pub options: OptionsPatch,
}

impl Webhook {
    /// The webhook with the patch applied, or `None` when the patch changes nothing (so a no-op
    /// update keeps `updated_at`). Disabling by hand records the reason `manual`; enabling clears
    /// any reason.
    pub fn patched(&self, patch: &WebhookPatch, now: Millis) -> Option<Webhook> {
        let mut next = self.clone();
        if let Some(url) = &patch.url {
            next.url = url.clone();
        }
        if let Some(description) = &patch.description {
            next.description = description.clone();
        }
        if let Some(types) = &patch.event_types {
            next.event_types = types.clone();
        }
        match patch.enabled {
            Some(true) => (next.disabled_reason, next.disabled_at) = (None, None),
            Some(false) if self.enabled => {
                (next.disabled_reason, next.disabled_at) = (Some(DisabledReason::Manual), Some(now))
            }
            _ => {}
        }
        if let Some(enabled) = patch.enabled {
            next.enabled = enabled;
        }
        next.options = patch.options.apply(&self.options);
        let changed = next.options != self.options
            || next.url != self.url
            || next.description != self.description
            || next.event_types != self.event_types
            || next.enabled != self.enabled
            || next.disabled_reason != self.disabled_reason;
        changed.then_some(Webhook {
            updated_at: now,
            ..next
        })
    }
}

#[derive(Debug, Clone)]
pub struct Event {
    pub id: String,
    pub workspace_id: String,
    pub event_type: String,
    /// The exact body every delivery of this event sends.
    pub payload: String,
    pub created_at: Millis,
    pub delivery_count: u32,
}

#[derive(Debug, Clone)]
pub struct NewEvent {
    pub id: String,
    pub workspace_id: String,
    pub event_type: String,
    pub payload: String,
    pub created_at: Millis,
    pub idempotency: Option<Idempotency>,
    /// The W3C trace context the event was emitted in, passed on to its deliveries.
    pub traceparent: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Idempotency {
    pub key: String,
    /// SHA-256 of the request body, so a key reused for another request is caught.
    pub request_hash: Vec<u8>,
    /// Keys older than this are forgotten.
    pub not_before: Millis,
}

#[derive(Debug, Clone)]
pub enum Ingested {
    Created(Event),
    /// The idempotency key was seen with the same request: the first event.
    Replayed(Event),
    /// The idempotency key was seen with a different request.
    KeyReused,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliverySummary {
    pub id: String,
    pub webhook_id: String,
    pub state: DeliveryState,
    pub attempts: u32,
    pub next_attempt_at: Option<Millis>,
}

#[derive(Debug, Clone)]
pub struct ClaimRequest {
    pub owner: String,
    pub now: Millis,
    /// The lease's end for a webhook with the default timeout; one with a longer timeout of its
    /// own gets the difference on top, so a live attempt never outlasts its lease.
    pub lease_until: Millis,
    /// `SPEAKNODE_DELIVERY_TIMEOUT` in milliseconds.
    pub default_timeout: Millis,
    /// What the worker may start now, in all and per webhook: the claim serves the due
    /// webhooks fairly within it (see `domain::fair_share`).
    pub budget: Budget,
}

/// A leased delivery with everything needed to attempt it.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub delivery_id: String,
    pub workspace_id: String,
    pub webhook_id: String,
    pub event_id: String,
    pub event_type: String,
    pub url: String,
    /// One buffer per event, shared by every delivery of it in memory.
    pub payload: Arc<str>,
    pub secrets: Vec<Secret>,
    pub trigger: Trigger,
    /// Attempts made before this one.
    pub attempts: u32,
    /// Fences the lease: only the holder of the current token moves the delivery on.
    pub lease_token: i64,
    /// When the lease runs out and another worker may take the delivery.
    pub lease_until: Millis,
    /// The event's W3C `traceparent`, sent along with every attempt.
    pub traceparent: Option<String>,
    /// What this delivery's webhook asks for, read when it was claimed.
    pub webhook: ClaimOptions,
}

/// The webhook's options an attempt needs: its headers and timeout as they are now, and the
/// retry schedule the delivery was created with.
#[derive(Debug, Clone, Default)]
pub struct ClaimOptions {
    pub headers: Headers,
    pub timeout: Option<Duration>,
    pub retry_schedule: Option<RetrySchedule>,
}

#[derive(Debug, Clone)]
pub struct NewAttempt {
    pub id: String,
    pub claim: Claimed,
    pub started_at: Millis,
    pub duration_ms: i64,
    pub outcome: Outcome,
    /// What follows the attempt, decided by `domain::after_attempt::plan`: the store executes
    /// it and decides nothing itself.
    pub plan: Plan,
}

impl NewAttempt {
    /// When the attempt ended: its delivery moves on, its webhook is disabled and its
    /// operational events are dated then.
    pub fn ended_at(&self) -> Millis {
        self.started_at + self.duration_ms
    }
}

#[derive(Debug, Clone)]
pub struct NewTestDelivery {
    pub workspace_id: String,
    pub webhook_id: String,
    pub event_id: String,
    pub delivery_id: String,
    pub event_type: String,
    pub payload: String,
    pub now: Millis,
}

#[derive(Debug, Clone)]
pub struct Attempt {
    pub id: String,
    pub webhook_id: String,
    pub delivery_id: String,
    pub event_id: String,
    pub event_type: String,
    pub attempt: u32,
    pub trigger: Trigger,
    pub timestamp: Millis,
    pub http_status: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: i64,
    pub payload: Arc<str>,
    pub response: String,
    pub response_truncated: bool,
    pub next_attempt_at: Option<Millis>,
}

/// Which events an events list shows; every condition given must hold.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub event_type: Option<String>,
    /// Accepted at or after this time.
    pub since: Option<Millis>,
    /// Accepted at or before this time.
    pub until: Option<Millis>,
    /// With at least one delivery in this state.
    pub state: Option<DeliveryState>,
    /// With a delivery to this webhook.
    pub webhook_id: Option<String>,
    /// What the event's `data` holds.
    pub data: Option<DataSearch>,
}

impl EventFilter {
    /// Events of one type.
    pub fn of_type(event_type: &str) -> Self {
        Self {
            event_type: Some(event_type.to_string()),
            ..Self::default()
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct AttemptFilter {
    /// `Some(true)`: only succeeded attempts; `Some(false)`: only failed ones.
    pub succeeded: Option<bool>,
    pub event_type: Option<String>,
    pub since: Option<Millis>,
    pub until: Option<Millis>,
}

/// A dashboard sign-in to store. The token itself is never stored, only its SHA-256 hash.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token_hash: Vec<u8>,
    pub workspace_id: String,
    /// The synchronizer token every form of this session must carry.
    pub csrf_token: String,
    /// Shows every page and changes nothing (support staff, through a portal link).
    pub read_only: bool,
    pub created_at: Millis,
    pub expires_at: Millis,
}

/// A live dashboard session, with the name of its workspace for the sidebar.
#[derive(Clone)]
pub struct Session {
    pub workspace_id: String,
    pub workspace_name: String,
    pub csrf_token: String,
    pub read_only: bool,
    pub expires_at: Millis,
}

/// A portal link to store: a one-time sign-in to a workspace's dashboard. Only the SHA-256 hash
/// of its token is stored.
#[derive(Debug, Clone)]
pub struct NewPortalLink {
    pub token_hash: Vec<u8>,
    pub workspace_id: String,
    pub read_only: bool,
    pub created_at: Millis,
    pub expires_at: Millis,
}

/// What a redeemed portal link opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalGrant {
    pub workspace_id: String,
    pub read_only: bool,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("workspace_id", &self.workspace_id)
            .field("read_only", &self.read_only)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// The delivery queue at a glance, for `/metrics`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// Pending deliveries, not counting those held for disabled webhooks.
    pub pending: u64,
    /// Pending deliveries due now and not claimed.
    pub due: u64,
    /// How long the earliest due delivery has been due (0 when none is).
    pub oldest_due_age_ms: i64,
    pub webhooks_disabled: u64,
}

/// A replay of past events to a webhook (see `Store::replay`).
#[derive(Debug, Clone)]
pub struct Replay {
    pub workspace_id: String,
    pub webhook_id: String,
    pub since: Millis,
    pub until: Millis,
    pub now: Millis,
}

/// Events a replay reads and writes in one transaction, so a backlog of any size is never held
/// in memory at once and the writer is never held for long.
pub const REPLAY_CHUNK: i64 = 500;
