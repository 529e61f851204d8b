//! PostgreSQL: the shared store several `gatehouse serve` processes can use at once.

use std::str::FromStr;

use std::sync::Arc;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Pool, Postgres, Transaction};

use super::StoreResult;
use super::dialect::{AppendedInOne, Dialect};
use crate::domain::{DeliveryId, EventPattern, NewEvent, truncate_to_micros};
use shared::publishing::EventPublisher;
use sqlx::types::Json;
use sqlx::{FromRow, Row};

type Db = Postgres;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

pub struct PostgresStore {
    pool: Pool<Postgres>,
    deliveries_signal: std::sync::Arc<tokio::sync::Notify>,
    publisher: EventPublisher,
    /// The worker publishing hands new deliveries to, if one registered.
    hand_offs: Arc<super::webhooks::HandOffSlot>,
    /// The message envelopes this process has seen (`shared::envelopes`).
    envelopes: shared::envelopes::EnvelopeIds,
}

type Backend = PostgresStore;

impl PostgresStore {
    pub async fn connect(database_url: &str) -> Result<Self, super::StoreError> {
        Self::connect_with(PgConnectOptions::from_str(database_url)?).await
    }

    pub async fn connect_with(options: PgConnectOptions) -> Result<Self, super::StoreError> {
        let pool = pool_options(16).connect_with(options).await?;
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
        let hand_offs = Arc::new(super::webhooks::HandOffSlot::default());
        // The publishing tasks' own connections, one each: at everyday rates every event is a
        // statement of its own, and on the shared pool (which hands out its idle connections
        // in turn) each would run on the next of several server processes.
        let publishing = pool_options(shared::publishing::PUBLISH_TASKS as u32)
            .connect_lazy_with((*pool.connect_options()).clone());
        let publisher =
            EventPublisher::start(publishing, deliveries_signal.clone(), hand_offs.clone());
        Self {
            pool,
            deliveries_signal,
            publisher,
            hand_offs,
            envelopes: Default::default(),
        }
    }
}

/// A pool of at most `connections`, each pinged before use only after `PING_AFTER_IDLE`.
fn pool_options(connections: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(connections)
        .test_before_acquire(false)
        .before_acquire(|connection, metadata| {
            Box::pin(async move {
                if metadata.idle_for >= PING_AFTER_IDLE {
                    sqlx::Connection::ping(connection).await?;
                }
                Ok(true)
            })
        })
}

/// A pooled connection idle this long is pinged before it is used, and replaced if the server
/// does not answer (after a restart, say). One used more recently is not: sqlx's default pings
/// before every use, a round trip — and a wake-up of the server process — per statement.
const PING_AFTER_IDLE: std::time::Duration = std::time::Duration::from_secs(1);

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

/// Appends published events, fans each out to the account's enabled, verified webhooks whose
/// pattern is one of those that match its name (`EventPattern::matching`; `$10`, `$11`: the
/// position of an event and a pattern of it), except the webhook a notice is about, and tells
/// the other processes — one statement, atomic as a transaction. Event ids are drawn first and
/// given out in the events' order; delivery ids come from `webhook_delivery_sequence`
/// (`DeliveryId::from_halves`). With a worker (`$14`) and a lease's end (`$15`), the deliveries
/// it may be handed (`HandOff`: not to an ordered or rate-limited webhook, nor to one it has no
/// room for, `$16`) are made leased to it, and only the others are announced. Returns each
/// event's id and count of deliveries, in order, once per delivery handed (with that delivery
/// as a claim reads it, `claimed_rows_from`) or once with NULLs if none was; `announced` is
/// there so that the notice is sent. Each delivery is scheduled in `webhook_delivery_queue`
/// (its wide row fenced with `queue::QUEUED`, `$17`).
static APPEND_PUBLISHED: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "{APPEND_PUBLISHED_WITH}, handed AS ({}) \
         SELECT n.id AS published_id, \
           (SELECT COUNT(*) FROM listening l WHERE l.position = n.position) AS published_deliveries, \
           (SELECT COUNT(*) FROM announced) AS announced, handed.* \
         FROM numbered n LEFT JOIN handed ON handed.event_id = n.id \
         ORDER BY n.position",
        shared::queue::claimed_rows_from(
            "(SELECT m.* FROM made m JOIN queued q ON q.delivery_id = m.id WHERE q.leased)",
            "numbered"
        )
    )
});

