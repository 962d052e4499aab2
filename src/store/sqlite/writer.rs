//! Group commit on a thread of its own. Every write (accepting events, claiming due deliveries,
//! recording attempts, and the API's and dashboard's changes) queues here as a job, and one
//! thread that owns a plain SQLite connection (with cached prepared statements) applies
//! whatever has queued up in ONE transaction, then answers every caller. Nobody is answered before the commit, so a 202 still
//! means "on disk".
//!
//! Why a thread and not an async pool: the profile of the first version was dominated by
//! per-statement hand-offs between the async runtime and the driver's worker thread. Here a
//! whole batch crosses threads once.
//!
//! The fsync that makes a commit durable is the slowest part of a batch, so it is pipelined:
//! the writer commits without syncing and hands the batch to the WAL syncer (see `wal`), which
//! syncs the WAL file and only then answers the batch's callers, while the writer already runs
//! the next batch.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use tokio::sync::{mpsc, oneshot};

use super::commit_tallies;
use super::wal::{self, Syncer};
use crate::store::{StoreError, StoreResult};

/// Most jobs committed together; bounds the time one commit takes.
const MAX_BATCH: usize = 512;

/// One unit of work for the writer thread, run inside its current transaction.
pub(super) trait Job: Send {
    fn run(&mut self, conn: &Connection) -> StoreResult<()>;
    fn answer(self: Box<Self>);
    fn fail(self: Box<Self>, error: &StoreError);
}

struct Task<T, F> {
    work: F,
    done: Option<T>,
    reply: oneshot::Sender<StoreResult<T>>,
}

impl<T, F> Job for Task<T, F>
where
    T: Send,
    F: FnMut(&Connection) -> StoreResult<T> + Send,
{
    fn run(&mut self, conn: &Connection) -> StoreResult<()> {
        self.done = Some((self.work)(conn)?);
        Ok(())
    }

    fn answer(self: Box<Self>) {
        if let Some(done) = self.done {
            drop(self.reply.send(Ok(done)));
        }
    }

    fn fail(self: Box<Self>, error: &StoreError) {
        drop(self.reply.send(Err(error.clone())));
    }
}

#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Box<dyn Job>>,
    /// Dropped with the last `Writer`, which stops the checkpointer.
    _checkpointer: std::sync::Arc<std::sync::mpsc::Sender<()>>,
}

impl Writer {
    /// Starts the thread on `conn`, a connection to the (already migrated) database file at
    /// `path`. The thread ends when the last `Writer` handle is dropped.
    pub fn spawn(path: &Path, conn: Connection) -> StoreResult<Self> {
        // Checkpoints copy the WAL back into the database file; left to the committing
        // connection they run inside a commit, on the hot path. A thread of their own does them
        // (with synchronous=FULL, so the database file is synced before the WAL is reused).
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        // The syncer makes each commit durable before its callers hear of it (see above).
        conn.pragma_update(None, "synchronous", "OFF")?;
        let syncer = Syncer::spawn(path, &conn)?;
        let checkpoints = open(path)?;
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        let (stop, stopped) = std::sync::mpsc::channel();
        spawn("sqlite-writer", move || run(conn, rx, syncer))?;
        spawn("sqlite-checkpoint", move || {
            wal::checkpoint(checkpoints, stopped)
        })?;
        Ok(Self {
            jobs: tx,
            _checkpointer: std::sync::Arc::new(stop),
        })
    }

    /// Runs `work` in the next group commit and returns its result once that commit is on disk.
    /// `work` may run twice: if the batch it was in fails, it is retried in a batch of its own.
    pub async fn run<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnMut(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let gone = || StoreError::unavailable("the database writer stopped");
        let job = Box::new(Task {
            work,
            done: None,
            reply,
        });
        self.jobs.send(job).await.map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

pub(super) fn spawn(name: &str, body: impl FnOnce() + Send + 'static) -> StoreResult<()> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(body)
        .map(drop)
        .map_err(|e| StoreError::internal(format!("cannot start the {name} thread: {e}")))
}

/// A read-write connection, creating the file if it is missing.
pub(super) fn open(path: &Path) -> StoreResult<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    // FULL: a commit is on disk before the 202 goes out, even if the machine loses power.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    // The WAL is reused after each checkpoint; this trims what a burst left on disk.
    conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

fn run(mut conn: Connection, mut jobs: mpsc::Receiver<Box<dyn Job>>, syncer: Syncer) {
    while let Some(first) = jobs.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        match apply(&mut conn, &mut batch) {
            Ok(()) => syncer.answer_when_durable(batch),
            // One bad job must not fail its neighbours: retry each on its own.
            Err(_) if batch.len() > 1 => {
                for job in batch {
                    let mut single = [job];
                    match apply(&mut conn, &mut single) {
                        Ok(()) => syncer.answer_when_durable(Vec::from(single)),
                        Err(e) => single.into_iter().for_each(|job| job.fail(&e)),
                    }
                }
            }
            Err(e) => batch.into_iter().for_each(|job| job.fail(&e)),
        }
    }
    // Whatever closes last checkpoints the WAL into the database file: do it safely.
    if let Err(e) = conn.pragma_update(None, "synchronous", "FULL") {
        tracing::warn!(error = %e, "could not restore synchronous=FULL on the writer");
    }
}

/// Applies the batch in one `BEGIN IMMEDIATE` transaction; any error rolls all of it back.
fn apply(conn: &mut Connection, batch: &mut [Box<dyn Job>]) -> StoreResult<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // What a failed batch counted must not reach the next one.
    commit_tallies::discard();
    for job in batch.iter_mut() {
        job.run(&tx)?;
    }
    commit_tallies::write(&tx)?;
    tx.commit()?;
    Ok(())
}
