//! A fresh PostgreSQL database per test, on the server named by `SPEAKNODE_TEST_DATABASE_URL`
//! (`scripts/test` starts PostgreSQL and sets it). Without it the PostgreSQL tests fail and say
//! how to fix that, unless `SPEAKNODE_SKIP_POSTGRES_TESTS=1` asks for the skip by name.

#![allow(dead_code, clippy::unwrap_used)]

use sqlx::Connection;
use sqlx::postgres::PgConnection;

pub const ENV: &str = "SPEAKNODE_TEST_DATABASE_URL";
pub const SKIP: &str = "SPEAKNODE_SKIP_POSTGRES_TESTS";

const FIX: &str = "run `scripts/test` (it starts PostgreSQL and sets SPEAKNODE_TEST_DATABASE_URL), \
    or start PostgreSQL (`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`) \
    and set SPEAKNODE_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres, \
    or set SPEAKNODE_SKIP_POSTGRES_TESTS=1 to skip the PostgreSQL side knowingly";

/// The admin URL of the test server; `None` only when the skip was asked for.
fn admin_url() -> Option<String> {
    if std::env::var_os(SKIP).is_some_and(|v| !v.is_empty()) {
        eprintln!("PostgreSQL side skipped: {SKIP} is set");
        return None;
    }
    match std::env::var(ENV) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => panic!("{ENV} is not set: {FIX}"),
    }
}

pub struct PgDb {
    pub url: String,
    name: String,
    admin_url: String,
}

impl PgDb {
    /// Creates an empty database; `None` only when the PostgreSQL tests are skipped by name.
    pub async fn create() -> Option<Self> {
        let admin_url = admin_url()?;
        let name = format!(
            "sn_test_{}",
            speaknode_webhooks::domain::ids::random_base62(12).to_lowercase()
        );
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {ENV}: {e}\n{FIX}"));
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap();
        admin.close().await.unwrap();
        let mut url = url::Url::parse(&admin_url).unwrap();
        url.set_path(&name);
        Some(Self {
            url: url.to_string(),
            name,
            admin_url,
        })
    }

    /// Drops the database, disconnecting whoever is still on it.
    pub async fn drop_database(self) {
        let mut admin = PgConnection::connect(&self.admin_url).await.unwrap();
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut admin)
            .await
            .unwrap();
        admin.close().await.unwrap();
    }
}
