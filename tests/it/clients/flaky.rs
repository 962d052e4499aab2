//! An HTTP proxy in front of the real service that fails `POST /api/v1/events` on a script, so a
//! client's retries meet what production throws at them: a response lost after the service
//! stored the event (the case idempotency exists for), a 503, a 429 with `Retry-After`. It
//! records every emit it saw with its `Idempotency-Key`, so a test can prove the retries reused
//! the key. Everything else is passed through. One request per connection (`Connection: close`)
//! keeps the parsing to a request head and a `Content-Length` body.

#![allow(clippy::unwrap_used)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does to the next emit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forwards it, waits for the service's answer, then closes the connection without sending
    /// it: the event is stored but the client never hears so.
    LoseResponse,
    /// Answers this status with the contract's error body, without forwarding.
    Status(u16, Option<u32>),
}

/// One `POST /api/v1/events` that reached the proxy.
#[derive(Debug, Clone)]
pub struct Emit {
    pub idempotency_key: Option<String>,
    pub fault: Option<Fault>,
}

pub struct Flaky {
    pub url: String,
    script: Arc<Mutex<VecDeque<Fault>>>,
    seen: Arc<Mutex<Vec<Emit>>>,
}

struct Shared {
    upstream: String,
    script: Arc<Mutex<VecDeque<Fault>>>,
    seen: Arc<Mutex<Vec<Emit>>>,
    client: reqwest::Client,
}

impl Flaky {
    pub async fn start(upstream: &str, script: Vec<Fault>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let script = Arc::new(Mutex::new(VecDeque::from(script)));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let shared = Arc::new(Shared {
            upstream: upstream.to_string(),
            script: script.clone(),
            seen: seen.clone(),
            client: reqwest::Client::builder().no_proxy().build().unwrap(),
        });
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, shared.clone()));
            }
        });
        Self { url, script, seen }
    }

    pub fn emits(&self) -> Vec<Emit> {
        self.seen.lock().unwrap().clone()
    }

    /// Faults still waiting for an emit (none once the client got through them all).
    pub fn faults_left(&self) -> usize {
        self.script.lock().unwrap().len()
    }
}

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

async fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut buf = Vec::new();
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let (method, path) = (
        request_line.next()?.to_string(),
        request_line.next()?.to_string(),
    );
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut request = Request {
        method,
        path,
        headers,
        body: buf[head_end + 4..].to_vec(),
    };
    let length: usize = request
        .header("content-length")
        .map_or(0, |v| v.parse().unwrap());
    while request.body.len() < length {
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        request.body.extend_from_slice(&chunk[..n]);
    }
    Some(request)
}

async fn serve(mut stream: TcpStream, shared: Arc<Shared>) {
    let Some(request) = read_request(&mut stream).await else {
        return;
    };
    let fault = if request.method == "POST" && request.path == "/api/v1/events" {
        let fault = shared.script.lock().unwrap().pop_front();
        shared.seen.lock().unwrap().push(Emit {
            idempotency_key: request.header("idempotency-key").map(str::to_string),
            fault,
        });
        fault
    } else {
        None
    };
    if let Some(Fault::Status(status, retry_after)) = fault {
        let code = if status == 429 {
            "rate_limited"
        } else {
            "unavailable"
        };
        let body =
            format!(r#"{{"error":{{"code":"{code}","message":"injected by the test proxy"}}}}"#);
        let extra = retry_after.map_or(String::new(), |s| format!("retry-after: {s}\r\n"));
        let extra = format!("content-type: application/json\r\n{extra}");
        write_response(&mut stream, status, &extra, body.as_bytes()).await;
        return;
    }
    let answer = forward(&shared, &request).await;
    if fault == Some(Fault::LoseResponse) {
        // The service has answered (so the event is stored); the client hears nothing.
        drop(stream);
        return;
    }
    let (status, extra, body) = answer;
    write_response(&mut stream, status, &extra, &body).await;
}

async fn forward(shared: &Shared, request: &Request) -> (u16, String, Vec<u8>) {
    let method = reqwest::Method::from_bytes(request.method.as_bytes()).unwrap();
    let mut outgoing = shared
        .client
        .request(method, format!("{}{}", shared.upstream, request.path))
        .body(request.body.clone());
    for (name, value) in &request.headers {
        let hop = ["host", "connection", "content-length", "keep-alive"];
        if !hop.iter().any(|h| name.eq_ignore_ascii_case(h)) {
            outgoing = outgoing.header(name, value);
        }
    }
    let response = outgoing.send().await.unwrap();
    let status = response.status().as_u16();
    let mut extra = String::new();
    for name in ["content-type", "retry-after", "location"] {
        if let Some(v) = response.headers().get(name) {
            extra.push_str(&format!("{name}: {}\r\n", v.to_str().unwrap()));
        }
    }
    (status, extra, response.bytes().await.unwrap().to_vec())
}

async fn write_response(stream: &mut TcpStream, status: u16, extra: &str, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {status} X\r\n{extra}content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body).await;
    let _ = stream.shutdown().await;
}
