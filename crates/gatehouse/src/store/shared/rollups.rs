//! The console's aggregates, kept as attempts are recorded and SCIM changes commit, so that a
//! chart reads a few hundred rows whatever the number of deliveries: `delivery_stats` (an
//! account's attempts per hour, webhook and recording process) and `scim_changes_daily`.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::FromRow;
use uuid::Uuid;

use crate::domain::{
    AccountId, AttemptCounts, HourlyAttempts, LATENCY_BOUNDS_MS, NewEvent, ScimChanges, WebhookId,
    day_of, hour_of, latency_bucket,
};
use crate::store::dialect::Dialect;
use crate::store::{AttemptRecord, RollupStore, StoreResult};

use super::{Backend, Db};

/// The duration bucket columns, in bucket order.
const LATENCY_COLUMNS: [&str; LATENCY_BOUNDS_MS.len() + 1] = [
    "ms_10", "ms_25", "ms_50", "ms_100", "ms_250", "ms_500", "ms_1000", "ms_2500", "ms_5000",
    "ms_10000", "ms_more",
];

/// The `INSERT` of `delivery_stats` rows, all columns in order, but its rows.
static STATS_INSERT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "INSERT INTO delivery_stats (account_id, hour, webhook_id, recorder, succeeded, retrying, \
         failed, {})",
        LATENCY_COLUMNS.join(", ")
    )
});

/// What adds a row's counts to its hour's row where there is one already.
static ADDED_TO_THE_HOUR: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let additions: Vec<String> = ["succeeded", "retrying", "failed"]
        .iter()
        .chain(LATENCY_COLUMNS.iter())
        .map(|column| format!("{column} = delivery_stats.{column} + excluded.{column}"))
        .collect();
    format!(
        "ON CONFLICT (account_id, hour, webhook_id, recorder) DO UPDATE SET {}",
        additions.join(", ")
    )
});

/// `count_attempts` for attempts that all succeeded, as SQL for a `WITH` that writes
/// (PostgreSQL, `Dialect::WITH_WRITES`): adds the attempts `recorded` holds (columns
/// `account_id`, `hour`, `webhook_id` and `bucket`, the index of its latency bucket) to the
/// hours of the recording process `recorder` (a parameter), in key order as `count_attempts`
/// writes them (`COLLATE "C"`: by bytes, as Rust orders strings).
pub(super) fn successes_counted(recorded: &str, recorder: &str) -> String {
    let buckets: Vec<String> = (0..LATENCY_COLUMNS.len())
        .map(|bucket| format!("COUNT(*) FILTER (WHERE bucket = {bucket})"))
        .collect();
    format!(
        "{} SELECT account_id, hour, webhook_id, {recorder}, COUNT(*), 0, 0, {} FROM {recorded} \
         GROUP BY account_id, hour, webhook_id \
         ORDER BY account_id COLLATE \"C\", hour, webhook_id {}",
        STATS_INSERT.as_str(),
        buckets.join(", "),
        ADDED_TO_THE_HOUR.as_str()
    )
}

