//! The Rust client (crates/speaknode-client) on the same journey as the Python and TypeScript
//! ones: create a webhook, emit both shipped types, emit once through the flaky proxy, read the
//! Request History and the statistics, and see a refusal typed.

use serde_json::json;
use speaknode_client::{Error, NewWebhook, RetryPolicy, SpeakNode};

use super::Live;
use crate::common::{API_KEY, Receiver, conversation_complete, eventually, session_started};

#[tokio::test]
async fn the_rust_client_works_against_the_service_and_a_retried_emit_stores_one_event() {
    let live = Live::start().await;
    let receiver = Receiver::ok().await;
    let sn = SpeakNode::new(&live.app.base, API_KEY).unwrap();

    let types = vec!["ConversationComplete".to_string(), "SessionStarted".into()];
    let new = NewWebhook {
        url: receiver.url.clone(),
        event_types: types.clone(),
        ..NewWebhook::default()
    };
    let webhook = sn.create_webhook(&new).await.unwrap();
    assert!(webhook.secret.as_deref().unwrap().starts_with("whsec_"));
    assert_eq!(sn.get_webhook(&webhook.id).await.unwrap().secret, None);

    let bad = NewWebhook {
        url: "ftp://x".into(),
        ..new.clone()
    };
    let refused = sn.create_webhook(&bad).await.unwrap_err();
    let Error::Api { status, detail, .. } = &refused else {
        panic!("{refused:?}")
    };
    assert_eq!(
        (*status, detail.code.as_str(), detail.field.as_deref()),
        (422, "validation_failed", Some("url"))
    );

    let mut accepted = vec![
        sn.emit("ConversationComplete", &conversation_complete())
            .await
            .unwrap(),
        sn.emit("SessionStarted", &session_started()).await.unwrap(),
    ];
    let fast = RetryPolicy {
        backoff: std::time::Duration::from_millis(50),
        ..RetryPolicy::default()
    };
    let flaky = SpeakNode::new(&live.flaky.url, API_KEY)
        .unwrap()
        .retry_policy(fast);
    let mut data = session_started();
    data["session_id"] = json!("sess_rust_retried");
    let retried = flaky.emit("SessionStarted", &data).await.unwrap();
    accepted.push(retried.clone());
    assert!(accepted.iter().all(|a| a.deliveries == 1), "{accepted:?}");
    let ours = sn
        .list_events(&[("data.session_id", "sess_rust_retried")])
        .await
        .unwrap();
    let ids: Vec<_> = ours.data.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, [retried.id.as_str()]);
    live.check_one_retried_emit("").await;

    eventually(
        "three succeeded attempts in the Request History",
        || async {
            let page = sn.list_attempts(&webhook.id, &[]).await.unwrap();
            page.data
                .iter()
                .filter(|a| a.http_status == Some(200))
                .count()
                == 3
        },
    )
    .await;
    let stats = sn.stats(&[("webhook_id", &webhook.id)]).await.unwrap();
    assert_eq!((stats.totals.attempts, stats.totals.succeeded), (3, 3));
    assert_eq!(stats.outcomes.get("200"), Some(&3));

    let listed = sn.list_webhooks(100, None).await.unwrap();
    assert_eq!(listed.data.len(), 1);
    sn.delete_webhook(&webhook.id).await.unwrap();
    let gone = sn.get_webhook(&webhook.id).await.unwrap_err();
    assert_eq!(gone.detail().map(|d| d.code.as_str()), Some("not_found"));
}
