//! A receiver run as a child process (the example receivers, `speaknode-webhooks listen`, or
//! `serve`): it prints a line holding `listening on <url>` when ready; its output is collected so
//! a test can wait for what it printed, and it is killed when the test drops it.

#![allow(dead_code, clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct Child {
    child: std::process::Child,
    /// The URL it printed after `listening on `.
    pub url: String,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<String>>,
}

impl Child {
    /// Starts `command` and waits until a line of its output holds `listening on <url>`; fails the
    /// test with its stderr if it exits first or takes longer than the deadline.
    pub async fn start(mut command: Command) -> Self {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let (out, err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
        let lines = stdout.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                lines.lock().unwrap().push(line);
            }
        });
        let text = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            let mut err = err;
            while let Ok(n @ 1..) = err.read(&mut buf) {
                text.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let mut this = Self {
            child,
            url: String::new(),
            stdout,
            stderr,
        };
        this.url = this.wait_for_listening(&format!("{command:?}")).await;
        this
    }

    async fn wait_for_listening(&mut self, what: &str) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let printed = self.stdout.lock().unwrap().iter().find_map(|l| {
                l.split_once("listening on ")
                    .map(|(_, url)| url.to_string())
            });
            if let Some(url) = printed {
                return url;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("{what} exited with {status}: {}", self.stderr());
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{what} did not print `listening on`: {}",
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Everything it printed on stdout so far.
    pub fn output(&self) -> String {
        self.stdout.lock().unwrap().join("\n")
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits until its stdout contains `needle`.
    pub async fn wait_for_output(&self, needle: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !self.output().contains(needle) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {needle:?} in its output:\n{}\nstderr:\n{}",
                self.output(),
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
