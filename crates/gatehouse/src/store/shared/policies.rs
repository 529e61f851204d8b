//! Webhook policies, their links to webhooks, and their signing keys (sealed).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::FromRow;
use uuid::Uuid;

use crate::domain::{
    AccountId, ClaimExpiry, JwtAlgorithm, JwtFormat, NewEvent, PolicyKey, RecordSource,
    VERIFY_EVENT, WebhookId, WebhookPolicy, WebhookPolicyId, truncate_to_micros,
};
use crate::store::dialect::Dialect;
use crate::store::{
    ListQuery, Listing, NewPolicyKey, PolicyStore, StoreError, StoreResult, WebhookFilter,
};

use super::{Backend, Db, PENDING_OF_WEBHOOK};
use super::{
    RecordRow, classify, delete_record, enabled_or_disabled_page, parse_account_id, record_where,
};

pub(super) const POLICY_COLUMNS: &str = "id, account_id, name, jwt_alg, jwt_claim_expires_in, \
     jwt_exp_claim, jwt_audience, jwt_format, disabled, created_at, updated_at, source, source_id";

/// `jwt_claim_expires_in` and `jwt_exp_claim` as their columns hold them. Without an expiry the
/// minutes column keeps the longest one, so a node of the previous release, which knows no
/// `jwt_exp_claim`, still signs (with that `exp`) rather than failing its claims.
pub(super) fn claim_expiry_columns(expiry: Option<ClaimExpiry>) -> (i32, bool) {
    let minutes = expiry.map_or(ClaimExpiry::MAX_MINUTES, ClaimExpiry::minutes);
    (i32::try_from(minutes).unwrap_or(i32::MAX), expiry.is_some())
}

pub(super) fn stored_claim_expiry(
    minutes: i32,
    exp_claim: bool,
) -> StoreResult<Option<ClaimExpiry>> {
    if !exp_claim {
        return Ok(None);
    }
    ClaimExpiry::from_minutes(i64::from(minutes))
        .map(Some)
        .map_err(|error| StoreError::Corrupt(error.to_string()))
}

#[derive(FromRow)]
pub(super) struct PolicyRow {
    id: Uuid,
    account_id: String,
    name: String,
    jwt_alg: String,
    jwt_claim_expires_in: i32,
    jwt_exp_claim: bool,
    jwt_audience: Option<String>,
    jwt_format: String,
    disabled: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    source: Option<String>,
    source_id: Option<String>,
}

pub(super) fn stored_algorithm(raw: &str) -> StoreResult<JwtAlgorithm> {
    raw.parse()
        .map_err(|_| StoreError::Corrupt(format!("unknown jwt_alg {raw:?} stored")))
}

impl RecordRow for PolicyRow {
    type Record = WebhookPolicy;
    const TABLE: &'static str = "webhook_policies";
    const ALIAS: &'static str = "p";
    const COLUMNS: &'static str = POLICY_COLUMNS;

