//! The parts of the corpus about HTTP itself: odd query strings on every list, odd and broken
//! headers, odd methods, paths that are almost routes, and requests that are not HTTP/1.1.

use rand::rngs::StdRng;

use super::corpus::{Body, Builder, Headers, header, request, routes};
use super::values::{SQL, random_bytes, spoiled_event};

/// The query parameters each list reads, and one it does not.
const QUERIES: &str = "
    /api/v1/webhooks                  limit cursor x
    /api/v1/events                    limit cursor type x
    /api/v1/webhooks/{wh}/attempts    limit cursor status event_type since until x
    /api/v1/workspaces                limit cursor x
    /webhooks                         before notice x
    /webhooks/{wh}                    status before trail reveal notice x
";

/// Odd values of every parameter of every list (`-` is the empty value), and odd query strings.
const QUERY_VALUES: &str = "- -1 0 101 1e2 %201 -0 18446744073709551617 %ff%fe %00 % 1,2 p5";
const QUERY_STRINGS: &str = "
    limit=1&limit=1000 limit =&&&== limit[]=1 limit=%31%30%31
    since=2026-11-26T17:00:00Z&until=1999-01-01T00:00:00Z
";

pub fn hostile_queries(b: &mut Builder) {
    let mut values: Vec<String> = SQL
        .iter()
        .map(|s| url::form_urlencoded::byte_serialize(s.as_bytes()).collect())
        .collect();
    let odd = QUERY_VALUES.split_whitespace();
    values.extend(odd.map(|v| if v == "-" { "" } else { v }.to_string()));
    values.push("9".repeat(5000));
    for line in QUERIES.lines() {
        let mut words = line.split_whitespace();
        let Some(template) = words.next() else {
            continue;
        };
        let route = routes()
            .into_iter()
            .find(|r| r.method == "GET" && r.path == template)
            .unwrap();
        let path = b.path(template);
        for name in words {
            for value in &values {
                b.send(
                    "hostile query",
                    &route,
                    format!("{path}?{name}={value}").as_bytes(),
                    b"",
                );
            }
        }
        for query in QUERY_STRINGS.split_whitespace() {
            b.send(
                "hostile query",
                &route,
                format!("{path}?{query}").as_bytes(),
                b"",
            );
        }
        let many = vec!["a=1"; 10_000].join("&");
        b.send(
            "hostile query",
            &route,
            format!("{path}?{many}").as_bytes(),
            b"",
        );
    }
}

/// Headers that are odd but well-formed, and headers that break HTTP framing or limits.
pub fn hostile_headers(b: &mut Builder) {
    let big = vec![b'v'; 64 * 1024];
    let event = spoiled_event();
    let targets = [
        ("GET", "/api/v1/webhooks"),
        ("POST", "/api/v1/events"),
        ("GET", "/webhooks"),
    ];
    for (method, path) in targets {
        let route = routes()
            .into_iter()
            .find(|r| r.method == method && r.path == path)
            .unwrap();
        let body: &[u8] = if route.body == Body::None {
            b""
        } else {
            &event
        };
        let fine: Vec<Headers> = vec![
            vec![header("x-padding", &big)],
            vec![header("x-a", b"\xff\xfe obs-text")],
            vec![header("expect", "100-continue")],
            vec![header("content-encoding", "gzip")],
            vec![header("idempotency-key", "' OR '1'='1")],
            vec![header("idempotency-key", &big)],
            vec![header("idempotency-key", b"\xff")],
            vec![header("idempotency-key", "")],
            vec![header("cookie", &big)],
            vec![header("x-forwarded-proto", b"https, \xff")],
            vec![header("accept", b"*/*;q=\xff")],
        ];
        for extra in fine {
            let headers = b.headers(&route, extra);
            b.add(
                "hostile header",
                request(method, path.as_bytes(), &headers, body),
                false,
            );
        }
        let broken: Vec<Headers> = vec![
            vec![header("x-huge", vec![b'v'; 1024 * 1024])],
            (0..200).map(|i| header(&format!("x-h{i}"), "1")).collect(),
            vec![header("bad header", "x")],
            vec![header("x-\u{ff}", "y")],
            vec![(b"x-\xff".to_vec(), b"y".to_vec())],
            vec![header("", "novalue")],
            vec![header("x-nul", b"a\x00b")],
            vec![header("x-fold", "a\r\n folded")],
            vec![header("content-length", "-1")],
            vec![header("content-length", "99999999999999999999999")],
            vec![header("content-length", "5"), header("content-length", "6")],
            vec![
                header("content-length", "2"),
                header("transfer-encoding", "chunked"),
            ],
            vec![header("transfer-encoding", "gzip")],
            vec![header("transfer-encoding", "chunked")],
        ];
        for extra in broken {
            let chunked = extra.iter().any(|(_, v)| v == b"chunked");
            let headers = b.headers(&route, extra);
            let body: &[u8] = if chunked {
                b"zz\r\n{}\r\n0\r\n\r\n"
            } else {
                body
            };
            b.add(
                "broken header",
                request(method, path.as_bytes(), &headers, body),
                true,
            );
        }
    }
}

