//! Rotating a webhook's secret: `POST /api/v1/webhooks/{id}/secret/rotate` answers the new secret,
//! deliveries are then signed with the new one first and, in `webhook-signature`, with the old one
//! too for the 24 h grace period.

#![allow(clippy::unwrap_used)]

use crate::common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use common::{Receiver, TestApp, session_started};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use speaknode_webhooks::domain::time::Millis;
use speaknode_webhooks::domain::webhook::Secret;
use speaknode_webhooks::store::sqlite::SqliteStore;
use speaknode_webhooks::store::{NewWebhook, Webhooks, Workspace, Workspaces};

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// The Standard Webhooks signature of a received request under one secret.
fn standard_signature(secret: &str, id: &str, timestamp: &str, body: &[u8]) -> String {
    let signed = format!("{id}.{timestamp}.{}", std::str::from_utf8(body).unwrap());
    let key = BASE64.decode(&secret[6..]).unwrap();
    format!("v1,{}", BASE64.encode(hmac_sha256(&key, signed.as_bytes())))
}

#[tokio::test]
async fn after_a_rotation_deliveries_carry_the_new_and_the_old_signature() {
    let app = TestApp::start().await;
    let receiver = Receiver::ok().await;
    let webhook = app.create_webhook(&receiver.url, &["SessionStarted"]).await;
    let id = webhook["id"].as_str().unwrap();
    let old = webhook["secret"].as_str().unwrap().to_string();

    let (status, body) = app
        .post(
            &format!("/api/v1/webhooks/{id}/secret/rotate"),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let new = body["secret"].as_str().unwrap().to_string();
    assert!(new.starts_with("whsec_"));
    assert_ne!(new, old);
    let (_, current) = app.get(&format!("/api/v1/webhooks/{id}/secret")).await;
    assert_eq!(current["secret"], new.as_str(), "the new secret is current");

    let event = app.emit("SessionStarted", session_started()).await;
    app.wait_for_event_settled(event["id"].as_str().unwrap())
        .await;
    let got = receiver.received();
    let request = &got[0];
    let (evt, ts) = (
        request.header("webhook-id"),
        request.header("webhook-timestamp"),
    );
    let signatures: Vec<&str> = request.header("webhook-signature").split(' ').collect();
    assert_eq!(
        signatures,
        [
            standard_signature(&new, evt, ts, &request.body),
            standard_signature(&old, evt, ts, &request.body),
        ],
        "newest first, then the rotated-out secret"
    );
    assert_eq!(
        request.header("x-speaknode-signature"),
        hex::encode(hmac_sha256(new.as_bytes(), &request.body)),
        "X-SpeakNode-Signature uses the new secret"
    );
    app.stop().await;
}

#[tokio::test]
async fn rotating_an_unknown_webhook_is_a_404() {
    let app = TestApp::start().await;
    let (status, body) = app
        .post(
            "/api/v1/webhooks/wh_doesnotexist/secret/rotate",
            serde_json::json!({}),
        )
        .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "not_found");
    app.stop().await;
}

