//! PostgreSQL: for deployments where several `serve` processes share one database. Claims use
//! `FOR UPDATE SKIP LOCKED` so processes never take the same delivery, and `NOTIFY` wakes idle
//! workers in every process as soon as new deliveries are queued.

mod accept;
mod admin;
mod batch;
mod claim;
mod dashboard;
mod db;
mod event_log;
mod events;
mod history;
mod partitions;
pub use partitions::cover as cover_history;
mod queue;
mod record;
mod replay;
mod retention;
mod stats;
mod tallies;
mod webhooks;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use self::db::{Db, Run, query};
use super::key_cache::KeyCache;
use super::rows::{Columns, event_type_from};
use super::*;
use crate::domain::clock::{Clock, SystemClock};
use crate::domain::event_type::EventTypeDef;
use crate::domain::sealing::Sealer;
use crate::domain::time::Millis;
use crate::domain::webhook::Secret;

/// The channel every process listens on; the payload is empty, a notification only means
/// "something may be due now".
const WAKE_CHANNEL: &str = "speaknode_wake";

/// How this process reaches PostgreSQL.
#[derive(Debug, Clone, Default)]
pub struct Connection {
    pub max_connections: u32,
    /// The URL goes through a pooler in transaction mode (PgBouncer): see `db`.
    pub pooled: bool,
    /// A direct connection for what a transaction-mode pooler cannot carry: `LISTEN` (a session
    /// of its own) and migrations (a session-level advisory lock). Without it, `LISTEN` and
    /// migrations use the URL itself, and behind a pooler workers rely on their poll.
    pub direct_url: Option<String>,
    /// The retention period (`SPEAKNODE_RETENTION`), which sets how much of the history each
    /// partition holds; `None`: a day each.
    pub retention: Option<Duration>,
}

pub struct PgStore {
    db: Db,
    /// Where `LISTEN` connects; `None` behind a pooler with no direct URL (workers poll).
    listen_url: Option<String>,
    sealer: Sealer,
    /// Asks the notifier task to tell the other processes that deliveries were queued.
    wake_others: Arc<Notify>,
    /// Stops the notifier task when the store is dropped.
    _notifier: tokio_util::sync::DropGuard,
    /// Other processes may revoke keys too: entries live [`KEY_TTL`].
    keys: KeyCache,
    /// Group commit of events without an idempotency key.
    accepts: batch::Batcher<accept::Accept>,
    /// Group commit of attempts.
    records: batch::Batcher<record::Record>,
}

/// Writer tasks per kind of batch (see `batch`).
const LANES: usize = 1;

/// How long a revocation made by another process may take to reach this one.
const KEY_TTL: Duration = Duration::from_secs(2);

/// The notifier sends at most one wake-up per this interval. `NOTIFY` inside each ingest
/// transaction serialized every commit on PostgreSQL's notification queue lock; coalesced wake-ups
/// sent after the commit cost one statement per interval instead.
const WAKE_EVERY: Duration = Duration::from_millis(20);

impl PgStore {
    /// Connects (TLS when the URL asks for it, e.g. `?sslmode=require`) and applies migrations.
    pub async fn open(url: &str, max_connections: u32) -> StoreResult<Self> {
        let connection = Connection {
            max_connections,
            ..Connection::default()
        };
        Self::open_with(url, &connection).await
    }

