//! What the hostile-input tests share: a raw HTTP/1.1 client (it sends bytes that reqwest would
//! refuse to: invalid header bytes, raw paths, broken framing), a record of every panic in the
//! process (the service runs in it), a fixture with something stored in every table, and a
//! snapshot of all of it as the API shows it.

#![allow(dead_code, clippy::unwrap_used)]

pub mod corpus;
pub mod values;
pub mod wire;

use std::sync::{Mutex, Once};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::{
    API_KEY, Receiver, Reply, TestApp, conversation_complete, eventually, session_started,
};
use crate::visitor;

pub const ADMIN_TOKEN: &str = "admin_token_hostile_0123456789";

/// One HTTP answer as it came off the wire.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `request` as is on a new connection and reads one answer. The request is written
/// while the answer is read, so a server that answers before reading a large body (413, 431)
/// is seen. `Ok(None)` when the server closed the connection without answering, `Err` when it
/// did neither within 10 s.
pub async fn exchange(addr: &str, request: Vec<u8>) -> Result<Option<Answer>, String> {
    // The answer to HEAD has the headers of a GET and no body.
    let head_only = request.starts_with(b"HEAD ");
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let writer = tokio::spawn(async move {
        // The server may stop reading (and close) once it has answered.
        let _ = write.write_all(&request).await;
        write
    });
    let mut buf = Vec::new();
    let read_answer = async {
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            if let Some(answer) = parse(&buf, head_only, false) {
                return Some(answer);
            }
            match read.read(&mut chunk).await {
                Ok(0) | Err(_) => return parse(&buf, head_only, true),
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    };
    let answer = tokio::time::timeout(Duration::from_secs(10), read_answer).await;
    // Dropping the write half only after the answer keeps the connection open while it is read.
    writer.abort();
    answer.map_err(|_| "neither answered nor closed the connection within 10 s".to_string())
}

/// One complete answer at the start of `buf`; at end of stream, a body without a length runs to
/// the end.
fn parse(buf: &[u8], head_only: bool, at_eof: bool) -> Option<Answer> {
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buf[..head_end]);
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    if (100..200).contains(&status) {
        // `100 Continue` and friends come before the answer.
        return parse(&buf[head_end + 4..], head_only, at_eof);
    }
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let rest = &buf[head_end + 4..];
    let find = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v);
    let body = if head_only {
        Vec::new()
    } else if let Some(length) = find("content-length") {
        let length: usize = length.parse().ok()?;
        rest.get(..length)?.to_vec()
    } else if find("transfer-encoding").is_some_and(|t| t.contains("chunked")) {
        dechunk(rest)?
    } else if at_eof {
        rest.to_vec()
    } else {
        return None;
    };
    Some(Answer {
        status,
        headers,
        body,
    })
}

fn dechunk(mut rest: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = rest.windows(2).position(|w| w == b"\r\n")?;
        let size = std::str::from_utf8(&rest[..line_end]).ok()?;
        let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(rest.get(..size)?);
        rest = rest.get(size + 2..)?;
    }
}

static PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// From now on, every panic outside the tests' own code is recorded (and still reported as
/// usual). The service runs in this process, so a panic in a handler lands here even when the
/// connection task that caught it only drops the connection.
pub fn record_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_tests = info
                .location()
                .is_some_and(|l| l.file().starts_with("tests/"));
            if !in_tests {
                PANICS
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(info.to_string());
            }
            default(info);
        }));
    });
}

