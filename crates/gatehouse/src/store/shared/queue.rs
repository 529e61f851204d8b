//! The delivery queue as workers use it: claims under a lease, releases, and recording
//! attempts with their consequences in batches (docs/ARCHITECTURE.md "The delivery state
//! machine").

use async_trait::async_trait;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{FromRow, Pool, Transaction, types::Json};
use uuid::Uuid;

use crate::domain::message::{
    AttemptFacts, EnvelopeFacts, HeaderForms, StoredHeaders, compact_header_list, compact_headers,
};
use crate::domain::{
    AccountId, Actor, DeliveryId, DeliveryStatus, JwtFormat, PersonId, VERIFY_EVENT, WebhookId,
    WebhookNotification, WebhookPolicyId, hour_of, latency_bucket, truncate_to_micros,
};
use crate::store::dialect::Dialect;
use crate::store::{
    AttemptRecord, Claim, ClaimedDelivery, ClaimedPolicy, QueueStats, QueueStore, StoreError,
    StoreResult, WorkerId,
};

use super::envelopes::{EnvelopeKey, envelope_ids};
use super::{Backend, Db};

/// How this backend skips rows another worker holds (`Dialect::CLAIM_LOCK`), for the SQL
/// text below.
const CLAIM_LOCK: &str = <Backend as Dialect>::CLAIM_LOCK;
const SKIP_LOCKED: &str = <Backend as Dialect>::SKIP_LOCKED;
use super::notices::{claim_unsent_notifications, count_health, mark_notification};
use super::policies::stored_claim_expiry;
use super::{classify, count_as_u64, parse_account_id};

/// Delivery `d` of an ordered webhook waits while an earlier ordered delivery of that webhook
/// is pending: one probe of `webhook_deliveries_ordered_pending` (migration 0026), the index of
/// pending ordered deliveries alone, so that no other delivery writes to it.
pub(in crate::store) const AN_EARLIER_ORDERED_PENDS: &str = "EXISTS (SELECT 1 \
     FROM webhook_deliveries e WHERE e.webhook_id = d.webhook_id AND e.status = 'pending' \
     AND e.ordered = TRUE AND e.event_id < d.event_id)";

/// `locked_until` of the wide row of every delivery `webhook_delivery_queue` schedules
/// (migration 0027): a lease that never ends, so that a node of an earlier release, whose
/// claims read the wide row, never takes it. Its `next_attempt_at` stays NULL.
pub(in crate::store) const QUEUED: DateTime<Utc> = DateTime::from_naive_utc_and_offset(
    chrono::NaiveDate::from_ymd_opt(9999, 12, 31)
        .expect("a date")
        .and_hms_opt(0, 0, 0)
        .expect("midnight"),
    Utc,
);

#[derive(FromRow)]
pub(in crate::store) struct ClaimedRow {
    id: Uuid,
    account_id: String,
    webhook_id: Uuid,
    event_id: i64,
    event: String,
    attempt: i32,
    request_body: Option<Vec<u8>>,
    envelope_name: Option<String>,
    envelope_base_url: Option<String>,
    envelope_instance_name: Option<String>,
    ordered: bool,
    test_mode: bool,
    openid_connect_discovery: bool,
    policy_name: Option<String>,
    webhook_name: String,
    uri: String,
    uri_password: Option<Vec<u8>>,
    disabled: bool,
    verified: bool,
    rate_limit_per_second: Option<i32>,
    webhook_policy_id: Option<Uuid>,
    policy_found: Option<Uuid>,
    policy_disabled: Option<bool>,
    jwt_claim_expires_in: Option<i32>,
    jwt_exp_claim: Option<bool>,
    jwt_audience: Option<String>,
    jwt_format: Option<String>,
    object_id: String,
    person_id: Option<Uuid>,
    person_name: Option<String>,
    payload: Json<serde_json::Value>,
    event_created_at: DateTime<Utc>,
}

