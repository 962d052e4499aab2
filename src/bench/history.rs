//! The history scenario's seeding (`--history N`): N attempts over the last `--history-days`
//! days, written straight into the database in bulk, as the service itself would have recorded
//! them: events with a `data` object, one delivery per webhook they went to, attempts, and the
//! statistics tallies of those attempts (counted from the attempts, as migration 0010/0011
//! does), so that the reads measured afterwards (`reads`) see a realistic store.
//!
//! The shape, fixed so that runs compare:
//! - event `i` is a `ConversationComplete` whose data is `{"conversation_id": "conv_<i>",
//!   "agent_id": "agent_<i mod 100>", "duration_s": <i mod 600>}`, created at evenly spaced times
//!   from the start of the window to 3 hours before now (so its retries are all in the past);
//! - it goes to two of the webhooks (one when there is one), round robin;
//! - delivery `n` follows pattern `n mod 4`: two succeed at once (200); one after a 503 and a
//!   timeout (3 attempts); one fails five times (500, 500, 502, timeout, 500) and is `failed`.
//!   That is 2.5 attempts per delivery: N attempts are N / 2.5 deliveries and N / 5 events.

use anyhow::Context;

/// Events seeded per transaction (and per progress line).
const CHUNK: u64 = 100_000;
/// How long before now the last event is created: its retries span 2 h 05 min.
const LAST_EVENT_BEFORE_NOW_MS: i64 = 3 * 3_600_000;
/// The webhooks an event goes to (fewer when there are fewer webhooks).
const FANOUT: u64 = 2;
/// Attempts per delivery, on average, over the four patterns.
const ATTEMPTS_PER_DELIVERY: f64 = 2.5;

/// The four delivery patterns' attempts: (pattern, attempt index, HTTP status, error,
/// succeeded, milliseconds after the first attempt, next attempt's offset).
const PATTERNS: &str = "(0, 0, 200, NULL, 1, 0, NULL), (1, 0, 200, NULL, 1, 0, NULL),
    (2, 0, 503, NULL, 0, 0, 5000), (2, 1, NULL, 'timeout', 0, 5000, 305000),
    (2, 2, 200, NULL, 1, 305000, NULL),
    (3, 0, 500, NULL, 0, 0, 5000), (3, 1, 500, NULL, 0, 5000, 305000),
    (3, 2, 502, NULL, 0, 305000, 2105000), (3, 3, NULL, 'timeout', 0, 2105000, 7505000),
    (3, 4, 500, NULL, 0, 7505000, NULL)";

/// What was seeded.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Seeded {
    pub events: u64,
    pub deliveries: u64,
    pub attempts: u64,
    pub days: u32,
    pub seconds: f64,
}

/// Where and how much to seed.
pub struct Shape {
    pub workspace_id: String,
    /// The webhooks' ids, in creation order.
    pub webhooks: Vec<String>,
    pub events: u64,
    pub fanout: u64,
    /// The first event's time, Unix ms.
    pub start: i64,
    /// Milliseconds between two events (fractional).
    pub step: f64,
}

impl Shape {
    /// The workspace is read from the database when seeding starts (the webhooks').
    pub fn new(webhooks: Vec<String>, attempts: u64, days: u32, now: i64) -> Self {
        let fanout = FANOUT.min(webhooks.len() as u64).max(1);
        let events = ((attempts as f64 / ATTEMPTS_PER_DELIVERY) as u64 / fanout).max(1);
        let start = now - i64::from(days) * 86_400_000 + 60_000;
        let span = (now - LAST_EVENT_BEFORE_NOW_MS - start).max(1);
        Self {
            workspace_id: String::new(),
            webhooks,
            events,
            fanout,
            start,
            step: span as f64 / events as f64,
        }
    }
}

/// Seeds the history described by `shape`, a chunk of events at a time, with a progress line
/// per chunk on stderr unless `quiet`.
pub async fn seed(database_url: &str, shape: Shape, quiet: bool) -> anyhow::Result<(u64, u64)> {
    if database_url.starts_with("sqlite:") {
        let path = crate::store::sqlite::file_path(database_url)?;
        tokio::task::spawn_blocking(move || sqlite::seed(&path, shape, quiet))
            .await
            .context("the seeding task failed")?
    } else {
        postgres::seed(database_url, shape, quiet).await
    }
}

fn progress(quiet: bool, done: u64, shape: &Shape, started: std::time::Instant) {
    if !quiet {
        eprintln!(
            "seeded {done} of {} events ({:.0?})",
            shape.events,
            started.elapsed()
        );
    }
}

mod sqlite {
    use super::{CHUNK, PATTERNS, Shape, progress};
    use rusqlite::params;

