//! The soak (`bench --soak DURATION --rate R`): whether the service holds steady over a long run.
//! Events go at a steady rate for DURATION while the service prunes at `--retention`; every
//! `--soak-interval` a line says what happened in it (events sent, deliveries arrived, their
//! latency) and what the service holds (its memory, the database's size, the pending deliveries).
//! Once the retention has passed, the pruner deletes as much as comes in, so the database and the
//! memory should stop growing: the summary compares the end with the first line after the
//! retention. The pruner runs every minute (`delivery::pruner`), so the database holds between
//! one retention and one retention plus a minute of events; a soak shows a plateau only when it
//! runs well past that.
//!
//! The service runs as child processes (see `processes`), so that the memory read in `/proc` is
//! the service's alone. A soak of 30 minutes at 2,000 events/s is 3.6 million events: the load
//! driver's own bookkeeping, the [`Ledger`], holds only what is still awaited or recent.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::task::JoinSet;

use super::soak_ledger::Ledger;
use super::soak_report::{IntervalLine, Phase, Resources, SoakReport};
use super::{API_KEY, BenchArgs, load, report};

/// How long, after the last event is sent, the soak waits for the deliveries still awaited;
/// those that have not arrived by then are lost.
const GRACE: Duration = Duration::from_secs(30);
/// What `--soak` and its companions ask for.
#[derive(Debug, Clone)]
pub struct Plan {
    pub duration: Duration,
    pub every: Duration,
    pub rate: u32,
    pub retention: Duration,
    /// Events to send: the rate for the whole duration.
    pub events: usize,
    pub webhooks: usize,
}

impl Plan {
    pub fn from_args(args: &BenchArgs) -> anyhow::Result<Self> {
        let duration = args.soak.context("not a soak")?;
        let rate = args.rate.context("--soak needs --rate (events/s)")?;
        if duration.is_zero() || args.soak_interval.is_zero() || rate == 0 {
            bail!("--soak, --soak-interval and --rate must be more than zero");
        }
        if args.webhooks == 0 {
            bail!("--soak needs at least one webhook");
        }
        Ok(Self {
            duration,
            every: args.soak_interval,
            rate,
            retention: args.retention,
            events: (duration.as_secs_f64() * f64::from(rate)).round() as usize,
            webhooks: args.webhooks,
        })
    }

    /// When each interval ends, from the first event: every `every`, and the end of the soak
    /// (a shorter last interval when the duration is not a multiple of it).
    fn boundaries(&self) -> impl Iterator<Item = Duration> {
        let count = self.duration.as_nanos().div_ceil(self.every.as_nanos());
        let (every, duration) = (self.every, self.duration);
        (1..=count).map(move |k| every.saturating_mul(k as u32).min(duration))
    }
}

/// Everything the soak works with, from `run_in`: the service is up and the webhooks made, their
/// receiver recording into `ledger`.
pub struct Setup<'a> {
    pub args: &'a BenchArgs,
    pub client: &'a reqwest::Client,
    pub bases: &'a [String],
    /// The service's processes.
    pub pids: Vec<u32>,
    pub database_url: &'a str,
    pub ledger: Arc<Ledger>,
}

