//! The shared signature vectors of `clients/test-vectors.json`, which the server's signer makes
//! (tests/it/client_vectors.rs) and the Python and TypeScript clients run too: this crate must
//! answer every case exactly as the file says, scheme by scheme and for the whole request.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use serde_json::Value;
use speaknode_verify::Verifier;

fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../clients/test-vectors.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn every_shared_vector_is_answered_as_the_file_says() {
    let vectors = vectors();
    let tolerance = Duration::from_secs(vectors["tolerance_seconds"].as_u64().unwrap());
    let cases = vectors["cases"].as_array().unwrap();
    assert!(cases.len() >= 10, "too few cases: {}", cases.len());
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let verifier = Verifier::new(case["secret"].as_str().unwrap())
            .at(case["now"].as_i64().unwrap())
            .tolerance(tolerance);
        let body = case["body"].as_str().unwrap().as_bytes();
        let header = |n: &str| case["headers"][n].as_str();

        if let Some(want) = case["speaknode_valid"].as_bool() {
            let got = verifier.verify_speaknode(body, header("x-speaknode-signature").unwrap());
            assert_eq!(
                got.is_ok(),
                want,
                "{name}: X-SpeakNode-Signature gave {got:?}"
            );
        }
        if let Some(want) = case["standard_valid"].as_bool() {
            let got = verifier.verify_standard(
                header("webhook-id").unwrap(),
                header("webhook-timestamp").unwrap(),
                header("webhook-signature").unwrap(),
                body,
            );
            assert_eq!(got.is_ok(), want, "{name}: webhook-signature gave {got:?}");
        }
        // The whole request passes only when every scheme it carries does.
        let whole = [&case["speaknode_valid"], &case["standard_valid"]]
            .iter()
            .filter_map(|v| v.as_bool())
            .all(|ok| ok);
        let got = verifier.verify(header, body);
        assert_eq!(got.is_ok(), whole, "{name}: verify gave {got:?}");
    }
}
