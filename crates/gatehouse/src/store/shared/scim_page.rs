//! One filtered, ordered page of a SCIM resource table (Users and Groups share it).

use sqlx::Pool;
use uuid::Uuid;

use crate::domain::{AccountId, truncate_to_micros};
use crate::store::{Listing, ScimPage, StoreResult};
use scim_sql::SqlValue;

use super::Db;
use super::{RecordRow, count_as_u64, listing, offset_as_i64};

/// Binds compiled filter values in order, after whatever the query already bound.
macro_rules! bind_sql_values {
    ($query:expr, $values:expr) => {{
        let mut query = $query;
        for value in $values {
            query = match value {
                SqlValue::Text(text) => query.bind(text.clone()),
                SqlValue::Integer(integer) => query.bind(*integer),
                SqlValue::Real(real) => query.bind(*real),
                SqlValue::Boolean(boolean) => query.bind(*boolean),
                SqlValue::Uuid(bytes) => query.bind(Uuid::from_bytes(*bytes)),
                SqlValue::Null => query.bind(Option::<String>::None),
            };
        }
        query
    }};
}

/// One filtered, ordered page of a SCIM resource table and the size of the whole result. The
/// filter's placeholders start at `$2` (`$1` is the account).
pub(super) async fn filtered_page<R: RecordRow>(
    pool: &Pool<Db>,
    account: &AccountId,
    page: &ScimPage<'_>,
) -> StoreResult<Listing<R::Record>> {
    let table = format!("{} {}", R::TABLE, R::ALIAS);
    let (alias, columns) = (R::ALIAS, R::select_list());
    let ScimPage {
        filter,
        order_by,
        after,
        offset,
        limit,
    } = *page;
    let (condition, binds): (&str, &[SqlValue]) = match filter {
        Some(fragment) => (fragment.sql.as_str(), fragment.binds.as_slice()),
        None => ("1 = 1", &[]),
    };
    let count_sql =
        format!("SELECT COUNT(*) FROM {table} WHERE {alias}.account_id = $1 AND ({condition})");
    let count_query =
        sqlx::query_as::<_, (i64,)>(sqlx::AssertSqlSafe(count_sql)).bind(account.as_str());
    let (total,) = bind_sql_values!(count_query, binds).fetch_one(pool).await?;
    let mut next_placeholder = 2 + binds.len();
    // A cursor seeks past (created_at, id) in creation order, written so both backends use
    // the (account_id, created_at, id) index.
    let seek = match after {
        Some(_) => {
            let (at, id) = (next_placeholder, next_placeholder + 1);
            next_placeholder += 2;
            format!(
                " AND {alias}.created_at >= ${at} AND ({alias}.created_at > ${at} OR {alias}.id > \
                 ${id})"
            )
        }
        None => String::new(),
    };
    let default_order = format!("{alias}.created_at ASC");
    let order = order_by.unwrap_or(&default_order);
    let page_sql = format!(
        "SELECT {columns} FROM {table} WHERE {alias}.account_id = $1 AND ({condition}){seek} \
         ORDER BY {order}, {alias}.id ASC LIMIT ${next_placeholder} OFFSET ${}",
        next_placeholder + 1
    );
    let page_query = sqlx::query_as::<_, R>(sqlx::AssertSqlSafe(page_sql)).bind(account.as_str());
    let mut page_query = bind_sql_values!(page_query, binds);
    if let Some((created_at, id)) = after {
        page_query = page_query.bind(truncate_to_micros(created_at)).bind(id);
    }
    let rows = page_query
        .bind(i64::from(limit))
        .bind(offset_as_i64(offset))
        .fetch_all(pool)
        .await?;
    listing(rows, count_as_u64(total))
}
