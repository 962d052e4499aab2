//! The Python interpreter of the cross-check tests: `SPEAKNODE_TEST_PYTHON` (scripts/test points it
//! at target/venv, where it installed tests/requirements.txt), else target/venv if it exists, else
//! `python3`. A missing module fails the test with the command that installs it, unless
//! `SPEAKNODE_SKIP_PYTHON_TESTS=1` asks for the skip by name.

#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::Command;

pub const SKIP: &str = "SPEAKNODE_SKIP_PYTHON_TESTS";

fn interpreter() -> PathBuf {
    if let Some(path) = std::env::var_os("SPEAKNODE_TEST_PYTHON") {
        return path.into();
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/venv/bin/python");
    if venv.exists() {
        venv
    } else {
        "python3".into()
    }
}

/// A command running Python with `modules` importable; `None` only when the skip was asked for.
pub fn python(modules: &[&str]) -> Option<Command> {
    if std::env::var_os(SKIP).is_some_and(|v| !v.is_empty()) {
        eprintln!("skipped: {SKIP} is set");
        return None;
    }
    let python = interpreter();
    let imports = format!(
        "import {}",
        ["sys"]
            .iter()
            .chain(modules)
            .copied()
            .collect::<Vec<_>>()
            .join(", ")
    );
    let checked = Command::new(&python).args(["-c", &imports]).output();
    let fix = "run `scripts/test` (it makes target/venv with tests/requirements.txt), or \
               `python3 -m pip install -r tests/requirements.txt`, or set \
               SPEAKNODE_SKIP_PYTHON_TESTS=1 to skip these tests knowingly";
    match checked {
        Ok(out) if out.status.success() => Some(Command::new(python)),
        Ok(out) => panic!(
            "{} cannot import {modules:?}: {}\n{fix}",
            python.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(e) => panic!("cannot run {}: {e}\n{fix}", python.display()),
    }
}
