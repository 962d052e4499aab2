//! The receiver tools of the real binary: `verify` on a captured real delivery (exit 0 valid,
//! 1 not, 2 usage error) and `listen` as the target of a real webhook.

#![allow(clippy::unwrap_used)]

use crate::common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::child::Child;
use common::{Receiver, TestApp, session_started, signed};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_speaknode-webhooks");

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `speaknode-webhooks verify ARGS` with `stdin` as its standard input.
fn verify(args: &[&str], stdin: &[u8]) -> Run {
    let mut child = Command::new(BIN)
        .arg("verify")
        .args(args)
        .env_remove("SPEAKNODE_WEBHOOK_SECRET")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A usage error may exit before reading: a closed pipe is fine then.
    let _ = child.stdin.take().unwrap().write_all(stdin);
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap(),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// A header file as a receiver would log the request: request line, then `Name: value` lines.
fn header_file(headers: &[(String, String)]) -> Vec<u8> {
    let mut text = String::from("POST /hooks HTTP/1.1\r\n");
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    text.into_bytes()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[tokio::test]
async fn verify_accepts_a_captured_real_delivery_and_refuses_it_changed() {
    let app = TestApp::start().await;
    let receiver = Receiver::ok().await;
    let webhook = app.create_webhook(&receiver.url, &["SessionStarted"]).await;
    let secret = webhook["secret"].as_str().unwrap();
    let event = app.emit("SessionStarted", session_started()).await;
    app.wait_for_event_settled(event["id"].as_str().unwrap())
        .await;
    let delivery = &receiver.received()[0];
    let captured: Vec<(String, String)> = delivery
        .headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_string()))
        .collect();

    let dir = tempfile::tempdir().unwrap();
    let headers = write(dir.path(), "headers.txt", &header_file(&captured));
    let body = write(dir.path(), "body.json", &delivery.body);
    let mut changed = delivery.body.to_vec();
    changed[10] ^= 1;
    let changed = write(dir.path(), "changed.json", &changed);

    let ok = verify(
        &["--secret", secret, "--headers", p(&headers), p(&body)],
        b"",
    );
    assert_eq!(ok.code, 0, "{} {}", ok.stdout, ok.stderr);
    assert_eq!(
        ok.stdout.trim(),
        format!(
            "valid: X-SpeakNode-Signature and webhook-signature verified (webhook-id {})",
            event["id"].as_str().unwrap()
        )
    );
    // The body may come from standard input, named `-` or not named at all.
    for args in [
        &["--secret", secret, "--headers", p(&headers), "-"][..],
        &["--secret", secret, "--headers", p(&headers)][..],
    ] {
        assert_eq!(verify(args, &delivery.body).code, 0);
    }
    let hex = delivery.header("x-speaknode-signature");
    assert_eq!(
        verify(&["--secret", secret, "--signature", hex, p(&body)], b"").code,
        0
    );

    let bad = verify(
        &["--secret", secret, "--headers", p(&headers), p(&changed)],
        b"",
    );
    assert_eq!(bad.code, 1, "{}", bad.stderr);
    assert_eq!(
        bad.stdout.trim(),
        "invalid: X-SpeakNode-Signature does not match the body and the secret"
    );
    let bad = verify(&["--secret", secret, "--signature", hex, p(&changed)], b"");
    assert_eq!(bad.code, 1);
    let other_secret = speaknode_webhooks::domain::webhook::Secret::generate();
    let wrong = verify(
        &[
            "--secret",
            other_secret.expose(),
            "--headers",
            p(&headers),
            p(&body),
        ],
        b"",
    );
    assert_eq!(wrong.code, 1);

    // Only the Standard Webhooks trio: it alone is checked, and must match.
    let standard_only: Vec<_> = captured
        .iter()
        .filter(|(k, _)| k != "x-speaknode-signature")
        .cloned()
        .collect();
    let standard = write(dir.path(), "standard.txt", &header_file(&standard_only));
    let only = verify(
        &["--secret", secret, "--headers", p(&standard), p(&body)],
        b"",
    );
    assert_eq!(
        only.stdout.trim(),
        format!(
            "valid: webhook-signature verified (webhook-id {})",
            event["id"].as_str().unwrap()
        )
    );
    let only = verify(
        &["--secret", secret, "--headers", p(&standard), p(&changed)],
        b"",
    );
    assert_eq!(only.code, 1);
    assert!(
        only.stdout.contains("webhook-signature does not match"),
        "{}",
        only.stdout
    );
    app.stop().await;
}

