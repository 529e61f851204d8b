//! Deliveries as people list and read them, their attempts, and redelivery.

use async_trait::async_trait;
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use sqlx::{FromRow, Transaction, types::Json};
use uuid::Uuid;

use crate::domain::message::{
    AttemptFacts, EnvelopeFacts, StoredHeaders, Subject, expand_headers, message_body,
};
use crate::domain::{
    AccountId, Actor, Delivery, DeliveryAttempt, DeliveryId, DeliveryStatus, PersonId,
    WaitingReason, WebhookId, WebhookNotification, truncate_to_micros,
};
use crate::store::dialect::Dialect;
use crate::store::{
    DeliveryFilter, DeliveryStore, ListQuery, Listing, Redelivery, SortDirection, SortField,
    StoreError, StoreResult,
};

use super::notices::NotificationRow;
use super::{Backend, Db};
use super::{
    account_page, classify, count_as_u64, offset_as_i64, order_by, parse_account_id, qualified,
};

pub(super) const DELIVERY_COLUMNS: &str = "id, account_id, webhook_id, event_id, event, status, \
     attempt, next_attempt_at, request_body, response_status, duration_ms, error, \
     redelivery_of_id, redelivered_by_id, test_mode, sent_at, created_at, updated_at";

/// `DELIVERY_COLUMNS` of the deliveries aliased `d`.
pub(super) fn delivery_columns() -> String {
    qualified("d", DELIVERY_COLUMNS).replace("d.next_attempt_at", NEXT_ATTEMPT_AT)
}

/// When a pending delivery is tried next (alias `q` its row in `webhook_delivery_queue`, joined
/// by `DELIVERY_JOINS`): its queue row's `due_at`, or for one a node of an earlier release
/// schedules (migration 0027), the delivery's own `next_attempt_at`. NULL while it is parked.
const NEXT_ATTEMPT_AT: &str = "COALESCE(q.due_at, d.next_attempt_at) AS next_attempt_at";

/// Why a parked delivery waits (aliases `d` delivery, `q` its queue row, `w` webhook, `p` its
/// policy), as
/// `WaitingReason::as_str` spells it; NULL when it does not wait.
pub(super) const WAITING_ON: &str = "CASE WHEN d.status = 'pending' AND q.due_at IS NULL \
     AND d.next_attempt_at IS NULL THEN \
     CASE WHEN w.webhook_policy_id IS NOT NULL AND p.id IS NULL THEN 'policy_missing' \
     WHEN p.disabled THEN 'policy_disabled' \
     WHEN w.disabled THEN 'webhook_disabled' \
     WHEN w.verified_at IS NULL THEN 'webhook_unverified' END END AS waiting_on";

/// What a delivery's message is built from (aliases `me` its envelope, `ev` its event), where
/// it has no stored `request_body`: see `domain::message`.
pub(super) const MESSAGE_COLUMNS: &str = "me.webhook_name AS envelope_name, me.base_url AS \
     envelope_base_url, me.instance_name AS envelope_instance_name, ev.object_id, ev.person_id, \
     ev.person_name, ev.payload";

/// The joins `NEXT_ATTEMPT_AT`, `WAITING_ON` and `MESSAGE_COLUMNS` read (an event only for a
/// message to build).
pub(super) const DELIVERY_JOINS: &str = "JOIN webhooks w ON w.id = d.webhook_id \
     LEFT JOIN webhook_delivery_queue q ON q.delivery_id = d.id \
     LEFT JOIN webhook_policies p ON p.id = w.webhook_policy_id \
     LEFT JOIN message_envelopes me ON me.id = d.envelope_id \
     LEFT JOIN events ev ON ev.id = d.event_id AND d.request_body IS NULL \
     AND d.envelope_id IS NOT NULL";

