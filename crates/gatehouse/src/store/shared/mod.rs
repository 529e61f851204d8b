//! The SQL both backends share: compiled once per backend as a module of it (`sqlite.rs`,
//! `postgres.rs` declare `#[path = "shared/mod.rs"] mod shared;`), reaching the backend only
//! through `Dialect` (`store/dialect.rs`). One module per aggregate, each with the `Store`
//! trait it implements; here the helpers every module uses and the database itself
//! (migrations, readiness). Placeholders are `$1`, `$2`, …; long statements written in
//! binding order use `Dialect::param` (SQLite binds `?` much faster there).

pub(super) mod accounts;
pub(super) mod console;
pub(super) mod deliveries;
pub(super) mod envelopes;
pub(super) mod events;
pub(super) mod fan_out;
pub(super) mod key_fold;
pub(super) mod notices;
pub(super) mod people;
pub(super) mod policies;
pub(super) mod provisioning;
pub(super) mod publishing;
pub(super) mod queue;
pub(super) mod quotas;
pub(super) mod retention;
pub(super) mod rollups;
pub(super) mod scim_groups;
pub(super) mod scim_page;
pub(super) mod scim_users;
pub(super) mod tokens;
pub(super) mod webhooks;

use async_trait::async_trait;
use sqlx::{FromRow, Pool};
use uuid::Uuid;

use crate::domain::AccountId;
use crate::store::dialect::Dialect;
use crate::store::{
    DatabaseStore, ListQuery, Listing, MigrationReport, SortDirection, SortField, StoreError,
    StoreResult, WebhookFilter,
};

use super::{Backend, Db};
use key_fold::{log_migration_report, refold_keys};

/// The pending deliveries of webhook `$1`, in words both planners read from
/// `webhook_deliveries_unsucceeded_by_webhook` (migration 0026): PostgreSQL proves that
/// `= 'pending'` implies the index's `<> 'succeeded'`; SQLite uses a partial index only when the
/// query repeats its condition.
pub(in crate::store) const PENDING_OF_WEBHOOK: &str =
    "webhook_id = $1 AND status = 'pending' AND status <> 'succeeded'";

pub(super) fn parse_account_id(raw: &str) -> StoreResult<AccountId> {
    AccountId::parse(raw).map_err(|_| StoreError::Corrupt(format!("account id {raw:?}")))
}

/// Records that the credential `id` of `table` (a token, a SCIM credential secret) was used at
/// `used_at`, unless that was already recorded after `unless_used_after`: so reads don't
/// become a write each.
pub(super) async fn record_use(
    pool: &Pool<Db>,
    table: &str,
    id: Uuid,
    used_at: chrono::DateTime<chrono::Utc>,
    unless_used_after: chrono::DateTime<chrono::Utc>,
) -> StoreResult<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {table} SET last_used_at = $2 \
         WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $3)"
    )))
    .bind(id)
    .bind(crate::domain::truncate_to_micros(used_at))
    .bind(crate::domain::truncate_to_micros(unless_used_after))
    .execute(pool)
    .await?;
    Ok(())
}

/// Maps constraint failures to the store's own errors; everything else stays a database error.
pub(super) fn classify(error: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(database_error) = &error {
        let constraint = database_error
            .constraint()
            .map(str::to_owned)
            .unwrap_or_else(|| database_error.message().to_owned());
        if database_error.is_unique_violation() {
            return StoreError::Conflict(constraint);
        }
        if database_error.is_foreign_key_violation() {
            return StoreError::MissingReference(constraint);
        }
    }
    StoreError::Database(error)
}

/// `ORDER BY` for a list: the requested fields, then the id so that ties never reorder pages.
pub(super) fn order_by(sort: &[(SortField, SortDirection)], table: &str) -> String {
    let mut clauses: Vec<String> = sort
        .iter()
        .map(|(field, direction)| {
            let column = match field {
                SortField::Name => "name",
                SortField::CreatedAt => "created_at",
                SortField::UpdatedAt => "updated_at",
                SortField::ExpiresAt => "expires_at",
            };
            let direction = match direction {
                SortDirection::Ascending => "ASC",
                SortDirection::Descending => "DESC",
            };
            format!("{table}.{column} {direction}")
        })
        .collect();
    if sort.is_empty() {
        clauses.push(format!("{table}.created_at ASC"));
    }
    clauses.push(format!("{table}.id ASC"));
    clauses.join(", ")
}

pub(super) fn offset_as_i64(offset: u64) -> i64 {
    i64::try_from(offset).unwrap_or(i64::MAX)
}

pub(super) fn count_as_u64(count: i64) -> u64 {
    u64::try_from(count).unwrap_or(0)
}

