//! The slow-neighbour scenario (`bench --slow-webhooks N`). The contract says one webhook never
//! waits for another: however many webhooks answer slowly, a prompt one keeps getting its
//! deliveries within a second of the 202, and the slow ones still progress. This scenario
//! measures both sides of that promise.
//!
//! N slow webhooks in the default workspace each get `--slow-events` events, sent as fast as the
//! senders can, and answer after `--slow-delay` (or never). Once those are all accepted, a prompt
//! webhook in a second workspace gets `--prompt-events` events at `--prompt-rate`. The report
//! gives the prompt webhook's latency and losses, and how many attempts the slow endpoints got
//! and answered meanwhile.

use std::io::Write;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::task::JoinHandle;

use super::receiver::Receiver;
use super::report::{Latency, latency};
use super::slow_receiver::SlowDelay;
use super::{Accepted, BenchArgs, Measured, load};

/// Both kinds of webhook subscribe to it; the workspaces keep their events apart.
const EVENT_TYPE: &str = "SessionStarted";
/// The prompt webhook's deliveries still missing once nothing (prompt or slow) has reached the
/// receiver for this long are lost. Slow requests count as activity: behind a slow backlog the
/// prompt deliveries may well come later than this, and a latency says more than a loss.
const PROMPT_IDLE: Duration = Duration::from_secs(30);
/// ... or once this long has passed since the last prompt 202, activity or not (with `hang` the
/// slow endpoints never fall silent).
const PROMPT_CAP: Duration = Duration::from_secs(120);
/// How long, after the prompt webhook's deliveries, to wait for every slow one to be answered.
const SLOW_CAP: Duration = Duration::from_secs(120);

#[derive(Debug, Serialize)]
pub struct SlowReport {
    pub slow_webhooks: usize,
    /// `--slow-delay`: a duration such as `3s`, or `hang`.
    pub slow_delay: String,
    pub slow_events: usize,
    /// Deliveries owed to the slow webhooks: slow webhooks × slow events.
    pub slow_deliveries: usize,
    pub slow_events_per_s: f64,
    pub prompt_events: usize,
    pub prompt_rate: u32,
    pub prompt_arrived: usize,
    /// Prompt deliveries that had not arrived when the bench stopped waiting for them (nothing
    /// reached the receiver for 30 s, or 120 s after the last prompt 202).
    pub prompt_lost: usize,
    /// From each prompt event's 202 to its delivery's arrival.
    pub prompt_latency_ms: Latency,
    /// From the first slow event's 202 to the last prompt delivery's arrival (to giving up on
    /// them when none arrived): the window in which the slow webhooks' progress is counted.
    pub window_s: f64,
    /// Requests that reached the slow endpoints in the window, retries included.
    pub slow_attempts_in_window: usize,
    pub slow_attempts_per_s: f64,
    /// Slow deliveries answered in the window.
    pub slow_answered_in_window: usize,
    /// Slow deliveries answered by the end of the run.
    pub slow_answered_total: usize,
    /// From the first slow event's 202 until every slow delivery had been answered; null with
    /// `hang`, or when that did not happen within two minutes of the prompt webhook's end.
    pub slow_all_answered_after_s: Option<f64>,
}

impl SlowReport {
    pub fn table(&self) -> String {
        let all_answered = match (self.slow_all_answered_after_s, self.slow_delay.as_str()) {
            (Some(secs), _) => format!("after {secs:.1} s"),
            (None, "hang") => "never (hang)".into(),
            (None, _) => format!("not within {} s", SLOW_CAP.as_secs()),
        };
        let p = &self.prompt_latency_ms;
        format!(
            "slow webhooks       {}, answering: {}\nslow events         {} ({} deliveries), {:.0} accepted/s\nprompt webhook      {} events at {}/s: {} arrived, {} lost\nprompt p50/p95/p99  {:.2} / {:.2} / {:.2} ms (max {:.2})\nwindow              {:.1} s (first slow 202 to last prompt arrival)\nslow in window      {} attempts ({:.1}/s), {} answered\nslow answered       {} of {}, all {all_answered}",
            self.slow_webhooks,
            self.slow_delay,
            self.slow_events,
            self.slow_deliveries,
            self.slow_events_per_s,
            self.prompt_events,
            self.prompt_rate,
            self.prompt_arrived,
            self.prompt_lost,
            p.p50,
            p.p95,
            p.p99,
            p.max,
            self.window_s,
            self.slow_attempts_in_window,
            self.slow_attempts_per_s,
            self.slow_answered_in_window,
            self.slow_answered_total,
            self.slow_deliveries,
        )
    }
}

/// Creates the webhooks and the second workspace, sends both loads and waits for the figures.
/// The events go round-robin to `bases`; the prompt workspace's key is used against all of them.
pub(super) async fn run(
    args: &BenchArgs,
    client: &reqwest::Client,
    bases: &[String],
    receiver: &Receiver,
    api_key: &str,
    admin_token: &str,
) -> anyhow::Result<Measured> {
    let first = bases
        .first()
        .ok_or_else(|| anyhow::anyhow!("no service to send the events to"))?;
    for i in 0..args.slow_webhooks {
        load::create_webhook(client, first, api_key, &receiver.slow_url(i), EVENT_TYPE).await?;
    }
    let prompt_key = load::create_workspace(client, first, admin_token, "bench prompt").await?;
    let (_, secret) =
        load::create_webhook(client, first, &prompt_key, &receiver.url(0), EVENT_TYPE).await?;
    receiver.add_secret(0, secret);

    let slow_deliveries = args.slow_webhooks * args.slow_events;
    let progress = Progress::start(receiver.clone(), slow_deliveries, args.prompt_events);
    let measured = measure(args, client, bases, receiver, api_key, &prompt_key).await;
    progress.stop();
    measured
}