#[test]
fn verify_refuses_a_request_without_signatures_or_out_of_tolerance() {
    let dir = tempfile::tempdir().unwrap();
    let body = write(dir.path(), "body.json", br#"{"test": 2432232314}"#);
    let unsigned = write(
        dir.path(),
        "unsigned.txt",
        b"Content-Type: application/json\n",
    );
    let run = verify(
        &[
            "--secret",
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "--headers",
            p(&unsigned),
            p(&body),
        ],
        b"",
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.starts_with("invalid: no signature header"),
        "{}",
        run.stdout
    );

    // The Standard Webhooks vector was signed in 2021: stale unless the tolerance covers it.
    let vector = write(
        dir.path(),
        "vector.txt",
        b"webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek\nwebhook-timestamp: 1614265330\n\
          webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=\n",
    );
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let stale = verify(
        &["--secret", secret, "--headers", p(&vector), p(&body)],
        b"",
    );
    assert_eq!(stale.code, 1);
    assert!(
        stale.stdout.contains("beyond the tolerance"),
        "{}",
        stale.stdout
    );
    let lenient = verify(
        &[
            "--secret",
            secret,
            "--tolerance",
            "100years",
            "--headers",
            p(&vector),
            p(&body),
        ],
        b"",
    );
    assert_eq!(lenient.code, 0, "{} {}", lenient.stdout, lenient.stderr);
}

#[test]
fn verify_exits_2_on_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let body = write(dir.path(), "body.json", b"{}");
    let headers = write(dir.path(), "headers.txt", b"x-speaknode-signature: 00\n");
    let junk = write(
        dir.path(),
        "junk.txt",
        b"x-speaknode-signature: 00\n{\"id\": 1}\n",
    );
    let missing = dir.path().join("missing");
    let standard = write(
        dir.path(),
        "standard.txt",
        b"webhook-id: a\nwebhook-timestamp: 1\nwebhook-signature: v1,AA==\n",
    );
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let cases: &[(&str, &[&str])] = &[
        ("no secret", &["--signature", "00", p(&body)]),
        (
            "neither --signature nor --headers",
            &["--secret", secret, p(&body)],
        ),
        (
            "both --signature and --headers",
            &[
                "--secret",
                secret,
                "--signature",
                "00",
                "--headers",
                p(&headers),
                p(&body),
            ],
        ),
        (
            "an unreadable body file",
            &["--secret", secret, "--signature", "00", p(&missing)],
        ),
        (
            "an unreadable headers file",
            &["--secret", secret, "--headers", p(&missing), p(&body)],
        ),
        (
            "a headers file with a line that is not a header",
            &["--secret", secret, "--headers", p(&junk), p(&body)],
        ),
        (
            "a secret that is not base64",
            &["--secret", "whsec_!!", "--headers", p(&standard), p(&body)],
        ),
        (
            "a bad tolerance",
            &[
                "--secret",
                secret,
                "--tolerance",
                "soon",
                "--signature",
                "00",
                p(&body),
            ],
        ),
    ];
    for (what, args) in cases {
        let run = verify(args, b"");
        assert_eq!(run.code, 2, "{what}: {} {}", run.stdout, run.stderr);
        assert!(
            run.stdout.is_empty() && !run.stderr.is_empty(),
            "{what}: {}",
            run.stderr
        );
    }
}

