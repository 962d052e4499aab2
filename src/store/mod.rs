//! Durable state behind role traits (`Operations`, `Workspaces`, `EventTypes`, `Webhooks`,
//! `Events`, `Queue`, `History`, `Sessions`, none over eight methods), so the API, the dashboard
//! and the workers never know which database holds it, and each can be handed only the role it
//! uses (the worker gets `Queue`). `Store` is all of them: what a backend implements. The
//! delivery queue lives here too: a Delivery row *is* the queue entry, so accepting an Event and
//! queueing its Deliveries is one transaction.

mod key_cache;
pub(crate) mod operational;
pub mod postgres;
mod records;
pub(crate) mod restricted;
pub(crate) mod rows;
pub mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub use records::*;

use crate::domain::event_type::EventTypeDef;
use crate::domain::time::Millis;
use crate::domain::webhook::Secret;

mod error;
pub use error::{Cause, StoreError, StoreResult};

/// Health, wake-ups and housekeeping: what start-up, `/healthz`, `/metrics` and the pruner need.
#[async_trait]
pub trait Operations: Send + Sync + 'static {
    /// True when only one process may use the database (SQLite): leases left by an earlier run
    /// are then nobody's and can be released at start. False for shared databases.
    fn single_process(&self) -> bool {
        true
    }

    /// Wakes `wake` whenever another process queues deliveries, until `shutdown`. Backends with
    /// one process have nothing to watch.
    async fn watch_wakeups(&self, _wake: Arc<Notify>, _shutdown: CancellationToken) {}

    /// Succeeds when the database answers.
    async fn ping(&self) -> StoreResult<()>;

    /// The queue's gauges for `/metrics`, read from the database (all processes' work).
    async fn queue_stats(&self, now: Millis) -> StoreResult<QueueStats>;

    /// Deletes up to `limit` events created before `cutoff` whose deliveries are all finished,
    /// with their deliveries and attempts; returns how many events went.
    async fn prune(&self, cutoff: Millis, limit: u32) -> StoreResult<u64>;
}

/// Workspaces and their API keys: the admin routes and signing in.
#[async_trait]
pub trait Workspaces: Send + Sync + 'static {
    async fn default_workspace(&self) -> StoreResult<Option<Workspace>>;

    async fn create_workspace(&self, workspace: &Workspace, is_default: bool) -> StoreResult<()>;

    async fn workspace(&self, id: &str) -> StoreResult<Option<Workspace>>;

    /// All workspaces, newest first.
    async fn list_workspaces(&self, page: PageRequest) -> StoreResult<Page<Workspace>>;

    /// Revokes one key of the workspace; `false` when the workspace has no such key.
    async fn revoke_api_key(
        &self,
        workspace_id: &str,
        key_id: &str,
        now: Millis,
    ) -> StoreResult<bool>;

    /// Adds a key (by its hash); a hash that is already a key of the workspace is kept as it is.
    async fn add_api_key(
        &self,
        key_id: &str,
        workspace_id: &str,
        key_hash: &[u8],
        now: Millis,
    ) -> StoreResult<()>;

    /// The workspace a key hash belongs to, if the key is valid.
    async fn workspace_for_key(&self, key_hash: &[u8]) -> StoreResult<Option<String>>;
}

/// The registered event types.
#[async_trait]
pub trait EventTypes: Send + Sync + 'static {
    async fn upsert_event_type(&self, def: &EventTypeDef, now: Millis) -> StoreResult<()>;

    async fn event_types(&self) -> StoreResult<Vec<EventTypeDef>>;

    /// Registers a new event type; `false` when the name is taken.
    async fn insert_event_type(&self, def: &EventTypeDef, now: Millis) -> StoreResult<bool>;
}

