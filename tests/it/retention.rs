//! Retention as each backend does it (the conformance suite holds what both promise): SQLite
//! deletes old events in batches of the limit; PostgreSQL keeps the history in partitions made
//! ahead of time (and on demand, never a DEFAULT one) and drops them whole, never one that a
//! pending delivery needs.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use speaknode_webhooks::store::postgres::PgStore;
use speaknode_webhooks::store::sqlite::SqliteStore;
use speaknode_webhooks::store::*;
use sqlx::Connection;

use crate::common::pg::PgDb;
use crate::conformance::fixtures::*;

const DAY: i64 = 86_400_000;

/// Ingests an event at `at` to `store`'s only webhook and, unless `pending`, delivers it.
async fn event_at(store: &dyn Store, ws: &str, at: i64, pending: bool) -> (String, Claimed) {
    let event = ingest(store, &new_event(ws, "SessionStarted", at)).await;
    let claim = store.claim_due(&claim_at(at, 1)).await.unwrap().remove(0);
    if !pending {
        store
            .record_attempt(&attempt_of(&claim, status(200), NextStep::Succeeded, at))
            .await
            .unwrap();
    }
    (event.id, claim)
}

#[tokio::test]
async fn sqlite_prunes_old_events_in_batches_of_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("store.db").display());
    let store = SqliteStore::open(&url).await.unwrap();
    let ws = workspace(&store).await;
    webhook(&store, &ws, &["SessionStarted"]).await;
    for i in 0..3 {
        event_at(&store, &ws, T0 + i, false).await;
    }
    assert_eq!(store.prune(T0 + 500, 2).await.unwrap(), 2);
    assert_eq!(store.prune(T0 + 500, 2).await.unwrap(), 1);
    assert_eq!(store.prune(T0 + 500, 2).await.unwrap(), 0);
}

/// The partitions of `table`, as `(name, bound)`, read from PostgreSQL's catalog.
async fn partitions(url: &str, table: &str) -> Vec<(String, String)> {
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::query_as(
        "SELECT c.relname::TEXT, pg_get_expr(c.relpartbound, c.oid)
         FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = $1::regclass ORDER BY 1",
    )
    .bind(table)
    .fetch_all(&mut conn)
    .await
    .unwrap()
}

async fn pg_store() -> Option<(PgDb, Arc<PgStore>)> {
    let db = PgDb::create().await?;
    let store = PgStore::open(&db.url, 4).await.unwrap();
    Some((db, Arc::new(store)))
}

#[tokio::test]
async fn postgres_history_has_partitions_ahead_and_one_made_for_a_row_dated_elsewhere() {
    let Some((db, store)) = pg_store().await else {
        return;
    };
    let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let now: i64 = sqlx::query_scalar("SELECT (extract(epoch FROM now()) * 1000)::BIGINT")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    for table in ["events", "attempts", "finished_deliveries"] {
        // Whatever the partitions are, a row dated now or ten minutes from now has one.
        let covered: bool = sqlx::query_scalar(
            "SELECT bool_and(EXISTS (
                 SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                 WHERE i.inhparent = $1::regclass
                   AND (pg_get_expr(c.relpartbound, c.oid) LIKE '%MINVALUE%'
                        OR substring(pg_get_expr(c.relpartbound, c.oid)
                               FROM 'FROM \\(''(\\d+)''\\)')::BIGINT <= t)
                   AND substring(pg_get_expr(c.relpartbound, c.oid)
                         FROM 'TO \\(''(\\d+)''\\)')::BIGINT > t))
             FROM unnest(ARRAY[$2, $2 + 600000]) AS t",
        )
        .bind(table)
        .bind(now)
        .fetch_one(&mut conn)
        .await
        .unwrap();
        assert!(
            covered,
            "{table} has partitions ahead: {:?}",
            partitions(&db.url, table).await
        );
    }
    let defaults: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM pg_partitioned_table WHERE partdefid <> 0")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(defaults, 0, "no DEFAULT partition");

    // T0 is weeks away from today: its rows find no partition, and get one made.
    let ws = workspace(&*store).await;
    webhook(&*store, &ws, &["SessionStarted"]).await;
    let (id, _) = event_at(&*store, &ws, T0, false).await;
    assert!(store.event(&ws, &id).await.unwrap().is_some());
    let day = T0.div_euclid(DAY) * DAY;
    for table in ["events", "attempts", "finished_deliveries"] {
        let names: Vec<String> = partitions(&db.url, table)
            .await
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        assert!(
            names.contains(&format!("{table}_p{day}")),
            "{table}: {names:?}"
        );
    }
    conn.close().await.unwrap();
    drop(store);
    db.drop_database().await;
}

#[tokio::test]
async fn postgres_drops_whole_partitions_and_never_one_a_pending_delivery_needs() {
    let Some((db, store)) = pg_store().await else {
        return;
    };
    let ws = workspace(&*store).await;
    webhook(&*store, &ws, &["SessionStarted"]).await;
    let day = T0.div_euclid(DAY) * DAY;
    // Day two: an event delivered. Day one: one still pending (made second, so the first
    // claim cannot take it).
    let (delivered, _) = event_at(&*store, &ws, day + DAY + 5, false).await;
    let (waiting, claim) = event_at(&*store, &ws, T0, true).await;
    let events_of = |day: i64| format!("events_p{day}");

    // Both days are past the cutoff, but the pending delivery needs day one, and so every day
    // after it stays too.
    assert_eq!(store.prune(day + 3 * DAY, 500).await.unwrap(), 0);
    let names: Vec<String> = partitions(&db.url, "events")
        .await
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert!(names.contains(&events_of(day)), "{names:?}");
    assert!(names.contains(&events_of(day + DAY)), "{names:?}");
    assert!(store.event(&ws, &delivered).await.unwrap().is_some());

    // Delivered at last: both days go, whole.
    store
        .record_attempt(&attempt_of(
            &claim,
            status(200),
            NextStep::Succeeded,
            T0 + 10,
        ))
        .await
        .unwrap();
    assert_eq!(store.prune(day + 3 * DAY, 500).await.unwrap(), 2);
    for table in ["events", "attempts", "finished_deliveries"] {
        let names: Vec<String> = partitions(&db.url, table)
            .await
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert!(
            !names.contains(&format!("{table}_p{day}"))
                && !names.contains(&format!("{table}_p{}", day + DAY)),
            "{table}: {names:?}"
        );
    }
    let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pg_class WHERE relname IN ($1, $2)")
        .bind(events_of(day))
        .bind(events_of(day + DAY))
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(left, 0, "detached and dropped, not left behind");
    assert!(store.event(&ws, &waiting).await.unwrap().is_none());
    assert!(store.event(&ws, &delivered).await.unwrap().is_none());
    conn.close().await.unwrap();
    drop(store);
    db.drop_database().await;
}
