//! People: the members of an account, created by hand or by the provisioning client.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::AccountId;
use super::id::uuid_id;
use crate::auth::RoleSet;

uuid_id!(
    /// The id of a person in an account's directory.
    PersonId
);

/// Who owns a person record. `scim` people are changed only by the provisioning client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PersonSource {
    Manual,
    Scim,
}

impl PersonSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::Scim => "scim",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "manual" => Some(Self::Manual),
            "scim" => Some(Self::Scim),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    pub id: PersonId,
    pub account_id: AccountId,
    pub name: String,
    /// Required for people made by hand; a SCIM User may arrive without any email.
    pub primary_email: Option<String>,
    pub job_title: Option<String>,
    pub employee_number: Option<String>,
    /// Phones come from SCIM provisioning (`phoneNumbers` of type `work` and `mobile`).
    pub work_phone: Option<String>,
    pub mobile_phone: Option<String>,
    /// A VIP, as Xurrent flags one: set when the person's SCIM User has `userType` `VIP`.
    pub vip: bool,
    pub disabled: bool,
    pub source: PersonSource,
    pub roles: RoleSet,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Person {
    /// A new person the provisioning client owns, still blank: no name, email, phones or roles,
    /// enabled, created and updated `now`. SCIM fills the fields from the User it creates.
    #[must_use]
    pub fn provisioned(account_id: AccountId, now: DateTime<Utc>) -> Self {
        Self {
            id: PersonId(uuid::Uuid::now_v7()),
            account_id,
            name: String::new(),
            primary_email: None,
            job_title: None,
            employee_number: None,
            work_phone: None,
            mobile_phone: None,
            vip: false,
            disabled: false,
            source: PersonSource::Scim,
            roles: RoleSet::new(),
            created_at: now,
            updated_at: now,
        }
    }

    /// The key that makes a primary email unique within an account: `scim::text::fold`, the
    /// fold of SCIM keys, so a person's email and a SCIM User's email compare alike and
    /// look-alikes (width, case, compatibility forms, surrounding spaces) clash. Folding here
    /// (not in SQL) makes both backends agree on Unicode.
    pub fn email_key(email: &str) -> String {
        scim::text::fold(email)
    }
}