/// Paths that are almost routes.
const PATHS: &str = "
    //api/v1/webhooks /api//v1/webhooks /api/v1/webhooks/ /api/v1/webhooks// /API/V1/WEBHOOKS
    /api/v1/./webhooks /api/v1/webhooks/../events /api/v1/%77ebhooks /api/v1/webhooks%2f
    /api/v1/webhooks? /api/v1/webhooks#frag /api/v1/webhooks;x=1 /api/v2/webhooks /api/v1
    /api/v1/ /webhooks/ //webhooks /login/ /assets/../../Cargo.toml /%2e%2e/%2e%2e/etc/passwd
    /assets/%2e%2e/%2e%2e/Cargo.toml /assets/app.css/..%2f..%2fsrc%2flib.rs
";

pub fn odd_methods_and_paths(b: &mut Builder) {
    for route in routes() {
        let target = b.path(route.path).into_bytes();
        for method in ["PUT", "OPTIONS", "TRACE", "FOO", "get", "HEAD", "M-SEARCH"] {
            let headers = b.headers(&route, Vec::new());
            b.add("odd method", request(method, &target, &headers, b""), false);
        }
        for method in ["CONNECT", "GE T", "G\x00ET"] {
            b.add(
                "odd method",
                request(method, &target, &Vec::new(), b""),
                true,
            );
        }
    }
    let find = |method, path| {
        routes()
            .into_iter()
            .find(|r| r.method == method && r.path == path)
    };
    let list = find("GET", "/api/v1/webhooks").unwrap();
    let emit = find("POST", "/api/v1/events").unwrap();
    let event = spoiled_event();
    for path in PATHS.split_whitespace() {
        b.send("path trick", &list, path.as_bytes(), b"");
        b.send("path trick", &emit, path.as_bytes(), &event);
    }
    // Past 64 KiB the HTTP layer refuses a target (414) before any route sees it.
    let long = format!("/api/v1/webhooks/{}", "x/".repeat(50_000));
    b.add(
        "path trick",
        request("GET", long.as_bytes(), &Vec::new(), b""),
        true,
    );
    for target in [
        "http://service/api/v1/webhooks",
        "*",
        "service:80",
        "api/v1/webhooks",
    ] {
        b.add(
            "path trick",
            request("GET", target.as_bytes(), &Vec::new(), b""),
            true,
        );
    }
}

/// Whole requests of noise, and requests from other protocol versions.
pub fn protocol_noise(b: &mut Builder, rng: &mut StdRng) {
    for _ in 0..16 {
        let mut noise = random_bytes(rng);
        noise.extend(b"\r\n\r\n");
        b.add("random request", noise, true);
    }
    let others: [&[u8]; 6] = [
        b"GET /api/v1/webhooks\r\n\r\n",
        b"GET /api/v1/webhooks HTTP/9.9\r\nHost: s\r\n\r\n",
        b"GET /api/v1/webhooks HTTP/1.1\nHost: s\nConnection: close\n\n",
        b"GET  /api/v1/webhooks  HTTP/1.1\r\nHost: s\r\n\r\n",
        // HTTP/2's preface, SETTINGS, then DATA on stream 0 (a connection error).
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
        b"\r\n\r\n\r\nGET /healthz HTTP/1.1\r\nHost: s\r\nConnection: close\r\n\r\n",
    ];
    for bytes in others {
        b.add("protocol", bytes.to_vec(), true);
    }
}
