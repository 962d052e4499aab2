//! Property tests of the pure rules hostile input meets first: the signatures (against an HMAC
//! computed here from SHA-256 alone, and sensitive to every byte), the receivers' verifier crate
//! (accepts what the service signs, refuses any changed byte, never panics), the event validator
//! (never a panic, errors that name a real path, extra properties always welcome) and webhook URL
//! parsing (never a panic, only http(s) with a host within 2048 characters, private addresses
//! refused in every spelling of them).

#![allow(clippy::unwrap_used)]

use std::net::{Ipv4Addr, Ipv6Addr};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use proptest::prelude::*;
use serde_json::Value;
use sha2::{Digest, Sha256};
use speaknode_verify::{Verifier, VerifyError, header};
use speaknode_webhooks::domain::event_type::{EventType, shipped};
use speaknode_webhooks::domain::signature::{
    speaknode_signature, standard_signature, standard_signature_header,
};
use speaknode_webhooks::domain::validation::InvalidKind;
use speaknode_webhooks::domain::webhook::{MAX_URL_CHARS, Secret, WebhookUrl};

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(256)
}

/// HMAC-SHA256 from its definition (RFC 2104), sharing no code with the service's.
fn reference_hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// Secrets as the service makes them, and odd ones a store might hold.
fn secret() -> impl Strategy<Value = Secret> {
    prop_oneof![
        any::<[u8; 32]>().prop_map(|b| format!("whsec_{}", BASE64.encode(b))),
        prop::collection::vec(any::<u8>(), 1..100)
            .prop_map(|b| format!("whsec_{}", BASE64.encode(b))),
        any::<String>(),
    ]
    .prop_map(Secret::from_stored)
}

/// Flips one byte of `bytes` (at `at`, modulo the length) by a non-zero `delta`.
fn flip(bytes: &[u8], at: usize, delta: u8) -> Vec<u8> {
    let mut changed = bytes.to_vec();
    let i = at % changed.len();
    changed[i] ^= delta;
    changed
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn signatures_equal_an_hmac_computed_from_its_definition(
        secret in secret(),
        body in prop::collection::vec(any::<u8>(), 0..2048),
        id in "[ -~]{0,40}",
        timestamp in any::<i64>(),
    ) {
        let hex = hex::encode(reference_hmac(secret.expose().as_bytes(), &body));
        prop_assert_eq!(speaknode_signature(&secret, &body), hex);
        let message = [id.as_bytes(), b".", timestamp.to_string().as_bytes(), b".", &body].concat();
        let mac = reference_hmac(&secret.standard_key(), &message);
        let expected = format!("v1,{}", BASE64.encode(mac));
        prop_assert_eq!(standard_signature(&secret, &id, timestamp, &body), expected);
    }

    #[test]
    fn the_standard_key_is_the_base64_decoded_part_after_whsec(
        bytes in prop::collection::vec(any::<u8>(), 1..64),
    ) {
        let secret = Secret::from_stored(format!("whsec_{}", BASE64.encode(&bytes)));
        prop_assert_eq!(secret.standard_key(), bytes);
    }

    #[test]
    fn any_single_byte_change_of_the_body_changes_both_signatures(
        secret in secret(),
        body in prop::collection::vec(any::<u8>(), 1..2048),
        at in any::<usize>(),
        delta in 1u8..,
        timestamp in any::<i64>(),
    ) {
        let changed = flip(&body, at, delta);
        let hex = speaknode_signature(&secret, &body);
        prop_assert_ne!(hex, speaknode_signature(&secret, &changed));
        prop_assert_ne!(
            standard_signature(&secret, "evt_1", timestamp, &body),
            standard_signature(&secret, "evt_1", timestamp, &changed)
        );
    }

    #[test]
    fn any_single_byte_change_of_the_id_or_the_timestamp_changes_the_standard_signature(
        secret in secret(),
        body in prop::collection::vec(any::<u8>(), 0..256),
        id in "[ -~]{1,40}",
        at in any::<usize>(),
        printable in 0x20u8..0x7f,
        timestamp in 0i64..=999_999_999_999_999_999,
        digit in 0u8..10,
    ) {
        let signature = standard_signature(&secret, &id, timestamp, &body);
        let mut other_id = id.clone().into_bytes();
        let i = at % other_id.len();
        prop_assume!(other_id[i] != printable);
        other_id[i] = printable;
        let other_id = String::from_utf8(other_id).unwrap();
        prop_assert_ne!(&signature, &standard_signature(&secret, &other_id, timestamp, &body));

        let mut digits = timestamp.to_string().into_bytes();
        let i = at % digits.len();
        prop_assume!(digits[i] != b'0' + digit);
        digits[i] = b'0' + digit;
        let other: i64 = String::from_utf8(digits).unwrap().parse().unwrap();
        prop_assert_ne!(&signature, &standard_signature(&secret, &id, other, &body));
    }

    #[test]
    fn the_signature_header_lists_one_signature_per_secret_in_order(
        secrets in prop::collection::vec(secret(), 1..4),
        body in prop::collection::vec(any::<u8>(), 0..256),
        timestamp in any::<i64>(),
    ) {
        let header = standard_signature_header(&secrets, "evt_1", timestamp, &body);
        let sign = |s: &Secret| standard_signature(s, "evt_1", timestamp, &body);
        let each: Vec<String> = secrets.iter().map(sign).collect();
        prop_assert_eq!(header.split(' ').map(String::from).collect::<Vec<_>>(), each);
    }
}

