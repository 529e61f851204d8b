//! Webhook records, their verification, and their Standard Webhooks signing secrets (sealed:
//! nothing here sees a secret in clear).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::FromRow;
use sqlx::query::Query;
use uuid::Uuid;

use crate::domain::{
    AccountId, DeliveryId, DisabledReason, NewEvent, RecordSource, Webhook, WebhookId,
    WebhookSecretRecord, truncate_to_micros,
};
use crate::store::dialect::Dialect;
use crate::store::{ListQuery, Listing, StoreResult, WebhookFilter, WebhookStore};

use super::fan_out::reconcile_parking;
use super::{Backend, Db};
use super::{
    RecordRow, classify, delete_record, enabled_or_disabled_page, parse_account_id, record_where,
};

#[derive(FromRow)]
pub(super) struct WebhookRow {
    id: Uuid,
    account_id: String,
    name: String,
    event: String,
    uri: String,
    uri_password: Option<Vec<u8>>,
    disabled: bool,
    disabled_reason: Option<String>,
    description: Option<String>,
    webhook_policy_id: Option<Uuid>,
    mail_exceptions_to: String,
    ordered: bool,
    rate_limit_per_second: Option<i32>,
    openid_connect_discovery: bool,
    source: Option<String>,
    source_id: Option<String>,
    verified_at: Option<DateTime<Utc>>,
    verification_sent_at: Option<DateTime<Utc>>,
    consecutive_failures: i32,
    last_exception_at: Option<DateTime<Utc>>,
    last_delivery_id: Option<Uuid>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl RecordRow for WebhookRow {
    type Record = Webhook;
    const TABLE: &'static str = "webhooks";
    const ALIAS: &'static str = "w";
    const COLUMNS: &'static str = "id, account_id, name, event, uri, uri_password, disabled, \
        disabled_reason, \
        description, webhook_policy_id, mail_exceptions_to, ordered, rate_limit_per_second, \
        openid_connect_discovery, source, source_id, verified_at, verification_sent_at, \
        consecutive_failures, \
        last_exception_at, last_delivery_id, created_at, updated_at";

    fn into_record(self) -> StoreResult<Webhook> {
        Ok(Webhook {
            id: WebhookId(self.id),
            account_id: parse_account_id(&self.account_id)?,
            name: self.name,
            event: self.event,
            uri: self.uri,
            uri_password: self.uri_password,
            disabled: self.disabled,
            disabled_reason: self
                .disabled_reason
                .as_deref()
                .and_then(DisabledReason::parse),
            description: self.description,
            webhook_policy_id: self.webhook_policy_id,
            mail_exceptions_to: split_recipients(&self.mail_exceptions_to),
            ordered: self.ordered,
            rate_limit_per_second: self
                .rate_limit_per_second
                .and_then(|rate| u32::try_from(rate).ok()),
            openid_connect_discovery: self.openid_connect_discovery,
            source: RecordSource {
                source: self.source,
                source_id: self.source_id,
            },
            verified_at: self.verified_at,
            verification_sent_at: self.verification_sent_at,
            consecutive_failures: u32::try_from(self.consecutive_failures).unwrap_or(0),
            last_exception_at: self.last_exception_at,
            last_delivery_id: self.last_delivery_id.map(DeliveryId),
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

pub(super) fn split_recipients(stored: &str) -> Vec<String> {
    stored
        .split('\n')
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Binds a webhook's id, account and what an administrator sets on it, as `$1` to `$18`: the
/// INSERT and the UPDATE of a webhook start alike.
fn bind_settings<'q>(
    query: Query<'q, Db, <Db as sqlx::Database>::Arguments>,
    webhook: &Webhook,
) -> Query<'q, Db, <Db as sqlx::Database>::Arguments> {
    query
        .bind(webhook.id.0)
        .bind(webhook.account_id.as_str())
        .bind(&webhook.name)
        .bind(&webhook.event)
        .bind(&webhook.uri)
        .bind(webhook.disabled)
        .bind(webhook.disabled_reason.map(DisabledReason::as_str))
        .bind(&webhook.description)
        .bind(webhook.webhook_policy_id)
        .bind(webhook.mail_exceptions_to.join("\n"))
        .bind(webhook.ordered)
        .bind(
            webhook
                .rate_limit_per_second
                .map(|rate| i32::try_from(rate).unwrap_or(i32::MAX)),
        )
        .bind(webhook.verified_at.map(truncate_to_micros))
        .bind(webhook.verification_sent_at.map(truncate_to_micros))
        .bind(&webhook.source.source)
        .bind(&webhook.source.source_id)
        .bind(webhook.openid_connect_discovery)
        .bind(&webhook.uri_password)
}

pub(super) async fn insert_webhook_row(
    connection: &mut <Db as sqlx::Database>::Connection,
    webhook: &Webhook,
    verification_hash: Option<&[u8]>,
) -> StoreResult<()> {
    let insert = sqlx::query(
        "INSERT INTO webhooks (id, account_id, name, event, uri, disabled, disabled_reason, \
         description, webhook_policy_id, mail_exceptions_to, ordered, rate_limit_per_second, \
         verified_at, verification_sent_at, source, source_id, openid_connect_discovery, \
         uri_password, verification_hash, consecutive_failures, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
         $19, 0, $20, $20)",
    );
    bind_settings(insert, webhook)
        .bind(verification_hash)
        .bind(truncate_to_micros(webhook.created_at))
        .execute(&mut *connection)
        .await
        .map_err(classify)?;
    Ok(())
}

/// Writes what an administrator may change. The failure count and last delivery belong to the
/// workers and are left alone, except that `reset_failures` (re-enabling) zeroes the count.
pub(super) async fn update_webhook_row(
    connection: &mut <Db as sqlx::Database>::Connection,
    webhook: &Webhook,
    reset_failures: bool,
) -> StoreResult<bool> {
    let update = sqlx::query(
        "UPDATE webhooks SET name = $3, event = $4, uri = $5, disabled = $6, disabled_reason = $7, \
         description = $8, webhook_policy_id = $9, mail_exceptions_to = $10, ordered = $11, \
         rate_limit_per_second = $12, verified_at = $13, verification_sent_at = $14, \
         source = $15, source_id = $16, openid_connect_discovery = $17, uri_password = $18, \
         consecutive_failures = CASE WHEN $19 THEN 0 ELSE consecutive_failures END, \
         updated_at = $20 WHERE id = $1 AND account_id = $2",
    );
    let result = bind_settings(update, webhook)
        .bind(reset_failures)
        .bind(truncate_to_micros(webhook.updated_at))
        .execute(&mut *connection)
        .await
        .map_err(classify)?;
    Ok(result.rows_affected() == 1)
}

pub(super) async fn set_verification_hash(
    connection: &mut <Db as sqlx::Database>::Connection,
    id: WebhookId,
    hash: Option<&[u8]>,
) -> StoreResult<()> {
    sqlx::query("UPDATE webhooks SET verification_hash = $2 WHERE id = $1")
        .bind(id.0)
        .bind(hash)
        .execute(&mut *connection)
        .await
        .map_err(classify)?;
    Ok(())
}

pub(super) async fn insert_webhook_secret_row(
    connection: &mut <Db as sqlx::Database>::Connection,
    secret: &WebhookSecretRecord,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO webhook_secrets (id, webhook_id, secret, created_at, expires_at) VALUES ($1, \
         $2, $3, $4, $5)",
    )
    .bind(secret.id)
    .bind(secret.webhook_id.0)
    .bind(&secret.sealed)
    .bind(truncate_to_micros(secret.created_at))
    .bind(secret.expires_at.map(truncate_to_micros))
    .execute(&mut *connection)
    .await
    .map_err(classify)?;
    Ok(())
}

#[derive(FromRow)]
pub(super) struct SecretRow {
    id: Uuid,
    webhook_id: Uuid,
    secret: Vec<u8>,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
}

#[async_trait]
impl WebhookStore for Backend {
    async fn insert_webhook(
        &self,
        webhook: &Webhook,
        verification_hash: Option<&[u8]>,
        secret: &WebhookSecretRecord,
        events: &[NewEvent],
    ) -> StoreResult<()> {
        let mut transaction = self.begin_write().await?;
        insert_webhook_row(&mut transaction, webhook, verification_hash).await?;
        insert_webhook_secret_row(&mut transaction, secret).await?;
        self.commit_with_events(transaction, events).await
    }

    async fn update_webhook(
        &self,
        webhook: &Webhook,
        new_verification_hash: Option<&[u8]>,
        reset_failures: bool,
        events: &[NewEvent],
    ) -> StoreResult<bool> {
        let mut transaction = self.begin_write().await?;
        if !update_webhook_row(&mut transaction, webhook, reset_failures).await? {
            return Ok(false);
        }
        if let Some(hash) = new_verification_hash {
            set_verification_hash(&mut transaction, webhook.id, Some(hash)).await?;
        }
        reconcile_parking(&mut transaction, webhook, webhook.updated_at).await?;
        self.commit_with_events(transaction, events).await?;
        Ok(true)
    }

    async fn uri_verified(&self, account: &AccountId, uri: &str) -> StoreResult<bool> {
        let found: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM webhooks WHERE account_id = $1 AND uri = $2 AND verified_at IS NOT NULL \
             LIMIT 1",
        )
        .bind(account.as_str())
        .bind(uri)
        .fetch_optional(self.pool())
        .await?;
        Ok(found.is_some())
    }

    async fn webhook_awaiting_verification(&self, hash: &[u8]) -> StoreResult<Option<Webhook>> {
        let row: Option<WebhookRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM webhooks w WHERE w.verification_hash = $1",
            WebhookRow::select_list()
        )))
        .bind(hash)
        .fetch_optional(self.pool())
        .await?;
        row.map(WebhookRow::into_record).transpose()
    }

    /// A verification secret works once; verifying also makes the webhook's parked deliveries
    /// due. `Ok(false)`: the secret was used or replaced meanwhile.
    async fn verify_webhook(
        &self,
        webhook: &Webhook,
        hash: &[u8],
        events: &[NewEvent],
    ) -> StoreResult<bool> {
        let mut transaction = self.begin_write().await?;
        let verified_at = webhook.verified_at.map(truncate_to_micros);
        let updated = sqlx::query(
            "UPDATE webhooks SET verified_at = $3, verification_hash = NULL, updated_at = $3 \
             WHERE id = $1 AND verification_hash = $2",
        )
        .bind(webhook.id.0)
        .bind(hash)
        .bind(verified_at)
        .execute(&mut *transaction)
        .await?
        .rows_affected();
        if updated == 0 {
            return Ok(false);
        }
        reconcile_parking(&mut transaction, webhook, webhook.updated_at).await?;
        self.commit_with_events(transaction, events).await?;
        Ok(true)
    }

    async fn delete_webhook(
        &self,
        account: &AccountId,
        id: WebhookId,
        events: &[NewEvent],
    ) -> StoreResult<bool> {
        let mut transaction = self.begin_write().await?;
        if !delete_record::<WebhookRow>(&mut transaction, account, id.0, None).await? {
            return Ok(false);
        }
        self.commit_with_events(transaction, events).await?;
        Ok(true)
    }

    /// Newest first.
    async fn webhook_secrets(
        &self,
        webhook: WebhookId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<WebhookSecretRecord>> {
        let rows: Vec<SecretRow> = sqlx::query_as(
            "SELECT id, webhook_id, secret, created_at, expires_at FROM webhook_secrets \
             WHERE webhook_id = $1 AND (expires_at IS NULL OR expires_at > $2) ORDER BY created_at \
             DESC, id DESC",
        )
        .bind(webhook.0)
        .bind(truncate_to_micros(now))
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| WebhookSecretRecord {
                id: row.id,
                webhook_id: WebhookId(row.webhook_id),
                sealed: row.secret,
                created_at: row.created_at,
                expires_at: row.expires_at,
            })
            .collect())
    }

    /// The older secrets stop signing at `previous_until` (or earlier, if they were already due
    /// to), and those expired by `now` go.
    async fn rotate_webhook_secret(
        &self,
        secret: &WebhookSecretRecord,
        previous_until: DateTime<Utc>,
        now: DateTime<Utc>,
        events: &[NewEvent],
    ) -> StoreResult<()> {
        let mut transaction = self.begin_write().await?;
        sqlx::query("DELETE FROM webhook_secrets WHERE webhook_id = $1 AND expires_at <= $2")
            .bind(secret.webhook_id.0)
            .bind(truncate_to_micros(now))
            .execute(&mut *transaction)
            .await?;
        sqlx::query(
            "UPDATE webhook_secrets SET expires_at = $2 WHERE webhook_id = $1 \
             AND (expires_at IS NULL OR expires_at > $2)",
        )
        .bind(secret.webhook_id.0)
        .bind(truncate_to_micros(previous_until))
        .execute(&mut *transaction)
        .await?;
        insert_webhook_secret_row(&mut transaction, secret).await?;
        Backend::notify_credentials_changed(&mut transaction).await?;
        self.commit_with_events(transaction, events).await
    }

    async fn webhook(&self, account: &AccountId, id: WebhookId) -> StoreResult<Option<Webhook>> {
        record_where::<WebhookRow>(self.pool(), account, "id", id.0).await
    }

    async fn webhooks(
        &self,
        account: &AccountId,
        filter: WebhookFilter,
        query: &ListQuery,
    ) -> StoreResult<Listing<Webhook>> {
        enabled_or_disabled_page::<WebhookRow>(self.pool(), account, filter, query).await
    }
}
