//! From an appended event to the deliveries of the webhooks listening for it, in the same
//! transaction, parked when the webhook can't be sent to yet.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::{
    AccountId, DeliveryId, DeliveryStatus, EventPattern, NewEvent, VERIFY_EVENT, Webhook,
    truncate_to_micros,
};
use crate::store::StoreResult;
use crate::store::dialect::Dialect;

use super::classify;
use super::policies::unpark_signable;
use super::{Backend, Db, PENDING_OF_WEBHOOK};

/// Fans an appended event out to the deliveries it calls for, in the event's transaction:
/// every enabled and verified webhook of the account listening to it gets one. A verification
/// message goes to its own webhook only (verified or not), and so does a test send (in test
/// mode); the notices about a failing webhook are not sent to that webhook itself. Returns how
/// many deliveries were made.
pub(super) async fn fan_out(
    connection: &mut <Db as sqlx::Database>::Connection,
    event_id: i64,
    event: &NewEvent,
) -> StoreResult<u64> {
    let only = match (event.test_for, event.name == VERIFY_EVENT) {
        (Some(webhook_id), _) => Some(webhook_id),
        (None, true) => match Uuid::parse_str(&event.object_id) {
            Ok(webhook_id) => Some(webhook_id),
            Err(_) => return Ok(0),
        },
        (None, false) => None,
    };
    let targets: Vec<(Uuid, bool)> = match only {
        Some(webhook_id) => {
            sqlx::query_as("SELECT id, ordered FROM webhooks WHERE account_id = $1 AND id = $2")
                .bind(event.account_id.as_str())
                .bind(webhook_id)
                .fetch_all(&mut *connection)
                .await?
        }
        None => {
            let listeners = active_listeners(connection, &event.account_id).await?;
            listening(&listeners, event)
                .map(|listener| (listener.id, listener.ordered))
                .collect()
        }
    };
    let test_mode = event.test_for.is_some();
    let rows: Vec<NewDelivery<'_>> = targets
        .into_iter()
        .map(|(webhook_id, ordered)| NewDelivery {
            id: DeliveryId::minted_at(truncate_to_micros(event.created_at)),
            event_id,
            event,
            webhook_id,
            // A test send goes at once, not behind the webhook's queue in event order.
            ordered: ordered && !test_mode,
            test_mode,
            leased: None,
        })
        .collect();
    insert_deliveries(connection, &rows).await?;
    Ok(rows.len() as u64)
}

/// One of an account's enabled, verified webhooks, as fan-out and the hand-off need it.
#[derive(sqlx::FromRow)]
pub(super) struct Listener {
    pub(super) id: Uuid,
    /// Its `event` pattern.
    pub(super) event: String,
    pub(super) ordered: bool,
    /// Whether it has a `rate_limit_per_second`.
    pub(super) rate_limited: bool,
}

pub(super) async fn active_listeners(
    connection: &mut <Db as sqlx::Database>::Connection,
    account: &AccountId,
) -> StoreResult<Vec<Listener>> {
    Ok(sqlx::query_as(
        "SELECT id, event, ordered, rate_limit_per_second IS NOT NULL AS rate_limited \
         FROM webhooks \
         WHERE account_id = $1 AND disabled = FALSE AND verified_at IS NOT NULL",
    )
    .bind(account.as_str())
    .fetch_all(&mut *connection)
    .await?)
}

/// The listeners `event` goes to: those whose pattern matches it, except that a notice about a
/// webhook never goes to that webhook.
pub(super) fn listening<'a>(
    listeners: &'a [Listener],
    event: &'a NewEvent,
) -> impl Iterator<Item = &'a Listener> + 'a {
    let about_webhook = event.notice_about_webhook();
    listeners.iter().filter(move |listener| {
        Some(listener.id) != about_webhook
            && EventPattern::parse(&listener.event)
                .is_ok_and(|pattern| pattern.matches(&event.name))
    })
}

