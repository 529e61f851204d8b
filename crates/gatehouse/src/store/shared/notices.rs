//! A webhook's health after its attempts (failures in a row, disabling) and the exception and
//! disabled notices that follow: stored as facts, mailed later by the delivery layer.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, Pool, types::Json};
use uuid::Uuid;

use crate::domain::{
    AccountId, DISABLED_EVENT, EXCEPTION_EVENT, NewEvent, NoticeContent, NoticeFacts,
    NotificationKind, WebhookHealth, WebhookId, WebhookNotification, failure_consequences,
    truncate_to_micros,
};
use crate::store::dialect::Dialect;
use crate::store::{AttemptRecord, StoreError, StoreResult, redact_url};

use super::{Backend, Db, PENDING_OF_WEBHOOK};

/// How this backend skips rows another worker holds (`Dialect::NOTIFICATION_LOCK`), for the SQL
/// text below.
const NOTIFICATION_LOCK: &str = <Backend as Dialect>::NOTIFICATION_LOCK;
const SKIP_LOCKED: &str = <Backend as Dialect>::SKIP_LOCKED;
use super::events::append_event;
use super::people::administrator_emails;
use super::webhooks::split_recipients;
use super::{RecordRow, parse_account_id};

/// `count_health` for webhooks whose recorded attempts all succeeded, as the statements of a
/// `WITH` that writes (PostgreSQL, `Dialect::WITH_WRITES`): each webhook's last delivery, which
/// `last` holds (columns `webhook_id`, `id`), is named on the webhook — where no other
/// recording holds its row, as `count_health` does, unless the success ends a run of failures:
/// then the run is reset under the row's lock, taken in id order.
pub(super) fn successes_named(last: &str) -> [String; 2] {
    let named = |set: &str, failures: &str, lock: &str| {
        format!(
            "UPDATE webhooks SET {set}last_delivery_id = newest.id FROM {last} newest \
             WHERE webhooks.id = newest.webhook_id AND webhooks.id IN (SELECT id FROM webhooks \
             WHERE id IN (SELECT webhook_id FROM {last}) AND consecutive_failures {failures} \
             {lock})"
        )
    };
    [
        named("", "= 0", SKIP_LOCKED),
        named(
            "consecutive_failures = 0, ",
            "> 0",
            "ORDER BY id FOR UPDATE",
        ),
    ]
}

#[derive(FromRow)]
pub(super) struct HealthRow {
    account_id: String,
    name: String,
    uri: String,
    mail_exceptions_to: String,
    consecutive_failures: i32,
    disabled: bool,
    last_exception_at: Option<DateTime<Utc>>,
}

