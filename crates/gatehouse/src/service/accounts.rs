//! Accounts are created by the admin CLI only: there is no tenant above an account to do it.

use super::error::OrNotFound;
use super::validate::{NAME_MAX_CHARS, Problems};
use super::{ServiceError, ServiceResult, Services};
use crate::domain::{Account, AccountId, ScimPatchResponse};
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

    pub async fn account(&self, id: &AccountId) -> ServiceResult<Account> {
        self.store.account(id).await.or_not_found("Account")
    }

    /// Changes an account's name or settings (the admin CLI's `account update`).
    pub async fn update_account(
        &self,
        id: &AccountId,
        changes: AccountChanges,
    ) -> ServiceResult<Account> {
        let mut account = self.account(id).await?;
        if let Some(name) = &changes.name {
            let mut problems = Problems::default();
            problems.required_text("name", name, NAME_MAX_CHARS);
            problems.into_result()?;
            account.name = name.trim().to_owned();
        }
        if let Some(response) = changes.scim_patch_response {
            account.scim_patch_response = response;
        }
        account.updated_at = self.clock.now().max(account.updated_at);
        if !self.store.update_account(&account).await? {
            return Err(ServiceError::NotFound("Account"));
        }
        Ok(account)
    }

    pub async fn accounts(&self) -> ServiceResult<Vec<Account>> {
        Ok(self.store.accounts().await?)
    }
}
