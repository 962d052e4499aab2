//! The `bench` command works end to end and loses nothing (a small run; figures are for
//! BENCHMARKS.md, never asserted here).

#![allow(clippy::unwrap_used)]

use crate::common;

use std::process::Command;

use serde_json::Value;

/// Runs `speaknode-webhooks <args>` and parses its last stdout line, the JSON report; a failed
/// run fails the test with both outputs.
fn run_bench(args: &[&str]) -> Value {
    run_bench_lines(args).0.pop().unwrap()
}

/// Runs `speaknode-webhooks <args>`: every stdout line parsed as JSON, and stderr. A failed run
/// fails the test with both outputs.
fn run_bench_lines(args: &[&str]) -> (Vec<Value>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_speaknode-webhooks"))
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "bench failed: {stdout}\n{stderr}");
    let lines = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    (lines, stderr)
}

#[test]
fn a_small_bench_delivers_everything_and_reports_its_figures_as_json() {
    let report = run_bench(&[
        "bench",
        "--events",
        "300",
        "--webhooks",
        "2",
        "--concurrency",
        "8",
        "--json",
    ]);
    for key in [
        "events_per_s",
        "deliveries_per_s",
        "lost",
        "duplicates",
        "bad_signatures",
        "peak_rss_bytes",
    ] {
        assert!(report[key].is_number(), "{key} missing from {report}");
    }
    for key in ["p50", "p95", "p99", "max"] {
        assert!(
            report["latency_ms"][key].is_number(),
            "latency_ms.{key} missing"
        );
    }
    assert_eq!(report["deliveries"], 600);
    assert!(
        report["slow"].is_null(),
        "no slow section when the scenario is off"
    );
    assert_eq!(report["lost"], 0);
    assert_eq!(report["bad_signatures"], 0);
    assert!(
        report["signatures_checked"].as_u64().unwrap() > 0,
        "signatures were sampled"
    );
}

fn bench_with_backlog(database: Option<&str>) -> Value {
    let mut args = vec!["bench", "--events", "200", "--backlog", "5000", "--json"];
    if let Some(url) = database {
        args.extend(["--database-url", url]);
    }
    run_bench(&args)
}

#[test]
fn a_seeded_backlog_is_reported_and_not_delivered_during_the_run() {
    let report = bench_with_backlog(None);
    assert_eq!(report["backlog"], 5000);
    assert_eq!(
        report["deliveries"], 200,
        "only the run's deliveries arrive"
    );
    assert_eq!(report["lost"], 0);
}

#[tokio::test]
async fn the_backlog_can_be_seeded_on_postgresql() {
    let Some(db) = common::pg::PgDb::create().await else {
        return;
    };
    let url = db.url.clone();
    let report = tokio::task::spawn_blocking(move || bench_with_backlog(Some(&url)))
        .await
        .unwrap();
    assert_eq!(report["backlog"], 5000);
    assert_eq!(report["deliveries"], 200);
    assert_eq!(report["lost"], 0);
    db.drop_database().await;
}

