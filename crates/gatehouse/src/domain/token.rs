//! Personal access tokens as records. The secret itself lives in `auth::secret` and is never
//! part of this type: only its hash is stored.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::id::uuid_id;
use super::{AccountId, PersonId};
use crate::auth::ScopeSet;

uuid_id!(
    /// The id of a personal access token.
    TokenId
);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenStatus {
    Active,
    Expired,
    Revoked,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonalAccessToken {
    pub id: TokenId,
    pub account_id: AccountId,
    pub person_id: PersonId,
    pub name: String,
    pub description: Option<String>,
    pub scopes: ScopeSet,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl PersonalAccessToken {
    /// Status is derived, never stored: revocation wins over expiry.
    pub fn status(&self, now: DateTime<Utc>) -> TokenStatus {
        if self.revoked_at.is_some() {
            TokenStatus::Revoked
        } else if self.expires_at <= now {
            TokenStatus::Expired
        } else {
            TokenStatus::Active
        }
    }
}
