//! The README's first run, taken from README.md itself so it cannot rot: the `sh` blocks of its
//! "Run it" section start a `listen` receiver and the service in an empty folder, then the
//! curl lines run as they are written (with the key the service printed) and a delivery must
//! reach the receiver. Only `cargo run --release --` is swapped for the binary cargo built.
//!
//! It uses the README's own ports, 8080 and 9000, which must be free on the machine.

#![allow(clippy::unwrap_used)]

use crate::common;

use std::process::Command;

use common::child::Child;
use common::process::BIN;

/// The fenced `sh` blocks of the README section whose heading is `heading`, in order.
fn shell_blocks(readme: &str, heading: &str) -> Vec<String> {
    let section = readme
        .split("\n## ")
        .find(|s| s.starts_with(heading))
        .unwrap_or_else(|| panic!("README.md has no section `## {heading}`"));
    section
        .split("```sh\n")
        .skip(1)
        .map(|rest| rest.split("```").next().unwrap().to_string())
        .collect()
}

fn block_containing<'a>(blocks: &'a [String], needle: &str) -> &'a str {
    blocks
        .iter()
        .find(|b| b.contains(needle))
        .unwrap_or_else(|| panic!("no `sh` block in `## Run it` contains {needle:?}"))
}

/// A shell running `script` as a fresh user would: in `dir`, with no SPEAKNODE_* settings.
fn shell(script: &str, dir: &std::path::Path) -> Command {
    let script = script.replace("cargo run --release --", BIN);
    let mut command = Command::new("bash");
    command
        .args(["-c", &script])
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap())
        .env("HOME", dir);
    command
}

#[tokio::test]
async fn the_readme_first_run_delivers_to_a_listen_receiver() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let blocks = shell_blocks(&readme, "Run it");
    let dir = tempfile::tempdir().unwrap();

    let receiver = Child::start(shell(
        block_containing(&blocks, "-- listen").trim(),
        dir.path(),
    ))
    .await;
    let service_line = block_containing(&blocks, "SPEAKNODE_ALLOW_PRIVATE_TARGETS=true");
    let service = Child::start(shell(service_line.trim(), dir.path())).await;
    assert!(
        dir.path().join("speaknode-webhooks.db").exists(),
        "serve did not create speaknode-webhooks.db in the current folder"
    );
    let key = service
        .output()
        .lines()
        .find_map(|l| {
            l.split_once("(shown once): ")
                .map(|(_, key)| key.trim().to_string())
        })
        .unwrap_or_else(|| panic!("serve printed no API key:\n{}", service.output()));

    // The client block, with the placeholder line `KEY=sk_…` given the printed key.
    let client = block_containing(&blocks, "KEY=sk_");
    let client: String = client
        .lines()
        .map(|l| {
            if l.starts_with("KEY=") {
                format!("KEY={key}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let output = shell(&format!("set -euo pipefail\n{client}"), dir.path())
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the README's curl lines failed: {printed}\n{}\nservice: {}",
        String::from_utf8_lossy(&output.stderr),
        service.stderr()
    );
    assert!(
        printed.contains("\"deliveries\":1"),
        "the event reached no webhook: {printed}"
    );

    receiver.wait_for_output("SessionStarted").await;
    receiver.wait_for_output("sess_1").await;
}
