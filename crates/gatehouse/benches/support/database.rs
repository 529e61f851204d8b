//! The store a bench runs against, shared by the benches (`#[path]`-included): a fresh SQLite
//! file in a temporary folder, or a fresh schema of the PostgreSQL at
//! `GATEHOUSE_TEST_POSTGRES_URL` (else 127.0.0.1:5432/test), dropped at the end unless
//! `GATEHOUSE_BENCH_KEEP` is set. The schema is made and dropped as the tests do theirs.

use std::sync::Arc;

use gatehouse::store::{DatabaseStore, PostgresStore, SqliteStore, Store};

#[path = "../../tests/it/common/postgres_schema.rs"]
#[allow(dead_code)] // the tests' half: dropping a schema with the value
pub mod postgres_schema;

use postgres_schema::{PostgresSchema, postgres_url};

/// The store under test and what keeps it alive: the SQLite folder or the PostgreSQL schema.
pub struct Database {
    pub store: Arc<dyn Store>,
    folder: Option<tempfile::TempDir>,
    /// The schema, on PostgreSQL.
    pub postgres_schema: Option<PostgresSchema>,
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
                let schema = PostgresSchema::create(&postgres_url(), "bench").await;
                let store = PostgresStore::connect_with(schema.connect_options())
                    .await
                    .expect("open PostgreSQL");
                store.migrate().await.expect("migrate PostgreSQL");
                Self {
                    store: Arc::new(store),
                    folder: None,
                    postgres_schema: Some(schema),
                }
            }
            other => panic!("unknown backend {other:?}: expected sqlite or postgres"),
        }
    }

    /// What a long-running PostgreSQL has after autovacuum (the test server runs without it):
    /// `tables` vacuumed (visibility map set) and analyzed. Nothing on SQLite.
    pub async fn vacuum_analyze(&self, tables: &[&str]) {
        if let Some(PostgresSchema {
            server_url,
            name: schema,
        }) = &self.postgres_schema
        {
            let pool = sqlx::PgPool::connect(server_url).await.expect("connect");
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
        if let Some(schema) = &self.postgres_schema {
            if keep {
                eprintln!("  keeping PostgreSQL schema {}", schema.name);
                return;
            }
            schema.drop_schema().await.expect("drop schema");
        }
    }
}
