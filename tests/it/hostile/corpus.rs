//! The generated corpus of hostile requests, each as the exact bytes sent. Every request is
//! refused by construction: a wrong credential, an id that names nothing, a malformed body, or a
//! well-formed body that also breaks a rule checked after the hostile part was read (an empty
//! `event_types`, event data without `started_at`, an event type name that already exists…).
//! So any change to what is stored is a bug, whatever the answer was.

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::{ADMIN_TOKEN, Fixture};
use super::{values, wire};
use crate::common::API_KEY;

/// One request of the corpus.
pub struct Case {
    pub kind: &'static str,
    pub request: Vec<u8>,
    /// Well-formed HTTP to a path under `/api/v1` (not HEAD): an error answer must carry the
    /// contract's JSON error body. Malformed HTTP is refused by the HTTP layer, before the API.
    pub api: bool,
    /// Malformed HTTP: the server may also close the connection without answering.
    pub protocol: bool,
}

impl Case {
    /// The request line and the start of the body, readable.
    pub fn label(&self) -> String {
        let text = String::from_utf8_lossy(&self.request);
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let line = head.lines().next().unwrap_or("");
        let cut = |s: &str| {
            s.chars()
                .take(160)
                .collect::<String>()
                .escape_debug()
                .to_string()
        };
        format!("[{}] {} | {}", self.kind, cut(line), cut(body))
    }
}

#[derive(Clone, Copy, PartialEq)]
pub enum Auth {
    Key,
    Admin,
    Session,
    Public,
}

/// What a route reads from its body.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Body {
    None,
    Webhook,
    Patch,
    Test,
    Recover,
    Event,
    EventType,
    Workspace,
    Form,
}

impl Body {
    pub fn parse(word: &str) -> Option<Self> {
        Some(match word {
            "-" => Self::None,
            "webhook" => Self::Webhook,
            "patch" => Self::Patch,
            "test" => Self::Test,
            "recover" => Self::Recover,
            "event" => Self::Event,
            "event-type" => Self::EventType,
            "workspace" => Self::Workspace,
            "form" => Self::Form,
            _ => return None,
        })
    }
}

/// The rows of a table of bodies: a kind, then a body that may go on over the next lines.
pub fn bodies(table: &str, kind: Body) -> Vec<String> {
    let mut rows: Vec<(Option<Body>, String)> = Vec::new();
    for line in table.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
        match (Body::parse(word), rows.last_mut()) {
            (Some(body), _) => rows.push((Some(body), rest.trim().to_string())),
            (None, Some((_, text))) => text.extend([" ", line]),
            (None, None) => panic!("a table starts with a kind: {line}"),
        }
    }
    rows.into_iter()
        .filter(|(k, _)| *k == Some(kind))
        .map(|(_, text)| text)
        .collect()
}

