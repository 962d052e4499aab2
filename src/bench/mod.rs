//! `speaknode-webhooks bench`: the end-to-end benchmark. It runs the real service (HTTP API,
//! store, workers) on a fresh database, a signature-checking receiver and the load driver in this
//! one process, sends events through the HTTP API, waits for every delivery, and reports
//! throughput, latency from the 202 to arrival, losses, duplicates and peak memory.

mod backlog;
mod load;
mod receiver;
mod report;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, ServeArgs};
pub use report::Report;

#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// Database to run on; a fresh SQLite file in a temporary directory when not given.
    #[arg(long)]
    pub database_url: Option<String>,
    /// Webhooks to create; every event goes to all of them.
    #[arg(long, default_value_t = 1)]
    pub webhooks: usize,
    /// Events to send.
    #[arg(long, default_value_t = 20_000)]
    pub events: usize,
    /// Size of each event's JSON body, roughly.
    #[arg(long, default_value_t = 1024)]
    pub payload_bytes: usize,
    /// Concurrent senders (ignored with --rate).
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Send at this steady rate (events/s) instead of as fast as the senders can.
    #[arg(long)]
    pub rate: Option<u32>,
    /// Before the run, seed this many pending deliveries (due in 24 h, to a webhook of their
    /// own) straight into the database: scenario D, a large backlog.
    #[arg(long, default_value_t = 0)]
    pub backlog: u64,
    /// Print one JSON line instead of the table.
    #[arg(long)]
    pub json: bool,
}

const API_KEY: &str = "sk_bench_0123456789abcdefghijklmnop";

/// Runs the benchmark; the report says whether anything was lost or badly signed.
pub async fn run(args: BenchArgs) -> anyhow::Result<Report> {
    crate::delivery::sender::install_crypto_provider();
    let dir = tempfile_dir()?;
    let mut serve = ServeArgs::defaults();
    serve.database_url = args
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", dir.join("bench.db").display()));
    serve.api_key = Some(API_KEY.into());
    serve.allow_private_targets = "true".into();
    serve.listen = "127.0.0.1:0".into();
    let config = Config::from_args(&serve)?;

    let receiver = receiver::Receiver::start().await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let shutdown = CancellationToken::new();
    let service = tokio::spawn(crate::app::serve_quietly(
        config,
        listener,
        shutdown.clone(),
    ));

    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(256)
        .build()?;
    load::wait_healthy(&client, &base).await?;
    for i in 0..args.webhooks {
        let (_, secret) =
            load::create_webhook(&client, &base, API_KEY, &receiver.url(i), "SessionStarted")
                .await?;
        receiver.add_secret(i, secret);
    }
    if args.backlog > 0 {
        // Subscribed to another type than the load's, so the run's events do not go to it.
        let url = receiver.url(args.webhooks);
        let (id, _) =
            load::create_webhook(&client, &base, API_KEY, &url, "ConversationComplete").await?;
        let seeding = Instant::now();
        backlog::seed(&serve.database_url, &id, args.backlog).await?;
        if !args.json {
            eprintln!(
                "seeded {} pending deliveries in {:.1?}",
                args.backlog,
                seeding.elapsed()
            );
        }
    }
    let expected = args.events * args.webhooks;
    let progress = report::Progress::start(receiver.clone(), expected);
    let started = Instant::now();
    let accepted = load::send_events(&client, &base, API_KEY, &args).await?;
    let sent_for = started.elapsed();
    let finished = receiver.wait_for(expected, Duration::from_secs(30)).await;
    progress.stop();

    shutdown.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(10), service).await;
    let report = Report::compute(&args, &accepted, &receiver, sent_for, finished);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(report)
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "speaknode-bench-{}",
        crate::domain::ids::random_base62(10)
    ));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}

/// Shared with the receiver: when each event was accepted.
pub type Accepted = Arc<std::sync::Mutex<std::collections::HashMap<String, Instant>>>;
