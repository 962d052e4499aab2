//! Known answers for both signatures, and every way a request can be refused. The vectors come
//! from outside this project (the Standard Webhooks reference vector; the hex one from Python's
//! `hmac`), so a bug shared by the server's signer and this verifier cannot hide here.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use speaknode_verify::{Verifier, VerifyError};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const TS: i64 = 1614265330;
const BODY: &[u8] = br#"{"test": 2432232314}"#;
const STANDARD_SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
/// `hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()` in Python.
const HEX_SIG: &str = "80ec8a89ce3cd22133a1066caecb4d04fea7467657c8514d717ec42c38a5c94c";

fn verifier() -> Verifier {
    Verifier::new(SECRET).at(TS)
}

/// A case-insensitive lookup over header pairs, as a receiver's framework provides.
fn lookup<'h>(headers: &'h [(&'h str, &'h str)]) -> impl Fn(&str) -> Option<&'h str> + Copy {
    move |name| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}

#[test]
fn accepts_the_standard_webhooks_reference_vector() {
    let ts = TS.to_string();
    verifier()
        .verify_standard(ID, &ts, STANDARD_SIG, BODY)
        .unwrap();
}

#[test]
fn accepts_when_any_one_of_several_signatures_matches() {
    // During a rotation the header lists a signature per valid secret; unknown versions and
    // garbage entries are skipped, not fatal.
    let ts = TS.to_string();
    let other = "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=";
    for header in [
        format!("{other} {STANDARD_SIG}"),
        format!("{STANDARD_SIG} {other}"),
        format!("v1a,abc v1,%%%notbase64 {STANDARD_SIG}"),
        // The reference libraries accept unpadded base64 too.
        STANDARD_SIG.trim_end_matches('=').to_string(),
    ] {
        verifier()
            .verify_standard(ID, &ts, &header, BODY)
            .unwrap_or_else(|e| panic!("{header}: {e}"));
    }
}

#[test]
fn refuses_a_changed_body_id_or_timestamp_or_another_secret() {
    let ts = TS.to_string();
    let refused = Err(VerifyError::NoMatchingSignature("webhook-signature"));
    let v = verifier();
    assert_eq!(v.verify_standard(ID, &ts, STANDARD_SIG, b"{}"), refused);
    assert_eq!(
        v.verify_standard("msg_other", &ts, STANDARD_SIG, BODY),
        refused
    );
    assert_eq!(
        v.verify_standard(ID, &(TS + 1).to_string(), STANDARD_SIG, BODY),
        refused
    );
    let other_secret = Verifier::new("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").at(TS);
    assert_eq!(
        other_secret.verify_standard(ID, &ts, STANDARD_SIG, BODY),
        refused
    );
    assert_eq!(v.verify_standard(ID, &ts, "v1,", BODY), refused);
    assert_eq!(v.verify_standard(ID, &ts, "", BODY), refused);
}

#[test]
fn the_timestamp_must_be_within_five_minutes_either_way_by_default() {
    let ts = TS.to_string();
    for now in [TS - 300, TS + 300] {
        Verifier::new(SECRET)
            .at(now)
            .verify_standard(ID, &ts, STANDARD_SIG, BODY)
            .unwrap();
    }
    for now in [TS - 301, TS + 301] {
        assert_eq!(
            Verifier::new(SECRET)
                .at(now)
                .verify_standard(ID, &ts, STANDARD_SIG, BODY),
            Err(VerifyError::TimestampOutOfTolerance { timestamp: TS, now })
        );
    }
}

#[test]
fn the_tolerance_can_be_changed() {
    let ts = TS.to_string();
    let strict = Verifier::new(SECRET).tolerance(Duration::from_secs(10));
    assert!(
        strict
            .clone()
            .at(TS + 10)
            .verify_standard(ID, &ts, STANDARD_SIG, BODY)
            .is_ok()
    );
    assert!(
        strict
            .at(TS + 11)
            .verify_standard(ID, &ts, STANDARD_SIG, BODY)
            .is_err()
    );
    let lenient = Verifier::new(SECRET).tolerance(Duration::from_secs(3600));
    assert!(
        lenient
            .at(TS + 3600)
            .verify_standard(ID, &ts, STANDARD_SIG, BODY)
            .is_ok()
    );
}

#[test]
fn the_system_clock_is_used_unless_one_is_given() {
    // The reference vector was signed in 2021, so against today's clock it is stale.
    let result = Verifier::new(SECRET).verify_standard(ID, &TS.to_string(), STANDARD_SIG, BODY);
    assert!(matches!(
        result,
        Err(VerifyError::TimestampOutOfTolerance { .. })
    ));
}

#[test]
fn a_timestamp_that_is_not_whole_unix_seconds_is_refused() {
    for ts in ["", "soon", "1614265330.5", "2021-02-25T15:02:10Z"] {
        assert_eq!(
            verifier().verify_standard(ID, ts, STANDARD_SIG, BODY),
            Err(VerifyError::BadTimestamp),
            "{ts:?}"
        );
    }
}

