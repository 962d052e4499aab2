//! Requests signed here with the server's own signer, for checking that receivers refuse what
//! the service would never send: a changed body, another secret, a stale timestamp.

#![allow(dead_code, clippy::unwrap_used)]

use speaknode_webhooks::domain::signature::{speaknode_signature, standard_signature_header};
use speaknode_webhooks::domain::webhook::Secret;

/// Header (name, value) pairs in the order sent.
pub type Headers = Vec<(String, String)>;

/// A body shaped like a delivery, so receivers that parse it after verifying can.
pub const BODY: &str = r#"{"id":"evt_selfsigned","type":"SessionStarted","created_at":"2026-11-26T16:58:01Z","data":{"session_id":"sess_1","agent_id":"agent_1","started_at":"2026-11-26T16:58:01Z"}}"#;

/// The signature headers a delivery of `body` would carry, signed with `secret` at `timestamp`.
pub fn headers(secret: &str, timestamp: i64, body: &[u8]) -> Headers {
    let secret = Secret::from_stored(secret.to_string());
    vec![
        ("Content-Type".into(), "application/json".into()),
        ("X-SpeakNode-Event".into(), "SessionStarted".into()),
        ("X-SpeakNode-Delivery".into(), "dlv_selfsigned".into()),
        (
            "X-SpeakNode-Signature".into(),
            speaknode_signature(&secret, body),
        ),
        ("webhook-id".into(), "evt_selfsigned".into()),
        ("webhook-timestamp".into(), timestamp.to_string()),
        (
            "webhook-signature".into(),
            standard_signature_header(
                std::slice::from_ref(&secret),
                "evt_selfsigned",
                timestamp,
                body,
            ),
        ),
    ]
}

/// `headers` with one header's value replaced.
pub fn replace(mut headers: Headers, name: &str, value: String) -> Headers {
    for (k, v) in &mut headers {
        if k.eq_ignore_ascii_case(name) {
            *v = value.clone();
        }
    }
    headers
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// POSTs `body` with `headers` to `url` and returns the status.
pub async fn post(url: &str, headers: &[(String, String)], body: &[u8]) -> u16 {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let mut request = client.post(url).body(body.to_vec());
    for (k, v) in headers {
        request = request.header(k, v);
    }
    request.send().await.unwrap().status().as_u16()
}

/// Checks that the receiver at `url` accepts a genuine request for `secret` and refuses each
/// way of forging one. The genuine one comes first, so each refusal is down to what was changed.
pub async fn receiver_refuses_forgeries(url: &str, secret: &str) {
    let body = BODY.as_bytes();
    let genuine = headers(secret, now(), body);
    let status = post(url, &genuine, body).await;
    assert!(
        (200..300).contains(&status),
        "genuine request answered {status}"
    );

    let changed_body = BODY.replace("sess_1", "sess_2");
    let other = Secret::generate();
    let forged_hex = speaknode_signature(&other, body);
    let forged_standard =
        standard_signature_header(std::slice::from_ref(&other), "evt_selfsigned", now(), body);
    let cases: Vec<(&str, Headers, &[u8])> = vec![
        ("a changed body", genuine.clone(), changed_body.as_bytes()),
        (
            "X-SpeakNode-Signature of another secret",
            replace(genuine.clone(), "x-speaknode-signature", forged_hex),
            body,
        ),
        (
            "webhook-signature of another secret",
            replace(genuine.clone(), "webhook-signature", forged_standard),
            body,
        ),
        (
            "a genuine signature ten minutes old",
            headers(secret, now() - 600, body),
            body,
        ),
    ];
    for (what, headers, body) in cases {
        let status = post(url, &headers, body).await;
        assert!(
            (400..500).contains(&status),
            "a request with {what} answered {status}, not 4xx"
        );
    }
}
