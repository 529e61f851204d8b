//! A fresh schema in the test PostgreSQL for one test or bench, and its removal: the one place
//! the tests (`common`) and the benches (`#[path]`-included by benches/support/database.rs)
//! create and drop schemas. It uses only the crate's own dependencies, so both can include it.

use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;

/// The server the tests and benches use unless `GATEHOUSE_TEST_POSTGRES_URL` names another.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// `GATEHOUSE_TEST_POSTGRES_URL`, else [`DEFAULT_POSTGRES_URL`].
pub fn postgres_url() -> String {
    std::env::var("GATEHOUSE_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

/// A schema of its own in the server at `server_url`. Dropping the value leaves the schema;
/// [`PostgresSchema::drop_schema`] removes it, [`TemporarySchema`] does so when dropped.
#[derive(Clone, Debug)]
pub struct PostgresSchema {
    pub server_url: String,
    pub name: String,
}

impl PostgresSchema {
    /// Creates the schema `{prefix}_{a fresh UUID}`; panics when the server can't be reached.
    pub async fn create(server_url: &str, prefix: &str) -> Self {
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        let admin = sqlx::PgPool::connect(server_url)
            .await
            .unwrap_or_else(|error| panic!("PostgreSQL at {server_url}: {error}"));
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}")))
            .execute(&admin)
            .await
            .expect("create schema");
        admin.close().await;
        Self {
            server_url: server_url.to_owned(),
            name,
        }
    }

    /// Options connecting to the server with this schema as the search path.
    pub fn connect_options(&self) -> PgConnectOptions {
        PgConnectOptions::from_str(&self.server_url)
            .expect("PostgreSQL URL")
            .options([("search_path", self.name.as_str())])
    }

    /// The server URL with this schema as the search path, for other processes: sqlx passes
    /// `options` to the server as startup options (libpq's convention).
    pub fn url_with_search_path(&self) -> String {
        let separator = if self.server_url.contains('?') {
            '&'
        } else {
            '?'
        };
        format!(
            "{}{separator}options=-c%20search_path%3D{}",
            self.server_url, self.name
        )
    }

    /// Drops the schema and everything in it.
    pub async fn drop_schema(&self) -> Result<(), sqlx::Error> {
        let pool = sqlx::PgPool::connect(&self.server_url).await?;
        let dropped = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS {} CASCADE",
            self.name
        )))
        .execute(&pool)
        .await;
        pool.close().await;
        dropped.map(|_| ())
    }
}

/// A [`PostgresSchema`] dropped (best effort) when the value is: a test's schema goes when the
/// test ends, passed or failed.
pub struct TemporarySchema(pub PostgresSchema);

impl std::ops::Deref for TemporarySchema {
    type Target = PostgresSchema;

    fn deref(&self) -> &PostgresSchema {
        &self.0
    }
}

impl Drop for TemporarySchema {
    fn drop(&mut self) {
        let schema = self.0.clone();
        // A thread and runtime of its own: Drop can't await, and the test's runtime may be
        // shutting down.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(schema.drop_schema()).ok()
        })
        .join();
    }
}
