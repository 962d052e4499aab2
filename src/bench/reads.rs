//! The history scenario's reads (`--history N`): once `history` has seeded the store, the reads
//! a customer makes of it, each timed over HTTP against the running service one request at a
//! time (after a few unmeasured ones): the events log through the API and on the dashboard's
//! Events page, searches by a `data` value, an event's page, the statistics route over 30 days
//! and the pages that draw the Activity chart. Searched values change from one request to the
//! next, so that no request is served from what the one before read.

use std::time::Instant;

use anyhow::{Context, bail};
use serde::Serialize;

use super::history::Seeded;

/// Unmeasured requests before each read's measured ones.
const WARM_UP: usize = 5;

/// What the history scenario measured.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryReport {
    pub seeded: Seeded,
    /// The database's size on disk after seeding (SQLite: the file and its WAL; PostgreSQL:
    /// `pg_database_size`).
    pub database_bytes: u64,
    pub reads: Vec<ReadTimes>,
}

/// One read's response times.
#[derive(Debug, Clone, Serialize)]
pub struct ReadTimes {
    pub name: &'static str,
    /// The first measured request's path, as an example.
    pub example: String,
    pub requests: usize,
    /// Requests whose answer held at least one event (searches only).
    pub found: Option<usize>,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
}

impl HistoryReport {
    pub fn table(&self) -> String {
        let s = &self.seeded;
        let mut out = format!(
            "history             {} attempts, {} deliveries, {} events over {} days, seeded in {:.0} s\ndatabase size       {:.2} GB\n{:<46} {:>8} {:>8} {:>8}  found",
            s.attempts,
            s.deliveries,
            s.events,
            s.days,
            s.seconds,
            self.database_bytes as f64 / 1e9,
            "read (ms)",
            "p50",
            "p95",
            "max",
        );
        for read in &self.reads {
            let found = read
                .found
                .map_or(String::new(), |f| format!("{f} of {}", read.requests));
            out.push_str(&format!(
                "\n{:<46} {:>8.1} {:>8.1} {:>8.1}  {found}",
                read.name, read.p50_ms, read.p95_ms, read.max_ms
            ));
        }
        out
    }
}

/// How a read is authorised: the API with the workspace key, pages with a dashboard session.
#[derive(Clone, Copy)]
enum Caller {
    Api,
    Page,
}

/// A read: its name, how it is called, and the path of its `r`-th request.
struct Read {
    name: &'static str,
    caller: Caller,
    path: Box<dyn Fn(usize) -> String>,
    /// Whether to count the answers that hold an event.
    counts_found: bool,
}

/// Everything the reads need to know about the seeded store.
pub struct Target<'a> {
    pub base: &'a str,
    pub api_key: &'a str,
    pub webhooks: &'a [String],
    pub events: u64,
    pub now: i64,
    /// Measured requests per read.
    pub requests: usize,
}

/// Fails unless the statistics route counts every seeded attempt over the seeded days: the
/// tallies and the history agree, so the reads below measure a consistent store.
pub async fn check_totals(
    client: &reqwest::Client,
    target: &Target<'_>,
    seeded: u64,
) -> anyhow::Result<()> {
    let since = crate::domain::time::rfc3339(target.now - 91 * 86_400_000);
    let stats: serde_json::Value = client
        .get(format!(
            "{}/api/v1/stats?since={since}&bucket=day",
            target.base
        ))
        .bearer_auth(target.api_key)
        .send()
        .await?
        .json()
        .await?;
    let counted = stats["totals"]["attempts"].as_u64();
    anyhow::ensure!(
        counted == Some(seeded),
        "the statistics count {counted:?} attempts, but {seeded} were seeded: {stats}"
    );
    Ok(())
}

/// Times every read against the service at `target.base`.
pub async fn measure(
    client: &reqwest::Client,
    target: &Target<'_>,
) -> anyhow::Result<Vec<ReadTimes>> {
    let cookie = dashboard_session(client, target.base, target.api_key).await?;
    let mut times = Vec::new();
    for read in reads(target) {
        times.push(time(client, target, &cookie, &read).await?);
    }
    Ok(times)
}