/// Leases due deliveries as `claim` describes. An ordered webhook's delivery is due only when
/// no earlier event's delivery to it is pending. At most `claim.per_webhook` (or the webhook's
/// `claim.room`) go to one webhook, so a backlog for one receiver is not leased only to wait.
///
/// The lease is written to the delivery's row in `webhook_delivery_queue` (migration 0027),
/// never to the wide delivery row. It also moves the row's `due_at` to the lease's end (a
/// visibility timeout): deliveries in flight leave the head of the due index, so a claim reads
/// only rows it may take, and a lease that runs out makes its delivery due again by itself.
/// Recording the attempt deletes the row, or sets the retry's time.
///
/// The lease is one statement on `writer`. On PostgreSQL it also reads the leased deliveries,
/// with their webhook and event (`Dialect::WITH_WRITES`); on SQLite, so that the write lock is
/// held for no more than the lease, they are read after it, from `reader`.
pub(super) async fn claim_due_deliveries(
    writer: &Pool<Db>,
    reader: &Pool<Db>,
    claim: &Claim<'_>,
) -> StoreResult<Vec<ClaimedDelivery>> {
    const FIRST_EXCLUDED: usize = 7;
    // The lists are padded to a few lengths (with the nil id, which no webhook has), so that
    // the statement has a few texts, each prepared once per connection and planned once: the
    // room list changes with every claim, and planning this statement afresh each time was a
    // large part of PostgreSQL's time per message at everyday rates.
    let excluded_rows = padded_list(claim.excluded.len());
    let room_rows = padded_list(claim.room.len());
    let exclusion = if excluded_rows == 0 {
        String::new()
    } else {
        let placeholders: Vec<String> = (0..excluded_rows)
            .map(|index| format!("${}", index + FIRST_EXCLUDED))
            .collect();
        format!(" AND d.webhook_id NOT IN ({})", placeholders.join(", "))
    };
    let first_room = FIRST_EXCLUDED + excluded_rows;
    let cap = if room_rows == 0 {
        "$6".to_owned()
    } else {
        let cases: Vec<String> = (0..room_rows)
            .map(|index| {
                format!(
                    "WHEN ${} THEN ${}",
                    first_room + 2 * index,
                    first_room + 2 * index + 1
                )
            })
            .collect();
        format!("CASE ranked.webhook_id {} ELSE $6 END", cases.join(" "))
    };
    // The innermost scan takes (and on PostgreSQL locks) up to twice the batch in due order;
    // the window keeps each webhook's first `per_webhook` (or `room`) of them; the batch is the
    // earliest of those.
    let lease = format!(
        "UPDATE webhook_delivery_queue SET locked_by = $1, due_at = $2 \
         WHERE delivery_id IN ( \
         SELECT ranked.delivery_id FROM ( \
           SELECT due.delivery_id, due.webhook_id, due.due_at, ROW_NUMBER() OVER ( \
             PARTITION BY due.webhook_id ORDER BY due.due_at, due.event_id) AS position \
           FROM ( \
             SELECT d.delivery_id, d.webhook_id, d.due_at, d.event_id \
             FROM webhook_delivery_queue d \
             WHERE d.due_at IS NOT NULL AND d.due_at <= $3{exclusion} \
             AND (d.ordered = FALSE OR NOT {AN_EARLIER_ORDERED_PENDS}) \
             ORDER BY d.due_at LIMIT $5 {CLAIM_LOCK} \
           ) due \
         ) ranked WHERE ranked.position <= {cap} ORDER BY ranked.due_at LIMIT $4) \
         RETURNING delivery_id"
    );
    // Leased rows are not due, so every row scanned can be taken unless its webhook has no
    // room left: twice the batch leaves room for a few busy webhooks.
    let scan = claim.limit.saturating_mul(2).max(claim.per_webhook);
    let rows = if Backend::WITH_WRITES {
        // One round trip: the lease's rows are read, with their webhook and event, by the
        // statement that leases them.
        let sql = format!(
            "WITH claimed AS ({lease}) {} WHERE d.id IN (SELECT delivery_id FROM claimed)",
            claimed_rows_from("webhook_deliveries", "events")
        );
        let query = sqlx::query_as::<_, ClaimedRow>(sqlx::AssertSqlSafe(sql));
        bind_lease(query, claim, scan, excluded_rows, room_rows)
            .fetch_all(writer)
            .await
            .map_err(classify)?
    } else {
        let query = sqlx::query_as::<_, (Uuid,)>(sqlx::AssertSqlSafe(lease));
        let ids: Vec<Uuid> = bind_lease(query, claim, scan, excluded_rows, room_rows)
            .fetch_all(writer)
            .await
            .map_err(classify)?
            .into_iter()
            .map(|(id,)| id)
            .collect();
        read_claimed_rows(&mut *reader.acquire().await?, &ids).await?
    };
    claimed_deliveries(rows)
}

/// Deliveries `ids` as a claim gives them, read on `connection` (those that exist).
pub(super) async fn read_claimed_rows(
    connection: &mut <Db as sqlx::Database>::Connection,
    ids: &[Uuid],
) -> StoreResult<Vec<ClaimedRow>> {
    let mut rows = Vec::with_capacity(ids.len());
    for batch in ids.chunks(BATCH_ROWS) {
        let padded_rows = padded(batch.len());
        let sql = format!(
            "{} WHERE d.id IN ({})",
            claimed_rows_from("webhook_deliveries", "events"),
            param_list(1, padded_rows)
        );
        let mut select = sqlx::query_as::<_, ClaimedRow>(sqlx::AssertSqlSafe(sql));
        for id in batch {
            select = select.bind(*id);
        }
        for _ in batch.len()..padded_rows {
            select = select.bind(None::<Uuid>);
        }
        rows.extend(select.fetch_all(&mut *connection).await?);
    }
    Ok(rows)
}

/// Claimed rows as the worker takes them, in event order.
pub(in crate::store) fn claimed_deliveries(
    mut rows: Vec<ClaimedRow>,
) -> StoreResult<Vec<ClaimedDelivery>> {
    // Every leased delivery now has the same `next_attempt_at` (the lease's end): send in
    // event order.
    rows.sort_by_key(|row| row.event_id);
    rows.into_iter()
        .map(|row| {
            let policy = claimed_policy(&row)?;
            // A webhook a policy signs for is never sent unsigned: while its policy is
            // disabled (or gone) its deliveries wait, the verification message too.
            let signable = row.webhook_policy_id.is_none() || policy.is_some();
            // The verification message and a test send go while the webhook is disabled.
            let deliverable = signable
                && (row.event == VERIFY_EVENT || row.test_mode || (!row.disabled && row.verified));
            Ok(ClaimedDelivery {
                id: DeliveryId(row.id),
                account_id: parse_account_id(&row.account_id)?,
                webhook_id: WebhookId(row.webhook_id),
                event_id: row.event_id,
                event: row.event,
                attempts_made: u32::try_from(row.attempt).unwrap_or(0),
                request_body: row.request_body,
                message_envelope: match (
                    row.envelope_name,
                    row.envelope_base_url,
                    row.envelope_instance_name,
                ) {
                    (Some(webhook_name), Some(base_url), Some(instance_name)) => {
                        Some(EnvelopeFacts {
                            webhook_name,
                            base_url,
                            instance_name,
                        })
                    }
                    _ => None,
                },
                webhook_name: row.webhook_name,
                uri: row.uri,
                uri_password: row.uri_password,
                deliverable,
                ordered: row.ordered,
                rate_limit_per_second: row
                    .rate_limit_per_second
                    .and_then(|rate| u32::try_from(rate).ok()),
                policy,
                object_id: row.object_id,
                actor: match (row.person_id, row.person_name) {
                    (Some(person_id), Some(person_name)) => Some(Actor {
                        person_id: PersonId(person_id),
                        person_name,
                    }),
                    _ => None,
                },
                payload: row.payload.0,
                event_created_at: row.event_created_at,
            })
        })
        .collect()
}

