//! The store a bench runs against, shared by the benches (`#[path]`-included): a fresh SQLite
//! file in a temporary folder, or a fresh schema of the PostgreSQL at
//! `GATEHOUSE_TEST_POSTGRES_URL` (else 127.0.0.1:5432/test), dropped at the end unless
//! `GATEHOUSE_BENCH_KEEP` is set.

use std::str::FromStr;
use std::sync::Arc;

use gatehouse::store::{DatabaseStore, PostgresStore, SqliteStore, Store};

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The store under test and what keeps it alive: the SQLite folder or the PostgreSQL schema.
pub struct Database {
    pub store: Arc<dyn Store>,
    folder: Option<tempfile::TempDir>,
    /// The server's URL and the schema, on PostgreSQL.
    pub postgres_schema: Option<(String, String)>,
}

impl Database {
    pub async fn open(backend: &str) -> Self {
        match backend {
            "sqlite" => {
                let folder = tempfile::tempdir().expect("temporary folder");
                let url = format!("sqlite://{}/gatehouse.db", folder.path().display());
                let store = SqliteStore::connect(&url).await.expect("open SQLite");
                store.migrate().await.expect("migrate SQLite");
                Self {
                    store: Arc::new(store),
                    folder: Some(folder),
                    postgres_schema: None,
                }
            }
            "postgres" => {
                let url = std::env::var("GATEHOUSE_TEST_POSTGRES_URL")
                    .unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned());
                let schema = format!("bench_{}", uuid::Uuid::new_v4().simple());
                let admin = sqlx::PgPool::connect(&url)
                    .await
                    .unwrap_or_else(|error| panic!("PostgreSQL at {url}: {error}"));
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                    .execute(&admin)
                    .await
                    .expect("create schema");
                admin.close().await;
                let options = sqlx::postgres::PgConnectOptions::from_str(&url)
                    .expect("PostgreSQL URL")
                    .options([("search_path", schema.as_str())]);
                let store = PostgresStore::connect_with(options)
                    .await
                    .expect("open PostgreSQL");
                store.migrate().await.expect("migrate PostgreSQL");
                Self {
                    store: Arc::new(store),
                    folder: None,
                    postgres_schema: Some((url, schema)),
                }
            }
            other => panic!("unknown backend {other:?}: expected sqlite or postgres"),
        }
    }

    /// What a long-running PostgreSQL has after autovacuum (the test server runs without it):
    /// `tables` vacuumed (visibility map set) and analyzed. Nothing on SQLite.
    pub async fn vacuum_analyze(&self, tables: &[&str]) {
        if let Some((url, schema)) = &self.postgres_schema {
            let pool = sqlx::PgPool::connect(url).await.expect("connect");
            for table in tables {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "VACUUM ANALYZE {schema}.{table}"
                )))
                .execute(&pool)
                .await
                .expect("vacuum analyze");
            }
            pool.close().await;
        }
    }

    /// Drops the schema or the SQLite folder, unless `GATEHOUSE_BENCH_KEEP` is set.
    pub async fn finish(mut self) {
        let keep = std::env::var_os("GATEHOUSE_BENCH_KEEP").is_some();
        if let Some(folder) = self.folder.take()
            && keep
        {
            eprintln!(
                "  keeping SQLite database {}/gatehouse.db",
                folder.keep().display()
            );
        }
        if let Some((url, schema)) = &self.postgres_schema {
            if keep {
                eprintln!("  keeping PostgreSQL schema {schema}");
                return;
            }
            let pool = sqlx::PgPool::connect(url).await.expect("connect");
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
                .execute(&pool)
                .await
                .expect("drop schema");
            pool.close().await;
        }
    }
}
