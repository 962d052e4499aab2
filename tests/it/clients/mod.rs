//! The clients under `clients/`, held to what the issue promised: generated from the document the
//! service serves and still equal to what it generates (`drift`).

mod drift;

use std::path::PathBuf;
use std::process::Command;

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
