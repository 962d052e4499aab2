//! How statements reach PostgreSQL: straight over a pooled connection, or, behind a pooler in
//! transaction mode (PgBouncer), each inside a transaction of its own.
//!
//! Why the transaction: the driver sends a statement as two exchanges (Parse/Describe/Sync,
//! then Bind/Execute/Sync). Outside a transaction a transaction-mode pooler may hand the second
//! exchange to another server connection, which does not know the statement (PgBouncer 1.18:
//! "bind message supplies 5 parameters, but prepared statement \"\" requires 1"). Inside one,
//! the pooler keeps the whole transaction on one server connection. Statements are also sent
//! unnamed there, since a named one would outlive the transaction on a server connection that
//! the next client of the pooler may then try to prepare the same name on.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgArguments, PgQueryResult, PgRow};
use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use crate::store::StoreResult;

/// Whether statements are prepared once per connection and reused (named), or sent unnamed.
/// A process has one database, so this is set once, when its store opens.
static NAMED_STATEMENTS: AtomicBool = AtomicBool::new(true);

pub(super) type Query = sqlx::query::Query<'static, Postgres, PgArguments>;

/// Every statement of this backend is made here, so pooled mode decides in one place how it is
/// prepared.
pub(super) fn query(sql: &'static str) -> Query {
    sqlx::query(sql).persistent(NAMED_STATEMENTS.load(Ordering::Relaxed))
}

/// The pool, and whether it goes through a transaction-mode pooler.
#[derive(Clone)]
pub(super) struct Db {
    pub pool: PgPool,
    pub pooled: bool,
    /// How long a span of the history each partition holds (`partitions::span_for`).
    pub span: i64,
}

impl Db {
    pub fn new(pool: PgPool, pooled: bool, span: i64) -> Self {
        if pooled {
            NAMED_STATEMENTS.store(false, Ordering::Relaxed);
        }
        Self { pool, pooled, span }
    }

    pub async fn begin(&self) -> StoreResult<Transaction<'static, Postgres>> {
        Ok(self.pool.begin().await?)
    }

    /// A connection for one unit of work; [`Session::finish`] ends it.
    pub async fn session(&self) -> StoreResult<Session> {
        Ok(if self.pooled {
            Session::Pinned(self.pool.begin().await?)
        } else {
            Session::Direct(self.pool.acquire().await?)
        })
    }
}

/// A plain pooled connection, or a transaction that pins one pooler connection.
pub(super) enum Session {
    Direct(PoolConnection<Postgres>),
    Pinned(Transaction<'static, Postgres>),
}

impl Session {
    pub fn conn(&mut self) -> &mut PgConnection {
        match self {
            Self::Direct(conn) => conn,
            Self::Pinned(tx) => tx,
        }
    }

    /// Commits the pinning transaction, if there is one. Dropping a session without this rolls
    /// it back.
    pub async fn finish(self) -> StoreResult<()> {
        if let Self::Pinned(tx) = self {
            tx.commit().await?;
        }
        Ok(())
    }
}

/// One statement run in a session of its own.
pub(super) trait Run {
    fn fetch_all_on(self, db: &Db) -> impl Future<Output = StoreResult<Vec<PgRow>>> + Send;
    fn fetch_optional_on(self, db: &Db) -> impl Future<Output = StoreResult<Option<PgRow>>> + Send;
    fn fetch_one_on(self, db: &Db) -> impl Future<Output = StoreResult<PgRow>> + Send;
    fn execute_on(self, db: &Db) -> impl Future<Output = StoreResult<PgQueryResult>> + Send;
}

impl Run for Query {
    async fn fetch_all_on(self, db: &Db) -> StoreResult<Vec<PgRow>> {
        let mut session = db.session().await?;
        let rows = self.fetch_all(session.conn()).await?;
        session.finish().await?;
        Ok(rows)
    }

    async fn fetch_optional_on(self, db: &Db) -> StoreResult<Option<PgRow>> {
        let mut session = db.session().await?;
        let row = self.fetch_optional(session.conn()).await?;
        session.finish().await?;
        Ok(row)
    }

    async fn fetch_one_on(self, db: &Db) -> StoreResult<PgRow> {
        let mut session = db.session().await?;
        let row = self.fetch_one(session.conn()).await?;
        session.finish().await?;
        Ok(row)
    }

    async fn execute_on(self, db: &Db) -> StoreResult<PgQueryResult> {
        let mut session = db.session().await?;
        let done = self.execute(session.conn()).await?;
        session.finish().await?;
        Ok(done)
    }
}