#[derive(FromRow)]
pub(super) struct DeliveryRow {
    id: Uuid,
    account_id: String,
    webhook_id: Uuid,
    event_id: i64,
    event: String,
    status: String,
    attempt: i32,
    next_attempt_at: Option<DateTime<Utc>>,
    request_body: Option<Vec<u8>>,
    response_status: Option<i32>,
    duration_ms: Option<i64>,
    error: Option<String>,
    redelivery_of_id: Option<Uuid>,
    redelivered_by_id: Option<Uuid>,
    test_mode: bool,
    sent_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    waiting_on: Option<String>,
    envelope_name: Option<String>,
    envelope_base_url: Option<String>,
    envelope_instance_name: Option<String>,
    object_id: Option<String>,
    person_id: Option<Uuid>,
    person_name: Option<String>,
    payload: Option<Json<serde_json::Value>>,
}

impl DeliveryRow {
    fn into_delivery(self) -> StoreResult<Delivery> {
        let account_id = parse_account_id(&self.account_id)?;
        let built = match self.request_body {
            Some(_) => None,
            None => self.message(&account_id),
        };
        let request_body = self.request_body.or(built);
        Ok(Delivery {
            id: DeliveryId(self.id),
            account_id,
            webhook_id: WebhookId(self.webhook_id),
            event_id: self.event_id,
            event: self.event,
            status: DeliveryStatus::parse(&self.status)
                .ok_or_else(|| StoreError::Corrupt(format!("delivery status {:?}", self.status)))?,
            attempt: u32::try_from(self.attempt).unwrap_or(0),
            next_attempt_at: self.next_attempt_at,
            request_body,
            response_status: self
                .response_status
                .and_then(|status| u16::try_from(status).ok()),
            duration_ms: self
                .duration_ms
                .and_then(|duration| u64::try_from(duration).ok()),
            error: self.error,
            redelivery_of_id: self.redelivery_of_id.map(DeliveryId),
            redelivered_by_id: self.redelivered_by_id.map(DeliveryId),
            test_mode: self.test_mode,
            sent_at: self.sent_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
            waiting_on: self.waiting_on.as_deref().and_then(WaitingReason::parse),
        })
    }
}

impl DeliveryRow {
    /// The message its first attempt sent, built again from its envelope and event; `None`
    /// before the first attempt.
    fn message(&self, account_id: &AccountId) -> Option<Vec<u8>> {
        let facts = EnvelopeFacts {
            webhook_name: self.envelope_name.clone()?,
            base_url: self.envelope_base_url.clone()?,
            instance_name: self.envelope_instance_name.clone()?,
        };
        let actor = match (self.person_id, &self.person_name) {
            (Some(person_id), Some(person_name)) => Some(Actor {
                person_id: PersonId(person_id),
                person_name: person_name.clone(),
            }),
            _ => None,
        };
        let subject = Subject {
            account_id,
            name: &self.event,
            object_id: self.object_id.as_deref()?,
            actor: actor.as_ref(),
            payload: &self.payload.as_ref()?.0,
        };
        Some(message_body(&facts.envelope(self.webhook_id), subject))
    }
}

/// `WHERE` conditions (table alias `d`, `$1` the account) and their values for a delivery list.
/// The predicate of the two status indexes (migration 0022), which hold only deliveries that
/// did not succeed. A condition on `status` repeats it word for word: SQLite's planner uses a
/// partial index only when the query contains the index's own `WHERE` term.
const UNSUCCEEDED: &str = " AND d.status <> 'succeeded'";