    /// Like [`PgStore::open`], through a pooler and/or with a direct connection beside it.
    pub async fn open_with(url: &str, connection: &Connection) -> StoreResult<Self> {
        let mut options = connect_options(url)?;
        if connection.pooled {
            options = options.statement_cache_capacity(0);
        } else {
            // No JIT: PostgreSQL compiles any plan estimated above `jit_above_cost`, and the
            // generic plans of the events search are (the GIN index's row estimate is a guess):
            // 8–28 ms of compiling for a search that then runs in 0.2 ms, at 2,000,000 events.
            // None of our statements reads enough rows to repay it. Behind a pooler a startup
            // setting may be refused: docs/operating.md says to set it on the database there.
            options = options.options([("jit", "off")]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(connection.max_connections)
            // Short, so requests answer 503 promptly while the database is away.
            .acquire_timeout(Duration::from_secs(3))
            .connect_with(options)
            .await?;
        let migrations_url = connection.direct_url.as_deref().unwrap_or(url);
        migrate(migrations_url).await?;
        let span = connection
            .retention
            .map_or(partitions::span_for(i64::MAX), |r| {
                partitions::span_for(r.as_millis() as i64)
            });
        let db = Db::new(pool, connection.pooled, span);
        partitions::make_ahead(&db, SystemClock.now()).await?;
        let wake_others = Arc::new(Notify::new());
        let stop = CancellationToken::new();
        tokio::spawn(notify_others(db.clone(), wake_others.clone(), stop.clone()));
        tokio::spawn(queue::vacuum_queue(db.clone(), stop.clone()));
        let listen_url = match (&connection.direct_url, connection.pooled) {
            (Some(direct), _) => Some(direct.clone()),
            (None, false) => Some(url.to_string()),
            (None, true) => None,
        };
        Ok(Self {
            accepts: batch::Batcher::spawn(db.clone(), LANES),
            records: batch::Batcher::spawn(db.clone(), LANES),
            db,
            listen_url,
            sealer: Sealer::plaintext(),
            wake_others,
            _notifier: stop.drop_guard(),
            keys: KeyCache::with_ttl(KEY_TTL),
        })
    }

    /// Encrypts webhook secrets at rest with this sealer from now on.
    pub fn with_sealer(mut self, sealer: Sealer) -> Self {
        self.sealer = sealer;
        self
    }

    async fn begin(&self) -> StoreResult<Transaction<'static, Postgres>> {
        self.db.begin().await
    }
}

fn connect_options(url: &str) -> StoreResult<PgConnectOptions> {
    PgConnectOptions::from_str(url)
        .map_err(|e| StoreError::unavailable(format!("bad PostgreSQL URL: {e}")))
}

/// Applies the migrations over a connection of their own: they hold a session-level advisory
/// lock, which must stay on one server connection.
async fn migrate(url: &str) -> StoreResult<()> {
    let pool = PgPool::connect_with(connect_options(url)?).await?;
    let applied = sqlx::migrate!("./migrations/postgres").run(&pool).await;
    pool.close().await;
    applied.map_err(|e| StoreError::internal(format!("migration failed: {e}")))
}

/// Sends one wake-up to every listening process per [`WAKE_EVERY`] in which an event queued
/// deliveries (this process's own worker is woken directly).
async fn notify_others(db: Db, wanted: Arc<Notify>, stop: CancellationToken) {
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = wanted.notified() => {}
        }
        let sent = query("SELECT pg_notify($1, '')")
            .bind(WAKE_CHANNEL)
            .execute_on(&db)
            .await;
        if let Err(e) = sent {
            // The others still poll every second; nothing is lost.
            tracing::debug!(error = %e, "could not notify the other processes");
        }
        tokio::time::sleep(WAKE_EVERY).await;
    }
}

/// Queues a wake-up for every listening process; delivered when the transaction commits.
async fn notify_wake(conn: &mut sqlx::PgConnection) -> StoreResult<()> {
    query("SELECT pg_notify($1, '')")
        .bind(WAKE_CHANNEL)
        .execute(conn)
        .await?;
    Ok(())
}

fn workspace_from(row: &impl Columns) -> StoreResult<Workspace> {
    Ok(Workspace {
        id: row.text("id")?,
        name: row.text("name")?,
        created_at: row.int("created_at")?,
    })
}

#[async_trait]
impl Operations for PgStore {
    fn single_process(&self) -> bool {
        false
    }

