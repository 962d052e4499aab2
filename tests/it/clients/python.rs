//! The Python client's own suite (clients/python/tests: the shared vectors, the retry rules, and
//! the journey against the service) run with the pinned packages of tests/requirements.txt.

use super::{Live, dir};
use crate::common;

#[tokio::test]
async fn the_python_client_works_against_the_service_and_a_retried_emit_stores_one_event() {
    let Some(mut python) = common::python::python(&["httpx", "attrs"]) else {
        return;
    };
    let live = Live::start().await;
    python
        .current_dir(dir("python"))
        .env("PYTHONPATH", dir("python"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .args(["-m", "unittest", "discover", "-v", "-s", "tests"]);
    live.run("Python client", python).await;
}
