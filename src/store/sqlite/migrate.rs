//! The schema's migrations (`migrations/sqlite/*.sql`), applied in order when the store opens.
//!
//! The ledger is sqlx's table in sqlx's format (`_sqlx_migrations`, a SHA-384 checksum of each
//! file), which PostgreSQL's migrations still use: databases made by releases that migrated
//! SQLite through sqlx upgrade in place, and both backends' ledgers read the same. Each migration
//! runs in its own `BEGIN IMMEDIATE` transaction with its ledger row, re-checked under the lock,
//! so two processes opening one file at once apply it once.

use std::time::Instant;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use sha2::{Digest, Sha384};

use crate::store::{StoreError, StoreResult};

pub struct Migration {
    pub version: i64,
    pub description: &'static str,
    pub sql: &'static str,
}

macro_rules! migration {
    ($version:literal, $prefix:literal, $name:literal) => {
        Migration {
            version: $version,
            description: $name,
            sql: include_str!(concat!(
                "../../../migrations/sqlite/",
                $prefix,
                "_",
                $name,
                ".sql"
            )),
        }
    };
}

/// Every file of `migrations/sqlite`, in order (a test checks that none is missing).
pub const MIGRATIONS: &[Migration] = &[
    migration!(1, "0001", "init"),
    migration!(2, "0002", "dashboard"),
    migration!(3, "0003", "reliability"),
    migration!(4, "0004", "retention"),
    migration!(5, "0005", "traceparent"),
    migration!(6, "0006", "delivery_options"),
    migration!(7, "0007", "disabled_at"),
    migration!(8, "0008", "fair_claims"),
    migration!(9, "0009", "portal"),
    migration!(10, "0010", "attempt_stats"),
    migration!(11, "0011", "lean_deliveries"),
    migration!(12, "0012", "lean_indexes"),
];

const LEDGER: &str = "CREATE TABLE IF NOT EXISTS _sqlx_migrations (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    success BOOLEAN NOT NULL,
    checksum BLOB NOT NULL,
    execution_time BIGINT NOT NULL
)";

/// Applies the migrations this database has not had yet; refuses a database whose applied
/// migrations differ from this release's (edited, failed halfway, or from a newer release).
pub fn run(conn: &mut Connection) -> StoreResult<()> {
    conn.execute_batch(LEDGER)?;
    check_applied(conn)?;
    for migration in MIGRATIONS {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if applied_checksum(&tx, migration.version)?.is_none() {
            let started = Instant::now();
            tx.execute_batch(migration.sql).map_err(|e| {
                failed(format!(
                    "migration {} ({}) failed: {e}",
                    migration.version, migration.description
                ))
            })?;
            tx.execute(
                "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
                 VALUES (?1, ?2, TRUE, ?3, ?4)",
                params![
                    migration.version,
                    migration.description,
                    checksum(migration.sql),
                    started.elapsed().as_nanos() as i64
                ],
            )?;
        }
        tx.commit()?;
    }
    Ok(())
}

fn check_applied(conn: &Connection) -> StoreResult<()> {
    let mut rows = conn.prepare("SELECT version, success, checksum FROM _sqlx_migrations")?;
    let applied = rows
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, bool>(1)?,
                r.get::<_, Vec<u8>>(2)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    for (version, success, stored) in applied {
        let Some(migration) = MIGRATIONS.iter().find(|m| m.version == version) else {
            return Err(failed(format!(
                "the database has migration {version}, which this release does not know: \
                 it was made by a newer release"
            )));
        };
        if !success {
            return Err(failed(format!(
                "migration {version} ({}) failed partway in an earlier run; restore a backup",
                migration.description
            )));
        }
        if stored != checksum(migration.sql) {
            return Err(failed(format!(
                "migration {version} ({}) was changed after this database applied it",
                migration.description
            )));
        }
    }
    Ok(())
}

fn applied_checksum(conn: &Connection, version: i64) -> StoreResult<Option<Vec<u8>>> {
    Ok(conn
        .query_row(
            "SELECT checksum FROM _sqlx_migrations WHERE version = ?1",
            [version],
            |r| r.get(0),
        )
        .optional()?)
}

fn checksum(sql: &str) -> Vec<u8> {
    Sha384::digest(sql.as_bytes()).to_vec()
}

fn failed(message: String) -> StoreError {
    StoreError::internal(format!("migration failed: {message}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_is_listed_in_order() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".sql"))
            .collect();
        files.sort();
        let listed: Vec<String> = MIGRATIONS
            .iter()
            .map(|m| format!("{:04}_{}.sql", m.version, m.description))
            .collect();
        assert_eq!(files, listed);
    }

    #[test]
    fn applies_once_and_refuses_an_edited_migration() {
        let mut conn = Connection::open_in_memory().unwrap();
        run(&mut conn).unwrap();
        run(&mut conn).unwrap();
        let count: i64 = conn
            .query_row("SELECT COUNT(*) FROM _sqlx_migrations", [], |r| r.get(0))
            .unwrap();
        assert_eq!(count, MIGRATIONS.len() as i64);
        conn.execute(
            "UPDATE _sqlx_migrations SET checksum = x'00' WHERE version = 2",
            [],
        )
        .unwrap();
        let err = run(&mut conn).unwrap_err().to_string();
        assert!(err.contains("migration 2 (dashboard) was changed"), "{err}");
        conn.execute(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
             VALUES (999, 'future', TRUE, x'00', 0)",
            [],
        )
        .unwrap();
        conn.execute("DELETE FROM _sqlx_migrations WHERE version = 2", [])
            .unwrap();
        let err = run(&mut conn).unwrap_err().to_string();
        assert!(err.contains("newer release"), "{err}");
    }
}