/// One delivery to create: `event` (appended as `event_id`) for a webhook.
pub(super) struct NewDelivery<'a> {
    pub(super) id: DeliveryId,
    pub(super) event_id: i64,
    pub(super) event: &'a NewEvent,
    pub(super) webhook_id: Uuid,
    pub(super) ordered: bool,
    /// A test send: delivered even while the webhook is disabled.
    pub(super) test_mode: bool,
    /// Made leased to a worker (`HandOff`), until then: not due before.
    pub(super) leased: Option<(&'a str, DateTime<Utc>)>,
}

/// Creates pending deliveries, due at their event's time, and tells other processes.
pub(super) async fn insert_deliveries(
    connection: &mut <Db as sqlx::Database>::Connection,
    rows: &[NewDelivery<'_>],
) -> StoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    for chunk in rows.chunks(100) {
        let mut builder = sqlx::QueryBuilder::<Db>::new(
            "INSERT INTO webhook_deliveries (id, account_id, webhook_id, event_id, event, ordered, \
             test_mode, status, attempt, next_attempt_at, locked_by, locked_until, created_at, \
             updated_at) ",
        );
        builder.push_values(chunk, |mut values, row| {
            let created_at = truncate_to_micros(row.event.created_at);
            values
                .push_bind(row.id.0)
                .push_bind(row.event.account_id.as_str())
                .push_bind(row.webhook_id)
                .push_bind(row.event_id)
                .push_bind(row.event.name.as_str())
                .push_bind(row.ordered)
                .push_bind(row.test_mode)
                .push_bind(DeliveryStatus::Pending.as_str())
                .push_bind(0_i32)
                .push_bind(None::<DateTime<Utc>>)
                .push_bind(None::<&str>)
                .push_bind(super::queue::QUEUED)
                .push_bind(created_at)
                .push_bind(created_at);
        });
        builder
            .build()
            .execute(&mut *connection)
            .await
            .map_err(classify)?;
        let mut queued = sqlx::QueryBuilder::<Db>::new(
            "INSERT INTO webhook_delivery_queue (delivery_id, webhook_id, event_id, ordered, \
             due_at, locked_by) ",
        );
        queued.push_values(chunk, |mut values, row| {
            let due_at = match row.leased {
                Some((_, until)) => until,
                None => row.event.created_at,
            };
            values
                .push_bind(row.id.0)
                .push_bind(row.webhook_id)
                .push_bind(row.event_id)
                .push_bind(row.ordered)
                .push_bind(truncate_to_micros(due_at))
                .push_bind(row.leased.map(|(worker, _)| worker));
        });
        queued
            .build()
            .execute(&mut *connection)
            .await
            .map_err(classify)?;
    }
    Backend::notify_deliveries_ready(connection).await?;
    Ok(())
}

/// Parks a webhook's pending deliveries when it became inactive (its verification message and
/// test sends excepted; those in flight are parked by the claim when they are due again — a
/// parked row is never leased, so unparking can't make a delivery in flight due twice), then makes due again whatever nothing holds back any more: every parked delivery
/// of an active webhook, the verification message of an unverified one — unless a disabled or
/// missing policy keeps them (`unpark_signable`).
pub(super) async fn reconcile_parking(
    connection: &mut <Db as sqlx::Database>::Connection,
    webhook: &Webhook,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    if !webhook.active() {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE webhook_delivery_queue SET due_at = NULL WHERE delivery_id IN ( \
               SELECT id FROM webhook_deliveries WHERE {PENDING_OF_WEBHOOK} \
               AND event <> $2 AND test_mode = FALSE) AND due_at IS NOT NULL \
             AND locked_by IS NULL"
        )))
        .bind(webhook.id.0)
        .bind(VERIFY_EVENT)
        .execute(&mut *connection)
        .await?;
    }
    unpark_signable(connection, &[webhook.id.0], now).await
}