    async fn watch_wakeups(&self, wake: Arc<Notify>, shutdown: CancellationToken) {
        let Some(listen_url) = &self.listen_url else {
            return; // behind a pooler with no direct URL: the worker's poll finds the work
        };
        let mut backoff = Duration::from_millis(200);
        while !shutdown.is_cancelled() {
            let mut listener = match PgListener::connect(listen_url).await {
                Ok(listener) => listener,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for wake-ups; retrying");
                    tokio::select! { _ = shutdown.cancelled() => return, _ = tokio::time::sleep(backoff) => {} }
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    continue;
                }
            };
            if let Err(e) = listener.listen(WAKE_CHANNEL).await {
                tracing::warn!(error = %e, "cannot listen for wake-ups; retrying");
                continue;
            }
            backoff = Duration::from_millis(200);
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    received = listener.recv() => match received {
                        Ok(_) => wake.notify_one(),
                        Err(e) => {
                            tracing::warn!(error = %e, "lost the wake-up listener; reconnecting");
                            break;
                        }
                    },
                }
            }
            // Wake once after a reconnect: notifications sent meanwhile were lost.
            wake.notify_one();
        }
    }

    async fn ping(&self) -> StoreResult<()> {
        query("SELECT 1").execute_on(&self.db).await?;
        Ok(())
    }

    async fn queue_stats(&self, now: Millis) -> StoreResult<QueueStats> {
        stats::queue_stats(self, now).await
    }

    async fn prune(&self, cutoff: Millis, limit: u32) -> StoreResult<u64> {
        retention::prune(self, cutoff, limit).await
    }
}

#[async_trait]
impl Workspaces for PgStore {
    async fn default_workspace(&self) -> StoreResult<Option<Workspace>> {
        let row = query("SELECT id, name, created_at FROM workspaces WHERE is_default")
            .fetch_optional_on(&self.db)
            .await?;
        row.as_ref().map(workspace_from).transpose()
    }

    async fn create_workspace(&self, workspace: &Workspace, is_default: bool) -> StoreResult<()> {
        query("INSERT INTO workspaces (id, name, is_default, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&workspace.id)
            .bind(&workspace.name)
            .bind(is_default)
            .bind(workspace.created_at)
            .execute_on(&self.db)
            .await?;
        Ok(())
    }

    async fn workspace(&self, id: &str) -> StoreResult<Option<Workspace>> {
        let row = query("SELECT id, name, created_at FROM workspaces WHERE id = $1")
            .bind(id)
            .fetch_optional_on(&self.db)
            .await?;
        row.as_ref().map(workspace_from).transpose()
    }

    async fn list_workspaces(&self, page: PageRequest) -> StoreResult<Page<Workspace>> {
        admin::list_workspaces(self, page).await
    }

    async fn revoke_api_key(
        &self,
        workspace_id: &str,
        key_id: &str,
        now: Millis,
    ) -> StoreResult<bool> {
        let revoked = admin::revoke_api_key(self, workspace_id, key_id, now).await;
        self.keys.clear();
        revoked
    }

    async fn add_api_key(
        &self,
        key_id: &str,
        workspace_id: &str,
        key_hash: &[u8],
        now: Millis,
    ) -> StoreResult<()> {
        query(
            "INSERT INTO api_keys (id, workspace_id, key_hash, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (key_hash) DO UPDATE SET revoked_at = NULL
             WHERE api_keys.workspace_id = excluded.workspace_id",
        )
        .bind(key_id)
        .bind(workspace_id)
        .bind(key_hash)
        .bind(now)
        .execute_on(&self.db)
        .await?;
        Ok(())
    }

    async fn workspace_for_key(&self, key_hash: &[u8]) -> StoreResult<Option<String>> {
        let (cached, generation) = self.keys.get(key_hash);
        if cached.is_some() {
            return Ok(cached);
        }
        let row =
            query("SELECT workspace_id FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL")
                .bind(key_hash)
                .fetch_optional_on(&self.db)
                .await?;
        let workspace_id = row.map(|r| r.text("workspace_id")).transpose()?;
        if let Some(id) = &workspace_id {
            self.keys.insert(key_hash, id, generation);
        }
        Ok(workspace_id)
    }
}

#[async_trait]
impl EventTypes for PgStore {
    async fn upsert_event_type(&self, def: &EventTypeDef, now: Millis) -> StoreResult<()> {
        query(
            "INSERT INTO event_types (name, description, schema, example, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $5)
             ON CONFLICT (name) DO UPDATE SET description = excluded.description,
                 schema = excluded.schema, example = excluded.example, updated_at = excluded.updated_at",
        )
        .bind(&def.name)
        .bind(&def.description)
        .bind(def.schema.to_string())
        .bind(def.example.to_string())
        .bind(now)
        .execute_on(&self.db)
        .await?;
        Ok(())
    }