pub(in crate::store) fn delivery_conditions(
    filter: &DeliveryFilter,
) -> (String, Vec<DeliveryBind>) {
    let mut binds = Vec::new();
    // A webhook's deliveries are its account's. Scoped through the webhook (one lookup), a
    // filtered page or count stays inside the (webhook_id, …) indexes instead of reading every
    // row for its account_id: 35 ms → ~2 ms at p95 for a webhook of 50,000 deliveries.
    let mut sql = match filter.webhook_id {
        Some(webhook_id) => {
            binds.push(DeliveryBind::Uuid(webhook_id.0));
            "d.webhook_id IN (SELECT w0.id FROM webhooks w0 WHERE w0.account_id = $1) AND \
             d.webhook_id = $2"
                .to_owned()
        }
        None => String::from("d.account_id = $1"),
    };
    let mut next = |sql: &mut String, condition: &str, bind: DeliveryBind| {
        binds.push(bind);
        sql.push_str(&format!(" AND {condition}${}", binds.len() + 1));
    };
    if let Some(status) = filter.status {
        next(
            &mut sql,
            "d.status = ",
            DeliveryBind::Text(status.as_str().to_owned()),
        );
        if status != DeliveryStatus::Succeeded {
            sql.push_str(UNSUCCEEDED);
        }
    }
    if let Some(event) = &filter.event {
        next(&mut sql, "d.event = ", DeliveryBind::Text(event.clone()));
    }
    if let Some(test_mode) = filter.test_mode {
        next(&mut sql, "d.test_mode = ", DeliveryBind::Bool(test_mode));
    }
    // A time bound is said twice: as a range of ids, which the listing indexes hold, and on
    // `created_at`, which decides.
    if let Some(after) = filter.created_after {
        next(&mut sql, "d.id >= ", DeliveryBind::Uuid(ids_from(after)));
        next(
            &mut sql,
            "d.created_at >= ",
            DeliveryBind::Time(truncate_to_micros(after)),
        );
    }
    if let Some(before) = filter.created_before {
        next(&mut sql, "d.id < ", DeliveryBind::Uuid(ids_before(before)));
        next(
            &mut sql,
            "d.created_at < ",
            DeliveryBind::Time(truncate_to_micros(before)),
        );
    }
    (sql, binds)
}

/// How long after its `created_at` a delivery written before schema 23 may have had its id
/// minted: those ids came from `now_v7` when the publishing transaction inserted the row, which
/// waited at most 30 s for a pooled connection and 10 s for SQLite's writer. Ids minted since
/// (`DeliveryId::minted_at`) are the time they were created at.
const LEGACY_MINTING_DELAY: TimeDelta = TimeDelta::minutes(1);

/// The lowest id a delivery created at `at` or later can have, for an index range: from the
/// start of `at`'s millisecond, since an id minted before schema 23 holds no finer time.
pub(in crate::store) fn ids_from(at: DateTime<Utc>) -> Uuid {
    let millisecond = at.duration_trunc(TimeDelta::milliseconds(1)).unwrap_or(at);
    DeliveryId::earliest_at(millisecond).0
}

/// An id above that of every delivery created before `at`, for an index range (with
/// `LEGACY_MINTING_DELAY` for ids minted before schema 23).
pub(in crate::store) fn ids_before(at: DateTime<Utc>) -> Uuid {
    let later = at
        .checked_add_signed(LEGACY_MINTING_DELAY)
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    DeliveryId::earliest_at(later).0
}

/// `ORDER BY` for a list of deliveries. Ordered by `created_at` first (the default) is ordered by
/// id, which is minted from it and unique: the listing indexes give that order as it is.
fn delivery_order(sort: &[(SortField, SortDirection)]) -> String {
    match sort.first() {
        None | Some((SortField::CreatedAt, SortDirection::Ascending)) => "d.id ASC".to_owned(),
        Some((SortField::CreatedAt, SortDirection::Descending)) => "d.id DESC".to_owned(),
        Some(_) => order_by(sort, "d"),
    }
}

/// One page of the deliveries that meet `conditions`, newest first; `$limit` is its size.
pub(in crate::store) fn page_of_deliveries(conditions: &str, limit: usize) -> String {
    format!(
        "SELECT * FROM webhook_deliveries d WHERE {conditions} \
         ORDER BY d.id DESC LIMIT ${limit}"
    )
}

pub(in crate::store) enum DeliveryBind {
    Bool(bool),
    Uuid(Uuid),
    Text(String),
    Time(DateTime<Utc>),
}

macro_rules! bind_delivery_filter {
    ($query:expr, $binds:expr) => {{
        let mut query = $query;
        for bind in $binds {
            query = match bind {
                DeliveryBind::Bool(value) => query.bind(*value),
                DeliveryBind::Uuid(value) => query.bind(*value),
                DeliveryBind::Text(value) => query.bind(value.clone()),
                DeliveryBind::Time(value) => query.bind(*value),
            };
        }
        query
    }};
}
#[cfg(test)]
#[allow(
    unused_imports,
    reason = "the SQLite store's plan test binds with it; the PostgreSQL copy has no such test"
)]
pub(in crate::store) use bind_delivery_filter;

