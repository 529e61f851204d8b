//! Accounts: the tenants.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::FromRow;

use crate::domain::{Account, AccountId, RetentionDays, ScimPatchResponse, truncate_to_micros};
use crate::store::dialect::Dialect;
use crate::store::{AccountStore, StoreError, StoreResult};

use super::Backend;
use super::{classify, parse_account_id};

#[derive(FromRow)]
pub(super) struct AccountRow {
    id: String,
    name: String,
    scim_patch_response: String,
    delivery_retention_days: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl AccountRow {
    fn into_account(self) -> StoreResult<Account> {
        Ok(Account {
            id: parse_account_id(&self.id)?,
            name: self.name,
            scim_patch_response: ScimPatchResponse::parse(&self.scim_patch_response).ok_or_else(
                || {
                    StoreError::Corrupt(format!(
                        "scim_patch_response {:?}",
                        self.scim_patch_response
                    ))
                },
            )?,
            delivery_retention_days: RetentionDays::new(i64::from(self.delivery_retention_days))
                .map_err(|error| StoreError::Corrupt(error.to_string()))?,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

pub(super) const ACCOUNT_COLUMNS: &str =
    "id, name, scim_patch_response, delivery_retention_days, created_at, updated_at";

#[async_trait]
impl AccountStore for Backend {
    async fn insert_account(&self, account: &Account) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO accounts (id, name, scim_patch_response, delivery_retention_days, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(account.id.as_str())
        .bind(&account.name)
        .bind(account.scim_patch_response.as_str())
        .bind(i32::from(account.delivery_retention_days.get()))
        .bind(truncate_to_micros(account.created_at))
        .bind(truncate_to_micros(account.updated_at))
        .execute(self.writer())
        .await
        .map_err(classify)?;
        Ok(())
    }

    async fn account(&self, id: &AccountId) -> StoreResult<Option<Account>> {
        let row: Option<AccountRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1"
        )))
        .bind(id.as_str())
        .fetch_optional(self.pool())
        .await?;
        row.map(AccountRow::into_account).transpose()
    }

    async fn update_account(&self, account: &Account) -> StoreResult<bool> {
        let mut transaction = self.begin_write().await?;
        let result = sqlx::query(
            "UPDATE accounts SET name = $2, scim_patch_response = $3, \
             delivery_retention_days = $4, updated_at = $5 WHERE id = $1",
        )
        .bind(account.id.as_str())
        .bind(&account.name)
        .bind(account.scim_patch_response.as_str())
        .bind(i32::from(account.delivery_retention_days.get()))
        .bind(truncate_to_micros(account.updated_at))
        .execute(&mut *transaction)
        .await
        .map_err(classify)?;
        // Other nodes forget the account they cached (on the credentials' channel).
        Backend::notify_credentials_changed(&mut transaction).await?;
        transaction.commit().await?;
        Ok(result.rows_affected() == 1)
    }

    async fn accounts(&self) -> StoreResult<Vec<Account>> {
        let rows: Vec<AccountRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY id"
        )))
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(AccountRow::into_account).collect()
    }
}
