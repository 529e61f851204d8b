//! The embedded default: one SQLite file in WAL mode.
//!
//! SQLite allows one writer at a time, so write transactions start with `BEGIN IMMEDIATE`: a
//! writer waits for the lock up front (bounded by `busy_timeout`) instead of failing half-way
//! when a read transaction tries to upgrade.

use std::str::FromStr;
use std::time::Duration;

use std::sync::Arc;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Pool, Sqlite, Transaction};

use super::dialect::Dialect;
use shared::publishing::EventPublisher;

type Db = Sqlite;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

pub struct SqliteStore {
    pool: Pool<Sqlite>,
    /// The one connection that writes. SQLite allows one writer at a time; queueing writers
    /// here (fairly, and woken when the writer is done) replaces SQLite's busy handler, which
    /// makes a waiting writer sleep in growing steps — the benchmark saw 1 s stalls.
    writer: Pool<Sqlite>,
    deliveries_signal: Arc<tokio::sync::Notify>,
    publisher: EventPublisher,
}

type Backend = SqliteStore;

/// Page cache per connection, in KiB (up to nine connections: eight readers and the writer).
const CACHE_KIB: u32 = 32 * 1024;

impl SqliteStore {
    /// Opens (creating if needed) the database file a `sqlite://PATH` URL names, and the folder
    /// it lives in.
    pub async fn connect(database_url: &str) -> Result<Self, super::StoreError> {
        let options = SqliteConnectOptions::from_str(database_url)?;
        if let Some(folder) = options
            .get_filename()
            .parent()
            .filter(|folder| !folder.as_os_str().is_empty())
        {
            std::fs::create_dir_all(folder).map_err(sqlx::Error::Io)?;
        }
        Self::connect_with(options).await
    }

    pub async fn connect_with(options: SqliteConnectOptions) -> Result<Self, super::StoreError> {
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // With WAL, NORMAL still never corrupts the database; a power loss may drop the last
            // commits, while a process crash (kill -9) loses nothing.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            // SQLite's own page cache is 2 MiB by default: the delivery queue's working set
            // did not fit, and every claim and record read its pages again from the OS.
            .pragma("cache_size", format!("-{}", CACHE_KIB))
            // Rows SQLite's thread may read ahead of the task consuming them (default 50): a
            // claim reads hundreds, and must not wait for a busy executor while it holds the
            // write lock.
            .row_buffer_size(1024);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .min_connections(1)
            .connect_with(options.clone())
            .await?;
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .connect_with(options)
            .await?;
        Ok(Self::with_pools(pool, writer))
    }

    fn with_pools(pool: Pool<Sqlite>, writer: Pool<Sqlite>) -> Self {
        let deliveries_signal = Arc::new(tokio::sync::Notify::new());
        let publisher = EventPublisher::start(writer.clone(), deliveries_signal.clone());
        Self {
            pool,
            writer,
            deliveries_signal,
            publisher,
        }
    }
}

impl Dialect for SqliteStore {
    type Db = Sqlite;

    const SCIM_DIALECT: scim_sql::Dialect = scim_sql::Dialect::Sqlite;
    /// One SQLite file has one writer at a time, so a claim (a single `UPDATE`) can't
    /// interleave with another; there is nothing to skip.
    const CLAIM_LOCK: &'static str = "";
    const NOTIFICATION_LOCK: &'static str = "";
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";

    fn migrator() -> &'static sqlx::migrate::Migrator {
        &MIGRATOR
    }

    /// SQLite gets a bare `?`: for a named `$n` SQLite searches every parameter name on each
    /// bind, which made a 256-row statement spend most of its time in `strncmp`.
    fn param(_index: usize) -> String {
        "?".to_owned()
    }

    fn pool(&self) -> &Pool<Sqlite> {
        &self.pool
    }

    fn writer(&self) -> &Pool<Sqlite> {
        &self.writer
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        self.writer.begin_with(Self::BEGIN_WRITE).await
    }

    fn deliveries_ready(&self) -> &Arc<tokio::sync::Notify> {
        &self.deliveries_signal
    }

    /// Only this process uses an embedded database; the store's own signal is enough.
    async fn notify_deliveries_ready(
        _connection: &mut sqlx::SqliteConnection,
    ) -> Result<(), sqlx::Error> {
        Ok(())
    }

    /// Another process writing the same SQLite file (the admin CLI) can't signal us; the
    /// credential cache's short time-to-live bounds how long such a change goes unseen.
    async fn notify_credentials_changed(
        _connection: &mut sqlx::SqliteConnection,
    ) -> Result<(), sqlx::Error> {
        Ok(())
    }

    fn listen_for_credential_changes(
        _pool: &Pool<Sqlite>,
        _on_change: Arc<dyn Fn() + Send + Sync>,
    ) {
    }
}

// The SQL both backends share, compiled once for each: loading it twice is the point.
#[allow(
    clippy::duplicate_mod,
    reason = "store/shared is compiled once per backend, as a module of each"
)]
#[path = "shared/mod.rs"]
mod shared;
