//! The two threads that look after SQLite's write-ahead log beside the writer.
//!
//! - The **syncer** makes commits durable. The writer commits with `synchronous=OFF` (its
//!   frames are written to the WAL but not synced) and hands the batch over; the syncer calls
//!   `fdatasync` on the WAL file, which covers every frame written so far, and only then answers
//!   the batch's callers. Batches that queued up during one sync share the next one. A 202 is
//!   therefore still sent only once the event is on disk, but the writer no longer waits for
//!   the disk between batches.
//! - The **checkpointer** copies committed frames back into the database file (PASSIVE: it
//!   never blocks the writer) on a connection with `synchronous=FULL`, which syncs the WAL
//!   before and the database file after, so the WAL is only reused once the database file holds
//!   everything durably.

use std::fs::File;
use std::path::Path;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

use rusqlite::Connection;

use super::writer::{Job, spawn};
use crate::store::{StoreError, StoreResult};

/// How often the WAL is copied back into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);

pub struct Syncer(Sender<Vec<Box<dyn Job>>>);

impl Syncer {
    /// Opens the WAL file of the database `conn` is connected to and starts the syncer thread.
    pub fn spawn(path: &Path, conn: &Connection) -> StoreResult<Self> {
        // A read makes sure this connection has opened the WAL (it exists from then on, until
        // the last connection closes; the writer's connection outlives the syncer).
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))?;
        let mut wal_path = path.as_os_str().to_owned();
        wal_path.push("-wal");
        let wal = File::open(&wal_path).map_err(|e| {
            StoreError::unavailable(format!("cannot open the WAL file {wal_path:?}: {e}"))
        })?;
        let (tx, rx) = mpsc::channel();
        spawn("sqlite-sync", move || sync(wal, rx))?;
        Ok(Self(tx))
    }

    /// Answers the callers of a committed batch once the WAL holding it is synced.
    pub fn answer_when_durable(&self, batch: Vec<Box<dyn Job>>) {
        if let Err(mpsc::SendError(batch)) = self.0.send(batch) {
            let gone = StoreError::unavailable("the WAL syncer stopped");
            batch.into_iter().for_each(|job| job.fail(&gone));
        }
    }
}

fn sync(wal: File, batches: Receiver<Vec<Box<dyn Job>>>) {
    while let Ok(mut committed) = batches.recv() {
        while let Ok(more) = batches.try_recv() {
            committed.extend(more);
        }
        match wal.sync_data() {
            Ok(()) => committed.into_iter().for_each(Job::answer),
            Err(e) => {
                // The batch is committed but may not survive a power cut: tell its callers it
                // failed (a retried event is deduplicated by its Idempotency-Key).
                tracing::error!(error = %e, "syncing the SQLite WAL failed");
                let failed = StoreError::unavailable(format!("syncing the database failed: {e}"));
                committed.into_iter().for_each(|job| job.fail(&failed));
            }
        }
    }
}

/// Every [`CHECKPOINT_EVERY`] until `stop` is dropped, checkpoints the WAL (see the module doc).
pub fn checkpoint(conn: Connection, stop: Receiver<()>) {
    while let Err(RecvTimeoutError::Timeout) = stop.recv_timeout(CHECKPOINT_EVERY) {
        let checkpointed = run_checkpoint(&conn, "PASSIVE").and_then(|frames| {
            if frames > RESTART_AFTER_FRAMES {
                run_checkpoint(&conn, "RESTART")?;
            }
            Ok(())
        });
        if let Err(e) = checkpointed {
            tracing::warn!(error = %e, "WAL checkpoint failed; will try again");
        }
    }
}

/// Under steady writes a PASSIVE checkpoint never catches up with the end of the WAL, so the
/// WAL is never started over and grows for as long as the load lasts: every frame then lands in
/// fresh file pages, which the kernel zeroes first (a tenth of the writer's CPU in the profile).
/// Past this many frames (16 MiB) a RESTART checkpoint waits for the writer to be between
/// batches, copies the few frames left, and the next batch starts the WAL from its beginning.
const RESTART_AFTER_FRAMES: i64 = 4096;

/// Runs one checkpoint and returns the WAL's length in frames before it.
fn run_checkpoint(conn: &Connection, mode: &str) -> rusqlite::Result<i64> {
    conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |row| {
        row.get::<_, i64>(1)
    })
}