pub fn panics() -> Vec<String> {
    PANICS.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// A service with the admin routes on, on SQLite or on the PostgreSQL database named.
pub async fn start_app(database_url: Option<&str>) -> TestApp {
    TestApp::start_with(|a| {
        a.admin_token = Some(ADMIN_TOKEN.into());
        if let Some(url) = database_url {
            a.database_url = url.to_string();
        }
    })
    .await
}

/// A service with something in every table: two workspaces, webhooks enabled, disabled and
/// failing, events with succeeded and failed deliveries and their attempts, and a dashboard
/// session.
pub struct Fixture {
    pub app: TestApp,
    pub addr: String,
    pub webhook: String,
    pub failing: String,
    pub attempt: String,
    pub event: String,
    pub other_key: String,
    pub other_workspace: String,
    pub other_key_id: String,
    pub other_webhook: String,
    pub session: String,
    pub csrf: String,
    _receivers: (Receiver, Receiver),
}

impl Fixture {
    /// On SQLite, or on the PostgreSQL database `database_url` names.
    pub async fn start(database_url: Option<&str>) -> Self {
        let app = start_app(database_url).await;
        let addr = app.base.trim_start_matches("http://").to_string();
        let ok = Receiver::ok().await;
        let failing = Receiver::start(vec![], Reply::Status(500)).await;
        let both = ["SessionStarted", "ConversationComplete"];
        let webhook = app.create_webhook(&ok.url, &both).await["id"]
            .as_str()
            .unwrap()
            .to_string();
        let failing_hook = app.create_webhook(&failing.url, &["SessionStarted"]).await;
        let disabled = app.create_webhook(&ok.url, &both).await;
        let (status, _) = app
            .patch(
                &format!("/api/v1/webhooks/{}", disabled["id"].as_str().unwrap()),
                json!({"enabled": false}),
            )
            .await;
        assert_eq!(status, 200);
        let event = app.emit("SessionStarted", session_started()).await;
        let event_id = event["id"].as_str().unwrap().to_string();
        let second = app
            .emit("ConversationComplete", conversation_complete())
            .await;
        for id in [&event_id, second["id"].as_str().unwrap()] {
            app.wait_for_event_settled(id).await;
        }
        let attempt = app.attempts(&webhook).await[0]["id"]
            .as_str()
            .unwrap()
            .to_string();

        let admin = |path: &str, body: Value| {
            let req = app
                .client
                .post(app.url(path))
                .bearer_auth(ADMIN_TOKEN)
                .json(&body);
            async move { req.send().await.unwrap().json::<Value>().await.unwrap() }
        };
        let other = admin("/api/v1/workspaces", json!({"name": "Other"})).await;
        let other_workspace = other["id"].as_str().unwrap().to_string();
        let key = admin(
            &format!("/api/v1/workspaces/{other_workspace}/api-keys"),
            json!({}),
        )
        .await;
        let other_key = other["api_key"].as_str().unwrap().to_string();
        let other_webhook = app
            .client
            .post(app.url("/api/v1/webhooks"))
            .bearer_auth(&other_key)
            .json(&json!({"url": ok.url, "event_types": ["SessionStarted"]}))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap();

        let mut visitor = visitor::signed_in(&app).await;
        let csrf = visitor.csrf().await;
        let session = visitor.cookies["speaknode_session"].clone();
        Self {
            addr,
            webhook,
            failing: failing_hook["id"].as_str().unwrap().to_string(),
            attempt,
            event: event_id,
            other_key,
            other_workspace,
            other_key_id: key["id"].as_str().unwrap().to_string(),
            other_webhook: other_webhook["id"].as_str().unwrap().to_string(),
            session,
            csrf,
            app,
            _receivers: (ok, failing),
        }
    }

    async fn get(&self, key: &str, path: &str) -> Value {
        let response = self
            .app
            .client
            .get(self.app.url(path))
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        response.json().await.unwrap()
    }

    /// Everything stored, as the API shows it: per workspace every webhook with its secret and
    /// Request History, every event with its deliveries, the event types; and the workspaces.
    pub async fn snapshot(&self) -> Value {
        let mut all =
            json!({"workspaces": self.get(ADMIN_TOKEN, "/api/v1/workspaces?limit=100").await});
        for key in [API_KEY, self.other_key.as_str()] {
            let webhooks = self.get(key, "/api/v1/webhooks?limit=100").await;
            let mut each = Vec::new();
            for webhook in webhooks["data"].as_array().unwrap() {
                let path = format!("/api/v1/webhooks/{}", webhook["id"].as_str().unwrap());
                each.push(json!({
                    "webhook": self.get(key, &path).await,
                    "secret": self.get(key, &format!("{path}/secret")).await,
                    "attempts": self.get(key, &format!("{path}/attempts?limit=100")).await,
                }));
            }
            let events = self.get(key, "/api/v1/events?limit=100").await;
            let mut details = Vec::new();
            for event in events["data"].as_array().unwrap() {
                let path = format!("/api/v1/events/{}", event["id"].as_str().unwrap());
                details.push(self.get(key, &path).await);
            }
            let types = self.get(key, "/api/v1/event-types").await;
            all[key] =
                json!({"webhooks": webhooks, "each": each, "events": details, "types": types});
        }
        all
    }

    /// The service still answers its health check.
    pub async fn assert_healthy(&self) {
        eventually("the service to answer /healthz", || async {
            let health = self.app.client.get(self.app.url("/healthz")).send().await;
            health.is_ok_and(|r| r.status() == 200)
        })
        .await;
    }
}
