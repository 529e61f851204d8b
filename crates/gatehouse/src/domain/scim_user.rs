//! SCIM Users as stored: the representation the provisioning client sent, plus the projections
//! of it that filters and sorting need as columns. Each SCIM User is linked to one person.

use chrono::{DateTime, Utc};

use super::id::uuid_id;
use super::{AccountId, PersonId, UserGroup};

uuid_id!(
    /// The id of a SCIM User.
    ScimUserId
);

/// One element of a multi-valued attribute (`emails`, `phoneNumbers`, …), as a row for filters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScimValue {
    /// The attribute's canonical name: `emails`, `phoneNumbers`, `ims`, …
    pub attribute: String,
    pub position: i32,
    pub value: Option<String>,
    pub value_type: Option<String>,
    pub primary: bool,
    pub display: Option<String>,
}

/// One of Xurrent's custom fields, as a row for filters: the field id in ASCII lower case and
/// its value as text (a string as sent, else its JSON text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomFieldValue {
    pub field: String,
    pub value: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ScimUserRecord {
    pub id: ScimUserId,
    pub account_id: AccountId,
    pub person_id: PersonId,
    pub user_name: String,
    pub external_id: Option<String>,
    pub display_name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub title: Option<String>,
    pub user_type: Option<String>,
    pub active: bool,
    pub employee_number: Option<String>,
    pub department: Option<String>,
    pub organization: Option<String>,
    /// Xurrent's additions to the Enterprise User extension.
    pub site: Option<String>,
    pub location: Option<String>,
    pub support_id: Option<String>,
    pub manager_id: Option<ScimUserId>,
    /// A password hash (never the password); never returned.
    pub password_hash: Option<String>,
    /// What the client sent, less `id`, `meta`, `password` and `groups`.
    pub resource: serde_json::Value,
    /// Rows for filtering on multi-valued attributes; written, never read back (the
    /// representation is `resource`).
    pub values: Vec<ScimValue>,
    /// Rows for filtering on custom fields; written, never read back, like `values`.
    pub custom_fields: Vec<CustomFieldValue>,
    /// The groups the User is a direct member of, derived from memberships (never stored
    /// with the User); read by the SCIM service for the answers that show them.
    pub groups: Vec<UserGroup>,
    /// Grows by one on every change; the weak ETag is `W/"{version}"`.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The key stored beside case-insensitive attributes (RFC 7643 §2.1): `scim::text::fold`, the
/// function the filter compiler folds operands with, so `userName eq "ＢＯＢ"` finds `bob`.
/// Folded in Rust so both backends agree on Unicode.
pub fn case_insensitive_key(value: &str) -> String {
    scim::text::fold(value)
}