/// The four headers of a delivery, signed by the service's own signer.
fn delivery_headers(
    secret: &Secret,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Vec<(&'static str, String)> {
    vec![
        (
            header::SPEAKNODE_SIGNATURE,
            speaknode_signature(secret, body),
        ),
        (header::WEBHOOK_ID, id.to_string()),
        (header::WEBHOOK_TIMESTAMP, timestamp.to_string()),
        (
            header::WEBHOOK_SIGNATURE,
            standard_signature_header(std::slice::from_ref(secret), id, timestamp, body),
        ),
    ]
}

fn verify(
    secret: &Secret,
    now: i64,
    headers: &[(&'static str, String)],
    body: &[u8],
) -> Result<(), VerifyError> {
    let lookup = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    };
    Verifier::new(secret.expose())
        .at(now)
        .verify(lookup, body)
        .map(|_| ())
}

fn service_secret() -> impl Strategy<Value = Secret> {
    any::<[u8; 32]>().prop_map(|b| Secret::from_stored(format!("whsec_{}", BASE64.encode(b))))
}

proptest! {
    #![proptest_config(config())]

    /// The receivers' crate accepts what the service signs, and nothing a byte away from it.
    #[test]
    fn the_verifier_accepts_every_signed_delivery_and_refuses_any_changed_byte(
        secret in service_secret(),
        body in prop::collection::vec(any::<u8>(), 1..2048),
        id in "evt_[A-Za-z0-9]{22}",
        timestamp in 1_000_000_000i64..4_000_000_000,
        at in any::<usize>(),
        delta in 1u8..,
    ) {
        let headers = delivery_headers(&secret, &id, timestamp, &body);
        prop_assert_eq!(verify(&secret, timestamp, &headers, &body), Ok(()));
        let changed = flip(&body, at, delta);
        prop_assert!(verify(&secret, timestamp, &headers, &changed).is_err());
        for (i, (name, value)) in headers.iter().enumerate() {
            // A changed byte in any header: another id, a second later, a wrong signature.
            let mut tampered = headers.clone();
            let mut bytes = value.clone().into_bytes();
            let j = at % bytes.len();
            bytes[j] = if bytes[j] == b'1' { b'2' } else { b'1' };
            tampered[i].1 = String::from_utf8(bytes).unwrap();
            prop_assert!(verify(&secret, timestamp, &tampered, &body).is_err(), "{} changed", name);
        }
    }

    #[test]
    fn the_verifier_never_panics_on_garbage_headers_or_secrets(
        secret in any::<String>(),
        values in prop::collection::vec(prop::option::of(any::<String>()), 4),
        body in prop::collection::vec(any::<u8>(), 0..256),
        now in any::<i64>(),
    ) {
        let names = [
            header::SPEAKNODE_SIGNATURE,
            header::WEBHOOK_ID,
            header::WEBHOOK_TIMESTAMP,
            header::WEBHOOK_SIGNATURE,
        ];
        let headers: Vec<(&'static str, String)> =
            names.into_iter().zip(values).filter_map(|(n, v)| v.map(|v| (n, v))).collect();
        prop_assert!(verify(&Secret::from_stored(secret), now, &headers, &body).is_err());
    }
}

/// The property names the shipped schemas know, so generated objects often touch them.
const KNOWN: &[&str] = &[
    "conversation_id",
    "session_id",
    "agent_id",
    "started_at",
    "ended_at",
    "duration_seconds",
    "end_reason",
    "transcript",
    "metadata",
    "role",
    "text",
    "start_ms",
    "end_ms",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(KNOWN).prop_map(String::from),
        any::<String>(),
        "[a-z.\\[\\]0-9]{0,6}"
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any::<String>().prop_map(Value::from),
        prop::sample::select(vec![
            "agent",
            "user",
            "robot",
            "2026-11-26T16:58:01Z",
            "2026-13-45T99:99:99Z",
            ""
        ])
        .prop_map(Value::from),
    ]
}

fn json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A shipped example with some properties replaced or removed, and some transcript turns too:
/// values that fail deep inside.
fn near_valid() -> impl Strategy<Value = (usize, Value)> {
    let edits = prop::collection::vec(
        (
            prop::sample::select(KNOWN),
            prop::option::of(json()),
            0usize..3,
        ),
        0..4,
    );
    (0..shipped().len(), edits).prop_map(|(which, edits)| {
        let mut data = shipped()[which].example.clone();
        for (name, value, turn) in edits {
            let in_turn = matches!(name, "role" | "text" | "start_ms" | "end_ms")
                && data.get("transcript").and_then(|t| t.get(turn)).is_some();
            let target = if in_turn {
                &mut data["transcript"][turn]
            } else {
                &mut data
            };
            let Some(object) = target.as_object_mut() else {
                continue;
            };
            match value {
                Some(value) => object.insert(name.to_string(), value),
                None => object.remove(name),
            };
        }
        (which, data)
    })
}

/// Every location in `value`, spelled as the validator names fields, with the object there.
fn locations<'a>(at: String, value: &'a Value, out: &mut Vec<(String, &'a Value)>) {
    out.push((at.clone(), value));
    match value {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(i, v)| locations(format!("{at}[{i}]"), v, out)),
        Value::Object(map) => map
            .iter()
            .for_each(|(k, v)| locations(format!("{at}.{k}"), v, out)),
        _ => {}
    }
}

/// The field of a validation error names a location of the data, or a property missing from an
/// object in it.
fn names_a_real_path(field: &str, data: &Value) -> bool {
    let mut all = Vec::new();
    locations("data".into(), data, &mut all);
    all.iter().any(|(at, value)| {
        at == field
            || value.as_object().is_some_and(|object| {
                field
                    .strip_prefix(at.as_str())
                    .and_then(|rest| rest.strip_prefix('.'))
                    .is_some_and(|name| !object.contains_key(name))
            })
    })
}

fn shipped_types() -> Vec<EventType> {
    shipped()
        .into_iter()
        .map(|def| EventType::compile(def).unwrap())
        .collect()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_validator_never_panics_and_names_a_real_path_for_arbitrary_json(data in json()) {
        for event_type in shipped_types() {
            if let Err(e) = event_type.validate(&data) {
                prop_assert_eq!(e.kind, InvalidKind::ValidationFailed);
                prop_assert!(e.field.starts_with("data"), "{}", e.field);
                prop_assert!(names_a_real_path(&e.field, &data), "{} in {}", e.field, data);
                prop_assert!(!e.message.is_empty());
            }
        }
    }

    #[test]
    fn the_validator_names_a_real_path_for_examples_broken_deep_inside(
        (which, data) in near_valid(),
    ) {
        if let Err(e) = shipped_types()[which].validate(&data) {
            prop_assert!(e.field.starts_with("data"), "{}", e.field);
            prop_assert!(names_a_real_path(&e.field, &data), "{} in {}", e.field, data);
        }
    }

    #[test]
    fn examples_with_arbitrary_extra_properties_still_validate(
        which in 0..2usize,
        extra in prop::collection::btree_map(any::<String>(), json(), 0..6),
        in_turns in prop::collection::btree_map("[a-z_]{1,12}", json(), 0..4),
    ) {
        let types = shipped_types();
        let mut data = types[which].def.example.clone();
        let known: Vec<&str> = KNOWN.to_vec();
        for (name, value) in extra.into_iter().filter(|(k, _)| !known.contains(&k.as_str())) {
            data[name.as_str()] = value.clone();
            data["metadata"][name.as_str()] = value;
        }
        for turn in data["transcript"].as_array_mut().into_iter().flatten() {
            for (name, value) in in_turns.iter().filter(|(k, _)| !known.contains(&k.as_str())) {
                turn[name.as_str()] = value.clone();
            }
        }
        prop_assert!(types[which].validate(&data).is_ok(), "{}", data);
    }
}

/// URL-shaped strings: a scheme, a host and a path of mixed characters, often long.
fn url_like() -> impl Strategy<Value = String> {
    let scheme = prop::sample::select(vec![
        "http",
        "https",
        "HTTPS",
        "ftp",
        "javascript",
        "file",
        "h\ttp",
        "",
    ]);
    let host = prop_oneof![
        "[a-z0-9.-]{0,20}",
        any::<String>(),
        Just("[::1]".to_string()),
        Just("127.0.0.1".into())
    ];
    let path = prop_oneof![
        "[ -~]{0,40}",
        any::<String>(),
        (1900usize..2100).prop_map(|n| "é".repeat(n))
    ];
    (
        scheme,
        prop::sample::select(vec!["://", ":", ":///", "//"]),
        host,
        path,
    )
        .prop_map(|(s, sep, h, p)| format!("{s}{sep}{h}/{p}"))
}

/// The spellings the WHATWG URL parser reads as this IPv4 address.
fn spellings(ip: Ipv4Addr) -> Vec<String> {
    let [a, b, c, d] = ip.octets();
    let n = u32::from(ip);
    vec![
        format!("{ip}"),
        format!("{ip}."),
        format!("{n}"),
        format!("0x{n:x}"),
        format!("0X{n:08X}"),
        format!("0{n:o}"),
        format!("0x{a:x}.0x{b:x}.0x{c:x}.0x{d:x}"),
        format!("0{a:o}.0{b:o}.0{c:o}.0{d:o}"),
        format!("{a}.{}", n & 0x00ff_ffff),
        format!("{a}.{b}.{}", n & 0xffff),
        format!("0x{a:x}.{b}.0{c:o}.{d}"),
    ]
}

fn private_v4() -> impl Strategy<Value = Ipv4Addr> {
    let prefixes = prop::sample::select(vec![
        (127u32 << 24, 8u32),
        (10 << 24, 8),
        (192 << 24 | 168 << 16, 16),
        (169 << 24 | 254 << 16, 16),
    ]);
    (prefixes, any::<u32>()).prop_map(|((net, bits), host)| Ipv4Addr::from(net | (host >> bits)))
}

fn blocked_v6() -> impl Strategy<Value = Ipv6Addr> {
    prop_oneof![
        Just(Ipv6Addr::LOCALHOST),
        any::<u128>().prop_map(|n| Ipv6Addr::from(0xfe80u128 << 112 | n >> 10)),
        any::<u128>().prop_map(|n| Ipv6Addr::from(0xfc00u128 << 112 | n >> 7)),
        private_v4().prop_map(|v4| v4.to_ipv6_mapped()),
    ]
}

fn url_around(host: &str, (port, path): (Option<u16>, String)) -> String {
    let port = port.map(|p| format!(":{p}")).unwrap_or_default();
    format!("http://{host}{port}/{path}")
}

fn port_and_path() -> impl Strategy<Value = (Option<u16>, String)> {
    (prop::option::of(1u16..), "[a-z0-9/?=&]{0,20}")
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn url_parsing_never_panics_and_accepts_only_http_with_a_host_within_the_limit(
        raw in prop_oneof![any::<String>(), url_like()],
        allow_private in any::<bool>(),
    ) {
        if let Ok(url) = WebhookUrl::parse(&raw, allow_private) {
            prop_assert!(matches!(url.url().scheme(), "http" | "https"), "{}", url.as_str());
            prop_assert!(url.url().host().is_some(), "{}", url.as_str());
            let chars = url.as_str().chars().count();
            prop_assert!(chars <= MAX_URL_CHARS, "{} characters", chars);
        }
    }

    #[test]
    fn private_ipv4_addresses_are_blocked_in_every_spelling(
        ip in private_v4(),
        around in port_and_path(),
    ) {
        for host in spellings(ip) {
            let url = url_around(&host, around.clone());
            let kind = WebhookUrl::parse(&url, false).map(|_| ()).map_err(|e| e.kind);
            prop_assert_eq!(kind, Err(InvalidKind::BlockedAddress), "{}", url);
            prop_assert!(WebhookUrl::parse(&url, true).is_ok(), "{}", url);
        }
    }

    #[test]
    fn public_ipv4_addresses_pass_in_every_spelling(
        a in 11u8..=99,
        rest in any::<[u8; 3]>(),
        around in port_and_path(),
    ) {
        let ip = Ipv4Addr::new(a, rest[0], rest[1], rest[2]);
        for host in spellings(ip) {
            let url = url_around(&host, around.clone());
            let parsed = WebhookUrl::parse(&url, false);
            prop_assert!(parsed.is_ok(), "{} -> {:?}", url, parsed);
        }
    }

    #[test]
    fn loopback_link_local_unique_local_and_mapped_ipv6_addresses_are_blocked(
        ip in blocked_v6(),
        around in port_and_path(),
    ) {
        let segments = ip.segments().map(|s| format!("{s:x}")).join(":");
        let upper = segments.to_uppercase();
        for host in [format!("[{ip}]"), format!("[{segments}]"), format!("[{upper}]")] {
            let url = url_around(&host, around.clone());
            let kind = WebhookUrl::parse(&url, false).map(|_| ()).map_err(|e| e.kind);
            prop_assert_eq!(kind, Err(InvalidKind::BlockedAddress), "{}", url);
        }
    }
}

#[test]
fn reference_hmac_matches_rfc_4231_test_case_2() {
    let mac = reference_hmac(b"Jefe", b"what do ya want for nothing?");
    let expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
    assert_eq!(hex::encode(mac), expected);
    let long_key = [0xaau8; 131];
    let mac = reference_hmac(
        &long_key,
        b"Test Using Larger Than Block-Size Key - Hash Key First",
    );
    let expected = "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54";
    assert_eq!(hex::encode(mac), expected);
}
