//! PostgreSQL: the shared store several `gatehouse serve` processes can use at once.

use std::str::FromStr;

use std::sync::Arc;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Pool, Postgres, Transaction};

use super::dialect::Dialect;
use shared::publishing::EventPublisher;

type Db = Postgres;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

pub struct PostgresStore {
    pool: Pool<Postgres>,
    deliveries_signal: std::sync::Arc<tokio::sync::Notify>,
    publisher: EventPublisher,
    /// The message envelopes this process has seen (`shared::envelopes`).
    envelopes: shared::envelopes::EnvelopeIds,
}

type Backend = PostgresStore;

impl PostgresStore {
    pub async fn connect(database_url: &str) -> Result<Self, super::StoreError> {
        Self::connect_with(PgConnectOptions::from_str(database_url)?).await
    }

    pub async fn connect_with(options: PgConnectOptions) -> Result<Self, super::StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .connect_with(options)
            .await?;
        Ok(Self::with_pool(pool))
    }

    /// Also starts listening for deliveries other processes made due, so their commits wake
    /// this process's workers too.
    fn with_pool(pool: Pool<Postgres>) -> Self {
        let deliveries_signal = std::sync::Arc::new(tokio::sync::Notify::new());
        let signal = deliveries_signal.clone();
        listen(
            &pool,
            DELIVERIES_CHANNEL,
            Some(PROCESS.as_str()),
            std::sync::Arc::new(move || signal.notify_one()),
        );
        let publisher = EventPublisher::start(pool.clone(), deliveries_signal.clone());
        Self {
            pool,
            deliveries_signal,
            publisher,
            envelopes: Default::default(),
        }
    }
}

/// The channel every process listens on; the payload is empty, a wake-up is all it carries.
/// It says a credential (token, role) or a signing key or secret changed.
const CREDENTIALS_CHANNEL: &str = "gatehouse_credentials";

/// The channel that says deliveries were made due; every process's workers listen. The payload
/// names the process that sent it (`PROCESS`).
const DELIVERIES_CHANNEL: &str = "gatehouse_deliveries";

/// This process, as the sender of its notices that deliveries are due. A process skips its
/// own: every commit that sends one also wakes this process's workers directly, and the echo
/// made each message cost a second, empty claim.
static PROCESS: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| uuid::Uuid::now_v7().to_string());

/// Calls `on_change` for every notification on `channel` (except those whose payload is
/// `skip`), in the background. When the listening connection is lost, notifications may have
/// been missed, so that counts as one too.
fn listen(
    pool: &Pool<Postgres>,
    channel: &'static str,
    skip: Option<&'static str>,
    on_change: std::sync::Arc<dyn Fn() + Send + Sync>,
) {
    let pool = pool.clone();
    tokio::spawn(async move {
        loop {
            let listening = async {
                let mut listener = sqlx::postgres::PgListener::connect_with(&pool).await?;
                listener.listen(channel).await?;
                loop {
                    let notification = listener.try_recv().await?;
                    let own = notification
                        .as_ref()
                        .is_some_and(|notification| Some(notification.payload()) == skip);
                    if !own {
                        on_change();
                    }
                }
                #[allow(unreachable_code)]
                Ok::<(), sqlx::Error>(())
            };
            if let Err(error) = listening.await {
                if pool.is_closed() {
                    return;
                }
                tracing::warn!(%error, channel, "lost a PostgreSQL listener; retrying");
            }
            on_change();
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    });
}

/// Queues a notification on `channel` in the transaction, so PostgreSQL delivers it exactly
/// when (and only if) it commits.
async fn notify(
    connection: &mut sqlx::PgConnection,
    channel: &str,
    payload: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(channel)
        .bind(payload)
        .execute(connection)
        .await?;
    Ok(())
}

impl Dialect for PostgresStore {
    type Db = Postgres;

    const SCIM_DIALECT: scim_sql::Dialect = scim_sql::Dialect::Postgres;
    /// Claims take row locks and skip rows another worker has locked, so workers on many
    /// nodes never lease the same delivery (or notice).
    const CLAIM_LOCK: &'static str = "FOR UPDATE OF d SKIP LOCKED";
    const NOTIFICATION_LOCK: &'static str = "FOR UPDATE OF n SKIP LOCKED";
    const SKIP_LOCKED: &'static str = "FOR UPDATE SKIP LOCKED";
    const BEGIN_WRITE: &'static str = "BEGIN";
    /// Any number of nodes deliver from one database: a lease is another node's until it runs
    /// out.
    const ONE_DELIVERING_PROCESS: bool = false;
    const EMBEDDED_FILE: bool = false;

    fn migrator() -> &'static sqlx::migrate::Migrator {
        &MIGRATOR
    }

    fn param(index: usize) -> String {
        format!("${index}")
    }

    fn pool(&self) -> &Pool<Postgres> {
        &self.pool
    }

    /// Any pooled connection: PostgreSQL has row locks.
    fn writer(&self) -> &Pool<Postgres> {
        &self.pool
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        self.pool.begin().await
    }

    fn deliveries_ready(&self) -> &Arc<tokio::sync::Notify> {
        &self.deliveries_signal
    }

    async fn notify_deliveries_ready(
        connection: &mut sqlx::PgConnection,
    ) -> Result<(), sqlx::Error> {
        notify(connection, DELIVERIES_CHANNEL, &PROCESS).await
    }

    async fn notify_credentials_changed(
        connection: &mut sqlx::PgConnection,
    ) -> Result<(), sqlx::Error> {
        notify(connection, CREDENTIALS_CHANNEL, "").await
    }

    fn listen_for_credential_changes(
        pool: &Pool<Postgres>,
        on_change: Arc<dyn Fn() + Send + Sync>,
    ) {
        listen(pool, CREDENTIALS_CHANNEL, None, on_change);
    }
}

// The SQL both backends share, compiled once for each: loading it twice is the point.
#[allow(
    clippy::duplicate_mod,
    reason = "store/shared is compiled once per backend, as a module of each"
)]
#[path = "shared/mod.rs"]
mod shared;
