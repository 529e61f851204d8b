//! Resource types (RFC 7643 §6): the two kinds of resource Gatehouse serves over SCIM, User
//! and Group, each naming its endpoint, its core schema and the extensions it accepts. The
//! registry resolves attribute paths per resource type, because which extension URNs are
//! valid in a path depends on whether the request is about a User or a Group.

use serde_json::{Value, json};

use super::custom_fields::CUSTOM_FIELDS_SCHEMA_URN;
use super::endpoint_location;
use super::enterprise_user::ENTERPRISE_USER_SCHEMA_URN;
use super::gatehouse_group::GATEHOUSE_GROUP_SCHEMA_URN;
use super::group::GROUP_SCHEMA_URN;
use super::user::USER_SCHEMA_URN;

/// The `schemas` value of a resource type resource (RFC 7643 §6).
pub const RESOURCE_TYPE_SCHEMA_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";

/// The kinds of resource served over SCIM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    User,
    Group,
}

impl ResourceKind {
    /// Both kinds, in the order `/ResourceTypes` lists them.
    pub const ALL: [ResourceKind; 2] = [ResourceKind::User, ResourceKind::Group];

    /// This kind's resource type definition.
    pub fn resource_type(self) -> &'static ResourceTypeDefinition {
        match self {
            Self::User => &USER_RESOURCE_TYPE,
            Self::Group => &GROUP_RESOURCE_TYPE,
        }
    }
}

/// An extension schema a resource type accepts (RFC 7643 §6 `schemaExtensions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaExtension {
    /// The extension's schema URN.
    pub schema: &'static str,
    /// Whether every resource of the type must carry the extension.
    pub required: bool,
}

/// A resource type: its id and name, endpoint, core schema and extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceTypeDefinition {
    pub kind: ResourceKind,
    /// The resource type's id, also its `meta.resourceType` value (`User`, `Group`).
    pub id: &'static str,
    pub name: &'static str,
    /// The endpoint relative to the service root, e.g. `/Users`.
    pub endpoint: &'static str,
    pub description: &'static str,
    /// The URN of the core schema.
    pub schema: &'static str,
    pub schema_extensions: &'static [SchemaExtension],
}

/// Users, with the optional Enterprise User extension and Xurrent's optional custom fields.
pub const USER_RESOURCE_TYPE: ResourceTypeDefinition = ResourceTypeDefinition {
    kind: ResourceKind::User,
    id: "User",
    name: "User",
    endpoint: "/Users",
    description: "User Account",
    schema: USER_SCHEMA_URN,
    schema_extensions: &[
        SchemaExtension {
            schema: ENTERPRISE_USER_SCHEMA_URN,
            required: false,
        },
        SchemaExtension {
            schema: CUSTOM_FIELDS_SCHEMA_URN,
            required: false,
        },
    ],
};

/// Groups, with Gatehouse's optional Group extension.
pub const GROUP_RESOURCE_TYPE: ResourceTypeDefinition = ResourceTypeDefinition {
    kind: ResourceKind::Group,
    id: "Group",
    name: "Group",
    endpoint: "/Groups",
    description: "Group",
    schema: GROUP_SCHEMA_URN,
    schema_extensions: &[SchemaExtension {
        schema: GATEHOUSE_GROUP_SCHEMA_URN,
        required: false,
    }],
};

impl ResourceTypeDefinition {
    /// Whether `urn` is one of this type's extension schemas, ignoring ASCII case.
    pub fn has_extension(&self, urn: &str) -> bool {
        self.schema_extensions
            .iter()
            .any(|extension| extension.schema.eq_ignore_ascii_case(urn))
    }

    /// Where this resource type is served: `{base_url}/ResourceTypes/{id}`.
    pub fn location(&self, base_url: &str) -> String {
        endpoint_location(base_url, "ResourceTypes", self.id)
    }

    /// The resource type as a resource of the `/ResourceTypes` endpoint (RFC 7643 §6, example
    /// in §8.6). `base_url` is the SCIM service root, e.g. `https://example.com/scim/v2`.
    pub fn to_json(&self, base_url: &str) -> Value {
        let schema_extensions: Vec<Value> = self
            .schema_extensions
            .iter()
            .map(|extension| json!({"schema": extension.schema, "required": extension.required}))
            .collect();
        json!({
            "schemas": [RESOURCE_TYPE_SCHEMA_URN],
            "id": self.id,
            "name": self.name,
            "endpoint": self.endpoint,
            "description": self.description,
            "schema": self.schema,
            "schemaExtensions": schema_extensions,
            "meta": {
                "location": self.location(base_url),
                "resourceType": "ResourceType",
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_resource_type_json_matches_rfc_7643_section_8_6() {
        assert_eq!(
            USER_RESOURCE_TYPE.to_json("https://example.com/v2"),
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
                "id": "User",
                "name": "User",
                "endpoint": "/Users",
                "description": "User Account",
                "schema": "urn:ietf:params:scim:schemas:core:2.0:User",
                "schemaExtensions": [
                    {
                        "schema": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                        "required": false
                    },
                    {
                        "schema": "urn:ietf:params:scim:schemas:extension:4me:1.0:custom_fields",
                        "required": false
                    }
                ],
                "meta": {
                    "location": "https://example.com/v2/ResourceTypes/User",
                    "resourceType": "ResourceType"
                }
            })
        );
    }

    #[test]
    fn group_resource_type_offers_the_gatehouse_extension() {
        let json = GROUP_RESOURCE_TYPE.to_json("https://example.com/scim/v2/");
        assert_eq!(json["id"], "Group");
        assert_eq!(json["endpoint"], "/Groups");
        assert_eq!(
            json["schema"],
            "urn:ietf:params:scim:schemas:core:2.0:Group"
        );
        assert_eq!(
            json["schemaExtensions"],
            json!([{
                "schema": "urn:gatehouse:params:scim:schemas:extension:2.0:Group",
                "required": false
            }])
        );
        assert_eq!(
            json["meta"]["location"],
            "https://example.com/scim/v2/ResourceTypes/Group"
        );
    }

    #[test]
    fn kinds_map_to_their_resource_types_and_extensions_match_ignoring_case() {
        assert_eq!(ResourceKind::User.resource_type().id, "User");
        assert_eq!(ResourceKind::Group.resource_type().id, "Group");
        assert!(
            USER_RESOURCE_TYPE
                .has_extension("URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER")
        );
        assert!(!GROUP_RESOURCE_TYPE.has_extension(ENTERPRISE_USER_SCHEMA_URN));
    }
}