/// Binds the parameters of `claim_due_deliveries`'s lease, in either of its forms.
fn bind_lease<'q, O>(
    query: sqlx::query::QueryAs<'q, Db, O, <Db as sqlx::Database>::Arguments>,
    claim: &Claim<'_>,
    scan: u32,
    excluded_rows: usize,
    room_rows: usize,
) -> sqlx::query::QueryAs<'q, Db, O, <Db as sqlx::Database>::Arguments> {
    let mut query = query
        .bind(claim.worker.to_string())
        .bind(truncate_to_micros(claim.lease_until))
        .bind(truncate_to_micros(claim.now))
        .bind(i64::from(claim.limit))
        .bind(i64::from(scan))
        .bind(i64::from(claim.per_webhook.max(1)));
    for webhook in claim.excluded {
        query = query.bind(webhook.0);
    }
    for _ in claim.excluded.len()..excluded_rows {
        query = query.bind(Uuid::nil());
    }
    for (webhook, room) in claim.room {
        query = query.bind(webhook.0).bind(i64::from(*room));
    }
    for _ in claim.room.len()..room_rows {
        query = query.bind(Uuid::nil()).bind(0_i64);
    }
    query
}

/// The claimed deliveries `deliveries` holds (the table, or the rows a lease or a publishing
/// statement returned) as `d`, with their webhook, policy, envelope and event (from `events`:
/// the table, or the rows being appended in the same statement, which the table does not show
/// it yet).
pub(in crate::store) fn claimed_rows_from(deliveries: &str, events: &str) -> String {
    format!(
        "SELECT d.id, d.account_id, d.webhook_id, d.event_id, d.event, d.attempt, \
         d.request_body, me.webhook_name AS envelope_name, me.base_url AS envelope_base_url, \
         me.instance_name AS envelope_instance_name, d.ordered, d.test_mode, \
         w.name AS webhook_name, \
         w.uri, w.uri_password, w.disabled, (w.verified_at IS NOT NULL) AS verified, \
         w.openid_connect_discovery, p.name AS policy_name, \
         w.rate_limit_per_second, w.webhook_policy_id, p.id AS policy_found, \
         p.disabled AS policy_disabled, p.jwt_claim_expires_in, p.jwt_exp_claim, \
         p.jwt_audience, p.jwt_format, \
         ev.object_id, ev.person_id, ev.person_name, ev.payload, \
         ev.created_at AS event_created_at \
         FROM {deliveries} d JOIN webhooks w ON w.id = d.webhook_id \
         LEFT JOIN webhook_policies p ON p.id = w.webhook_policy_id \
         JOIN {events} ev ON ev.id = d.event_id \
         LEFT JOIN message_envelopes me ON me.id = d.envelope_id"
    )
}

/// The enabled policy that signs a claimed row's webhook, if any.
pub(super) fn claimed_policy(row: &ClaimedRow) -> StoreResult<Option<ClaimedPolicy>> {
    let (Some(id), Some(name), Some(false), Some(minutes), Some(exp_claim), Some(format)) = (
        row.policy_found,
        &row.policy_name,
        row.policy_disabled,
        row.jwt_claim_expires_in,
        row.jwt_exp_claim,
        &row.jwt_format,
    ) else {
        return Ok(None);
    };
    Ok(Some(ClaimedPolicy {
        id: WebhookPolicyId(id),
        name: name.clone(),
        discovery: row.openid_connect_discovery,
        expires_in: stored_claim_expiry(minutes, exp_claim)?,
        audience: row.jwt_audience.clone(),
        format: JwtFormat::parse(format)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown jwt_format {format:?} stored")))?,
    }))
}

/// The length a claim's list of `len` webhooks is written with: none, or the next of a few
/// fixed lengths (the worker names at most 128 with their room, and excludes no more than it
/// knows).
fn padded_list(len: usize) -> usize {
    match len {
        0 => 0,
        _ => [4, 16, 64, 128]
            .into_iter()
            .find(|size| *size >= len)
            .unwrap_or(len),
    }
}

/// Rows per multi-row statement, at most: well under SQLite's 32,766 parameters.
pub(super) const BATCH_ROWS: usize = 256;

/// The rows a multi-row statement for `rows` rows is written with: the next of a few fixed
/// sizes, so that each statement is prepared once per connection and then cached. The rows
/// beyond `rows` are bound to NULL and match nothing.
pub(super) fn padded(rows: usize) -> usize {
    [1, 4, 16, 64, BATCH_ROWS]
        .into_iter()
        .find(|size| *size >= rows)
        .unwrap_or(BATCH_ROWS)
}

/// `count` parameters numbered from `first` in the order written: `$3, $4, $5` (or `?, ?, ?`
/// on SQLite), for an `IN (…)` list or a row of values.
pub(super) fn param_list(first: usize, count: usize) -> String {
    let params: Vec<String> = (first..first + count).map(Backend::param).collect();
    params.join(", ")
}

/// `rows` parenthesised lists of `columns` parameters, numbered from `first` in the order
/// written: `($1, $2), ($3, $4)` (or `?` on SQLite).
pub(super) fn value_rows(first: usize, rows: usize, columns: usize) -> String {
    let rows: Vec<String> = (0..rows)
        .map(|row| format!("({})", param_list(first + row * columns, columns)))
        .collect();
    rows.join(", ")
}