/// Webhooks, their secrets and their options.
#[async_trait]
pub trait Webhooks: Send + Sync + 'static {
    async fn create_webhook(&self, webhook: &NewWebhook) -> StoreResult<Webhook>;

    async fn list_webhooks(
        &self,
        workspace_id: &str,
        page: PageRequest,
    ) -> StoreResult<Page<Webhook>>;

    async fn webhook(&self, workspace_id: &str, id: &str) -> StoreResult<Option<Webhook>>;

    async fn update_webhook(
        &self,
        workspace_id: &str,
        id: &str,
        patch: &WebhookPatch,
        now: Millis,
    ) -> StoreResult<Option<Webhook>>;

    /// Deletes the webhook and its history; its pending deliveries are cancelled.
    async fn delete_webhook(&self, workspace_id: &str, id: &str, now: Millis) -> StoreResult<bool>;

    /// The secrets that sign deliveries now, newest first.
    async fn webhook_secrets(
        &self,
        workspace_id: &str,
        id: &str,
        now: Millis,
    ) -> StoreResult<Option<Vec<Secret>>>;

    /// Makes `secret` the webhook's current secret. The secrets that were current until now
    /// (no expiry) keep signing until `old_expires_at`; `secret` is stored as created at `now`,
    /// or just after the newest existing secret, so newest-first stays strict. `false` when the
    /// workspace has no such webhook.
    async fn rotate_webhook_secret(
        &self,
        workspace_id: &str,
        id: &str,
        secret: &Secret,
        now: Millis,
        old_expires_at: Millis,
    ) -> StoreResult<bool>;
}

/// Accepting events (with their deliveries) and reading them back.
#[async_trait]
pub trait Events: Send + Sync + 'static {
    /// Stores the event and one delivery per enabled webhook subscribed to its type, atomically.
    async fn ingest_event(&self, event: NewEvent) -> StoreResult<Ingested>;

    /// The workspace's events that pass `filter`, newest first. A search by `data` may answer
    /// a short page with a `next_cursor` (SQLite reads a bounded number of events per page).
    async fn list_events(
        &self,
        workspace_id: &str,
        filter: &EventFilter,
        page: PageRequest,
    ) -> StoreResult<Page<Event>>;

    async fn event(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> StoreResult<Option<(Event, Vec<DeliverySummary>)>>;
}

/// The delivery queue: all a worker sees.
#[async_trait]
pub trait Queue: Send + Sync + 'static {
    /// Leases due deliveries until `lease_until`, shared fairly among the webhooks that have
    /// any and within the claim's budget (`domain::fair_share`), in the order to start them.
    async fn claim_due(&self, claim: &ClaimRequest) -> StoreResult<Vec<Claimed>>;

    /// Gives claimed deliveries back, due at `now` (the worker had no room for them).
    async fn release(&self, claims: &[Claimed], now: Millis) -> StoreResult<()>;

    /// Makes every delivery leased by `owner` (or by anyone, when `None`) due now.
    async fn release_leases(&self, owner: Option<&str>, now: Millis) -> StoreResult<u64>;

    /// When the earliest pending delivery is due, if any is.
    async fn next_due_at(&self) -> StoreResult<Option<Millis>>;

    /// Records one attempt and moves its delivery on, in one transaction.
    async fn record_attempt(&self, attempt: &NewAttempt) -> StoreResult<Attempt>;

    /// A delivery of the type's example to one webhook, for a test send; it is not queued.
    async fn create_test_delivery(&self, test: &NewTestDelivery) -> StoreResult<Option<Claimed>>;
}

/// The most attempts of one delivery an event's page shows (a schedule has at most 31; the rest
/// would be manual retries).
pub const MAX_DELIVERY_ATTEMPTS: u32 = 100;

