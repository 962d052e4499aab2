//! `sqlite:` URLs, as the settings take them: `sqlite://relative/file.db`, `sqlite:///abs/file.db`
//! or `sqlite:file.db`. A query string (`?mode=rwc`, as other tools write it) is accepted and not
//! used: the file is always opened read-write and created if missing. An in-memory database is
//! refused, because the writer, the readers and the checkpointer each open the file on their own
//! connection and an in-memory database cannot be shared between them.

use std::path::PathBuf;

use crate::store::{StoreError, StoreResult};

/// The database file a `sqlite:` URL names.
pub fn file_path(url: &str) -> StoreResult<PathBuf> {
    let bad = |why: &str| StoreError::unavailable(format!("bad SQLite URL {url:?}: {why}"));
    let rest = url
        .strip_prefix("sqlite:")
        .ok_or_else(|| bad("it must start with sqlite:"))?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path == ":memory:" || query.split('&').any(|p| p == "mode=memory") {
        return Err(StoreError::unavailable(
            "an in-memory SQLite database cannot be shared by the service's connections; \
             name a file (sqlite://path/to/file.db)",
        ));
    }
    if path.is_empty() {
        return Err(bad("it names no file"));
    }
    let decoded = percent_decode(path).ok_or_else(|| bad("bad %-escape"))?;
    Ok(PathBuf::from(decoded))
}

/// `%20` and friends, as URLs spell spaces and other bytes in file names.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_file() {
        let path = |url| file_path(url).unwrap().display().to_string();
        assert_eq!(
            path("sqlite://speaknode-webhooks.db"),
            "speaknode-webhooks.db"
        );
        assert_eq!(
            path("sqlite:///var/lib/sn/db.sqlite"),
            "/var/lib/sn/db.sqlite"
        );
        assert_eq!(path("sqlite:data/x.db"), "data/x.db");
        assert_eq!(path("sqlite://x.db?mode=rwc"), "x.db");
        assert_eq!(path("sqlite:///tmp/my%20db.db"), "/tmp/my db.db");
    }

    #[test]
    fn refuses_memory_and_nonsense() {
        for url in [
            "sqlite::memory:",
            "sqlite://:memory:",
            "sqlite://x.db?mode=memory",
            "sqlite://",
            "postgres://x",
            "sqlite://bad%zz.db",
        ] {
            assert!(file_path(url).is_err(), "{url}");
        }
    }
}
