//! The hostile parts of the corpus that go inside requests: values put in every field of every
//! body (each in a body that is refused whatever the value), deep nesting, random bytes, forms,
//! oversize and mislabelled bodies, query parameters and headers.

use rand::Rng;
use rand::rngs::StdRng;

use super::corpus::{Auth, Body, Builder, bodies, content_type, header, request, routes};
use crate::common::API_KEY;

/// SQL that would do harm if it were ever pasted into a query.
pub const SQL: &[&str] = &[
    "' OR '1'='1",
    "'; DROP TABLE webhooks; --",
    "\" OR \"\"=\"",
    "1; DELETE FROM events",
    "wh_x' UNION SELECT secret FROM webhooks --",
    "%' OR 1=1 --",
    "'); PRAGMA writable_schema=1; --",
    "ATTACH DATABASE '/tmp/x.db' AS x; --",
    "'||(SELECT sqlite_version())||'",
    "\\'; SELECT pg_sleep(10); --",
    "NULL",
    "$1 ? :name @p",
];

/// JSON texts, valid or not, that are trouble when they meet a parser: huge, negative-zero and
/// non-JSON numbers, invalid UTF-8, raw control bytes, lone surrogates, unterminated values.
const RAW_VALUES: &[&[u8]] = &[
    b"1e400",
    b"-1e400",
    b"1e-400",
    b"18446744073709551617",
    b"-9223372036854775809",
    b"-0",
    b"-0.0",
    b"1E+99999999999999999999",
    b"NaN",
    b"Infinity",
    b"0x10",
    b"01",
    b"+1",
    b".5",
    b"1.",
    b"\"\xff\xfe\"",
    b"\"\xc3\x28\"",
    b"\"\xc0\xaf\"",
    b"\"\xed\xa0\x80\"",
    b"\"a\x00b\"",
    b"\"\x01\x1f\"",
    b"\"\\ud800\"",
    b"\"\\udc00\\ud800\"",
    b"\"\\u0000\"",
    b"\"unterminated",
    b"null",
    b"true",
    b"[]",
    b"{}",
    b"[[[[[[",
];

/// Hostile text that is valid JSON once encoded.
fn hostile_strings() -> Vec<String> {
    let mut strings: Vec<String> = SQL.iter().map(|s| s.to_string()).collect();
    strings.extend([
        "nul \0 inside".to_string(),
        "\u{202e}override\u{200b}zero-width\u{feff}".to_string(),
        format!("e{}", "\u{301}".repeat(2000)),
        "🎙️👩🏽‍💻".repeat(300),
        "x".repeat(100_000),
        "a\r\nSet-Cookie: x=y".to_string(),
        "<script>alert(1)</script>".to_string(),
        "../../etc/passwd".to_string(),
        "%s%n%x ${jndi:ldap://x} {{7*7}}".to_string(),
    ]);
    strings
}

/// Everything put into every field: the strings, encoded, the raw texts, and numbers of 5000
/// digits that no machine type holds.
fn values() -> Vec<Vec<u8>> {
    let mut values: Vec<Vec<u8>> = hostile_strings()
        .iter()
        .map(|s| serde_json::to_vec(s).unwrap())
        .collect();
    values.extend(RAW_VALUES.iter().map(|v| v.to_vec()));
    let long = format!("1{}", "0".repeat(5000));
    values.push(long.clone().into_bytes());
    values.push(format!("0.{long}").into_bytes());
    values
}

/// `n` levels of arrays, of objects and of both, closed and not.
fn deep(n: usize) -> Vec<Vec<u8>> {
    vec![
        format!("{}{}", "[".repeat(n), "]".repeat(n)).into_bytes(),
        format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n)).into_bytes(),
        format!("{}1{}", "[{\"a\":".repeat(n / 2), "}]".repeat(n / 2)).into_bytes(),
        "[".repeat(n).into_bytes(),
    ]
}

/// Bodies with `@` where the value goes, each refused whatever the value is: an empty
/// `event_types` is checked after the url and the description; no value is a registered type or
/// a time; event data without `started_at` fails its schema; an event type's example `[]` fails
/// its schema, and `SessionStarted` exists already (409 once schema and example passed).
const SPOILED: &str = r#"
    webhook     {"url": @, "event_types": []}
    webhook     {"url": "https://example.com/", "description": @, "event_types": []}
    webhook     {"url": "https://example.com/", "enabled": @, "event_types": []}
    webhook     {"url": "https://example.com/", "event_types": [@]}
    patch       {"url": @, "event_types": []}
    patch       {"url": "https://example.com/", "description": @, "event_types": []}
    patch       {"url": "https://example.com/", "enabled": @, "event_types": []}
    test        {"event_type": @}
    recover     {"since": @}
    event       {"type": @, "data": {}}
    event       {"type": "SessionStarted", "data": {"session_id": @}}
    event       {"type": "SessionStarted", "data": {"session_id": "s", "agent_id": "a",
                 "metadata": {"k": @}}}
    event       {"type": "ConversationComplete", "data": {"transcript": [{"role": "agent",
                 "text": @, "start_ms": @}]}}
    event       {"type": "SessionStarted", "data": @}
    event-type  {"name": @, "schema": {"type": "object"}, "example": []}
    event-type  {"name": "SessionStarted", "description": @, "schema": {}, "example": {}}
    event-type  {"name": "SessionStarted", "schema": @, "example": {}}
    event-type  {"name": "SessionStarted", "schema": {}, "example": @}
    workspace   {"name": @}