    /// Event `i` and its time, for `i` in `[?1, ?2)`; `?3` start, `?4` step.
    const NUMBERS: &str =
        "WITH RECURSIVE n(i) AS (SELECT ?1 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?2),
        ev AS (SELECT i, ?3 + CAST(i * ?4 AS INTEGER) AS t FROM n)";

    /// Each delivery `n` of event `i` to webhook `w`; adds `?5` fan-out, `?6` webhook count.
    const DELIVERIES: &str = "d AS (SELECT i, t, j, i * ?5 + j AS n, (i + j) % ?6 AS w
        FROM ev, (SELECT 0 AS j UNION ALL SELECT 1) WHERE j < ?5)";

    pub fn seed(
        path: &std::path::Path,
        mut shape: Shape,
        quiet: bool,
    ) -> anyhow::Result<(u64, u64)> {
        let mut conn = rusqlite::Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(60))?;
        shape.workspace_id = conn.query_row(
            "SELECT workspace_id FROM webhooks WHERE id = ?1",
            [&shape.webhooks[0]],
            |r| r.get(0),
        )?;
        let shape = &shape;
        conn.execute_batch("CREATE TEMP TABLE bench_webhooks (idx INTEGER PRIMARY KEY, id TEXT)")?;
        for (idx, id) in shape.webhooks.iter().enumerate() {
            conn.execute(
                "INSERT INTO bench_webhooks VALUES (?1, ?2)",
                params![idx as i64, id],
            )?;
        }
        let started = std::time::Instant::now();
        let (mut deliveries, mut attempts) = (0, 0);
        let mut lo = 0;
        while lo < shape.events {
            let hi = (lo + CHUNK).min(shape.events);
            let (d, a) = chunk(&mut conn, shape, lo, hi)?;
            deliveries += d;
            attempts += a;
            lo = hi;
            progress(quiet, lo, shape, started);
        }
        fold_wal(&conn)?;
        Ok((deliveries, attempts))
    }

    /// Folds the WAL into the database file, as a long-running service's is, so that the size
    /// reported is the history's: the service's own connections may hold it back for a moment
    /// (the checkpoint then answers busy), so this tries for up to ten seconds.
    fn fold_wal(conn: &rusqlite::Connection) -> anyhow::Result<()> {
        for _ in 0..100 {
            let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
            if busy == 0 {
                return Ok(());
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        anyhow::bail!("the WAL could not be checkpointed: the database stayed busy")
    }

    fn chunk(
        conn: &mut rusqlite::Connection,
        shape: &Shape,
        lo: u64,
        hi: u64,
    ) -> anyhow::Result<(u64, u64)> {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let numbers = params![
            lo as i64,
            hi as i64,
            shape.start,
            shape.step,
            shape.fanout as i64,
            shape.webhooks.len() as i64,
            shape.workspace_id,
        ];
        tx.execute(
            &format!(
                "{NUMBERS} INSERT INTO events (id, workspace_id, event_type, payload, created_at,
                     delivery_count)
                 SELECT printf('evt_h%010d', i), ?7, 'ConversationComplete',
                     printf('{{\"id\":\"evt_h%010d\",\"type\":\"ConversationComplete\",\"created_at\":\"%s\",\"data\":{{\"conversation_id\":\"conv_%d\",\"agent_id\":\"agent_%d\",\"duration_s\":%d}}}}',
                         i, strftime('%Y-%m-%dT%H:%M:%fZ', t / 1000.0, 'unixepoch'), i, i % 100, i % 600),
                     t, ?5
                 FROM ev WHERE ?6 > 0"
            ),
            numbers,
        )?;
        let deliveries = tx.execute(
            &format!(
                "{NUMBERS}, {DELIVERIES}
                 INSERT INTO deliveries (id, workspace_id, webhook_id, event_id, state, attempts,
                     next_attempt_at, next_trigger, created_at, updated_at)
                 SELECT printf('dlv_h%011d', n), ?7, b.id, printf('evt_h%010d', i),
                     CASE n % 4 WHEN 3 THEN 'failed' ELSE 'succeeded' END,
                     CASE n % 4 WHEN 2 THEN 3 WHEN 3 THEN 5 ELSE 1 END, NULL,
                     CASE WHEN n % 4 < 2 THEN 'scheduled' ELSE 'retry' END, t,
                     t + 40 + CASE n % 4 WHEN 2 THEN 305000 WHEN 3 THEN 7505000 ELSE 0 END
                 FROM d JOIN bench_webhooks b ON b.idx = d.w"
            ),
            numbers,
        )?;
        let before: i64 = tx.query_row("SELECT COALESCE(MAX(seq), 0) FROM attempts", [], |r| {
            r.get(0)
        })?;
        let attempts = tx.execute(
            &format!(
                "{NUMBERS}, {DELIVERIES},
                 p(k, a, status, error, ok, off, next) AS (VALUES {PATTERNS})
                 INSERT INTO attempts (id, workspace_id, webhook_id, delivery_id, event_id,
                     event_type, attempt, trigger, timestamp, http_status, error, succeeded,
                     duration_ms, response, response_truncated, next_attempt_at)
                 SELECT printf('att_h%011d%d', n, a), ?7, b.id, printf('dlv_h%011d', n),
                     printf('evt_h%010d', i), 'ConversationComplete', a + 1,
                     CASE a WHEN 0 THEN 'scheduled' ELSE 'retry' END, t + 40 + off, status,
                     error, ok, CASE WHEN error IS NULL THEN 12 ELSE 15000 END,
                     CASE WHEN ok THEN '{{\"received\":true}}' ELSE 'upstream unavailable' END,
                     0, t + 40 + next
                 FROM d JOIN bench_webhooks b ON b.idx = d.w JOIN p ON p.k = d.n % 4"
            ),
            numbers,
        )?;
        tx.execute(
            "INSERT INTO attempt_stats (webhook_id, span, bucket_start, outcome, workspace_id,
                 attempts)
             SELECT webhook_id, s.span, timestamp - timestamp % s.len,
                 COALESCE(CAST(http_status AS TEXT), error, 'unknown'), workspace_id, COUNT(*)
             FROM attempts
             CROSS JOIN (SELECT 'm' AS span, 60000 AS len UNION ALL SELECT 'h', 3600000) s
             WHERE seq > ?1
             GROUP BY 1, 2, 3, 4, 5
             ON CONFLICT (webhook_id, span, bucket_start, outcome)
             DO UPDATE SET attempts = attempts + excluded.attempts",
            params![before],
        )?;
        tx.commit()?;
        Ok((deliveries as u64, attempts as u64))
    }
}