/// Records attempts in one transaction: each delivery's new state (only where `worker` still
/// holds the lease: a taken-over delivery is the new holder's to record), an attempt row for
/// each of those, and each webhook's failure count — with the notices and events Xurrent's
/// rules call for.
///
/// Returns how many were recorded, and whether that may have made deliveries due soon (a retry
/// due within `WAKE_HORIZON`, an ordered webhook's next message, a notice's event), which the
/// worker should look for now rather than at its next poll.
pub(super) async fn record_attempts(
    mut transaction: Transaction<'static, Db>,
    worker: WorkerId,
    records: &[AttemptRecord],
    now: DateTime<Utc>,
    envelopes: &HashMap<EnvelopeKey, i64>,
) -> StoreResult<(u64, bool)> {
    const WAKE_HORIZON: chrono::Duration = chrono::Duration::seconds(1);
    let now = truncate_to_micros(now);
    let worker_id = worker;
    let worker = worker.to_string();
    let mut recorded_by_webhook: Vec<(WebhookId, Vec<&AttemptRecord>)> = Vec::new();
    let records = one_outcome_each(records);
    let mut wake = false;
    for chunk in records.chunks(BATCH_ROWS) {
        let held = end_leases(&mut transaction, &worker, chunk).await?;
        let recorded: Vec<&AttemptRecord> = chunk
            .iter()
            .copied()
            .filter(|record| held.contains(&record.delivery_id.0))
            .collect();
        if recorded.is_empty() {
            continue;
        }
        recorded_deliveries_update(&recorded, now, envelopes)
            .execute(&mut *transaction)
            .await?;
        schedule_retries(&mut transaction, &recorded).await?;
        wake |= recorded.iter().any(|record| record.ordered);
        wake |= recorded.iter().any(|record| {
            record
                .next_attempt_at
                .is_some_and(|at| at <= now + WAKE_HORIZON)
        });
        insert_attempt_rows(&mut transaction, &recorded, envelopes).await?;
        for record in recorded {
            match recorded_by_webhook
                .iter_mut()
                .find(|(id, _)| *id == record.webhook_id)
            {
                Some((_, list)) => list.push(record),
                None => recorded_by_webhook.push((record.webhook_id, vec![record])),
            }
        }
    }
    // In one order on every node, so that two recordings never wait on each other's webhooks
    // in a cycle (a deadlock PostgreSQL would take a second to find).
    recorded_by_webhook.sort_by_key(|(id, _)| *id);
    let mut recorded = 0;
    for (webhook_id, list) in &recorded_by_webhook {
        recorded += list.len() as u64;
        wake |= count_health(&mut transaction, *webhook_id, list, now).await?;
    }
    let all_recorded: Vec<&AttemptRecord> = recorded_by_webhook
        .iter()
        .flat_map(|(_, list)| list.iter().copied())
        .collect();
    super::rollups::count_attempts(&mut transaction, worker_id, &all_recorded).await?;
    transaction.commit().await?;
    Ok((recorded, wake))
}

/// Ends `worker`'s leases on the deliveries of `records` (at most `BATCH_ROWS`) by deleting
/// their queue rows; returns the deliveries whose lease it still held. The others were taken
/// over (their lease ran out): their outcome is the new holder's to record.
async fn end_leases(
    connection: &mut <Db as sqlx::Database>::Connection,
    worker: &str,
    records: &[&AttemptRecord],
) -> StoreResult<std::collections::HashSet<Uuid>> {
    let rows = padded(records.len());
    let sql = format!(
        "DELETE FROM webhook_delivery_queue WHERE locked_by = {} AND delivery_id IN ({}) \
         RETURNING delivery_id",
        Backend::param(1),
        param_list(2, rows)
    );
    let mut query = sqlx::query_as::<_, (Uuid,)>(sqlx::AssertSqlSafe(sql)).bind(worker);
    for record in records {
        query = query.bind(record.delivery_id.0);
    }
    for _ in records.len()..rows {
        query = query.bind(None::<Uuid>);
    }
    let held = query.fetch_all(&mut *connection).await?;
    Ok(held.into_iter().map(|(id,)| id).collect())
}

