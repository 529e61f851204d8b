//! OAuth-style scopes (`people:read`, `scim:write`, …) carried by personal access tokens. This
//! file owns the closed list of resources and access levels, their one canonical text form (used
//! in storage, JSON, the OpenAPI document and CLI help), and the rule deciding whether a set of
//! scopes grants a needed scope. Everything is deny by default: an empty set grants nothing and
//! an unknown scope is an error, never silently ignored.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::set::OrderedSet;

/// Why a scope, resource or access level could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    /// The text is not one of the scopes listed in [`Scope::ALL`].
    #[error("unknown scope `{0}`")]
    UnknownScope(String),
    /// The text is not one of the resource names.
    #[error("unknown resource `{0}`")]
    UnknownResource(String),
    /// The text is neither `read` nor `write`.
    #[error("unknown access `{0}`; expected `read` or `write`")]
    UnknownAccess(String),
}

/// Something a scope grants access to. Declaration order is the stable rendering order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resource {
    /// People in the account's directory.
    People,
    /// Personal access tokens.
    PersonalAccessTokens,
    /// Webhook subscriptions.
    Webhooks,
    /// Policies constraining webhooks.
    WebhookPolicies,
    /// Records of webhook deliveries.
    WebhookDeliveries,
    /// The SCIM 2.0 provisioning endpoints.
    Scim,
    /// The account's event log.
    Events,
    /// The account itself: its name and settings (such as how long deliveries are kept).
    Account,
}

impl Resource {
    /// Every resource, in stable order.
    pub const ALL: [Resource; 8] = [
        Resource::People,
        Resource::PersonalAccessTokens,
        Resource::Webhooks,
        Resource::WebhookPolicies,
        Resource::WebhookDeliveries,
        Resource::Scim,
        Resource::Events,
        Resource::Account,
    ];

    /// The `snake_case` name, e.g. `personal_access_tokens`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Resource::People => "people",
            Resource::PersonalAccessTokens => "personal_access_tokens",
            Resource::Webhooks => "webhooks",
            Resource::WebhookPolicies => "webhook_policies",
            Resource::WebhookDeliveries => "webhook_deliveries",
            Resource::Scim => "scim",
            Resource::Events => "events",
            Resource::Account => "account",
        }
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl FromStr for Resource {
    type Err = ScopeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Resource::ALL
            .into_iter()
            .find(|resource| resource.as_str() == text)
            .ok_or_else(|| ScopeError::UnknownResource(text.to_owned()))
    }
}

/// How a scope may use its resource. `Read` sorts before `Write`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// Look at the resource.
    Read,
    /// Create, change or delete the resource (implies `Read`, see [`ScopeSet::grants`]).
    Write,
}

impl Access {
    /// Every access level, in stable order.
    pub const ALL: [Access; 2] = [Access::Read, Access::Write];

    /// `read` or `write`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Write => "write",
        }
    }
}

impl fmt::Display for Access {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl FromStr for Access {
    type Err = ScopeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Access::ALL
            .into_iter()
            .find(|access| access.as_str() == text)
            .ok_or_else(|| ScopeError::UnknownAccess(text.to_owned()))
    }
}

/// One permission: an access level on a resource, written `resource:access` (`people:read`).
///
/// Ordered by resource, then read before write. Serialized as its string form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Scope {
    /// What the scope is about.
    pub resource: Resource,
    /// What the scope allows doing with it.
    pub access: Access,
}

impl Scope {
    /// Every scope in stable order (resource order, read before write), for the OpenAPI
    /// document and CLI help.
    pub const ALL: [Scope; 16] = {
        let mut all = [Scope::new(Resource::People, Access::Read); 16];
        let mut index = 0;
        while index < all.len() {
            all[index] = Scope::new(Resource::ALL[index / 2], Access::ALL[index % 2]);
            index += 1;
        }
        all
    };

    /// Builds a scope from its parts.
    #[must_use]
    pub const fn new(resource: Resource, access: Access) -> Self {
        Self { resource, access }
    }

    /// The scope that allows looking at `resource` (`people:read`).
    #[must_use]
    pub const fn read(resource: Resource) -> Self {
        Self::new(resource, Access::Read)
    }

