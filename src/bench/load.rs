//! The benchmark's load driver: creates the webhooks and sends the events through the HTTP API,
//! either with a number of concurrent senders or at a steady rate, and creates the slow
//! scenario's second workspace.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::StreamExt;
use serde_json::{Value, json};

use super::{Accepted, BenchArgs};

pub async fn wait_healthy(client: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    for _ in 0..500 {
        if client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    bail!("the service did not come up")
}

/// Creates a webhook for `SessionStarted` and returns its secret.
pub async fn create_webhook(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    url: &str,
    event_type: &str,
) -> anyhow::Result<(String, String)> {
    let body = json!({"url": url, "event_types": [event_type], "description": "bench"});
    let resp = client
        .post(format!("{base}/api/v1/webhooks"))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await?;
    let created: Value = resp.json().await?;
    let field = |name: &str| {
        created[name]
            .as_str()
            .map(str::to_string)
            .with_context(|| format!("no {name} in the created webhook: {created}"))
    };
    Ok((field("id")?, field("secret")?))
}

/// Creates a workspace through the admin API and returns its API key.
pub async fn create_workspace(
    client: &reqwest::Client,
    base: &str,
    admin_token: &str,
    name: &str,
) -> anyhow::Result<String> {
    let resp = client
        .post(format!("{base}/api/v1/workspaces"))
        .bearer_auth(admin_token)
        .json(&json!({"name": name}))
        .send()
        .await?;
    let created: Value = resp.json().await?;
    created["api_key"]
        .as_str()
        .map(str::to_string)
        .with_context(|| format!("no api_key in the created workspace: {created}"))
}

/// A `SessionStarted` body of about `bytes` bytes, padded in `metadata`.
pub fn event_body(bytes: usize) -> Vec<u8> {
    let base = json!({"type": "SessionStarted", "data": {"session_id": "sess_bench", "agent_id": "agent_bench",
        "started_at": "2026-11-26T16:58:01Z", "metadata": {"padding": ""}}});
    let pad = bytes.saturating_sub(base.to_string().len());
    let mut body = base;
    body["data"]["metadata"]["padding"] = Value::from("x".repeat(pad));
    body.to_string().into_bytes()
}

/// Sends every event, round-robin over the services at `bases` (event `i` to
/// `bases[i % bases.len()]`), and records when each was accepted.
pub async fn send_events(
    client: &reqwest::Client,
    bases: &[String],
    key: &str,
    args: &BenchArgs,
) -> anyhow::Result<Accepted> {
    if bases.is_empty() {
        bail!("no service to send the events to");
    }
    let accepted: Accepted = Arc::new(Mutex::new(HashMap::with_capacity(args.events)));
    let body = bytes::Bytes::from(event_body(args.payload_bytes));
    let urls: Vec<String> = bases
        .iter()
        .map(|base| format!("{base}/api/v1/events"))
        .collect();
    let send = |i: usize| {
        let url = urls[i % urls.len()].clone();
        let (client, body, accepted) = (client.clone(), body.clone(), accepted.clone());
        let key = key.to_string();
        async move {
            let (id, at) = post_event(&client, &url, &key, body).await?;
            if let Ok(mut accepted) = accepted.lock() {
                accepted.insert(id, at);
            }
            anyhow::Ok(())
        }
    };
    match args.rate {
        Some(rate) => {
            let mut ticker =
                tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate.max(1))));
            let mut in_flight = tokio::task::JoinSet::new();
            for i in 0..args.events {
                ticker.tick().await;
                in_flight.spawn(send(i));
            }
            while let Some(done) = in_flight.join_next().await {
                done??;
            }
        }
        None => {
            let results: Vec<anyhow::Result<()>> = futures::stream::iter(0..args.events)
                .map(send)
                .buffer_unordered(args.concurrency.max(1))
                .collect()
                .await;
            results.into_iter().collect::<anyhow::Result<()>>()?;
        }
    }
    Ok(accepted)
}

/// Posts one event to `url` (`…/api/v1/events`); its id and when its 202 came. Any other answer
/// is an error.
pub async fn post_event(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    body: bytes::Bytes,
) -> anyhow::Result<(String, Instant)> {
    let resp = client
        .post(url)
        .bearer_auth(key)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await?;
    let at = Instant::now();
    if resp.status() != 202 {
        bail!("an event was refused: {}", resp.status());
    }
    let event: Value = resp.json().await?;
    let id = event["id"].as_str().context("no event id")?.to_string();
    Ok((id, at))
}