#[tokio::test]
async fn two_processes_share_the_deliveries_on_postgresql_without_double_work() {
    let Some(db) = common::pg::PgDb::create().await else {
        return;
    };
    let url = db.url.clone();
    let report = tokio::task::spawn_blocking(move || {
        run_bench(&[
            "bench",
            "--processes",
            "2",
            "--events",
            "300",
            "--json",
            "--database-url",
            &url,
        ])
    })
    .await
    .unwrap();
    assert_eq!(report["processes"], 2, "{report}");
    assert_eq!(report["deliveries"], 300, "{report}");
    assert_eq!(report["lost"], 0, "{report}");
    // A duplicate would be legitimate only if a process died; none does here.
    assert_eq!(report["duplicates"], 0, "{report}");
    assert_eq!(report["bad_signatures"], 0, "{report}");
    assert_eq!(report["concurrent_double_attempts"], 0, "{report}");
    let per_process: Vec<u64> = report["per_process_attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap())
        .collect();
    assert_eq!(per_process.len(), 2, "{report}");
    assert_eq!(per_process.iter().sum::<u64>(), 300, "{report}");
    db.drop_database().await;
}

#[test]
fn processes_are_refused_on_sqlite() {
    let output = Command::new(env!("CARGO_BIN_EXE_speaknode-webhooks"))
        .args(["bench", "--processes", "2", "--events", "10", "--json"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--processes needs --database-url postgres://"),
        "{stderr}"
    );
}

#[test]
fn the_slow_neighbour_scenario_reports_the_prompt_webhook_and_the_slow_ones() {
    let report = run_bench(&[
        "bench",
        "--slow-webhooks",
        "2",
        "--slow-delay",
        "200ms",
        "--slow-events",
        "5",
        "--prompt-events",
        "5",
        "--json",
    ]);
    let slow = &report["slow"];
    for key in ["p50", "p95", "p99", "max"] {
        assert!(
            slow["prompt_latency_ms"][key].is_number(),
            "slow.prompt_latency_ms.{key} missing from {report}"
        );
    }
    assert_eq!(slow["prompt_arrived"], 5, "{report}");
    assert_eq!(slow["prompt_lost"], 0, "{report}");
    assert_eq!(report["lost"], 0, "{report}");
    assert_eq!(slow["slow_deliveries"], 10, "{report}");
    for key in ["slow_attempts_per_s", "slow_answered_in_window", "window_s"] {
        assert!(slow[key].is_number(), "slow.{key} missing from {report}");
    }
}

/// A small history scenario: what it seeds, and every read answered (the bench fails on any
/// answer but 2xx, and when the statistics do not count every seeded attempt).
fn bench_with_history(database: Option<&str>) -> Value {
    let mut args = vec![
        "bench",
        "--history",
        "20000",
        "--webhooks",
        "3",
        "--history-requests",
        "3",
        "--json",
    ];
    if let Some(url) = database {
        args.extend(["--database-url", url]);
    }
    let report = run_bench(&args);
    let history = &report["history"];
    assert_eq!(history["seeded"]["attempts"], 20_000, "{report}");
    assert_eq!(history["seeded"]["deliveries"], 8_000, "{report}");
    assert_eq!(history["seeded"]["events"], 4_000, "{report}");
    assert_eq!(history["seeded"]["days"], 30, "{report}");
    assert!(history["database_bytes"].as_u64().unwrap() > 0);
    let reads = history["reads"].as_array().unwrap();
    assert_eq!(reads.len(), 15, "{report}");
    for read in reads {
        assert_eq!(read["requests"], 3, "{read}");
        assert!(read["p95_ms"].as_f64().unwrap() > 0.0, "{read}");
        // 4,000 events are fewer than SQLite's search reads per page: every search finds.
        if !read["found"].is_null() {
            assert_eq!(read["found"], 3, "{read}");
        }
    }
    assert_eq!(report["lost"], 0);
    report
}

#[test]
fn the_history_scenario_seeds_and_reads_a_history_on_sqlite() {
    bench_with_history(None);
}

#[tokio::test]
async fn the_history_scenario_seeds_and_reads_a_history_on_postgresql() {
    let Some(db) = common::pg::PgDb::create().await else {
        return;
    };
    let url = db.url.clone();
    tokio::task::spawn_blocking(move || bench_with_history(Some(&url)))
        .await
        .unwrap();
    db.drop_database().await;
}

/// A short soak at 50 events/s for 4 s, a line a second: its interval lines (four while sending,
/// one for the wait after), then the report with the soak's summary. Only counts are checked,
/// never timings. Returns the report and stderr.
fn short_soak(extra: &[&str]) -> (Value, String) {
    let mut args = vec![
        "bench",
        "--soak",
        "4s",
        "--soak-interval",
        "1s",
        "--rate",
        "50",
        "--retention",
        "2s",
        "--json",
    ];
    args.extend(extra);
    let (mut lines, stderr) = run_bench_lines(&args);
    let report = lines.pop().unwrap();
    let soak = &report["soak"];
    let phases: Vec<&str> = lines.iter().map(|l| l["phase"].as_str().unwrap()).collect();
    assert_eq!(
        phases,
        ["soak", "soak", "soak", "soak", "drain"],
        "{lines:?}"
    );
    for line in &lines {
        for key in ["elapsed_s", "deliveries_per_s"] {
            assert!(line[key].is_number(), "{key} missing from {line}");
        }
        for key in ["p50_ms", "p99_ms"] {
            assert!(line[key].is_number() || line[key].is_null(), "{line}");
        }
        assert!(line["rss_bytes"].as_u64().unwrap() > 0, "{line}");
        assert!(line["database_bytes"].as_u64().unwrap() > 0, "{line}");
        assert!(line["pending"].is_u64(), "{line}");
    }
    let total = |key: &str| lines.iter().map(|l| l[key].as_u64().unwrap()).sum::<u64>();
    assert_eq!(total("events_sent"), 200, "{lines:?}");
    assert_eq!(total("deliveries"), 200, "{lines:?}");

    assert_eq!(soak["intervals"], 4, "{report}");
    assert_eq!(soak["events_sent"], 200, "{report}");
    assert_eq!(soak["accepted"], 200, "{report}");
    assert_eq!(soak["deliveries"], 200, "{report}");
    for key in ["lost", "refused", "duplicates", "unexpected"] {
        assert_eq!(soak[key], 0, "{key} in {report}");
    }
    assert!(soak["worst_p99"]["p99_ms"].is_number(), "{report}");
    // 4 s of soak are less than the 2 s retention and a pruning pass (a minute): growth is
    // judged from then on only (the unit tests in soak_report check how).
    assert!(soak["growth"].is_null(), "{report}");
    assert_eq!(report["lost"], 0, "{report}");
    assert_eq!(report["bad_signatures"], 0, "{report}");
    (report, stderr)
}

#[test]
fn a_short_soak_prints_a_line_per_interval_and_a_summary_on_sqlite() {
    let (report, _) = short_soak(&[]);
    assert_eq!(
        report["processes"], 1,
        "the service runs in a child process"
    );
}

#[tokio::test]
async fn a_short_soak_runs_two_processes_on_postgresql() {
    let Some(db) = common::pg::PgDb::create().await else {
        return;
    };
    let url = db.url.clone();
    let (report, stderr) = tokio::task::spawn_blocking(move || {
        short_soak(&["--processes", "2", "--database-url", &url])
    })
    .await
    .unwrap();
    assert_eq!(report["processes"], 2, "{report}");
    assert_eq!(report["per_process_attempts"].as_array().unwrap().len(), 2);
    assert_eq!(report["concurrent_double_attempts"], 0, "{report}");
    assert!(stderr.contains("autovacuum: "), "{stderr}");
    db.drop_database().await;
}

#[test]
fn a_soak_needs_a_rate() {
    let output = Command::new(env!("CARGO_BIN_EXE_speaknode-webhooks"))
        .args(["bench", "--soak", "4s"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--rate"), "{stderr}");
}