#[async_trait]
impl DatabaseStore for Backend {
    async fn migrate(&self) -> StoreResult<MigrationReport> {
        if schema_is_ahead(self.pool()).await? {
            return Ok(MigrationReport::default());
        }
        Backend::migrator().run(self.pool()).await?;
        if <Backend as Dialect>::EMBEDDED_FILE {
            use_incremental_vacuum(self.writer()).await?;
        }
        let mut transaction = self.begin_write().await?;
        let report = refold_keys(&mut transaction).await?;
        transaction.commit().await?;
        log_migration_report(&report);
        Ok(report)
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(self.pool()).await?;
        Ok(())
    }

    async fn schema_version(&self) -> StoreResult<i64> {
        let (version,): (Option<i64>,) =
            sqlx::query_as("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(self.pool())
                .await?;
        Ok(version.unwrap_or(0))
    }

    async fn database_size(&self) -> StoreResult<u64> {
        let query = if <Backend as Dialect>::EMBEDDED_FILE {
            "SELECT (page_count - freelist_count) * page_size FROM pragma_page_count(), \
             pragma_freelist_count(), pragma_page_size()"
        } else {
            "SELECT pg_database_size(current_database())"
        };
        let (bytes,): (i64,) = sqlx::query_as(query).fetch_one(self.pool()).await?;
        Ok(u64::try_from(bytes).unwrap_or(0))
    }

    async fn back_up(&self, to: &std::path::Path) -> StoreResult<()> {
        if !<Backend as Dialect>::EMBEDDED_FILE {
            return Err(StoreError::Unsupported(
                "gatehouse backup copies SQLite files; back up PostgreSQL with pg_dump \
                 (see README, Operations)",
            ));
        }
        let to = to.to_str().ok_or_else(|| {
            StoreError::Corrupt(format!("backup path {} is not UTF-8", to.display()))
        })?;
        sqlx::query("VACUUM INTO $1")
            .bind(to)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    fn dialect(&self) -> scim_sql::Dialect {
        Backend::SCIM_DIALECT
    }
}

/// Whether a later release already migrated this database. It may run on it only if that
/// schema says code of this binary's schema still may (`schema_compatibility`, which only a
/// migration that contracts the schema raises): then there is nothing to migrate, and this
/// node starts — a rolling upgrade may restart a node of the previous release. Otherwise it
/// must not start, and the error says which release it needs.
async fn schema_is_ahead(pool: &Pool<Db>) -> StoreResult<bool> {
    let known = Backend::migrator()
        .iter()
        .map(|migration| migration.version)
        .max()
        .unwrap_or(0);
    // A new database has no migrations table yet.
    let applied: Option<(Option<i64>,)> =
        sqlx::query_as("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
            .fetch_optional(pool)
            .await
            .unwrap_or(None);
    let Some(applied) = applied.and_then(|(applied,)| applied) else {
        return Ok(false);
    };
    if applied <= known {
        return Ok(false);
    }
    let oldest: Option<(i64,)> =
        sqlx::query_as("SELECT oldest_code_schema FROM schema_compatibility WHERE id = 1")
            .fetch_optional(pool)
            .await?;
    match oldest {
        Some((oldest,)) if known >= oldest => {
            tracing::warn!(
                database_schema = applied,
                binary_schema = known,
                oldest_code_schema = oldest,
                "the database was migrated by a later release; its schema still serves this \
                 one, so this node starts without migrating"
            );
            Ok(true)
        }
        _ => Err(StoreError::Incompatible(format!(
            "the database is at schema {applied}, which a later release made, and this binary \
             knows schema {known}; that schema needs schema {} or later: run the newer gatehouse",
            oldest.map_or(applied, |(oldest,)| oldest)
        ))),
    }
}

/// Converts a SQLite file made before retention (no auto-vacuum) to `auto_vacuum=incremental`,
/// which only a `VACUUM` does: it rewrites the whole file, once, and needs as much free disk
/// space again while it runs.
async fn use_incremental_vacuum(writer: &Pool<Db>) -> StoreResult<()> {
    const INCREMENTAL: i64 = 2;
    let (mode,): (i64,) = sqlx::query_as("PRAGMA auto_vacuum")
        .fetch_one(writer)
        .await?;
    if mode == INCREMENTAL {
        return Ok(());
    }
    tracing::info!(
        "converting the database to auto_vacuum=incremental (a one-time VACUUM; it rewrites \
         the file and may take a while for a large one)"
    );
    let mut connection = writer.acquire().await?;
    sqlx::query("PRAGMA auto_vacuum = INCREMENTAL")
        .execute(&mut *connection)
        .await?;
    sqlx::query("VACUUM").execute(&mut *connection).await?;
    Ok(())
}

/// A table's row as read, and the record it stands for: one implementation per table lets the
/// look-ups and pages below read any of them.
pub(super) trait RecordRow:
    for<'row> FromRow<'row, <Db as sqlx::Database>::Row> + Send + Unpin
{
    type Record;
    /// The table the row comes from.
    const TABLE: &'static str;
    /// The table's alias in the queries that read it (SCIM filters are compiled against it).
    const ALIAS: &'static str;
    /// The columns a row reads, unqualified, in one comma-separated list.
    const COLUMNS: &'static str;

    /// The record the row stands for; `Corrupt` when a stored value no longer parses.
    fn into_record(self) -> StoreResult<Self::Record>;

    /// `COLUMNS` qualified by `ALIAS`, for a `SELECT`.
    fn select_list() -> String {
        qualified(Self::ALIAS, Self::COLUMNS)
    }
}

/// Each of `columns` (one comma-separated list) qualified by `alias`.
pub(super) fn qualified(alias: &str, columns: &str) -> String {
    columns
        .split(',')
        .map(|column| format!("{alias}.{}", column.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Turns a page of rows into their records.
pub(super) fn listing<R: RecordRow>(rows: Vec<R>, total: u64) -> StoreResult<Listing<R::Record>> {
    Ok(Listing {
        items: rows
            .into_iter()
            .map(R::into_record)
            .collect::<StoreResult<_>>()?,
        total,
    })
}

/// The account's record whose `column` is `key`, if there is one.
pub(super) async fn record_where<R: RecordRow>(
    pool: &Pool<Db>,
    account: &AccountId,
    column: &str,
    key: Uuid,
) -> StoreResult<Option<R::Record>> {
    let (table, alias) = (R::TABLE, R::ALIAS);
    let row: Option<R> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {} FROM {table} {alias} WHERE {alias}.account_id = $1 AND {alias}.{column} = $2",
        R::select_list()
    )))
    .bind(account.as_str())
    .bind(key)
    .fetch_optional(pool)
    .await?;
    row.map(R::into_record).transpose()
}

/// Deletes the account's record `id` from `R`'s table; with `expected_version`, only if its
/// stored version is still that one (optimistic concurrency). `false`: nothing was deleted (no
/// such record, or someone else changed it first).
pub(super) async fn delete_record<R: RecordRow>(
    connection: &mut <Db as sqlx::Database>::Connection,
    account: &AccountId,
    id: Uuid,
    expected_version: Option<i64>,
) -> StoreResult<bool> {
    let at_version = if expected_version.is_some() {
        " AND version = $3"
    } else {
        ""
    };
    let mut delete = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DELETE FROM {} WHERE account_id = $1 AND id = $2{at_version}",
        R::TABLE
    )))
    .bind(account.as_str())
    .bind(id);
    if let Some(version) = expected_version {
        delete = delete.bind(version);
    }
    let deleted = delete
        .execute(&mut *connection)
        .await
        .map_err(classify)?
        .rows_affected();
    Ok(deleted > 0)
}