/// Updates a webhook's run of failures after `records` (in completion order) and acts on it;
/// says whether it stored a notice (whose event other webhooks may be waiting for).
pub(super) async fn count_health(
    connection: &mut <Db as sqlx::Database>::Connection,
    webhook_id: WebhookId,
    records: &[&AttemptRecord],
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let last_success = records.iter().rposition(|record| record.succeeded);
    let failures_after = records.len() - last_success.map_or(0, |index| index + 1);
    let last = records.last().map(|record| record.delivery_id.0);
    if failures_after == 0 {
        // The common case: a healthy webhook that answered. Only `last_delivery_id` changes,
        // and that is left to whichever node holds the row now — waiting for it made nodes
        // recording at once queue behind each other on the webhook's row. One statement; a
        // second only when it changed nothing, to tell a held row from a run of failures
        // (which this success ends, under the lock, below).
        let named = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE webhooks SET last_delivery_id = $2 WHERE id IN \
             (SELECT id FROM webhooks WHERE id = $1 AND consecutive_failures = 0 {SKIP_LOCKED})"
        )))
        .bind(webhook_id.0)
        .bind(last)
        .execute(&mut *connection)
        .await?;
        if named.rows_affected() > 0 || !failures_in_a_row(connection, webhook_id).await? {
            return Ok(false);
        }
    }
    let health: Option<HealthRow> = sqlx::query_as(
        "UPDATE webhooks SET consecutive_failures = \
         CASE WHEN $2 THEN $3 ELSE consecutive_failures + $3 END, last_delivery_id = $4 \
         WHERE id = $1 RETURNING account_id, name, uri, mail_exceptions_to, consecutive_failures, \
         disabled, last_exception_at",
    )
    .bind(webhook_id.0)
    .bind(last_success.is_some())
    .bind(i32::try_from(failures_after).unwrap_or(i32::MAX))
    .bind(last)
    .fetch_optional(&mut *connection)
    .await?;
    let (Some(health), Some(failed)) = (health, records.last().filter(|record| !record.succeeded))
    else {
        return Ok(false);
    };
    let state = WebhookHealth {
        consecutive_failures: u32::try_from(health.consecutive_failures).unwrap_or(0),
        disabled: health.disabled,
        last_exception_at: health.last_exception_at,
    };
    let consequences = failure_consequences(&state, now);
    if !consequences.notify_exception && !consequences.disable {
        return Ok(false);
    }
    let account = parse_account_id(&health.account_id)?;
    let mut recipients = split_recipients(&health.mail_exceptions_to);
    if recipients.is_empty() {
        recipients = administrator_emails(connection, &account).await?;
    }
    let facts = NotificationFacts {
        account: &account,
        webhook_id,
        webhook_name: &health.name,
        webhook_uri: &health.uri,
        failed,
        consecutive_failures: state.consecutive_failures,
        recipients: &recipients,
        now,
    };
    if consequences.notify_exception {
        sqlx::query("UPDATE webhooks SET last_exception_at = $2 WHERE id = $1")
            .bind(webhook_id.0)
            .bind(now)
            .execute(&mut *connection)
            .await?;
        insert_notification(connection, &facts, NotificationKind::Exception).await?;
    }
    if consequences.disable {
        sqlx::query(
            "UPDATE webhooks SET disabled = TRUE, disabled_reason = 'failures', updated_at = $2 \
             WHERE id = $1",
        )
        .bind(webhook_id.0)
        .bind(now)
        .execute(&mut *connection)
        .await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE webhook_delivery_queue SET due_at = NULL WHERE delivery_id IN ( \
             SELECT id FROM webhook_deliveries WHERE {PENDING_OF_WEBHOOK}) AND due_at IS NOT NULL \
             AND locked_by IS NULL"
        )))
        .bind(webhook_id.0)
        .execute(&mut *connection)
        .await?;
        insert_notification(connection, &facts, NotificationKind::Disabled).await?;
    }
    Ok(true)
}

/// Whether the webhook's run of failed attempts is under way, as last committed (no lock).
async fn failures_in_a_row(
    connection: &mut <Db as sqlx::Database>::Connection,
    webhook_id: WebhookId,
) -> StoreResult<bool> {
    let failures: Option<(i32,)> =
        sqlx::query_as("SELECT consecutive_failures FROM webhooks WHERE id = $1")
            .bind(webhook_id.0)
            .fetch_optional(&mut *connection)
            .await?;
    Ok(failures.is_some_and(|(failures,)| failures > 0))
}

pub(super) struct NotificationFacts<'a> {
    account: &'a AccountId,
    webhook_id: WebhookId,
    webhook_name: &'a str,
    webhook_uri: &'a str,
    failed: &'a AttemptRecord,
    consecutive_failures: u32,
    recipients: &'a [String],
    now: DateTime<Utc>,
}