#[test]
fn verify_reads_the_secret_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let body = write(dir.path(), "body.json", br#"{"test": 2432232314}"#);
    let out = Command::new(BIN)
        .args([
            "verify",
            "--signature",
            "80ec8a89ce3cd22133a1066caecb4d04fea7467657c8514d717ec42c38a5c94c",
            p(&body),
        ])
        .env(
            "SPEAKNODE_WEBHOOK_SECRET",
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        )
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn listen(args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(["listen", "--listen", "127.0.0.1:0"])
        .args(args)
        .env_remove("SPEAKNODE_WEBHOOK_SECRET");
    command
}

/// A webhook pointed at `url` once created (its secret is needed to start the receiver first).
async fn point_webhook(app: &TestApp, id: &str, url: &str) {
    let (status, body) = app
        .patch(&format!("/api/v1/webhooks/{id}"), json!({"url": url}))
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn listen_prints_a_real_delivery_with_its_signatures_verified() {
    let app = TestApp::start().await;
    let webhook = app
        .create_webhook("http://127.0.0.1:9/hooks", &["SessionStarted"])
        .await;
    let (id, secret) = (
        webhook["id"].as_str().unwrap(),
        webhook["secret"].as_str().unwrap(),
    );
    let listener = Child::start(listen(&["--secret", secret])).await;
    point_webhook(&app, id, &format!("{}/hooks", listener.url)).await;

    let event = app.emit("SessionStarted", session_started()).await;
    let event_id = event["id"].as_str().unwrap();
    let settled = app.wait_for_event_settled(event_id).await;
    let attempts = app.wait_for_attempts(id, 1).await;
    assert_eq!(attempts[0]["http_status"], 200);
    let delivery_id = settled["deliveries"][0]["id"].as_str().unwrap();

    listener
        .wait_for_output("\"session_id\": \"sess_41aa\"")
        .await;
    let out = listener.output();
    for expected in [
        "POST /hooks  SessionStarted".to_string(),
        format!("webhook-id             {event_id}"),
        format!("X-SpeakNode-Delivery   {delivery_id}"),
        "X-SpeakNode-Signature  verified".into(),
        "webhook-signature      verified".into(),
        "answered               200".into(),
        // The body indented, in the order sent.
        format!("{{\n  \"id\": \"{event_id}\",\n  \"type\": \"SessionStarted\","),
    ] {
        assert!(out.contains(&expected), "{expected:?} not in:\n{out}");
    }
    assert!(!out.contains("INVALID"), "{out}");

    // A forged request is shown as such (and still answered: listen only reports).
    let body = signed::BODY.replace("sess_1", "sess_2");
    let headers = signed::headers(secret, signed::now(), signed::BODY.as_bytes());
    signed::post(
        &format!("{}/hooks", listener.url),
        &headers,
        body.as_bytes(),
    )
    .await;
    listener
        .wait_for_output("X-SpeakNode-Signature  INVALID: X-SpeakNode-Signature does not match")
        .await;
    listener
        .wait_for_output("webhook-signature      INVALID: webhook-signature does not match")
        .await;
    app.stop().await;
}

#[tokio::test]
async fn listen_answers_the_status_it_was_given_and_says_when_it_cannot_check() {
    let app = TestApp::start().await;
    let listener = Child::start(listen(&["--status", "503"])).await;
    let webhook = app
        .create_webhook(&format!("{}/hooks", listener.url), &["SessionStarted"])
        .await;
    let id = webhook["id"].as_str().unwrap();
    app.emit("SessionStarted", session_started()).await;
    let attempts = app.wait_for_attempts(id, 1).await;
    assert_eq!(attempts.last().unwrap()["http_status"], 503);
    listener
        .wait_for_output("signatures             not checked (start listen with --secret)")
        .await;
    assert!(listener.output().contains("answered               503"));
    app.stop().await;
}
