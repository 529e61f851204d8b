//! The Enterprise User extension, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`
//! (RFC 7643 §4.3, represented in §8.7.1): the organisational attributes — employee number,
//! cost centre, organisation, division, department and manager — that HR-driven provisioning
//! from Entra ID and Okta sends under the extension URN — plus Xurrent's `site`, `location`
//! and `supportID`, which clients migrating from Xurrent send in the same extension.

use super::attribute::{AttributeDefinition, Mutability};
use super::definition::SchemaDefinition;

/// The URN of the Enterprise User extension.
pub const ENTERPRISE_USER_SCHEMA_URN: &str =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// The Enterprise User extension schema of RFC 7643 §8.7.1.
pub fn enterprise_user_schema() -> SchemaDefinition {
    SchemaDefinition {
        id: ENTERPRISE_USER_SCHEMA_URN,
        name: "EnterpriseUser",
        description: "Enterprise User",
        attributes: vec![
            AttributeDefinition::string(
                "employeeNumber",
                "Numeric or alphanumeric identifier assigned to a person, typically based on \
                 order of hire or association with an organization.",
            ),
            AttributeDefinition::string("costCenter", "Identifies the name of a cost center."),
            AttributeDefinition::string("organization", "Identifies the name of an organization."),
            AttributeDefinition::string("division", "Identifies the name of a division."),
            AttributeDefinition::string("department", "Identifies the name of a department."),
            manager(),
            // Not in RFC 7643: Xurrent (formerly 4me) adds these three to the extension, and
            // clients migrating from its SCIM API send them there.
            AttributeDefinition::string(
                "site",
                "The site (building or campus) where the User works. Xurrent addition.",
            ),
            AttributeDefinition::string(
                "location",
                "Where within the site the User can be found, e.g. a floor or room. Xurrent \
                 addition.",
            ),
            AttributeDefinition::string(
                "supportID",
                "The identifier the User gives when asking for support. Xurrent addition.",
            ),
        ],
    }
}

fn manager() -> AttributeDefinition {
    // §8.7.1 describes `value` and `$ref` as REQUIRED yet marks them `required: false`; the
    // flag is what validation reads, and clients do send a manager with only `value`, so the
    // flag is kept as the RFC has it.
    AttributeDefinition::complex(
        "manager",
        "The User's manager. A complex type that optionally allows service providers to \
         represent organizational hierarchy by referencing the 'id' attribute of another User.",
        vec![
            AttributeDefinition::string(
                "value",
                "The id of the SCIM resource representing the User's manager. REQUIRED.",
            ),
            AttributeDefinition::reference(
                "$ref",
                &["User"],
                "The URI of the SCIM resource representing the User's manager. REQUIRED.",
            ),
            AttributeDefinition::string(
                "displayName",
                "The displayName of the User's manager. OPTIONAL and READ-ONLY.",
            )
            .mutability(Mutability::ReadOnly),
        ],
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::schema::test_support::{names, with_rfc_defaults};

    #[test]
    fn enterprise_schema_has_every_rfc_7643_attribute() {
        let schema = enterprise_user_schema();
        assert_eq!(
            schema.id,
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        );
        assert_eq!(schema.name, "EnterpriseUser");
        assert_eq!(
            names(&schema.attributes),
            [
                "employeeNumber",
                "costCenter",
                "organization",
                "division",
                "department",
                "manager",
                "site",
                "location",
                "supportID",
            ]
        );
        assert!(
            schema
                .attributes
                .iter()
                .all(|attribute| !attribute.required)
        );
    }

    #[test]
    fn manager_json_matches_rfc_7643_section_8_7_1_with_defaults_made_explicit() {
        let rfc_manager = json!({
            "name": "manager",
            "type": "complex",
            "multiValued": false,
            "description": "The User's manager. A complex type that optionally allows service \
                providers to represent organizational hierarchy by referencing the 'id' \
                attribute of another User.",
            "required": false,
            "subAttributes": [
                {
                    "name": "value",
                    "type": "string",
                    "multiValued": false,
                    "description": "The id of the SCIM resource representing the User's \
                        manager. REQUIRED.",
                    "required": false,
                    "caseExact": false,
                    "mutability": "readWrite",
                    "returned": "default",
                    "uniqueness": "none"
                },
                {
                    "name": "$ref",
                    "type": "reference",
                    "referenceTypes": ["User"],
                    "multiValued": false,
                    "description": "The URI of the SCIM resource representing the User's \
                        manager. REQUIRED.",
                    "required": false,
                    "caseExact": false,
                    "mutability": "readWrite",
                    "returned": "default",
                    "uniqueness": "none"
                },
                {
                    "name": "displayName",
                    "type": "string",
                    "multiValued": false,
                    "description": "The displayName of the User's manager. OPTIONAL and \
                        READ-ONLY.",
                    "required": false,
                    "caseExact": false,
                    "mutability": "readOnly",
                    "returned": "default",
                    "uniqueness": "none"
                }
            ],
            "mutability": "readWrite",
            "returned": "default"
        });
        let schema = enterprise_user_schema();
        let manager = schema
            .attribute("manager")
            .map(AttributeDefinition::to_json);
        assert_eq!(manager, Some(with_rfc_defaults(rfc_manager)));
    }
}