#[derive(FromRow)]
pub(super) struct AttemptRow {
    attempt: i32,
    request_uri: String,
    request_headers: Json<Vec<(String, String)>>,
    response_status: Option<i32>,
    /// `[name, value]` pairs in an attempt row, any of the compact forms in a delivery's row.
    response_headers: Json<StoredHeaders>,
    response_body: String,
    duration_ms: i64,
    error: Option<String>,
    sent_at: DateTime<Utc>,
    request_body: Option<Vec<u8>>,
    webhook_policy_id: Option<Uuid>,
    signing_key_id: Option<String>,
    envelope_uri: Option<String>,
    sent_headers: Option<String>,
    webhook_id: Uuid,
    event: String,
}

impl AttemptRow {
    fn into_attempt(self, delivery_id: DeliveryId) -> StoreResult<DeliveryAttempt> {
        let attempt = u32::try_from(self.attempt).unwrap_or(0);
        let facts = AttemptFacts {
            delivery_id: delivery_id.0,
            webhook_id: self.webhook_id,
            event: &self.event,
            attempt,
            sent_at: self.sent_at,
        };
        let request_headers = match &self.sent_headers {
            Some(stored) => expand_headers(stored, &facts).map_err(StoreError::Corrupt)?,
            None => self.request_headers.0,
        };
        let response_headers = self
            .response_headers
            .0
            .expand(&facts)
            .map_err(StoreError::Corrupt)?;
        Ok(DeliveryAttempt {
            attempt,
            request_uri: self.envelope_uri.unwrap_or(self.request_uri),
            request_headers,
            response_status: self
                .response_status
                .and_then(|status| u16::try_from(status).ok()),
            response_headers,
            response_body: self.response_body,
            duration_ms: u64::try_from(self.duration_ms).unwrap_or(0),
            error: self.error,
            sent_at: self.sent_at,
            request_body: self
                .request_body
                .map(|body| String::from_utf8_lossy(&body).into_owned()),
            webhook_policy_id: self.webhook_policy_id,
            signing_key_id: self.signing_key_id,
        })
    }
}

