//! The history's partitions on PostgreSQL (migration 0013): `events`, `attempts` and
//! `finished_deliveries` are range-partitioned by creation time, one partition per span (a day;
//! shorter when the retention is, see [`span_for`]), and retention drops whole partitions.
//!
//! - **Made ahead of time**, never on the hot path: each pruning pass (and start-up) makes the
//!   partitions from one span ago to [`AHEAD`] spans ahead as plain tables, then attaches them
//!   (`CREATE TABLE … PARTITION OF` would lock the parent against every reader and writer; an
//!   `ATTACH` takes a lock that lets them on). A row dated where no partition exists (a clock
//!   step, a test's fixed clock, seeded history) makes its write fail with "no partition of
//!   relation found for row": [`made_missing`] makes that one partition and the write runs again.
//! - **Dropped whole**: a span's partitions go once the whole span is older than the retention
//!   cutoff, by `DETACH PARTITION … CONCURRENTLY` (readers and writers go on meanwhile) and then
//!   `DROP TABLE`; never a mass `DELETE`, so the disk is handed back at once, with or without
//!   autovacuum. Rows are therefore kept between the retention and the retention plus a span.
//! - **Pending work is never dropped**: a delivery still pending lives in `pending_deliveries`
//!   (not partitioned) and keeps its event's creation time; no partition that ends after the
//!   oldest pending delivery's event begins is dropped. After the detach the check runs again,
//!   and a partition that a delivery made meanwhile needs (a replay of an old event) is attached
//!   back instead of dropped (the detach left the constraint that makes this instant).

use sqlx::postgres::PgDatabaseError;

use super::db::{Db, Run, query};
use crate::domain::time::Millis;
use crate::store::rows::Columns;
use crate::store::{StoreError, StoreResult};

/// The partitioned tables (by `created_at`, `timestamp` and `created_at`).
const TABLES: [&str; 3] = ["events", "attempts", "finished_deliveries"];

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// How many spans ahead of now partitions exist (at least ten minutes' worth): a pruning pass
/// runs every minute, so writes always find theirs.
const AHEAD: i64 = 3;
const AHEAD_AT_LEAST: i64 = 10 * MINUTE;

/// A day, or an hour or a minute when the retention is shorter than four days or four hours, so
/// that a short retention (tests, soaks) still drops data every few minutes.
pub fn span_for(retention_ms: i64) -> i64 {
    [DAY, HOUR]
        .into_iter()
        .find(|span| retention_ms >= 4 * span)
        .unwrap_or(MINUTE)
}

/// One partition: its table and its range (`from` is `None` for MINVALUE: the rows from before
/// partitioning).
#[derive(Debug, Clone, PartialEq)]
struct Partition {
    name: String,
    from: Option<i64>,
    to: i64,
}

/// The partitions of `parent`, in range order, read from the catalog.
async fn partitions(db: &Db, parent: &str) -> StoreResult<Vec<Partition>> {
    let rows = query(
        "SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
         FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = $1::regclass AND NOT i.inhdetachpending",
    )
    .bind(parent)
    .fetch_all_on(db)
    .await?;
    let mut found = Vec::with_capacity(rows.len());
    for row in &rows {
        let bound = row.text("bound")?;
        let (from, to) = parse_bound(&bound)
            .ok_or_else(|| StoreError::internal(format!("unexpected partition bound {bound}")))?;
        found.push(Partition {
            name: row.text("name")?,
            from,
            to,
        });
    }
    found.sort_by_key(|p| (p.from.unwrap_or(i64::MIN), p.to));
    Ok(found)
}

/// `FOR VALUES FROM ('1') TO ('2')` or `FROM (MINVALUE) TO ('2')`.
fn parse_bound(bound: &str) -> Option<(Option<i64>, i64)> {
    let rest = bound.strip_prefix("FOR VALUES FROM (")?;
    let (from, rest) = rest.split_once(") TO (")?;
    let to = rest.strip_suffix(')')?;
    let number = |s: &str| s.trim_matches('\'').parse::<i64>().ok();
    let from = if from == "MINVALUE" {
        None
    } else {
        Some(number(from)?)
    };
    Some((from, number(to)?))
}

/// The range a new partition holding `at` gets: its span, cut where a neighbour begins or ends
/// (partitions made with another span, or the pre-partitioning rows); `None` when one holds it.
fn range_for(at: i64, span: i64, existing: &[Partition]) -> Option<(i64, i64)> {
    let mut from = at.div_euclid(span) * span;
    let mut to = from + span;
    for p in existing {
        let p_from = p.from.unwrap_or(i64::MIN);
        if p_from <= at && at < p.to {
            return None;
        }
        if p.to <= at {
            from = from.max(p.to);
        } else if p_from > at {
            to = to.min(p_from);
        }
    }
    Some((from, to))
}

