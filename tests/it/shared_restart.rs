//! On a shared database (PostgreSQL), a process starting up must not take over deliveries that
//! another live process is attempting right now: that would send the receiver a duplicate while
//! the first request is still in flight. Runs when `SPEAKNODE_TEST_DATABASE_URL` is set.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::pg::PgDb;
use common::{Receiver, Reply, TestApp, eventually, session_started};

#[tokio::test]
async fn starting_a_process_leaves_another_processs_attempts_in_flight_alone() {
    let Some(db) = PgDb::create().await else {
        return;
    };
    let on_db = |args: &mut speaknode_webhooks::config::ServeArgs| {
        args.database_url = db.url.clone();
        args.delivery_timeout = "10s".into();
    };
    let first = TestApp::start_with(on_db).await;
    let receiver = Receiver::start(vec![Reply::Slow(1_500)], Reply::Status(200)).await;
    first
        .create_webhook(&receiver.url, &["SessionStarted"])
        .await;
    let event = first.emit("SessionStarted", session_started()).await;
    eventually("the first process is attempting the delivery", || async {
        !receiver.received().is_empty()
    })
    .await;

    let second = TestApp::start_with(on_db).await;
    let settled = second
        .wait_for_event_settled(event["id"].as_str().unwrap())
        .await;
    assert_eq!(settled["deliveries"][0]["state"], "succeeded");
    assert_eq!(receiver.received().len(), 1, "the delivery was sent once");
    assert_eq!(settled["deliveries"][0]["attempts"], 1);

    second.stop().await;
    first.stop().await;
    db.drop_database().await;
}
