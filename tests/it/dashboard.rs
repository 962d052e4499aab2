//! The dashboard's pages over real HTTP: escaping, the webhook form and its validation,
//! workspace isolation, Request History paging, and the security headers. Sign-in and CSRF are
//! in `tests/it/dashboard_sessions.rs`; the whole journey in a real browser in `tests/it/browser.rs`.

#![allow(clippy::unwrap_used)]

use crate::common;
use crate::visitor;

use common::{Receiver, TestApp};
use serde_json::json;
use sha2::{Digest, Sha256};
use speaknode_webhooks::store::sqlite::SqliteStore;
use speaknode_webhooks::store::{Webhooks, Workspace, Workspaces};
use visitor::{signed_in, store_url, webhook_count};

const XSS: &str = "<script>alert(1)</script>";

#[tokio::test]
async fn a_script_in_a_description_is_shown_as_text() {
    let app = TestApp::start().await;
    let (status, webhook) = app
        .post(
            "/api/v1/webhooks",
            json!({"url": "https://example.com/x", "description": XSS, "event_types": ["SessionStarted"]}),
        )
        .await;
    assert_eq!(status, 201);
    let mut visitor = signed_in(&app).await;
    let id = webhook["id"].as_str().unwrap();
    for path in [
        "/webhooks".to_string(),
        format!("/webhooks/{id}"),
        format!("/webhooks/{id}/edit"),
    ] {
        let page = visitor.get(&path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(!page.body.contains(XSS), "{path} contains the raw script");
        assert!(
            page.body
                .contains("&#60;script&#62;alert(1)&#60;/script&#62;")
                || page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{path} does not show the description escaped"
        );
    }
}

#[tokio::test]
async fn a_bad_url_is_shown_beside_its_field_and_what_was_typed_is_kept() {
    let app = TestApp::start().await;
    let mut visitor = signed_in(&app).await;
    let csrf = visitor.csrf().await;
    let fields = [
        ("csrf", csrf.as_str()),
        ("url", "not a url"),
        ("description", "Keep me"),
        ("event_types", "SessionStarted"),
    ];
    let page = visitor.post("/webhooks", &fields).await;
    assert_eq!(page.status, 200);
    let input = page.body.find("id=\"url\"").unwrap();
    let error = page
        .body
        .find("id=\"url-error\"")
        .expect("an error for the URL");
    let next_field = page.body.find("id=\"description\"").unwrap();
    assert!(
        input < error && error < next_field,
        "the error sits beside the URL field"
    );
    assert!(page.body[error..next_field].contains("URL is not a valid URL"));
    assert!(page.body.contains("value=\"not a url\""), "the URL is kept");
    assert!(
        page.body.contains("value=\"Keep me\""),
        "the description is kept"
    );
    assert!(
        page.body.contains("value=\"SessionStarted\" checked"),
        "the type stays checked"
    );
    assert!(
        !page
            .body
            .contains("name=\"enabled\" role=\"switch\" checked"),
        "Enabled stays off"
    );
    assert_eq!(webhook_count(&app).await, 0);

    let nothing = [("csrf", csrf.as_str()), ("url", "https://example.com/")];
    let page = visitor.post("/webhooks", &nothing).await;
    assert!(
        page.body.contains("id=\"event_types-error\""),
        "event types are required"
    );
    assert_eq!(webhook_count(&app).await, 0);
}

#[tokio::test]
async fn the_form_refuses_private_targets_like_the_api() {
    let app = TestApp::start_with(|args| args.allow_private_targets = "false".into()).await;
    let mut visitor = signed_in(&app).await;
    let csrf = visitor.csrf().await;
    let fields = [
        ("csrf", csrf.as_str()),
        ("url", "http://127.0.0.1:9/hook"),
        ("event_types", "SessionStarted"),
    ];
    let page = visitor.post("/webhooks", &fields).await;
    assert!(page.body.contains("URL must not point at"), "{}", page.body);
    assert_eq!(webhook_count(&app).await, 0);
}

#[tokio::test]
async fn webhooks_are_created_edited_toggled_and_deleted_through_forms() {
    let app = TestApp::start().await;
    let mut visitor = signed_in(&app).await;
    let csrf = visitor.csrf().await;
    let fields = [
        ("csrf", csrf.as_str()),
        ("url", "https://example.com/a"),
        ("description", "CRM sync"),
        ("event_types", "SessionStarted"),
        ("event_types", "ConversationComplete"),
        ("enabled", "on"),
    ];
    let page = visitor.post("/webhooks", &fields).await;
    let location = page.location.unwrap();
    let id = location
        .trim_start_matches("/webhooks/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let (_, webhook) = app.get(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(
        webhook["event_types"],
        json!(["SessionStarted", "ConversationComplete"])
    );
    assert_eq!(
        (&webhook["description"], &webhook["enabled"]),
        (&json!("CRM sync"), &json!(true))
    );

    let edit = [
        ("csrf", csrf.as_str()),
        ("url", "https://example.com/b"),
        ("event_types", "SessionStarted"),
    ];
    let page = visitor.post(&format!("/webhooks/{id}/edit"), &edit).await;
    assert_eq!(
        page.location.unwrap(),
        format!("/webhooks/{id}?notice=saved")
    );
    let (_, webhook) = app.get(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(webhook["url"], "https://example.com/b");
    assert_eq!(webhook["enabled"], false, "an unchecked Enabled disables");
    assert_eq!(webhook["disabled_reason"], "manual");

    let on = [("csrf", csrf.as_str()), ("enabled", "true")];
    visitor.post(&format!("/webhooks/{id}/enabled"), &on).await;
    assert_eq!(
        app.get(&format!("/api/v1/webhooks/{id}")).await.1["enabled"],
        true
    );
    let page = visitor.get(&format!("/webhooks/{id}?notice=enabled")).await;
    assert!(page.body.contains("Webhook enabled."));

    let page = visitor
        .post(
            &format!("/webhooks/{id}/delete"),
            &[("csrf", csrf.as_str())],
        )
        .await;
    assert_eq!(page.location.as_deref(), Some("/webhooks?notice=deleted"));
    assert_eq!(webhook_count(&app).await, 0);
}

#[tokio::test]
async fn another_workspaces_webhook_is_not_found() {
    let app = TestApp::start().await;
    let store = SqliteStore::open(&store_url(&app)).await.unwrap();
    let other = Workspace {
        id: "ws_other".into(),
        name: "Other".into(),
        created_at: 0,
    };
    store.create_workspace(&other, false).await.unwrap();
    let other_key = "sk_other_workspace_key_0123456789";
    let hash = Sha256::digest(other_key.as_bytes()).to_vec();
    store
        .add_api_key("key_other", &other.id, &hash, 0)
        .await
        .unwrap();
    let (status, theirs) = app
        .client
        .post(app.url("/api/v1/webhooks"))
        .bearer_auth(other_key)
        .json(&json!({"url": "https://example.com/theirs", "event_types": ["SessionStarted"]}))
        .send()
        .await
        .map(|r| (r.status().as_u16(), r))
        .unwrap();
    assert_eq!(status, 201);
    let theirs: serde_json::Value = theirs.json().await.unwrap();
    let id = theirs["id"].as_str().unwrap();

    let mut visitor = signed_in(&app).await;
    for path in [
        format!("/webhooks/{id}"),
        format!("/webhooks/{id}/edit"),
        format!("/webhooks/{id}/secret"),
    ] {
        assert_eq!(visitor.get(&path).await.status, 404, "{path}");
    }
    let csrf = visitor.csrf().await;
    for action in [
        "delete",
        "enabled",
        "secret/rotate",
        "test",
        "attempts/att_x/retry",
    ] {
        let fields = [("csrf", csrf.as_str()), ("event_type", "SessionStarted")];
        let page = visitor
            .post(&format!("/webhooks/{id}/{action}"), &fields)
            .await;
        assert_eq!(page.status, 404, "{action}");
    }
    let edit = [
        ("csrf", csrf.as_str()),
        ("url", "https://evil.example/"),
        ("event_types", "SessionStarted"),
    ];
    assert_eq!(
        visitor
            .post(&format!("/webhooks/{id}/edit"), &edit)
            .await
            .status,
        404
    );
    let list = visitor.get("/webhooks").await;
    assert!(!list.body.contains(id), "their webhook is not listed");
    assert!(
        store.webhook(&other.id, id).await.unwrap().is_some(),
        "and it is untouched"
    );
    let secrets = store
        .webhook_secrets(&other.id, id, 0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(secrets.len(), 1, "its secret was not rotated");
}

#[tokio::test]
async fn the_request_history_pages_to_older_and_back_to_newer() {
    let app = TestApp::start().await;
    let receiver = Receiver::ok().await;
    let webhook = app.create_webhook(&receiver.url, &["SessionStarted"]).await;
    let id = webhook["id"].as_str().unwrap();
    for _ in 0..23 {
        let (status, _) = app
            .post(
                &format!("/api/v1/webhooks/{id}/test"),
                json!({"event_type": "SessionStarted"}),
            )
            .await;
        assert_eq!(status, 200);
    }
    let newest_first: Vec<String> = app
        .attempts(id)
        .await
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect();
    let mut visitor = signed_in(&app).await;
    let first = visitor.get(&format!("/webhooks/{id}")).await;
    assert_eq!(first.count("<li class=\"attempt\""), 20);
    assert!(first.body.contains(&newest_first[0]) && !first.body.contains(&newest_first[20]));
    assert!(first.link("← Newer").is_none());

    let older = visitor.get(&first.link("Older →").unwrap()).await;
    assert_eq!(older.count("<li class=\"attempt\""), 3);
    assert!(older.body.contains(&newest_first[22]) && !older.body.contains(&newest_first[19]));
    assert!(older.link("Older →").is_none());

    let back = visitor.get(&older.link("← Newer").unwrap()).await;
    assert_eq!(back.count("<li class=\"attempt\""), 20);
    assert!(back.body.contains(&newest_first[0]));
    assert!(back.link("← Newer").is_none(), "back on the newest page");

    let failed = visitor.get(&format!("/webhooks/{id}?status=failed")).await;
    assert!(failed.body.contains("No attempts match this filter."));
    assert!(
        failed.body.contains("<strong>23</strong> succeeded"),
        "the Activity chart counts them all"
    );
    assert!(
        failed
            .body
            .contains("<strong data-stat=\"pending\">0</strong>")
    );
}

#[tokio::test]
async fn pages_forbid_inline_script_and_assets_are_served_locally() {
    let app = TestApp::start().await;
    let response = app.client.get(app.url("/login")).send().await.unwrap();
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(response.headers()["cache-control"], "no-store");
    let html = response.text().await.unwrap();
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no external resources"
    );
    for (path, kind) in [
        ("/assets/app.css", "text/css"),
        ("/assets/app.js", "text/javascript"),
    ] {
        let asset = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(asset.status(), 200);
        assert!(
            asset.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind)
        );
    }
}

/// The id in a redirect to a webhook's page, `/webhooks/{id}?notice=…`.
fn webhook_id(location: &str) -> String {
    let path = location.trim_start_matches("/webhooks/");
    path.split('?').next().unwrap().to_string()
}

#[tokio::test]
async fn headers_and_a_filter_set_in_the_form_are_on_the_webhook_page_values_masked() {
    let app = TestApp::start().await;
    let mut visitor = signed_in(&app).await;
    let csrf = visitor.csrf().await;
    let fields = [
        ("csrf", csrf.as_str()),
        ("url", "https://example.com/a"),
        ("event_types", "SessionStarted"),
        ("enabled", "on"),
        ("header_name", "Authorization"),
        ("header_value", "Bearer gateway-token"),
        ("header_name", ""),
        ("header_value", ""),
        ("filter_path", "agent_id"),
        ("filter_values", "agent_7, 42"),
        ("filter_path", ""),
        ("filter_values", ""),
        ("timeout", ""),
        ("retry_schedule", "5s,5m"),
    ];
    let page = visitor.post("/webhooks", &fields).await;
    assert_eq!(page.status, 303, "{}", page.body);
    let id = webhook_id(&page.location.unwrap());
    let (_, webhook) = app.get(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(
        webhook["headers"],
        json!({"Authorization": "Bearer gateway-token"})
    );
    assert_eq!(
        webhook["filter"],
        json!({"agent_id": ["agent_7", 42]}),
        "a number in the values is a number"
    );
    assert_eq!(webhook["timeout"], json!(null), "empty: the service's");
    assert_eq!(webhook["retry_schedule"], "5s,5m");

    let page = visitor.get(&format!("/webhooks/{id}")).await;
    let headers = page.section("id=\"option-headers\"");
    assert!(headers.contains("Authorization") && headers.contains("Bear••••"));
    assert!(
        !page.body.contains("gateway-token"),
        "the page shows the value masked"
    );
    let filter = page.section("id=\"option-filter\"");
    assert!(filter.contains("agent_id") && filter.contains("agent_7, 42"));
    assert!(
        page.section("id=\"option-timeout\"")
            .contains("service setting (2s)")
    );
    assert!(
        page.section("id=\"option-retry-schedule\"")
            .contains("5s, 5m")
    );

    let edit = visitor.get(&format!("/webhooks/{id}/edit")).await;
    for typed in [
        "value=\"Authorization\"",
        "value=\"Bearer gateway-token\"",
        "value=\"agent_id\"",
        "value=\"agent_7, 42\"",
        "value=\"5s,5m\"",
    ] {
        assert!(edit.body.contains(typed), "the edit form holds {typed}");
    }
}

#[tokio::test]
async fn a_reserved_header_is_refused_beside_its_row_and_what_was_typed_is_kept() {
    let app = TestApp::start().await;
    let mut visitor = signed_in(&app).await;
    let csrf = visitor.csrf().await;
    let fields = [
        ("csrf", csrf.as_str()),
        ("url", "https://example.com/a"),
        ("event_types", "SessionStarted"),
        ("header_name", "X-Tenant"),
        ("header_value", "acme"),
        ("header_name", "Host"),
        ("header_value", "internal.example"),
        ("filter_path", "agent_id"),
        ("filter_values", "agent_7"),
        ("filter_path", "metadata..language"),
        ("filter_values", "en-US"),
        ("timeout", "10s"),
    ];
    let page = visitor.post("/webhooks", &fields).await;
    assert_eq!(page.status, 200);
    let value = page.body.find("id=\"header-value-1\"").unwrap();
    let error = page.body.find("id=\"header-1-error\"").expect("an error");
    let next_row = page.body.find("id=\"header-name-2\"").unwrap();
    assert!(
        value < error && error < next_row,
        "the error is on Host's row"
    );
    assert!(
        page.body[error..next_row].contains("Host is set by the service and cannot be overridden."),
        "{}",
        &page.body[error..next_row]
    );
    assert_eq!(page.count("class=\"field-error\" id=\"header-"), 1);
    let path_error = page.body.find("id=\"filter-1-error\"").expect("path error");
    assert!(page.body[path_error..].starts_with("id=\"filter-1-error\">metadata..language is not"));
    for typed in [
        "value=\"X-Tenant\"",
        "value=\"acme\"",
        "value=\"Host\"",
        "value=\"internal.example\"",
        "value=\"agent_7\"",
        "value=\"10s\"",
    ] {
        assert!(page.body.contains(typed), "{typed} is kept");
    }
    assert_eq!(webhook_count(&app).await, 0);
}

#[tokio::test]
async fn the_timeout_is_edited_through_the_form_and_the_headers_are_kept() {
    let app = TestApp::start().await;
    let (status, webhook) = app
        .post(
            "/api/v1/webhooks",
            json!({"url": "https://example.com/x", "event_types": ["SessionStarted"],
                   "headers": {"X-Tenant": "acme"}, "timeout": "5s"}),
        )
        .await;
    assert_eq!(status, 201);
    let id = webhook["id"].as_str().unwrap();
    let mut visitor = signed_in(&app).await;
    let form = visitor.get(&format!("/webhooks/{id}/edit")).await;
    assert!(form.body.contains("value=\"5s\"") && form.body.contains("value=\"X-Tenant\""));
    let csrf = form.csrf();
    let edit = |timeout: &'static str| {
        [
            ("csrf", csrf.clone()),
            ("url", "https://example.com/x".into()),
            ("event_types", "SessionStarted".into()),
            ("enabled", "on".into()),
            ("header_name", "X-Tenant".into()),
            ("header_value", "acme".into()),
            ("timeout", timeout.into()),
            ("rate_limit", "5".into()),
            ("ordered", "on".into()),
        ]
    };
    let fields = edit("2m");
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let page = visitor.post(&format!("/webhooks/{id}/edit"), &fields).await;
    assert!(
        page.body
            .contains("id=\"timeout-error\">Timeout must be a duration from 1s to 60s"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("value=\"2m\""),
        "the typed timeout is kept"
    );

    let fields = edit("20s");
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let page = visitor.post(&format!("/webhooks/{id}/edit"), &fields).await;
    assert_eq!(
        page.location.unwrap(),
        format!("/webhooks/{id}?notice=saved")
    );
    let (_, webhook) = app.get(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(webhook["timeout"], "20s");
    assert_eq!(webhook["headers"], json!({"X-Tenant": "acme"}));
    assert_eq!(
        (&webhook["rate_limit"], &webhook["ordered"]),
        (&json!(5), &json!(true)),
        "the rate limit and ordering from the form"
    );
    let page = visitor.get(&format!("/webhooks/{id}")).await;
    assert!(page.section("id=\"option-timeout\"").contains("20s"));
    assert!(page.section("id=\"option-rate-limit\"").contains('5'));
    assert!(page.section("id=\"option-ordered\"").contains("Yes"));
    let form = visitor.get(&format!("/webhooks/{id}/edit")).await;
    assert!(
        form.body.contains("name=\"rate_limit\"") && form.body.contains("name=\"ordered\" checked")
    );
}