/// Puts the deliveries of `records` that will be tried again back in the queue, due at their
/// next attempt and leased to no one.
async fn schedule_retries(
    connection: &mut <Db as sqlx::Database>::Connection,
    records: &[&AttemptRecord],
) -> StoreResult<()> {
    let retries: Vec<(Uuid, DateTime<Utc>)> = records
        .iter()
        .filter_map(|record| {
            let at = record.next_attempt_at.filter(|_| !record.succeeded)?;
            Some((record.delivery_id.0, truncate_to_micros(at)))
        })
        .collect();
    if retries.is_empty() {
        return Ok(());
    }
    let rows = padded(retries.len());
    let sql = format!(
        "WITH retry (delivery, due) AS (VALUES {}) \
         INSERT INTO webhook_delivery_queue (delivery_id, webhook_id, event_id, ordered, due_at) \
         SELECT d.id, d.webhook_id, d.event_id, d.ordered, retry.due \
         FROM retry JOIN webhook_deliveries d ON d.id = retry.delivery",
        value_rows(1, rows, 2)
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (delivery, due) in &retries {
        query = query.bind(*delivery).bind(*due);
    }
    for _ in retries.len()..rows {
        query = query.bind(None::<Uuid>).bind(None::<DateTime<Utc>>);
    }
    query.execute(&mut *connection).await?;
    Ok(())
}

/// A batch's outcomes, one per delivery: a delivery's second outcome in one batch (its lease
/// ran out and it was sent again) would find the lease cleared by the first, as it would one
/// statement later, and is dropped.
fn one_outcome_each(records: &[AttemptRecord]) -> Vec<&AttemptRecord> {
    let mut seen = std::collections::HashSet::new();
    records
        .iter()
        .filter(|record| seen.insert(record.delivery_id))
        .collect()
}

/// The outcomes of a batch to record (`one_outcome_each`), if each is a delivery's first
/// attempt and succeeded: nearly every batch, which `record_first_successes` records in one
/// statement.
fn first_successes(records: &[AttemptRecord]) -> Option<Vec<&AttemptRecord>> {
    let firsts = one_outcome_each(records);
    let all = firsts.len() <= BATCH_ROWS
        && firsts
            .iter()
            .all(|record| record.succeeded && kept_in_delivery(record));
    all.then_some(firsts)
}

/// Records deliveries that succeeded at their first attempt in one statement, where a `WITH`
/// may write (PostgreSQL; elsewhere `record_attempts`' transaction of a few statements costs
/// no round trips): each delivery's state while `worker` still holds its lease, its webhook's
/// last delivery (`notices::successes_named`) and the console's counts
/// (`rollups::successes_counted`), both of the deliveries recorded only — so a lease lost
/// meanwhile needs no second pass. Everyday rates record a few deliveries at a time, and the
/// transaction's five round trips (begin, deliveries, webhook, counts, commit) were a large
/// part of PostgreSQL's time per message. Returns how many were recorded.
async fn record_first_successes(
    writer: &Pool<Db>,
    worker: WorkerId,
    records: &[&AttemptRecord],
    now: DateTime<Utc>,
    envelopes: &HashMap<EnvelopeKey, i64>,
) -> StoreResult<u64> {
    const EXTRA: [&str; 3] = ["position", "hour", "bucket"];
    let rows = padded(records.len());
    let [named, reset] = super::notices::successes_named("last_recorded");
    let counted = super::rollups::successes_counted(
        "(SELECT r.account_id, o.hour, r.webhook_id, o.bucket FROM recorded r \
         JOIN outcome o ON o.delivery = r.id) tallied",
        &Backend::param(1 + rows * (OUTCOME_COLUMNS.len() + EXTRA.len()) + 2),
    );
    let sql = format!(
        "WITH {}, done AS (DELETE FROM webhook_delivery_queue WHERE locked_by = {} \
         AND delivery_id IN (SELECT delivery FROM outcome) RETURNING delivery_id), \
         recorded AS ({} AND id IN (SELECT delivery_id FROM done) \
         RETURNING id, account_id, webhook_id), \
         last_recorded AS (SELECT DISTINCT ON (r.webhook_id) r.webhook_id, r.id \
           FROM recorded r JOIN outcome o ON o.delivery = r.id \
           ORDER BY r.webhook_id, o.position DESC), \
         named AS ({named}), reset AS ({reset}), counted AS ({counted}) \
         SELECT COUNT(*) FROM recorded",
        outcome_values(rows, &EXTRA),
        Backend::param(1 + rows * (OUTCOME_COLUMNS.len() + EXTRA.len()) + 1),
        recorded_update(rows, EXTRA.len()),
    );
    let worker_text = worker.to_string();
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (position, record) in (0_i64..).zip(records) {
        query = bind_outcome(query, Some(record), envelopes)
            .bind(position)
            .bind(hour_of(record.attempt.sent_at))
            .bind(i32::try_from(latency_bucket(record.attempt.duration_ms)).unwrap_or(i32::MAX));
    }
    for _ in records.len()..rows {
        query = bind_outcome(query, None, envelopes)
            .bind(None::<i64>)
            .bind(None::<DateTime<Utc>>)
            .bind(None::<i32>);
    }
    use sqlx::Row as _;
    let row = query
        .bind(now)
        .bind(&worker_text)
        .bind(worker)
        .fetch_one(writer)
        .await?;
    Ok(count_as_u64(row.try_get::<i64, _>(0)?))
}

/// The statement that sets each delivery's state after its attempt, with its parameters bound
/// (for deliveries whose lease the worker held: `end_leases`).
pub(super) fn recorded_deliveries_update<'q>(
    records: &[&'q AttemptRecord],
    now: DateTime<Utc>,
    envelopes: &HashMap<EnvelopeKey, i64>,
) -> sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments> {
    let rows = padded(records.len());
    let sql = format!(
        "WITH {} {}",
        outcome_values(rows, &[]),
        recorded_update(rows, 0)
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for record in records {
        query = bind_outcome(query, Some(record), envelopes);
    }
    for _ in records.len()..rows {
        query = bind_outcome(query, None, envelopes);
    }
    query.bind(now)
}

/// The columns of an attempt's outcome, as `bind_outcome` binds them.
const OUTCOME_COLUMNS: [&str; 14] = [
    "delivery",
    "new_status",
    "new_attempt",
    "envelope",
    "response",
    "duration",
    "failure",
    "sent",
    "kept_headers",
    "kept_response_headers",
    "kept_response_body",
    "kept_body",
    "kept_policy",
    "kept_key",
];

/// `outcome (…) AS (VALUES …)`: `rows` rows of `OUTCOME_COLUMNS` and then `extra` columns,
/// numbered from `$1`. The names differ from the table's, so that no reference is ambiguous.
fn outcome_values(rows: usize, extra: &[&str]) -> String {
    let columns: Vec<&str> = OUTCOME_COLUMNS.iter().chain(extra).copied().collect();
    format!(
        "outcome ({}) AS (VALUES {})",
        columns.join(", "),
        value_rows(1, rows, columns.len())
    )
}

/// The `UPDATE` of the deliveries `outcome` holds (`rows` rows of `extra` columns more than
/// `OUTCOME_COLUMNS`), at the time bound after them. The `IN` makes SQLite (3.50) look each
/// delivery up by id instead of scanning the table and probing the list. The `kept_` columns
/// are NULL unless the attempt is kept in the row. The schedule and the lease are the queue's
/// (`end_leases`, `schedule_retries`): the row's `next_attempt_at` stays NULL.
fn recorded_update(rows: usize, extra: usize) -> String {
    let after = 1 + rows * (OUTCOME_COLUMNS.len() + extra);
    format!(
        "UPDATE webhook_deliveries SET status = outcome.new_status, \
         attempt = outcome.new_attempt, envelope_id = COALESCE(envelope_id, outcome.envelope), \
         response_status = outcome.response, duration_ms = outcome.duration, \
         error = outcome.failure, sent_at = outcome.sent, \
         attempt_sent_headers = outcome.kept_headers, \
         attempt_response_headers = outcome.kept_response_headers, \
         attempt_response_body = outcome.kept_response_body, \
         attempt_request_body = outcome.kept_body, \
         attempt_webhook_policy_id = outcome.kept_policy, \
         attempt_signing_key_id = outcome.kept_key, updated_at = {} \
         FROM outcome WHERE id = outcome.delivery AND id IN (SELECT delivery FROM outcome)",
        Backend::param(after),
    )
}

/// Binds one row of `OUTCOME_COLUMNS`: `record`'s, or NULLs (a padding row, which matches no
/// delivery).
fn bind_outcome<'q>(
    query: sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments>,
    record: Option<&&'q AttemptRecord>,
    envelopes: &HashMap<EnvelopeKey, i64>,
) -> sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments> {
    let Some(record) = record else {
        return query
            .bind(None::<Uuid>)
            .bind(None::<&str>)
            .bind(None::<i32>)
            .bind(None::<i64>)
            .bind(None::<i32>)
            .bind(None::<i64>)
            .bind(None::<&str>)
            .bind(None::<DateTime<Utc>>)
            .bind(None::<String>)
            .bind(None::<Json<StoredHeaders>>)
            .bind(None::<&str>)
            .bind(None::<&[u8]>)
            .bind(None::<Uuid>)
            .bind(None::<&str>);
    };
    let status = if record.succeeded {
        DeliveryStatus::Succeeded
    } else if record.next_attempt_at.is_some() {
        DeliveryStatus::Pending
    } else {
        DeliveryStatus::Failed
    };
    let kept = kept_in_delivery(record).then_some(&record.attempt);
    let forms = HeaderForms::DeliveryRow;
    query
        .bind(record.delivery_id.0)
        .bind(status.as_str())
        .bind(i32::try_from(record.attempt.attempt).unwrap_or(i32::MAX))
        .bind(envelopes.get(&EnvelopeKey::of(record)).copied())
        .bind(record.attempt.response_status.map(i32::from))
        .bind(i64::try_from(record.attempt.duration_ms).unwrap_or(i64::MAX))
        .bind(&record.attempt.error)
        .bind(truncate_to_micros(record.attempt.sent_at))
        .bind(kept.map(|attempt| compact_headers(&attempt.request_headers, &facts(record), forms)))
        .bind(kept.map(|attempt| {
            Json(compact_header_list(
                &attempt.response_headers,
                &facts(record),
                forms,
            ))
        }))
        .bind(kept.map(|attempt| attempt.response_body.as_str()))
        .bind(kept.and_then(|attempt| attempt.request_body.as_deref().map(str::as_bytes)))
        .bind(kept.and_then(|attempt| attempt.webhook_policy_id))
        .bind(kept.and_then(|attempt| attempt.signing_key_id.as_deref()))
}

/// Whether an attempt is kept in its delivery's row (migration 0024) rather than in an attempt
/// row of its own: the first attempt, when it finished the delivery — sent once and answered,
/// as nearly every delivery is. Its status, duration, error, time and envelope are the
/// delivery's own; a delivery that needs a second attempt keeps every attempt in rows.
fn kept_in_delivery(record: &AttemptRecord) -> bool {
    record.attempt.attempt == 1 && (record.succeeded || record.next_attempt_at.is_none())
}

/// What a record's request headers are rebuilt from (`domain::message::compact_headers`).
fn facts<'a>(record: &'a AttemptRecord) -> AttemptFacts<'a> {
    AttemptFacts {
        delivery_id: record.delivery_id.0,
        webhook_id: record.webhook_id.0,
        event: &record.event,
        attempt: record.attempt.attempt,
        sent_at: record.attempt.sent_at,
    }
}

