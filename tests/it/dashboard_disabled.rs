//! A disabled webhook's page over real HTTP: the banner that says who disabled it, when and why
//! (by hand through the Enabled toggle; by the service after a real 410 Gone, or after failing
//! for SPEAKNODE_DISABLE_AFTER), no banner while enabled, and the Event Types page marking the
//! types the service emits itself.

#![allow(clippy::unwrap_used)]

use crate::common;
use crate::visitor;

use common::{Receiver, Reply, TestApp, eventually, session_started};
use serde_json::json;
use speaknode_webhooks::domain::time::{Millis, rfc3339};
use speaknode_webhooks::store::sqlite::SqliteStore;
use speaknode_webhooks::store::{Webhooks, Workspaces};
use visitor::{Page, signed_in, store_url};

const XSS: &str = "<script>alert(1)</script>";
const BANNER: &str = "id=\"disabled-banner\"";
const HELD: &str = "It gets no new deliveries; deliveries that were pending are held and resume \
                    when you enable it again.";

/// When the store says the webhook was disabled, read behind the API (which does not show it).
async fn disabled_at(app: &TestApp, id: &str) -> Millis {
    let store = SqliteStore::open(&store_url(app)).await.unwrap();
    let workspace = store.default_workspace().await.unwrap().unwrap();
    let webhook = store.webhook(&workspace.id, id).await.unwrap().unwrap();
    webhook
        .disabled_at
        .expect("a disabled webhook has disabled_at")
}

/// ` on <time …>2026-11-26 17:03:44 UTC</time>`, as the banner shows `ms`.
fn on(ms: Millis) -> String {
    let utc = chrono::DateTime::from_timestamp_millis(ms).unwrap();
    let time = utc.format("%Y-%m-%d %H:%M:%S UTC");
    format!(" on <time datetime=\"{}\">{time}</time>", rfc3339(ms))
}

/// The banner's markup, checked to hold only the page's own tags: nothing in it comes from
/// what a user typed, so no `<script>` or other element can appear there unescaped.
fn banner(page: &Page) -> &str {
    let banner = page.section(BANNER);
    for tag in banner.split('<').skip(1) {
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        assert!(
            ["div", "p", "strong", "time"].contains(&name.as_str()),
            "unexpected <{name}> in the banner: {banner}"
        );
    }
    banner
}

#[tokio::test]
async fn a_webhook_disabled_by_hand_says_a_user_disabled_it_and_when() {
    let app = TestApp::start().await;
    let (status, webhook) = app
        .post(
            "/api/v1/webhooks",
            json!({"url": "https://example.com/x", "description": XSS, "event_types": ["SessionStarted"]}),
        )
        .await;
    assert_eq!(status, 201, "{webhook}");
    let id = webhook["id"].as_str().unwrap();
    let mut visitor = signed_in(&app).await;
    let csrf = visitor.csrf().await;
    let off = [("csrf", csrf.as_str()), ("enabled", "false")];
    let answer = visitor.post(&format!("/webhooks/{id}/enabled"), &off).await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    assert_eq!(
        app.get(&format!("/api/v1/webhooks/{id}")).await.1["disabled_reason"],
        "manual"
    );

    let page = visitor.get(&format!("/webhooks/{id}")).await;
    assert_eq!(page.status, 200);
    let at = disabled_at(&app, id).await;
    let text = banner(&page);
    assert!(
        text.starts_with(
            "id=\"disabled-banner\" class=\"alert off disabled-banner\" role=\"alert\">"
        ),
        "grey, as an alert: {text}"
    );
    assert!(
        text.contains(&format!("<strong>Disabled by a user{} (", on(at))),
        "{text}"
    );
    assert!(text.contains(HELD), "{text}");
    assert!(
        text.contains("Turn Enabled back on to resume deliveries."),
        "{text}"
    );
    assert!(!text.contains("SpeakNode"), "a user did it: {text}");
    assert!(!page.body.contains(XSS), "the description stays escaped");

    // Enabled again: the banner goes.
    let on = [("csrf", csrf.as_str()), ("enabled", "true")];
    visitor.post(&format!("/webhooks/{id}/enabled"), &on).await;
    let page = visitor.get(&format!("/webhooks/{id}")).await;
    assert!(!page.body.contains(BANNER), "enabled: no banner");
}

