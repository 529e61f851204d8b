//! What a person's roles permit. This file owns the role names and [`role_permits`], the ceiling
//! a personal access token can never exceed: a request is allowed only if the token's scopes grant
//! the needed scope AND the owner's current roles permit it, so revoking a role takes effect on
//! existing tokens at once. The rule is one exhaustive `match` on [`Resource`], so adding a
//! resource does not compile until someone decides who may use it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::scope::{Access, Resource, Scope};
use super::set::OrderedSet;

/// A role name that is not one of [`Role::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role `{0}`")]
pub struct RoleError(pub String);

/// A role a person holds in the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Administers the whole account.
    AccountAdministrator,
    /// Administers the directory of people, provisioning and webhooks.
    DirectoryAdministrator,
    /// A regular member without administrative rights.
    Specialist,
}

impl Role {
    /// Every role, in stable order.
    pub const ALL: [Role; 3] = [
        Role::AccountAdministrator,
        Role::DirectoryAdministrator,
        Role::Specialist,
    ];

    /// The `snake_case` name, e.g. `account_administrator`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::AccountAdministrator => "account_administrator",
            Role::DirectoryAdministrator => "directory_administrator",
            Role::Specialist => "specialist",
        }
    }

    /// Whether this role is an administrator role (account or directory).
    #[must_use]
    pub const fn is_administrator(self) -> bool {
        match self {
            Role::AccountAdministrator | Role::DirectoryAdministrator => true,
            Role::Specialist => false,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = RoleError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == text)
            .ok_or_else(|| RoleError(text.to_owned()))
    }
}

/// The roles a person holds. Duplicates collapse; serialized as a sorted JSON array of names.
pub type RoleSet = OrderedSet<Role>;

impl RoleSet {
    /// Whether the person is an account or directory administrator.
    #[must_use]
    pub fn is_administrator(&self) -> bool {
        self.iter().any(Role::is_administrator)
    }
}

/// How far a person's roles reach over other people: account administrator > directory
/// administrator > everyone else. A person never changes, disables, takes over (SCIM) or
/// revokes the tokens of someone of a higher rank; equals may act on each other. Ordered, so
/// `actor < target` reads as "the actor is outranked".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rank {
    /// No administrator role (specialists, and people without roles).
    Member,
    /// Holds `directory_administrator` but not `account_administrator`.
    DirectoryAdministrator,
    /// Holds `account_administrator`.
    AccountAdministrator,
}

impl Rank {
    /// How a message names the rank: "an account administrator".
    #[must_use]
    pub const fn with_article(self) -> &'static str {
        match self {
            Rank::Member => "a member without an administrator role",
            Rank::DirectoryAdministrator => "a directory administrator",
            Rank::AccountAdministrator => "an account administrator",
        }
    }
}

impl RoleSet {
    /// The highest rank these roles give.
    #[must_use]
    pub fn rank(&self) -> Rank {
        if self.contains(Role::AccountAdministrator) {
            Rank::AccountAdministrator
        } else if self.contains(Role::DirectoryAdministrator) {
            Rank::DirectoryAdministrator
        } else {
            Rank::Member
        }
    }
}