/// `APPEND_PUBLISHED`'s `WITH` but its last query.
const APPEND_PUBLISHED_WITH: &str = "\
WITH input AS MATERIALIZED ( \
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::uuid[], $5::text[], $6::jsonb[], \
                       $7::timestamptz[], $8::bigint[], $9::uuid[]) WITH ORDINALITY \
    AS i (account_id, name, object_id, person_id, person_name, payload, created_at, \
          id_time_half, about_webhook, position) \
), numbered AS MATERIALIZED ( \
  SELECT input.*, drawn.id FROM input JOIN ( \
    SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS position FROM ( \
      SELECT nextval(pg_get_serial_sequence('events', 'id')) AS id FROM input) ids \
  ) drawn USING (position) \
), appended AS ( \
  INSERT INTO events (id, account_id, name, object_id, person_id, person_name, payload, \
                      created_at) OVERRIDING SYSTEM VALUE \
  SELECT id, account_id, name, object_id, person_id, person_name, payload, created_at \
  FROM numbered \
), listening AS MATERIALIZED ( \
  SELECT n.position, n.id AS event_id, n.account_id, n.name, n.created_at, n.id_time_half, \
         w.id AS webhook_id, w.ordered, \
         ($14::text IS NOT NULL AND NOT w.ordered AND w.rate_limit_per_second IS NULL \
          AND w.id <> ALL ($16::uuid[])) AS leased \
  FROM numbered n \
  JOIN unnest($10::bigint[], $11::text[]) AS m (position, pattern) ON m.position = n.position \
  JOIN webhooks w ON w.account_id = n.account_id AND w.event = m.pattern \
  WHERE w.disabled = FALSE AND w.verified_at IS NOT NULL \
    AND w.id IS DISTINCT FROM n.about_webhook \
  ORDER BY n.position, w.id \
), made AS ( \
  INSERT INTO webhook_deliveries (id, account_id, webhook_id, event_id, event, ordered, \
    test_mode, status, attempt, next_attempt_at, locked_by, locked_until, created_at, \
    updated_at) \
  SELECT (lpad(to_hex(id_time_half), 16, '0') || to_hex((nextval('webhook_delivery_sequence') \
            & 4611686018427387903) | -9223372036854775808))::uuid, \
         account_id, webhook_id, event_id, name, ordered, FALSE, 'pending', 0, NULL, NULL, \
         $17::timestamptz, created_at, created_at \
  FROM listening \
  RETURNING id, account_id, webhook_id, event_id, event, attempt, request_body, envelope_id, \
            ordered, test_mode \
), queued AS ( \
  INSERT INTO webhook_delivery_queue (delivery_id, webhook_id, event_id, ordered, due_at, \
    locked_by) \
  SELECT m.id, m.webhook_id, m.event_id, m.ordered, \
         CASE WHEN l.leased THEN $15::timestamptz ELSE l.created_at END, \
         CASE WHEN l.leased THEN $14::text END \
  FROM made m JOIN listening l ON l.event_id = m.event_id AND l.webhook_id = m.webhook_id \
  RETURNING delivery_id, locked_by IS NOT NULL AS leased \
), announced AS ( \
  SELECT pg_notify($12, $13) FROM (SELECT 1 FROM listening WHERE NOT leased LIMIT 1) waiting \
)";

async fn append_published(
    pool: &Pool<Postgres>,
    events: &[&NewEvent],
    lease: Option<&super::webhooks::HandOffLease>,
) -> StoreResult<AppendedInOne> {
    let mut positions = Vec::new();
    let mut patterns = Vec::new();
    for (position, event) in (1_i64..).zip(events) {
        for pattern in EventPattern::matching(&event.name) {
            positions.push(position);
            patterns.push(pattern);
        }
    }
    let rows = sqlx::query(sqlx::AssertSqlSafe(APPEND_PUBLISHED.as_str()))
        .bind(column(events, |event| event.account_id.as_str()))
        .bind(column(events, |event| event.name.as_str()))
        .bind(column(events, |event| event.object_id.as_str()))
        .bind(column(events, |event| {
            event.actor.as_ref().map(|actor| actor.person_id.0)
        }))
        .bind(column(events, |event| {
            event.actor.as_ref().map(|actor| actor.person_name.as_str())
        }))
        .bind(column(events, |event| Json(&event.payload)))
        .bind(column(events, |event| truncate_to_micros(event.created_at)))
        .bind(column(events, |event| {
            DeliveryId::time_half(truncate_to_micros(event.created_at))
        }))
        .bind(column(events, NewEvent::notice_about_webhook))
        .bind(positions)
        .bind(patterns)
        .bind(DELIVERIES_CHANNEL)
        .bind(PROCESS.as_str())
        .bind(lease.map(|lease| lease.worker.to_string()))
        .bind(lease.map(|lease| truncate_to_micros(lease.until)))
        .bind(lease.map_or_else(Vec::new, |lease| {
            lease.full.iter().map(|webhook| webhook.0).collect()
        }))
        .bind(shared::queue::QUEUED)
        .fetch_all(pool)
        .await
        .map_err(shared::classify)?;
    let mut appended: Vec<(i64, u64)> = Vec::with_capacity(events.len());
    let mut handed = Vec::new();
    for row in &rows {
        let event_id: i64 = row.try_get("published_id")?;
        if appended.last().is_none_or(|(last, _)| *last != event_id) {
            let deliveries: i64 = row.try_get("published_deliveries")?;
            appended.push((event_id, deliveries.cast_unsigned()));
        }
        if row.try_get::<Option<uuid::Uuid>, _>("id")?.is_some() {
            handed.push(shared::queue::ClaimedRow::from_row(row)?);
        }
    }
    Ok(AppendedInOne {
        events: appended,
        handed: shared::queue::claimed_deliveries(handed)?,
    })
}

/// One value of each event: a column of `APPEND_PUBLISHED`'s input, bound as an array.
fn column<'a, T>(events: &[&'a NewEvent], value: impl Fn(&'a NewEvent) -> T) -> Vec<T> {
    events.iter().map(|event| value(event)).collect()
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
    const WITH_WRITES: bool = true;
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

    fn hand_offs(&self) -> Option<&super::webhooks::HandOffSlot> {
        Some(&self.hand_offs)
    }

    fn deliveries_ready(&self) -> &Arc<tokio::sync::Notify> {
        &self.deliveries_signal
    }

    /// `APPEND_PUBLISHED`: one round trip instead of six (begin, event, listeners, deliveries,
    /// notice, commit), which at everyday rates — a batch of one or two events — was most of
    /// the statements PostgreSQL ran per message.
    async fn append_published(
        pool: &Pool<Postgres>,
        events: &[&NewEvent],
        lease: Option<&super::webhooks::HandOffLease>,
    ) -> Option<StoreResult<AppendedInOne>> {
        Some(append_published(pool, events, lease).await)
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
