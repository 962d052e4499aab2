//! Dashboard sign-in over real HTTP: the session cookie and what the database keeps, pages that
//! need a session, expiry, signing out, and CSRF tokens on every form POST.

#![allow(clippy::unwrap_used)]

use crate::common;
use crate::visitor;

use common::{API_KEY, TestApp};
use serde_json::json;
use sha2::{Digest, Sha256};
use speaknode_webhooks::store::sqlite::SqliteStore;
use speaknode_webhooks::store::{NewSession, Sessions, Workspace, Workspaces};
use visitor::{Visitor, signed_in, store_url, webhook_count};

#[tokio::test]
async fn a_wrong_api_key_shows_an_error_and_signs_nobody_in() {
    let app = TestApp::start().await;
    let mut visitor = Visitor::new(&app.base);
    let page = visitor.sign_in("sk_not_a_key_of_anyone_000000000").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("That API key is not valid"),
        "{}",
        page.body
    );
    assert!(page.cookie_line("speaknode_session").is_none());
    assert!(
        !page.body.contains("sk_not_a_key_of_anyone"),
        "the typed key is not echoed"
    );
    assert_eq!(
        visitor.get("/webhooks").await.location.as_deref(),
        Some("/login")
    );
}

#[tokio::test]
async fn signing_in_sets_an_http_only_same_site_strict_session_cookie() {
    let app = TestApp::start().await;
    let mut visitor = Visitor::new(&app.base);
    let answer = visitor.sign_in(API_KEY).await;
    assert_eq!(
        (answer.status, answer.location.as_deref()),
        (303, Some("/webhooks"))
    );
    let cookie = answer.cookie_line("speaknode_session").unwrap();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
        assert!(cookie.contains(flag), "{cookie} lacks {flag}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain http cannot keep a Secure cookie"
    );

    let page = visitor.get("/webhooks").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("Default"),
        "the sidebar names the workspace"
    );
    assert!(page.body.contains("Log out"));
    assert!(
        !page.body.contains(API_KEY),
        "the API key never appears in a page"
    );

    // Only the token's SHA-256 hash is stored.
    let token = visitor.cookies["speaknode_session"].clone();
    let store = SqliteStore::open(&store_url(&app)).await.unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    let hash = Sha256::digest(token.as_bytes()).to_vec();
    assert!(store.session(&hash, now).await.unwrap().is_some());
    assert!(
        store
            .session(token.as_bytes(), now)
            .await
            .unwrap()
            .is_none()
    );

    // Behind a TLS-terminating proxy the cookie is Secure.
    let mut behind_tls = Visitor::new(&app.base);
    behind_tls
        .headers
        .push(("x-forwarded-proto", "https".into()));
    let answer = behind_tls.sign_in(API_KEY).await;
    assert!(
        answer
            .cookie_line("speaknode_session")
            .unwrap()
            .contains("; Secure")
    );
}

#[tokio::test]
async fn pages_send_visitors_without_a_session_to_login() {
    let app = TestApp::start().await;
    let mut visitor = Visitor::new(&app.base);
    assert_eq!(
        visitor.get("/").await.location.as_deref(),
        Some("/webhooks")
    );
    for path in [
        "/webhooks",
        "/webhooks/new",
        "/webhooks/wh_x",
        "/webhooks/wh_x/edit",
        "/webhooks/wh_x/secret",
        "/event-types",
    ] {
        let page = visitor.get(path).await;
        assert_eq!(
            (page.status, page.location.as_deref()),
            (303, Some("/login")),
            "{path}"
        );
    }
    visitor
        .cookies
        .insert("speaknode_session".into(), "forged".into());
    assert_eq!(
        visitor.get("/webhooks").await.location.as_deref(),
        Some("/login")
    );
    let fields = [
        ("url", "https://example.com/"),
        ("event_types", "SessionStarted"),
    ];
    let page = visitor.post("/webhooks", &fields).await;
    assert_eq!(page.location.as_deref(), Some("/login"));
    assert_eq!(webhook_count(&app).await, 0);
}