"#;

/// The spoiled bodies of a route, with `value` in place of `@`.
fn spoiled(body: Body, value: &[u8]) -> Vec<Vec<u8>> {
    // Workspace names are at most 200 characters: a shorter string is repeated past that.
    let repeated;
    let value = match serde_json::from_slice::<String>(value) {
        Ok(s) if body == Body::Workspace && s.chars().count() <= 200 => {
            repeated = serde_json::to_vec(&s.repeat(201)).unwrap();
            &repeated
        }
        _ => value,
    };
    let templates = bodies(SPOILED, body);
    let parts = templates.iter().map(|t| t.as_bytes().split(|b| *b == b'@'));
    parts.map(|p| p.collect::<Vec<_>>().join(value)).collect()
}

/// A well-formed event that is refused (its data lacks `started_at`).
pub fn spoiled_event() -> Vec<u8> {
    spoiled(Body::Event, b"\"s\"").swap_remove(1)
}

/// A valid body of the route: sent with a wrong credential or to an id that names nothing, it
/// must store nothing.
pub fn valid(body: Body, csrf: &str) -> Vec<u8> {
    let json = match body {
        Body::None => "",
        Body::Form => {
            let fields = "url=https%3A%2F%2Fexample.com%2F&event_types=SessionStarted&enabled=true\
                          &event_type=SessionStarted&description=changed";
            return format!("csrf={csrf}&api_key={API_KEY}&{fields}").into_bytes();
        }
        Body::Webhook => r#"{"url": "https://example.com/", "event_types": ["SessionStarted"]}"#,
        Body::Patch => r#"{"enabled": false, "description": "changed"}"#,
        Body::Test => r#"{"event_type": "SessionStarted"}"#,
        Body::Recover => r#"{"since": "2000-01-01T00:00:00Z"}"#,
        Body::Event => {
            r#"{"type": "SessionStarted", "data": {"session_id": "s", "agent_id": "a",
                "started_at": "2026-11-26T16:58:01Z"}}"#
        }
        Body::EventType => r#"{"name": "Hostile", "schema": {}, "example": {}}"#,
        Body::Workspace => r#"{"name": "Hostile"}"#,
    };
    json.as_bytes().to_vec()
}

/// Valid bodies with one key sent twice: refused, or which value counts would be a guess.
const DUPLICATED: &str = r#"
    webhook     {"url": "https://a.example/", "url": "https://b.example/",
                 "event_types": ["SessionStarted"]}
    patch       {"enabled": true, "enabled": false}
    test        {"event_type": "SessionStarted", "event_type": "ConversationComplete"}
    recover     {"since": "2000-01-01T00:00:00Z", "since": "2001-01-01T00:00:00Z"}
    event       {"type": "SessionStarted", "type": "SessionStarted", "data": {"session_id": "s",
                 "agent_id": "a", "started_at": "2026-11-26T16:58:01Z"}}
    event-type  {"name": "Dup", "name": "Dup2", "schema": {}, "example": {}}
    workspace   {"name": "a", "name": "b"}
"#;

/// Every body-taking route gets every value in every place, deep nesting, duplicate keys,
/// random bodies, oversize bodies and content types that are not (only) JSON.
pub fn hostile_bodies(b: &mut Builder, rng: &mut StdRng) {
    let values = values();
    for route in routes().iter().filter(|r| r.body != Body::None) {
        let target = b.path(route.path).into_bytes();
        for value in &values {
            for body in spoiled(route.body, value) {
                b.send("hostile value", route, &target, &body);
            }
        }
        for value in deep(10_000) {
            for body in spoiled(route.body, &value) {
                b.send("deep nesting", route, &target, &body);
            }
        }
        for body in bodies(DUPLICATED, route.body) {
            b.send("duplicate keys", route, &target, body.as_bytes());
        }
        for n in 0..12 {
            let body = if n % 2 == 0 {
                random_bytes(rng)
            } else {
                json_soup(rng)
            };
            b.send("random body", route, &target, &body);
        }
        // Over the limit (1 MiB for JSON, 64 KiB for forms): with a length, chunked, and
        // announced but not sent.
        let big = [
            br#"{"description": ""#.as_slice(),
            &vec![b'a'; 1024 * 1024 + 1],
            b"\"}",
        ]
        .concat();
        b.send("oversize body", route, &target, &big);
        let chunked = [
            format!("{:x}\r\n", big.len()).as_bytes(),
            &big,
            b"\r\n0\r\n\r\n",
        ]
        .concat();
        let te = b.headers(route, vec![header("transfer-encoding", "chunked")]);
        b.add(
            "oversize body",
            request(route.method, &target, &te, &chunked),
            false,
        );
        let huge = b.headers(route, vec![header("content-length", "1099511627776")]);
        b.add(
            "oversize body",
            request(route.method, &target, &huge, b"{}"),
            false,
        );
        if route.body == Body::Form {
            hostile_forms(b, route.path, &target);
        } else {
            content_types(b, route.method, route.auth, route.body, &target);
        }
    }
}