#[test]
fn a_secret_that_is_empty_or_not_base64_is_a_bad_secret() {
    let ts = TS.to_string();
    for secret in ["", "whsec_", "whsec_not base64!"] {
        assert_eq!(
            Verifier::new(secret)
                .at(TS)
                .verify_standard(ID, &ts, STANDARD_SIG, BODY),
            Err(VerifyError::BadSecret),
            "{secret:?}"
        );
    }
    assert_eq!(
        Verifier::new("").verify_speaknode(BODY, HEX_SIG),
        Err(VerifyError::BadSecret)
    );
}

#[test]
fn a_secret_without_its_prefix_still_verifies_standard_signatures() {
    // What the reference libraries do; the hex signature, keyed with the whole string, does not.
    Verifier::new(SECRET.trim_start_matches("whsec_"))
        .at(TS)
        .verify_standard(ID, &TS.to_string(), STANDARD_SIG, BODY)
        .unwrap();
}

#[test]
fn the_hex_signature_matches_pythons_hmac_and_nothing_else() {
    let v = verifier();
    v.verify_speaknode(BODY, HEX_SIG).unwrap();
    v.verify_speaknode(BODY, &HEX_SIG.to_uppercase()).unwrap();
    v.verify_speaknode(BODY, &format!(" {HEX_SIG}\r\n"))
        .unwrap();
    let refused = Err(VerifyError::NoMatchingSignature("x-speaknode-signature"));
    assert_eq!(v.verify_speaknode(b"{}", HEX_SIG), refused);
    assert_eq!(v.verify_speaknode(BODY, &HEX_SIG[..63]), refused);
    assert_eq!(v.verify_speaknode(BODY, ""), refused);
    // Keyed with the whole secret: the decoded Standard Webhooks key does not produce it.
    let prefixless = Verifier::new(SECRET.trim_start_matches("whsec_"));
    assert_eq!(prefixless.verify_speaknode(BODY, HEX_SIG), refused);
}

#[test]
fn verify_checks_every_signature_present_whatever_the_header_case() {
    let ts = TS.to_string();
    let both = [
        ("X-SpeakNode-Signature", HEX_SIG),
        ("Webhook-Id", ID),
        ("WEBHOOK-TIMESTAMP", ts.as_str()),
        ("webhook-signature", STANDARD_SIG),
    ];
    let verified = verifier().verify(lookup(&both), BODY).unwrap();
    assert!(verified.speaknode_signature && verified.standard_signature);

    let hex_only = verifier().verify(lookup(&both[..1]), BODY).unwrap();
    assert_eq!(
        (hex_only.speaknode_signature, hex_only.standard_signature),
        (true, false)
    );
    let standard_only = verifier().verify(lookup(&both[1..]), BODY).unwrap();
    assert_eq!(
        (
            standard_only.speaknode_signature,
            standard_only.standard_signature
        ),
        (false, true)
    );
}

#[test]
fn verify_refuses_when_any_present_signature_fails() {
    let ts = TS.to_string();
    let bad_hex = [
        ("x-speaknode-signature", "00"),
        ("webhook-id", ID),
        ("webhook-timestamp", ts.as_str()),
        ("webhook-signature", STANDARD_SIG),
    ];
    assert_eq!(
        verifier().verify(lookup(&bad_hex), BODY),
        Err(VerifyError::NoMatchingSignature("x-speaknode-signature"))
    );
    let bad_standard = [
        ("x-speaknode-signature", HEX_SIG),
        ("webhook-id", ID),
        ("webhook-timestamp", ts.as_str()),
        ("webhook-signature", "v1,AAAA"),
    ];
    assert_eq!(
        verifier().verify(lookup(&bad_standard), BODY),
        Err(VerifyError::NoMatchingSignature("webhook-signature"))
    );
}

#[test]
fn verify_needs_the_whole_standard_trio_once_any_of_it_is_present() {
    let ts = TS.to_string();
    let no_timestamp = [("webhook-id", ID), ("webhook-signature", STANDARD_SIG)];
    assert_eq!(
        verifier().verify(lookup(&no_timestamp), BODY),
        Err(VerifyError::MissingHeader("webhook-timestamp"))
    );
    // A stripped webhook-signature must not fall back to "nothing to check".
    let no_signature = [
        ("x-speaknode-signature", HEX_SIG),
        ("webhook-id", ID),
        ("webhook-timestamp", ts.as_str()),
    ];
    assert_eq!(
        verifier().verify(lookup(&no_signature), BODY),
        Err(VerifyError::MissingHeader("webhook-signature"))
    );
}

#[test]
fn verify_refuses_a_request_without_any_signature() {
    let unsigned = [("content-type", "application/json")];
    assert_eq!(
        verifier().verify(lookup(&unsigned), BODY),
        Err(VerifyError::NoSignatureHeader)
    );
}

#[test]
fn errors_read_as_sentences_and_debug_hides_the_secret() {
    let e = VerifyError::TimestampOutOfTolerance {
        timestamp: TS,
        now: TS + 600,
    };
    assert_eq!(
        e.to_string(),
        "webhook-timestamp 1614265330 is 600s away from now (1614265930), beyond the tolerance"
    );
    assert!(!format!("{:?}", verifier()).contains("MfKQ9r8"));
}