mod postgres {
    use super::{CHUNK, PATTERNS, Shape, progress};
    use std::sync::Arc;

    /// Event `i` and its time, for `i` in `[$1, $2)`; `$3` start, `$4` step.
    const NUMBERS: &str = "WITH ev AS (SELECT i, $3 + (i * $4::float8)::bigint AS t
        FROM generate_series($1::bigint, $2::bigint - 1) AS i)";
    /// Each delivery `n` of event `i` to webhook `w`; adds `$5` fan-out, `$6` webhook count.
    const DELIVERIES: &str = "d AS (SELECT i, t, j, i * $5 + j AS n, (i + j) % $6 AS w
        FROM ev, generate_series(0::bigint, $5::bigint - 1) AS j)";

    pub async fn seed(url: &str, mut shape: Shape, quiet: bool) -> anyhow::Result<(u64, u64)> {
        use sqlx::{ConnectOptions, Connection};
        // Seeding statements take seconds by design: not worth sqlx's slow-statement warning.
        let options: sqlx::postgres::PgConnectOptions = url.parse()?;
        let mut conn = options.disable_statement_logging().connect().await?;
        shape.workspace_id = sqlx::query_scalar("SELECT workspace_id FROM webhooks WHERE id = $1")
            .bind(&shape.webhooks[0])
            .fetch_one(&mut conn)
            .await?;
        let shape = &shape;
        // The history's partitions for the days being seeded (the service makes only today's
        // and the next few).
        let end = shape.start + (shape.events as f64 * shape.step) as i64;
        crate::store::postgres::cover_history(url, shape.start, end).await?;
        sqlx::query("CREATE TEMP TABLE bench_webhooks (idx BIGINT PRIMARY KEY, id TEXT)")
            .execute(&mut conn)
            .await?;
        for (idx, id) in shape.webhooks.iter().enumerate() {
            sqlx::query("INSERT INTO bench_webhooks VALUES ($1, $2)")
                .bind(idx as i64)
                .bind(id)
                .execute(&mut conn)
                .await?;
        }
        let statements = Statements::new();
        let started = std::time::Instant::now();
        let (mut deliveries, mut attempts) = (0, 0);
        let mut lo = 0;
        while lo < shape.events {
            let hi = (lo + CHUNK).min(shape.events);
            let (d, a) = chunk(&mut conn, &statements, shape, lo, hi).await?;
            deliveries += d;
            attempts += a;
            lo = hi;
            progress(quiet, lo, shape, started);
        }
        // What autovacuum would have done by now on a production server (it is off on some
        // test machines): the planner's statistics and the visibility map.
        sqlx::query("VACUUM ANALYZE").execute(&mut conn).await?;
        conn.close().await?;
        Ok((deliveries, attempts))
    }

    /// The three statements of a chunk, built once from the constant fragments above (no
    /// value is ever formatted into them: every value is bound).
    struct Statements {
        events: Arc<str>,
        deliveries: Arc<str>,
        attempts: Arc<str>,
    }

    impl Statements {
        fn new() -> Self {
            Self {
                events: format!(
                    "{NUMBERS} INSERT INTO events (id, workspace_id, event_type, payload, created_at,
                         delivery_count)
                     SELECT 'evt_h' || lpad(i::text, 10, '0'), $7, 'ConversationComplete',
                         '{{\"id\":\"evt_h' || lpad(i::text, 10, '0')
                             || '\",\"type\":\"ConversationComplete\",\"created_at\":\"'
                             || to_char(to_timestamp(t / 1000.0) AT TIME ZONE 'UTC',
                                 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')
                             || '\",\"data\":{{\"conversation_id\":\"conv_' || i
                             || '\",\"agent_id\":\"agent_' || (i % 100)
                             || '\",\"duration_s\":' || (i % 600) || '}}}}',
                         t, $5
                     FROM ev WHERE $6 > 0"
                )
                .into(),
                deliveries: format!(
                    "{NUMBERS}, {DELIVERIES}
                     INSERT INTO finished_deliveries (id, workspace_id, webhook_id, event_id,
                         state, attempts, created_at, updated_at)
                     SELECT 'dlv_h' || lpad(n::text, 11, '0'), $7, b.id,
                         'evt_h' || lpad(i::text, 10, '0'),
                         CASE n % 4 WHEN 3 THEN 'failed' ELSE 'succeeded' END,
                         CASE n % 4 WHEN 2 THEN 3 WHEN 3 THEN 5 ELSE 1 END, t,
                         t + 40 + CASE n % 4 WHEN 2 THEN 305000 WHEN 3 THEN 7505000 ELSE 0 END
                     FROM d JOIN bench_webhooks b ON b.idx = d.w"
                )
                .into(),
                attempts: format!(
                    "{NUMBERS}, {DELIVERIES},
                     p(k, a, status, error, ok, off, next) AS (VALUES {PATTERNS})
                     INSERT INTO attempts (id, workspace_id, webhook_id, delivery_id, event_id,
                         event_type, attempt, trigger, timestamp, http_status, error, succeeded,
                         duration_ms, response, response_truncated, next_attempt_at)
                     SELECT 'att_h' || lpad(n::text, 11, '0') || a, $7, b.id,
                         'dlv_h' || lpad(n::text, 11, '0'), 'evt_h' || lpad(i::text, 10, '0'),
                         'ConversationComplete', a + 1,
                         CASE a WHEN 0 THEN 'scheduled' ELSE 'retry' END, t + 40 + off, status,
                         error, ok = 1, CASE WHEN error IS NULL THEN 12 ELSE 15000 END,
                         CASE WHEN ok = 1 THEN '{{\"received\":true}}'
                             ELSE 'upstream unavailable' END,
                         FALSE, t + 40 + next
                     FROM d JOIN bench_webhooks b ON b.idx = d.w JOIN p ON p.k = d.n % 4"
                )
                .into(),
            }
        }
    }

    /// `sql` with the chunk's numbers bound as `$1`…`$7`.
    fn bound<'q>(
        sql: &Arc<str>,
        shape: &'q Shape,
        lo: u64,
        hi: u64,
    ) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
        sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
            .bind(lo as i64)
            .bind(hi as i64)
            .bind(shape.start)
            .bind(shape.step)
            .bind(shape.fanout as i64)
            .bind(shape.webhooks.len() as i64)
            .bind(shape.workspace_id.as_str())
    }

    async fn chunk(
        conn: &mut sqlx::PgConnection,
        sql: &Statements,
        shape: &Shape,
        lo: u64,
        hi: u64,
    ) -> anyhow::Result<(u64, u64)> {
        use sqlx::Connection;
        let mut tx = conn.begin().await?;
        bound(&sql.events, shape, lo, hi).execute(&mut *tx).await?;
        let deliveries = bound(&sql.deliveries, shape, lo, hi)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let before: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM attempts")
            .fetch_one(&mut *tx)
            .await?;
        let attempts = bound(&sql.attempts, shape, lo, hi)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query(
            "INSERT INTO attempt_stats (webhook_id, span, bucket_start, outcome, workspace_id,
                 attempts)
             SELECT webhook_id, s.span, timestamp - timestamp % s.len,
                 COALESCE(http_status::TEXT, error, 'unknown'), workspace_id, COUNT(*)
             FROM attempts CROSS JOIN (VALUES ('m', 60000), ('h', 3600000)) AS s(span, len)
             WHERE seq > $1
             GROUP BY 1, 2, 3, 4, 5
             ON CONFLICT (webhook_id, span, bucket_start, outcome)
             DO UPDATE SET attempts = attempt_stats.attempts + excluded.attempts",
        )
        .bind(before)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((deliveries, attempts))
    }
}
