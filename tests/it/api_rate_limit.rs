//! `SPEAKNODE_RATE_LIMIT` over real HTTP: a burst over the rate gets the contract's 429 with
//! `Retry-After`, each API key has its own bucket (another key of the same workspace too), the
//! operations routes and the dashboard are never limited, refusals are counted in `/metrics`,
//! and without the setting nothing is limited.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::{API_KEY, TestApp, eventually};
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};

const ADMIN: &str = "admin_token_for_rate_limit_tests";

async fn admin(app: &TestApp, path: &str, body: Option<Value>) -> Value {
    let request = match body {
        Some(body) => app.client.post(app.url(path)).json(&body),
        None => app.client.get(app.url(path)),
    };
    let response = request.bearer_auth(ADMIN).send().await.unwrap();
    assert!(response.status().is_success(), "{path}");
    response.json().await.unwrap()
}

/// One request to list webhooks with `key`: its status, `Retry-After`, content type and body.
struct Answer {
    status: StatusCode,
    retry_after: Option<String>,
    content_type: String,
    body: Value,
}

async fn list_webhooks(app: &TestApp, key: &str) -> Answer {
    let response = app
        .client
        .get(app.url("/api/v1/webhooks"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    };
    let (retry_after, content_type) = (header("retry-after"), header("content-type"));
    Answer {
        status: response.status(),
        retry_after,
        content_type: content_type.unwrap_or_default(),
        body: response.json().await.unwrap(),
    }
}

async fn burst(app: &TestApp, key: &str, n: usize) -> Vec<Answer> {
    join_all((0..n).map(|_| list_webhooks(app, key))).await
}

async fn metric(app: &TestApp, name: &str) -> String {
    let response = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "/metrics is never limited");
    let text = response.text().await.unwrap();
    let line = text.lines().find(|l| l.starts_with(name));
    line.unwrap_or_else(|| panic!("{name} in {text}"))
        .to_string()
}

#[tokio::test]
async fn a_burst_over_the_rate_gets_429_with_retry_after_and_other_keys_are_unaffected() {
    let app = TestApp::start_with(|a| {
        a.rate_limit = Some("5".into());
        a.admin_token = Some(ADMIN.into());
    })
    .await;
    let workspaces = admin(&app, "/api/v1/workspaces", None).await;
    let default = &workspaces["data"][0]["id"];
    let same_workspace = admin(
        &app,
        &format!("/api/v1/workspaces/{}/api-keys", default.as_str().unwrap()),
        Some(json!({})),
    )
    .await["api_key"]
        .as_str()
        .unwrap()
        .to_string();
    let other_workspace =
        admin(&app, "/api/v1/workspaces", Some(json!({"name": "Other"}))).await["api_key"]
            .as_str()
            .unwrap()
            .to_string();

    let answers = burst(&app, API_KEY, 50).await;
    let ok = answers.iter().filter(|a| a.status == 200).count();
    let limited: Vec<_> = answers.iter().filter(|a| a.status == 429).collect();
    assert_eq!(ok + limited.len(), 50, "only 200 or 429");
    assert!(ok >= 10, "a full bucket holds 2 s worth: {ok} succeeded");
    assert!(
        !limited.is_empty(),
        "50 at once is over 5/s with a burst of 10"
    );
    for answer in &limited {
        let seconds: u64 = answer.retry_after.as_deref().unwrap().parse().unwrap();
        assert!(seconds >= 1, "{seconds}");
        assert!(answer.content_type.starts_with("application/json"));
        let error = answer.body["error"].as_object().unwrap();
        assert_eq!(error["code"], "rate_limited", "{:?}", answer.body);
        assert!(!error["message"].as_str().unwrap().is_empty());
        assert!(!error.contains_key("field"));
    }

    // Fresh buckets: another key of the same workspace, and another workspace's key.
    for key in [&same_workspace, &other_workspace] {
        let answers = burst(&app, key, 10).await;
        assert!(answers.iter().all(|a| a.status == 200), "{key}");
    }
    // Never limited, even when called with the exhausted key.
    for path in ["/healthz", "/api/v1/openapi.json", "/docs", "/login"] {
        for _ in 0..20 {
            let response = app
                .client
                .get(app.url(path))
                .bearer_auth(API_KEY)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{path}");
        }
    }
    assert_eq!(
        metric(&app, "speaknode_api_rate_limited_total").await,
        format!("speaknode_api_rate_limited_total {}", limited.len())
    );
    // The bucket refills at the rate: the key works again.
    eventually("the key to be allowed again", || async {
        list_webhooks(&app, API_KEY).await.status == 200
    })
    .await;
    app.stop().await;
}

#[tokio::test]
async fn wrong_keys_are_401_and_never_rate_limited() {
    let app = TestApp::start_with(|a| a.rate_limit = Some("1".into())).await;
    for _ in 0..10 {
        let answer = list_webhooks(&app, "sk_wrong_key_0000000000000000").await;
        assert_eq!(answer.status, 401);
        assert_eq!(answer.retry_after, None);
    }
    assert_eq!(
        metric(&app, "speaknode_api_rate_limited_total").await,
        "speaknode_api_rate_limited_total 0"
    );
    app.stop().await;
}

#[tokio::test]
async fn without_a_rate_limit_nothing_is_limited() {
    let app = TestApp::start().await;
    let answers = burst(&app, API_KEY, 50).await;
    assert!(answers.iter().all(|a| a.status == 200));
    app.stop().await;
}
