//! The read side: a few read-only connections, each used by one blocking task at a time. In WAL
//! mode a reader sees the last commit and never waits for the writer, so the API's lists and the
//! dashboard keep answering while the writer runs a batch.
//!
//! Hand-written rather than `deadpool-sqlite` because that crate pins an older `rusqlite` (two
//! copies of the SQLite C library cannot be linked into one binary).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use tokio::sync::Semaphore;

use crate::store::{StoreError, StoreResult};

/// Reads running at once; more wait for a free connection.
const READERS: usize = 4;

#[derive(Clone)]
pub struct Readers {
    path: PathBuf,
    idle: Arc<Mutex<Vec<Connection>>>,
    slots: Arc<Semaphore>,
}

impl Readers {
    pub fn new(path: &Path) -> StoreResult<Self> {
        let readers = Self {
            path: path.to_path_buf(),
            idle: Arc::default(),
            slots: Arc::new(Semaphore::new(READERS)),
        };
        // Opened now so that a file that cannot be read fails start-up, not the first request.
        let first = open_read_only(path)?;
        readers.lock().push(first);
        Ok(readers)
    }

    /// Runs `read` on a read-only connection, off the async runtime's threads.
    pub async fn run<T, F>(&self, read: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let slot = self
            .slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| closed())?;
        let readers = self.clone();
        tokio::task::spawn_blocking(move || {
            let conn = match readers.lock().pop() {
                Some(conn) => conn,
                None => open_read_only(&readers.path)?,
            };
            let result = read(&conn);
            readers.lock().push(conn);
            drop(slot);
            result
        })
        .await
        .map_err(|e| StoreError::internal(format!("a database read panicked: {e}")))?
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Connection>> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn closed() -> StoreError {
    StoreError::unavailable("the database readers are closed")
}

fn open_read_only(path: &Path) -> StoreResult<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}