    /// The scope that allows changing `resource` (`people:write`); it implies [`Scope::read`].
    #[must_use]
    pub const fn write(resource: Resource) -> Self {
        Self::new(resource, Access::Write)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}:{}", self.resource, self.access)
    }
}

impl FromStr for Scope {
    type Err = ScopeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let unknown = || ScopeError::UnknownScope(text.to_owned());
        let (resource, access) = text.split_once(':').ok_or_else(unknown)?;
        Ok(Scope::new(
            resource.parse().map_err(|_| unknown())?,
            access.parse().map_err(|_| unknown())?,
        ))
    }
}

impl From<Scope> for String {
    fn from(scope: Scope) -> Self {
        scope.to_string()
    }
}

impl TryFrom<String> for Scope {
    type Error = ScopeError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

/// The scopes a token carries. Duplicates collapse; iteration and rendering follow the stable
/// scope order. Serialized as a JSON array of scope strings.
pub type ScopeSet = OrderedSet<Scope>;

impl ScopeSet {
    /// Parses the storage format: scopes separated by whitespace. Blank text is the empty set.
    ///
    /// # Errors
    ///
    /// Returns [`ScopeError::UnknownScope`] naming the first unknown scope.
    pub fn from_space_separated(text: &str) -> Result<ScopeSet, ScopeError> {
        Self::parse(text.split_whitespace())
    }

