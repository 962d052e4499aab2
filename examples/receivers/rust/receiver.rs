//! A SpeakNode webhook receiver in Rust: axum and the `speaknode-verify` crate.
//!
//! ```sh
//! SPEAKNODE_WEBHOOK_SECRET=whsec_… PORT=8000 cargo run --example receiver
//! ```
//!
//! Then point a webhook at `http://127.0.0.1:8000/webhooks`. `PORT=0` picks a free port; the
//! first line printed says which. In your own project the dependencies are `axum`, `tokio`,
//! `serde_json` and `speaknode-verify` (a path or git dependency on `crates/speaknode-verify`).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use speaknode_verify::Verifier;

struct Receiver {
    verifier: Verifier,
    /// Delivery is at least once: what was handled, to skip repeats. A real receiver keeps this
    /// in its database, next to the effects of handling the event.
    seen: Mutex<HashSet<String>>,
}

/// The receiver's routes: `POST /webhooks`.
pub fn app(secret: &str) -> Router {
    let receiver = Arc::new(Receiver {
        verifier: Verifier::new(secret),
        seen: Mutex::default(),
    });
    Router::new()
        .route("/webhooks", post(receive))
        .with_state(receiver)
}

async fn receive(
    State(receiver): State<Arc<Receiver>>,
    headers: HeaderMap,
    // The raw bytes: signatures cover the body exactly as sent, not re-serialised JSON.
    body: Bytes,
) -> (StatusCode, String) {
    // Checks every signature header present (X-SpeakNode-Signature, and the Standard Webhooks
    // trio with its 5-minute timestamp tolerance); all must match.
    let lookup = |name: &str| headers.get(name)?.to_str().ok();
    if let Err(refused) = receiver.verifier.verify(lookup, &body) {
        return (StatusCode::UNAUTHORIZED, format!("{refused}\n"));
    }
    let Ok(event) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "the body is not JSON\n".into());
    };
    let key = format!(
        "{} {}",
        lookup("webhook-id").unwrap_or_default(),
        lookup("x-speaknode-delivery").unwrap_or_default()
    );
    let first_time = receiver
        .seen
        .lock()
        .map(|mut seen| seen.insert(key))
        .unwrap_or(true);
    if first_time {
        let text = |field: &str| event[field].as_str().unwrap_or("?").to_string();
        println!("received {} {}", text("type"), text("id"));
    }
    (StatusCode::OK, "ok\n".into())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secret = std::env::var("SPEAKNODE_WEBHOOK_SECRET")
        .map_err(|_| "set SPEAKNODE_WEBHOOK_SECRET to the webhook's secret (whsec_…)")?;
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".into());
    let port = std::env::var("PORT").unwrap_or_else(|_| "8000".into());
    let listener = tokio::net::TcpListener::bind(format!("{host}:{port}")).await?;
    println!("listening on http://{}/webhooks", listener.local_addr()?);
    axum::serve(listener, app(&secret)).await?;
    Ok(())
}