/// Adds the recorded attempts to their hours' rows of this recording process: one statement,
/// its rows in key order so that two recordings of one process never lock them in a cycle.
pub(super) async fn count_attempts(
    connection: &mut <Db as sqlx::Database>::Connection,
    recorder: Uuid,
    records: &[&AttemptRecord],
) -> StoreResult<()> {
    let mut rows: BTreeMap<(String, DateTime<Utc>, Uuid), AttemptCounts> = BTreeMap::new();
    for record in records {
        let key = (
            record.account_id.to_string(),
            hour_of(record.attempt.sent_at),
            record.webhook_id.0,
        );
        let counts = rows.entry(key).or_default();
        if record.succeeded {
            counts.succeeded += 1;
        } else if record.next_attempt_at.is_some() {
            counts.retrying += 1;
        } else {
            counts.failed += 1;
        }
        counts.latency[latency_bucket(record.attempt.duration_ms)] += 1;
    }
    if rows.is_empty() {
        return Ok(());
    }
    const PER_ROW: usize = 7 + LATENCY_BOUNDS_MS.len() + 1;
    let values: Vec<String> = (0..rows.len())
        .map(|row| {
            let params: Vec<String> = (1..=PER_ROW)
                .map(|column| format!("${}", row * PER_ROW + column))
                .collect();
            format!("({})", params.join(", "))
        })
        .collect();
    let sql = format!(
        "{} VALUES {} {}",
        STATS_INSERT.as_str(),
        values.join(", "),
        ADDED_TO_THE_HOUR.as_str()
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for ((account, hour, webhook), counts) in &rows {
        query = query
            .bind(account.as_str())
            .bind(*hour)
            .bind(*webhook)
            .bind(recorder)
            .bind(as_i64(counts.succeeded))
            .bind(as_i64(counts.retrying))
            .bind(as_i64(counts.failed));
        for count in counts.latency {
            query = query.bind(as_i64(count));
        }
    }
    query.execute(&mut *connection).await?;
    Ok(())
}

/// Adds a transaction's SCIM User changes to their day: `scim_user.create`, `.update` (and,
/// when it set `active` to false, a deactivation), `.delete` (a deactivation).
pub(super) async fn count_scim_changes(
    connection: &mut <Db as sqlx::Database>::Connection,
    events: &[NewEvent],
) -> StoreResult<()> {
    let mut days: BTreeMap<(String, DateTime<Utc>), ScimChanges> = BTreeMap::new();
    for event in events {
        let (created, updated, deactivated) = match event.name.as_str() {
            "scim_user.create" => (1, 0, 0),
            "scim_user.update" => (0, 1, u64::from(event.payload["deactivated"] == true)),
            "scim_user.delete" => (0, 0, 1),
            _ => continue,
        };
        let day = day_of(event.created_at);
        let changes = days
            .entry((event.account_id.to_string(), day))
            .or_insert(ScimChanges {
                day,
                ..ScimChanges::default()
            });
        changes.created += created;
        changes.updated += updated;
        changes.deactivated += deactivated;
    }
    for ((account, day), changes) in days {
        sqlx::query(
            "INSERT INTO scim_changes_daily (account_id, day, created, updated, deactivated) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account_id, day) DO UPDATE SET \
             created = scim_changes_daily.created + excluded.created, \
             updated = scim_changes_daily.updated + excluded.updated, \
             deactivated = scim_changes_daily.deactivated + excluded.deactivated",
        )
        .bind(account)
        .bind(day)
        .bind(as_i64(changes.created))
        .bind(as_i64(changes.updated))
        .bind(as_i64(changes.deactivated))
        .execute(&mut *connection)
        .await?;
    }
    Ok(())
}

fn as_i64(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

fn as_u64(count: i64) -> u64 {
    u64::try_from(count).unwrap_or(0)
}

#[derive(FromRow)]
struct HourRow {
    hour: DateTime<Utc>,
    succeeded: i64,
    retrying: i64,
    failed: i64,
    ms_10: i64,
    ms_25: i64,
    ms_50: i64,
    ms_100: i64,
    ms_250: i64,
    ms_500: i64,
    ms_1000: i64,
    ms_2500: i64,
    ms_5000: i64,
    ms_10000: i64,
    ms_more: i64,
}

impl HourRow {
    fn into_hour(self) -> HourlyAttempts {
        HourlyAttempts {
            hour: self.hour,
            counts: AttemptCounts {
                succeeded: as_u64(self.succeeded),
                retrying: as_u64(self.retrying),
                failed: as_u64(self.failed),
                latency: [
                    self.ms_10,
                    self.ms_25,
                    self.ms_50,
                    self.ms_100,
                    self.ms_250,
                    self.ms_500,
                    self.ms_1000,
                    self.ms_2500,
                    self.ms_5000,
                    self.ms_10000,
                    self.ms_more,
                ]
                .map(as_u64),
            },
        }
    }
}

#[derive(FromRow)]
struct DayRow {
    day: DateTime<Utc>,
    created: i64,
    updated: i64,
    deactivated: i64,
}

#[async_trait]
impl RollupStore for Backend {
    async fn hourly_attempts(
        &self,
        account: &AccountId,
        since: DateTime<Utc>,
        webhook: Option<WebhookId>,
    ) -> StoreResult<Vec<HourlyAttempts>> {
        // CAST: SUM of integers is NUMERIC on PostgreSQL.
        let sums: Vec<String> = ["succeeded", "retrying", "failed"]
            .iter()
            .chain(LATENCY_COLUMNS.iter())
            .map(|column| format!("CAST(SUM({column}) AS BIGINT) AS {column}"))
            .collect();
        let rows: Vec<HourRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT hour, {} FROM delivery_stats \
             WHERE account_id = $1 AND hour >= $2 AND ($3 IS NULL OR webhook_id = $3) \
             GROUP BY hour ORDER BY hour",
            sums.join(", ")
        )))
        .bind(account.as_str())
        .bind(hour_of(since))
        .bind(webhook.map(|webhook| webhook.0))
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(HourRow::into_hour).collect())
    }

    async fn scim_changes(
        &self,
        account: &AccountId,
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<ScimChanges>> {
        let rows: Vec<DayRow> = sqlx::query_as(
            "SELECT day, created, updated, deactivated FROM scim_changes_daily \
             WHERE account_id = $1 AND day >= $2 ORDER BY day",
        )
        .bind(account.as_str())
        .bind(day_of(since))
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| ScimChanges {
                day: row.day,
                created: as_u64(row.created),
                updated: as_u64(row.updated),
                deactivated: as_u64(row.deactivated),
            })
            .collect())
    }

    async fn purge_rollups(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let hours = sqlx::query("DELETE FROM delivery_stats WHERE hour < $1")
            .bind(hour_of(before))
            .execute(self.writer())
            .await?
            .rows_affected();
        let days = sqlx::query("DELETE FROM scim_changes_daily WHERE day < $1")
            .bind(day_of(before))
            .execute(self.writer())
            .await?
            .rows_affected();
        Ok(hours + days)
    }
}