/// Every route of the API and the dashboard: method, path, credential, body.
const ROUTES: &str = "
    POST    /api/v1/webhooks                                key      webhook
    GET     /api/v1/webhooks                                key      -
    GET     /api/v1/webhooks/{wh}                           key      -
    PATCH   /api/v1/webhooks/{wh}                           key      patch
    DELETE  /api/v1/webhooks/{wh}                           key      -
    GET     /api/v1/webhooks/{wh}/secret                    key      -
    POST    /api/v1/webhooks/{wh}/secret/rotate             key      -
    POST    /api/v1/webhooks/{wh}/test                      key      test
    GET     /api/v1/webhooks/{wh}/attempts                  key      -
    GET     /api/v1/webhooks/{wh}/attempts/{att}            key      -
    POST    /api/v1/webhooks/{wh}/attempts/{att}/retry      key      -
    POST    /api/v1/webhooks/{failing}/recover              key      recover
    POST    /api/v1/events                                  key      event
    GET     /api/v1/events                                  key      -
    GET     /api/v1/events/{evt}                            key      -
    GET     /api/v1/event-types                             key      -
    POST    /api/v1/event-types                             admin    event-type
    POST    /api/v1/workspaces                              admin    workspace
    GET     /api/v1/workspaces                              admin    -
    POST    /api/v1/workspaces/{ws}/api-keys                admin    -
    DELETE  /api/v1/workspaces/{ws}/api-keys/{key}          admin    -
    GET     /healthz                                        public   -
    GET     /                                               public   -
    GET     /login                                          public   -
    POST    /login                                          public   form
    POST    /logout                                         session  form
    GET     /webhooks                                       session  -
    POST    /webhooks                                       session  form
    GET     /webhooks/new                                   session  -
    GET     /webhooks/{wh}                                  session  -
    GET     /webhooks/{wh}/edit                             session  -
    POST    /webhooks/{wh}/edit                             session  form
    POST    /webhooks/{wh}/enabled                          session  form
    POST    /webhooks/{wh}/delete                           session  form
    GET     /webhooks/{wh}/secret                           session  -
    POST    /webhooks/{wh}/secret/rotate                    session  form
    POST    /webhooks/{wh}/test                             session  form
    POST    /webhooks/{wh}/attempts/{att}/retry             session  form
    GET     /event-types                                    session  -
    GET     /assets/app.css                                 public   -
";

#[derive(Clone, Copy)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub auth: Auth,
    pub body: Body,
}

pub fn routes() -> Vec<Route> {
    let rows = ROUTES.lines().map(str::split_whitespace);
    let rows = rows.map(|mut w| (w.next(), w.next(), w.next(), w.next()));
    rows.filter_map(|row| match row {
        (Some(method), Some(path), Some(auth), Some(body)) => Some(Route {
            method,
            path,
            auth: match auth {
                "key" => Auth::Key,
                "admin" => Auth::Admin,
                "session" => Auth::Session,
                _ => Auth::Public,
            },
            body: Body::parse(body).unwrap(),
        }),
        _ => None,
    })
    .collect()
}

pub type Headers = Vec<(Vec<u8>, Vec<u8>)>;

pub fn header(name: &str, value: impl AsRef<[u8]>) -> (Vec<u8>, Vec<u8>) {
    (name.as_bytes().to_vec(), value.as_ref().to_vec())
}

/// The bytes of one request. `Content-Length` is added for a body unless a header already names
/// the framing.
pub fn request(method: &str, target: &[u8], headers: &Headers, body: &[u8]) -> Vec<u8> {
    let mut out = [method.as_bytes(), b" ", target, b" HTTP/1.1\r\n"].concat();
    out.extend(b"Host: service\r\nConnection: close\r\n");
    let framing = |n: &[u8]| {
        n.eq_ignore_ascii_case(b"content-length") || n.eq_ignore_ascii_case(b"transfer-encoding")
    };
    for (name, value) in headers {
        out.extend([name.as_slice(), b": ", value, b"\r\n"].concat());
    }
    let framed = headers.iter().any(|(n, _)| framing(n));
    if !framed && (!body.is_empty() || matches!(method, "POST" | "PATCH")) {
        out.extend(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    out.extend(b"\r\n");
    out.extend(body);
    out
}

/// Builds requests against the fixture.
pub struct Builder<'a> {
    pub f: &'a Fixture,
    pub cases: Vec<Case>,
}

impl Builder<'_> {
    /// The route's path with the fixture's ids.
    pub fn path(&self, template: &str) -> String {
        let f = self.f;
        template
            .replace("{wh}", &f.webhook)
            .replace("{failing}", &f.failing)
            .replace("{att}", &f.attempt)
            .replace("{evt}", &f.event)
            .replace("{ws}", &f.other_workspace)
            .replace("{key}", &f.other_key_id)
    }

    /// The valid credential of a kind of route.
    pub fn credentials(&self, auth: Auth) -> Headers {
        match auth {
            Auth::Key => vec![header("authorization", format!("Bearer {API_KEY}"))],
            Auth::Admin => vec![header("authorization", format!("Bearer {ADMIN_TOKEN}"))],
            Auth::Session => {
                let session = format!("speaknode_session={}", self.f.session);
                vec![header("cookie", session)]
            }
            Auth::Public => Vec::new(),
        }
    }

    /// The route's valid credential and content type, then `extra`.
    pub fn headers(&self, route: &Route, extra: Headers) -> Headers {
        let mut headers = self.credentials(route.auth);
        headers.extend(content_type(route.body).map(|t| header("content-type", t)));
        headers.extend(extra);
        headers
    }

    /// Adds a well-formed request to `target` with the route's credential and content type.
    pub fn send(&mut self, kind: &'static str, route: &Route, target: &[u8], body: &[u8]) {
        let headers = self.headers(route, Vec::new());
        self.add(kind, request(route.method, target, &headers, body), false);
    }

    /// Adds a request; `protocol` when it is not well-formed HTTP.
    pub fn add(&mut self, kind: &'static str, request: Vec<u8>, protocol: bool) {
        let api = !protocol && !request.starts_with(b"HEAD ") && {
            let target = request.split(|b| *b == b' ').nth(1).unwrap_or(b"");
            target.starts_with(b"/api/v1")
        };
        self.cases.push(Case {
            kind,
            request,
            api,
            protocol,
        });
    }
}

