//! `clients/test-vectors.json`, the signature cases every verifier we ship must agree on (the
//! `speaknode-verify` crate and the Python and TypeScript clients), made here by the server's own
//! signer so the vectors are what a real delivery carries. The test fails when the file differs
//! from what the signer makes; `SPEAKNODE_WRITE_VECTORS=1` rewrites it (scripts/generate-clients
//! does), and the diff shows what changed.
//!
//! A case is a request signed with some inputs and then presented, possibly changed, to a
//! verifier holding `secret` whose clock reads `now`. `speaknode_valid` and `standard_valid` say
//! what each scheme's check must answer, `null` when the request lacks that scheme's headers.

#![allow(clippy::unwrap_used)]

use serde_json::{Map, Value, json};
use speaknode_webhooks::domain::signature::{speaknode_signature, standard_signature_header};
use speaknode_webhooks::domain::webhook::Secret;

const FILE: &str = "clients/test-vectors.json";
const TOLERANCE: i64 = 300;

/// The Standard Webhooks reference inputs, so a verifier's first case is one the world agrees on.
const REF_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const REF_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const REF_TS: i64 = 1614265330;
const REF_BODY: &str = r#"{"test": 2432232314}"#;

/// Secrets shaped like the service's (`whsec_` + base64 of 32 bytes), fixed so the file is stable.
const SECRET: &str = "whsec_9n1ZTU2yTSBq/Ae0cPF+vyIG8s3jzJcMdGhKjQ4iCdM=";
const OLD_SECRET: &str = "whsec_3bWz6q6uXrEo0rXwJkE4ZKx1lq8yv8m7cV3NNbT5Dzk=";
const ID: &str = "evt_2Zk9mQ4rT7xW1bN8cV3pL6";
const TS: i64 = 1764176281;
/// Non-ASCII text and escapes: a verifier must sign the body's UTF-8 bytes as they came.
const BODY: &str = concat!(
    r#"{"id":"evt_2Zk9mQ4rT7xW1bN8cV3pL6","type":"ConversationComplete","#,
    r#""created_at":"2026-11-26T17:03:44.120Z","data":{"agent_id":"agent_support_en","#,
    r#""transcript":[{"role":"user","text":"Ça marche — merci ✓ 👍\n\"fin\""}]}}"#
);

/// How a request was signed: the secrets in force, the message id, timestamp and body.
struct Signed<'a> {
    secrets: &'a [&'a str],
    id: &'a str,
    ts: i64,
    body: &'a str,
}

impl Signed<'_> {
    fn headers(&self) -> Map<String, Value> {
        let secrets: Vec<Secret> = self
            .secrets
            .iter()
            .map(|s| Secret::from_stored((*s).into()))
            .collect();
        let mut headers = Map::new();
        // As the sender does: the hex signature with the newest secret, the Standard one with each.
        headers.insert(
            "x-speaknode-signature".into(),
            speaknode_signature(&secrets[0], self.body.as_bytes()).into(),
        );
        headers.insert("webhook-id".into(), self.id.into());
        headers.insert("webhook-timestamp".into(), self.ts.to_string().into());
        headers.insert(
            "webhook-signature".into(),
            standard_signature_header(&secrets, self.id, self.ts, self.body.as_bytes()).into(),
        );
        headers
    }
}

struct Case<'a> {
    name: &'a str,
    signed: Signed<'a>,
    /// What the verifier holds and sees; `None` keeps what was signed.
    secret: Option<&'a str>,
    body: Option<&'a str>,
    now: i64,
    /// Changes to the headers after signing: a value replaces, `None` removes.
    change: &'a [(&'a str, Option<&'a str>)],
    /// Rewrites a signed header in ways a fixed value cannot (same bytes, other spelling).
    edit: fn(&mut Map<String, Value>),
    speaknode_valid: Option<bool>,
    standard_valid: Option<bool>,
}

impl Case<'_> {
    fn to_json(&self) -> Value {
        let mut headers = self.signed.headers();
        for (name, value) in self.change {
            match value {
                Some(v) => headers.insert((*name).into(), (*v).into()),
                None => headers.remove(*name),
            };
        }
        (self.edit)(&mut headers);
        json!({
            "name": self.name,
            "secret": self.secret.unwrap_or(self.signed.secrets[0]),
            "now": self.now,
            "headers": headers,
            "body": self.body.unwrap_or(self.signed.body),
            "speaknode_valid": self.speaknode_valid,
            "standard_valid": self.standard_valid,
        })
    }
}

fn signed(secrets: &'static [&'static str]) -> Signed<'static> {
    Signed {
        secrets,
        id: ID,
        ts: TS,
        body: BODY,
    }
}