fn reads(target: &Target<'_>) -> Vec<Read> {
    let events = target.events;
    let webhook = target.webhooks[0].clone();
    let page_webhook = webhook.clone();
    let day_ago = crate::domain::time::rfc3339(target.now - 86_400_000);
    let three_weeks_ago = crate::domain::time::rfc3339(target.now - 21 * 86_400_000);
    let day_before = crate::domain::time::rfc3339(target.now - 22 * 86_400_000);
    let one_webhook = target.webhooks[target.webhooks.len() - 1].clone();
    let (window_since, window_until) = (day_before.clone(), three_weeks_ago.clone());
    let month_ago = crate::domain::time::rfc3339(target.now - 30 * 86_400_000);
    let month = month_ago.clone();
    let conversation = move |r: usize| format!("conv_{}", pick(r, events));
    let api = |name, counts_found, path: Box<dyn Fn(usize) -> String>| Read {
        name,
        caller: Caller::Api,
        path,
        counts_found,
    };
    let page = |name, counts_found, path: Box<dyn Fn(usize) -> String>| Read {
        name,
        caller: Caller::Page,
        path,
        counts_found,
    };
    vec![
        api(
            "API events, newest page",
            false,
            Box::new(|_| "/api/v1/events".into()),
        ),
        api(
            "API events, failed in the last 24 h",
            true,
            Box::new(move |_| format!("/api/v1/events?state=failed&since={day_ago}")),
        ),
        api(
            "API events, one day three weeks ago",
            true,
            Box::new(move |_| format!("/api/v1/events?since={day_before}&until={three_weeks_ago}")),
        ),
        api(
            "API events, one webhook",
            true,
            Box::new(move |_| format!("/api/v1/events?webhook_id={one_webhook}")),
        ),
        api(
            "API events, pending (none are)",
            false,
            Box::new(|_| "/api/v1/events?state=pending".into()),
        ),
        api(
            "API events, data.agent_id (1 % of events)",
            true,
            Box::new(move |r| format!("/api/v1/events?data.agent_id=agent_{}", r % 100)),
        ),
        api(
            "API events, data.agent_id, that one day",
            true,
            Box::new(move |r| {
                format!(
                    "/api/v1/events?data.agent_id=agent_{}&since={window_since}&until={window_until}",
                    r % 100
                )
            }),
        ),
        api(
            "API events, data.conversation_id (1 event)",
            true,
            Box::new(move |r| format!("/api/v1/events?data.conversation_id={}", conversation(r))),
        ),
        api(
            "API stats, 30 days (day buckets)",
            false,
            Box::new(move |_| format!("/api/v1/stats?since={month_ago}")),
        ),
        api(
            "API stats, 30 days, one webhook, hour buckets",
            false,
            Box::new(move |_| {
                format!("/api/v1/stats?since={month}&bucket=hour&webhook_id={webhook}")
            }),
        ),
        page("Events page", false, Box::new(|_| "/events".into())),
        page(
            "Events page, search conversation_id = …",
            true,
            Box::new(move |r| format!("/events?q=conversation_id+%3D+conv_{}", pick(r, events))),
        ),
        page(
            "Event page",
            false,
            Box::new(move |r| format!("/events/evt_h{:010}", pick(r, events))),
        ),
        page(
            "Webhooks page, Activity 30 days",
            false,
            Box::new(|_| "/webhooks?activity=30d".into()),
        ),
        page(
            "Webhook page, Activity 30 days",
            false,
            Box::new(move |_| format!("/webhooks/{page_webhook}?activity=30d")),
        ),
    ]
}

/// A number in `[0, n)` for request `r`, spread over the whole range and the same every run.
fn pick(r: usize, n: u64) -> u64 {
    ((r as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 16) % n.max(1)
}

async fn time(
    client: &reqwest::Client,
    target: &Target<'_>,
    cookie: &str,
    read: &Read,
) -> anyhow::Result<ReadTimes> {
    let mut millis = Vec::with_capacity(target.requests);
    let mut found = 0;
    for r in 0..WARM_UP + target.requests {
        let path = (read.path)(r);
        let request = client.get(format!("{}{path}", target.base));
        let request = match read.caller {
            Caller::Api => request.bearer_auth(target.api_key),
            Caller::Page => request.header(reqwest::header::COOKIE, cookie),
        };
        let started = Instant::now();
        let response = request.send().await?;
        let status = response.status();
        let body = response.text().await?;
        let took = started.elapsed().as_secs_f64() * 1000.0;
        if !status.is_success() {
            bail!("{} ({path}) answered {status}: {body}", read.name);
        }
        if r < WARM_UP {
            continue;
        }
        millis.push(took);
        if read.counts_found && holds_an_event(read.caller, &body) {
            found += 1;
        }
    }
    millis.sort_by(f64::total_cmp);
    let rank =
        |q: f64| millis[((millis.len() as f64 * q).ceil() as usize).clamp(1, millis.len()) - 1];
    Ok(ReadTimes {
        name: read.name,
        example: (read.path)(WARM_UP),
        requests: target.requests,
        found: read.counts_found.then_some(found),
        p50_ms: rank(0.50),
        p95_ms: rank(0.95),
        max_ms: millis.last().copied().unwrap_or(0.0),
    })
}

fn holds_an_event(caller: Caller, body: &str) -> bool {
    match caller {
        Caller::Api => serde_json::from_str::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v["data"].as_array().map(|a| !a.is_empty()))
            .unwrap_or(false),
        Caller::Page => body.contains("href=\"/events/evt_"),
    }
}

/// Opens a dashboard session the way a platform does: a portal link, redeemed once.
async fn dashboard_session(
    client: &reqwest::Client,
    base: &str,
    api_key: &str,
) -> anyhow::Result<String> {
    let link: serde_json::Value = client
        .post(format!("{base}/api/v1/portal/sessions"))
        .bearer_auth(api_key)
        .send()
        .await?
        .json()
        .await?;
    let url = link["url"].as_str().context("no url in the portal link")?;
    let path = &url[url.find("/portal/").context("not a portal url")?..];
    let no_redirects = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let response = no_redirects.get(format!("{base}{path}")).send().await?;
    let cookie = response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("speaknode_session="))
        .context("the portal link gave no session cookie")?;
    Ok(cookie.split(';').next().unwrap_or_default().to_string())
}

/// The database's size on disk.
pub async fn database_bytes(database_url: &str) -> anyhow::Result<u64> {
    if database_url.starts_with("sqlite:") {
        let path = crate::store::sqlite::file_path(database_url)?;
        Ok(sqlite_bytes(&path))
    } else {
        let pool = sqlx::PgPool::connect(database_url).await?;
        let bytes: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
            .fetch_one(&pool)
            .await?;
        pool.close().await;
        Ok(bytes as u64)
    }
}

/// A SQLite database's size on disk: its file and its write-ahead log.
pub fn sqlite_bytes(path: &std::path::Path) -> u64 {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let size = |p: &std::path::Path| std::fs::metadata(p).map_or(0, |m| m.len());
    size(path) + size(std::path::Path::new(&wal))
}