pub fn content_type(body: Body) -> Option<&'static str> {
    match body {
        Body::None => None,
        Body::Form => Some("application/x-www-form-urlencoded"),
        _ => Some("application/json"),
    }
}

/// The whole corpus, deterministic for a given fixture.
pub fn build(f: &Fixture) -> Vec<Case> {
    let mut b = Builder {
        f,
        cases: Vec::new(),
    };
    let mut rng = StdRng::seed_from_u64(0x5eed_0005);
    garbage_credentials(&mut b);
    hostile_ids(&mut b);
    values::hostile_bodies(&mut b, &mut rng);
    wire::hostile_queries(&mut b);
    wire::hostile_headers(&mut b);
    wire::odd_methods_and_paths(&mut b);
    wire::protocol_noise(&mut b, &mut rng);
    b.cases
}

/// Authorization values that are not the key, one a line.
const BAD_AUTH: &str = "
    Bearer
    bearer
    Bearer sk_wrong_key_0123456789
    sk_test_integration_key_0123456789
    Token sk_test_integration_key_0123456789
    Bearer sk_test_integration_key_0123456789 extra
    Bearer sk_test_integration_key_012345678
    Bearer%20sk_test_integration_key_0123456789
    Bearer admin_token_hostile_0123456789x
    Basic c2tfdGVzdF9pbnRlZ3JhdGlvbl9rZXlfMDEyMzQ1Njc4OTo=
";

/// Cookies that are no session, one a line.
const BAD_COOKIES: &str = "
    speaknode_session=
    speaknode_session=' OR '1'='1
    speaknode_session=x; other=1
    speaknode_session=sk_test_integration_key_0123456789
    speaknode_login=x
";