/// The Request History and what customers do with it: retry, recover, replay, counts.
#[async_trait]
pub trait History: Send + Sync + 'static {
    async fn list_attempts(
        &self,
        workspace_id: &str,
        webhook_id: &str,
        filter: &AttemptFilter,
        page: PageRequest,
    ) -> StoreResult<Page<Attempt>>;

    /// One delivery's attempts, newest first (at most [`MAX_DELIVERY_ATTEMPTS`]).
    async fn delivery_attempts(
        &self,
        workspace_id: &str,
        delivery_id: &str,
    ) -> StoreResult<Vec<Attempt>>;

    async fn attempt(
        &self,
        workspace_id: &str,
        webhook_id: &str,
        id: &str,
    ) -> StoreResult<Option<Attempt>>;

    /// Requeues (due now, trigger `manual`) every failed delivery of the webhook created at or
    /// after `since`; `None` when the workspace has no such webhook.
    async fn requeue_failed(
        &self,
        workspace_id: &str,
        webhook_id: &str,
        since: Millis,
        now: Millis,
    ) -> StoreResult<Option<u64>>;

    /// Replays the workspace's events created in `[since, until]` to the webhook: one new
    /// delivery (due now, trigger `scheduled`) for every event of its types that passes its
    /// filter and has no delivery to it yet, so a second call replays nothing new. Works through
    /// the events a chunk at a time; `None` when the workspace has no such webhook.
    async fn replay(&self, replay: &Replay) -> StoreResult<Option<u64>>;

    /// Makes the attempt's delivery due now for one more attempt (trigger `manual`).
    async fn retry_delivery(
        &self,
        workspace_id: &str,
        webhook_id: &str,
        attempt_id: &str,
        now: Millis,
    ) -> StoreResult<Option<String>>;

    /// Counts the webhook's pending deliveries, reading at most `cap` of them: the cost follows
    /// the queue, never the history (a count of all recent deliveries read 400,000 rows in
    /// 0.5–1 s for a webhook with that many in its window).
    async fn pending_deliveries(
        &self,
        workspace_id: &str,
        webhook_id: &str,
        cap: u64,
    ) -> StoreResult<u64>;
}

/// The statistics' tallies (`domain::stats`), for the stats route and the Activity charts.
#[async_trait]
pub trait Statistics: Send + Sync + 'static {
    /// The tallies of one span (`"m"`, `"h"`) whose bucket starts in `[from, to)`: the
    /// workspace's, or one webhook's. `(bucket start, outcome, attempts)`.
    async fn tallies(
        &self,
        workspace_id: &str,
        webhook_id: Option<&str>,
        span: &str,
        from: Millis,
        to: Millis,
    ) -> StoreResult<Vec<(Millis, String, u64)>>;

    /// The attempts that started in `[from, to)` (less than a minute) by outcome.
    async fn outcome_counts(
        &self,
        workspace_id: &str,
        webhook_id: Option<&str>,
        from: Millis,
        to: Millis,
    ) -> StoreResult<Vec<(String, u64)>>;
}

/// Dashboard sessions.
#[async_trait]
pub trait Sessions: Send + Sync + 'static {
    /// Stores a new session, and drops sessions that expired before it was created.
    async fn create_session(&self, session: &NewSession) -> StoreResult<()>;

    /// The session whose token hashes to `token_hash`, if it expires after `now`.
    async fn session(&self, token_hash: &[u8], now: Millis) -> StoreResult<Option<Session>>;

    /// Ends the session (signing out); unknown hashes are ignored.
    async fn delete_session(&self, token_hash: &[u8]) -> StoreResult<()>;

    /// Stores a portal link, and drops links that expired before it was minted. Refuses
    /// (`Ok(false)`) when the workspace does not exist.
    async fn create_portal_link(&self, link: &NewPortalLink) -> StoreResult<bool>;

    /// Spends the link whose token hashes to `token_hash`, if it expires after `now`: a link
    /// opens once, on whichever process redeems it first.
    async fn redeem_portal_link(
        &self,
        token_hash: &[u8],
        now: Millis,
    ) -> StoreResult<Option<PortalGrant>>;
}

/// Every role together: what a backend implements, and what the composition root holds.
/// Each consumer should take the narrowest role it needs (the worker takes [`Queue`]).
pub trait Store:
    Operations + Workspaces + EventTypes + Webhooks + Events + Queue + History + Statistics + Sessions
{
}

impl<
    T: Operations
        + Workspaces
        + EventTypes
        + Webhooks
        + Events
        + Queue
        + History
        + Statistics
        + Sessions,
> Store for T
{
}
