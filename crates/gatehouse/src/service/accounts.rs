//! Accounts are created by the admin CLI only: there is no tenant above an account to do it.

use super::error::OrNotFound;
use super::validate::{NAME_MAX_CHARS, Problems};
use super::{Principal, ServiceError, ServiceResult, Services};
use crate::auth::{Resource, Scope};
use crate::domain::{Account, AccountId, RetentionDays, ScimPatchResponse};
use crate::store::StoreError;

pub struct NewAccount {
    pub id: String,
    pub name: String,
}

/// The account fields an operator may change; `None` keeps the current value.
#[derive(Clone, Debug, Default)]
pub struct AccountChanges {
    pub name: Option<String>,
    pub scim_patch_response: Option<ScimPatchResponse>,
    /// Days finished deliveries, their events and notices are kept: 1 to 3,650.
    pub delivery_retention_days: Option<i64>,
}

impl Services {
    pub async fn create_account(&self, new: NewAccount) -> ServiceResult<Account> {
        let mut problems = Problems::default();
        let id = AccountId::parse(&new.id);
        if let Err(error) = &id {
            problems.push(error.to_string());
        }
        problems.required_text("name", &new.name, NAME_MAX_CHARS);
        problems.into_result()?;
        let now = self.clock.now();
        let account = Account {
            id: id.map_err(|error| ServiceError::invalid(vec![error.to_string()]))?,
            name: new.name.trim().to_owned(),
            scim_patch_response: ScimPatchResponse::default(),
            delivery_retention_days: RetentionDays::default(),
            created_at: now,
            updated_at: now,
        };
        match self.store.insert_account(&account).await {
            Ok(()) => Ok(account),
            Err(StoreError::Conflict(_)) => Err(ServiceError::Conflict(format!(
                "account {} already exists",
                account.id
            ))),
            Err(error) => Err(error.into()),
        }
    }

    /// The account `id`, as a request reads it: from the cache when fresh (at most the cache's
    /// time-to-live old when changed where no notification reaches this process).
    pub async fn account(&self, id: &AccountId) -> ServiceResult<Account> {
        let load = async { Ok::<_, ServiceError>(self.store.account(id).await?) };
        self.accounts
            .get_or_load(id, load)
            .await?
            .ok_or(ServiceError::NotFound("Account"))
    }

    /// Changes an account's name or settings (the admin CLI's `account update`).
    pub async fn update_account(
        &self,
        id: &AccountId,
        changes: AccountChanges,
    ) -> ServiceResult<Account> {
        // Read from the store, not the cache: what is written back must be what is there.
        let mut account = self.store.account(id).await.or_not_found("Account")?;
        let mut problems = Problems::default();
        if let Some(name) = &changes.name {
            problems.required_text("name", name, NAME_MAX_CHARS);
            account.name = name.trim().to_owned();
        }
        if let Some(days) = changes.delivery_retention_days {
            match RetentionDays::new(days) {
                Ok(days) => account.delivery_retention_days = days,
                Err(error) => problems.push(error.to_string()),
            }
        }
        problems.into_result()?;
        if let Some(response) = changes.scim_patch_response {
            account.scim_patch_response = response;
        }
        account.updated_at = self.clock.now().max(account.updated_at);
        let updated = self.store.update_account(&account).await;
        self.accounts.invalidate_all();
        if !updated? {
            return Err(ServiceError::NotFound("Account"));
        }
        Ok(account)
    }

    /// The caller's account as `GET /v1/account` shows it. Needs `account:read`.
    pub async fn own_account(&self, principal: &Principal) -> ServiceResult<Account> {
        principal.require(Scope::read(Resource::Account))?;
        self.account(&principal.account_id).await
    }

    /// Changes the caller's account (`PATCH /v1/account`). Needs `account:write`, which only
    /// account administrators' tokens carry.
    pub async fn update_own_account(
        &self,
        principal: &Principal,
        changes: AccountChanges,
    ) -> ServiceResult<Account> {
        principal.require(Scope::write(Resource::Account))?;
        self.update_account(&principal.account_id, changes).await
    }

    pub async fn accounts(&self) -> ServiceResult<Vec<Account>> {
        Ok(self.store.accounts().await?)
    }
}