/// Content types that are not JSON, or not only JSON, on a body that is refused anyway.
const CONTENT_TYPES: &str = "
    -
    text/plain
    application/jsonx
    application/json-patch+json
    multipart/form-data; boundary=x
    application/x-www-form-urlencoded
    application/json, text/plain
    text/plain | application/json
    application/json | text/plain
    APPLICATION/JSON;;;;
    application/json; charset=utf-16
";

fn content_types(b: &mut Builder, method: &str, auth: Auth, body: Body, target: &[u8]) {
    let well_formed = spoiled(body, b"\"x\"").swap_remove(0);
    let utf16: Vec<u8> = String::from_utf8_lossy(&well_formed)
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let mut lists: Vec<Vec<Vec<u8>>> = CONTENT_TYPES
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            l.split(" | ")
                .filter(|t| *t != "-")
                .map(|t| t.into())
                .collect()
        })
        .collect();
    lists.push(vec![Vec::new()]);
    lists.push(vec![b"application/\xffjson".to_vec()]);
    for list in lists {
        let utf16_declared = list.last().is_some_and(|t| t.ends_with(b"utf-16"));
        let mut headers = b.credentials(auth);
        headers.extend(list.into_iter().map(|t| header("content-type", t)));
        let payload = if utf16_declared { &utf16 } else { &well_formed };
        b.add(
            "content type",
            request(method, target, &headers, payload),
            false,
        );
    }
}

/// Forms with the right token, each refused by a field; only on forms that have fields to
/// refuse (`enabled`, `delete`, `rotate` and `retry` would act on a valid token alone).
fn hostile_forms(b: &mut Builder, template: &str, target: &[u8]) {
    let refusable = [
        "/login",
        "/webhooks",
        "/webhooks/{wh}/edit",
        "/webhooks/{wh}/test",
    ];
    if !refusable.contains(&template) {
        return;
    }
    let csrf = &b.f.csrf;
    let mut headers = match template {
        // A double-submit sign-in token of the attacker's choosing, and a bad key.
        "/login" => vec![header("cookie", format!("speaknode_login={csrf}"))],
        _ => b.credentials(Auth::Session),
    };
    headers.push(header("content-type", content_type(Body::Form).unwrap()));
    let mut forms: Vec<Vec<u8>> = Vec::new();
    for value in SQL {
        let v: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
        let fields = format!("url={v}&description={v}&event_types={v}&event_type={v}&enabled={v}");
        forms.push(format!("csrf={csrf}&{fields}&api_key={v}").into_bytes());
    }
    for v in ["%ff%fe", "%00", "%", "%zz", "&&&===", "csrf=", "+%2B+"] {
        let fields = format!("url={v}&event_types=Nope&event_type={v}&enabled=maybe&api_key={v}");
        forms.push(format!("csrf={csrf}&{fields}").into_bytes());
    }
    let long = "d".repeat(60_000);
    forms.push(format!("csrf={csrf}&event_types=Nope&description={long}").into_bytes());
    forms.push(
        [
            format!("csrf={csrf}&event_types=Nope&url=").as_bytes(),
            b"\xff\x00\xfe",
        ]
        .concat(),
    );
    forms.push(
        [
            format!("csrf={csrf}&event_types=Nope&x=").as_bytes(),
            b"\r\n\0",
        ]
        .concat(),
    );
    for form in forms {
        b.add(
            "hostile form",
            request("POST", target, &headers, &form),
            false,
        );
    }
}

pub fn random_bytes(rng: &mut StdRng) -> Vec<u8> {
    let len = rng.random_range(0..4096);
    (0..len).map(|_| rng.random::<u8>()).collect()
}

/// Random sequences of JSON tokens and of this API's field names.
fn json_soup(rng: &mut StdRng) -> Vec<u8> {
    const TOKENS: &[&str] = &[
        "{",
        "}",
        "[",
        "]",
        ":",
        ",",
        "\"",
        "\\",
        "\"url\"",
        "\"event_types\"",
        "\"data\"",
        "\"type\"",
        "\"name\"",
        "\"since\"",
        "\"schema\"",
        "1e999",
        "-",
        "0",
        "true",
        "null",
        "\"\\u0000\"",
        " ",
        "\u{0}",
    ];
    let len = rng.random_range(1..400);
    let mut out = String::from("{");
    for _ in 0..len {
        out.push_str(TOKENS[rng.random_range(0..TOKENS.len())]);
    }
    out.into_bytes()
}
