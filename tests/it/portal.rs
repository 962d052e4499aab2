//! The customer portal over real HTTP: minting one-time links (workspace key and admin token),
//! opening them once, the same 404 for an unknown, used or expired link, read-only sessions that
//! can change nothing, the key sign-in switched off, embedding headers and cookies, a link
//! minted on one process opened on another (PostgreSQL), and the token never in the logs.

#![allow(clippy::unwrap_used)]

use crate::common;
use crate::visitor;

use std::process::Stdio;

use common::pg::PgDb;
use common::process::{signal, start_logging_to, start_on};
use common::{API_KEY, Receiver, TestApp, session_started};
use reqwest::StatusCode;
use serde_json::{Value, json};
use speaknode_webhooks::domain::time::parse_rfc3339;
use visitor::{Page, Visitor};

const ADMIN: &str = "admin_token_for_the_portal_tests_0123";

/// Mints a link with the workspace key; `body` `None` sends no body at all.
async fn mint(base: &str, key: &str, body: Option<Value>) -> (StatusCode, Value) {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let mut request = client
        .post(format!("{base}/api/v1/portal/sessions"))
        .bearer_auth(key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The path of a minted link (`/portal/<token>`), checked to start with the service's URL.
fn path_of(base: &str, link: &Value) -> String {
    let url = link["url"].as_str().unwrap();
    let path = url
        .strip_prefix(base)
        .unwrap_or_else(|| panic!("{url} is not under {base}"));
    assert!(path.starts_with("/portal/"), "{url}");
    path.to_string()
}

/// Opens a link in a fresh browser; the answer, and the browser (signed in or not).
async fn open(base: &str, path: &str) -> (Page, Visitor) {
    let mut visitor = Visitor::new(base);
    let page = visitor.get(path).await;
    (page, visitor)
}

fn assert_invalid_link(page: &Page, what: &str) {
    assert_eq!(page.status, 404, "{what}: {}", page.body);
    assert!(
        page.set_cookies.is_empty(),
        "{what}: no cookie: {:?}",
        page.set_cookies
    );
    assert!(
        page.body.contains("This link is invalid or has expired"),
        "{what}: {}",
        page.body
    );
}

#[tokio::test]
async fn a_link_signs_in_once_and_every_bad_link_gets_the_same_404() {
    let app = TestApp::start_with(|a| a.portal.portal_link_ttl = "1s".into()).await;
    let (status, link) = mint(&app.base, API_KEY, None).await;
    assert_eq!(status, 201, "{link}");
    assert_eq!(link["read_only"], false);
    let expires_at = parse_rfc3339(link["expires_at"].as_str().unwrap()).unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    assert!(
        (now..=now + 1_000).contains(&expires_at),
        "a link lasts SPEAKNODE_PORTAL_LINK_TTL: {link}"
    );
    let path = path_of(&app.base, &link);
    let token = path.trim_start_matches("/portal/");
    assert_eq!(token.len(), 43, "256 random bits in base62");

    let (page, mut visitor) = open(&app.base, &path).await;
    assert_eq!(
        (page.status, page.location.as_deref()),
        (303, Some("/webhooks"))
    );
    let cookie = page.cookie_line("speaknode_session").unwrap();
    assert!(
        cookie.contains("SameSite=Strict") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    let webhooks = visitor.get("/webhooks").await;
    assert_eq!(webhooks.status, 200);
    assert!(webhooks.body.contains("+ Create Webhook"), "a full session");

    let (again, _) = open(&app.base, &path).await;
    assert_invalid_link(&again, "a used link");
    let (unknown, _) = open(
        &app.base,
        "/portal/not_a_link_of_anyone_0000000000000000000",
    )
    .await;
    assert_invalid_link(&unknown, "an unknown link");
    let (empty, _) = open(&app.base, "/portal/").await;
    assert_eq!(empty.status, 404);

    let (_, late) = mint(&app.base, API_KEY, Some(json!({}))).await;
    // A link is good for SPEAKNODE_PORTAL_LINK_TTL (1 s here): this waits it out, no timing is
    // asserted.
    tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
    let (expired, _) = open(&app.base, &path_of(&app.base, &late)).await;
    assert_invalid_link(&expired, "an expired link");
    app.stop().await;
}

#[tokio::test]
async fn minting_refuses_bad_requests_and_the_admin_route_names_any_workspace() {
    let app = TestApp::start_with(|a| a.admin_token = Some(ADMIN.into())).await;
    let (status, _) = mint(&app.base, "sk_not_a_key_of_anyone_000000000", None).await;
    assert_eq!(status, 401);
    let (status, body) = mint(&app.base, API_KEY, Some(json!({"read_only": "yes"}))).await;
    assert_eq!(
        (status.as_u16(), body["error"]["field"].clone()),
        (400, json!("read_only"))
    );
    let (status, body) = mint(&app.base, API_KEY, Some(json!({"readonly": true}))).await;
    assert_eq!(
        (status.as_u16(), body["error"]["code"].clone()),
        (400, json!("bad_request"))
    );

    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let admin_mint = |workspace: &str, token: &str| {
        client
            .post(app.url(&format!("/api/v1/workspaces/{workspace}/portal/sessions")))
            .bearer_auth(token)
            .json(&json!({"read_only": true}))
            .send()
    };
    assert_eq!(admin_mint("ws_x", API_KEY).await.unwrap().status(), 401);
    let answer = admin_mint("ws_nobody", ADMIN).await.unwrap();
    assert_eq!(answer.status(), 404);
    let listed = client
        .get(app.url("/api/v1/workspaces"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let workspace = listed["data"][0]["id"].as_str().unwrap().to_string();
    let answer = admin_mint(&workspace, ADMIN).await.unwrap();
    assert_eq!(answer.status(), 201);
    let link: Value = answer.json().await.unwrap();
    assert_eq!(link["read_only"], true);
    let (page, mut visitor) = open(&app.base, &path_of(&app.base, &link)).await;
    assert_eq!(page.status, 303);
    assert_eq!(visitor.get("/webhooks").await.status, 200);
    app.stop().await;
}

#[tokio::test]
async fn a_read_only_session_reads_every_page_and_changes_nothing() {
    let app = TestApp::start().await;
    let receiver = Receiver::ok().await;
    let webhook = app.create_webhook(&receiver.url, &["SessionStarted"]).await;
    let id = webhook["id"].as_str().unwrap();
    let secret = webhook["secret"].as_str().unwrap();
    let event = app.emit("SessionStarted", session_started()).await;
    let event_id = event["id"].as_str().unwrap();
    let attempts = app.wait_for_attempts(id, 1).await;
    let attempt_id = attempts[0]["id"].as_str().unwrap();

    let (_, link) = mint(&app.base, API_KEY, Some(json!({"read_only": true}))).await;
    assert_eq!(link["read_only"], true);
    let (page, mut support) = open(&app.base, &path_of(&app.base, &link)).await;
    assert_eq!(page.status, 303);

    for path in [
        "/webhooks".to_string(),
        format!("/webhooks/{id}"),
        format!("/webhooks/{id}?reveal=1"),
        "/events".to_string(),
        format!("/events/{event_id}"),
        "/event-types".to_string(),
    ] {
        let page = support.get(&path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(!page.body.contains(secret), "{path} shows the secret");
        for control in [
            "+ Create Webhook",
            "/edit\"",
            "Delete webhook",
            "role=\"switch\"",
            "Reveal",
            "Rotate",
            "Send test event",
            "/retry\"",
            ">Replay<",
        ] {
            assert!(!page.body.contains(control), "{path} offers {control}");
        }
    }
    let history = support.get(&format!("/webhooks/{id}")).await;
    assert!(
        history.body.contains(attempt_id),
        "the Request History is shown"
    );
    assert!(history.body.contains("Read-only"));

    let csrf = support.get("/webhooks").await.csrf();
    let posts = [
        (
            "/webhooks".to_string(),
            vec![
                ("url", receiver.url.as_str()),
                ("event_types", "SessionStarted"),
            ],
        ),
        (
            format!("/webhooks/{id}/edit"),
            vec![
                ("url", receiver.url.as_str()),
                ("event_types", "SessionStarted"),
            ],
        ),
        (
            format!("/webhooks/{id}/enabled"),
            vec![("enabled", "false")],
        ),
        (format!("/webhooks/{id}/delete"), vec![]),
        (format!("/webhooks/{id}/secret/rotate"), vec![]),
        (
            format!("/webhooks/{id}/test"),
            vec![("event_type", "SessionStarted")],
        ),
        (format!("/webhooks/{id}/replay"), vec![("window", "1h")]),
        (
            format!("/webhooks/{id}/attempts/{attempt_id}/retry"),
            vec![],
        ),
    ];
    for (path, fields) in posts {
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend(fields);
        let page = support.post(&path, &all).await;
        assert_eq!(page.status, 403, "{path}: {}", page.body);
        assert!(page.body.contains("read-only"), "{path}: {}", page.body);
    }
    for path in [
        "/webhooks/new".to_string(),
        format!("/webhooks/{id}/edit"),
        format!("/webhooks/{id}/secret"),
    ] {
        assert_eq!(support.get(&path).await.status, 403, "{path}");
    }

    // Nothing changed: still one webhook, enabled, with its secret, and one attempt.
    let (_, now) = app.get(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(now["enabled"], true);
    let (_, kept) = app.get(&format!("/api/v1/webhooks/{id}/secret")).await;
    assert_eq!(kept["secret"], secret);
    let (_, list) = app.get("/api/v1/webhooks").await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(app.attempts(id).await.len(), 1);

    let out = support.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(
        (out.status, out.location.as_deref()),
        (303, Some("/login")),
        "a read-only session may still log out"
    );
    assert_eq!(
        support.get("/webhooks").await.location.as_deref(),
        Some("/login")
    );
    app.stop().await;
}

#[tokio::test]
async fn without_key_sign_in_only_portal_links_open_the_dashboard() {
    let app = TestApp::start_with(|a| a.portal.dashboard_key_login = "false".into()).await;
    let mut visitor = Visitor::new(&app.base);
    let page = visitor.get("/login").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("Open the Webhooks page from your SpeakNode dashboard")
    );
    assert!(!page.body.contains("name=\"api_key\""), "no key form");
    // Even a well-formed sign-in (the double-submit token in the cookie and the form) is refused.
    let csrf = visitor.cookies["speaknode_login"].clone();
    let refused = visitor
        .post("/login", &[("csrf", &csrf), ("api_key", API_KEY)])
        .await;
    assert_eq!(refused.status, 403);
    assert!(refused.cookie_line("speaknode_session").is_none());

    let (_, link) = mint(&app.base, API_KEY, None).await;
    let (page, mut customer) = open(&app.base, &path_of(&app.base, &link)).await;
    assert_eq!(page.status, 303);
    assert_eq!(customer.get("/webhooks").await.status, 200);
    app.stop().await;
}

#[tokio::test]
async fn with_embed_origins_pages_may_be_framed_by_them_and_cookies_survive_a_frame() {
    let app = TestApp::start_with(|a| {
        a.portal.portal_embed_origins =
            Some("https://app.speaknode.com, http://localhost:5173".into())
    })
    .await;
    let (_, link) = mint(&app.base, API_KEY, None).await;
    let (page, _) = open(&app.base, &path_of(&app.base, &link)).await;
    let cookie = page.cookie_line("speaknode_session").unwrap();
    for flag in ["HttpOnly", "SameSite=None", "Secure", "Partitioned"] {
        assert!(cookie.contains(flag), "{cookie} lacks {flag}");
    }
    let response = reqwest::get(app.url("/login")).await.unwrap();
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("frame-ancestors https://app.speaknode.com http://localhost:5173;"),
        "{csp}"
    );
    assert!(response.headers().get("x-frame-options").is_none());
    let docs = reqwest::get(app.url("/docs")).await.unwrap();
    assert_eq!(
        docs.headers()["x-frame-options"],
        "DENY",
        "the API reference is never framed"
    );
    app.stop().await;

    let unframed = TestApp::start().await;
    let response = reqwest::get(unframed.url("/login")).await.unwrap();
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(response.headers()["x-frame-options"], "DENY");
    unframed.stop().await;
}

#[tokio::test]
async fn guessing_links_is_throttled_like_sign_in() {
    let app = TestApp::start_with(|a| a.login_attempts = "3/10m".into()).await;
    let guesser = "127.0.0.9".parse().unwrap();
    let mut visitor = Visitor::from_address(&app.base, guesser);
    for i in 0..3 {
        let page = visitor.get(&format!("/portal/guess_{i:0>37}")).await;
        assert_eq!(page.status, 404);
    }
    let (_, link) = mint(&app.base, API_KEY, None).await;
    let refused = visitor.get(&path_of(&app.base, &link)).await;
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert!(refused.retry_after.is_some());
    assert!(refused.set_cookies.is_empty());
    // Another address is not held up, and the link was not spent by the refused try.
    let (page, _) = open(&app.base, &path_of(&app.base, &link)).await;
    assert_eq!(page.status, 303);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgresql_a_link_minted_on_one_process_opens_once_on_any() {
    let Some(db) = PgDb::create().await else {
        return;
    };
    let env = [
        ("SPEAKNODE_API_KEY", API_KEY),
        ("SPEAKNODE_ALLOW_PRIVATE_TARGETS", "true"),
    ];
    let mut first = start_on(&db.url, &env);
    let mut second = start_on(&db.url, &env);
    let (status, link) = mint(&first.base, API_KEY, None).await;
    assert_eq!(status, 201, "{link}");
    let path = path_of(&first.base, &link);
    let (page, mut visitor) = open(&second.base, &path).await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(visitor.get("/webhooks").await.status, 200);
    let (again, _) = open(&first.base, &path).await;
    assert_invalid_link(&again, "used on the other process");
    let (again, _) = open(&second.base, &path).await;
    assert_invalid_link(&again, "used on the same process");
    for service in [&mut first, &mut second] {
        service.child.kill().unwrap();
        let _ = service.child.wait();
    }
    db.drop_database().await;
}

#[tokio::test]
async fn a_link_token_never_reaches_the_logs() {
    speaknode_webhooks::delivery::sender::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("service.log");
    let log_file = std::fs::File::create(&log_path).unwrap();
    let db = format!("sqlite://{}", dir.path().join("portal.db").display());
    let env = [
        ("SPEAKNODE_LOG_FORMAT", "json"),
        ("SPEAKNODE_LOG", "trace"),
        ("SPEAKNODE_API_KEY", API_KEY),
    ];
    let mut service = start_logging_to(&db, &env, Stdio::from(log_file));
    let mut tokens = Vec::new();
    for _ in 0..2 {
        let (_, link) = mint(&service.base, API_KEY, None).await;
        let path = path_of(&service.base, &link);
        tokens.push(path.trim_start_matches("/portal/").to_string());
        open(&service.base, &path).await;
        open(&service.base, &path).await;
    }
    signal(&service.child, "TERM");
    let _ = service.child.wait();
    let logs = std::fs::read_to_string(&log_path).unwrap();
    assert!(!logs.is_empty(), "the service logged at trace level");
    for token in tokens {
        assert!(!logs.contains(&token), "a portal token is in the logs");
    }
}
