//! A small HTTP forward proxy on 127.0.0.1 for `SPEAKNODE_PROXY_URL` tests: it records every
//! request it gets (its request line and `Proxy-Authorization`) and forwards it, `CONNECT` as a
//! tunnel and absolute-form requests (`POST http://host:port/path`) rewritten to origin form.
//! It forwards only to loopback: anything else is recorded and answered 502, so a test that
//! goes wrong never sends traffic off this machine. One request per client connection (answers
//! are marked `Connection: close`), which keeps the counting exact.

#![allow(dead_code, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy was asked for.
#[derive(Debug, Clone)]
pub struct Proxied {
    pub method: String,
    /// `host:port` for CONNECT, the absolute URL otherwise.
    pub target: String,
    pub proxy_authorization: Option<String>,
}

#[derive(Clone)]
pub struct ForwardProxy {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Proxied>>>,
}

impl ForwardProxy {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let recorded = seen.clone();
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(serve(client, recorded.clone()));
            }
        });
        Self { addr, seen }
    }

    /// `http://127.0.0.1:port`, with `user:pass@` when given.
    pub fn url(&self, credentials: Option<&str>) -> String {
        match credentials {
            Some(userinfo) => format!("http://{userinfo}@{}", self.addr),
            None => format!("http://{}", self.addr),
        }
    }

    pub fn seen(&self) -> Vec<Proxied> {
        self.seen.lock().unwrap().clone()
    }
}

/// The request head (through the blank line) and whatever was read after it.
async fn read_head(stream: &mut (impl AsyncRead + Unpin)) -> Option<(String, Vec<u8>)> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buffer.split_off(end + 4);
            return Some((String::from_utf8_lossy(&buffer).into_owned(), rest));
        }
        if buffer.len() > 64 * 1024 {
            return None;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .find(|(n, _)| n.trim().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
}

/// The head without the given headers, each header line ending in CRLF, no blank line.
fn headers_without(head: &str, drop: &[&str]) -> String {
    head.lines()
        .skip(1)
        .filter(|line| !line.is_empty())
        .filter(|line| {
            let name = line.split(':').next().unwrap_or("").trim();
            !drop.iter().any(|d| name.eq_ignore_ascii_case(d))
        })
        .map(|line| format!("{line}\r\n"))
        .collect()
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

async fn refuse(mut client: TcpStream) {
    let answer = "HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
    let _ = client.write_all(answer.as_bytes()).await;
}

async fn serve(mut client: TcpStream, seen: Arc<Mutex<Vec<Proxied>>>) {
    let Some((head, rest)) = read_head(&mut client).await else {
        return;
    };
    let mut request_line = head.lines().next().unwrap_or("").split(' ');
    let method = request_line.next().unwrap_or("").to_string();
    let target = request_line.next().unwrap_or("").to_string();
    seen.lock().unwrap().push(Proxied {
        method: method.clone(),
        target: target.clone(),
        proxy_authorization: header(&head, "proxy-authorization").map(str::to_string),
    });
    if method == "CONNECT" {
        let host = target.rsplit_once(':').map_or("", |(h, _)| h);
        if !is_loopback(host) {
            return refuse(client).await;
        }
        let Ok(mut upstream) = TcpStream::connect(&target).await else {
            return refuse(client).await;
        };
        let established = "HTTP/1.1 200 Connection Established\r\n\r\n";
        if client.write_all(established.as_bytes()).await.is_err()
            || upstream.write_all(&rest).await.is_err()
        {
            return;
        }
        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
        return;
    }
    let Ok(url) = url::Url::parse(&target) else {
        return refuse(client).await;
    };
    let host = url.host_str().unwrap_or("");
    if url.scheme() != "http" || !is_loopback(host) {
        return refuse(client).await;
    }
    let authority = format!("{host}:{}", url.port_or_known_default().unwrap_or(80));
    let Ok(mut upstream) = TcpStream::connect(&authority).await else {
        return refuse(client).await;
    };
    let path = &url[url::Position::BeforePath..];
    let forwarded = format!(
        "{method} {path} HTTP/1.1\r\n{}connection: close\r\n\r\n",
        headers_without(
            &head,
            &["proxy-authorization", "proxy-connection", "connection"]
        ),
    );
    if upstream.write_all(forwarded.as_bytes()).await.is_err()
        || upstream.write_all(&rest).await.is_err()
    {
        return;
    }
    let (mut client_read, mut client_write) = client.into_split();
    let (mut upstream_read, mut upstream_write) = upstream.into_split();
    // The rest of the request body, if it had not all arrived with the head.
    tokio::spawn(async move {
        let _ = tokio::io::copy(&mut client_read, &mut upstream_write).await;
    });
    let Some((answer, body_start)) = read_head(&mut upstream_read).await else {
        return;
    };
    let status_line = answer.lines().next().unwrap_or("");
    let answer = format!(
        "{status_line}\r\n{}connection: close\r\n\r\n",
        headers_without(&answer, &["connection", "keep-alive"]),
    );
    if client_write.write_all(answer.as_bytes()).await.is_err()
        || client_write.write_all(&body_start).await.is_err()
    {
        return;
    }
    let _ = tokio::io::copy(&mut upstream_read, &mut client_write).await;
    let _ = client_write.shutdown().await;
}