/// Runs the soak: prints a line per interval as it ends (and one for the wait for the last
/// deliveries), and returns the summary.
pub async fn run(setup: Setup<'_>) -> anyhow::Result<SoakReport> {
    let plan = Plan::from_args(setup.args)?;
    let json = setup.args.json;
    let probe = Probe::open(setup.database_url).await?;
    announce(&plan, &probe, setup.pids.len(), json).await?;

    let started = Instant::now();
    let urls = setup
        .bases
        .iter()
        .map(|base| format!("{base}/api/v1/events"))
        .collect();
    let body = bytes::Bytes::from(load::event_body(setup.args.payload_bytes));
    let sending = tokio::spawn(send(
        setup.client.clone(),
        urls,
        body,
        plan.clone(),
        setup.ledger.clone(),
    ));

    let mut observer = Observer {
        probe,
        pids: setup.pids,
        ledger: setup.ledger.clone(),
        last: started,
    };
    let mut lines = Vec::new();
    for end in plan.boundaries() {
        tokio::time::sleep_until((started + end).into()).await;
        let line = observer.observe(Phase::Soak, end).await?;
        print_line(&line, json);
        lines.push(line);
    }
    sending.await.context("the load driver failed")?;
    let drained_for = wait_for_stragglers(&setup.ledger).await;
    let line = observer.observe(Phase::Drain, started.elapsed()).await?;
    print_line(&line, json);
    lines.push(line);
    observer.probe.close().await;

    let report = SoakReport::compute(&plan, &lines, setup.ledger.end(), drained_for);
    if let Some(why) = setup.ledger.first_refusal() {
        eprintln!(
            "BENCH FAILED: {} events were not accepted; the first: {why:#}",
            report.refused
        );
    }
    Ok(report)
}

/// Says what is about to run, and on PostgreSQL whether autovacuum is on: on stdout before the
/// table's header, or on stderr with `--json` (whose stdout holds JSON lines only).
async fn announce(plan: &Plan, probe: &Probe, processes: usize, json: bool) -> anyhow::Result<()> {
    let say = |text: &str| {
        if json {
            eprintln!("{text}");
        } else {
            println!("{text}");
        }
    };
    let database = match probe {
        Probe::Sqlite { .. } => "SQLite",
        Probe::Postgres(_) => "PostgreSQL",
    };
    say(&format!(
        "soak: {} at {} events/s to {} webhook(s), retention {}, a line every {}; \
         the service in {processes} process(es) on {database}",
        humantime::format_duration(plan.duration),
        plan.rate,
        plan.webhooks,
        humantime::format_duration(plan.retention),
        humantime::format_duration(plan.every),
    ));
    if let Some(autovacuum) = probe.autovacuum().await? {
        say(&format!("autovacuum: {autovacuum}"));
        if autovacuum != "on" {
            say(
                "for a production-like run: ALTER SYSTEM SET autovacuum = on; SELECT pg_reload_conf(); \
                 (and after it: ALTER SYSTEM RESET autovacuum; SELECT pg_reload_conf();)",
            );
        }
    }
    if !json {
        println!("{}", IntervalLine::HEADER);
    }
    Ok(())
}

fn print_line(line: &IntervalLine, json: bool) {
    if json {
        println!("{}", serde_json::to_string(line).unwrap_or_default());
    } else {
        println!("{}", line.text());
    }
}

/// Sends `plan.events` events at `plan.rate`, round-robin over `urls`, and records each in the
/// ledger. The ticker's missed ticks come in a burst (tokio's default), so after a stall the
/// rate still holds on average.
async fn send(
    client: reqwest::Client,
    urls: Vec<String>,
    body: bytes::Bytes,
    plan: Plan,
    ledger: Arc<Ledger>,
) {
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(plan.rate)));
    let mut in_flight = JoinSet::new();
    for i in 0..plan.events {
        ticker.tick().await;
        ledger.sent();
        let (client, body, ledger) = (client.clone(), body.clone(), ledger.clone());
        let url = urls[i % urls.len()].clone();
        in_flight.spawn(async move {
            match load::post_event(&client, &url, API_KEY, body).await {
                Ok((event, at)) => ledger.accepted(&event, at),
                Err(e) => ledger.refused(e),
            }
        });
        // A JoinSet keeps every finished task until it is joined: reaped as we go, or a long
        // soak would keep millions of them.
        while in_flight.try_join_next().is_some() {}
    }
    while in_flight.join_next().await.is_some() {}
}