/// Inserts one attempt row per record whose attempt its delivery's row does not keep
/// (`kept_in_delivery`), up to `BATCH_ROWS` per statement (padded with NULL rows, which the
/// `WHERE` drops). The URI is its envelope's and the headers are compact
/// (`domain::message::compact_headers`); `request_uri` and `request_headers` say '' and `[]`
/// to code of an earlier schema.
pub(super) async fn insert_attempt_rows(
    connection: &mut <Db as sqlx::Database>::Connection,
    records: &[&AttemptRecord],
    envelopes: &HashMap<EnvelopeKey, i64>,
) -> StoreResult<()> {
    const COLUMNS: usize = 13;
    type Headers<'a> = Json<&'a Vec<(String, String)>>;
    let records: Vec<&AttemptRecord> = records
        .iter()
        .copied()
        .filter(|record| !kept_in_delivery(record))
        .collect();
    for batch in records.chunks(BATCH_ROWS) {
        let rows = padded(batch.len());
        let sql = format!(
            "WITH attempt_row (delivery, number, envelope, headers, status, received_headers, \
             received_body, duration, failure, sent, sent_body, policy, signing_key) AS (VALUES \
             {}) \
             INSERT INTO webhook_delivery_attempts (delivery_id, attempt, request_uri, \
             request_headers, envelope_id, sent_headers, response_status, response_headers, \
             response_body, duration_ms, error, sent_at, request_body, webhook_policy_id, \
             signing_key_id) \
             SELECT delivery, number, '', '[]', envelope, headers, status, received_headers, \
             received_body, duration, failure, sent, sent_body, policy, signing_key \
             FROM attempt_row WHERE delivery IS NOT NULL \
             ON CONFLICT (delivery_id, attempt) DO NOTHING",
            value_rows(1, rows, COLUMNS)
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for record in batch {
            query = query
                .bind(record.delivery_id.0)
                .bind(i32::try_from(record.attempt.attempt).unwrap_or(i32::MAX))
                .bind(envelopes.get(&EnvelopeKey::of(record)).copied())
                .bind(compact_headers(
                    &record.attempt.request_headers,
                    &facts(record),
                    HeaderForms::AttemptRow,
                ))
                .bind(record.attempt.response_status.map(i32::from))
                .bind(Json(&record.attempt.response_headers))
                .bind(&record.attempt.response_body)
                .bind(i64::try_from(record.attempt.duration_ms).unwrap_or(i64::MAX))
                .bind(&record.attempt.error)
                .bind(truncate_to_micros(record.attempt.sent_at))
                .bind(record.attempt.request_body.as_deref().map(str::as_bytes))
                .bind(record.attempt.webhook_policy_id)
                .bind(record.attempt.signing_key_id.as_deref());
        }
        for _ in batch.len()..rows {
            query = query
                .bind(None::<Uuid>)
                .bind(None::<i32>)
                .bind(None::<i64>)
                .bind(None::<String>)
                .bind(None::<i32>)
                .bind(None::<Headers<'_>>)
                .bind(None::<&str>)
                .bind(None::<i64>)
                .bind(None::<&str>)
                .bind(None::<DateTime<Utc>>)
                .bind(None::<&[u8]>)
                .bind(None::<Uuid>)
                .bind(None::<&str>);
        }
        query.execute(&mut *connection).await?;
    }
    Ok(())
}

/// Extends `worker`'s leases on `ids` to `lease_until`, moving their `due_at` with them (the
/// visibility timeout, see `claim_due_deliveries`); a lease already given up or taken over is
/// left alone, and so is a delivery whose queue row is locked now — its outcome is being
/// recorded, which ends the lease (waiting for it deadlocked against the recorder, whose rows
/// come in another order). Returns how many leases were extended.
pub(super) async fn renew_leases(
    writer: &Pool<Db>,
    worker: WorkerId,
    ids: &[DeliveryId],
    lease_until: DateTime<Utc>,
) -> StoreResult<u64> {
    let worker = worker.to_string();
    let lease_until = truncate_to_micros(lease_until);
    let mut renewed = 0;
    for chunk in ids.chunks(BATCH_ROWS) {
        let rows = padded(chunk.len());
        let sql = format!(
            "UPDATE webhook_delivery_queue SET due_at = {} \
             WHERE delivery_id IN (SELECT delivery_id FROM webhook_delivery_queue \
             WHERE locked_by = {} AND delivery_id IN ({}) {SKIP_LOCKED})",
            Backend::param(1),
            Backend::param(2),
            param_list(3, rows),
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(lease_until)
            .bind(&worker);
        for id in chunk {
            query = query.bind(id.0);
        }
        for _ in chunk.len()..rows {
            query = query.bind(None::<Uuid>);
        }
        renewed += query.execute(writer).await?.rows_affected();
    }
    Ok(renewed)
}

/// The queue's size, of every account or of `account`'s deliveries only.
pub(super) async fn queue_stats(
    pool: &Pool<Db>,
    now: DateTime<Utc>,
    account: Option<&AccountId>,
) -> StoreResult<QueueStats> {
    let of_account = if account.is_some() {
        "JOIN webhooks w ON w.id = q.webhook_id AND w.account_id = $2 "
    } else {
        ""
    };
    let mut due = sqlx::query_as::<_, (i64, Option<DateTime<Utc>>)>(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*), MIN(q.due_at) FROM webhook_delivery_queue q {of_account}\
         WHERE q.due_at IS NOT NULL AND q.due_at <= $1"
    )))
    .bind(truncate_to_micros(now));
    let of_account = if account.is_some() {
        "account_id = $1 AND "
    } else {
        ""
    };
    let mut pending = sqlx::query_as::<_, (i64,)>(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM webhook_deliveries WHERE {of_account}status = 'pending'"
    )));
    if let Some(account) = account {
        due = due.bind(account.as_str());
        pending = pending.bind(account.as_str());
    }
    let (due, oldest) = due.fetch_one(pool).await?;
    let (pending,) = pending.fetch_one(pool).await?;
    Ok(QueueStats {
        due: count_as_u64(due),
        pending: count_as_u64(pending),
        oldest_due_at: oldest,
    })
}