    fn into_record(self) -> StoreResult<WebhookPolicy> {
        Ok(WebhookPolicy {
            id: WebhookPolicyId(self.id),
            account_id: parse_account_id(&self.account_id)?,
            name: self.name,
            jwt_alg: stored_algorithm(&self.jwt_alg)?,
            jwt_claim_expires_in: stored_claim_expiry(
                self.jwt_claim_expires_in,
                self.jwt_exp_claim,
            )?,
            jwt_audience: self.jwt_audience,
            jwt_format: JwtFormat::parse(&self.jwt_format).ok_or_else(|| {
                StoreError::Corrupt(format!("unknown jwt_format {:?} stored", self.jwt_format))
            })?,
            disabled: self.disabled,
            source: RecordSource {
                source: self.source,
                source_id: self.source_id,
            },
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(FromRow)]
pub(super) struct PolicyKeyRow {
    id: String,
    policy_id: Uuid,
    jwt_alg: String,
    private_key: Vec<u8>,
    active_from: DateTime<Utc>,
    created_at: DateTime<Utc>,
}

impl PolicyKeyRow {
    fn into_key(self) -> StoreResult<PolicyKey> {
        Ok(PolicyKey {
            id: self.id,
            policy_id: WebhookPolicyId(self.policy_id),
            jwt_alg: stored_algorithm(&self.jwt_alg)?,
            sealed: self.private_key,
            active_from: self.active_from,
            created_at: self.created_at,
        })
    }
}

pub(super) async fn insert_policy_key_row(
    connection: &mut <Db as sqlx::Database>::Connection,
    key: &PolicyKey,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO webhook_policy_keys (id, policy_id, jwt_alg, private_key, active_from, \
         created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&key.id)
    .bind(key.policy_id.0)
    .bind(key.jwt_alg.as_str())
    .bind(&key.sealed)
    .bind(truncate_to_micros(key.active_from))
    .bind(truncate_to_micros(key.created_at))
    .execute(&mut *connection)
    .await
    .map_err(classify)?;
    Ok(())
}

/// Adds a key to its policy, first retiring the keys superseded before `retire_before`, and
/// tells the other processes to drop the keys they cached (PostgreSQL; SQLite has one process).
async fn add_policy_key(
    connection: &mut <Db as sqlx::Database>::Connection,
    NewPolicyKey { key, retire_before }: NewPolicyKey<'_>,
) -> StoreResult<()> {
    // A key is superseded once a later key is active; keep it while its last signatures may
    // still be checked.
    sqlx::query(
        "DELETE FROM webhook_policy_keys WHERE policy_id = $1 AND EXISTS ( \
           SELECT 1 FROM webhook_policy_keys later WHERE later.policy_id = $1 \
           AND later.active_from > webhook_policy_keys.active_from AND later.active_from < $2)",
    )
    .bind(key.policy_id.0)
    .bind(truncate_to_micros(retire_before))
    .execute(&mut *connection)
    .await?;
    insert_policy_key_row(&mut *connection, key).await?;
    Backend::notify_credentials_changed(&mut *connection).await?;
    Ok(())
}

/// Makes the parked deliveries of `webhooks` due again where nothing holds them any more: the
/// webhook is active (or the delivery is its verification message) and no disabled or missing
/// policy stands in the way. Parking the other way is left to the claim, which parks what it
/// may not send.
pub(super) async fn unpark_signable(
    connection: &mut <Db as sqlx::Database>::Connection,
    webhooks: &[Uuid],
    now: DateTime<Utc>,
) -> StoreResult<()> {
    // A delivery is sent once nothing holds it back: the webhook has no policy or an enabled
    // one, and it is active — or the delivery is its verification message or a test send.
    let signable = "EXISTS (SELECT 1 FROM webhooks w LEFT JOIN webhook_policies p \
         ON p.id = w.webhook_policy_id \
         WHERE w.id = $1 AND (w.webhook_policy_id IS NULL OR p.disabled = FALSE) \
         AND (webhook_deliveries.event = $3 OR webhook_deliveries.test_mode = TRUE \
         OR (w.disabled = FALSE AND w.verified_at IS NOT NULL)))";
    for webhook in webhooks {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE webhook_delivery_queue SET due_at = $2 WHERE delivery_id IN ( \
               SELECT id FROM webhook_deliveries WHERE {PENDING_OF_WEBHOOK} AND {signable}) \
             AND due_at IS NULL"
        )))
        .bind(webhook)
        .bind(truncate_to_micros(now))
        .bind(VERIFY_EVENT)
        .execute(&mut *connection)
        .await?;
        // What a node of an earlier release parked (migration 0027), leased or not, is made due
        // its way; a node of this release moves it into the queue once no lease holds it
        // (`queue_unqueued`). The queue's own rows carry the fence.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE webhook_deliveries SET next_attempt_at = $2, updated_at = $2 \
             WHERE {PENDING_OF_WEBHOOK} AND next_attempt_at IS NULL \
             AND (locked_until IS NULL OR locked_until < $4) AND {signable}"
        )))
        .bind(webhook)
        .bind(truncate_to_micros(now))
        .bind(VERIFY_EVENT)
        .bind(super::queue::QUEUED)
        .execute(&mut *connection)
        .await?;
    }
    if !webhooks.is_empty() {
        Backend::notify_deliveries_ready(connection).await?;
    }
    Ok(())
}