#[tokio::test]
async fn a_webhook_the_service_disabled_after_a_410_says_the_endpoint_is_gone() {
    let app = TestApp::start().await;
    let receiver = Receiver::start(vec![], Reply::Status(410)).await;
    let webhook = app.create_webhook(&receiver.url, &["SessionStarted"]).await;
    let id = webhook["id"].as_str().unwrap();
    app.emit("SessionStarted", session_started()).await;
    let path = format!("/api/v1/webhooks/{id}");
    eventually("the webhook to be disabled as gone", || async {
        app.get(&path).await.1["disabled_reason"] == "gone"
    })
    .await;
    assert_eq!(app.get(&path).await.1["enabled"], false);
    assert_eq!(receiver.received().len(), 1, "one attempt: a 410 ends it");

    let mut visitor = signed_in(&app).await;
    let page = visitor.get(&format!("/webhooks/{id}")).await;
    assert_eq!(page.status, 200);
    let at = disabled_at(&app, id).await;
    let text = banner(&page);
    assert!(
        text.starts_with("id=\"disabled-banner\" class=\"alert disabled-banner\" role=\"alert\">"),
        "red, as an alert: {text}"
    );
    let by = format!("<strong>Disabled by SpeakNode Webhooks{} (", on(at));
    assert!(text.contains(&by), "{text}");
    assert!(
        text.contains("): the endpoint answered 410 Gone.</strong>"),
        "{text}"
    );
    assert!(text.contains(HELD), "{text}");
    assert!(
        text.contains("Turn Enabled back on once the endpoint is fixed."),
        "{text}"
    );
    assert!(
        page.body.find(BANNER) < page.body.find("class=\"page-head\""),
        "the banner is at the top of the page"
    );
}

#[tokio::test]
async fn a_webhook_the_service_disabled_for_failing_says_for_how_long() {
    // SPEAKNODE_DISABLE_AFTER of 1s, and retries spread over 1.5 s, so one event's delivery
    // fails for long enough.
    let app = TestApp::start_with(|args| {
        args.disable_after = "1s".into();
        args.retry_schedule = "250ms,250ms,250ms,250ms,250ms,250ms".into();
    })
    .await;
    let receiver = Receiver::start(vec![], Reply::Status(500)).await;
    let webhook = app.create_webhook(&receiver.url, &["SessionStarted"]).await;
    let id = webhook["id"].as_str().unwrap();
    app.emit("SessionStarted", session_started()).await;
    let path = format!("/api/v1/webhooks/{id}");
    eventually("the webhook to be disabled as failing", || async {
        app.get(&path).await.1["disabled_reason"] == "failing"
    })
    .await;

    let mut visitor = signed_in(&app).await;
    let page = visitor.get(&format!("/webhooks/{id}")).await;
    let at = disabled_at(&app, id).await;
    let text = banner(&page);
    let by = format!("<strong>Disabled by SpeakNode Webhooks{} (", on(at));
    assert!(text.contains(&by), "{text}");
    assert!(
        text.contains("): it failed without a single success for 1s.</strong>"),
        "{text}"
    );
    assert!(text.contains(HELD), "{text}");
    assert!(
        text.contains("Turn Enabled back on once the endpoint is fixed."),
        "{text}"
    );
}

#[tokio::test]
async fn an_enabled_webhook_has_no_banner() {
    let app = TestApp::start().await;
    let receiver = Receiver::ok().await;
    let webhook = app.create_webhook(&receiver.url, &["SessionStarted"]).await;
    let id = webhook["id"].as_str().unwrap();
    let mut visitor = signed_in(&app).await;
    let page = visitor.get(&format!("/webhooks/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains(BANNER));
    assert!(!page.body.contains("Disabled by"));
    assert!(page.body.contains("<span class=\"pill ok\">Enabled</span>"));
}

#[tokio::test]
async fn the_event_types_page_marks_the_types_the_service_sends_itself() {
    let app = TestApp::start().await;
    let mut visitor = signed_in(&app).await;
    let page = visitor.get("/event-types").await;
    assert_eq!(page.status, 200);
    let label = "<span class=\"pill off operational\">Sent by SpeakNode Webhooks</span>";
    for name in ["WebhookDisabled", "DeliveryExhausted"] {
        let card = page.section(&format!("id=\"{name}\""));
        assert!(card.contains(label), "{name} is marked: {card}");
    }
    for name in ["SessionStarted", "ConversationComplete"] {
        let card = page.section(&format!("id=\"{name}\""));
        assert!(!card.contains(label), "{name} comes from the platform");
    }
    assert_eq!(page.count(label), 2);
}
