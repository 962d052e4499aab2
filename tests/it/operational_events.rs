//! Operational events end to end, on real sockets and on both backends: a webhook the service
//! disables (410, or failing for `SPEAKNODE_DISABLE_AFTER`) is announced once to the other
//! subscribed webhooks and never to itself, and an exhausted delivery is announced with its last
//! outcome. (Storage rules: `tests/it/conformance/operational.rs`; a SIGKILL between the state
//! change and the announcement's delivery: `tests/it/operational_crash.rs`.)

#![allow(clippy::unwrap_used)]

use crate::common;

use common::{Receiver, Reply, TestApp, eventually, session_started};
use serde_json::{Value, json};
use speaknode_webhooks::config::ServeArgs;

/// Runs a scenario on SQLite and on PostgreSQL.
macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $scenario() {
                    super::$scenario(|_| {}).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $scenario() {
                    let Some(db) = crate::common::pg::PgDb::create().await else {
                        return;
                    };
                    let url = db.url.clone();
                    super::$scenario(move |args| args.database_url = url.clone()).await;
                    db.drop_database().await;
                }
            )*
        }
    };
}

on_both_backends!(
    a_gone_endpoint_is_announced_once_to_the_others_and_never_to_itself,
    failing_for_too_long_is_announced_with_the_reason_failing,
    an_exhausted_delivery_is_announced_with_its_last_status,
);

async fn create(app: &TestApp, body: Value) -> Value {
    let (status, created) = app.post("/api/v1/webhooks", body).await;
    assert_eq!(status, 201, "{created}");
    created
}

/// The envelopes a receiver got, as JSON.
fn bodies(receiver: &Receiver) -> Vec<Value> {
    let received = receiver.received();
    received
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

fn of_type<'a>(bodies: &'a [Value], event_type: &str) -> Vec<&'a Value> {
    bodies.iter().filter(|b| b["type"] == event_type).collect()
}

/// The workspace's events of one type, as the API lists them.
async fn listed(app: &TestApp, event_type: &str) -> Vec<Value> {
    let (status, page) = app.get(&format!("/api/v1/events?type={event_type}")).await;
    assert_eq!(status, 200, "{page}");
    page["data"].as_array().unwrap().clone()
}

async fn a_gone_endpoint_is_announced_once_to_the_others_and_never_to_itself(
    adjust: impl FnOnce(&mut ServeArgs),
) {
    let app = TestApp::start_with(adjust).await;
    let gone = Receiver::start(vec![], Reply::Status(410)).await;
    let watching = Receiver::ok().await;
    // The broken webhook subscribes to the operational events too: it must still get none
    // about itself.
    let broken = create(
        &app,
        json!({"url": gone.url, "event_types":
               ["SessionStarted", "WebhookDisabled", "DeliveryExhausted"]}),
    )
    .await;
    let watcher = create(
        &app,
        json!({"url": watching.url, "event_types": ["WebhookDisabled"]}),
    )
    .await;
    for _ in 0..3 {
        app.emit("SessionStarted", session_started()).await;
    }
    let broken_id = broken["id"].as_str().unwrap();
    eventually("the watcher to hear of the disabled webhook", || async {
        !of_type(&bodies(&watching), "WebhookDisabled").is_empty()
    })
    .await;
    let (_, now) = app.get(&format!("/api/v1/webhooks/{broken_id}")).await;
    assert_eq!(
        (&now["enabled"], &now["disabled_reason"]),
        (&json!(false), &json!("gone"))
    );

    let events = listed(&app, "WebhookDisabled").await;
    assert_eq!(events.len(), 1, "one WebhookDisabled: {events:?}");
    let event_id = events[0]["id"].as_str().unwrap();
    let settled = app.wait_for_event_settled(event_id).await;
    assert_eq!(settled["deliveries"].as_array().unwrap().len(), 1);
    assert_eq!(settled["deliveries"][0]["webhook_id"], watcher["id"]);
    assert_eq!(settled["deliveries"][0]["state"], "succeeded");

    let heard = bodies(&watching);
    let heard = of_type(&heard, "WebhookDisabled");
    assert_eq!(heard.len(), 1, "delivered once: {heard:?}");
    assert_eq!(heard[0]["id"], event_id);
    let data = &heard[0]["data"];
    assert_eq!(
        (&data["webhook_id"], &data["url"], &data["reason"]),
        (&broken["id"], &broken["url"], &json!("gone"))
    );
    let disabled_at = data["disabled_at"].as_str().unwrap();
    assert!(
        speaknode_webhooks::domain::time::parse_rfc3339(disabled_at).is_some(),
        "{disabled_at}"
    );
    let to_itself: Vec<Value> = bodies(&gone)
        .into_iter()
        .filter(|b| b["type"] != "SessionStarted")
        .collect();
    assert!(to_itself.is_empty(), "nothing about itself: {to_itself:?}");
    app.stop().await;
}