fn case(name: &'static str, valid: (Option<bool>, Option<bool>)) -> Case<'static> {
    Case {
        name,
        signed: signed(&[SECRET]),
        secret: None,
        body: None,
        now: TS,
        change: &[],
        edit: |_| {},
        speaknode_valid: valid.0,
        standard_valid: valid.1,
    }
}

const BOTH: (Option<bool>, Option<bool>) = (Some(true), Some(true));
const NEITHER: (Option<bool>, Option<bool>) = (Some(false), Some(false));

fn cases() -> Vec<Case<'static>> {
    vec![
        Case {
            signed: Signed {
                secrets: &[REF_SECRET],
                id: REF_ID,
                ts: REF_TS,
                body: REF_BODY,
            },
            now: REF_TS,
            ..case("the Standard Webhooks reference vector", BOTH)
        },
        case("a delivery with non-ASCII text in its body", BOTH),
        Case {
            now: TS + TOLERANCE,
            ..case("checked at the far edge of the tolerance", BOTH)
        },
        Case {
            now: TS - TOLERANCE,
            ..case("a sender clock ahead by the whole tolerance", BOTH)
        },
        Case {
            signed: signed(&[SECRET, OLD_SECRET]),
            ..case("during a rotation, checked with the new secret", BOTH)
        },
        Case {
            signed: signed(&[SECRET, OLD_SECRET]),
            secret: Some(OLD_SECRET),
            // The hex header is signed with the newest secret only.
            ..case(
                "during a rotation, checked with the old secret",
                (Some(false), Some(true)),
            )
        },
        Case {
            // A proxy or tool that upper-cased the hex changed no byte of the signature.
            edit: |h| rewrite(h, "x-speaknode-signature", |v| v.to_ascii_uppercase()),
            ..case("the hex signature in uppercase", BOTH)
        },
        Case {
            // The reference Standard Webhooks libraries accept base64 without its padding.
            edit: |h| {
                rewrite(h, "webhook-signature", |v| {
                    v.trim_end_matches('=').to_owned()
                })
            },
            ..case("a Standard signature without base64 padding", BOTH)
        },
        Case {
            change: &[(
                "x-speaknode-signature",
                Some("90C1A60C0E53C1E2B5B8C6B50A3D4C2E7F3E0E8F2D1C9B8A7F6E5D4C3B2A1908"),
            )],
            ..case("a hex signature of another body", (Some(false), Some(true)))
        },
        Case {
            change: &[
                ("webhook-id", None),
                ("webhook-timestamp", None),
                ("webhook-signature", None),
            ],
            ..case("only the hex header", (Some(true), None))
        },
        Case {
            change: &[("x-speaknode-signature", None)],
            ..case("only the Standard Webhooks headers", (None, Some(true)))
        },
        Case {
            body: Some(&BODY[..BODY.len() - 1]),
            ..case("the body lost its last byte", NEITHER)
        },
        Case {
            body: Some(REF_BODY),
            ..case("another body", NEITHER)
        },
        Case {
            secret: Some(OLD_SECRET),
            ..case("another secret", NEITHER)
        },
        Case {
            now: TS + TOLERANCE + 1,
            ..case(
                "replayed a second past the tolerance",
                (Some(true), Some(false)),
            )
        },
        Case {
            now: TS - TOLERANCE - 1,
            ..case(
                "a timestamp too far in the future",
                (Some(true), Some(false)),
            )
        },
        Case {
            change: &[("webhook-id", Some("evt_another"))],
            ..case("another message id", (Some(true), Some(false)))
        },
        Case {
            change: &[("webhook-timestamp", Some("1764176282"))],
            ..case("a changed timestamp", (Some(true), Some(false)))
        },
        Case {
            change: &[("webhook-timestamp", Some("soon"))],
            ..case(
                "a timestamp that is not a number",
                (Some(true), Some(false)),
            )
        },
        Case {
            change: &[("webhook-signature", Some("v1, v2,abc v1,%%%"))],
            ..case("no usable v1 signature", (Some(true), Some(false)))
        },
        Case {
            change: &[("webhook-signature", Some(""))],
            ..case("an empty webhook-signature", (Some(true), Some(false)))
        },
    ]
}

fn rewrite(headers: &mut Map<String, Value>, name: &str, how: fn(&str) -> String) {
    let value = how(headers[name].as_str().unwrap());
    headers.insert(name.into(), value.into());
}

fn generate() -> Value {
    json!({
        "comment": "Signature cases every SpeakNode verifier must agree on. Generated from the \
            server's signer by tests/it/client_vectors.rs (scripts/generate-clients, or \
            SPEAKNODE_WRITE_VECTORS=1 cargo test --test it client_vectors::); do not edit. \
            A verifier holds `secret`, its clock reads `now` (Unix seconds), the timestamp \
            tolerance is `tolerance_seconds`, and body is the request body's UTF-8 text. \
            speaknode_valid / standard_valid: what checking X-SpeakNode-Signature / the \
            Standard Webhooks headers must answer, null when the request lacks them.",
        "tolerance_seconds": TOLERANCE,
        "cases": cases().iter().map(Case::to_json).collect::<Vec<_>>(),
    })
}

#[test]
fn the_shared_vectors_are_what_the_servers_signer_makes() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(FILE);
    let made = generate();
    if std::env::var_os("SPEAKNODE_WRITE_VECTORS").is_some() {
        let text = serde_json::to_string_pretty(&made).unwrap() + "\n";
        std::fs::write(&path, text).unwrap();
    }
    let committed: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(
        committed == made,
        "{FILE} is not what the server's signer makes; regenerate it with \
         `SPEAKNODE_WRITE_VECTORS=1 cargo test --test it client_vectors::` and review the diff"
    );
}

#[test]
fn the_vectors_keep_both_outcomes_for_both_schemes() {
    // A file of only valid cases would let a verifier that accepts everything pass.
    let made = generate();
    let cases = made["cases"].as_array().unwrap();
    for key in ["speaknode_valid", "standard_valid"] {
        for want in [true, false] {
            assert!(cases.iter().any(|c| c[key] == want), "no {key} = {want}");
        }
    }
}
