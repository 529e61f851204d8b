//! The core Group schema, `urn:ietf:params:scim:schemas:core:2.0:Group` (RFC 7643 §4.2,
//! represented in §8.7.1): a display name and a list of members. Membership is what
//! provisioning clients mostly send to Groups, so the `members` sub-attributes and their
//! mutability decide which PATCH operations are accepted.

use super::attribute::{AttributeDefinition, Mutability, Uniqueness};
use super::definition::SchemaDefinition;
use super::gatehouse_group::GROUP_TYPES;

/// The URN of the core Group schema.
pub const GROUP_SCHEMA_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// The core Group schema of RFC 7643 §8.7.1, with the two departures explained inline.
pub fn group_schema() -> SchemaDefinition {
    SchemaDefinition {
        id: GROUP_SCHEMA_URN,
        name: "Group",
        description: "Group",
        attributes: vec![display_name(), members(), group_type()],
    }
}

fn display_name() -> AttributeDefinition {
    // §4.2 calls displayName REQUIRED, and so does the description in §8.7.1, but the
    // §8.7.1 representation says `required: false` (a known inconsistency of RFC 7643).
    // Gatehouse needs a name for every group, so the flag follows §4.2.
    // Unique in an account, compared ignoring case (displayName is not caseExact), as Xurrent
    // keeps team and organization names.
    AttributeDefinition::string(
        "displayName",
        "A human-readable name for the Group. REQUIRED.",
    )
    .required()
    .uniqueness(Uniqueness::Server)
}

fn group_type() -> AttributeDefinition {
    // Not in RFC 7643: Xurrent sends the group type as a core attribute, where Gatehouse's
    // own clients use the Group extension. Known types are matched ignoring case; any other
    // text is kept as sent.
    AttributeDefinition::string(
        "groupType",
        "The kind of group, as Xurrent sends it: 'team', 'organization', 'site', \
         'skill_pool' or 'role' (matched ignoring case), or any other text, kept as given.",
    )
    .canonical_values(&GROUP_TYPES)
}

fn members() -> AttributeDefinition {
    AttributeDefinition::complex(
        "members",
        "A list of members of the Group.",
        vec![
            AttributeDefinition::string("value", "Identifier of the member of this Group."),
            AttributeDefinition::reference(
                "$ref",
                &["User", "Group"],
                "The URI corresponding to a SCIM resource that is a member of this Group.",
            ),
            AttributeDefinition::string(
                "type",
                "A label indicating the type of resource, e.g., 'User' or 'Group'.",
            )
            .canonical_values(&["User", "Group"]),
            // Not in §8.7.1, but §2.4 gives multi-valued attributes a `display` (immutable),
            // and Entra ID and Okta send `members[].display`; without it their requests would
            // name an unknown attribute.
            AttributeDefinition::string(
                "display",
                "A human-readable name, primarily used for display purposes.",
            ),
        ],
    )
    .multi_valued()
    .sub_attribute_mutability(Mutability::Immutable)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::schema::test_support::{names, with_rfc_defaults};

    #[test]
    fn group_schema_has_display_name_and_members() {
        let schema = group_schema();
        assert_eq!(schema.id, "urn:ietf:params:scim:schemas:core:2.0:Group");
        assert_eq!(schema.name, "Group");
        assert_eq!(
            names(&schema.attributes),
            ["displayName", "members", "groupType"]
        );
        let members = schema.attribute("members");
        assert_eq!(
            members.map(|members| names(&members.sub_attributes)),
            Some(vec!["value", "$ref", "type", "display"])
        );
    }

    #[test]
    fn display_name_is_required() {
        let schema = group_schema();
        assert_eq!(
            schema.attribute("displayName").map(|name| name.required),
            Some(true)
        );
    }

    #[test]
    fn members_json_matches_rfc_7643_section_8_7_1_plus_display() {
        let mut rfc_members = json!({
            "name": "members",
            "type": "complex",
            "multiValued": true,
            "description": "A list of members of the Group.",
            "required": false,
            "subAttributes": [
                {
                    "name": "value",
                    "type": "string",
                    "multiValued": false,
                    "description": "Identifier of the member of this Group.",
                    "required": false,
                    "caseExact": false,
                    "mutability": "immutable",
                    "returned": "default",
                    "uniqueness": "none"
                },
                {
                    "name": "$ref",
                    "type": "reference",
                    "referenceTypes": ["User", "Group"],
                    "multiValued": false,
                    "description": "The URI corresponding to a SCIM resource that is a member \
                        of this Group.",
                    "required": false,
                    "caseExact": false,
                    "mutability": "immutable",
                    "returned": "default",
                    "uniqueness": "none"
                },
                {
                    "name": "type",
                    "type": "string",
                    "multiValued": false,
                    "description": "A label indicating the type of resource, e.g., 'User' or \
                        'Group'.",
                    "required": false,
                    "caseExact": false,
                    "canonicalValues": ["User", "Group"],
                    "mutability": "immutable",
                    "returned": "default",
                    "uniqueness": "none"
                }
            ],
            "mutability": "readWrite",
            "returned": "default"
        });
        let mut members = match group_schema().attribute("members") {
            Some(members) => members.to_json(),
            None => panic!("members should be defined"),
        };
        // Compare the RFC part, then check the added `display` on its own.
        let display = members["subAttributes"]
            .as_array_mut()
            .and_then(|sub_attributes| sub_attributes.pop());
        assert_eq!(members, with_rfc_defaults(rfc_members.take()));
        let display = display.unwrap_or_default();
        assert_eq!(display["name"], "display");
        assert_eq!(display["mutability"], "immutable");
    }
}