async fn failing_for_too_long_is_announced_with_the_reason_failing(
    adjust: impl FnOnce(&mut ServeArgs),
) {
    let app = TestApp::start_with(|args| {
        args.disable_after = "1s".into();
        adjust(args);
    })
    .await;
    let failing = Receiver::start(vec![], Reply::Status(500)).await;
    let watching = Receiver::ok().await;
    let broken = create(
        &app,
        json!({"url": failing.url, "event_types": ["SessionStarted"],
               "retry_schedule": "600ms,600ms,600ms,600ms,600ms"}),
    )
    .await;
    create(
        &app,
        json!({"url": watching.url, "event_types": ["WebhookDisabled"]}),
    )
    .await;
    app.emit("SessionStarted", session_started()).await;
    eventually("the watcher to hear of the failing webhook", || async {
        !of_type(&bodies(&watching), "WebhookDisabled").is_empty()
    })
    .await;
    let heard = bodies(&watching);
    let heard = of_type(&heard, "WebhookDisabled");
    assert_eq!(heard.len(), 1);
    assert_eq!(heard[0]["data"]["reason"], "failing");
    assert_eq!(heard[0]["data"]["webhook_id"], broken["id"]);
    let attempts = failing.received().len();
    assert!(
        (2..=5).contains(&attempts),
        "disabled after a second of failures, not at once nor after the schedule: {attempts}"
    );
    app.stop().await;
}

async fn an_exhausted_delivery_is_announced_with_its_last_status(
    adjust: impl FnOnce(&mut ServeArgs),
) {
    let app = TestApp::start_with(adjust).await;
    let failing = Receiver::start(vec![Reply::Status(500)], Reply::Status(503)).await;
    let watching = Receiver::ok().await;
    let broken = create(
        &app,
        json!({"url": failing.url, "event_types": ["SessionStarted", "DeliveryExhausted"],
               "retry_schedule": "100ms"}),
    )
    .await;
    create(
        &app,
        json!({"url": watching.url, "event_types": ["DeliveryExhausted"]}),
    )
    .await;
    let event = app.emit("SessionStarted", session_started()).await;
    let event_id = event["id"].as_str().unwrap();
    let settled = app.wait_for_event_settled(event_id).await;
    assert_eq!(settled["deliveries"][0]["state"], "failed");
    eventually("the watcher to hear of the exhausted delivery", || async {
        !of_type(&bodies(&watching), "DeliveryExhausted").is_empty()
    })
    .await;
    let heard = bodies(&watching);
    let heard = of_type(&heard, "DeliveryExhausted");
    assert_eq!(heard.len(), 1);
    assert_eq!(
        heard[0]["data"],
        json!({"webhook_id": broken["id"], "delivery_id": settled["deliveries"][0]["id"],
               "event_id": event_id, "event_type": "SessionStarted", "attempts": 2,
               "last_http_status": 503, "last_error": null})
    );
    assert_eq!(listed(&app, "DeliveryExhausted").await.len(), 1);
    let about_itself = of_type(&bodies(&failing), "DeliveryExhausted").len();
    assert_eq!(
        about_itself, 0,
        "never to the webhook whose delivery gave up"
    );
    // Still enabled: giving up on one delivery does not disable the webhook.
    let (_, now) = app
        .get(&format!(
            "/api/v1/webhooks/{}",
            broken["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(now["enabled"], true);
    app.stop().await;
}

#[tokio::test]
async fn the_operational_types_are_listed_with_their_schemas_and_examples() {
    let app = TestApp::start().await;
    let (status, types) = app.get("/api/v1/event-types").await;
    assert_eq!(status, 200);
    for name in ["WebhookDisabled", "DeliveryExhausted"] {
        let t = types["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("{name} is listed: {types}"));
        assert!(t["schema"]["required"].is_array(), "{t}");
        assert!(t["example"]["webhook_id"].is_string(), "{t}");
    }
    app.stop().await;
}
