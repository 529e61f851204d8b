//! `SchemaDefinition`, one SCIM schema (a URN, a name and its attributes) and its RFC 7643 §7
//! resource form served at `/Schemas/{id}`. Resource types point at schemas by URN, and the
//! registry resolves attribute paths through them, so a schema is the unit both of discovery
//! and of lookup.

use serde_json::{Value, json};

use super::attribute::AttributeDefinition;
use super::endpoint_location;

/// The `schemas` value of a schema resource (RFC 7643 §7).
pub const SCHEMA_SCHEMA_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/// A SCIM schema: its URN, human-readable name and description, and top-level attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaDefinition {
    /// The schema URN, e.g. `urn:ietf:params:scim:schemas:core:2.0:User`.
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub attributes: Vec<AttributeDefinition>,
}

impl SchemaDefinition {
    /// The top-level attribute called `name`, compared ignoring ASCII case (RFC 7643 §2.1).
    pub fn attribute(&self, name: &str) -> Option<&AttributeDefinition> {
        self.attributes
            .iter()
            .find(|attribute| attribute.name.eq_ignore_ascii_case(name))
    }

    /// Whether `urn` names this schema; schema URNs are compared ignoring ASCII case, as
    /// SCIM clients are inconsistent about the case of `User` and `Group` in them.
    pub fn has_id(&self, urn: &str) -> bool {
        self.id.eq_ignore_ascii_case(urn)
    }

    /// Where this schema is served: `{base_url}/Schemas/{id}`.
    pub fn location(&self, base_url: &str) -> String {
        endpoint_location(base_url, "Schemas", self.id)
    }

    /// The schema as a resource of the `/Schemas` endpoint (RFC 7643 §7, example in §8.7.1).
    /// `base_url` is the SCIM service root, e.g. `https://example.com/scim/v2`.
    pub fn to_json(&self, base_url: &str) -> Value {
        let attributes: Vec<Value> = self
            .attributes
            .iter()
            .map(AttributeDefinition::to_json)
            .collect();
        json!({
            "schemas": [SCHEMA_SCHEMA_URN],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": attributes,
            "meta": {
                "resourceType": "Schema",
                "location": self.location(base_url),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> SchemaDefinition {
        SchemaDefinition {
            id: "urn:example:params:scim:schemas:extension:2.0:Badge",
            name: "Badge",
            description: "Badge extension",
            attributes: vec![AttributeDefinition::string("badgeNumber", "Badge number.")],
        }
    }

    #[test]
    fn resource_form_has_schema_urn_attributes_and_meta() {
        let json = example().to_json("https://example.com/scim/v2/");
        assert_eq!(
            json["schemas"],
            json!(["urn:ietf:params:scim:schemas:core:2.0:Schema"])
        );
        assert_eq!(
            json["id"],
            "urn:example:params:scim:schemas:extension:2.0:Badge"
        );
        assert_eq!(json["name"], "Badge");
        assert_eq!(json["description"], "Badge extension");
        assert_eq!(json["attributes"][0]["name"], "badgeNumber");
        assert_eq!(json["meta"]["resourceType"], "Schema");
        assert_eq!(
            json["meta"]["location"],
            "https://example.com/scim/v2/Schemas/urn:example:params:scim:schemas:extension:2.0:Badge"
        );
    }

    #[test]
    fn attributes_and_ids_match_ignoring_case() {
        let schema = example();
        assert!(schema.attribute("BADGENUMBER").is_some());
        assert!(schema.attribute("badge").is_none());
        assert!(schema.has_id("URN:EXAMPLE:PARAMS:SCIM:SCHEMAS:EXTENSION:2.0:BADGE"));
        assert!(!schema.has_id("urn:example:params:scim:schemas:extension:2.0"));
    }
}
