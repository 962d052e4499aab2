//! `bench --processes N`: the service as N child processes of this binary (`serve`), sharing one
//! PostgreSQL database, instead of in this process. They are killed when [`Services`] is dropped,
//! on every path out of the benchmark, errors included. The soak (`--soak`) always runs its
//! service this way, one process when not told otherwise (on SQLite too), so that the memory it
//! reports is the service's alone.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::sync::oneshot;

use crate::config::ServeArgs;

/// What `serve` prints last, once it accepts requests (see `app::run`).
const LISTENING: &str = "SpeakNode Webhooks listening on ";
const START_TIMEOUT: Duration = Duration::from_secs(60);

struct Service {
    child: Child,
    base: String,
}

/// The running child processes; dropping this kills them (SIGKILL) and reaps them.
#[derive(Default)]
pub struct Services(Vec<Service>);

impl Services {
    /// Starts `count` `serve` processes with the bench's settings in `serve` (database, API key,
    /// admin token, private targets, retention): the first alone (it applies the migrations and
    /// creates the default workspace), then the others together.
    pub async fn start(count: usize, serve: &ServeArgs) -> anyhow::Result<Self> {
        let env = settings(serve);
        let mut services = Self::default();
        let first = services.spawn(&env)?;
        services.0[0].base = services.listening(0, first).await?;
        let waiting = (1..count)
            .map(|_| services.spawn(&env))
            .collect::<anyhow::Result<Vec<_>>>()?;
        for (i, listening) in waiting.into_iter().enumerate() {
            services.0[i + 1].base = services.listening(i + 1, listening).await?;
        }
        Ok(services)
    }

    /// Starts one `serve --listen 127.0.0.1:0` with the settings in `env`, owned by `self` from
    /// then on, and a thread reading its stdout: the base URL goes to the returned receiver once
    /// the listening line is out, and the rest of its output is drained so that the child never
    /// blocks on a full pipe. The receiver errs if stdout closes first (the child exited).
    fn spawn(&mut self, env: &[(&str, String)]) -> anyhow::Result<oneshot::Receiver<String>> {
        let exe = std::env::current_exe().context("cannot find this program's own executable")?;
        let mut child = Command::new(&exe)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .envs(env.iter().map(|(name, value)| (*name, value)))
            .env("SPEAKNODE_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("cannot start {} serve", exe.display()))?;
        let stdout = child.stdout.take();
        self.0.push(Service {
            child,
            base: String::new(),
        });
        let stdout = stdout.context("no stdout pipe to the service process")?;
        let (tx, rx) = oneshot::channel();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(base) = line.strip_prefix(LISTENING)
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(base.trim().to_string());
                }
            }
        });
        Ok(rx)
    }

    /// Waits for child `at` to print its listening line and returns the base URL it names.
    async fn listening(
        &mut self,
        at: usize,
        listening: oneshot::Receiver<String>,
    ) -> anyhow::Result<String> {
        match tokio::time::timeout(START_TIMEOUT, listening).await {
            Ok(Ok(base)) => Ok(base),
            Ok(Err(_)) => {
                // Its stdout closed: it has exited, or is about to.
                tokio::time::sleep(Duration::from_millis(100)).await;
                let status = self.0[at].child.try_wait().ok().flatten();
                let status = status.map_or("an unknown status".into(), |s| s.to_string());
                bail!(
                    "service process {} exited with {status} before listening",
                    at + 1
                )
            }
            Err(_) => bail!(
                "service process {} did not print its listening line within {START_TIMEOUT:?}",
                at + 1
            ),
        }
    }

    /// The processes' base URLs, `http://127.0.0.1:<port>`, in start order.
    pub fn bases(&self) -> Vec<String> {
        self.0.iter().map(|s| s.base.clone()).collect()
    }

    /// The processes' ids, in start order: the soak reads their memory in `/proc`.
    pub fn pids(&self) -> Vec<u32> {
        self.0.iter().map(|s| s.child.id()).collect()
    }
}

/// The environment that gives a child the settings the bench chose in `serve`; the others keep
/// their defaults, as in the bench's own process.
fn settings(serve: &ServeArgs) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("SPEAKNODE_DATABASE_URL", serve.database_url.clone()),
        (
            "SPEAKNODE_ALLOW_PRIVATE_TARGETS",
            serve.allow_private_targets.clone(),
        ),
        ("SPEAKNODE_RETENTION", serve.retention.clone()),
    ];
    if let Some(key) = &serve.api_key {
        env.push(("SPEAKNODE_API_KEY", key.clone()));
    }
    if let Some(token) = &serve.admin_token {
        env.push(("SPEAKNODE_ADMIN_TOKEN", token.clone()));
    }
    env
}

impl Drop for Services {
    fn drop(&mut self) {
        for service in &mut self.0 {
            let _ = service.child.kill();
        }
        for service in &mut self.0 {
            let _ = service.child.wait();
        }
    }
}

/// Attempts made by the service at `base`: `speaknode_attempts_total` summed over its `outcome`
/// labels, from its `/metrics`.
pub async fn attempts(client: &reqwest::Client, base: &str) -> anyhow::Result<u64> {
    let text = client
        .get(format!("{base}/metrics"))
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    Ok(attempts_in(&text))
}

fn attempts_in(metrics: &str) -> u64 {
    metrics
        .lines()
        .filter(|l| {
            l.starts_with("speaknode_attempts_total{") || l.starts_with("speaknode_attempts_total ")
        })
        .filter_map(|l| l.rsplit(' ').next())
        .filter_map(|v| v.parse::<f64>().ok())
        .map(|v| v as u64)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::attempts_in;

    #[test]
    fn attempts_are_summed_over_outcomes() {
        let text = "# HELP speaknode_attempts Delivery attempts made, by outcome.\n\
            # TYPE speaknode_attempts counter\n\
            speaknode_attempts_total{outcome=\"succeeded\"} 120\n\
            speaknode_attempts_total{outcome=\"http_error\"} 3\n\
            speaknode_attempts_total{outcome=\"timeout\"} 0\n\
            speaknode_attempt_duration_seconds_count 123\n\
            speaknode_events_accepted_total 100\n\
            # EOF\n";
        assert_eq!(attempts_in(text), 123);
        assert_eq!(attempts_in("# EOF\n"), 0);
    }
}
