//! The embedded default: one SQLite file in WAL mode.
//!
//! SQLite allows one writer at a time, so write transactions start with `BEGIN IMMEDIATE`: a
//! writer waits for the lock up front (bounded by `busy_timeout`) instead of failing half-way
//! when a read transaction tries to upgrade.

use std::str::FromStr;
use std::time::Duration;

use std::sync::Arc;

use sqlx::sqlite::{SqliteAutoVacuum, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
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
    /// The worker publishing hands new deliveries to, if one registered.
    hand_offs: Arc<super::webhooks::HandOffSlot>,
    /// The message envelopes this process has seen (`shared::envelopes`).
    envelopes: shared::envelopes::EnvelopeIds,
}

type Backend = SqliteStore;

/// Page cache per connection, in KiB (up to nine connections: eight readers and the writer).
const CACHE_KIB: u32 = 32 * 1024;

/// When SQLite's commit returns, relative to the disk (its `synchronous` setting, in WAL mode).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum SqliteSynchronous {
    /// Every commit waits for the write-ahead log to reach the disk (`fsync`): what was
    /// acknowledged survives a power loss or a kernel crash. The default.
    #[default]
    Full,
    /// Commits return once written to the operating system; the log is synced at checkpoints.
    /// A process crash still loses nothing, but a power loss or kernel crash may drop the last
    /// commits — events already answered `202` among them. Faster on slow disks.
    Normal,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file a `sqlite://PATH` URL names, and the folder
    /// it lives in, with the durable default (`synchronous=FULL`).
    pub async fn connect(database_url: &str) -> Result<Self, super::StoreError> {
        Self::connect_synchronous(database_url, SqliteSynchronous::Full).await
    }

    /// [`Self::connect`] with the durability `synchronous` chooses.
    pub async fn connect_synchronous(
        database_url: &str,
        synchronous: SqliteSynchronous,
    ) -> Result<Self, super::StoreError> {
        let options = SqliteConnectOptions::from_str(database_url)?;
        if let Some(folder) = options
            .get_filename()
            .parent()
            .filter(|folder| !folder.as_os_str().is_empty())
        {
            std::fs::create_dir_all(folder).map_err(sqlx::Error::Io)?;
        }
        Self::connect_with(options.synchronous(match synchronous {
            SqliteSynchronous::Full => sqlx::sqlite::SqliteSynchronous::Full,
            SqliteSynchronous::Normal => sqlx::sqlite::SqliteSynchronous::Normal,
        }))
        .await
    }

    /// Opens the database `options` name in WAL mode with the store's settings; `options`
    /// keep their own `synchronous` (sqlx's default is `FULL`).
    pub async fn connect_with(options: SqliteConnectOptions) -> Result<Self, super::StoreError> {
        let options = options
            .create_if_missing(true)
            // A new file keeps the pages purges free apart, to give them back to the file
            // system in small steps (`PRAGMA incremental_vacuum`); older files are converted
            // once by `migrate`.
            .auto_vacuum(SqliteAutoVacuum::Incremental)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            // SQLite's own page cache is 2 MiB by default: the delivery queue's working set
            // did not fit, and every claim and record read its pages again from the OS.
            .pragma("cache_size", format!("-{}", CACHE_KIB))
            // Rows SQLite's thread may read ahead of the task consuming them (default 50): a
            // claim reads hundreds, and must not wait for a busy executor while it holds the
            // write lock.
            .row_buffer_size(1024);
        // No ping before each use (sqlx's default): a connection to a file in this process
        // does not go away, and the ping was a second trip to the connection's thread for
        // every statement.
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .min_connections(1)
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await?;
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .test_before_acquire(false)
            .connect_with(options)
            .await?;
        Ok(Self::with_pools(pool, writer))
    }

    fn with_pools(pool: Pool<Sqlite>, writer: Pool<Sqlite>) -> Self {
        let deliveries_signal = Arc::new(tokio::sync::Notify::new());
        let hand_offs = Arc::new(super::webhooks::HandOffSlot::default());
        let publisher =
            EventPublisher::start(writer.clone(), deliveries_signal.clone(), hand_offs.clone());
        Self {
            pool,
            writer,
            deliveries_signal,
            publisher,
            hand_offs,
            envelopes: Default::default(),
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
    const SKIP_LOCKED: &'static str = "";
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";
    /// `serve` is the one process delivering from an SQLite file (the admin CLI never does).
    const ONE_DELIVERING_PROCESS: bool = true;
    const WITH_WRITES: bool = false;
    const EMBEDDED_FILE: bool = true;

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

    fn hand_offs(&self) -> Option<&super::webhooks::HandOffSlot> {
        Some(&self.hand_offs)
    }

    fn deliveries_ready(&self) -> &Arc<tokio::sync::Notify> {
        &self.deliveries_signal
    }

    /// Statements cost no round trip here: the shared transaction does it.
    async fn append_published(
        _pool: &Pool<Sqlite>,
        _events: &[&crate::domain::NewEvent],
        _lease: Option<&super::webhooks::HandOffLease>,
    ) -> Option<super::StoreResult<super::dialect::AppendedInOne>> {
        None
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

#[cfg(test)]
mod tests {
    use super::shared::PENDING_OF_WEBHOOK;
    use super::shared::deliveries::{
        DeliveryBind, bind_delivery_filter, delivery_conditions, page_of_deliveries,
    };
    use super::shared::queue::AN_EARLIER_ORDERED_PENDS;
    use super::{SqliteStore, SqliteSynchronous};
    use crate::domain::{DeliveryStatus, WebhookId};
    use crate::store::{DatabaseStore, DeliveryFilter};

    /// `PRAGMA synchronous` of the reading pool and of the writer: 2 is FULL, 1 is NORMAL.
    async fn synchronous_of(store: &SqliteStore) -> (i64, i64) {
        let query = "PRAGMA synchronous";
        let read = sqlx::query_scalar(query).fetch_one(&store.pool);
        let written = sqlx::query_scalar(query).fetch_one(&store.writer);
        (read.await.expect("read"), written.await.expect("writer"))
    }

    /// How SQLite would read one page of deliveries for `filter`: the plan's detail lines.
    async fn page_plan(store: &SqliteStore, filter: &DeliveryFilter) -> String {
        let (conditions, binds) = delivery_conditions(filter);
        let page = page_of_deliveries(&conditions, binds.len() + 2);
        let query = sqlx::query_as::<_, (i64, i64, i64, String)>(sqlx::AssertSqlSafe(format!(
            "EXPLAIN QUERY PLAN {page}"
        )));
        let rows = bind_delivery_filter!(query.bind("acme"), &binds)
            .bind(25_i64)
            .fetch_all(&store.pool)
            .await
            .expect("plan");
        details(rows)
    }

    /// The detail lines of `EXPLAIN QUERY PLAN`'s rows, one per line.
    fn details(rows: Vec<(i64, i64, i64, String)>) -> String {
        rows.into_iter()
            .map(|(.., detail)| detail)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// A page of deliveries is one range of one index, read in the page's order: the status
    /// indexes hold only deliveries that did not succeed (migration 0022), so a page of pending
    /// or failed ones must repeat their predicate; every listing index ends in the id, which
    /// sorts as `created_at` does (migration 0023), so no page sorts. A condition that stopped
    /// matching its index would pass every other test and read a million rows for a page of ten.
    #[tokio::test]
    async fn a_page_of_deliveries_is_one_range_of_an_index_in_its_order() {
        let folder = tempfile::tempdir().expect("temporary folder");
        let url = format!("sqlite://{}", folder.path().join("g.db").display());
        let store = SqliteStore::connect(&url).await.expect("open");
        store.migrate().await.expect("migrate");
        let webhook = Some(WebhookId(uuid::Uuid::now_v7()));
        let status = |status| DeliveryFilter {
            status: Some(status),
            ..DeliveryFilter::default()
        };
        let yesterday = chrono::Utc::now() - chrono::TimeDelta::days(1);
        for (filter, index) in [
            (DeliveryFilter::default(), "webhook_deliveries_by_account"),
            (
                status(DeliveryStatus::Failed),
                "webhook_deliveries_unsucceeded_by_account",
            ),
            (
                status(DeliveryStatus::Pending),
                "webhook_deliveries_unsucceeded_by_account",
            ),
            (
                status(DeliveryStatus::Succeeded),
                "webhook_deliveries_by_account",
            ),
            (
                DeliveryFilter {
                    webhook_id: webhook,
                    ..status(DeliveryStatus::Failed)
                },
                "webhook_deliveries_unsucceeded_by_webhook",
            ),
            (
                DeliveryFilter {
                    webhook_id: webhook,
                    ..status(DeliveryStatus::Succeeded)
                },
                "webhook_deliveries_by_webhook",
            ),
            (
                DeliveryFilter {
                    event: Some("person.create".to_owned()),
                    ..DeliveryFilter::default()
                },
                "webhook_deliveries_by_event",
            ),
            (
                DeliveryFilter {
                    created_after: Some(yesterday),
                    created_before: Some(yesterday + chrono::TimeDelta::hours(1)),
                    ..DeliveryFilter::default()
                },
                "webhook_deliveries_by_account",
            ),
        ] {
            let plan = page_plan(&store, &filter).await;
            assert!(
                plan.contains(&format!("USING INDEX {index} ")),
                "{filter:?} should be read from {index}:\n{plan}"
            );
            assert!(
                !plan.contains("TEMP B-TREE"),
                "{filter:?} should be read in the page's order:\n{plan}"
            );
        }
        let after = page_plan(
            &store,
            &DeliveryFilter {
                created_after: Some(yesterday),
                ..DeliveryFilter::default()
            },
        )
        .await;
        assert!(after.contains("(account_id=? AND id>?)"), "{after}");
    }

    /// The plan's detail lines for `sql`, whose placeholders are all text.
    async fn plan_of(store: &SqliteStore, sql: &str, placeholders: usize) -> String {
        let mut query = sqlx::query_as::<_, (i64, i64, i64, String)>(sqlx::AssertSqlSafe(format!(
            "EXPLAIN QUERY PLAN {sql}"
        )));
        for _ in 0..placeholders {
            query = query.bind("x");
        }
        details(query.fetch_all(&store.pool).await.expect("plan"))
    }

    /// Only ordered deliveries are written to the index the claim's ordering check reads
    /// (migration 0026), and the other lookups of a webhook's pending deliveries — parking,
    /// unparking — read the index of unsucceeded ones: SQLite uses a partial index only when the
    /// query repeats its condition, so a reworded query would scan every delivery of the webhook.
    #[tokio::test]
    async fn a_webhooks_pending_deliveries_are_read_from_partial_indexes() {
        let folder = tempfile::tempdir().expect("temporary folder");
        let url = format!("sqlite://{}", folder.path().join("g.db").display());
        let store = SqliteStore::connect(&url).await.expect("open");
        store.migrate().await.expect("migrate");
        let ordering = plan_of(
            &store,
            &format!(
                "SELECT d.id FROM webhook_deliveries d WHERE d.id = $1 AND d.ordered = TRUE \
                 AND NOT {AN_EARLIER_ORDERED_PENDS}"
            ),
            1,
        )
        .await;
        assert!(
            ordering.contains(
                "USING COVERING INDEX webhook_deliveries_ordered_pending (webhook_id=? AND \
                 event_id<?)"
            ),
            "{ordering}"
        );
        let parked = plan_of(
            &store,
            &format!(
                "SELECT id FROM webhook_deliveries WHERE {PENDING_OF_WEBHOOK} \
                 AND next_attempt_at IS NULL"
            ),
            1,
        )
        .await;
        assert!(
            parked.contains(
                "USING INDEX webhook_deliveries_unsucceeded_by_webhook (webhook_id=? AND status=?)"
            ),
            "{parked}"
        );
        // The queue (migration 0027): a claim reads due rows in order from the due index; parking
        // and unparking find a webhook's pending deliveries in the unsucceeded index and their
        // queue rows by key (the queue has no index by webhook).
        let due = plan_of(
            &store,
            "SELECT d.delivery_id FROM webhook_delivery_queue d \
             WHERE d.due_at IS NOT NULL AND d.due_at <= $1 ORDER BY d.due_at LIMIT 512",
            1,
        )
        .await;
        assert!(
            due.contains("INDEX webhook_delivery_queue_due (due_at>? AND due_at<?)")
                && !due.contains("TEMP B-TREE"),
            "{due}"
        );
        let of_webhook = plan_of(
            &store,
            &format!(
                "SELECT delivery_id FROM webhook_delivery_queue WHERE delivery_id IN ( \
                 SELECT id FROM webhook_deliveries WHERE {PENDING_OF_WEBHOOK}) AND due_at IS NULL"
            ),
            1,
        )
        .await;
        assert!(
            of_webhook.contains(
                "INDEX webhook_deliveries_unsucceeded_by_webhook (webhook_id=? AND status=?)"
            ) && of_webhook.contains("USING PRIMARY KEY (delivery_id=?)"),
            "{of_webhook}"
        );
        let indexes: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'index' \
             AND tbl_name = 'webhook_deliveries' AND name LIKE '%pending%'",
        )
        .fetch_all(&store.pool)
        .await
        .expect("indexes");
        assert_eq!(indexes, ["webhook_deliveries_ordered_pending"]);
    }

    #[tokio::test]
    async fn commits_wait_for_the_disk_unless_told_otherwise() {
        let folder = tempfile::tempdir().expect("temporary folder");
        let url = format!("sqlite://{}", folder.path().join("g.db").display());
        let durable = SqliteStore::connect(&url).await.expect("open");
        assert_eq!(synchronous_of(&durable).await, (2, 2));
        let fast = SqliteStore::connect_synchronous(&url, SqliteSynchronous::Normal)
            .await
            .expect("open");
        assert_eq!(synchronous_of(&fast).await, (1, 1));
    }
}