/// Makes the partitions that hold `at`, for every partitioned table, unless they exist: a
/// row's neighbours in the other tables (its event, its delivery) are dated alike, so they find
/// theirs too. Processes sharing the database serialise on an advisory lock and look again.
async fn ensure(db: &Db, at: i64) -> StoreResult<()> {
    let mut missing = Vec::new();
    for parent in TABLES {
        if range_for(at, db.span, &partitions(db, parent).await?).is_some() {
            missing.push(parent);
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    let mut tx = db.begin().await?;
    query("SELECT pg_advisory_xact_lock(hashtext('speaknode partitions'))")
        .execute(&mut *tx)
        .await?;
    for parent in missing {
        let Some((from, to)) = range_for(at, db.span, &partitions(db, parent).await?) else {
            continue;
        };
        let name = format!("{parent}_p{from}");
        // Names and bounds are made here from integers and the fixed table names: nothing
        // from outside reaches this SQL.
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "CREATE TABLE {name} (LIKE {parent} INCLUDING DEFAULTS);
             ALTER TABLE {parent} ATTACH PARTITION {name} FOR VALUES FROM ({from}) TO ({to});"
        )))
        .execute(&mut *tx)
        .await?;
        tracing::debug!(partition = %name, from, to, "made a history partition");
    }
    tx.commit().await?;
    Ok(())
}

/// Makes the partitions from one span before `now` to [`AHEAD`] spans after it.
pub(super) async fn make_ahead(db: &Db, now: Millis) -> StoreResult<()> {
    let until = now + (AHEAD * db.span).max(AHEAD_AT_LEAST);
    let mut at = now - db.span;
    while at <= until {
        ensure(db, at).await?;
        at += db.span;
    }
    Ok(())
}

/// Makes the partitions (a day each) that rows dated from `from` to `to` need: for seeding a
/// history (`bench --history`), which the service's own partitions ahead do not cover.
pub async fn cover(url: &str, from: Millis, to: Millis) -> StoreResult<()> {
    let pool = sqlx::PgPool::connect(url).await?;
    let db = Db::new(pool, false, DAY);
    let mut at = from;
    while at <= to {
        ensure(&db, at).await?;
        at += DAY;
    }
    ensure(&db, to).await?;
    db.pool.close().await;
    Ok(())
}

/// Runs `write`, and again after making the partition it found missing (a row dated where the
/// history has none yet); a few times at most, since each retry makes one.
pub(super) async fn writing<T, F, Fut>(db: &Db, mut write: F) -> StoreResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = StoreResult<T>>,
{
    let mut made = 0;
    loop {
        match write().await {
            Err(e) if made < 4 && made_missing(db, &e).await? => made += 1,
            done => return done,
        }
    }
}

/// When `error` is a write that found no partition for its row, makes that partition and says
/// so (the caller writes again); `false` for any other error.
async fn made_missing(db: &Db, error: &StoreError) -> StoreResult<bool> {
    let Some(at) = missing_partition(error) else {
        return Ok(false);
    };
    ensure(db, at).await?;
    Ok(true)
}

/// The key of a "no partition of relation … found for row" error.
fn missing_partition(error: &StoreError) -> Option<i64> {
    let Some(sqlx::Error::Database(db)) = error.cause()?.downcast_ref::<sqlx::Error>() else {
        return None;
    };
    let pg = db.try_downcast_ref::<PgDatabaseError>()?;
    if pg.code() != "23514" || !pg.message().starts_with("no partition of relation") {
        return None;
    }
    let parent = pg.message().split('"').nth(1)?;
    TABLES.iter().find(|t| **t == parent)?;
    // "Partition key of the failing row contains (created_at) = (1800000000000)."
    let key = pg.detail()?.rsplit_once("= (")?.1;
    key.trim_end_matches(['.', ')']).parse().ok()
}

/// Drops every span's partitions whose whole range is older than `cutoff` and that no pending
/// delivery needs; returns how many events went with them.
pub(super) async fn drop_expired(db: &Db, cutoff: Millis) -> StoreResult<u64> {
    finish_interrupted(db).await?;
    let mut dropped_events = 0;
    let needed = oldest_needed(db).await?;
    for parent in TABLES {
        for partition in partitions(db, parent).await? {
            if partition.to > cutoff.min(needed) {
                continue;
            }
            let rows = count(db, &partition.name).await?;
            detach(db, parent, &partition.name).await?;
            // A replay may have queued a delivery of an event in this range since the check.
            if partition.to > oldest_needed(db).await? {
                reattach(db, parent, &partition).await?;
                continue;
            }
            drop_table(db, &partition.name).await?;
            tracing::info!(partition = %partition.name, rows, "dropped a history partition past the retention period");
            if parent == "events" {
                dropped_events += rows;
            }
        }
    }
    Ok(dropped_events)
}

