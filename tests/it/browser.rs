//! The dashboard in real headless Chromium: this test starts the service and a real receiver,
//! then runs `tests/browser/journey.mjs` (playwright-core driving Debian's `/usr/bin/chromium`)
//! through a user's whole journey, then through a short pass over a branded service, and passes
//! only if that script exits 0 both times: every step worked and axe-core found no serious or
//! critical accessibility problem on any page, light or dark. Screenshots of each main page, in
//! both schemes, land in `target/screenshots/`.
//!
//! A second test, `tests/browser/embed.mjs`, runs the dashboard framed by a platform's page on
//! another site (`SPEAKNODE_PORTAL_EMBED_ORIGINS`), and checks an unlisted origin cannot frame it.
//!
//! Needs `node`, `/usr/bin/chromium` and `npm ci --prefix tests/browser` (`scripts/test` installs
//! them). Set `SPEAKNODE_SKIP_BROWSER_TESTS=1` to skip it knowingly on a machine without them.

#![allow(clippy::unwrap_used)]

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use common::{API_KEY, Receiver, TestApp};

const CHROMIUM: &str = "/usr/bin/chromium";
/// The whole journey takes well under a minute; this only stops a wedged browser.
const JOURNEY_LIMIT: Duration = Duration::from_secs(240);

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Says what is missing, so a failure reads as a setup problem rather than a dashboard bug.
fn check_prerequisites(root: &Path) {
    let modules = root.join("tests/browser/node_modules/playwright-core");
    assert!(
        modules.exists(),
        "playwright-core is not installed: run `scripts/test` or `npm ci --prefix tests/browser` \
         (or set SPEAKNODE_SKIP_BROWSER_TESTS=1)"
    );
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: run `scripts/test` or `apt-get install chromium` \
         (or set SPEAKNODE_SKIP_BROWSER_TESTS=1)"
    );
}