async fn measure(
    args: &BenchArgs,
    client: &reqwest::Client,
    bases: &[String],
    receiver: &Receiver,
    api_key: &str,
    prompt_key: &str,
) -> anyhow::Result<Measured> {
    let slow_args = BenchArgs {
        events: args.slow_events,
        rate: None,
        ..args.clone()
    };
    let started = Instant::now();
    let slow_accepted = load::send_events(client, bases, api_key, &slow_args).await?;
    let slow_sent_for = started.elapsed();
    let first_slow = first_accept(&slow_accepted).unwrap_or(started);

    // What the report's main figures describe: the prompt webhook alone.
    let prompt_args = BenchArgs {
        webhooks: 1,
        events: args.prompt_events,
        rate: Some(args.prompt_rate),
        ..args.clone()
    };
    let prompt_started = Instant::now();
    let prompt_accepted = load::send_events(client, bases, prompt_key, &prompt_args).await?;
    let prompt_sent_for = prompt_started.elapsed();
    let finished = wait_for_prompt(receiver, args.prompt_events).await;
    let window_end = finished.unwrap_or_else(Instant::now);
    // Taken now, so that a prompt delivery arriving later (while the slow ones are awaited) is
    // lost in every figure of the report alike.
    let arrivals = receiver.arrivals();

    let slow_deliveries = args.slow_webhooks * args.slow_events;
    let all_answered = match args.slow_delay {
        SlowDelay::Hang => None,
        SlowDelay::After(_) => all_answered(receiver, slow_deliveries).await,
    };

    let slow = &receiver.inner.slow;
    let window = window_end
        .saturating_duration_since(first_slow)
        .as_secs_f64();
    let attempts = slow.attempts_between(first_slow, window_end);
    let prompt_latency = prompt_accepted
        .lock()
        .map(|accepted| latency(&accepted, &arrivals))
        .map_err(|_| anyhow::anyhow!("a sender panicked"))?;
    let report = SlowReport {
        slow_webhooks: args.slow_webhooks,
        slow_delay: args.slow_delay.to_string(),
        slow_events: args.slow_events,
        slow_deliveries,
        slow_events_per_s: per_s(accepted_count(&slow_accepted), slow_sent_for.as_secs_f64()),
        prompt_events: args.prompt_events,
        prompt_rate: args.prompt_rate,
        prompt_arrived: arrivals.len(),
        prompt_lost: args.prompt_events.saturating_sub(arrivals.len()),
        prompt_latency_ms: prompt_latency,
        window_s: window,
        slow_attempts_in_window: attempts,
        slow_attempts_per_s: per_s(attempts, window),
        slow_answered_in_window: slow.answered_between(first_slow, window_end),
        slow_answered_total: slow.answered(),
        slow_all_answered_after_s: all_answered
            .map(|last| last.saturating_duration_since(first_slow).as_secs_f64()),
    };
    Ok(Measured {
        args: prompt_args,
        accepted: prompt_accepted,
        sent_for: prompt_sent_for,
        finished,
        arrivals: Some(arrivals),
        slow: Some(report),
    })
}

/// Waits until `expected` prompt deliveries arrived, nothing reached the receiver for
/// [`PROMPT_IDLE`], or [`PROMPT_CAP`] passed; when the last prompt delivery arrived.
async fn wait_for_prompt(receiver: &Receiver, expected: usize) -> Option<Instant> {
    let cap = Instant::now() + PROMPT_CAP;
    let mut seen = (0, 0);
    let mut last_change = Instant::now();
    loop {
        let now = (receiver.unique(), receiver.inner.slow.attempts());
        if now.0 >= expected || Instant::now() >= cap {
            break;
        }
        if now != seen {
            (seen, last_change) = (now, Instant::now());
        } else if last_change.elapsed() > PROMPT_IDLE {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    receiver.last_arrival()
}

/// Waits up to [`SLOW_CAP`] for `expected` slow deliveries to be answered; when the last was.
async fn all_answered(receiver: &Receiver, expected: usize) -> Option<Instant> {
    let slow = &receiver.inner.slow;
    let deadline = Instant::now() + SLOW_CAP;
    loop {
        if slow.answered() >= expected {
            return slow.last_answer();
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn first_accept(accepted: &Accepted) -> Option<Instant> {
    accepted.lock().ok()?.values().min().copied()
}

fn accepted_count(accepted: &Accepted) -> usize {
    accepted.lock().map(|a| a.len()).unwrap_or(0)
}

fn per_s(n: usize, secs: f64) -> f64 {
    if secs > 0.0 { n as f64 / secs } else { 0.0 }
}

/// The scenario's progress line on stderr, redrawn five times a second.
struct Progress(JoinHandle<()>);

impl Progress {
    fn start(receiver: Receiver, slow_deliveries: usize, prompt: usize) -> Self {
        Self(tokio::spawn(async move {
            loop {
                let slow = &receiver.inner.slow;
                eprint!(
                    "\rslow: {} attempts, {}/{slow_deliveries} answered; prompt: {}/{prompt} delivered ",
                    slow.attempts(),
                    slow.answered(),
                    receiver.unique(),
                );
                let _ = std::io::stderr().flush();
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }))
    }

    fn stop(self) {
        self.0.abort();
        eprintln!();
    }
}
