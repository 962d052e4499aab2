//! `speaknode-webhooks bench`: the end-to-end benchmark. It runs the real service (HTTP API,
//! store, workers) on a fresh database, a signature-checking receiver and the load driver in this
//! one process, sends events through the HTTP API, waits for every delivery, and reports
//! throughput, latency from the 202 to arrival, losses, duplicates and peak memory.
//!
//! With `--processes N` (PostgreSQL only) the service runs instead as N child processes of this
//! binary sharing the database; the webhooks are created through the first, the events are sent
//! round-robin to all of them, all of them deliver, and the report adds each process's attempts
//! and the receiver's count of concurrent double attempts.
//!
//! With `--slow-webhooks N` it runs the slow-neighbour scenario instead (see `slow`): whether a
//! prompt webhook still gets its deliveries at once while N others answer slowly.
//!
//! With `--soak DURATION` it runs the soak instead (see `soak`): events at a steady `--rate` for
//! that long, the service (always in child processes) pruning at `--retention`, and a line per
//! `--soak-interval` of latency, the service's memory, the database's size and its pending
//! deliveries.

mod backlog;
mod history;
mod load;
mod processes;
mod reads;
mod receiver;
mod report;
mod slow;
mod slow_receiver;
mod soak;
mod soak_ledger;
mod soak_report;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, ServeArgs};
pub use report::Report;
use slow_receiver::SlowDelay;

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
    /// Send at this steady rate (events/s) instead of as fast as the senders can; a soak
    /// (--soak) needs it.
    #[arg(long)]
    pub rate: Option<u32>,
    /// Before the run, seed this many pending deliveries (due in 24 h, to a webhook of their
    /// own) straight into the database: scenario D, a large backlog.
    #[arg(long, default_value_t = 0)]
    pub backlog: u64,
    /// Run the service as this many child processes (`serve`) sharing the database, instead of
    /// in this process; the events are sent round-robin to them. Needs a PostgreSQL
    /// --database-url.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub processes: Option<u32>,
    /// Every receiver endpoint (except the slow ones) answers after this delay, e.g. `2s`; the
    /// request body is read only after it, so that the memory held is the service's.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub receiver_delay: Option<Duration>,
    /// Slow-neighbour scenario: this many slow webhooks in the default workspace, and one prompt
    /// webhook in a second workspace whose deliveries are measured; --webhooks, --events and
    /// --rate are then not used. 0: the scenario is off.
    #[arg(long, default_value_t = 0)]
    pub slow_webhooks: usize,
    /// How long the slow endpoints take to answer (`3s`, `500ms`), or `hang`: they never answer
    /// and the service's delivery timeout ends each attempt.
    #[arg(long, default_value = "3s")]
    pub slow_delay: SlowDelay,
    /// Events sent to the slow webhooks (each goes to all of them), as fast as --concurrency
    /// senders can, before the prompt webhook's.
    #[arg(long, default_value_t = 300)]
    pub slow_events: usize,
    /// Events sent to the prompt webhook once the slow ones are all accepted.
    #[arg(long, default_value_t = 50)]
    pub prompt_events: usize,
    /// Rate of the prompt webhook's events, events/s.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub prompt_rate: u32,
    /// History scenario: seed this many attempts (with their events, deliveries and
    /// statistics) over the last --history-days straight into the database, then time the reads
    /// a customer makes of them (events log, searches by data, statistics, dashboard pages)
    /// instead of sending events. 0: the scenario is off. Use --webhooks 10.
    #[arg(long, default_value_t = 0)]
    pub history: u64,
    /// The days the seeded history spans (--history).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=90))]
    pub history_days: u32,
    /// Measured requests per read in the history scenario (after 5 unmeasured ones).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..), hide = true)]
    pub history_requests: u32,
    /// Soak: send events at --rate for this long (`30m`, `2m`) instead of --events, with the
    /// service in child processes (one, or --processes on PostgreSQL) pruning at --retention, and
    /// print a line per --soak-interval (latency, the service's memory, the database's size, its
    /// pending deliveries), then a summary of the growth after the retention.
    #[arg(long, value_parser = humantime::parse_duration, requires = "rate",
          conflicts_with_all = ["slow_webhooks", "history"])]
    pub soak: Option<Duration>,
    /// The service's retention (`SPEAKNODE_RETENTION`) during a soak: older events are pruned,
    /// so the database should stop growing once this has passed.
    #[arg(long, default_value = "5m", value_parser = humantime::parse_duration)]
    pub retention: Duration,
    /// How often a soak prints a line.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    pub soak_interval: Duration,
    /// Print JSON instead of the table: one line for the report (and, in a soak, one line per
    /// interval before it).
    #[arg(long)]
    pub json: bool,
}