    async fn event_types(&self) -> StoreResult<Vec<EventTypeDef>> {
        let rows =
            query("SELECT name, description, schema, example FROM event_types ORDER BY name")
                .fetch_all_on(&self.db)
                .await?;
        rows.iter().map(event_type_from).collect()
    }

    async fn insert_event_type(&self, def: &EventTypeDef, now: Millis) -> StoreResult<bool> {
        admin::insert_event_type(self, def, now).await
    }
}

#[async_trait]
impl Webhooks for PgStore {
    async fn create_webhook(&self, webhook: &NewWebhook) -> StoreResult<Webhook> {
        webhooks::create(self, webhook).await
    }

    async fn list_webhooks(
        &self,
        workspace_id: &str,
        page: PageRequest,
    ) -> StoreResult<Page<Webhook>> {
        webhooks::list(self, workspace_id, page).await
    }

    async fn webhook(&self, workspace_id: &str, id: &str) -> StoreResult<Option<Webhook>> {
        let mut session = self.db.session().await?;
        let webhook = webhooks::get(session.conn(), workspace_id, id).await?;
        session.finish().await?;
        Ok(webhook)
    }

    async fn update_webhook(
        &self,
        workspace_id: &str,
        id: &str,
        patch: &WebhookPatch,
        now: Millis,
    ) -> StoreResult<Option<Webhook>> {
        webhooks::update(self, workspace_id, id, patch, now).await
    }

    async fn delete_webhook(&self, workspace_id: &str, id: &str, now: Millis) -> StoreResult<bool> {
        webhooks::delete(self, workspace_id, id, now).await
    }

    async fn webhook_secrets(
        &self,
        workspace_id: &str,
        id: &str,
        now: Millis,
    ) -> StoreResult<Option<Vec<Secret>>> {
        webhooks::secrets(self, workspace_id, id, now).await
    }

    async fn rotate_webhook_secret(
        &self,
        workspace_id: &str,
        id: &str,
        secret: &Secret,
        now: Millis,
        old_expires_at: Millis,
    ) -> StoreResult<bool> {
        dashboard::rotate_secret(self, workspace_id, id, secret, now, old_expires_at).await
    }
}

#[async_trait]
impl Events for PgStore {
    async fn ingest_event(&self, event: NewEvent) -> StoreResult<Ingested> {
        if event.idempotency.is_some() {
            return events::ingest(self, &event).await;
        }
        let accepted = self.accepts.submit(accept::Accept(event)).await?;
        if accepted.delivery_count > 0 {
            self.wake_others.notify_one();
        }
        Ok(Ingested::Created(accepted))
    }

    async fn list_events(
        &self,
        workspace_id: &str,
        filter: &EventFilter,
        page: PageRequest,
    ) -> StoreResult<Page<Event>> {
        event_log::list(self, workspace_id, filter, page).await
    }

    async fn event(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> StoreResult<Option<(Event, Vec<DeliverySummary>)>> {
        events::get(self, workspace_id, id).await
    }
}

#[async_trait]
impl Queue for PgStore {
    async fn claim_due(&self, claim: &ClaimRequest) -> StoreResult<Vec<Claimed>> {
        claim::claim_due(self, claim).await
    }

    async fn release(&self, claims: &[Claimed], now: Millis) -> StoreResult<()> {
        queue::release(self, claims, now).await
    }

