//! The `bench` command works end to end and loses nothing (a small run; figures are for
//! BENCHMARKS.md, never asserted here).

#![allow(clippy::unwrap_used)]

use std::process::Command;

use serde_json::Value;

#[test]
fn a_small_bench_delivers_everything_and_reports_its_figures_as_json() {
    let output = Command::new(env!("CARGO_BIN_EXE_speaknode-webhooks"))
        .args([
            "bench",
            "--events",
            "300",
            "--webhooks",
            "2",
            "--concurrency",
            "8",
            "--json",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "bench failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
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
    assert_eq!(report["lost"], 0);
    assert_eq!(report["bad_signatures"], 0);
    assert!(
        report["signatures_checked"].as_u64().unwrap() > 0,
        "signatures were sampled"
    );
}