/// Makes due the parked queue rows whose webhook a node of an earlier release made active
/// again: its unparking sets the wide row's `next_attempt_at`, fenced or not (migration 0027).
/// Clears that `next_attempt_at` on every queued delivery it is found on; returns how many were
/// made due.
async fn unparked_by_an_earlier_release(store: &Backend, now: DateTime<Utc>) -> StoreResult<u64> {
    let mut unparked = 0;
    loop {
        let mut transaction = store.begin_write().await?;
        let ids: Vec<(Uuid,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT d.id FROM webhook_deliveries d WHERE d.status = 'pending' \
             AND d.next_attempt_at IS NOT NULL AND d.locked_until >= $1 \
             ORDER BY d.next_attempt_at LIMIT {BATCH_ROWS} {CLAIM_LOCK}"
        )))
        .bind(QUEUED)
        .fetch_all(&mut *transaction)
        .await?;
        if ids.is_empty() {
            return Ok(unparked);
        }
        let mut due = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE webhook_delivery_queue SET due_at = {} \
             WHERE due_at IS NULL AND locked_by IS NULL AND delivery_id IN ({})",
            Backend::param(1),
            param_list(2, ids.len())
        )))
        .persistent(false)
        .bind(now);
        let mut cleared = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE webhook_deliveries SET next_attempt_at = NULL WHERE id IN ({})",
            param_list(1, ids.len())
        )))
        .persistent(false);
        for (id,) in &ids {
            due = due.bind(*id);
            cleared = cleared.bind(*id);
        }
        unparked += due.execute(&mut *transaction).await?.rows_affected();
        cleared.execute(&mut *transaction).await?;
        transaction.commit().await?;
        if ids.len() < BATCH_ROWS {
            return Ok(unparked);
        }
    }
}

#[async_trait]
impl QueueStore for Backend {
    async fn claim_due_deliveries(&self, claim: &Claim<'_>) -> StoreResult<Vec<ClaimedDelivery>> {
        claim_due_deliveries(self.writer(), self.pool(), claim).await
    }