    /// The storage format: scopes in stable order separated by single spaces.
    #[must_use]
    pub fn to_space_separated(&self) -> String {
        self.iter()
            .map(|scope| scope.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Whether this set grants `needed`.
    ///
    /// True when `needed` itself is in the set, or when `needed` is a `Read` scope and the set
    /// holds the `Write` scope of the same resource: **write implies read**. Nothing else is
    /// implied, so an empty set grants nothing.
    #[must_use]
    pub fn grants(&self, needed: Scope) -> bool {
        self.contains(needed)
            || (needed.access == Access::Read && self.contains(Scope::write(needed.resource)))
    }

    /// The scopes of this set that `holder` does not grant: what a token holding `holder`
    /// would be missing to create a token with this set. Empty when `holder` covers it all.
    #[must_use]
    pub fn not_granted_by(&self, holder: &ScopeSet) -> ScopeSet {
        self.iter().filter(|scope| !holder.grants(*scope)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(text: &str) -> Scope {
        text.parse().expect("known scope")
    }

    #[test]
    fn every_scope_renders_and_parses_back() {
        for known in Scope::ALL {
            assert_eq!(scope(&known.to_string()), known);
        }
    }

    #[test]
    fn all_scopes_are_listed_in_resource_order_with_read_before_write() {
        let rendered: Vec<String> = Scope::ALL.iter().map(Scope::to_string).collect();
        assert_eq!(
            rendered,
            [
                "people:read",
                "people:write",
                "personal_access_tokens:read",
                "personal_access_tokens:write",
                "webhooks:read",
                "webhooks:write",
                "webhook_policies:read",
                "webhook_policies:write",
                "webhook_deliveries:read",
                "webhook_deliveries:write",
                "scim:read",
                "scim:write",
                "events:read",
                "events:write",
                "account:read",
                "account:write",
            ]
        );
        let mut sorted = Scope::ALL;
        sorted.sort();
        assert_eq!(sorted, Scope::ALL);
    }

    #[test]
    fn malformed_scopes_are_rejected_with_their_text() {
        for text in [
            "",
            "people",
            "people:",
            ":read",
            "people:admin",
            "peeple:read",
            "People:read",
            "people:read:extra",
            " people:read",
            "*",
        ] {
            assert_eq!(
                text.parse::<Scope>(),
                Err(ScopeError::UnknownScope(text.to_owned())),
                "{text:?} was accepted"
            );
        }
    }

    #[test]
    fn set_parse_names_the_unknown_scope() {
        let error = ScopeSet::parse(["people:read", "teams:read"]).expect_err("unknown scope");
        assert_eq!(error, ScopeError::UnknownScope("teams:read".to_owned()));
        assert_eq!(error.to_string(), "unknown scope `teams:read`");
    }

    #[test]
    fn set_parse_collapses_duplicates() {
        let set = ScopeSet::parse(["scim:write", "people:read", "scim:write"]).expect("valid");
        assert_eq!(set.len(), 2);
    }

    #[test]
    fn resource_and_access_parse_reject_unknown_names() {
        assert_eq!(
            "teams".parse::<Resource>(),
            Err(ScopeError::UnknownResource("teams".to_owned()))
        );
        assert_eq!(
            "admin".parse::<Access>(),
            Err(ScopeError::UnknownAccess("admin".to_owned()))
        );
        assert_eq!(
            "webhook_policies".parse::<Resource>(),
            Ok(Resource::WebhookPolicies)
        );
    }

    #[test]
    fn empty_set_grants_nothing() {
        let empty = ScopeSet::new();
        assert!(Scope::ALL.iter().all(|&needed| !empty.grants(needed)));
        assert!(
            ScopeSet::from_space_separated("   ")
                .expect("blank")
                .is_empty()
        );
    }

    #[test]
    fn exact_scope_is_granted() {
        let set = ScopeSet::parse(["people:read"]).expect("valid");
        assert!(set.grants(scope("people:read")));
    }

    #[test]
    fn write_implies_read_of_the_same_resource() {
        let set = ScopeSet::parse(["webhooks:write"]).expect("valid");
        assert!(set.grants(scope("webhooks:write")));
        assert!(set.grants(scope("webhooks:read")));
    }

    #[test]
    fn read_does_not_imply_write() {
        let set = ScopeSet::parse(["people:read"]).expect("valid");
        assert!(!set.grants(scope("people:write")));
    }

    #[test]
    fn scopes_never_imply_other_resources() {
        let set = ScopeSet::parse(["webhooks:write"]).expect("valid");
        for needed in Scope::ALL {
            if needed.resource != Resource::Webhooks {
                assert!(!set.grants(needed), "{needed} was granted");
            }
        }
    }

    #[test]
    fn space_separated_rendering_is_stable_and_sorted() {
        let set =
            ScopeSet::from_space_separated("scim:write people:write\tpeople:read  events:read")
                .expect("valid");
        assert_eq!(
            set.to_space_separated(),
            "people:read people:write scim:write events:read"
        );
        assert_eq!(
            ScopeSet::from_space_separated(&set.to_space_separated()).expect("round trip"),
            set
        );
        assert_eq!(ScopeSet::new().to_space_separated(), "");
    }

    #[test]
    fn extending_a_scope_set_adds_scopes_without_duplicates() {
        let mut set = ScopeSet::parse(["events:read"]).expect("valid");
        set.extend([scope("people:read"), scope("events:read")]);
        assert_eq!(set.to_space_separated(), "people:read events:read");
    }

    #[test]
    fn scope_serializes_as_a_string() {
        let json = serde_json::to_string(&scope("scim:write")).expect("serialize");
        assert_eq!(json, "\"scim:write\"");
        let parsed: Scope = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(parsed, scope("scim:write"));
    }

    #[test]
    fn set_serde_round_trips_as_a_sorted_json_array() {
        let set = ScopeSet::parse(["events:write", "people:read"]).expect("valid");
        let json = serde_json::to_string(&set).expect("serialize");
        assert_eq!(json, r#"["people:read","events:write"]"#);
        let parsed: ScopeSet = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(parsed, set);
    }

    #[test]
    fn set_deserialization_rejects_unknown_scopes() {
        let result = serde_json::from_str::<ScopeSet>(r#"["people:read","root:write"]"#);
        let error = result.expect_err("unknown scope");
        assert!(error.to_string().contains("unknown scope `root:write`"));
    }

    #[test]
    fn not_granted_by_names_what_the_holder_lacks_with_write_implying_read() {
        let holder =
            ScopeSet::parse(["personal_access_tokens:write", "people:read"]).expect("valid");
        let wanted = ScopeSet::parse([
            "personal_access_tokens:read",
            "personal_access_tokens:write",
            "people:read",
            "people:write",
            "webhooks:write",
        ])
        .expect("valid");
        assert_eq!(
            wanted.not_granted_by(&holder),
            ScopeSet::parse(["people:write", "webhooks:write"]).expect("valid")
        );
        assert!(holder.not_granted_by(&holder).is_empty());
        assert!(ScopeSet::new().not_granted_by(&ScopeSet::new()).is_empty());
        assert_eq!(wanted.not_granted_by(&ScopeSet::new()), wanted);
    }
}
