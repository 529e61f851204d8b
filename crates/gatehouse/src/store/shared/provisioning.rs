//! An account's SCIM provisioning credential: one row per secret, the secret kept as its hash.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::FromRow;
use uuid::Uuid;

use crate::auth::TokenHash;
use crate::domain::{
    AccountId, NewEvent, ProvisioningSecret, ProvisioningSecretId, truncate_to_micros,
};
use crate::store::dialect::Dialect;
use crate::store::{ProvisioningStore, StoreResult};

use super::{Backend, Db, classify, parse_account_id, record_use};

const COLUMNS: &str =
    "id, account_id, created_at, created_by, last_used_at, retires_at, revoked_at";

#[derive(FromRow)]
struct ProvisioningSecretRow {
    id: Uuid,
    account_id: String,
    created_at: DateTime<Utc>,
    created_by: Option<String>,
    last_used_at: Option<DateTime<Utc>>,
    retires_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl ProvisioningSecretRow {
    fn into_secret(self) -> StoreResult<ProvisioningSecret> {
        Ok(ProvisioningSecret {
            id: ProvisioningSecretId(self.id),
            account_id: parse_account_id(&self.account_id)?,
            created_at: self.created_at,
            created_by: self.created_by,
            last_used_at: self.last_used_at,
            retires_at: self.retires_at,
            revoked_at: self.revoked_at,
        })
    }
}

impl Backend {
    /// Takes the account's row lock (PostgreSQL; SQLite has one writer anyway), so that two
    /// rotations, or a rotation and a revocation, of one account run one after the other and
    /// the second sees what the first wrote.
    async fn lock_account(
        transaction: &mut sqlx::Transaction<'static, Db>,
        account: &AccountId,
    ) -> StoreResult<()> {
        sqlx::query("UPDATE accounts SET id = id WHERE id = $1")
            .bind(account.as_str())
            .execute(&mut **transaction)
            .await?;
        Ok(())
    }

    async fn insert_secret_row(
        transaction: &mut sqlx::Transaction<'static, Db>,
        secret: &ProvisioningSecret,
        secret_hash: &TokenHash,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO scim_credentials (id, account_id, secret_hash, created_at, created_by, \
             last_used_at, retires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(secret.id.0)
        .bind(secret.account_id.as_str())
        .bind(secret_hash.as_bytes().as_slice())
        .bind(truncate_to_micros(secret.created_at))
        .bind(&secret.created_by)
        .bind(secret.last_used_at.map(truncate_to_micros))
        .bind(secret.retires_at.map(truncate_to_micros))
        .bind(secret.revoked_at.map(truncate_to_micros))
        .execute(&mut **transaction)
        .await
        .map_err(classify)?;
        Ok(())
    }
}

#[async_trait]
impl ProvisioningStore for Backend {
    async fn insert_provisioning_secret(
        &self,
        secret: &ProvisioningSecret,
        secret_hash: &TokenHash,
        event: &NewEvent,
    ) -> StoreResult<()> {
        let mut transaction = self.begin_write().await?;
        Backend::insert_secret_row(&mut transaction, secret, secret_hash).await?;
        self.commit_with_events(transaction, std::slice::from_ref(event))
            .await
    }

    async fn rotate_provisioning_secret(
        &self,
        secret: &ProvisioningSecret,
        secret_hash: &TokenHash,
        retires_at: DateTime<Utc>,
        event: &NewEvent,
    ) -> StoreResult<bool> {
        let now = truncate_to_micros(secret.created_at);
        let mut transaction = self.begin_write().await?;
        Backend::lock_account(&mut transaction, &secret.account_id).await?;
        // Only one previous secret works at a time: the one an earlier rotation left working
        // stops now.
        sqlx::query(
            "UPDATE scim_credentials SET revoked_at = $2 \
             WHERE account_id = $1 AND retires_at IS NOT NULL AND revoked_at IS NULL",
        )
        .bind(secret.account_id.as_str())
        .bind(now)
        .execute(&mut *transaction)
        .await?;
        let retired = sqlx::query(
            "UPDATE scim_credentials SET retires_at = $2, \
             revoked_at = CASE WHEN $2 <= $3 THEN $3 END \
             WHERE account_id = $1 AND retires_at IS NULL AND revoked_at IS NULL",
        )
        .bind(secret.account_id.as_str())
        .bind(truncate_to_micros(retires_at.max(secret.created_at)))
        .bind(now)
        .execute(&mut *transaction)
        .await?
        .rows_affected();
        if retired == 0 {
            return Ok(false);
        }
        Backend::insert_secret_row(&mut transaction, secret, secret_hash).await?;
        // Other nodes forget the secrets they cached (the credentials' channel).
        Backend::notify_credentials_changed(&mut transaction).await?;
        self.commit_with_events(transaction, std::slice::from_ref(event))
            .await?;
        Ok(true)
    }

    async fn revoke_provisioning_secrets(
        &self,
        account: &AccountId,
        revoked_at: DateTime<Utc>,
        event: &NewEvent,
    ) -> StoreResult<bool> {
        let mut transaction = self.begin_write().await?;
        Backend::lock_account(&mut transaction, account).await?;
        let revoked = sqlx::query(
            "UPDATE scim_credentials SET revoked_at = $2 \
             WHERE account_id = $1 AND revoked_at IS NULL AND (retires_at IS NULL OR retires_at > $2)",
        )
        .bind(account.as_str())
        .bind(truncate_to_micros(revoked_at))
        .execute(&mut *transaction)
        .await?
        .rows_affected();
        if revoked == 0 {
            return Ok(false);
        }
        Backend::notify_credentials_changed(&mut transaction).await?;
        self.commit_with_events(transaction, std::slice::from_ref(event))
            .await?;
        Ok(true)
    }

    async fn provisioning_secrets(
        &self,
        account: &AccountId,
    ) -> StoreResult<Vec<ProvisioningSecret>> {
        let rows: Vec<ProvisioningSecretRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM scim_credentials \
             WHERE account_id = $1 AND revoked_at IS NULL ORDER BY created_at, id"
        )))
        .bind(account.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(ProvisioningSecretRow::into_secret)
            .collect()
    }

    async fn provisioning_secret(
        &self,
        secret_hash: &TokenHash,
    ) -> StoreResult<Option<ProvisioningSecret>> {
        let row: Option<ProvisioningSecretRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM scim_credentials WHERE secret_hash = $1"
        )))
        .bind(secret_hash.as_bytes().as_slice())
        .fetch_optional(self.pool())
        .await?;
        row.map(ProvisioningSecretRow::into_secret).transpose()
    }

    async fn touch_provisioning_secret(
        &self,
        id: ProvisioningSecretId,
        used_at: DateTime<Utc>,
        unless_used_after: DateTime<Utc>,
    ) -> StoreResult<()> {
        record_use(
            self.writer(),
            "scim_credentials",
            id.0,
            used_at,
            unless_used_after,
        )
        .await
    }

    async fn purge_provisioning_secrets(&self, stopped_before: DateTime<Utc>) -> StoreResult<u64> {
        // A secret stops at the earlier of its revocation and its retirement: one of them is
        // before the cut-off exactly when that moment is.
        Ok(sqlx::query(
            "DELETE FROM scim_credentials WHERE (revoked_at IS NOT NULL AND revoked_at < $1) \
             OR (retires_at IS NOT NULL AND retires_at < $1)",
        )
        .bind(truncate_to_micros(stopped_before))
        .execute(self.writer())
        .await?
        .rows_affected())
    }
}
