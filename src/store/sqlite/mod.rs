//! The embedded default: one SQLite file in WAL mode, reached through `rusqlite` only.
//!
//! - Every write runs on the writer thread (`writer`), which applies whatever has queued up in
//!   one `BEGIN IMMEDIATE` transaction and answers the callers once the commit is synced
//!   (`wal`). SQLite has one writer anyway; one thread that owns it never meets `SQLITE_BUSY`.
//! - Every read runs on one of a few read-only connections (`readers`) on a blocking thread; in
//!   WAL mode reads see the last commit and never wait for the writer.
//! - The schema's migrations run on the first connection when the store opens (`migrate`).

mod admin;
mod claim;
mod commit_tallies;
mod dashboard;
mod event_log;
mod events;
mod history;
mod migrate;
mod queue;
mod readers;
mod replay;
mod retention;
mod rows;
mod stats;
mod tallies;
mod url;
mod wal;
mod webhooks;
mod writer;

pub use url::file_path;

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

use super::*;
use crate::domain::event_type::EventTypeDef;
use crate::domain::sealing::Sealer;
use crate::domain::time::Millis;
use crate::domain::webhook::Secret;
use crate::store::key_cache::KeyCache;
use crate::store::rows::Columns;

pub struct SqliteStore {
    writer: writer::Writer,
    readers: readers::Readers,
    sealer: Sealer,
    /// With SQLite this process is the only writer, so valid keys can be cached exactly.
    keys: KeyCache,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url` and applies the migrations.
    pub async fn open(url: &str) -> StoreResult<Self> {
        let path = url::file_path(url)?;
        let (writer, readers) = tokio::task::spawn_blocking(move || {
            let mut conn = writer::open(&path)?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            migrate::run(&mut conn)?;
            Ok::<_, StoreError>((
                writer::Writer::spawn(&path, conn)?,
                readers::Readers::new(&path)?,
            ))
        })
        .await
        .map_err(|e| StoreError::internal(format!("opening the database panicked: {e}")))??;
        Ok(Self {
            writer,
            readers,
            sealer: Sealer::plaintext(),
            keys: Default::default(),
        })
    }

    /// Encrypts webhook secrets at rest with this sealer from now on.
    pub fn with_sealer(mut self, sealer: Sealer) -> Self {
        self.sealer = sealer;
        self
    }

    /// Runs `work` in the writer's next group commit (see `writer`); it may run twice.
    async fn write<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnMut(&Connection) -> StoreResult<T> + Send + 'static,
    {
        self.writer.run(work).await
    }

    /// Runs `read` on a read-only connection (see `readers`).
    async fn read<T, F>(&self, read: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        self.readers.run(read).await
    }
}

fn workspace_from(row: &rusqlite::Row<'_>) -> StoreResult<Workspace> {
    Ok(Workspace {
        id: row.text("id")?,
        name: row.text("name")?,
        created_at: row.int("created_at")?,
    })
}

/// SQLite serves one process: a second `serve` on the same file would take over the first one's
/// deliveries in flight. An exclusive advisory lock on the file (`flock`, which SQLite's own
/// `fcntl` locks do not touch), held while the returned handle lives, refuses it with a clear
/// error. Other commands (`migrate`, inspection tools) do not take it.
pub fn lock_for_serving(url: &str) -> StoreResult<std::fs::File> {
    let path = url::file_path(url)?;
    let path = path.as_path();
    let file = std::fs::File::open(path)
        .map_err(|e| StoreError::unavailable(format!("cannot open {}: {e}", path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::unavailable(format!(
            "{} is in use by another speaknode-webhooks process; SQLite serves one process \
             (run several on PostgreSQL)",
            path.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(StoreError::unavailable(format!(
            "cannot lock {}: {e}",
            path.display()
        ))),
    }
}

#[async_trait]
impl Operations for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        self.read(|conn| Ok(conn.query_row("SELECT 1", [], |_| Ok(()))?))
            .await
    }

    async fn queue_stats(&self, now: Millis) -> StoreResult<QueueStats> {
        self.read(move |conn| stats::queue_stats(conn, now)).await
    }

    async fn prune(&self, cutoff: Millis, limit: u32) -> StoreResult<u64> {
        self.write(move |conn| retention::prune(conn, cutoff, limit))
            .await
    }
}

#[async_trait]
impl Workspaces for SqliteStore {
    async fn default_workspace(&self) -> StoreResult<Option<Workspace>> {
        self.read(|conn| {
            conn.prepare_cached("SELECT id, name, created_at FROM workspaces WHERE is_default = 1")?
                .query_row([], |row| Ok(workspace_from(row)))
                .optional()?
                .transpose()
        })
        .await
    }

    async fn create_workspace(&self, workspace: &Workspace, is_default: bool) -> StoreResult<()> {
        let workspace = workspace.clone();
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO workspaces (id, name, is_default, created_at) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![
                workspace.id,
                workspace.name,
                is_default,
                workspace.created_at
            ])?;
            Ok(())
        })
        .await
    }

    async fn workspace(&self, id: &str) -> StoreResult<Option<Workspace>> {
        let id = id.to_string();
        self.read(move |conn| {
            conn.prepare_cached("SELECT id, name, created_at FROM workspaces WHERE id = ?1")?
                .query_row([&id], |row| Ok(workspace_from(row)))
                .optional()?
                .transpose()
        })
        .await
    }

    async fn list_workspaces(&self, page: PageRequest) -> StoreResult<Page<Workspace>> {
        self.read(move |conn| admin::list_workspaces(conn, page))
            .await
    }

    async fn revoke_api_key(
        &self,
        workspace_id: &str,
        key_id: &str,
        now: Millis,
    ) -> StoreResult<bool> {
        let (workspace_id, key_id) = (workspace_id.to_string(), key_id.to_string());
        let revoked = self
            .write(move |conn| admin::revoke_api_key(conn, &workspace_id, &key_id, now))
            .await;
        // Cleared after the revocation committed, so no lookup can re-cache the key from before.
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
        let (key_id, workspace_id, key_hash) = (
            key_id.to_string(),
            workspace_id.to_string(),
            key_hash.to_vec(),
        );
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO api_keys (id, workspace_id, key_hash, created_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (key_hash) DO UPDATE SET revoked_at = NULL
                 WHERE workspace_id = excluded.workspace_id",
            )?
            .execute(params![key_id, workspace_id, key_hash, now])?;
            Ok(())
        })
        .await
    }

    async fn workspace_for_key(&self, key_hash: &[u8]) -> StoreResult<Option<String>> {
        let (cached, generation) = self.keys.get(key_hash);
        if cached.is_some() {
            return Ok(cached);
        }
        let hash = key_hash.to_vec();
        let workspace_id = self
            .read(move |conn| {
                Ok(conn
                    .prepare_cached(
                        "SELECT workspace_id FROM api_keys WHERE key_hash = ?1 AND revoked_at IS NULL",
                    )?
                    .query_row([&hash], |row| row.get::<_, String>(0))
                    .optional()?)
            })
            .await?;
        if let Some(id) = &workspace_id {
            self.keys.insert(key_hash, id, generation);
        }
        Ok(workspace_id)
    }
}

#[async_trait]
impl EventTypes for SqliteStore {
    async fn upsert_event_type(&self, def: &EventTypeDef, now: Millis) -> StoreResult<()> {
        let def = def.clone();
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO event_types (name, description, schema, example, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5)
                 ON CONFLICT (name) DO UPDATE SET description = excluded.description,
                     schema = excluded.schema, example = excluded.example,
                     updated_at = excluded.updated_at",
            )?
            .execute(params![
                def.name,
                def.description,
                def.schema.to_string(),
                def.example.to_string(),
                now
            ])?;
            Ok(())
        })
        .await
    }

    async fn event_types(&self) -> StoreResult<Vec<EventTypeDef>> {
        self.read(|conn| {
            let mut query = conn.prepare_cached(
                "SELECT name, description, schema, example FROM event_types ORDER BY name",
            )?;
            let mut rows = query.query([])?;
            let mut defs = Vec::new();
            while let Some(row) = rows.next()? {
                defs.push(rows::event_type_from(row)?);
            }
            Ok(defs)
        })
        .await
    }

    async fn insert_event_type(&self, def: &EventTypeDef, now: Millis) -> StoreResult<bool> {
        let def = def.clone();
        self.write(move |conn| admin::insert_event_type(conn, &def, now))
            .await
    }
}

#[async_trait]
impl Webhooks for SqliteStore {
    async fn create_webhook(&self, webhook: &NewWebhook) -> StoreResult<Webhook> {
        let (webhook, sealer) = (webhook.clone(), self.sealer.clone());
        self.write(move |conn| webhooks::create(conn, &sealer, &webhook))
            .await
    }

    async fn list_webhooks(
        &self,
        workspace_id: &str,
        page: PageRequest,
    ) -> StoreResult<Page<Webhook>> {
        let workspace_id = workspace_id.to_string();
        self.read(move |conn| webhooks::list(conn, &workspace_id, page))
            .await
    }

    async fn webhook(&self, workspace_id: &str, id: &str) -> StoreResult<Option<Webhook>> {
        let (workspace_id, id) = (workspace_id.to_string(), id.to_string());
        self.read(move |conn| webhooks::get(conn, &workspace_id, &id))
            .await
    }

    async fn update_webhook(
        &self,
        workspace_id: &str,
        id: &str,
        patch: &WebhookPatch,
        now: Millis,
    ) -> StoreResult<Option<Webhook>> {
        let (workspace_id, id, patch) = (workspace_id.to_string(), id.to_string(), patch.clone());
        self.write(move |conn| webhooks::update(conn, &workspace_id, &id, &patch, now))
            .await
    }

    async fn delete_webhook(&self, workspace_id: &str, id: &str, now: Millis) -> StoreResult<bool> {
        let (workspace_id, id) = (workspace_id.to_string(), id.to_string());
        self.write(move |conn| webhooks::delete(conn, &workspace_id, &id, now))
            .await
    }

    async fn webhook_secrets(
        &self,
        workspace_id: &str,
        id: &str,
        now: Millis,
    ) -> StoreResult<Option<Vec<Secret>>> {
        let (workspace_id, id, sealer) = (
            workspace_id.to_string(),
            id.to_string(),
            self.sealer.clone(),
        );
        self.read(move |conn| webhooks::secrets(conn, &sealer, &workspace_id, &id, now))
            .await
    }

    async fn rotate_webhook_secret(
        &self,
        workspace_id: &str,
        id: &str,
        secret: &Secret,
        now: Millis,
        old_expires_at: Millis,
    ) -> StoreResult<bool> {
        let (workspace_id, id) = (workspace_id.to_string(), id.to_string());
        let sealed = self.sealer.seal(secret);
        self.write(move |conn| {
            webhooks::rotate_secret(conn, &workspace_id, &id, &sealed, now, old_expires_at)
        })
        .await
    }
}

#[async_trait]
impl Events for SqliteStore {
    async fn ingest_event(&self, event: NewEvent) -> StoreResult<Ingested> {
        self.write(move |conn| events::ingest(conn, &event)).await
    }

    async fn list_events(
        &self,
        workspace_id: &str,
        filter: &EventFilter,
        page: PageRequest,
    ) -> StoreResult<Page<Event>> {
        let (workspace_id, filter) = (workspace_id.to_string(), filter.clone());
        self.read(move |conn| event_log::list(conn, &workspace_id, &filter, page))
            .await
    }

    async fn event(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> StoreResult<Option<(Event, Vec<DeliverySummary>)>> {
        let (workspace_id, id) = (workspace_id.to_string(), id.to_string());
        self.read(move |conn| events::get(conn, &workspace_id, &id))
            .await
    }
}

#[async_trait]
impl Queue for SqliteStore {
    async fn claim_due(&self, claim: &ClaimRequest) -> StoreResult<Vec<Claimed>> {
        let (claim, sealer) = (claim.clone(), self.sealer.clone());
        self.write(move |conn| claim::claim(conn, &claim, &sealer))
            .await
    }

    async fn release(&self, claims: &[Claimed], now: Millis) -> StoreResult<()> {
        let leases: Vec<_> = claims
            .iter()
            .map(|c| (c.delivery_id.clone(), c.lease_token))
            .collect();
        self.write(move |conn| queue::release(conn, &leases, now))
            .await
    }

    async fn release_leases(&self, owner: Option<&str>, now: Millis) -> StoreResult<u64> {
        let owner = owner.map(str::to_string);
        self.write(move |conn| queue::release_leases(conn, owner.as_deref(), now))
            .await
    }

    async fn next_due_at(&self) -> StoreResult<Option<Millis>> {
        self.read(queue::next_due_at).await
    }

    async fn record_attempt(&self, attempt: &NewAttempt) -> StoreResult<Attempt> {
        let attempt = attempt.clone();
        self.write(move |conn| queue::record(conn, &attempt)).await
    }

    async fn create_test_delivery(&self, test: &NewTestDelivery) -> StoreResult<Option<Claimed>> {
        let (test, sealer) = (test.clone(), self.sealer.clone());
        self.write(move |conn| queue::create_test_delivery(conn, &sealer, &test))
            .await
    }
}

#[async_trait]
impl History for SqliteStore {
    async fn list_attempts(
        &self,
        workspace_id: &str,
        webhook_id: &str,
        filter: &AttemptFilter,
        page: PageRequest,
    ) -> StoreResult<Page<Attempt>> {
        let (workspace_id, webhook_id, filter) = (
            workspace_id.to_string(),
            webhook_id.to_string(),
            filter.clone(),
        );
        self.read(move |conn| history::list(conn, &workspace_id, &webhook_id, &filter, page))
            .await
    }

    async fn delivery_attempts(
        &self,
        workspace_id: &str,
        delivery_id: &str,
    ) -> StoreResult<Vec<Attempt>> {
        let (workspace_id, delivery_id) = (workspace_id.to_string(), delivery_id.to_string());
        self.read(move |conn| history::of_delivery(conn, &workspace_id, &delivery_id))
            .await
    }

    async fn attempt(
        &self,
        workspace_id: &str,
        webhook_id: &str,
        id: &str,
    ) -> StoreResult<Option<Attempt>> {
        let (workspace_id, webhook_id, id) = (
            workspace_id.to_string(),
            webhook_id.to_string(),
            id.to_string(),
        );
        self.read(move |conn| history::get(conn, &workspace_id, &webhook_id, &id))
            .await
    }

    async fn requeue_failed(
        &self,
        workspace_id: &str,
        webhook_id: &str,
        since: Millis,
        now: Millis,
    ) -> StoreResult<Option<u64>> {
        let (workspace_id, webhook_id) = (workspace_id.to_string(), webhook_id.to_string());
        self.write(move |conn| admin::requeue_failed(conn, &workspace_id, &webhook_id, since, now))
            .await
    }

    async fn replay(&self, replay: &Replay) -> StoreResult<Option<u64>> {
        let mut replayed = 0;
        let mut after = 0;
        loop {
            let job = replay.clone();
            let Some((made, next)) = self
                .write(move |conn| replay::chunk(conn, &job, after))
                .await?
            else {
                return Ok(None);
            };
            replayed += made;
            match next {
                Some(seq) => after = seq,
                None => return Ok(Some(replayed)),
            }
        }
    }

    async fn retry_delivery(
        &self,
        workspace_id: &str,
        webhook_id: &str,
        attempt_id: &str,
        now: Millis,
    ) -> StoreResult<Option<String>> {
        let (workspace_id, webhook_id, attempt_id) = (
            workspace_id.to_string(),
            webhook_id.to_string(),
            attempt_id.to_string(),
        );
        self.write(move |conn| history::retry(conn, &workspace_id, &webhook_id, &attempt_id, now))
            .await
    }

    async fn pending_deliveries(
        &self,
        workspace_id: &str,
        webhook_id: &str,
        cap: u64,
    ) -> StoreResult<u64> {
        let (workspace_id, webhook_id) = (workspace_id.to_string(), webhook_id.to_string());
        self.read(move |conn| dashboard::pending_deliveries(conn, &workspace_id, &webhook_id, cap))
            .await
    }
}

#[async_trait]
impl Statistics for SqliteStore {
    async fn tallies(
        &self,
        workspace_id: &str,
        webhook_id: Option<&str>,
        span: &str,
        from: Millis,
        to: Millis,
    ) -> StoreResult<Vec<(Millis, String, u64)>> {
        let (ws, webhook, span) = (
            workspace_id.to_string(),
            webhook_id.map(str::to_string),
            span.to_string(),
        );
        self.read(move |conn| tallies::tallies(conn, &ws, webhook.as_deref(), &span, from, to))
            .await
    }

    async fn outcome_counts(
        &self,
        workspace_id: &str,
        webhook_id: Option<&str>,
        from: Millis,
        to: Millis,
    ) -> StoreResult<Vec<(String, u64)>> {
        let (ws, webhook) = (workspace_id.to_string(), webhook_id.map(str::to_string));
        self.read(move |conn| tallies::outcome_counts(conn, &ws, webhook.as_deref(), from, to))
            .await
    }
}

#[async_trait]
impl Sessions for SqliteStore {
    async fn create_session(&self, session: &NewSession) -> StoreResult<()> {
        let session = session.clone();
        self.write(move |conn| dashboard::create_session(conn, &session))
            .await
    }

    async fn session(&self, token_hash: &[u8], now: Millis) -> StoreResult<Option<Session>> {
        let token_hash = token_hash.to_vec();
        self.read(move |conn| dashboard::session(conn, &token_hash, now))
            .await
    }

    async fn delete_session(&self, token_hash: &[u8]) -> StoreResult<()> {
        let token_hash = token_hash.to_vec();
        self.write(move |conn| dashboard::delete_session(conn, &token_hash))
            .await
    }

    async fn create_portal_link(&self, link: &NewPortalLink) -> StoreResult<bool> {
        let link = link.clone();
        self.write(move |conn| dashboard::create_portal_link(conn, &link))
            .await
    }

    async fn redeem_portal_link(
        &self,
        token_hash: &[u8],
        now: Millis,
    ) -> StoreResult<Option<PortalGrant>> {
        let token_hash = token_hash.to_vec();
        self.write(move |conn| dashboard::redeem_portal_link(conn, &token_hash, now))
            .await
    }
}