#[tokio::test]
async fn sessions_end_when_they_expire() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("s.db").display());
    let store = SqliteStore::open(&url).await.unwrap();
    let ws = Workspace {
        id: "ws_expiry".into(),
        name: "Expiry".into(),
        created_at: 0,
    };
    store.create_workspace(&ws, false).await.unwrap();
    let session = NewSession {
        token_hash: vec![7; 32],
        workspace_id: ws.id.clone(),
        csrf_token: "csrf".into(),
        read_only: false,
        created_at: 1_000,
        expires_at: 5_000,
    };
    store.create_session(&session).await.unwrap();
    let found = store.session(&[7; 32], 4_999).await.unwrap().unwrap();
    assert_eq!(
        (found.workspace_name.as_str(), found.csrf_token.as_str()),
        ("Expiry", "csrf")
    );
    assert!(store.session(&[7; 32], 5_000).await.unwrap().is_none());
    store.delete_session(&[7; 32]).await.unwrap();
    assert!(store.session(&[7; 32], 4_999).await.unwrap().is_none());
}

#[tokio::test]
async fn a_post_without_or_with_a_wrong_csrf_token_is_refused_and_changes_nothing() {
    let app = TestApp::start().await;
    let mut visitor = signed_in(&app).await;
    let good = [
        ("url", "https://example.com/hook"),
        ("event_types", "SessionStarted"),
        ("enabled", "on"),
    ];
    assert_eq!(visitor.post("/webhooks", &good).await.status, 403);
    let wrong = [good.as_slice(), &[("csrf", "not-the-token")]].concat();
    let page = visitor.post("/webhooks", &wrong).await;
    assert_eq!(page.status, 403);
    assert!(page.body.contains("nothing was changed"));
    assert_eq!(webhook_count(&app).await, 0);

    let webhook = app
        .create_webhook("https://example.com/kept", &["SessionStarted"])
        .await;
    let id = webhook["id"].as_str().unwrap();
    for action in ["delete", "enabled", "secret/rotate", "test", "edit"] {
        let page = visitor
            .post(&format!("/webhooks/{id}/{action}"), &[("csrf", "x")])
            .await;
        assert_eq!(page.status, 403, "{action}");
    }
    let (status, after) = app.get(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!((status.as_u16(), &after["enabled"]), (200, &json!(true)));
    assert_eq!(
        after["updated_at"], webhook["updated_at"],
        "nothing changed"
    );
    assert_eq!(app.attempts(id).await.len(), 0, "no test was sent");

    // Signing out needs the token too, so another site cannot sign a user out.
    assert_eq!(visitor.post("/logout", &[]).await.status, 403);
    assert_eq!(visitor.get("/webhooks").await.status, 200);
    // The sign-in form needs its own token, matching its cookie.
    let mut stranger = Visitor::new(&app.base);
    let page = stranger
        .post("/login", &[("csrf", "guess"), ("api_key", API_KEY)])
        .await;
    assert_eq!(page.status, 403);
    assert!(page.cookie_line("speaknode_session").is_none());
}

#[tokio::test]
async fn logging_out_ends_the_session_at_once() {
    let app = TestApp::start().await;
    let mut visitor = signed_in(&app).await;
    let token = visitor.cookies["speaknode_session"].clone();
    let csrf = visitor.csrf().await;
    let page = visitor.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(page.location.as_deref(), Some("/login"));
    assert!(
        page.cookie_line("speaknode_session")
            .unwrap()
            .contains("Max-Age=0")
    );
    // Even a copy of the old cookie is worthless now.
    visitor.cookies.insert("speaknode_session".into(), token);
    assert_eq!(
        visitor.get("/webhooks").await.location.as_deref(),
        Some("/login")
    );
}