/// Waits until no delivery is awaited any more, or [`GRACE`] has passed; how long it waited.
async fn wait_for_stragglers(ledger: &Ledger) -> Duration {
    let started = Instant::now();
    while ledger.awaited() > 0 && started.elapsed() < GRACE {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    started.elapsed()
}

/// Takes each interval's line: the ledger's counts since the last one, and what the service
/// holds at its end.
struct Observer {
    probe: Probe,
    pids: Vec<u32>,
    ledger: Arc<Ledger>,
    /// When the last line was taken (the soak's start before the first).
    last: Instant,
}

impl Observer {
    async fn observe(&mut self, phase: Phase, elapsed: Duration) -> anyhow::Result<IntervalLine> {
        let counts = self.ledger.take_interval();
        let now = Instant::now();
        let seconds = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        let held = Resources {
            rss_bytes: service_rss(&self.pids),
            database_bytes: self.probe.database_bytes().await?,
            pending: self.probe.pending().await?,
        };
        Ok(IntervalLine::new(phase, elapsed, seconds, counts, held))
    }
}

/// The service's resident memory: the sum of its processes' `VmRSS`.
fn service_rss(pids: &[u32]) -> u64 {
    pids.iter()
        .filter_map(|pid| report::memory_bytes(&pid.to_string(), "VmRSS"))
        .sum()
}

const PENDING: &str = "SELECT COUNT(*) FROM deliveries WHERE state = 'pending'";

/// The database, read directly once per interval, beside the service: its size on disk and its
/// pending deliveries.
enum Probe {
    /// A read-only connection of its own; the size is the file's and its WAL's.
    Sqlite {
        path: PathBuf,
        conn: Arc<Mutex<rusqlite::Connection>>,
    },
    Postgres(sqlx::PgPool),
}

impl Probe {
    async fn open(database_url: &str) -> anyhow::Result<Self> {
        if database_url.starts_with("sqlite:") {
            let path = crate::store::sqlite::file_path(database_url)?;
            let conn = rusqlite::Connection::open_with_flags(
                &path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
            )?;
            conn.busy_timeout(Duration::from_secs(5))?;
            let conn = Arc::new(Mutex::new(conn));
            Ok(Self::Sqlite { path, conn })
        } else {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(database_url)
                .await?;
            Ok(Self::Postgres(pool))
        }
    }

    async fn database_bytes(&self) -> anyhow::Result<u64> {
        match self {
            Self::Sqlite { path, .. } => Ok(super::reads::sqlite_bytes(path)),
            Self::Postgres(pool) => {
                let bytes: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
                    .fetch_one(pool)
                    .await?;
                Ok(bytes as u64)
            }
        }
    }

    async fn pending(&self) -> anyhow::Result<u64> {
        let count: i64 = match self {
            Self::Sqlite { conn, .. } => {
                let conn = conn.clone();
                // A count walks the table: off the async threads.
                tokio::task::spawn_blocking(move || {
                    let conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
                    conn.query_row(PENDING, [], |row| row.get(0))
                })
                .await??
            }
            Self::Postgres(pool) => sqlx::query_scalar(PENDING).fetch_one(pool).await?,
        };
        Ok(count as u64)
    }

    /// PostgreSQL's `autovacuum` setting (`on` or `off`); `None` on SQLite.
    async fn autovacuum(&self) -> anyhow::Result<Option<String>> {
        match self {
            Self::Sqlite { .. } => Ok(None),
            Self::Postgres(pool) => Ok(Some(
                sqlx::query_scalar("SHOW autovacuum")
                    .fetch_one(pool)
                    .await?,
            )),
        }
    }

    async fn close(self) {
        if let Self::Postgres(pool) = self {
            pool.close().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_end_every_so_often_and_at_the_end() {
        let plan = |duration: u64, every: u64| Plan {
            duration: Duration::from_secs(duration),
            every: Duration::from_secs(every),
            rate: 1,
            retention: Duration::from_secs(1),
            events: 1,
            webhooks: 1,
        };
        let ends = |p: Plan| p.boundaries().map(|d| d.as_secs()).collect::<Vec<_>>();
        assert_eq!(ends(plan(120, 20)), vec![20, 40, 60, 80, 100, 120]);
        assert_eq!(ends(plan(50, 20)), vec![20, 40, 50]);
        assert_eq!(ends(plan(10, 60)), vec![10]);
    }
}
