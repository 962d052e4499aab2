//! The real binary, started as an operator would: `serve` on port 0, reading its start-up lines.

#![allow(dead_code, clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_speaknode-webhooks");

pub struct Service {
    pub child: Child,
    pub base: String,
    pub generated_key: Option<String>,
}

/// Starts `serve` on port 0 and reads its start-up lines.
pub fn start(db: &std::path::Path, env: &[(&str, &str)]) -> Service {
    start_on(&format!("sqlite://{}", db.display()), env)
}

/// Starts `serve` on port 0 against any database URL.
pub fn start_on(database_url: &str, env: &[(&str, &str)]) -> Service {
    start_logging_to(database_url, env, Stdio::null())
}

/// Like [`start_on`], with the service's log output (stderr) going to `logs`.
pub fn start_logging_to(database_url: &str, env: &[(&str, &str)], logs: Stdio) -> Service {
    let mut command = Command::new(BIN);
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("SPEAKNODE_DATABASE_URL", database_url)
        .env_remove("SPEAKNODE_API_KEY")
        .stdout(Stdio::piped())
        .stderr(logs);
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    let (mut base, mut generated_key) = (None, None);
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(20)) {
        if let Some((_, key)) = line.split_once("(shown once): ") {
            generated_key = Some(key.to_string());
        }
        if let Some(url) = line.strip_prefix("SpeakNode Webhooks listening on ") {
            base = Some(url.to_string());
            break;
        }
    }
    Service {
        child,
        base: base.expect("the listen URL is printed"),
        generated_key,
    }
}

pub fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}