/// Whether a person holding `roles` may use `scope`: the ceiling a token can never exceed,
/// evaluated on every request against the owner's current roles.
///
/// A person with no role is permitted nothing. Anyone with a role may read people and manage
/// personal access tokens (only their own; ownership is checked elsewhere). Everything else —
/// changing people, webhooks, webhook policies and deliveries, SCIM and events — needs an account
/// or directory administrator; changing the account's settings, an account administrator.
#[must_use]
pub fn role_permits(roles: &RoleSet, scope: Scope) -> bool {
    if roles.is_empty() {
        return false;
    }
    let administrator = roles.is_administrator();
    match scope.resource {
        Resource::People => match scope.access {
            Access::Read => true,
            Access::Write => administrator,
        },
        Resource::PersonalAccessTokens => true,
        Resource::Webhooks => administrator,
        Resource::WebhookPolicies => administrator,
        Resource::WebhookDeliveries => administrator,
        Resource::Scim => administrator,
        Resource::Events => administrator,
        // Anyone may see the account's name and settings; only its administrators change them.
        Resource::Account => match scope.access {
            Access::Read => true,
            Access::Write => roles.contains(Role::AccountAdministrator),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected permission per scope for (account administrator, directory administrator,
    /// specialist), written out independently of the implementation.
    const PERMISSION_TABLE: [(&str, bool, bool, bool); 16] = [
        ("people:read", true, true, true),
        ("people:write", true, true, false),
        ("personal_access_tokens:read", true, true, true),
        ("personal_access_tokens:write", true, true, true),
        ("webhooks:read", true, true, false),
        ("webhooks:write", true, true, false),
        ("webhook_policies:read", true, true, false),
        ("webhook_policies:write", true, true, false),
        ("webhook_deliveries:read", true, true, false),
        ("webhook_deliveries:write", true, true, false),
        ("scim:read", true, true, false),
        ("scim:write", true, true, false),
        ("events:read", true, true, false),
        ("events:write", true, true, false),
        ("account:read", true, true, true),
        ("account:write", true, false, false),
    ];

    fn only(role: Role) -> RoleSet {
        [role].into_iter().collect()
    }

    #[test]
    fn permission_table_covers_every_scope() {
        let listed: Vec<Scope> = PERMISSION_TABLE
            .iter()
            .map(|(scope, ..)| scope.parse().expect("known scope"))
            .collect();
        assert_eq!(listed, Scope::ALL);
    }

    #[test]
    fn each_single_role_is_permitted_exactly_what_the_table_says() {
        for (text, account, directory, specialist) in PERMISSION_TABLE {
            let scope: Scope = text.parse().expect("known scope");
            for (role, expected) in [
                (Role::AccountAdministrator, account),
                (Role::DirectoryAdministrator, directory),
                (Role::Specialist, specialist),
            ] {
                assert_eq!(
                    role_permits(&only(role), scope),
                    expected,
                    "{role} on {scope}"
                );
            }
        }
    }

    #[test]
    fn person_without_roles_is_permitted_nothing() {
        let none = RoleSet::new();
        for scope in Scope::ALL {
            assert!(
                !role_permits(&none, scope),
                "{scope} permitted without roles"
            );
        }
    }

    #[test]
    fn specialist_who_is_also_administrator_gets_administrator_permissions() {
        let roles: RoleSet = [Role::Specialist, Role::DirectoryAdministrator]
            .into_iter()
            .collect();
        let account_write = Scope::write(Resource::Account);
        assert!(
            Scope::ALL
                .iter()
                .filter(|&&scope| scope != account_write)
                .all(|&scope| role_permits(&roles, scope))
        );
        assert!(
            !role_permits(&roles, account_write),
            "account administrators only"
        );
    }

    #[test]
    fn administrator_roles_are_recognised() {
        assert!(only(Role::AccountAdministrator).is_administrator());
        assert!(only(Role::DirectoryAdministrator).is_administrator());
        assert!(!only(Role::Specialist).is_administrator());
        assert!(!RoleSet::new().is_administrator());
    }

    #[test]
    fn roles_render_and_parse_as_snake_case() {
        for role in Role::ALL {
            assert_eq!(role.to_string().parse::<Role>(), Ok(role));
        }
        assert_eq!(
            Role::AccountAdministrator.to_string(),
            "account_administrator"
        );
        assert_eq!(
            Role::DirectoryAdministrator.to_string(),
            "directory_administrator"
        );
        assert_eq!(Role::Specialist.to_string(), "specialist");
    }

    #[test]
    fn unknown_role_is_rejected_with_its_name() {
        let error = RoleSet::parse(["specialist", "owner"]).expect_err("unknown role");
        assert_eq!(error, RoleError("owner".to_owned()));
        assert_eq!(error.to_string(), "unknown role `owner`");
    }

    #[test]
    fn role_set_parse_collapses_duplicates_and_answers_contains() {
        let roles = RoleSet::parse(["specialist", "specialist"]).expect("valid");
        assert_eq!(roles.iter().count(), 1);
        assert!(roles.contains(Role::Specialist));
        assert!(!roles.contains(Role::AccountAdministrator));
    }

    #[test]
    fn extending_a_role_set_adds_roles_without_duplicates() {
        let mut roles = only(Role::Specialist);
        roles.extend([Role::Specialist, Role::AccountAdministrator]);
        assert_eq!(
            roles.iter().collect::<Vec<_>>(),
            [Role::AccountAdministrator, Role::Specialist]
        );
    }

    #[test]
    fn role_set_serde_round_trips_as_a_sorted_json_array() {
        let roles = RoleSet::parse(["specialist", "account_administrator"]).expect("valid");
        let json = serde_json::to_string(&roles).expect("serialize");
        assert_eq!(json, r#"["account_administrator","specialist"]"#);
        let parsed: RoleSet = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(parsed, roles);
        assert!(serde_json::from_str::<RoleSet>(r#"["root"]"#).is_err());
    }

    #[test]
    fn rank_is_the_highest_role_held() {
        assert_eq!(
            only(Role::AccountAdministrator).rank(),
            Rank::AccountAdministrator
        );
        assert_eq!(
            only(Role::DirectoryAdministrator).rank(),
            Rank::DirectoryAdministrator
        );
        assert_eq!(only(Role::Specialist).rank(), Rank::Member);
        assert_eq!(RoleSet::new().rank(), Rank::Member);
        let both: RoleSet = [Role::DirectoryAdministrator, Role::AccountAdministrator]
            .into_iter()
            .collect();
        assert_eq!(both.rank(), Rank::AccountAdministrator);
        assert!(Rank::Member < Rank::DirectoryAdministrator);
        assert!(Rank::DirectoryAdministrator < Rank::AccountAdministrator);
    }
}