pub(super) async fn linked_webhook_ids(
    connection: &mut <Db as sqlx::Database>::Connection,
    policy: WebhookPolicyId,
) -> StoreResult<Vec<Uuid>> {
    let rows: Vec<(Uuid,)> =
        sqlx::query_as("SELECT id FROM webhooks WHERE webhook_policy_id = $1 ORDER BY id")
            .bind(policy.0)
            .fetch_all(&mut *connection)
            .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Makes exactly `links` (webhooks of the policy's account) the webhooks linked to `policy`.
/// `Ok(Ok(touched))`: every webhook linked or unlinked; `Ok(Err(unknown))`: ids naming no
/// webhook of the account (the caller must roll back).
pub(super) async fn link_webhooks(
    connection: &mut <Db as sqlx::Database>::Connection,
    policy: &WebhookPolicy,
    links: &[WebhookId],
) -> StoreResult<Result<Vec<Uuid>, Vec<WebhookId>>> {
    let mut touched = linked_webhook_ids(&mut *connection, policy.id).await?;
    let mut unknown = Vec::new();
    for webhook in links {
        let linked = sqlx::query(
            "UPDATE webhooks SET webhook_policy_id = $3, updated_at = $4 WHERE account_id = $1 AND \
             id = $2",
        )
        .bind(policy.account_id.as_str())
        .bind(webhook.0)
        .bind(policy.id.0)
        .bind(truncate_to_micros(policy.updated_at))
        .execute(&mut *connection)
        .await?
        .rows_affected();
        if linked == 0 {
            unknown.push(*webhook);
        }
    }
    if !unknown.is_empty() {
        return Ok(Err(unknown));
    }
    for webhook in &touched {
        if !links.iter().any(|link| link.0 == *webhook) {
            sqlx::query(
                "UPDATE webhooks SET webhook_policy_id = NULL, updated_at = $2 WHERE id = $1",
            )
            .bind(webhook)
            .bind(truncate_to_micros(policy.updated_at))
            .execute(&mut *connection)
            .await?;
        }
    }
    touched.extend(links.iter().map(|link| link.0));
    touched.sort_unstable();
    touched.dedup();
    Ok(Ok(touched))
}

#[async_trait]
impl PolicyStore for Backend {
    /// Creates a policy with its first key, linked to `links`. Returns the ids in `links` that
    /// name no webhook of the account; when there are any, nothing was written.
    async fn insert_webhook_policy(
        &self,
        policy: &WebhookPolicy,
        key: &PolicyKey,
        links: &[WebhookId],
        events: &[NewEvent],
    ) -> StoreResult<Vec<WebhookId>> {
        let (expires_in_minutes, exp_claim) = claim_expiry_columns(policy.jwt_claim_expires_in);
        let mut transaction = self.begin_write().await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO webhook_policies ({POLICY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
             $9, $10, $11, $12, $13)"
        )))
        .bind(policy.id.0)
        .bind(policy.account_id.as_str())
        .bind(&policy.name)
        .bind(policy.jwt_alg.as_str())
        .bind(expires_in_minutes)
        .bind(exp_claim)
        .bind(&policy.jwt_audience)
        .bind(policy.jwt_format.as_str())
        .bind(policy.disabled)
        .bind(truncate_to_micros(policy.created_at))
        .bind(truncate_to_micros(policy.updated_at))
        .bind(&policy.source.source)
        .bind(&policy.source.source_id)
        .execute(&mut *transaction)
        .await
        .map_err(classify)?;
        insert_policy_key_row(&mut transaction, key).await?;
        if !links.is_empty() {
            match link_webhooks(&mut transaction, policy, links).await? {
                Ok(touched) => {
                    unpark_signable(&mut transaction, &touched, policy.updated_at).await?
                }
                Err(unknown) => return Ok(unknown),
            }
        }
        self.commit_with_events(transaction, events).await?;
        Ok(Vec::new())
    }

    /// Writes a policy's changed fields and, when `links` is given, makes exactly those webhooks
    /// of its account the linked ones. `Ok(None)`: no such policy; `Ok(Some(unknown))`: the ids
    /// in `links` that name no webhook of the account (nothing was written).
    async fn update_webhook_policy(
        &self,
        policy: &WebhookPolicy,
        links: Option<&[WebhookId]>,
        new_key: Option<NewPolicyKey<'_>>,
        events: &[NewEvent],
    ) -> StoreResult<Option<Vec<WebhookId>>> {
        let (expires_in_minutes, exp_claim) = claim_expiry_columns(policy.jwt_claim_expires_in);
        let mut transaction = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE webhook_policies SET name = $3, jwt_claim_expires_in = $4, jwt_audience = $5, \
             jwt_format = $6, disabled = $7, updated_at = $8, jwt_alg = $9, source = $10, \
             source_id = $11, jwt_exp_claim = $12 WHERE account_id = $1 AND id = $2",
        )
        .bind(policy.account_id.as_str())
        .bind(policy.id.0)
        .bind(&policy.name)
        .bind(expires_in_minutes)
        .bind(&policy.jwt_audience)
        .bind(policy.jwt_format.as_str())
        .bind(policy.disabled)
        .bind(truncate_to_micros(policy.updated_at))
        .bind(policy.jwt_alg.as_str())
        .bind(&policy.source.source)
        .bind(&policy.source.source_id)
        .bind(exp_claim)
        .execute(&mut *transaction)
        .await
        .map_err(classify)?
        .rows_affected();
        if updated == 0 {
            return Ok(None);
        }
        if let Some(new_key) = new_key {
            add_policy_key(&mut transaction, new_key).await?;
        }
        let touched = match links {
            Some(links) => match link_webhooks(&mut transaction, policy, links).await? {
                Ok(touched) => touched,
                // Dropping the transaction rolls every change back.
                Err(unknown) => return Ok(Some(unknown)),
            },
            None => linked_webhook_ids(&mut transaction, policy.id).await?,
        };
        unpark_signable(&mut transaction, &touched, policy.updated_at).await?;
        self.commit_with_events(transaction, events).await?;
        Ok(Some(Vec::new()))
    }

    /// Deletes a policy no webhook links to. `Ok(None)`: no such policy; `Ok(Some(n))` with n > 0:
    /// n webhooks still link to it, nothing deleted.
    async fn delete_webhook_policy(
        &self,
        account: &AccountId,
        id: WebhookPolicyId,
        events: &[NewEvent],
    ) -> StoreResult<Option<u64>> {
        let mut transaction = self.begin_write().await?;
        let linked = linked_webhook_ids(&mut transaction, id).await?;
        if !linked.is_empty() {
            let exists: Option<(Uuid,)> =
                sqlx::query_as("SELECT id FROM webhook_policies WHERE account_id = $1 AND id = $2")
                    .bind(account.as_str())
                    .bind(id.0)
                    .fetch_optional(&mut *transaction)
                    .await?;
            return Ok(exists.map(|_| linked.len() as u64));
        }
        if !delete_record::<PolicyRow>(&mut transaction, account, id.0, None).await? {
            return Ok(None);
        }
        self.commit_with_events(transaction, events).await?;
        Ok(Some(0))
    }

    async fn webhook_policy(
        &self,
        account: &AccountId,
        id: WebhookPolicyId,
    ) -> StoreResult<Option<WebhookPolicy>> {
        record_where::<PolicyRow>(self.pool(), account, "id", id.0).await
    }

    async fn webhook_policies_named(
        &self,
        account: &AccountId,
        name: &str,
        for_discovery: bool,
    ) -> StoreResult<Vec<WebhookPolicy>> {
        let discovery = if for_discovery {
            " AND EXISTS (SELECT 1 FROM webhooks w WHERE w.webhook_policy_id = p.id \
             AND w.openid_connect_discovery = TRUE)"
        } else {
            ""
        };
        let rows: Vec<PolicyRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM webhook_policies p WHERE p.account_id = $1 AND p.name = $2{discovery}",
            PolicyRow::select_list()
        )))
        .bind(account.as_str())
        .bind(name)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(PolicyRow::into_record).collect()
    }

    async fn webhook_policies(
        &self,
        account: &AccountId,
        filter: WebhookFilter,
        query: &ListQuery,
    ) -> StoreResult<Listing<WebhookPolicy>> {
        enabled_or_disabled_page::<PolicyRow>(self.pool(), account, filter, query).await
    }

    /// The webhooks of `account` linked to each of `policies`, in id order.
    async fn policy_links(
        &self,
        account: &AccountId,
        policies: &[WebhookPolicyId],
    ) -> StoreResult<Vec<(WebhookPolicyId, WebhookId)>> {
        let mut links = Vec::new();
        for chunk in policies.chunks(100) {
            let placeholders: Vec<String> = (2..chunk.len() + 2)
                .map(|index| format!("${index}"))
                .collect();
            let sql = format!(
                "SELECT webhook_policy_id, id FROM webhooks WHERE account_id = $1 \
                 AND webhook_policy_id IN ({}) ORDER BY webhook_policy_id, id",
                placeholders.join(", ")
            );
            let mut query = sqlx::query_as::<_, (Uuid, Uuid)>(sqlx::AssertSqlSafe(sql))
                .persistent(false)
                .bind(account.as_str());
            for policy in chunk {
                query = query.bind(policy.0);
            }
            links.extend(
                query
                    .fetch_all(self.pool())
                    .await?
                    .into_iter()
                    .map(|(policy, webhook)| (WebhookPolicyId(policy), WebhookId(webhook))),
            );
        }
        Ok(links)
    }

    /// Adds a rotation's key; keys superseded before `retire_before` (no longer signing anything a
    /// receiver may still hold unexpired) go.
    async fn insert_policy_key(
        &self,
        new_key: NewPolicyKey<'_>,
        events: &[NewEvent],
    ) -> StoreResult<()> {
        let mut transaction = self.begin_write().await?;
        add_policy_key(&mut transaction, new_key).await?;
        self.commit_with_events(transaction, events).await
    }

    /// Every stored key of `policies`, by policy, oldest first.
    async fn policy_keys(&self, policies: &[WebhookPolicyId]) -> StoreResult<Vec<PolicyKey>> {
        let mut keys = Vec::new();
        for chunk in policies.chunks(100) {
            let placeholders: Vec<String> =
                (1..=chunk.len()).map(|index| format!("${index}")).collect();
            let sql = format!(
                "SELECT id, policy_id, jwt_alg, private_key, active_from, created_at FROM \
                 webhook_policy_keys \
                 WHERE policy_id IN ({}) ORDER BY policy_id, active_from, created_at",
                placeholders.join(", ")
            );
            let mut query = sqlx::query_as::<_, PolicyKeyRow>(sqlx::AssertSqlSafe(sql))
                .persistent(chunk.len() == 1);
            for policy in chunk {
                query = query.bind(policy.0);
            }
            for row in query.fetch_all(self.pool()).await? {
                keys.push(row.into_key()?);
            }
        }
        Ok(keys)
    }
}
