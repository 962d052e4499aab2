//! The server's signer and the receivers' verification crate, tested against each other and
//! against the Standard Webhooks vector: what the service sends is what `speaknode-verify`
//! accepts, and nothing else.

#![allow(clippy::unwrap_used)]

use rand::{Rng, RngCore};
use speaknode_verify::{Verifier, VerifyError};
use speaknode_webhooks::domain::signature::{speaknode_signature, standard_signature_header};
use speaknode_webhooks::domain::webhook::Secret;

/// The headers the service puts on a delivery, as (name, value) pairs.
fn signed_headers(secrets: &[Secret], id: &str, ts: i64, body: &[u8]) -> Vec<(String, String)> {
    vec![
        (
            "X-SpeakNode-Signature".into(),
            speaknode_signature(&secrets[0], body),
        ),
        ("webhook-id".into(), id.into()),
        ("webhook-timestamp".into(), ts.to_string()),
        (
            "webhook-signature".into(),
            standard_signature_header(secrets, id, ts, body),
        ),
    ]
}

fn lookup<'h>(headers: &'h [(String, String)]) -> impl Fn(&str) -> Option<&'h str> + Copy {
    move |name| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[test]
fn the_servers_signer_reproduces_the_standard_webhooks_vector_and_the_crate_accepts_it() {
    let secret = Secret::from_stored("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into());
    let body = br#"{"test": 2432232314}"#;
    let headers = signed_headers(
        std::slice::from_ref(&secret),
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        body,
    );
    assert_eq!(
        lookup(&headers)("webhook-signature"),
        Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    );
    let verified = Verifier::new(secret.expose())
        .at(1614265330)
        .verify(lookup(&headers), body)
        .unwrap();
    assert!(verified.speaknode_signature && verified.standard_signature);
}

#[test]
fn every_signature_the_server_makes_verifies_and_any_changed_byte_does_not() {
    let mut rng = rand::rng();
    for round in 0..200 {
        let secret = Secret::generate();
        let mut body = vec![0u8; rng.random_range(0..2048)];
        rng.fill_bytes(&mut body);
        let ts = 1_700_000_000 + round;
        let id = format!("evt_{round}");
        let headers = signed_headers(std::slice::from_ref(&secret), &id, ts, &body);
        let verifier = Verifier::new(secret.expose()).at(ts);
        verifier.verify(lookup(&headers), &body).unwrap();

        if body.is_empty() {
            continue;
        }
        let at = rng.random_range(0..body.len());
        body[at] ^= 1 << rng.random_range(0..8);
        assert_eq!(
            verifier.verify(lookup(&headers), &body),
            Err(VerifyError::NoMatchingSignature("x-speaknode-signature"))
        );
        assert_eq!(
            verifier.verify(lookup(&headers[1..]), &body),
            Err(VerifyError::NoMatchingSignature("webhook-signature"))
        );
    }
}

#[test]
fn during_a_rotation_both_the_new_and_the_old_secret_verify_webhook_signature() {
    let (new, old) = (Secret::generate(), Secret::generate());
    let body = br#"{"id":"evt_1","type":"SessionStarted","data":{}}"#;
    let headers = signed_headers(&[new.clone(), old.clone()], "evt_1", 1_700_000_000, body);
    for secret in [&new, &old] {
        Verifier::new(secret.expose())
            .at(1_700_000_000)
            .verify(lookup(&headers[1..]), body)
            .unwrap();
    }
    // X-SpeakNode-Signature carries the new secret alone.
    let old_verifier = Verifier::new(old.expose()).at(1_700_000_000);
    assert!(old_verifier.verify(lookup(&headers), body).is_err());
    assert!(
        Verifier::new(Secret::generate().expose())
            .at(1_700_000_000)
            .verify(lookup(&headers[1..]), body)
            .is_err()
    );
}
