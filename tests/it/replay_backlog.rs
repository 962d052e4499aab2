//! Replay over a backlog of 100,000 events (SQLite): it works through them a chunk at a time,
//! applies the filter to each, makes exactly the deliveries it should, and a second call makes
//! none. The webhook is disabled, so the deliveries wait (held) and nothing is sent.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::TestApp;
use serde_json::json;

const EVENTS: i64 = 100_000;

#[tokio::test]
async fn a_replay_over_a_hundred_thousand_events_makes_each_matching_delivery_once() {
    let app = TestApp::start().await;
    let (status, webhook) = app
        .post(
            "/api/v1/webhooks",
            json!({"url": "https://example.com/hooks", "event_types": ["SessionStarted"],
                   "enabled": false, "filter": {"agent_id": ["agent_7"]}}),
        )
        .await;
    assert_eq!(status, 201, "{webhook}");
    let id = webhook["id"].as_str().unwrap().to_string();

    // Seeded straight into the file: accepting 100,000 events through the API would take most of
    // the test's time and prove nothing more here.
    let db = app.db_path.clone();
    let seed_id = id.clone();
    tokio::task::spawn_blocking(move || {
        let conn = rusqlite::Connection::open(db).unwrap();
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .unwrap();
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?2)
             INSERT INTO events (id, workspace_id, event_type, payload, created_at, delivery_count)
             SELECT printf('evt_backlog%010d', i), w.workspace_id, 'SessionStarted',
                 '{\"type\":\"SessionStarted\",\"data\":{\"agent_id\":\"agent_' ||
                     (CASE i % 2 WHEN 0 THEN '7' ELSE '8' END) || '\"}}',
                 CAST(strftime('%s', 'now') AS INTEGER) * 1000 - 3600000 + i, 0
             FROM n, webhooks w WHERE w.id = ?1",
            rusqlite::params![seed_id, EVENTS],
        )
        .unwrap();
    })
    .await
    .unwrap();

    let path = format!("/api/v1/webhooks/{id}/replay");
    let window = json!({"since": "2025-01-01T00:00:00Z"});
    let (status, body) = app.post(&path, window.clone()).await;
    assert_eq!(
        (status.as_u16(), body.clone()),
        (202, json!({"replayed": EVENTS / 2}))
    );
    let (status, body) = app.post(&path, window).await;
    assert_eq!(
        (status.as_u16(), body.clone()),
        (202, json!({"replayed": 0}))
    );

    let db = app.db_path.clone();
    let (deliveries, held, distinct) = tokio::task::spawn_blocking(move || {
        let conn = rusqlite::Connection::open(db).unwrap();
        conn.query_row(
            "SELECT COUNT(*), SUM(held), COUNT(DISTINCT event_id) FROM deliveries WHERE webhook_id = ?1",
            [&id],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?)),
        )
        .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(
        (deliveries, held, distinct),
        (EVENTS / 2, EVENTS / 2, EVENTS / 2)
    );
    app.stop().await;
}
