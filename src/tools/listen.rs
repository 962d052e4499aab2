//! `speaknode-webhooks listen`: a receiver for development. Point a webhook at it and every
//! delivery is printed as it arrives (when, which event, its ids, whether each signature
//! verifies, the body as indented JSON), then answered with the status you chose, so you can see
//! what your real receiver will get and rehearse how the service treats failures.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use clap::Args;
use speaknode_verify::{Verifier, header};

#[derive(Debug, Clone, Args)]
pub struct ListenArgs {
    /// Address to listen on (port 0 picks a free one and prints it).
    #[arg(long, default_value = "127.0.0.1:9000")]
    pub listen: String,
    /// The webhook's secret, `whsec_…`: with it, each delivery's signatures are checked.
    #[arg(long, env = "SPEAKNODE_WEBHOOK_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// HTTP status to answer every request with (e.g. 500 to watch the retries).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u16).range(200..=599))]
    pub status: u16,
}

struct ListenState {
    verifier: Option<Verifier>,
    status: StatusCode,
    count: AtomicU64,
}

/// Serves until Ctrl-C.
pub async fn run(args: ListenArgs) -> anyhow::Result<()> {
    let socket = tokio::net::TcpListener::bind(&args.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.listen))?;
    let status = StatusCode::from_u16(args.status)?;
    println!("listening on http://{}", socket.local_addr()?);
    println!(
        "{}; answering {status}. Deliveries to a local address need the service started \
         with SPEAKNODE_ALLOW_PRIVATE_TARGETS=true.",
        if args.secret.is_some() {
            "checking signatures with the given secret"
        } else {
            "no --secret: signatures are not checked"
        }
    );
    let state = Arc::new(ListenState {
        verifier: args.secret.map(Verifier::new),
        status,
        count: AtomicU64::new(0),
    });
    let app = Router::new()
        .fallback(receive)
        // Deliveries may carry up to SPEAKNODE_MAX_PAYLOAD_BYTES of data; do not refuse what the
        // service may legitimately send because of axum's 2 MB default.
        .layer(DefaultBodyLimit::max(64 * 1024 * 1024))
        .with_state(state);
    axum::serve(socket, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

async fn receive(
    State(state): State<Arc<ListenState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let n = state.count.fetch_add(1, Ordering::Relaxed) + 1;
    let report = describe(&state, n, &method, &uri, &headers, &body);
    // One print per delivery, so concurrent deliveries do not interleave their lines.
    print!("{report}");
    (
        state.status,
        format!(
            "speaknode-webhooks listen answered {}\n",
            state.status.as_u16()
        ),
    )
}

/// The readable block printed for one request.
fn describe(
    state: &ListenState,
    n: u64,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> String {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let event = get("x-speaknode-event").unwrap_or("(no X-SpeakNode-Event)");
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ");
    let mut out = format!("\n#{n} {now}  {method} {uri}  {event}\n");
    let mut line = |label: &str, value: &str| {
        let _ = writeln!(out, "  {label:<23}{value}");
    };
    line("webhook-id", get(header::WEBHOOK_ID).unwrap_or("-"));
    line(
        "X-SpeakNode-Delivery",
        get("x-speaknode-delivery").unwrap_or("-"),
    );
    if let Some(ts) = get(header::WEBHOOK_TIMESTAMP) {
        line("webhook-timestamp", &readable_timestamp(ts));
    }
    match &state.verifier {
        Some(verifier) => {
            for (name, verdict) in super::verdicts(verifier, get, body) {
                line(name, &verdict);
            }
        }
        None => line("signatures", "not checked (start listen with --secret)"),
    }
    line("answered", &state.status.as_u16().to_string());
    out.push_str(&body_text(body));
    out.push('\n');
    out
}

fn readable_timestamp(ts: &str) -> String {
    match ts
        .trim()
        .parse::<i64>()
        .ok()
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
    {
        Some(at) => format!("{ts} ({})", at.format("%Y-%m-%dT%H:%M:%SZ")),
        None => ts.to_string(),
    }
}

/// The body as indented JSON in the order it was sent, or as text when it is not JSON.
fn body_text(body: &[u8]) -> String {
    if body.is_empty() {
        return "(empty body)".into();
    }
    crate::dashboard::format::pretty_json(&String::from_utf8_lossy(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delivery_reads_as_ids_verdicts_and_indented_json() {
        let state = ListenState {
            verifier: Some(Verifier::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")),
            status: StatusCode::ACCEPTED,
            count: AtomicU64::new(0),
        };
        let mut headers = HeaderMap::new();
        headers.insert("x-speaknode-event", "SessionStarted".parse().unwrap());
        headers.insert("x-speaknode-delivery", "dlv_1".parse().unwrap());
        headers.insert("x-speaknode-signature", "00".parse().unwrap());
        let body = br#"{"id":"evt_1","type":"SessionStarted"}"#;
        let text = describe(
            &state,
            3,
            &Method::POST,
            &"/hooks".parse().unwrap(),
            &headers,
            body,
        );
        assert!(text.contains("#3 "), "{text}");
        assert!(text.contains("POST /hooks  SessionStarted"), "{text}");
        assert!(text.contains("dlv_1"), "{text}");
        assert!(text.contains("X-SpeakNode-Signature  INVALID: "), "{text}");
        assert!(text.contains("webhook-signature      absent"), "{text}");
        assert!(text.contains("answered               202"), "{text}");
        assert!(text.contains("{\n  \"id\": \"evt_1\",\n  \"type\": \"SessionStarted\"\n}"));
    }
}