/// One page of an account's records, ordered as `query` asks, and how many there are in all.
pub(super) async fn account_page<R: RecordRow>(
    pool: &Pool<Db>,
    account: &AccountId,
    query: &ListQuery,
) -> StoreResult<Listing<R::Record>> {
    page_where::<R>(pool, account, "", query).await
}

/// `account_page` with Xurrent's predefined `enabled`/`disabled` filter: webhooks and webhook
/// policies list alike.
pub(super) async fn enabled_or_disabled_page<R: RecordRow>(
    pool: &Pool<Db>,
    account: &AccountId,
    filter: WebhookFilter,
    query: &ListQuery,
) -> StoreResult<Listing<R::Record>> {
    let condition = match filter.disabled {
        None => String::new(),
        Some(disabled) => format!(
            " AND {}.disabled = {}",
            R::ALIAS,
            disabled.to_string().to_uppercase()
        ),
    };
    page_where::<R>(pool, account, &condition, query).await
}

/// One page of the account's records that also meet `condition` (` AND …`, or empty), and how
/// many meet it in all.
async fn page_where<R: RecordRow>(
    pool: &Pool<Db>,
    account: &AccountId,
    condition: &str,
    query: &ListQuery,
) -> StoreResult<Listing<R::Record>> {
    let (table, alias) = (R::TABLE, R::ALIAS);
    let rows: Vec<R> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {} FROM {table} {alias} WHERE {alias}.account_id = $1{condition} \
         ORDER BY {} LIMIT $2 OFFSET $3",
        R::select_list(),
        order_by(&query.sort, alias)
    )))
    .bind(account.as_str())
    .bind(i64::from(query.limit))
    .bind(offset_as_i64(query.offset))
    .fetch_all(pool)
    .await?;
    let (total,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM {table} {alias} WHERE {alias}.account_id = $1{condition}"
    )))
    .bind(account.as_str())
    .fetch_one(pool)
    .await?;
    listing(rows, count_as_u64(total))
}
