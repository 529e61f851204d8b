//! Gatehouse's own Group extension, `urn:gatehouse:params:scim:schemas:extension:2.0:Group`,
//! which carries what RFC 7643 has no attribute for: what kind of group a group is (a team,
//! an organisation, a site, a skill pool or a role). It is an extension rather than a core
//! attribute so clients that know only RFC 7643 can ignore it, and it is optional so groups
//! created by such clients are still valid (they become teams).

use super::attribute::AttributeDefinition;
use super::definition::SchemaDefinition;

/// The URN of Gatehouse's Group extension.
pub const GATEHOUSE_GROUP_SCHEMA_URN: &str =
    "urn:gatehouse:params:scim:schemas:extension:2.0:Group";

/// The group type assumed when a client sends none.
pub const DEFAULT_GROUP_TYPE: &str = "team";

/// The group types Gatehouse knows; `groupType` advertises them as canonical values.
pub const GROUP_TYPES: [&str; 5] = ["team", "organization", "site", "skill_pool", "role"];

/// The Gatehouse Group extension schema.
pub fn gatehouse_group_schema() -> SchemaDefinition {
    SchemaDefinition {
        id: GATEHOUSE_GROUP_SCHEMA_URN,
        name: "GatehouseGroup",
        description: "Gatehouse Group extension",
        attributes: vec![
            // Not case-exact, so a filter `groupType eq "Team"` finds teams, as it would for
            // any other canonical value such as `emails.type`.
            AttributeDefinition::string(
                "groupType",
                "The kind of group: 'team', 'organization', 'site', 'skill_pool' or 'role'. \
                 A group created without one is a 'team'.",
            )
            .canonical_values(&GROUP_TYPES),
        ],
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::schema::attribute::{Mutability, Uniqueness};

    #[test]
    fn group_type_is_an_optional_string_with_the_gatehouse_group_kinds() {
        let schema = gatehouse_group_schema();
        assert_eq!(
            schema.id,
            "urn:gatehouse:params:scim:schemas:extension:2.0:Group"
        );
        assert_eq!(schema.attributes.len(), 1);
        let group_type = &schema.attributes[0];
        assert_eq!(group_type.name, "groupType");
        assert!(!group_type.required);
        assert!(!group_type.multi_valued);
        assert_eq!(group_type.mutability, Mutability::ReadWrite);
        assert_eq!(group_type.uniqueness, Uniqueness::None);
        assert_eq!(
            group_type.to_json()["canonicalValues"],
            json!(["team", "organization", "site", "skill_pool", "role"])
        );
    }

    #[test]
    fn default_group_type_is_canonical_and_documented() {
        assert!(GROUP_TYPES.contains(&DEFAULT_GROUP_TYPE));
        let schema = gatehouse_group_schema();
        assert!(schema.attributes[0].description.contains("'team'"));
    }
}