const API_KEY: &str = "sk_bench_0123456789abcdefghijklmnop";
/// Set only for the slow-neighbour scenario, which creates its second workspace with it.
const ADMIN_TOKEN: &str = "adm_bench_0123456789abcdefghijklmn";

/// Runs the benchmark; the report says whether anything was lost or badly signed.
pub async fn run(args: BenchArgs) -> anyhow::Result<Report> {
    crate::delivery::sender::install_crypto_provider();
    if args.processes.is_some() {
        let url = args.database_url.as_deref().unwrap_or("");
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            anyhow::bail!(
                "--processes needs --database-url postgres://…: several processes cannot share \
                 a SQLite database (it serves one process at a time)"
            );
        }
    }
    let dir = tempfile_dir()?;
    let report = run_in(&args, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    report
}

async fn run_in(args: &BenchArgs, dir: &std::path::Path) -> anyhow::Result<Report> {
    let mut serve = ServeArgs::defaults();
    serve.database_url = args
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", dir.join("bench.db").display()));
    serve.api_key = Some(API_KEY.into());
    serve.allow_private_targets = "true".into();
    serve.listen = "127.0.0.1:0".into();
    let slow = args.slow_webhooks > 0;
    if slow {
        serve.admin_token = Some(ADMIN_TOKEN.into());
    }
    if args.history > 0 {
        // Keep all of the seeded history while it is read.
        serve.retention = format!("{}d", args.history_days + 1);
    }
    if args.soak.is_some() {
        serve.retention = humantime::format_duration(args.retention).to_string();
    }

    // A soak's receiver records into its own bounded ledger, not the map of every arrival.
    let ledger = args
        .soak
        .map(|_| Arc::new(soak_ledger::Ledger::new(args.webhooks)));
    let receiver =
        receiver::Receiver::start(args.receiver_delay, args.slow_delay, ledger.clone()).await?;
    // A soak reports the service's memory: the service runs apart from the load driver.
    let children = args.processes.or(args.soak.map(|_| 1));
    let service = match children {
        None => Service::in_process(Config::from_args(&serve)?).await?,
        Some(n) => Service::Processes(processes::Services::start(n as usize, &serve).await?),
    };
    let bases = service.bases();

    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(256)
        .build()?;
    for base in &bases {
        load::wait_healthy(&client, base).await?;
    }
    let first = &bases[0];
    // The slow scenario makes its own webhooks: these would get its slow events too.
    let mut webhook_ids = Vec::new();
    for i in (0..args.webhooks).filter(|_| !slow) {
        let (id, secret) =
            load::create_webhook(&client, first, API_KEY, &receiver.url(i), "SessionStarted")
                .await?;
        receiver.add_secret(i, secret);
        webhook_ids.push(id);
    }
    if args.backlog > 0 {
        // Subscribed to another type than the load's, so the run's events do not go to it.
        let url = receiver.url(args.webhooks);
        let (id, _) =
            load::create_webhook(&client, first, API_KEY, &url, "ConversationComplete").await?;
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
    let mut history = None;
    let mut soaked = None;
    let measured = if slow {
        slow::run(args, &client, &bases, &receiver, API_KEY, ADMIN_TOKEN).await?
    } else if args.history > 0 {
        let (measured, report) =
            read_history(args, &serve.database_url, &client, first, webhook_ids).await?;
        history = Some(report);
        measured
    } else if let Some(ledger) = ledger {
        let setup = soak::Setup {
            args,
            client: &client,
            bases: &bases,
            pids: service.pids(),
            database_url: &serve.database_url,
            ledger,
        };
        soaked = Some(soak::run(setup).await?);
        Measured::nothing_sent(args)
    } else {
        deliver(args, &client, &bases, &receiver).await?
    };
    let per_process_attempts = attempts_per_process(&client, &bases, &receiver).await?;

    service.stop().await;
    let arrivals = measured.arrivals.unwrap_or_else(|| receiver.arrivals());
    let mut report = Report::compute(
        &measured.args,
        &measured.accepted,
        &arrivals,
        &receiver,
        measured.sent_for,
        measured.finished,
    );
    report.slow = measured.slow;
    report.history = history;
    if let Some(soak) = soaked {
        report.set_soak(soak);
    }
    report.processes = children;
    report.per_process_attempts = per_process_attempts;
    if report.concurrent_double_attempts > 0 {
        eprintln!(
            "BENCH FAILED: the receiver saw {} requests for a delivery while another request of \
             the same delivery was still being handled",
            report.concurrent_double_attempts
        );
    }
    Ok(report)
}

/// What a scenario measured, for [`Report::compute`].
struct Measured {
    /// The arguments the report describes: in the slow scenario, the prompt webhook's load.
    args: BenchArgs,
    accepted: Accepted,
    sent_for: Duration,
    /// When the last delivery arrived.
    finished: Option<Instant>,
    /// The deliveries the report counts; `None`: all that arrived by the end of the run.
    arrivals: Option<receiver::Arrivals>,
    slow: Option<slow::SlowReport>,
}

impl Measured {
    /// For the scenarios that keep their own figures (history, soak): no event of the
    /// report's counts.
    fn nothing_sent(args: &BenchArgs) -> Self {
        Self {
            args: BenchArgs {
                events: 0,
                ..args.clone()
            },
            accepted: Accepted::default(),
            sent_for: Duration::ZERO,
            finished: None,
            arrivals: None,
            slow: None,
        }
    }
}

/// Scenarios A to D: sends the events to the webhooks made above and waits for every delivery.
async fn deliver(
    args: &BenchArgs,
    client: &reqwest::Client,
    bases: &[String],
    receiver: &receiver::Receiver,
) -> anyhow::Result<Measured> {
    let expected = args.events * args.webhooks;
    let progress = report::Progress::start(receiver.clone(), expected);
    let started = Instant::now();
    let accepted = load::send_events(client, bases, API_KEY, args).await;
    let sent_for = started.elapsed();
    let finished = match &accepted {
        Ok(_) => receiver.wait_for(expected, Duration::from_secs(30)).await,
        Err(_) => None,
    };
    progress.stop();
    Ok(Measured {
        args: args.clone(),
        accepted: accepted?,
        sent_for,
        finished,
        arrivals: None,
        slow: None,
    })
}

/// The history scenario: seeds the history, then times the reads of it. Sends no events.
async fn read_history(
    args: &BenchArgs,
    database_url: &str,
    client: &reqwest::Client,
    base: &str,
    webhooks: Vec<String>,
) -> anyhow::Result<(Measured, reads::HistoryReport)> {
    use crate::domain::clock::{Clock, SystemClock};
    anyhow::ensure!(args.webhooks > 0, "--history needs at least one webhook");
    let now = SystemClock.now();
    let shape = history::Shape::new(webhooks.clone(), args.history, args.history_days, now);
    let events = shape.events;
    let seeding = Instant::now();
    let (deliveries, attempts) = history::seed(database_url, shape, args.json).await?;
    let seeded = history::Seeded {
        events,
        deliveries,
        attempts,
        days: args.history_days,
        seconds: seeding.elapsed().as_secs_f64(),
    };
    let database_bytes = reads::database_bytes(database_url).await?;
    let target = reads::Target {
        base,
        api_key: API_KEY,
        webhooks: &webhooks,
        events,
        now,
        requests: args.history_requests as usize,
    };
    reads::check_totals(client, &target, attempts).await?;
    let reads = reads::measure(client, &target).await?;
    let measured = Measured::nothing_sent(args);
    let report = reads::HistoryReport {
        seeded,
        database_bytes,
        reads,
    };
    Ok((measured, report))
}

/// Each service's attempts from its `/metrics`. An attempt is counted once its answer has been
/// read, a little after the receiver saw it: this waits (up to 5 s) until the counts add up to
/// the requests the receiver got.
async fn attempts_per_process(
    client: &reqwest::Client,
    bases: &[String],
    receiver: &receiver::Receiver,
) -> anyhow::Result<Vec<u64>> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut counts = Vec::with_capacity(bases.len());
        for base in bases {
            counts.push(processes::attempts(client, base).await?);
        }
        let requests = receiver
            .inner
            .requests
            .load(std::sync::atomic::Ordering::Relaxed);
        if counts.iter().sum::<u64>() >= requests || Instant::now() >= deadline {
            return Ok(counts);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The service under test: in this process, or child processes killed when dropped.
enum Service {
    InProcess {
        base: String,
        shutdown: CancellationToken,
        handle: tokio::task::JoinHandle<anyhow::Result<()>>,
    },
    Processes(processes::Services),
}

impl Service {
    async fn in_process(config: Config) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let shutdown = CancellationToken::new();
        let handle = tokio::spawn(crate::app::serve_quietly(
            config,
            listener,
            shutdown.clone(),
        ));
        Ok(Self::InProcess {
            base,
            shutdown,
            handle,
        })
    }

    fn bases(&self) -> Vec<String> {
        match self {
            Self::InProcess { base, .. } => vec![base.clone()],
            Self::Processes(services) => services.bases(),
        }
    }

    /// The service's own processes; none when it runs in the bench's process.
    fn pids(&self) -> Vec<u32> {
        match self {
            Self::InProcess { .. } => Vec::new(),
            Self::Processes(services) => services.pids(),
        }
    }

    async fn stop(self) {
        match self {
            Self::InProcess {
                shutdown, handle, ..
            } => {
                shutdown.cancel();
                let _ = tokio::time::timeout(Duration::from_secs(10), handle).await;
            }
            Self::Processes(services) => drop(services),
        }
    }
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
