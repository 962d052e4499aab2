//! The service through PgBouncer in transaction pooling mode: the test starts Debian's
//! `pgbouncer` on a loopback port in front of the local PostgreSQL, runs the real binary with
//! `SPEAKNODE_DATABASE_POOLED=true` (statements sent unnamed) and `SPEAKNODE_DATABASE_LISTEN_URL`
//! (a direct connection for LISTEN and migrations), and checks that every delivery arrives and
//! that no statement failed. Runs with the PostgreSQL tests; `scripts/test` installs pgbouncer.

#![allow(clippy::unwrap_used)]

use crate::common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::pg::PgDb;
use common::process::start_logging_to;
use common::{Receiver, session_started};
use futures::StreamExt;
use serde_json::{Value, json};

const PGBOUNCER: &str = "/usr/sbin/pgbouncer";
const KEY: &str = "sk_pgbouncer_test_key_0123456789";
const EVENTS: usize = 300;

struct Bouncer {
    child: Child,
    port: u16,
}

impl Drop for Bouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts pgbouncer (as the `postgres` user: it refuses to run as root) in transaction mode,
/// with database `sn` pointing at `database` on the local server.
fn start_pgbouncer(dir: &Path, database: &str) -> Bouncer {
    assert!(
        Path::new(PGBOUNCER).exists(),
        "{PGBOUNCER} is missing: run `scripts/test` or `apt-get install pgbouncer` \
         (or set SPEAKNODE_SKIP_POSTGRES_TESTS=1)"
    );
    let port = free_port();
    let ini = format!(
        "[databases]\nsn = host=127.0.0.1 port=5432 dbname={database} user=postgres\n\
         [pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n\
         auth_type = trust\nauth_file = {dir}/users.txt\npool_mode = transaction\n\
         default_pool_size = 4\nmax_client_conn = 200\nlogfile = {dir}/pgbouncer.log\n\
         ignore_startup_parameters = extra_float_digits\n",
        dir = dir.display()
    );
    std::fs::write(dir.join("pgbouncer.ini"), ini).unwrap();
    std::fs::write(dir.join("users.txt"), "\"postgres\" \"\"\n").unwrap();
    let mut command = Command::new(PGBOUNCER);
    if Command::new("id").arg("-u").output().unwrap().stdout == b"0\n" {
        command.args(["-u", "postgres"]);
    }
    let child = command
        .arg(dir.join("pgbouncer.ini"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let bouncer = Bouncer { child, port };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "pgbouncer did not start: {}",
            std::fs::read_to_string(dir.join("pgbouncer.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    bouncer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_go_out_through_pgbouncer_in_transaction_mode() {
    let Some(db) = PgDb::create().await else {
        return;
    };
    speaknode_webhooks::delivery::sender::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    // pgbouncer runs as `postgres` and writes its log here.
    std::process::Command::new("chmod")
        .args(["777", dir.path().to_str().unwrap()])
        .status()
        .unwrap();
    let database = db.url.rsplit('/').next().unwrap().to_string();
    let bouncer = start_pgbouncer(dir.path(), &database);
    let pooled_url = format!("postgres://postgres@127.0.0.1:{}/sn", bouncer.port);

    let log_path = dir.path().join("service.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let env = [
        ("SPEAKNODE_API_KEY", KEY),
        ("SPEAKNODE_ALLOW_PRIVATE_TARGETS", "true"),
        ("SPEAKNODE_DATABASE_POOLED", "true"),
        ("SPEAKNODE_DATABASE_LISTEN_URL", db.url.as_str()),
        ("SPEAKNODE_RETRY_SCHEDULE", "100ms,200ms"),
    ];
    let mut service = start_logging_to(&pooled_url, &env, Stdio::from(log));
    let receiver = Receiver::ok().await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let created: Value = client
        .post(format!("{}/api/v1/webhooks", service.base))
        .bearer_auth(KEY)
        .json(&json!({"url": receiver.url, "event_types": ["SessionStarted"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let logs = || std::fs::read_to_string(&log_path).unwrap();
    let Some(webhook_id) = created["id"].as_str().map(str::to_string) else {
        panic!("creating the webhook failed: {created}\n{}", logs());
    };

    // Concurrent events, so the pool's connections are shared out among many transactions.
    let statuses: Vec<u16> = futures::stream::iter(0..EVENTS)
        .map(|_| {
            let (client, base) = (client.clone(), service.base.clone());
            async move {
                client
                    .post(format!("{base}/api/v1/events"))
                    .bearer_auth(KEY)
                    .json(&json!({"type": "SessionStarted", "data": session_started()}))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    assert!(
        statuses.iter().all(|s| *s == 202),
        "{statuses:?}\n{}",
        logs()
    );

    common::eventually("every delivery to arrive", || async {
        receiver.received().len() >= EVENTS
    })
    .await;
    let history: Value = client
        .get(format!(
            "{}/api/v1/webhooks/{webhook_id}/attempts?limit=100",
            service.base
        ))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(history["data"].as_array().unwrap().len(), 100);
    assert_eq!(history["data"][0]["http_status"], 200);

    service.child.kill().unwrap();
    service.child.wait().unwrap();
    let logs = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        !logs.contains("prepared statement") && !logs.contains("ERROR"),
        "the service logged errors through pgbouncer:\n{logs}"
    );
    drop(bouncer);
    db.drop_database().await;
}