/// The creation time of the oldest event a pending delivery still needs (`i64::MAX` if none).
async fn oldest_needed(db: &Db) -> StoreResult<i64> {
    // A test delivery is never queued: the request that made it makes its one attempt, so one
    // left behind by a process that stopped meanwhile holds nothing back.
    let row = query(
        "SELECT MIN(event_created_at) AS oldest FROM pending_deliveries
         WHERE next_trigger <> 'test'",
    )
    .fetch_one_on(db)
    .await?;
    Ok(row.opt_int("oldest")?.unwrap_or(i64::MAX))
}

async fn count(db: &Db, table: &str) -> StoreResult<u64> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) AS n FROM {table}"
    )))
    .fetch_one(&db.pool)
    .await?;
    Ok(row.int("n")? as u64)
}

async fn detach(db: &Db, parent: &str, name: &str) -> StoreResult<()> {
    // CONCURRENTLY cannot run inside a transaction block: the simple protocol, one statement.
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "ALTER TABLE {parent} DETACH PARTITION {name} CONCURRENTLY"
    )))
    .execute(&db.pool)
    .await?;
    Ok(())
}

async fn reattach(db: &Db, parent: &str, p: &Partition) -> StoreResult<()> {
    let from = p.from.map_or("MINVALUE".to_string(), |f| f.to_string());
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "ALTER TABLE {parent} ATTACH PARTITION {} FOR VALUES FROM ({from}) TO ({})",
        p.name, p.to
    )))
    .execute(&db.pool)
    .await?;
    Ok(())
}

async fn drop_table(db: &Db, name: &str) -> StoreResult<()> {
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP TABLE IF EXISTS {name}")))
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// A process that stopped between a detach and its drop left a partition half detached, or
/// detached and not dropped: both were past the retention, so both go.
async fn finish_interrupted(db: &Db) -> StoreResult<()> {
    let rows = query(
        "SELECT p.relname AS parent, c.relname AS name, i.inhdetachpending AS pending
         FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             JOIN pg_class p ON p.oid = i.inhparent
         WHERE i.inhdetachpending",
    )
    .fetch_all_on(db)
    .await?;
    for row in &rows {
        let (parent, name) = (row.text("parent")?, row.text("name")?);
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "ALTER TABLE {parent} DETACH PARTITION {name} FINALIZE"
        )))
        .execute(&db.pool)
        .await?;
        drop_table(db, &name).await?;
    }
    let orphans = query(
        "SELECT relname AS name FROM pg_class
         WHERE relkind = 'r' AND NOT relispartition
           AND relname ~ '^(events|attempts|finished_deliveries)_p[0-9]+$'",
    )
    .fetch_all_on(db)
    .await?;
    for row in &orphans {
        drop_table(db, &row.text("name")?).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(from: Option<i64>, to: i64) -> Partition {
        Partition {
            name: String::new(),
            from,
            to,
        }
    }

    #[test]
    fn bounds_read_back_from_the_catalog() {
        assert_eq!(
            parse_bound("FOR VALUES FROM ('1800000000000') TO ('1800086400000')"),
            Some((Some(1_800_000_000_000), 1_800_086_400_000))
        );
        assert_eq!(
            parse_bound("FOR VALUES FROM (MINVALUE) TO ('5')"),
            Some((None, 5))
        );
        assert_eq!(parse_bound("DEFAULT"), None);
    }

    #[test]
    fn a_new_partition_takes_its_span_cut_by_its_neighbours() {
        assert_eq!(range_for(150, 100, &[]), Some((100, 200)));
        assert_eq!(range_for(-50, 100, &[]), Some((-100, 0)));
        let existing = [p(None, 120), p(Some(180), 300)];
        assert_eq!(range_for(150, 100, &existing), Some((120, 180)));
        assert_eq!(range_for(100, 100, &existing), None, "held by the first");
        assert_eq!(range_for(299, 100, &existing), None);
        assert_eq!(range_for(300, 100, &existing), Some((300, 400)));
    }

    #[test]
    fn the_span_follows_the_retention() {
        assert_eq!(span_for(30 * DAY), DAY);
        assert_eq!(span_for(4 * DAY), DAY);
        assert_eq!(span_for(2 * DAY), HOUR);
        assert_eq!(span_for(5 * MINUTE), MINUTE);
        assert_eq!(span_for(0), MINUTE);
    }
}