/// New pending deliveries repeating `originals` (each must be succeeded or failed and not yet
/// redelivered), linked both ways. Returns the pairs made.
pub(super) async fn redeliver(
    mut transaction: Transaction<'static, Db>,
    account: &AccountId,
    originals: &[DeliveryId],
    now: DateTime<Utc>,
) -> StoreResult<Vec<Redelivery>> {
    let now = truncate_to_micros(now);
    let mut made = Vec::new();
    for original in originals {
        // The webhook's row lock first. A redelivery made while its webhook is inactive waits,
        // parked, for the change that makes it active to make it due; a verification or
        // enabling that commits meanwhile then either waits for this transaction (and finds
        // the parked row) or is seen by the insert below. Without it, on PostgreSQL, the two
        // could pass each other and leave the redelivery parked for good. (SQLite has one
        // writer: nothing passes.)
        sqlx::query(
            "UPDATE webhooks SET updated_at = updated_at WHERE id = (SELECT webhook_id FROM \
             webhook_deliveries WHERE account_id = $1 AND id = $2)",
        )
        .bind(account.as_str())
        .bind(original.0)
        .execute(&mut *transaction)
        .await?;
        let new = DeliveryId::minted_at(now);
        let inserted = sqlx::query(
            "INSERT INTO webhook_deliveries (id, account_id, webhook_id, event_id, event, ordered, \
             test_mode, status, attempt, locked_until, request_body, envelope_id, \
             redelivery_of_id, created_at, updated_at) \
             SELECT $3, d.account_id, d.webhook_id, d.event_id, d.event, d.ordered, d.test_mode, \
             'pending', 0, $5, d.request_body, d.envelope_id, d.id, $4, $4 \
             FROM webhook_deliveries d \
             WHERE d.account_id = $1 AND d.id = $2 AND d.status <> 'pending' \
             AND d.redelivered_by_id IS NULL",
        )
        .bind(account.as_str())
        .bind(original.0)
        .bind(new.0)
        .bind(now)
        .bind(super::queue::QUEUED)
        .execute(&mut *transaction)
        .await
        .map_err(classify)?
        .rows_affected();
        if inserted == 0 {
            continue;
        }
        sqlx::query(
            "INSERT INTO webhook_delivery_queue (delivery_id, webhook_id, event_id, ordered, \
             due_at) \
             SELECT d.id, d.webhook_id, d.event_id, d.ordered, \
             CASE WHEN d.test_mode OR (w.disabled = FALSE AND w.verified_at IS NOT NULL) \
             THEN $2 ELSE NULL END \
             FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id WHERE d.id = $1",
        )
        .bind(new.0)
        .bind(now)
        .execute(&mut *transaction)
        .await?;
        sqlx::query(
            "UPDATE webhook_deliveries SET redelivered_by_id = $2, updated_at = $3 WHERE id = $1",
        )
        .bind(original.0)
        .bind(new.0)
        .bind(now)
        .execute(&mut *transaction)
        .await?;
        made.push(Redelivery {
            original: *original,
            new,
        });
    }
    if !made.is_empty() {
        Backend::notify_deliveries_ready(&mut transaction).await?;
    }
    transaction.commit().await?;
    Ok(made)
}
#[async_trait]
impl DeliveryStore for Backend {
    async fn deliveries(
        &self,
        account: &AccountId,
        filter: &DeliveryFilter,
        query: &ListQuery,
    ) -> StoreResult<Listing<Delivery>> {
        let (conditions, binds) = delivery_conditions(filter);
        let columns = delivery_columns();
        let limit_placeholder = binds.len() + 2;
        let sql = format!(
            "SELECT {columns}, {WAITING_ON}, {MESSAGE_COLUMNS} FROM webhook_deliveries d {DELIVERY_JOINS} WHERE \
             {conditions} ORDER BY {} \
             LIMIT ${limit_placeholder} OFFSET ${}",
            delivery_order(&query.sort),
            limit_placeholder + 1
        );
        let rows: Vec<DeliveryRow> = bind_delivery_filter!(
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(account.as_str()),
            &binds
        )
        .bind(i64::from(query.limit))
        .bind(offset_as_i64(query.offset))
        .fetch_all(self.pool())
        .await?;
        let count_sql = format!("SELECT COUNT(*) FROM webhook_deliveries d WHERE {conditions}");
        let (total,): (i64,) = bind_delivery_filter!(
            sqlx::query_as(sqlx::AssertSqlSafe(count_sql)).bind(account.as_str()),
            &binds
        )
        .fetch_one(self.pool())
        .await?;
        Ok(Listing {
            items: rows
                .into_iter()
                .map(DeliveryRow::into_delivery)
                .collect::<StoreResult<_>>()?,
            total: count_as_u64(total),
        })
    }

    async fn delivery_page(
        &self,
        account: &AccountId,
        filter: &DeliveryFilter,
        before: Option<DeliveryId>,
        limit: u32,
    ) -> StoreResult<Vec<Delivery>> {
        let (mut conditions, mut binds) = delivery_conditions(filter);
        if let Some(before) = before {
            binds.push(DeliveryBind::Uuid(before.0));
            conditions.push_str(&format!(" AND d.id < ${}", binds.len() + 1));
        }
        let columns = delivery_columns();
        // The page is chosen from the deliveries alone (one index range), then joined for
        // `waiting_on`: the join can't make the planner read more than the page.
        let page = page_of_deliveries(&conditions, binds.len() + 2);
        let sql = format!(
            "SELECT {columns}, {WAITING_ON}, {MESSAGE_COLUMNS} FROM ({page}) d {DELIVERY_JOINS} \
             ORDER BY d.id DESC"
        );
        let rows: Vec<DeliveryRow> = bind_delivery_filter!(
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(account.as_str()),
            &binds
        )
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(DeliveryRow::into_delivery).collect()
    }

