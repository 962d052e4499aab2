//! A fresh PostgreSQL database per test, on the server named by `SPEAKNODE_TEST_DATABASE_URL`
//! (set by `.ci/run`, so CI always runs the PostgreSQL side).

#![allow(dead_code, clippy::unwrap_used)]

use sqlx::Connection;
use sqlx::postgres::PgConnection;

pub const ENV: &str = "SPEAKNODE_TEST_DATABASE_URL";

pub struct PgDb {
    pub url: String,
    name: String,
    admin_url: String,
}

impl PgDb {
    /// Creates an empty database; `None` when no PostgreSQL server is configured.
    pub async fn create() -> Option<Self> {
        let admin_url = std::env::var(ENV).ok()?;
        let name = format!(
            "sn_test_{}",
            speaknode_webhooks::domain::ids::random_base62(12).to_lowercase()
        );
        let mut admin = PgConnection::connect(&admin_url).await.unwrap();
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