/// Stores a notice — what happened, not yet words: the delivery layer composes the mail when
/// it sends or shows it — and appends its operational event.
pub(super) async fn insert_notification(
    connection: &mut <Db as sqlx::Database>::Connection,
    facts: &NotificationFacts<'_>,
    kind: NotificationKind,
) -> StoreResult<()> {
    let failure = facts.failed.failure.as_deref().unwrap_or("failed");
    let delivery_id = facts.failed.delivery_id;
    // A connection error may quote the URI, password and all: keep neither.
    let masked_uri = redact_url(facts.webhook_uri);
    let notice = NoticeFacts {
        webhook_name: facts.webhook_name.to_owned(),
        webhook_uri: masked_uri.clone(),
        event: facts.failed.event.clone(),
        attempt: facts.failed.attempt.attempt,
        consecutive_failures: facts.consecutive_failures,
        failure: if facts.webhook_uri.is_empty() {
            failure.to_owned()
        } else {
            failure.replace(facts.webhook_uri, &masked_uri)
        },
        next_attempt_at: facts.failed.next_attempt_at,
    };
    sqlx::query(
        "INSERT INTO webhook_notifications (id, account_id, webhook_id, delivery_id, kind, \
         recipients, facts, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(Uuid::now_v7())
    .bind(facts.account.as_str())
    .bind(facts.webhook_id.0)
    .bind(delivery_id.0)
    .bind(kind.as_str())
    .bind(facts.recipients.join("\n"))
    .bind(Json(&notice))
    .bind(facts.now)
    .execute(&mut *connection)
    .await?;
    let (name, payload) = match kind {
        NotificationKind::Exception => (
            EXCEPTION_EVENT,
            serde_json::json!({
                "webhook_id": facts.webhook_id.0,
                "delivery_id": delivery_id.0,
                "event": facts.failed.event,
                "attempt": facts.failed.attempt.attempt,
                "failure": failure,
                "next_attempt_at": facts.failed.next_attempt_at,
            }),
        ),
        NotificationKind::Disabled => (
            DISABLED_EVENT,
            serde_json::json!({
                "webhook_id": facts.webhook_id.0,
                "consecutive_failures": facts.consecutive_failures,
                "last_delivery_id": delivery_id.0,
            }),
        ),
    };
    let event = NewEvent::new(
        facts.account,
        name,
        facts.webhook_id,
        None,
        payload,
        facts.now,
    );
    append_event(connection, &event).await?;
    Ok(())
}

#[derive(FromRow)]
pub(super) struct NotificationRow {
    id: Uuid,
    account_id: String,
    webhook_id: Uuid,
    delivery_id: Option<Uuid>,
    kind: String,
    recipients: String,
    facts: Option<Json<NoticeFacts>>,
    subject: Option<String>,
    body: Option<String>,
    created_at: DateTime<Utc>,
    sent_at: Option<DateTime<Utc>>,
    send_error: Option<String>,
}

impl RecordRow for NotificationRow {
    type Record = WebhookNotification;
    const TABLE: &'static str = "webhook_notifications";
    const ALIAS: &'static str = "n";
    const COLUMNS: &'static str = NOTIFICATION_COLUMNS;

    fn into_record(self) -> StoreResult<WebhookNotification> {
        Ok(WebhookNotification {
            id: self.id,
            account_id: parse_account_id(&self.account_id)?,
            webhook_id: self.webhook_id,
            delivery_id: self.delivery_id,
            kind: NotificationKind::parse(&self.kind)
                .ok_or_else(|| StoreError::Corrupt(format!("notification kind {:?}", self.kind)))?,
            recipients: split_recipients(&self.recipients),
            content: match (self.facts, self.subject, self.body) {
                (Some(Json(facts)), _, _) => NoticeContent::Facts(facts),
                (None, Some(subject), Some(body)) => NoticeContent::Composed { subject, body },
                _ => {
                    return Err(StoreError::Corrupt(format!(
                        "notification {} has neither facts nor mail",
                        self.id
                    )));
                }
            },
            created_at: self.created_at,
            sent_at: self.sent_at,
            send_error: self.send_error,
        })
    }
}

pub(super) const NOTIFICATION_COLUMNS: &str = "id, account_id, webhook_id, delivery_id, kind, \
                                               recipients, \
     facts, subject, body, created_at, sent_at, send_error";

/// Leases up to `limit` notices waiting to be mailed (never mailed, never failed) until
/// `lease_until`, so that of several processes only one mails each.
pub(super) async fn claim_unsent_notifications(
    pool: &Pool<Db>,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u32,
) -> StoreResult<Vec<WebhookNotification>> {
    let rows: Vec<NotificationRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE webhook_notifications SET locked_until = $2 WHERE id IN ( \
         SELECT n.id FROM webhook_notifications n WHERE n.sent_at IS NULL AND n.send_error IS NULL \
         AND (n.locked_until IS NULL OR n.locked_until < $1) ORDER BY n.created_at LIMIT $3 \
         {NOTIFICATION_LOCK}) RETURNING {NOTIFICATION_COLUMNS}"
    )))
    .bind(truncate_to_micros(now))
    .bind(truncate_to_micros(lease_until))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(NotificationRow::into_record).collect()
}

pub(super) async fn mark_notification(
    pool: &Pool<Db>,
    id: Uuid,
    sent_at: Option<DateTime<Utc>>,
    send_error: Option<&str>,
) -> StoreResult<()> {
    sqlx::query("UPDATE webhook_notifications SET sent_at = $2, send_error = $3 WHERE id = $1")
        .bind(id)
        .bind(sent_at.map(truncate_to_micros))
        .bind(send_error)
        .execute(pool)
        .await?;
    Ok(())
}