    async fn count_deliveries(
        &self,
        account: &AccountId,
        filter: &DeliveryFilter,
        up_to: u64,
    ) -> StoreResult<u64> {
        let (conditions, binds) = delivery_conditions(filter);
        let sql = format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM webhook_deliveries d WHERE {conditions} LIMIT ${}) \
             counted",
            binds.len() + 2
        );
        let (total,): (i64,) = bind_delivery_filter!(
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(account.as_str()),
            &binds
        )
        .bind(i64::try_from(up_to).unwrap_or(i64::MAX))
        .fetch_one(self.pool())
        .await?;
        Ok(count_as_u64(total))
    }

    async fn delivery(&self, account: &AccountId, id: DeliveryId) -> StoreResult<Option<Delivery>> {
        let row: Option<DeliveryRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {}, {WAITING_ON}, {MESSAGE_COLUMNS} FROM webhook_deliveries d {DELIVERY_JOINS} WHERE d.account_id = $1 \
             AND d.id = $2",
            delivery_columns()
        )))
        .bind(account.as_str())
        .bind(id.0)
        .fetch_optional(self.pool())
        .await?;
        row.map(DeliveryRow::into_delivery).transpose()
    }

    async fn delivery_attempts(
        &self,
        account: &AccountId,
        id: DeliveryId,
    ) -> StoreResult<Vec<DeliveryAttempt>> {
        // The attempt rows, and the attempt a delivery finished at its first try, kept in the
        // delivery's row (migration 0024): a delivery has one or the other for attempt 1.
        let rows: Vec<AttemptRow> = sqlx::query_as(
            "SELECT a.attempt, a.request_uri, a.request_headers, a.response_status, \
             a.response_headers, a.response_body, a.duration_ms, a.error, a.sent_at, \
             a.request_body, a.webhook_policy_id, a.signing_key_id, me.uri AS envelope_uri, \
             a.sent_headers, d.webhook_id, d.event \
             FROM webhook_delivery_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id \
             LEFT JOIN message_envelopes me ON me.id = a.envelope_id \
             WHERE d.account_id = $1 AND a.delivery_id = $2 \
             UNION ALL \
             SELECT d.attempt, '', '[]', d.response_status, \
             d.attempt_response_headers, d.attempt_response_body, d.duration_ms, d.error, \
             d.sent_at, d.attempt_request_body, d.attempt_webhook_policy_id, \
             d.attempt_signing_key_id, me.uri, d.attempt_sent_headers, d.webhook_id, d.event \
             FROM webhook_deliveries d LEFT JOIN message_envelopes me ON me.id = d.envelope_id \
             WHERE d.account_id = $1 AND d.id = $2 AND d.attempt_response_headers IS NOT NULL \
             ORDER BY 1",
        )
        .bind(account.as_str())
        .bind(id.0)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(|row| row.into_attempt(id)).collect()
    }

    async fn redeliver(
        &self,
        account: &AccountId,
        originals: &[DeliveryId],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Redelivery>> {
        let made = redeliver(self.begin_write().await?, account, originals, now).await?;
        self.deliveries_ready().notify_one();
        Ok(made)
    }

    /// Failed deliveries of a webhook created at or after `since` and not redelivered yet, oldest
    /// first, at most `limit`.
    async fn failed_deliveries_since(
        &self,
        account: &AccountId,
        webhook: WebhookId,
        since: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<DeliveryId>> {
        // `status <> 'succeeded'` repeats the partial index's predicate (see `UNSUCCEEDED`).
        let ids: Vec<(Uuid,)> = sqlx::query_as(
            "SELECT id FROM webhook_deliveries WHERE account_id = $1 AND webhook_id = $2 \
             AND status = 'failed' AND status <> 'succeeded' AND redelivered_by_id IS NULL \
             AND id >= $3 AND created_at >= $4 ORDER BY id LIMIT $5",
        )
        .bind(account.as_str())
        .bind(webhook.0)
        .bind(ids_from(since))
        .bind(truncate_to_micros(since))
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        Ok(ids.into_iter().map(|(id,)| DeliveryId(id)).collect())
    }

    async fn notifications(
        &self,
        account: &AccountId,
        query: &ListQuery,
    ) -> StoreResult<Listing<WebhookNotification>> {
        account_page::<NotificationRow>(self.pool(), account, query).await
    }
}