    /// Gives leased deliveries back unsent: `park` takes them off the schedule (their webhook is
    /// inactive), otherwise they are due again at `now`.
    async fn release_deliveries(
        &self,
        worker: WorkerId,
        ids: &[DeliveryId],
        park: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        for chunk in ids.chunks(500) {
            let sql = format!(
                "UPDATE webhook_delivery_queue SET locked_by = NULL, due_at = {} \
                 WHERE locked_by = {} AND delivery_id IN ({})",
                Backend::param(1),
                Backend::param(2),
                param_list(3, chunk.len())
            );
            let next_attempt_at = (!park).then(|| truncate_to_micros(now));
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
                .persistent(false)
                .bind(next_attempt_at)
                .bind(worker.to_string());
            for id in chunk {
                query = query.bind(id.0);
            }
            query.execute(self.writer()).await?;
        }
        Ok(())
    }

    async fn record_attempts(
        &self,
        worker: WorkerId,
        records: &[AttemptRecord],
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let envelopes = envelope_ids(self, records).await?;
        if Backend::WITH_WRITES
            && let Some(firsts) = first_successes(records)
        {
            let now = truncate_to_micros(now);
            let recorded =
                record_first_successes(self.writer(), worker, &firsts, now, &envelopes).await?;
            // The next message of an ordered webhook may be due now.
            if firsts.iter().any(|record| record.ordered) {
                self.deliveries_ready().notify_one();
            }
            return Ok(recorded);
        }
        let transaction = self.begin_write().await?;
        let (recorded, wake) =
            record_attempts(transaction, worker, records, now, &envelopes).await?;
        if wake {
            self.deliveries_ready().notify_one();
        }
        Ok(recorded)
    }

    async fn renew_leases(
        &self,
        worker: WorkerId,
        ids: &[DeliveryId],
        lease_until: DateTime<Utc>,
    ) -> StoreResult<u64> {
        renew_leases(self.writer(), worker, ids, lease_until).await
    }

    async fn release_orphaned_leases(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        if !<Backend as Dialect>::ONE_DELIVERING_PROCESS {
            return Ok(0);
        }
        let now = truncate_to_micros(now);
        let released = sqlx::query(
            "UPDATE webhook_delivery_queue SET locked_by = NULL, due_at = $1 \
             WHERE locked_by IS NOT NULL",
        )
        .bind(now)
        .execute(self.writer())
        .await?;
        Ok(released.rows_affected())
    }

    async fn queue_unqueued(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        let now = truncate_to_micros(now);
        let mut moved = unparked_by_an_earlier_release(self, now).await?;
        loop {
            let mut transaction = self.begin_write().await?;
            let ids: Vec<(Uuid,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT d.id FROM webhook_deliveries d WHERE d.status = 'pending' \
                 AND d.next_attempt_at IS NOT NULL AND d.next_attempt_at <= $1 \
                 AND (d.locked_until IS NULL OR d.locked_until < $1) \
                 ORDER BY d.next_attempt_at LIMIT {BATCH_ROWS} {CLAIM_LOCK}"
            )))
            .bind(now)
            .fetch_all(&mut *transaction)
            .await?;
            if ids.is_empty() {
                break;
            }
            let mut queue = sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO webhook_delivery_queue (delivery_id, webhook_id, event_id, ordered, \
                 due_at) SELECT id, webhook_id, event_id, ordered, next_attempt_at \
                 FROM webhook_deliveries WHERE id IN ({})",
                param_list(1, ids.len())
            )))
            .persistent(false);
            let mut fence = sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE webhook_deliveries SET next_attempt_at = NULL, locked_by = NULL, \
                 locked_until = {} WHERE id IN ({})",
                Backend::param(1),
                param_list(2, ids.len())
            )))
            .persistent(false)
            .bind(QUEUED);
            for (id,) in &ids {
                queue = queue.bind(*id);
                fence = fence.bind(*id);
            }
            queue.execute(&mut *transaction).await?;
            fence.execute(&mut *transaction).await?;
            transaction.commit().await?;
            moved += ids.len() as u64;
            if ids.len() < BATCH_ROWS {
                break;
            }
        }
        if moved > 0 {
            self.deliveries_ready().notify_one();
        }
        Ok(moved)
    }

    async fn queue_stats(&self, now: DateTime<Utc>) -> StoreResult<QueueStats> {
        queue_stats(self.pool(), now, None).await
    }

    async fn account_queue_stats(
        &self,
        account: &AccountId,
        now: DateTime<Utc>,
    ) -> StoreResult<QueueStats> {
        queue_stats(self.pool(), now, Some(account)).await
    }

    fn hand_off_to(
        &self,
        worker: WorkerId,
        lease: std::time::Duration,
        room: std::sync::Arc<tokio::sync::Semaphore>,
        full: crate::store::webhooks::FullWebhooks,
    ) -> Option<tokio::sync::mpsc::UnboundedReceiver<crate::store::Handed>> {
        let slot = self.hand_offs()?;
        let (handed, receiver) = tokio::sync::mpsc::unbounded_channel();
        let half_room = room.available_permits().div_ceil(2);
        slot.register(crate::store::webhooks::HandOff {
            worker,
            lease,
            room,
            half_room,
            full,
            handed,
        });
        Some(receiver)
    }

    fn deliveries_signal(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.deliveries_ready().clone()
    }

    async fn claim_unsent_notifications(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<WebhookNotification>> {
        claim_unsent_notifications(self.writer(), now, lease_until, limit).await
    }

    async fn mark_notification(
        &self,
        id: Uuid,
        sent_at: Option<DateTime<Utc>>,
        send_error: Option<&str>,
    ) -> StoreResult<()> {
        mark_notification(self.writer(), id, sent_at, send_error).await
    }
}
