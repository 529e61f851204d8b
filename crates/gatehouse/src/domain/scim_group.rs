//! SCIM Groups as stored: display name, group type and the client's representation; members
//! live in their own table and are read and written as rows, never as one array.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::AccountId;
use super::id::uuid_id;

uuid_id!(
    /// The id of a SCIM Group.
    ScimGroupId
);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MemberType {
    User,
    Group,
}

impl MemberType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "User",
            Self::Group => "Group",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        if raw.eq_ignore_ascii_case("User") {
            Some(Self::User)
        } else if raw.eq_ignore_ascii_case("Group") {
            Some(Self::Group)
        } else {
            None
        }
    }
}

/// One member of a group, with the name shown beside it (`display`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupMember {
    pub id: Uuid,
    pub member_type: MemberType,
    pub display: Option<String>,
}

/// A group a User is a direct member of, as the User's `groups` shows it (RFC 7643 §4.1.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserGroup {
    pub id: ScimGroupId,
    pub display_name: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ScimGroupRecord {
    pub id: ScimGroupId,
    pub account_id: AccountId,
    pub display_name: String,
    pub external_id: Option<String>,
    /// `team`, `organization`, `site`, `skill_pool` or `role`; or, when Xurrent sent a core
    /// `groupType` that is none of them, that text as sent.
    pub group_type: String,
    /// Whether the group holds its name's unique key (`unique_name_key`, migration 0020):
    /// every group does but those that shared a name with another group of the account
    /// before names were unique, until their name is their own.
    pub name_claimed: bool,
    /// What the client sent, less `id`, `meta` and `members`.
    pub resource: serde_json::Value,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A member as a write names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewMember {
    pub id: Uuid,
    pub member_type: MemberType,
    /// The display name the client sent, kept as given.
    pub display: Option<String>,
}

/// What a write does to a group's members.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MembershipChange {
    Unchanged,
    /// The members become exactly these.
    Replace(Vec<NewMember>),
    /// Add these (ignoring those already in), remove those (ignoring those not in).
    Edit {
        added: Vec<NewMember>,
        removed: Vec<Uuid>,
    },
}
