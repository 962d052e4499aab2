//! The embedded default: one SQLite file in WAL mode. All writes go through a single connection
//! (SQLite has one writer anyway; queueing in the pool beats `SQLITE_BUSY` retries) and start with
//! `BEGIN IMMEDIATE`, so a transaction never has to upgrade its lock halfway. Reads use their own
//! pool and never wait for writes.

mod admin;
mod dashboard;
mod events;
mod history;
mod queue;
mod retention;
mod rows;
mod stats;
mod wal;
mod webhooks;
mod writer;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, Sqlite, SqlitePool, Transaction};

use super::*;
use crate::domain::event_type::EventTypeDef;
use crate::domain::sealing::Sealer;
use crate::domain::time::Millis;
use crate::domain::webhook::Secret;
use crate::store::key_cache::KeyCache;

pub struct SqliteStore {
    write: SqlitePool,
    read: SqlitePool,
    sealer: Sealer,
    writer: writer::Writer,
    /// With SQLite this process is the only writer, so valid keys can be cached exactly.
    keys: KeyCache,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url` and applies the migrations.
    pub async fn open(url: &str) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unavailable(format!("bad SQLite URL: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit is on disk before the 202 goes out, even if the machine loses power.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&write)
            .await
            .map_err(|e| StoreError::Internal(format!("migration failed: {e}")))?;
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone().read_only(true))
            .await?;
        if url.contains(":memory:") || url.contains("mode=memory") {
            return Err(StoreError::Unavailable(
                "an in-memory SQLite database cannot be shared by the service's connections; \
                 name a file (sqlite://path/to/file.db)"
                    .into(),
            ));
        }
        let writer = writer::Writer::spawn(options.get_filename())?;
        Ok(Self {
            write,
            read,
            sealer: Sealer::plaintext(),
            writer,
            keys: Default::default(),
        })
    }

    /// Encrypts webhook secrets at rest with this sealer from now on.
    pub fn with_sealer(mut self, sealer: Sealer) -> Self {
        self.sealer = sealer;
        self
    }

    async fn begin(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        Ok(self.write.begin_with("BEGIN IMMEDIATE").await?)
    }
}

fn workspace_from(row: &sqlx::sqlite::SqliteRow) -> StoreResult<Workspace> {
    Ok(Workspace {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
    })
}

/// SQLite serves one process: a second `serve` on the same file would take over the first one's
/// deliveries in flight. An exclusive advisory lock on the file (`flock`, which SQLite's own
/// `fcntl` locks do not touch), held while the returned handle lives, refuses it with a clear
/// error. Other commands (`migrate`, inspection tools) do not take it.
pub fn lock_for_serving(url: &str) -> StoreResult<std::fs::File> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| StoreError::Unavailable(format!("bad SQLite URL: {e}")))?;
    let path = options.get_filename();
    let file = std::fs::File::open(path)
        .map_err(|e| StoreError::Unavailable(format!("cannot open {}: {e}", path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::Unavailable(format!(
            "{} is in use by another speaknode-webhooks process; SQLite serves one process \
             (run several on PostgreSQL)",
            path.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(StoreError::Unavailable(format!(
            "cannot lock {}: {e}",
            path.display()
        ))),
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    async fn queue_stats(&self, now: Millis) -> StoreResult<QueueStats> {
        stats::queue_stats(self, now).await
    }

    async fn default_workspace(&self) -> StoreResult<Option<Workspace>> {
        let row = sqlx::query("SELECT id, name, created_at FROM workspaces WHERE is_default = 1")
            .fetch_optional(&self.write)
            .await?;
        row.as_ref().map(workspace_from).transpose()
    }

    async fn create_workspace(&self, workspace: &Workspace, is_default: bool) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO workspaces (id, name, is_default, created_at) VALUES (?, ?, ?, ?)",
        )
        .bind(&workspace.id)
        .bind(&workspace.name)
        .bind(is_default)
        .bind(workspace.created_at)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn workspace(&self, id: &str) -> StoreResult<Option<Workspace>> {
        let row = sqlx::query("SELECT id, name, created_at FROM workspaces WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        row.as_ref().map(workspace_from).transpose()
    }

    async fn add_api_key(
        &self,
        key_id: &str,
        workspace_id: &str,
        key_hash: &[u8],
        now: Millis,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO api_keys (id, workspace_id, key_hash, created_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (key_hash) DO UPDATE SET revoked_at = NULL WHERE workspace_id = excluded.workspace_id",
        )
        .bind(key_id)
        .bind(workspace_id)
        .bind(key_hash)
        .bind(now)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn workspace_for_key(&self, key_hash: &[u8]) -> StoreResult<Option<String>> {
        let (cached, generation) = self.keys.get(key_hash);
        if cached.is_some() {
            return Ok(cached);
        }
        let row = sqlx::query(
            "SELECT workspace_id FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL",
        )
        .bind(key_hash)
        .fetch_optional(&self.read)
        .await?;
        let workspace_id: Option<String> = row.map(|r| r.try_get("workspace_id")).transpose()?;
        if let Some(id) = &workspace_id {
            self.keys.insert(key_hash, id, generation);
        }
        Ok(workspace_id)
    }

    async fn upsert_event_type(&self, def: &EventTypeDef, now: Millis) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO event_types (name, description, schema, example, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (name) DO UPDATE SET description = excluded.description,
                 schema = excluded.schema, example = excluded.example, updated_at = excluded.updated_at",
        )
        .bind(&def.name)
        .bind(&def.description)
        .bind(def.schema.to_string())
        .bind(def.example.to_string())
        .bind(now)
        .bind(now)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn event_types(&self) -> StoreResult<Vec<EventTypeDef>> {
        let rows =
            sqlx::query("SELECT name, description, schema, example FROM event_types ORDER BY name")
                .fetch_all(&self.read)
                .await?;
        rows.iter().map(rows::event_type_from).collect()
    }

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
        webhooks::get(&self.read, workspace_id, id).await
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

    async fn ingest_event(&self, event: &NewEvent) -> StoreResult<Ingested> {
        let event = event.clone();
        self.writer
            .run(move |conn| events::ingest(conn, &event))
            .await
    }

    async fn list_events(
        &self,
        workspace_id: &str,
        event_type: Option<&str>,
        page: PageRequest,
    ) -> StoreResult<Page<Event>> {
        events::list(self, workspace_id, event_type, page).await
    }

    async fn event(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> StoreResult<Option<(Event, Vec<DeliverySummary>)>> {
        events::get(self, workspace_id, id).await
    }

    async fn claim_due(&self, claim: &ClaimRequest) -> StoreResult<Vec<Claimed>> {
        let (claim, sealer) = (claim.clone(), self.sealer.clone());
        self.writer
            .run(move |conn| queue::claim(conn, &claim, &sealer))
            .await
    }

    async fn release(&self, claims: &[Claimed], now: Millis) -> StoreResult<()> {
        let leases: Vec<_> = claims
            .iter()
            .map(|c| (c.delivery_id.clone(), c.lease_token))
            .collect();
        self.writer
            .run(move |conn| queue::release(conn, &leases, now))
            .await
    }

    async fn release_leases(&self, owner: Option<&str>, now: Millis) -> StoreResult<u64> {
        queue::release_leases(self, owner, now).await
    }

    async fn next_due_at(&self) -> StoreResult<Option<Millis>> {
        queue::next_due_at(self).await
    }

    async fn record_attempt(&self, attempt: &NewAttempt) -> StoreResult<Attempt> {
        let attempt = attempt.clone();
        self.writer
            .run(move |conn| queue::record(conn, &attempt))
            .await
    }

    async fn create_test_delivery(&self, test: &NewTestDelivery) -> StoreResult<Option<Claimed>> {
        queue::create_test_delivery(self, test).await
    }

    async fn list_attempts(
        &self,
        workspace_id: &str,
        webhook_id: &str,
        filter: &AttemptFilter,
        page: PageRequest,
    ) -> StoreResult<Page<Attempt>> {
        history::list(self, workspace_id, webhook_id, filter, page).await
    }

    async fn attempt(
        &self,
        workspace_id: &str,
        webhook_id: &str,
        id: &str,
    ) -> StoreResult<Option<Attempt>> {
        history::get(self, workspace_id, webhook_id, id).await
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

    async fn rotate_webhook_secret(
        &self,
        workspace_id: &str,
        id: &str,
        secret: &Secret,
        now: Millis,
        old_expires_at: Millis,
    ) -> StoreResult<bool> {
        webhooks::rotate_secret(self, workspace_id, id, secret, now, old_expires_at).await
    }

    async fn delivery_stats(
        &self,
        workspace_id: &str,
        webhook_id: &str,
        since: Millis,
    ) -> StoreResult<DeliveryStats> {
        dashboard::delivery_stats(self, workspace_id, webhook_id, since).await
    }

    async fn create_session(&self, session: &NewSession) -> StoreResult<()> {
        dashboard::create_session(self, session).await
    }

    async fn session(&self, token_hash: &[u8], now: Millis) -> StoreResult<Option<Session>> {
        dashboard::session(self, token_hash, now).await
    }

    async fn delete_session(&self, token_hash: &[u8]) -> StoreResult<()> {
        dashboard::delete_session(self, token_hash).await
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
        // Cleared after the revocation committed, so no lookup can re-cache the key from before.
        self.keys.clear();
        revoked
    }

    async fn insert_event_type(&self, def: &EventTypeDef, now: Millis) -> StoreResult<bool> {
        admin::insert_event_type(self, def, now).await
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

    async fn prune(&self, cutoff: Millis, limit: u32) -> StoreResult<u64> {
        retention::prune(self, cutoff, limit).await
    }
}