#[tokio::test]
async fn a_rotated_out_secret_stops_signing_when_its_grace_period_ends() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("s.db").display());
    let store = SqliteStore::open(&url).await.unwrap();
    let t0: Millis = 1_800_000_000_000;
    let workspace = Workspace {
        id: "ws_rotation".into(),
        name: "Rotation".into(),
        created_at: t0,
    };
    store.create_workspace(&workspace, false).await.unwrap();
    let (first, second, third) = (Secret::generate(), Secret::generate(), Secret::generate());
    store
        .create_webhook(&NewWebhook {
            id: "wh_rotation".into(),
            workspace_id: workspace.id.clone(),
            url: "https://example.com/hook".into(),
            description: String::new(),
            event_types: vec!["SessionStarted".into()],
            enabled: true,
            secret: first.clone(),
            options: Default::default(),
            now: t0,
        })
        .await
        .unwrap();
    let day = 24 * 3600 * 1000;
    // Two rotations in the very millisecond of creation still order newest first.
    assert!(
        store
            .rotate_webhook_secret("ws_rotation", "wh_rotation", &second, t0, t0 + day)
            .await
            .unwrap()
    );
    let later = t0 + 3_600_000;
    assert!(
        store
            .rotate_webhook_secret("ws_rotation", "wh_rotation", &third, later, later + day)
            .await
            .unwrap()
    );
    let secrets_at = |now| store.webhook_secrets("ws_rotation", "wh_rotation", now);
    assert_eq!(
        secrets_at(later).await.unwrap().unwrap(),
        [third.clone(), second.clone(), first]
    );
    assert_eq!(
        secrets_at(t0 + day).await.unwrap().unwrap(),
        [third.clone(), second]
    );
    assert_eq!(secrets_at(later + day).await.unwrap().unwrap(), [third]);
    assert!(
        !store
            .rotate_webhook_secret("ws_other", "wh_rotation", &Secret::generate(), later, later)
            .await
            .unwrap(),
        "another workspace's webhook is not found"
    );
}

#[tokio::test]
async fn secrets_are_encrypted_at_rest_when_a_key_is_set_and_still_sign() {
    let key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    let app = TestApp::start_with(|a| a.encryption_key = Some(key.into())).await;
    let receiver = Receiver::ok().await;
    let webhook = app.create_webhook(&receiver.url, &["SessionStarted"]).await;
    let secret = webhook["secret"].as_str().unwrap().to_string();
    let event = app.emit("SessionStarted", session_started()).await;
    app.wait_for_event_settled(event["id"].as_str().unwrap())
        .await;

    // The database file holds no trace of the secret.
    let db = std::fs::read(&app.db_path).unwrap();
    let wal = std::fs::read(app.db_path.with_extension("db-wal")).unwrap_or_default();
    let needle = &secret.as_bytes()[6..];
    let contains = |hay: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
    assert!(
        !contains(&db) && !contains(&wal),
        "the secret is stored encrypted"
    );

    // Deliveries are still signed with it, and the API still reveals it.
    let got = &receiver.received()[0];
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(&got.body);
    assert_eq!(
        got.header("x-speaknode-signature"),
        hex::encode(mac.finalize().into_bytes())
    );
    let (_, revealed) = app
        .get(&format!(
            "/api/v1/webhooks/{}/secret",
            webhook["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(revealed["secret"], secret.as_str());
    app.stop().await;
}

#[tokio::test]
async fn without_the_encryption_key_a_sealed_webhook_waits_unsigned_deliveries_are_never_sent() {
    let key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sealed.db");
    let (sealed_rx, plain_rx) = (Receiver::ok().await, Receiver::ok().await);
    let with_key = TestApp::start_on(&db, |a| a.encryption_key = Some(key.into())).await;
    with_key
        .create_webhook(&sealed_rx.url, &["SessionStarted"])
        .await;
    with_key.stop().await;

    let without_key = TestApp::start_on(&db, |_| {}).await;
    without_key
        .create_webhook(&plain_rx.url, &["SessionStarted"])
        .await;
    let event = without_key.emit("SessionStarted", session_started()).await;
    assert_eq!(event["deliveries"], 2);
    common::eventually("the readable webhook to get its delivery", || async {
        plain_rx.received().len() == 1
    })
    .await;
    without_key.stop().await;
    assert!(
        sealed_rx.received().is_empty(),
        "nothing is sent without a signature"
    );

    let again = TestApp::start_on(&db, |a| a.encryption_key = Some(key.into())).await;
    let settled = again
        .wait_for_event_settled(event["id"].as_str().unwrap())
        .await;
    assert!(
        settled["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["state"] == "succeeded")
    );
    assert_eq!(sealed_rx.received().len(), 1);
    again.stop().await;
}