    async fn release_leases(&self, owner: Option<&str>, now: Millis) -> StoreResult<u64> {
        queue::release_leases(self, owner, now).await
    }

    async fn next_due_at(&self) -> StoreResult<Option<Millis>> {
        queue::next_due_at(self).await
    }

    async fn record_attempt(&self, attempt: &NewAttempt) -> StoreResult<Attempt> {
        self.records.submit(record::Record(attempt.clone())).await?
    }

    async fn create_test_delivery(&self, test: &NewTestDelivery) -> StoreResult<Option<Claimed>> {
        queue::create_test_delivery(self, test).await
    }
}

#[async_trait]
impl History for PgStore {
    async fn list_attempts(
        &self,
        workspace_id: &str,
        webhook_id: &str,
        filter: &AttemptFilter,
        page: PageRequest,
    ) -> StoreResult<Page<Attempt>> {
        history::list(self, workspace_id, webhook_id, filter, page).await
    }

    async fn delivery_attempts(
        &self,
        workspace_id: &str,
        delivery_id: &str,
    ) -> StoreResult<Vec<Attempt>> {
        history::of_delivery(self, workspace_id, delivery_id).await
    }

    async fn attempt(
        &self,
        workspace_id: &str,
        webhook_id: &str,
        id: &str,
    ) -> StoreResult<Option<Attempt>> {
        history::get(self, workspace_id, webhook_id, id).await
    }

    async fn requeue_failed(
        &self,
        workspace_id: &str,
        webhook_id: &str,
        since: Millis,
        now: Millis,
    ) -> StoreResult<Option<u64>> {
        admin::requeue_failed(self, workspace_id, webhook_id, since, now).await
    }

    async fn replay(&self, replay: &Replay) -> StoreResult<Option<u64>> {
        replay::replay(self, replay).await
    }

    async fn retry_delivery(
        &self,
        workspace_id: &str,
        webhook_id: &str,
        attempt_id: &str,
        now: Millis,
    ) -> StoreResult<Option<String>> {
        history::retry(self, workspace_id, webhook_id, attempt_id, now).await
    }

    async fn pending_deliveries(
        &self,
        workspace_id: &str,
        webhook_id: &str,
        cap: u64,
    ) -> StoreResult<u64> {
        dashboard::pending_deliveries(self, workspace_id, webhook_id, cap).await
    }
}

#[async_trait]
impl Statistics for PgStore {
    async fn tallies(
        &self,
        workspace_id: &str,
        webhook_id: Option<&str>,
        span: &str,
        from: Millis,
        to: Millis,
    ) -> StoreResult<Vec<(Millis, String, u64)>> {
        tallies::tallies(self, workspace_id, webhook_id, span, from, to).await
    }

    async fn outcome_counts(
        &self,
        workspace_id: &str,
        webhook_id: Option<&str>,
        from: Millis,
        to: Millis,
    ) -> StoreResult<Vec<(String, u64)>> {
        tallies::outcome_counts(self, workspace_id, webhook_id, from, to).await
    }
}

#[async_trait]
impl Sessions for PgStore {
    async fn create_session(&self, session: &NewSession) -> StoreResult<()> {
        dashboard::create_session(self, session).await
    }

    async fn session(&self, token_hash: &[u8], now: Millis) -> StoreResult<Option<Session>> {
        dashboard::session(self, token_hash, now).await
    }

    async fn delete_session(&self, token_hash: &[u8]) -> StoreResult<()> {
        dashboard::delete_session(self, token_hash).await
    }

    async fn create_portal_link(&self, link: &NewPortalLink) -> StoreResult<bool> {
        dashboard::create_portal_link(self, link).await
    }

    async fn redeem_portal_link(
        &self,
        token_hash: &[u8],
        now: Millis,
    ) -> StoreResult<Option<PortalGrant>> {
        dashboard::redeem_portal_link(self, token_hash, now).await
    }
}
