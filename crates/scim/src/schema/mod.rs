//! SCIM schemas and service discovery (RFC 7643 §4–§8): the attribute definitions of the
//! core User and Group schemas, the Enterprise User extension and Gatehouse's Group
//! extension; the User and Group resource types; the service provider configuration; and the
//! registry that resolves attribute paths against them. Definitions are plain data so that
//! the `/Schemas`, `/ResourceTypes` and `/ServiceProviderConfig` responses and the server's
//! filter and PATCH validation are all read from the same source and cannot drift apart.

mod attribute;
mod attribute_rules;
mod common;
mod custom_fields;
mod definition;
mod enterprise_user;
mod gatehouse_group;
mod group;
mod registry;
mod resource_type;
mod service_provider_config;
#[cfg(test)]
mod test_support;
mod user;

pub use attribute::{AttributeDefinition, AttributeType, Mutability, Returned, Uniqueness};
pub use custom_fields::{
    CUSTOM_FIELDS_SCHEMA_URN, MAX_CUSTOM_FIELD_ID_LENGTH, MAX_CUSTOM_FIELD_VALUE_BYTES,
    MAX_CUSTOM_FIELDS, custom_fields_schema, is_custom_field_id, normalize_custom_fields,
};
pub use definition::{SCHEMA_SCHEMA_URN, SchemaDefinition};
pub use enterprise_user::{ENTERPRISE_USER_SCHEMA_URN, enterprise_user_schema};
pub use gatehouse_group::{
    DEFAULT_GROUP_TYPE, GATEHOUSE_GROUP_SCHEMA_URN, GROUP_TYPES, gatehouse_group_schema,
};
pub use group::{GROUP_SCHEMA_URN, group_schema};
pub use registry::{
    AttributeOwner, ResolvedAttribute, common_attribute_definitions, find_attribute,
    resolve_attribute, resource_type, resource_types, schema, schemas,
};
pub use resource_type::{
    GROUP_RESOURCE_TYPE, RESOURCE_TYPE_SCHEMA_URN, ResourceKind, ResourceTypeDefinition,
    SchemaExtension, USER_RESOURCE_TYPE,
};
pub use service_provider_config::{
    AuthenticationScheme, BulkSettings, FilterSettings, PaginationMethod, PaginationSettings,
    SERVICE_PROVIDER_CONFIG_SCHEMA_URN, ServiceProviderConfig,
};
pub use user::{USER_SCHEMA_URN, user_schema};

/// `{base_url}/{endpoint}/{id}`, tolerating a trailing slash on the base URL. `id` is used
/// as is: schema URNs contain only characters that are valid in a URI path (`:` included),
/// and RFC 7643 §8.7 shows them unescaped in `meta.location`.
fn endpoint_location(base_url: &str, endpoint: &str, id: &str) -> String {
    format!("{}/{endpoint}/{id}", base_url.trim_end_matches('/'))
}
