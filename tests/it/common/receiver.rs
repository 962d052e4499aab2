//! A scriptable webhook receiver on a real socket: it answers each request with the next scripted
//! reply (then the default one) and records what it got. `POST /control` with a body of `200`,
//! `500` (any status) or `hang` changes the default reply, so a test in another process (the
//! browser journey) can make the receiver fail.

#![allow(dead_code, clippy::unwrap_used)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

#[derive(Debug, Clone)]
pub enum Reply {
    Status(u16),
    /// Answers with this status, a body and extra headers.
    Full(u16, &'static str, Vec<(&'static str, String)>),
    /// Never answers (until the test ends).
    Hang,
    /// Answers 200 after this many milliseconds.
    Slow(u64),
}

#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

#[derive(Default)]
struct Inner {
    script: VecDeque<Reply>,
    default: Option<Reply>,
    received: Vec<Received>,
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

impl Receiver {
    /// A receiver that answers `script` in order, then `default` forever.
    pub async fn start(script: Vec<Reply>, default: Reply) -> Self {
        let inner = Arc::new(Mutex::new(Inner {
            script: script.into(),
            default: Some(default),
            received: Vec::new(),
        }));
        let app = Router::new()
            .route("/control", axum::routing::post(control))
            .fallback(handle)
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, inner }
    }

    pub async fn ok() -> Self {
        Self::start(vec![], Reply::Status(200)).await
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().unwrap().received.clone()
    }

    /// Where another process can change the default reply (see the module doc).
    pub fn control_url(&self) -> String {
        self.url.replace("/hook", "/control")
    }

    pub fn set_default(&self, reply: Reply) {
        self.inner.lock().unwrap().default = Some(reply);
    }
}

async fn control(State(inner): State<Arc<Mutex<Inner>>>, body: String) -> StatusCode {
    let reply = match body.trim() {
        "hang" => Reply::Hang,
        code => match code.parse::<u16>() {
            Ok(code) if StatusCode::from_u16(code).is_ok() => Reply::Status(code),
            _ => return StatusCode::BAD_REQUEST,
        },
    };
    inner.lock().unwrap().default = Some(reply);
    StatusCode::NO_CONTENT
}

async fn handle(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let reply = {
        let mut inner = inner.lock().unwrap();
        inner.received.push(Received { headers, body });
        inner
            .script
            .pop_front()
            .or_else(|| inner.default.clone())
            .unwrap()
    };
    match reply {
        Reply::Status(code) => (
            StatusCode::from_u16(code).unwrap(),
            format!("status {code}"),
        )
            .into_response(),
        Reply::Full(code, body, headers) => {
            let mut response = (StatusCode::from_u16(code).unwrap(), body).into_response();
            for (name, value) in headers {
                response.headers_mut().insert(name, value.parse().unwrap());
            }
            response
        }
        Reply::Slow(ms) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            StatusCode::OK.into_response()
        }
        Reply::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::OK.into_response()
        }
    }
}
