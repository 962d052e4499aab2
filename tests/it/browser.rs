//! The dashboard in real headless Chromium: this test starts the service and a real receiver,
//! then runs `tests/browser/journey.mjs` (playwright-core driving Debian's `/usr/bin/chromium`)
//! through a user's whole journey, then through a short pass over a branded service, and passes
//! only if that script exits 0 both times: every step worked and axe-core found no serious or
//! critical accessibility problem on any page, light or dark. Screenshots of each main page, in
//! both schemes, land in `target/screenshots/`.
//!
//! Needs `node`, `/usr/bin/chromium` and `npm ci --prefix tests/browser` (`scripts/test` installs
//! them). Set `SPEAKNODE_SKIP_BROWSER_TESTS=1` to skip it knowingly on a machine without them.

#![allow(clippy::unwrap_used)]

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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