/// Runs the script to completion (or the limit), returning its exit status and output.
fn run_journey(mut command: Command) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("journey.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = command
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .stdin(Stdio::null())
        .spawn()
        .expect("cannot start node");
    let deadline = Instant::now() + JOURNEY_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let output = std::fs::read_to_string(&log_path).unwrap_or_default();
    match status {
        Some(status) => (status.success(), output),
        None => (
            false,
            format!("{output}\n(stopped after {JOURNEY_LIMIT:?})"),
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_whole_journey_through_the_dashboard_passes_in_chromium() {
    if std::env::var_os("SPEAKNODE_SKIP_BROWSER_TESTS").is_some_and(|v| !v.is_empty()) {
        eprintln!("skipped: SPEAKNODE_SKIP_BROWSER_TESTS is set");
        return;
    }
    let root = root();
    check_prerequisites(&root);
    let receiver = Receiver::ok().await;
    let screenshots = root.join("target/screenshots");
    std::fs::create_dir_all(&screenshots).unwrap();
    // The whole journey on a service as it comes, then a short pass over each page of a branded
    // one (entered through a portal link), so axe-core checks both looks. The accent is a light
    // one on purpose: buttons need dark text and links a darkened shade to stay readable.
    const NAME: &str = "Acme Voice & Co";
    const ACCENT: &str = "#14b8a6";
    let dir = tempfile::tempdir().unwrap();
    let logo = dir.path().join("logo.svg");
    let svg = r##"<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32"><rect width="32" height="32" rx="8" fill="#14b8a6"/><circle cx="16" cy="16" r="7" fill="#fff"/></svg>"##;
    std::fs::write(&logo, svg).unwrap();

    for pass in ["full", "brand"] {
        // A short timeout and a single attempt per delivery keep the journey quick and its rows
        // exact.
        let app = TestApp::start_with(|args| {
            args.delivery_timeout = "1s".into();
            args.retry_schedule = "".into();
            if pass == "brand" {
                args.portal.portal_name = Some(NAME.into());
                args.portal.portal_accent = Some(ACCENT.into());
                args.portal.portal_logo = Some(logo.display().to_string());
            }
        })
        .await;
        let mut command = Command::new("node");
        command
            .arg("tests/browser/journey.mjs")
            .current_dir(&root)
            .env("JOURNEY_PASS", pass)
            .env("PORTAL_NAME", NAME)
            .env("PORTAL_ACCENT", ACCENT)
            .env("SPEAKNODE_BASE_URL", &app.base)
            .env("SPEAKNODE_API_KEY", API_KEY)
            .env("RECEIVER_URL", &receiver.url)
            .env("RECEIVER_CONTROL_URL", receiver.control_url())
            .env("SCREENSHOT_DIR", &screenshots)
            .env("CHROMIUM_PATH", CHROMIUM);
        let (passed, output) = tokio::task::spawn_blocking(move || run_journey(command))
            .await
            .unwrap();
        println!("{output}");
        assert!(passed, "the browser journey ({pass}) failed:\n{output}");
        app.stop().await;
    }
}

/// A platform's own page that embeds the dashboard, the way a platform would: each request mints
/// a fresh portal link server-side (its backend holds the workspace key; the browser never sees
/// it) and answers HTML with that link in an `<iframe>`. Counts the links it minted.
#[derive(Clone)]
struct HostPage {
    service: String,
    minted: Arc<AtomicUsize>,
}

impl HostPage {
    /// Serves the page on `listener` (bound to 127.0.0.1, browsed as `http://localhost:<port>`:
    /// another site than the service on 127.0.0.1).
    fn serve(listener: tokio::net::TcpListener, service: &str) -> Self {
        let host = Self {
            service: service.to_string(),
            minted: Default::default(),
        };
        let app = axum::Router::new()
            .route("/", get(host_page))
            .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
            .with_state(host.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        host
    }

    fn minted(&self) -> usize {
        self.minted.load(Ordering::SeqCst)
    }
}

async fn host_page(State(host): State<HostPage>) -> Response {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let answer = client
        .post(format!("{}/api/v1/portal/sessions", host.service))
        .bearer_auth(API_KEY)
        .send()
        .await;
    // The script fails on any answer >= 400, and names it.
    let answer = match answer {
        Ok(answer) => answer,
        Err(e) => return (StatusCode::BAD_GATEWAY, format!("cannot mint: {e}")).into_response(),
    };
    let status = answer.status();
    let body: serde_json::Value = answer.json().await.unwrap_or_default();
    let Some(link) = body["url"].as_str().filter(|_| status == 201) else {
        let why = format!("minting a portal link answered {status}: {body}");
        return (StatusCode::BAD_GATEWAY, why).into_response();
    };
    host.minted.fetch_add(1, Ordering::SeqCst);
    let link = link
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;");
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Acme Voice: Webhooks</title></head>\n<body>\n<h1>Acme Voice settings</h1>\n\
         <iframe id=\"webhooks\" title=\"Webhooks\" src=\"{link}\" width=\"1200\" height=\"1400\">\
         </iframe>\n</body></html>\n"
    );
    // The platform's page itself loads nothing and frames only the service.
    let csp = format!(
        "default-src 'none'; frame-src {}; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'none'",
        host.service
    );
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8".to_string()),
            (header::CONTENT_SECURITY_POLICY, csp),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        html,
    )
        .into_response()
}

/// The dashboard framed by a platform's page on another site (`localhost` framing
/// `127.0.0.1`), in real headless Chromium: `tests/browser/embed.mjs` opens the platform's page,
/// and inside the frame the customer lands signed in through the portal link, creates a webhook,
/// sends a test event, opens the attempt and toggles the webhook, with no console error; a page
/// on an origin SPEAKNODE_PORTAL_EMBED_ORIGINS does not list (another port of `localhost`) gets
/// the frame refused by `frame-ancestors`. A picture of the framed dashboard lands in
/// `target/screenshots/embedded.png`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_platform_page_on_another_site_frames_the_dashboard_and_an_unlisted_one_cannot() {
    if std::env::var_os("SPEAKNODE_SKIP_BROWSER_TESTS").is_some_and(|v| !v.is_empty()) {
        eprintln!("skipped: SPEAKNODE_SKIP_BROWSER_TESTS is set");
        return;
    }
    let root = root();
    check_prerequisites(&root);
    // The platform's ports are needed before the service starts (they are its embed origins).
    let listed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let unlisted = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let listed_url = format!("http://localhost:{}", listed.local_addr().unwrap().port());
    let unlisted_url = format!("http://localhost:{}", unlisted.local_addr().unwrap().port());
    let origins = listed_url.clone();
    let app = TestApp::start_with(|args| {
        args.delivery_timeout = "1s".into();
        args.retry_schedule = "".into();
        args.portal.portal_embed_origins = Some(origins);
    })
    .await;
    let listed_host = HostPage::serve(listed, &app.base);
    let unlisted_host = HostPage::serve(unlisted, &app.base);
    let receiver = Receiver::ok().await;
    let screenshots = root.join("target/screenshots");
    std::fs::create_dir_all(&screenshots).unwrap();

    let mut command = Command::new("node");
    command
        .arg("tests/browser/embed.mjs")
        .current_dir(&root)
        .env("SPEAKNODE_BASE_URL", &app.base)
        .env("SPEAKNODE_API_KEY", API_KEY)
        .env("HOST_URL", &listed_url)
        .env("UNLISTED_HOST_URL", &unlisted_url)
        .env("RECEIVER_URL", &receiver.url)
        .env("SCREENSHOT_DIR", &screenshots)
        .env("CHROMIUM_PATH", CHROMIUM);
    let (passed, output) = tokio::task::spawn_blocking(move || run_journey(command))
        .await
        .unwrap();
    println!("{output}");
    assert!(passed, "the embedded journey failed:\n{output}");

    // What the customer did in the frame is what the service holds.
    assert_eq!(
        (listed_host.minted(), unlisted_host.minted()),
        (1, 1),
        "each platform page was opened once"
    );
    let (_, list) = app.get("/api/v1/webhooks").await;
    let webhooks = list["data"].as_array().unwrap();
    assert_eq!(webhooks.len(), 1, "{list}");
    assert_eq!(webhooks[0]["url"], receiver.url.as_str());
    assert_eq!(webhooks[0]["enabled"], true, "toggled off, then on again");
    let attempts = app.attempts(webhooks[0]["id"].as_str().unwrap()).await;
    assert_eq!(attempts.len(), 1, "{attempts:?}");
    assert_eq!(attempts[0]["trigger"], "test");
    assert_eq!(receiver.received().len(), 1);
    app.stop().await;
}
