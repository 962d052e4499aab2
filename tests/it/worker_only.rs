//! A worker-only process (`--no-api`) serves the operations routes, and answers anything else
//! with the contract's error body, not an empty 404.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::TestApp;
use serde_json::Value;

#[tokio::test]
async fn a_worker_only_process_serves_health_and_metrics_and_errors_in_the_contracts_shape() {
    let app = TestApp::start_with(|args| args.no_api = true).await;
    let client = reqwest::Client::new();
    for path in ["/healthz", "/metrics"] {
        let response = client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
    }
    let response = client
        .get(app.url("/api/v1/webhooks"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found", "{body}");
    let response = client.delete(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 405);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "method_not_allowed", "{body}");
    app.stop().await;
}