/// Valid requests to every route with a credential that is not the right one.
fn garbage_credentials(b: &mut Builder) {
    let lines = |table: &'static str| table.lines().map(str::trim).filter(|l| !l.is_empty());
    let mut auths: Vec<Vec<u8>> = lines(BAD_AUTH).map(|l| l.as_bytes().to_vec()).collect();
    auths.extend([b"".to_vec(), b"Bearer ".to_vec()]);
    auths.extend(
        values::SQL
            .iter()
            .map(|s| format!("Bearer {s}").into_bytes()),
    );
    auths.push(format!("Bearer {}", "A".repeat(64 * 1024)).into_bytes());
    auths.push(b"Bearer sk_test_integration_key_0123456789\tx".to_vec());
    auths.push(b"Bearer \xff\xfe\xfd".to_vec());
    auths.push("Bearer\u{a0}sk_test_integration_key_0123456789".into());
    let mut cookies: Vec<Vec<u8>> = lines(BAD_COOKIES).map(|l| l.as_bytes().to_vec()).collect();
    cookies.push(b"".to_vec());
    cookies.push(format!("speaknode_session={}", "A".repeat(64 * 1024)).into_bytes());
    cookies.push(b"speaknode_session=\xff\xfe".to_vec());
    for route in routes().iter().filter(|r| r.auth != Auth::Public) {
        let target = b.path(route.path).into_bytes();
        let body = values::valid(route.body, &b.f.csrf);
        let mut sets: Vec<Headers> = Vec::new();
        if route.auth == Auth::Session {
            sets.extend(cookies.iter().map(|c| vec![header("cookie", c)]));
            sets.push(b.credentials(Auth::Key));
        } else {
            sets.extend(auths.iter().map(|a| vec![header("authorization", a)]));
            let other = if route.auth == Auth::Admin {
                Auth::Key
            } else {
                Auth::Admin
            };
            sets.push(b.credentials(other));
            // The first of two headers counts: a garbage first one must not fall through.
            let mut two = vec![header("authorization", "Bearer nope")];
            two.extend(b.credentials(route.auth));
            sets.push(two);
        }
        for set in sets {
            let mut headers = set;
            headers.extend(content_type(route.body).map(|t| header("content-type", t)));
            let bytes = request(route.method, &target, &headers, &body);
            b.add("garbage credentials", bytes, false);
        }
    }
}

/// Ids that name nothing: traversal, encodings, SQL, huge and odd ones.
const IDS: &str = "
    ..%2f..%2fetc%2fpasswd ../../etc/passwd .. %2e%2e %00 wh_%00 %ff %c3%28 %ed%a0%80 % %zz %2f
    %F0%9F%8E%99 %E2%80%AE * %20 + -1 0 99999999999999999999999 wh_x;jsessionid=1 %7Bid%7D %25
    wh_%25 _ %27%20OR%20%271%27%3D%271 1%3B%20DROP%20TABLE%20webhooks %27%3B--
    wh_x%27%20UNION%20SELECT%20secret%20FROM%20webhooks%20-- %0d%0aX-Injected:%201
";

/// Every id position of every route gets every id that names nothing, with the valid
/// credential and a valid body: each must be a 4xx that changes nothing.
fn hostile_ids(b: &mut Builder) {
    let mut ids: Vec<String> = IDS.split_whitespace().map(String::from).collect();
    ids.push("a".repeat(5000));
    ids.push("b".repeat(60_000));
    let f = b.f;
    for id in [
        &f.webhook,
        &f.attempt,
        &f.event,
        &f.other_workspace,
        &f.other_key_id,
    ] {
        for trick in ["{}/", "{}//", "{}%2f", "{}%00", "%20{}", "{}%20", "{}.json"] {
            ids.push(trick.replace("{}", id));
        }
        ids.push(id.to_uppercase());
    }
    // Another workspace's ids are no ids here.
    ids.push(f.other_webhook.clone());
    let placeholders = ["{wh}", "{failing}", "{att}", "{evt}", "{ws}", "{key}"];
    for route in routes() {
        let body = values::valid(route.body, &b.f.csrf);
        for placeholder in placeholders.iter().filter(|p| route.path.contains(*p)) {
            let (before, after) = route.path.split_once(placeholder).unwrap();
            let (before, after) = (b.path(before), b.path(after));
            for id in &ids {
                let target = format!("{before}{id}{after}");
                b.send("hostile id", &route, target.as_bytes(), &body);
            }
        }
        // Bytes no URI may hold: the HTTP layer refuses them.
        let Some((before, after)) = route.path.split_once("{wh}") else {
            continue;
        };
        for raw in [&b"\x00"[..], b"\xff", "🎙".as_bytes(), b"a b", b"\x7f"] {
            let target = [b.path(before).as_bytes(), raw, b.path(after).as_bytes()].concat();
            let bytes = request(route.method, &target, &Vec::new(), b"");
            b.add("raw bytes in the path", bytes, true);
        }
    }
}
