//! Accounts: the tenant every other record belongs to.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// An account id is a lowercase slug, like `acme` in `acme.xurrent.com`: it appears in URLs and
/// headers, so it is restricted to characters that never need escaping.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccountId(String);

pub const ACCOUNT_ID_MAX_LENGTH: usize = 63;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "account id must be 2 to 63 characters of lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen"
)]
pub struct AccountIdError;

impl AccountId {
    pub fn parse(raw: &str) -> Result<Self, AccountIdError> {
        let bytes = raw.as_bytes();
        let valid_length = (2..=ACCOUNT_ID_MAX_LENGTH).contains(&bytes.len());
        let valid_characters = bytes
            .iter()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || *byte == b'-');
        let valid_ends =
            bytes.first().is_some_and(u8::is_ascii_lowercase) && bytes.last() != Some(&b'-');
        if valid_length && valid_characters && valid_ends {
            Ok(Self(raw.to_owned()))
        } else {
            Err(AccountIdError)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl TryFrom<String> for AccountId {
    type Error = AccountIdError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<AccountId> for String {
    fn from(id: AccountId) -> Self {
        id.0
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Account {
    pub id: AccountId,
    pub name: String,
    pub scim_patch_response: ScimPatchResponse,
    /// How long finished deliveries, the events they carried and notices are kept.
    pub delivery_retention_days: RetentionDays,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a successful SCIM PATCH answers: the resource (200, RFC 7644 §3.5.2's default, with
/// `attributes`/`excludedAttributes` honoured) or no content (204, which Entra ID's guide
/// prefers).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScimPatchResponse {
    #[default]
    Resource,
    NoContent,
}

impl ScimPatchResponse {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Resource => "resource",
            Self::NoContent => "no_content",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "resource" => Some(Self::Resource),
            "no_content" | "no-content" => Some(Self::NoContent),
            _ => None,
        }
    }
}

/// How many days an account keeps its finished deliveries (with their attempts), the events
/// none of whose deliveries are left, and its notices: 1 to 3,650 (ten years), 90 by default.
/// Pending deliveries are kept however old they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct RetentionDays(u16);

impl RetentionDays {
    pub const MIN: i64 = 1;
    pub const MAX: i64 = 3_650;
    pub const DEFAULT: Self = Self(90);

    pub fn new(days: i64) -> Result<Self, RetentionDaysError> {
        if (Self::MIN..=Self::MAX).contains(&days) {
            Ok(Self(days as u16))
        } else {
            Err(RetentionDaysError(days))
        }
    }

    pub fn days(self) -> i64 {
        i64::from(self.0)
    }

    pub fn get(self) -> u16 {
        self.0
    }

    /// The moment before which finished records go, seen at `now`.
    pub fn cutoff(self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - chrono::Duration::days(self.days())
    }
}

impl Default for RetentionDays {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl From<RetentionDays> for i64 {
    fn from(days: RetentionDays) -> Self {
        days.days()
    }
}

impl TryFrom<i64> for RetentionDays {
    type Error = RetentionDaysError;
    fn try_from(days: i64) -> Result<Self, Self::Error> {
        Self::new(days)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("delivery_retention_days must be a whole number of days from 1 to 3650, not {0}")]
pub struct RetentionDaysError(pub i64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_is_one_day_to_ten_years() {
        for days in [1, 90, 3_650] {
            assert_eq!(RetentionDays::new(days).map(RetentionDays::days), Ok(days));
        }
        for days in [0, -1, 3_651, i64::MAX] {
            assert_eq!(RetentionDays::new(days), Err(RetentionDaysError(days)));
        }
        assert_eq!(RetentionDays::default().days(), 90);
        let now = DateTime::parse_from_rfc3339("2026-12-06T00:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            RetentionDays::new(2).unwrap().cutoff(now).to_rfc3339(),
            "2026-12-04T00:00:00+00:00"
        );
    }

    #[test]
    fn account_id_accepts_lowercase_slugs() {
        for id in ["acme", "widget-it", "a1", "x-2-y"] {
            assert_eq!(
                AccountId::parse(id).map(|id| id.to_string()),
                Ok(id.to_owned())
            );
        }
    }

    #[test]
    fn account_id_rejects_anything_that_would_need_escaping_or_looks_odd() {
        let too_long = "a".repeat(64);
        for id in [
            "",
            "a",
            "Acme",
            "1acme",
            "acme-",
            "ac me",
            "acme.com",
            "ac_me",
            "-acme",
            too_long.as_str(),
        ] {
            assert_eq!(AccountId::parse(id), Err(AccountIdError), "{id:?}");
        }
    }
}
