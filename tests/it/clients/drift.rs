//! The committed clients are what the pinned generators make of the document the service serves
//! today: a route or schema changed in the handlers and not regenerated fails here, naming the
//! command that fixes it (`scripts/generate-clients`, then review the diff).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{dir, npm};
use crate::common::{self, TestApp};

const FIX: &str = "run `scripts/generate-clients` and commit what it changes";

/// Every file under `root` (but caches) by its path relative to `root`.
fn tree(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy();
            if name == "__pycache__" || name == ".ruff_cache" {
                continue;
            }
            if path.is_dir() {
                dirs.push(path);
            } else {
                let relative = path.strip_prefix(root).unwrap().to_path_buf();
                files.insert(relative, std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

fn run(mut command: Command, what: &str) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn the_committed_document_is_what_the_service_serves() {
    let app = TestApp::start().await;
    let served = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let committed = std::fs::read_to_string(dir("openapi.json")).unwrap();
    assert!(
        served == committed,
        "clients/openapi.json is not what the service serves: {FIX}"
    );
}

#[test]
fn the_python_client_is_what_openapi_python_client_makes_of_the_document() {
    let Some(mut python) = common::python::python(&["openapi_python_client"]) else {
        return;
    };
    // Its post-hooks run the pinned ruff, which sits beside the interpreter in the venv.
    let bin = Path::new(python.get_program())
        .parent()
        .unwrap()
        .to_path_buf();
    let path = std::env::join_paths(
        std::iter::once(bin).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let package = out.path().join("speaknode_webhooks_api");
    python
        .env("PATH", path)
        .args([
            "-m",
            "openapi_python_client",
            "generate",
            "--meta",
            "none",
            "--overwrite",
        ])
        .arg("--path")
        .arg(dir("openapi.json"))
        .arg("--config")
        .arg(dir("python/generator.yaml"))
        .arg("--output-path")
        .arg(&package);
    run(python, "openapi-python-client");
    let (made, committed) = (tree(&package), tree(&dir("python/speaknode_webhooks_api")));
    let differ: BTreeSet<_> = made
        .keys()
        .chain(committed.keys())
        .filter(|k| made.get(*k) != committed.get(*k))
        .collect();
    assert!(
        differ.is_empty(),
        "these generated Python files differ: {differ:?}\n{FIX}"
    );
}

#[test]
fn the_typescript_types_are_what_openapi_typescript_makes_of_the_document() {
    // The package's own script (the one `npm run generate` writes to the file), so its flags are
    // used as they are.
    let output = npm(&["run", "--silent", "openapi-types"]).output().unwrap();
    assert!(
        output.status.success(),
        "openapi-typescript failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let committed = std::fs::read(dir("typescript/src/generated/api.ts")).unwrap();
    assert!(
        output.stdout == committed,
        "clients/typescript/src/generated/api.ts differs from what openapi-typescript makes: {FIX}"
    );
}

#[tokio::test]
async fn every_route_the_rust_client_calls_is_in_the_served_document() {
    let app = TestApp::start().await;
    let document = common::openapi_document(&app).await;
    for (method, path) in speaknode_client::ROUTES {
        assert!(
            document["paths"][path][method].is_object(),
            "speaknode-client calls {method} {path}, which the service no longer serves"
        );
    }
}
