//! `SPEAKNODE_PROXY_URL` over real sockets, with a forward proxy the test runs on 127.0.0.1
//! (`common::forward_proxy`): every delivery passes through it, http targets as absolute-form
//! requests and https ones through `CONNECT`, with the URL's credentials as
//! `Proxy-Authorization`; blocked targets are still refused before anything reaches the proxy;
//! and `/healthz` does not depend on the proxy.

#![allow(clippy::unwrap_used)]

use crate::common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use common::forward_proxy::ForwardProxy;
use common::{Receiver, TestApp, conversation_complete, session_started};
use serde_json::json;

fn basic(credentials: &str) -> String {
    format!("Basic {}", BASE64.encode(credentials))
}

#[tokio::test]
async fn every_delivery_goes_through_the_proxy_with_the_urls_credentials() {
    let proxy = ForwardProxy::start().await;
    let receiver = Receiver::ok().await;
    // `%21` is `!`: credentials in a URL are percent-encoded, the header carries them decoded.
    let proxy_url = proxy.url(Some("egress:s3cret%21"));
    let app = TestApp::start_with(|a| a.proxy_url = Some(proxy_url)).await;
    let webhook = app.create_webhook(&receiver.url, &["SessionStarted"]).await;
    let id = webhook["id"].as_str().unwrap();
    for _ in 0..3 {
        app.emit("SessionStarted", session_started()).await;
    }
    let (status, test) = app
        .post(
            &format!("/api/v1/webhooks/{id}/test"),
            json!({"event_type": "SessionStarted"}),
        )
        .await;
    assert_eq!((status.as_u16(), &test["http_status"]), (200, &json!(200)));
    let attempts = app.wait_for_attempts(id, 4).await;
    assert!(
        attempts.iter().all(|a| a["http_status"] == 200),
        "{attempts:?}"
    );
    assert_eq!(receiver.received().len(), 4);

    let seen = proxy.seen();
    assert_eq!(seen.len(), 4, "every delivery, the test send too: {seen:?}");
    for request in &seen {
        assert_eq!(request.method, "POST");
        assert_eq!(request.target, receiver.url, "absolute-form to the target");
        assert_eq!(
            request.proxy_authorization.as_deref(),
            Some(basic("egress:s3cret!").as_str())
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn https_targets_are_tunnelled_with_connect() {
    let proxy = ForwardProxy::start().await;
    // Plain HTTP behind the tunnel: the TLS handshake fails, after the CONNECT went through.
    let receiver = Receiver::ok().await;
    let port = receiver
        .url
        .rsplit(':')
        .next()
        .unwrap()
        .split('/')
        .next()
        .unwrap();
    let proxy_url = proxy.url(Some("egress:pw"));
    let app = TestApp::start_with(|a| {
        a.proxy_url = Some(proxy_url);
        a.retry_schedule = "".into();
    })
    .await;
    let url = format!("https://localhost:{port}/hook");
    let webhook = app.create_webhook(&url, &["ConversationComplete"]).await;
    app.emit("ConversationComplete", conversation_complete())
        .await;
    let attempts = app
        .wait_for_attempts(webhook["id"].as_str().unwrap(), 1)
        .await;
    assert!(attempts[0]["http_status"].is_null(), "{:?}", attempts[0]);

    let seen = proxy.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].method, "CONNECT");
    assert_eq!(seen[0].target, format!("localhost:{port}"));
    assert_eq!(
        seen[0].proxy_authorization.as_deref(),
        Some(basic("egress:pw").as_str())
    );
    assert!(
        receiver.received().is_empty(),
        "no HTTP request got through"
    );
    app.stop().await;
}

#[tokio::test]
async fn blocked_targets_are_refused_before_anything_reaches_the_proxy() {
    // The name-based refusal of a proxied target (a host name resolving to a blocked address)
    // is tested in `delivery::resolver`: no name but `localhost` is sure to resolve to loopback
    // on every machine, and `localhost` is refused by name before any lookup.
    // Created while private targets were allowed; delivered through the proxy after they are not.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("proxied.db");
    let receiver = Receiver::ok().await;
    let permissive = TestApp::start_on(&db, |a| a.no_worker = true).await;
    let mut webhooks = Vec::new();
    for (url, error) in [
        (receiver.url.clone(), "blocked_address"),
        (
            receiver.url.replace("127.0.0.1", "localhost"),
            "blocked_address",
        ),
        (
            receiver.url.replace("127.0.0.1", "[::ffff:127.0.0.1]"),
            "blocked_address",
        ),
        (
            "http://169.254.169.254/latest/meta-data".into(),
            "blocked_address",
        ),
        ("https://10.0.0.1/hook".into(), "blocked_address"),
        // The client does not resolve targets itself with a proxy: only the check before
        // sending can answer `dns_error` (the proxy would have answered 502).
        ("http://no-such-host.invalid/hook".into(), "dns_error"),
    ] {
        let webhook = permissive.create_webhook(&url, &["SessionStarted"]).await;
        webhooks.push((webhook["id"].as_str().unwrap().to_string(), error));
    }
    permissive.emit("SessionStarted", session_started()).await;
    permissive.stop().await;

    let proxy = ForwardProxy::start().await;
    let strict = TestApp::start_on(&db, |a| {
        a.allow_private_targets = "false".into();
        a.retry_schedule = "".into();
        a.proxy_url = Some(proxy.url(None));
    })
    .await;
    for (id, error) in &webhooks {
        let attempts = strict.wait_for_attempts(id, 1).await;
        assert_eq!(attempts[0]["error"], *error, "{id}: {:?}", attempts[0]);
        assert!(attempts[0]["http_status"].is_null());
    }
    assert!(proxy.seen().is_empty(), "{:?}", proxy.seen());
    assert!(receiver.received().is_empty(), "no connection was made");
    strict.stop().await;
}

#[tokio::test]
async fn a_proxy_that_is_down_fails_deliveries_but_not_the_health_check() {
    // A port nobody listens on once the listener is gone.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let down = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let receiver = Receiver::ok().await;
    let app = TestApp::start_with(|a| {
        a.proxy_url = Some(down);
        a.retry_schedule = "".into();
    })
    .await;
    let webhook = app.create_webhook(&receiver.url, &["SessionStarted"]).await;
    app.emit("SessionStarted", session_started()).await;
    let attempts = app
        .wait_for_attempts(webhook["id"].as_str().unwrap(), 1)
        .await;
    assert_eq!(
        attempts[0]["error"], "connection_error",
        "{:?}",
        attempts[0]
    );
    assert!(
        receiver.received().is_empty(),
        "never sent around the proxy"
    );
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    app.stop().await;
}
