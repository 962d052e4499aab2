//! The clients under `clients/`, held to what the issue promised: generated from the document the
//! service serves and still equal to what it generates (`drift`), and each client's own suite run
//! against the real service (`python`, `typescript`, `rust`) through `flaky`, a proxy that loses
//! the first emit's response and then answers 503 and 429, so the retry-without-a-duplicate
//! promise is proven on the wire: the proxy sees every try carry one key, the service stores one
//! event.

mod drift;
mod flaky;
mod python;
mod rust;
mod typescript;

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

use crate::common::{API_KEY, TestApp};
use flaky::{Fault, Flaky};

/// The faults every client's retried emit meets, in this order; `Retry-After: 1` keeps it short.
const FAULTS: [Fault; 3] = [
    Fault::LoseResponse,
    Fault::Status(503, None),
    Fault::Status(429, Some(1)),
];

/// `clients/<name>` in the repository.
fn dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("clients")
        .join(name)
}

/// A command in clients/typescript, or a failure naming what installs the tools.
fn npm(args: &[&str]) -> Command {
    let tools = dir("typescript").join("node_modules/.bin/tsc");
    assert!(
        tools.exists(),
        "clients/typescript has no node_modules: run `scripts/test`, or \
         `npm ci --prefix clients/typescript`"
    );
    let mut command = Command::new("npm");
    command.current_dir(dir("typescript")).args(args);
    command
}

/// The real service, and the flaky proxy in front of it.
struct Live {
    app: TestApp,
    flaky: Flaky,
}

impl Live {
    async fn start() -> Self {
        let app = TestApp::start().await;
        let flaky = Flaky::start(&app.base, FAULTS.to_vec()).await;
        Self { app, flaky }
    }

    /// What a client's live suite reads: the service directly, the service behind the proxy, and
    /// the key. Each suite runs its own receiver on loopback (the test service may deliver there).
    fn env(&self, command: &mut Command) {
        command
            .env("SPEAKNODE_URL", &self.app.base)
            .env("SPEAKNODE_FLAKY_URL", &self.flaky.url)
            .env("SPEAKNODE_API_KEY", API_KEY);
    }

    /// Runs a client's suite off the runtime (the service answers it meanwhile) and checks what
    /// the wire and the database say about its one retried emit.
    async fn run(&self, what: &str, mut command: Command) {
        self.env(&mut command);
        let output: Output = tokio::task::spawn_blocking(move || command.output())
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("cannot run the {what} suite: {e}"));
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(output.status.success(), "the {what} suite failed:\n{said}");
        self.check_one_retried_emit(&said).await;
    }

    /// The proxy met every fault, every try of the retried emit carried one key, and the
    /// service holds three events: two emitted directly (one per shipped type) and that one.
    async fn check_one_retried_emit(&self, said: &str) {
        let emits = self.flaky.emits();
        assert_eq!(
            self.flaky.faults_left(),
            0,
            "the suite never retried: {emits:?}\n{said}"
        );
        let met: Vec<_> = emits.iter().map(|e| e.fault).collect();
        let expected: Vec<_> = FAULTS.iter().copied().map(Some).chain([None]).collect();
        assert_eq!(met, expected, "the tries after the last fault: {emits:?}");
        let key = emits[0].idempotency_key.clone();
        assert!(key.is_some(), "the emit carried no Idempotency-Key");
        assert!(
            emits.iter().all(|e| e.idempotency_key == key),
            "the retries changed the key: {emits:?}"
        );
        let (_, events) = self.app.get("/api/v1/events?limit=100").await;
        let events = events["data"].as_array().unwrap();
        assert_eq!(events.len(), 3, "{:#}", Value::from(events.clone()));
    }
}
